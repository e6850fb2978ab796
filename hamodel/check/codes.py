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
    "HA105", "non-strict-invariant", "write `<`: the framework does not read `<=`"
)
# timed (zone graph, witnesses)
TIMED_UNREACHABLE = register(
    "HA110", "timed-unreachable", "the guards and invariants on every path exclude the state"
)
NOT_IN_TABLE = register(
    "HA111", "edge-not-in-table",
    "give each (state, event) one next state and one set of resets",
)
DEAD_GUARD = register(
    "HA112", "dead-guard", "the guard never holds where the edge starts: fix or drop the edge"
)
SHADOWED_EDGE = register(
    "HA113", "shadowed-edge", "another edge to the same state covers this one: drop one"
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
JOINED = register(
    "HA119", "joined-guards", "none: the edges go to one state, the kernel joins their guards"
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
# framework behaviours and limits of the analysis
SMALL_UPTIME = register(
    "HA125", "small-uptime-wrap", "none in the model: the framework's ns check wraps after boot"
)
UNSET_JIFFY_CLOCK = register(
    "HA126", "unset-jiffy-clock", "reset the jiffy clock on every path into the state"
)
IMPLICIT_MONITOR_CLOCKS = register(
    "HA127", "clocks-on-implicit-monitor", "make it a per_task or per_obj monitor"
)
TIMER_NOT_EXACT = register(
    "HA128", "timer-not-exact", "use an hrtimer, or jiffy bounds below 63 on the wheel"
)
# queries
QUERY_REACH = register("HA130", "query-reach", "none: the answer to --reach")
QUERY_VIOLATE = register("HA131", "query-violate", "none: the answer to --violate")
