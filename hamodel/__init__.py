"""hamodel: a workbench for Linux RV monitors written as (hybrid) automata.

Pipeline: grammar/*.lark -> parse.py (DotGraph) -> build.py (Automaton, model.py)
-> semantics.py (the executable oracle) / check/ / gen/ -> templates/ -> generated/.
"""

__version__ = "0.1.0"
