"""Automaton + binding -> warnings about the task's state at the start symbol.

`hamodel run` starts a window when the task executes the start symbol, so
the task is on the CPU then, and the first scheduler event it can see is
being switched out.  A model whose initial state accepts none of the events
the binding raises for a switch-out (`sched_switch` with `object = "prev_pid"`)
but does accept a switch-in describes a task that is off the CPU: every window
would end in a violation at the task's first context switch.
"""

from __future__ import annotations

from hamodel.binding import Binding
from hamodel.model import Automaton


def initial_state_warnings(a: Automaton, binding: Binding) -> list[str]:
    switch_out = sorted({e.event for e in binding.events
                         if e.tracepoint == "sched_switch" and e.object == "prev_pid"})
    switch_in = sorted({e.event for e in binding.events
                        if e.tracepoint == "sched_switch" and e.object == "next_pid"})
    if not switch_out:
        return []
    initial = a.initial.name
    accepted = {e.event for e in a.edges if e.src == initial}
    if accepted & set(switch_out):
        return []
    takes_in = sorted(accepted & set(switch_in))
    expects = (f"it accepts {', '.join(takes_in)} (the task switched in), so it describes a"
               " task off the CPU" if takes_in else "it accepts no switch-out event")
    return [
        f"the initial state {initial!r} cannot match the task at the start symbol: {expects};"
        f" but the task is running there, and its first sched_switch raises"
        f" {' or '.join(switch_out)}, which {initial!r} does not accept (an invalid event at"
        " once); start in the state for a running task"
    ]
