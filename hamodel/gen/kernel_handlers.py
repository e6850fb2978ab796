"""Tracepoint handlers of a kernel-C monitor: from the binding, or rvgen's XXX skeletons.

Input: the Automaton, its Binding (or None), the monitor type and the event
handlers rvgen would choose (da_handle_event / start_event / start_run_event).
Output: Handler records whose bodies are C lines, for templates/kernel-c/.
"""

from __future__ import annotations

from dataclasses import dataclass

from hamodel.binding import Binding, EventBinding
from hamodel.model import Automaton

# Kernel prototypes of the tracepoints a binding may name (include/trace/events/sched.h),
# and how each tracefs field the binding speaks of is read from the arguments.
# prev_state: the state sched_switch reports, computed by the helper PREV_STATE_HELPER
# (hamodel.binding.reported_prev_state, the one meaning of every target).
TRACEPOINT_ARGS = {
    "sched_switch": "bool preempt,\n\t\t\t\tstruct task_struct *prev,\n"
    "\t\t\t\tstruct task_struct *next,\n\t\t\t\tunsigned int prev_state",
    "sched_wakeup": "struct task_struct *p",
    "sched_waking": "struct task_struct *p",
    "sched_wakeup_new": "struct task_struct *p",
    "sched_process_exit": "struct task_struct *p, bool group_dead",
}
TASK_OF_FIELD = {
    "prev_pid": "prev",
    "next_pid": "next",
    "pid": "p",
    "common_pid": "current",
}
FIELD_C = {
    "prev_pid": "prev->pid",
    "next_pid": "next->pid",
    "pid": "p->pid",
    "common_pid": "current->pid",
    "prev_prio": "prev->prio",
    "next_prio": "next->prio",
    "prio": "p->prio",
    "prev_state": "ha_prev_state(preempt, prev_state, prev)",
    "target_cpu": "task_cpu(p)",
}
# C of hamodel.binding.reported_prev_state, emitted once when a condition reads prev_state.
PREV_STATE_HELPER = (
    "/*",
    " * prev_state as sched_switch reports it, the same on every hamodel target:",
    " * a preempted task is TASK_RUNNING, otherwise the highest reported state bit,",
    " * an idle wait as TASK_REPORT_IDLE and an rt-lock wait or a frozen task as",
    " * TASK_UNINTERRUPTIBLE.",
    " */",
    "static unsigned int ha_prev_state(bool preempt, unsigned int prev_state,",
    "\t\t\t\t  struct task_struct *prev)",
    "{",
    "\tunsigned int state;",
    "",
    "\tif (preempt)",
    "\t\treturn TASK_RUNNING;",
    "\tstate = (prev_state | prev->exit_state) & TASK_REPORT;",
    "\tif ((prev_state & TASK_IDLE) == TASK_IDLE)",
    "\t\tstate = TASK_REPORT_IDLE;",
    "\tif (prev_state & (TASK_RTLOCK_WAIT | TASK_FROZEN))",
    "\t\tstate = TASK_UNINTERRUPTIBLE;",
    "\treturn state ? 1U << (fls(state) - 1) : TASK_RUNNING;",
    "}",
)


def uses_prev_state(binding: Binding | None) -> bool:
    return binding is not None and any(
        c.field == "prev_state" for e in binding.events for c in e.when)


# The only exit tracepoint whose task argument is the one exiting.
EXIT_TRACEPOINT = "sched_process_exit"


class BindingProblem(ValueError):
    """A binding the kernel-C generator cannot turn into handlers; says which entry."""


@dataclass(frozen=True, slots=True)
class Handler:
    name: str  # handle_<name>
    params: str  # after `void *data, `
    comment: tuple[str, ...]  # lines of a /* */ block above the body (skeletons)
    body: tuple[str, ...]  # lines, relative indentation as leading tabs
    tracepoint: str  # "/* XXX: tracepoint */" for skeletons


START_COMMENTS = (
    ("start_event", "/* XXX: validate that this event always leads to the initial state */"),
    ("start_run_event", "/* XXX: validate that this event is only valid in the initial state */"),
)


def _handle_args(monitor_type: str, task: str, event_c: str, target: str | None) -> str:
    if monitor_type == "per_task":
        return f"{task}, {event_c}"
    if monitor_type == "per_obj" and target:
        # the storage, made at the start, holds the target: events only look it up
        return f"{task}->pid, NULL, {event_c}"
    if monitor_type == "per_obj":
        return f"{task}->pid, {task}, {event_c}"
    return event_c


