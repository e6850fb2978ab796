"""Tracepoint handlers of a kernel-C monitor: from the binding, or rvgen's XXX skeletons.

Input: the Automaton, its Binding (or None), the monitor type and the event
handlers rvgen would choose (da_handle_event / start_event / start_run_event).
Output: `Handlers`: Handler records whose bodies are C lines, the probes to
attach, the headers and Kconfig symbols the tracepoints need, for
templates/kernel-c/.  What each tracepoint looks like in C is in
kernel_tracepoints.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from hamodel.binding import Binding, Condition, EventBinding
from hamodel.gen import kernel_tracepoints as ktp
from hamodel.model import Automaton

# The probe arguments of each tracepoint on one line (tests/harness declares its probes so).
TRACEPOINT_ARGS = {tp.name: ", ".join(tp.params) for tp in ktp.TABLE}

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

# The negation of each comparison, to write `unless` and `else` plainly.
NEGATED = {"==": "!=", "!=": "==", "<": ">=", ">=": "<", ">": "<=", "<=": ">"}


def uses_prev_state(binding: Binding | None) -> bool:
    return binding is not None and any(
        c.field == "prev_state" and e.tracepoint == "sched_switch"
        for e in binding.events for c in e.when + e.unless)


# The only exit tracepoint whose task argument is the one exiting.
EXIT_TRACEPOINT = "sched_process_exit"


class BindingProblem(ValueError):
    """A binding the kernel-C generator cannot turn into handlers; says which entry."""


@dataclass(frozen=True, slots=True)
class Handler:
    name: str  # handle_<name>
    params: str  # after `void *data, `, wrapped to align with the parenthesis
    comment: tuple[str, ...]  # lines of a /* */ block above the body (skeletons)
    body: tuple[str, ...]  # lines, relative indentation as leading tabs
    tracepoint: str  # the first it serves; "/* XXX: tracepoint */" for skeletons
    guards: tuple[str, ...] = ()  # compiled only when these config symbols are set

    @property
    def guard_line(self) -> str:
        return guard_line(self.guards)


@dataclass(frozen=True, slots=True)
class Probe:
    """One rv_attach_trace_probe(): `handler` on `tracepoint`, under `guards`."""

    tracepoint: str
    handler: str  # handle_<handler>
    guards: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Handlers:
    handlers: tuple[Handler, ...]
    probes: tuple[Probe, ...]
    cleanup: Handler | None
    includes: tuple[tuple[str, str | None], ...]  # (header, the symbol it needs or None)
    depends: tuple[str, ...]  # Kconfig symbols the tracepoints need
    target_type: str | None  # per_obj monitor_target typedef (None: XXX skeleton)


def guard_line(guards: tuple[str, ...]) -> str:
    """`#ifdef A` or `#if defined(A) && defined(B)`; empty without guards."""
    if not guards:
        return ""
    if len(guards) == 1:
        return f"#ifdef {guards[0]}"
    return "#if " + " && ".join(f"defined({g})" for g in guards)


def handler_params(name: str, args: tuple[str, ...]) -> str:
    """The arguments after `void *data, `: on the first line if the prototype fits 100
    columns, else the first there and each other on its own line under the parenthesis."""
    head = f"static void handle_{name}("
    line = head + ", ".join(("void *data",) + args) + ")"
    if len(line) <= 100:
        return ", ".join(args)
    indent = "\t" * (len(head) // 8) + " " * (len(head) % 8)
    return f",\n{indent}".join(args)


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
) -> Handlers:
    """`target`: the generated target struct of a monitor started by a marker
    (hamodel/gen/kernel_objects.py), None when the object is the task itself."""
    hybrid_per_task = a.is_hybrid and monitor_type == "per_task"
    if binding is None:
        return skeleton_handlers(a, monitor_type, suffix, start_events, hybrid_per_task)
    bodies: dict[str, tuple[str, ...]] = {}
    for tp in binding.tracepoints:
        spec = ktp.BY_NAME.get(tp)
        if spec is None:
            raise BindingProblem(f"tracepoint {tp!r}: kernel C has no prototype for it")
        # one clock read per hit, shared by every event the hit sends (prev and next)
        body: list[str] = [f"__this_cpu_write({stamp}, ktime_get_ns());", ""] if stamp else []
        body += _calls(binding.for_tracepoint(tp), spec, monitor_type, suffix, target)
        bodies[tp] = tuple(body)
    out: list[Handler] = []
    probes: list[Probe] = []
    merged: dict[tuple[str, tuple[str, ...]], str] = {}  # (family, body) -> handler name
    for tp, body in bodies.items():
        spec = ktp.BY_NAME[tp]
        name = tp
        if spec.family:
            name = merged.setdefault((spec.family, body), spec.family)
        if name == tp or name not in {h.name for h in out}:
            out.append(Handler(name, handler_params(name, spec.params), (), body, tp,
                               spec.guards))
        probes.append(Probe(tp, name, spec.guards))
    out = [_narrowed(h, [p for p in probes if p.handler == h.name]) for h in out]
    cleanup = None
    if monitor_type == "per_obj" and binding.exit_tracepoint:
        tp = binding.exit_tracepoint
        if tp != EXIT_TRACEPOINT:
            raise BindingProblem(f"exit tracepoint {tp!r}: kernel C cleans up a task's monitor"
                                 f" on {EXIT_TRACEPOINT} only")
        # a started task's slot is freed with its storage
        body_c = (f"{target.removesuffix('_target')}_stop_task(p);" if target
                  else "da_destroy_storage(p->pid);",)
        spec = ktp.BY_NAME[tp]
        cleanup = Handler("obj_cleanup", handler_params("obj_cleanup", spec.params), (),
                          body_c, tp)
    if monitor_type != "per_obj":
        target_type = None
    elif target:
        target_type = f"struct {target} *"
    else:
        target_type = "struct task_struct *"
    used = [ktp.BY_NAME[tp] for tp in binding.tracepoints]
    if cleanup or hybrid_per_task:
        # ha_monitor.h attaches its own sched_process_exit probe to per-task monitors
        used.append(ktp.BY_NAME[EXIT_TRACEPOINT])
    includes = tuple(dict.fromkeys((t.header, t.header_guard) for t in used))
    depends = tuple(dict.fromkeys(t.depends for t in used if t.depends))
    return Handlers(tuple(out), tuple(probes), cleanup, includes, depends, target_type)


def _narrowed(h: Handler, probes: list[Probe]) -> Handler:
    """A handler is compiled under the guards every one of its probes needs."""
    common = tuple(g for g in probes[0].guards if all(g in p.guards for p in probes))
    return Handler(h.name, h.params, h.comment, h.body, h.tracepoint, common)


def _calls(events: tuple[EventBinding, ...], spec: ktp.KernelTracepoint, monitor_type: str,
           suffix: str, target: str | None) -> list[str]:
    """The da_handle_* calls of one tracepoint, in binding order.

    An entry whose `unless` is exactly the `when` of the entry before it, for the
    same object, is that entry's `else`.
    """
    lines: list[str] = []
    previous: EventBinding | None = None
    for eb in events:
        call = _call(eb, spec, monitor_type, suffix, target)
        if (previous is not None and previous.when and not eb.when
                and eb.unless == previous.when and eb.object == previous.object):
            lines += ["else", f"\t{call}"]
            previous = None
            continue
        terms = [_condition_c(c, spec) for c in eb.when]
        if eb.unless:
            # not all of them: at least one fails
            either = " || ".join(_condition_c(c, spec, negate=True) for c in eb.unless)
            terms.append(f"({either})" if terms and len(eb.unless) > 1 else either)
        lines += [f"if ({' && '.join(terms)})", f"\t{call}"] if terms else [call]
        previous = eb
    return lines


def _call(eb: EventBinding, spec: ktp.KernelTracepoint, monitor_type: str, suffix: str,
          target: str | None) -> str:
    task = spec.task_c(eb.object)
    if task is None and monitor_type in ("per_task", "per_obj"):
        known = ", ".join(f for f, _ in spec.tasks)
        raise BindingProblem(f"event {eb.event!r}: object {eb.object!r} names no task"
                             f" (kernel C reads the object of {spec.name} from {known})")
    args = _handle_args(monitor_type, task or "", eb.event + suffix, target)
    return f"da_handle_{eb.handler}({args});"


def _condition_c(c: Condition, spec: ktp.KernelTracepoint, negate: bool = False) -> str:
    try:
        field = spec.field_c(c.field)
    except KeyError:
        raise BindingProblem(f"{spec.name}: kernel C cannot read field {c.field!r}") from None
    op = NEGATED[c.op] if negate else c.op
    if c.boolean:
        # bool arguments read as themselves: checkpatch refuses comparisons with true
        return field if (op == "==") == bool(c.value) else f"!{field}"
    return f"{field} {op} {c.text}"


START_COMMENTS = (
    ("start_event", "/* XXX: check that this event leads to the initial state from anywhere */"),
    ("start_run_event", "/* XXX: check that only the initial state has this event */"),
)


def skeleton_handlers(
    a: Automaton, monitor_type: str, suffix: str, start_events: dict[str, str],
    hybrid_per_task: bool,
) -> Handlers:
    """One handler per event, for the developer to connect (rvgen's dot2k.py does the same)."""
    handlers = []
    for ev in a.events:
        kind = start_events[ev.name]
        comment = tuple(c for k, c in START_COMMENTS if k == kind)
        event_c = ev.name + suffix
        if monitor_type == "per_task":
            body = ("struct task_struct *p = /* XXX: the task of this event */;", "",
                    f"da_handle_{kind}(p, {event_c});")
        elif monitor_type == "per_obj":
            body = ("int id = /* XXX: the id of the object of this event */;",
                    "monitor_target t = /* XXX: that object */;", "",
                    f"da_handle_{kind}(id, t, {event_c});")
        else:
            body = (f"da_handle_{kind}({event_c});",)
        handlers.append(Handler(ev.name, "/* XXX: the tracepoint's arguments */", (),
                                comment + body, "/* XXX: tracepoint */"))
    cleanup = None
    if monitor_type == "per_obj":
        cleanup = Handler(
            "obj_cleanup",
            "/* XXX: the tracepoint's arguments */",
            ("/* XXX: the object goes away here; drop this handler for objects that never do */",),
            ("int id = /* XXX: the id of the object */;", "", "da_destroy_storage(id);"),
            "/* XXX: tracepoint */",
        )
    probes = tuple(Probe(h.tracepoint, h.name) for h in handlers)
    # the framework's sched_process_exit probe needs the sched tracepoints declared
    includes = (("trace/events/sched.h", None),) if hybrid_per_task else ()
    return Handlers(tuple(handlers), probes, cleanup, includes, (), None)
