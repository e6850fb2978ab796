"""Diagnostic codes of LTL specs (HA3xx), registered beside the automaton's HA0xx/HA1xx.

HA300-HA319: reading a `.ltl` file (parse.py, build.py);
HA320-HA349: `hamodel check` findings (check.py);
HA350-HA369: the binding, generation and replay of LTL monitors.
docs/ltl.md lists every code with an example.
"""

from hamodel.diagnostics import register

# reading
LTL_SYNTAX = register("HA300", "ltl-syntax", "see docs/ltl.md for the LTL dialect")
LTL_WORD = register(
    "HA301", "ltl-unknown-word", "atoms are upper case; operators are lower-case words"
)
NO_RULE = register("HA302", "ltl-no-rule", "define the formula as `RULE = ...`")
DEFINED_TWICE = register("HA303", "ltl-defined-twice", "keep one definition of the name")
MACRO_CYCLE = register("HA304", "ltl-macro-cycle", "a macro cannot use itself, even indirectly")
TOO_BIG = register("HA305", "ltl-too-big", "split the formula, or share less through macros")
PRECEDENCE = register(
    "HA306", "ltl-precedence", "parenthesise: the dialect has no operator precedence"
)
UNUSED_MACRO = register("HA307", "ltl-unused-macro", "use the macro in RULE, or drop it")
RULE_AS_ATOM = register("HA308", "ltl-rule-as-atom", "RULE names the formula; rename the atom")
RVGEN_REJECTS = register(
    "HA309", "ltl-rvgen-rejects", "end the file with a new line: rvgen's comment needs one"
)
# checks
UNSATISFIABLE = register(
    "HA320", "ltl-unsatisfiable", "RULE contradicts itself: look for `X and not X` in time"
)
NEVER_STARTS = register(
    "HA321", "ltl-never-starts", "RULE must be able to hold at its first instant"
)
NEVER_REPORTS = register(
    "HA322", "ltl-never-reports",
    "only a violation on a finite prefix is reported; make the property a safety one",
)
VACUOUS = register(
    "HA323", "ltl-vacuous-implication", "the implication cannot fail: check its two sides"
)
ATOM_NEVER_SET = register(
    "HA324", "ltl-atom-never-set", "bind the atom to a tracepoint, an init value or a fetch"
)
ATOM_LIMIT = register("HA325", "ltl-atom-limit", "ltl_monitor.h holds at most 32 atoms")
STATE_LIMIT = register("HA326", "ltl-state-limit", "ltl_monitor.h holds at most 32 states")
C_CLASH = register("HA327", "ltl-c-name-clash", "rename the atom: its C name is taken")
ABBREVIATION_CLASH = register(
    "HA328", "ltl-abbreviation-clash", "rename an atom: the trace would print the same name"
)
CHECK_INCOMPLETE = register(
    "HA329", "ltl-check-incomplete", "the formula is too large for this check"
)
# binding, generation, replay
LTL_BINDING = register("HA350", "ltl-binding", "see docs/ltl.md for the LTL binding format")
LTL_GEN = register("HA351", "ltl-gen", "see `hamodel gen --help` and docs/ltl.md")
LTL_BAD_TRACE = register(
    "HA352", "ltl-bad-trace-line", "docs/ltl.md describes the traces `hamodel replay X.ltl` reads"
)