def handlers(
    a: Automaton,
    binding: Binding | None,
    monitor_type: str,
    suffix: str,
    start_events: dict[str, str],
    target: str | None = None,
    stamp: str | None = None,
    start_helper: str | None = None,
) -> tuple[tuple[Handler, ...], Handler | None, tuple[str, ...], str | None]:
    """`target`: the generated target struct of a monitor started by a marker
    (hamodel/gen/kernel_objects.py), None when the object is the task itself.
    `start_helper`: the monitor whose `<m>_handle_start_event()` start events
    call instead of da_handle_start_event() (its initial arrow resets clocks)."""
    if binding is None:
        return skeleton_handlers(a, monitor_type, suffix, start_events, start_helper)
    handlers = []
    for tp in binding.tracepoints:
        # one clock read per hit, shared by every event the hit sends (prev and next)
        body: list[str] = [f"__this_cpu_write({stamp}, ktime_get_ns());", ""] if stamp else []
        for eb in binding.for_tracepoint(tp):
            body += _bound_call(eb, monitor_type, suffix, target, start_helper)
        handlers.append(Handler(tp, TRACEPOINT_ARGS[tp], (), tuple(body), tp))
    cleanup = None
    if monitor_type == "per_obj" and binding.exit_tracepoint:
        tp = binding.exit_tracepoint
        if tp != EXIT_TRACEPOINT:
            raise BindingProblem(f"exit tracepoint {tp!r}: kernel C cleans up a task's monitor"
                                 f" on {EXIT_TRACEPOINT} only")
        # a started task's slot is freed with its storage
        body = (f"{target.removesuffix('_target')}_stop_task(p);" if target
                else "da_destroy_storage(p->pid);",)
        cleanup = Handler("obj_cleanup", TRACEPOINT_ARGS[tp], (), body, tp)
    if monitor_type != "per_obj":
        target_type = None
    elif target:
        target_type = f"struct {target} *"
    else:
        target_type = "struct task_struct *"
    return tuple(handlers), cleanup, ("trace/events/sched.h",), target_type


def _handle_function(kind: str, start_helper: str | None) -> str:
    if kind == "start_event" and start_helper:
        return f"{start_helper}_handle_start_event"
    return f"da_handle_{kind}"


def _bound_call(
    eb: EventBinding, monitor_type: str, suffix: str, target: str | None,
    start_helper: str | None = None,
) -> list[str]:
    task = TASK_OF_FIELD.get(eb.object)
    if task is None and monitor_type in ("per_task", "per_obj"):
        known = ", ".join(TASK_OF_FIELD)
        raise BindingProblem(f"event {eb.event!r}: object {eb.object!r} names no task"
                             f" (kernel C reads the object from one of {known})")
    unknown = [c.field for c in eb.when if c.field not in FIELD_C]
    if unknown:
        raise BindingProblem(f"event {eb.event!r}: kernel C cannot read field {unknown[0]!r}")
    args = _handle_args(monitor_type, task, eb.event + suffix, target)
    call = f"{_handle_function(eb.handler, start_helper)}({args});"
    if not eb.when:
        return [call]
    cond = " && ".join(f"{FIELD_C[c.field]} {c.op} {c.text}" for c in eb.when)
    return [f"if ({cond})", f"\t{call}"]


def skeleton_handlers(
    a: Automaton, monitor_type: str, suffix: str, start_events: dict[str, str],
    start_helper: str | None = None,
) -> tuple[tuple[Handler, ...], Handler | None, tuple[str, ...], str | None]:
    """rvgen/dot2k.py fill_tracepoint_handlers_skel, one handler per event."""
    handlers = []
    for ev in a.events:
        kind = start_events[ev.name]
        call = _handle_function(kind, start_helper)
        comment = tuple(c for k, c in START_COMMENTS if k == kind)
        event_c = ev.name + suffix
        if monitor_type == "per_task":
            body = ("struct task_struct *p = /* XXX: how do I get p? */;", "",
                    f"{call}(p, {event_c});")
        elif monitor_type == "per_obj":
            body = ("int id = /* XXX: how do I get the id? */;",
                    "monitor_target t = /* XXX: how do I get t? */;", "",
                    f"{call}(id, t, {event_c});")
        else:
            body = (f"{call}({event_c});",)
        handlers.append(
            Handler(ev.name, "/* XXX: fill header */", (), comment + body, "/* XXX: tracepoint */")
        )
    cleanup = None
    if monitor_type == "per_obj":
        cleanup = Handler(
            "obj_cleanup",
            "/* XXX: fill header */",
            ("/* XXX: obj is being destroyed, remove if not required (e.g. obj is static) */",),
            ("int id = /* XXX: how do I get the id? */;", "", "da_destroy_storage(id);"),
            "/* XXX: cleanup tracepoint */",
        )
    return tuple(handlers), cleanup, (), None
