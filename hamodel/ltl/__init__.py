"""LTL specs (`*.ltl`), the kernel's third monitor class (include/rv/ltl_monitor.h).

    grammar/ltl.lark -> parse.py -> build.py (LtlSpec, formula.py)
        -> buchi.py (Büchi automaton, rvgen's construction) -> monitor.py (ltl_monitor.h's rules)
        -> check.py, draw.py, replay.py, ../gen/kernel_c_ltl.py

The modules mirror the automaton pipeline; each imports only from its left.
"""
