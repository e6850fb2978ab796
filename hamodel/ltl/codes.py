"""Diagnostic codes of LTL specs (HA2xx), registered beside the automaton's HA0xx/HA1xx.

HA200-HA219: reading a `.ltl` file (parse.py, build.py);
HA220-HA249: `hamodel check` findings (check.py);
HA250-HA269: the binding, generation and replay of LTL monitors.
docs/ltl.md lists every code with an example.
"""

from hamodel.diagnostics import register

# reading
LTL_SYNTAX = register("HA200", "ltl-syntax", "see docs/ltl.md for the LTL dialect")
LTL_WORD = register(
    "HA201", "ltl-unknown-word", "atoms are upper case; operators are lower-case words"
)
NO_RULE = register("HA202", "ltl-no-rule", "define the formula as `RULE = ...`")
DEFINED_TWICE = register("HA203", "ltl-defined-twice", "keep one definition of the name")
MACRO_CYCLE = register("HA204", "ltl-macro-cycle", "a macro cannot use itself, even indirectly")
TOO_BIG = register("HA205", "ltl-too-big", "split the formula, or share less through macros")
PRECEDENCE = register(
    "HA206", "ltl-precedence", "parenthesise: the dialect has no operator precedence"
)
UNUSED_MACRO = register("HA207", "ltl-unused-macro", "use the macro in RULE, or drop it")
RULE_AS_ATOM = register("HA208", "ltl-rule-as-atom", "RULE names the formula; rename the atom")
RVGEN_REJECTS = register(
    "HA209", "ltl-rvgen-rejects", "end the file with a new line: rvgen's comment needs one"
)
# checks
UNSATISFIABLE = register(
    "HA220", "ltl-unsatisfiable", "RULE contradicts itself: look for `X and not X` in time"
)
NEVER_STARTS = register(
    "HA221", "ltl-never-starts", "RULE must be able to hold at its first instant"
)
NEVER_REPORTS = register(
    "HA222", "ltl-never-reports",
    "only a violation on a finite prefix is reported; make the property a safety one",
)
VACUOUS = register(
    "HA223", "ltl-vacuous-implication", "the implication cannot fail: check its two sides"
)
ATOM_NEVER_SET = register(
    "HA224", "ltl-atom-never-set", "bind the atom to a tracepoint, an init value or a fetch"
)
ATOM_LIMIT = register("HA225", "ltl-atom-limit", "ltl_monitor.h holds at most 32 atoms")
STATE_LIMIT = register("HA226", "ltl-state-limit", "ltl_monitor.h holds at most 32 states")
C_CLASH = register("HA227", "ltl-c-name-clash", "rename the atom: its C name is taken")
ABBREVIATION_CLASH = register(
    "HA228", "ltl-abbreviation-clash", "rename an atom: the trace would print the same name"
)
CHECK_INCOMPLETE = register(
    "HA229", "ltl-check-incomplete", "the formula is too large for this check"
)
# binding, generation, replay
LTL_BINDING = register("HA250", "ltl-binding", "see docs/ltl.md for the LTL binding format")
LTL_GEN = register("HA251", "ltl-gen", "see `hamodel gen --help` and docs/ltl.md")
