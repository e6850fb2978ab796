"""The stable codes of `hamodel check --kernel-tree` (HA2xx).

HA20x-HA21x: drift between a model (or an LTL spec: HA213-HA215) and the in-tree
monitor made from it;
HA22x: how the monitor is wired into kernel/trace/rv/ (Makefile, Kconfig,
rv_trace.h).  docs/kernel-tree.md lists them with examples.
"""

from hamodel.diagnostics import register

DRIFT_STATES = register(
    "HA201", "drift-states", "regenerate the header from the model, or fix the model"
)
DRIFT_EVENTS = register(
    "HA202", "drift-events", "regenerate the header from the model, or fix the model"
)
DRIFT_ENVS = register(
    "HA203", "drift-envs", "regenerate the header from the model, or fix the model"
)
DRIFT_TABLE = register(
    "HA204", "drift-table", "the header's transition function must be the model's"
)
DRIFT_INITIAL_FINAL = register(
    "HA205", "drift-initial-final", "the header's initial and final states must be the model's"
)
DRIFT_NAMES = register(
    "HA206", "drift-names", "each name string must spell the enum constant at its index"
)
DRIFT_INVARIANT = register(
    "HA207", "drift-invariant", "make ha_verify_invariants/ha_setup_invariants check the"
    " model's invariant"
)
DRIFT_GUARD = register(
    "HA208", "drift-guard", "make ha_verify_guards check the model's guard"
)
DRIFT_RESET = register(
    "HA209", "drift-reset", "make ha_verify_guards reset the clocks the model resets"
)
DRIFT_TIMER = register(
    "HA210", "drift-timer", "define HA_TIMER_TYPE as HA_TIMER_WHEEL or HA_TIMER_HRTIMER"
    " exactly when the model has invariants"
)
DRIFT_CLOCK_KIND = register(
    "HA211", "drift-clock-kind", "read the clock with ha_get_clk_ns or ha_get_clk_jiffy as its"
    " unit says"
)
UNREAD_MONITOR = register(
    "HA212", "monitor-not-read", "compare this part by hand, or regenerate it with hamodel gen"
)
DRIFT_LTL_ATOMS = register(
    "HA213", "drift-ltl-atoms", "regenerate the header from the .ltl spec, or fix the spec"
)
DRIFT_LTL_ATOM_NAMES = register(
    "HA214", "drift-ltl-atom-names", "ltl_atom_str() gives each atom rvgen's name, which the"
    " trace prints and tools read back"
)
DRIFT_LTL_AUTOMATON = register(
    "HA215", "drift-ltl-automaton", "regenerate the header from the .ltl spec (hamodel gen"
    " --target kernel-c, or rvgen), or fix the spec"
)
NOT_IN_MAKEFILE = register(
    "HA220", "monitor-not-in-makefile", "add `obj-$(CONFIG_RV_MON_<M>) += monitors/<m>/<m>.o`"
    " above `# Add new monitors here` (hamodel gen -a does it)"
)
NOT_IN_KCONFIG = register(
    "HA221", "monitor-not-in-kconfig", "add `source \"kernel/trace/rv/monitors/<m>/Kconfig\"`"
    " above `# Add new monitors here` (hamodel gen -a does it)"
)
NOT_IN_RV_TRACE = register(
    "HA222", "monitor-not-in-rv-trace", "include <monitors/<m>/<m>_trace.h> in rv_trace.h"
    " under the class its Kconfig selects (hamodel gen -a does it)"
)
DANGLING = register(
    "HA223", "dangling-monitor-reference", "drop the line, or add the monitor it names"
)
WRONG_TRACE_CLASS = register(
    "HA224", "wrong-trace-class", "move the include under the `// Add new monitors based on"
    " CONFIG_<class> here` section its Kconfig selects"
)
