"""The stable codes of `hamodel check` (HA1xx), registered beside the build's HA0xx.

Each entry: number, slug (what Diagnostic.code carries), one-line fix hint.
docs/check.md lists every code with an example; tests/check_models/ seeds each.
"""

from hamodel.diagnostics import register

# structural (untimed graph)
DEAD_END = register(
    "HA101", "dead-end-state", "give the state an outgoing edge, or make it final"
)
NO_FINAL = register(
    "HA102", "cannot-reach-final", "add a path from the state to a final state"
)
UNUSED_CLOCK = register(
    "HA103", "unused-clock", "compare the clock in a guard or invariant, or drop its reset"
)
BOUND_NOT_POSITIVE = register(
    "HA104", "bound-not-positive", "a clock bound of zero or less never lets time pass"
)
NON_STRICT_INVARIANT = register(
    "HA105", "non-strict-invariant", "write `<`: the kernel arms `<=` timers like `<`"
)
# timed (zone graph, witnesses)
TIMED_UNREACHABLE = register(
    "HA110", "timed-unreachable", "the guards and invariants on every path exclude the state"
)
NONDETERMINISTIC = register(
    "HA111", "overlapping-guards", "make the guards of the two edges disjoint"
)
DEAD_GUARD = register(
    "HA112", "dead-guard", "the guard never holds where the edge starts: fix or drop the edge"
)
SHADOWED_EDGE = register(
    "HA113", "shadowed-edge", "an earlier edge for the same event always wins: drop or fix one"
)
VACUOUS_GUARD = register(
    "HA114", "vacuous-guard", "the guard always holds where the edge starts: drop it"
)
ENTRY_VIOLATION = register(
    "HA115", "invariant-false-on-entry", "reset the clock on the incoming edge, or guard it"
)
UNSET_CLOCK_INVARIANT = register(
    "HA116", "invariant-on-unset-clock", "reset the clock on every path into the state"
)
TIMELOCK = register(
    "HA117", "inevitable-violation", "add an edge that leaves the state or resets its clock"
)
BY_DESIGN = register(
    "HA118", "violation-by-design", "none: every run ends in a violation by design"
)
DISJOINT = register(
    "HA119", "disjoint-guards", "none: the edges share an event but never compete"
)
# parameters and analysis limits
PARAM_NOT_MONOTONE = register(
    "HA120", "parameter-needs-value", "fix the parameter with --param NAME=VALUE"
)
PARAM_DEPENDENT = register(
    "HA121", "parameter-dependent", "the verdict depends on the parameter's value"
)
NOT_ANALYSED = register(
    "HA122", "timed-analysis-skipped", "see the message; the structural checks still ran"
)
INCOMPLETE = register(
    "HA123", "analysis-incomplete", "raise --timeout, or simplify the model"
)
WITNESS_FAILED = register(
    "HA124", "witness-not-confirmed", "report this: the checker and semantics.py disagree"
)
# queries
QUERY_REACH = register("HA130", "query-reach", "none: the answer to --reach")
QUERY_VIOLATE = register("HA131", "query-violate", "none: the answer to --violate")
