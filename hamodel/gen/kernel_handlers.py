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
from hamodel.gen import kernel_dl
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
    condition: str | None = None  # attached only when this holds at enable


@dataclass(frozen=True, slots=True)
class Handlers:
    handlers: tuple[Handler, ...]
    probes: tuple[Probe, ...]
    cleanup: Handler | None
    includes: tuple[tuple[str, str | None], ...]  # (header, the symbol it needs or None)
    depends: tuple[str, ...]  # Kconfig symbols the tracepoints need
    target_type: str | None  # per_obj monitor_target typedef (None: XXX skeleton)
    enable: tuple[str, ...] = ()  # more of enable_<m>() after the framework's init
    dl_entities: bool = False  # the objects are deadline entities (kernel_dl.py)


def guard_line(guards: tuple[str, ...]) -> str:
    """`#ifdef A` or `#if defined(A) && defined(B)`; empty without guards."""
    if not guards:
        return ""
    if len(guards) == 1:
        return f"#ifdef {guards[0]}"
    return "#if " + " && ".join(f"defined({g})" for g in guards)


def handler_params(name: str, args: tuple[str, ...]) -> str:
    """The arguments after `void *data, `, wrapped under the parenthesis where the
    prototype would pass 100 columns: as many to a line as fit, or, from four
    arguments on (sched_switch), one to a line as the kernel's handlers write them."""
    head = f"static void handle_{name}("
    if len(head + ", ".join(("void *data",) + args) + ")") <= 100:
        return ", ".join(args)
    indent = "\t" * (len(head) // 8) + " " * (len(head) % 8)
    if len(args) >= 4:
        return f",\n{indent}".join(args)
    lines = [f"{head}void *data, {args[0]}"]
    for arg in args[1:]:
        if len(f"{lines[-1]}, {arg}".expandtabs(8)) + 1 <= 100:
            lines[-1] += f", {arg}"
        else:
            lines[-1] += ","
            lines.append(indent + arg)
    return "\n".join(lines).removeprefix(f"{head}void *data, ")


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
) -> Handlers:
    """`target`: the generated target struct of a monitor started by a marker
    (hamodel/gen/kernel_objects.py), None when the object is the task itself.
    `start_helper`: the monitor whose `<m>_handle_start_event()` start events
    call instead of da_handle_start_event() (its initial arrow resets clocks)."""
    hybrid_per_task = a.is_hybrid and monitor_type == "per_task"
    if binding is None:
        return skeleton_handlers(a, monitor_type, suffix, start_events, hybrid_per_task,
                                 start_helper)
    dl = monitor_type == "per_obj" and binding.objects == "dl_entity"
    if dl and binding.exit_tracepoint:
        raise BindingProblem("a monitor of deadline entities keeps their storage itself"
                             " (fork, exit, policy changes): drop [monitor] exit")
    bodies: dict[str, tuple[str, ...]] = {}
    for tp in binding.tracepoints:
        spec = ktp.BY_NAME.get(tp)
        if spec is None:
            raise BindingProblem(f"tracepoint {tp!r}: kernel C has no prototype for it")
        # one clock read per hit, shared by every event the hit sends (prev and next)
        body: list[str] = [f"__this_cpu_write({stamp}, ktime_get_ns());", ""] if stamp else []
        calls, local = _calls(binding.for_tracepoint(tp), spec, monitor_type, suffix, target, dl,
                              start_helper)
        body = ([*local, ""] if local else []) + body + calls
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
    if dl:
        out.append(Handler("sys_enter", kernel_dl.SYS_ENTER_PARAMS, kernel_dl.SYS_ENTER_COMMENT,
                           kernel_dl.SYS_ENTER_BODY, "sys_enter"))
        probes += [Probe(tp, h, (), cond) for tp, h, cond in kernel_dl.LIFECYCLE_PROBES]
    if monitor_type != "per_obj":
        target_type = None
    elif dl:
        target_type = kernel_dl.TARGET_TYPE
    elif target:
        target_type = f"struct {target} *"
    else:
        target_type = "struct task_struct *"
    used = [ktp.BY_NAME[tp] for tp in binding.tracepoints]
    if cleanup or hybrid_per_task:
        # ha_monitor.h attaches its own sched_process_exit probe to per-task monitors
        used.append(ktp.BY_NAME[EXIT_TRACEPOINT])
    includes = tuple(dict.fromkeys((kernel_dl.INCLUDES if dl else ())
                                    + tuple((t.header, t.header_guard) for t in used)))
    depends = tuple(dict.fromkeys((kernel_dl.DEPENDS if dl else ())
                                  + tuple(t.depends for t in used if t.depends)))
    return Handlers(tuple(out), tuple(probes), cleanup, includes, depends, target_type,
                    kernel_dl.ENABLE if dl else (), dl)


def _narrowed(h: Handler, probes: list[Probe]) -> Handler:
    """A handler is compiled under the guards every one of its probes needs."""
    common = tuple(g for g in probes[0].guards if all(g in p.guards for p in probes))
    return Handler(h.name, h.params, h.comment, h.body, h.tracepoint, common)


def _calls(events: tuple[EventBinding, ...], spec: ktp.KernelTracepoint, monitor_type: str,
           suffix: str, target: str | None, dl: bool,
           start_helper: str | None = None) -> tuple[list[str], list[str]]:
    """The da_handle_* calls of one tracepoint, in binding order.

    An entry whose `unless` is exactly the `when` of the entry before it, for the
    same object, is that entry's `else`.
    """
    lines: list[str] = []
    locals_: list[str] = []
    previous: EventBinding | None = None
    for eb in events:
        call, exists, local = _call(eb, spec, monitor_type, suffix, target, dl, start_helper)
        if local and local not in locals_:
            locals_.append(local)
        if (previous is not None and previous.when and not eb.when and exists is None
                and eb.unless == previous.when and eb.object == previous.object):
            lines += ["else"] + ["\t" + line for line in call]
            previous = None
            continue
        terms = [_condition_c(c, spec) for c in eb.when]
        if eb.unless:
            # not all of them: at least one fails
            either = " || ".join(_condition_c(c, spec, negate=True) for c in eb.unless)
            terms.append(f"({either})" if terms and len(eb.unless) > 1 else either)
        if exists:
            # last: it may look the object up, which the other conditions can spare
            terms.append(exists)
        if terms:
            lines += wrap_terms(terms, "if (", ")") + ["\t" + line for line in call]
        else:
            lines += list(call)
        previous = eb if exists is None else None
    return lines, locals_


def wrap_terms(terms: list[str], head: str, tail: str) -> list[str]:
    """`head a && b tail` (a handler body line, one tab deep), broken after `&&` where
    a line would pass 100 columns; continuations line up after `if (`."""
    lines: list[str] = []
    line = head + terms[0]
    for term in terms[1:]:
        candidate = f"{line} && {term}"
        if 8 + len(candidate.expandtabs(8)) + len(tail) <= 100:
            line = candidate
        else:
            lines.append(line + " &&")
            line = "    " + term
    return lines + [line + tail]


def wrap_args(head: str, args: list[str], tabs: int) -> tuple[str, ...]:
    """`head` + args + `);` at `tabs` tabs, broken after a comma where a line would pass
    100 columns, continuations under the parenthesis (kernel style)."""
    indent = "\t" * (len(head) // 8) + " " * (len(head) % 8)
    lines: list[str] = []
    line = head + args[0]
    for arg in args[1:]:
        candidate = f"{line}, {arg}"
        if 8 * tabs + len(candidate.expandtabs(8)) + 2 <= 100:
            line = candidate
        else:
            lines.append(line + ",")
            line = indent + arg
    return (*lines, line + ");")


def _handle_function(kind: str, start_helper: str | None) -> str:
    """da_handle_<kind>(), or the monitor's own start-event helper when its start sets
    clocks up (docs/semantics.md, Starting)."""
    if kind == "start_event" and start_helper:
        return f"{start_helper}_handle_start_event"
    return f"da_handle_{kind}"


def _call(eb: EventBinding, spec: ktp.KernelTracepoint, monitor_type: str, suffix: str,
          target: str | None, dl: bool,
          start_helper: str | None = None) -> tuple[tuple[str, ...], str | None, str | None]:
    """The da_handle_*() call (lines relative to the statement), the condition under
    which its object exists (None: always) and a local the call reads (None: none)."""
    task = spec.task_c(eb.object)
    head = f"{_handle_function(eb.handler, start_helper)}("
    if dl:
        found = kernel_dl.entity(spec.name, eb.object, task)
        if found is None:
            raise BindingProblem(f"event {eb.event!r}: object {eb.object!r} of {spec.name}"
                                 " names no deadline entity")
        return wrap_args(head, [found.args, eb.event + suffix], 2), found.exists, found.local
    if task is None and monitor_type in ("per_task", "per_obj"):
        known = ", ".join(f for f, _ in spec.tasks)
        raise BindingProblem(f"event {eb.event!r}: object {eb.object!r} names no task"
                             f" (kernel C reads the object of {spec.name} from {known})")
    args = _handle_args(monitor_type, task or "", eb.event + suffix, target)
    return (f"{head}{args});",), None, None


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
    start_helper: str | None = None,
) -> Handlers:
    """One handler per event, for the developer to connect (rvgen's dot2k.py does the same)."""
    handlers = []
    for ev in a.events:
        kind = start_events[ev.name]
        call = _handle_function(kind, start_helper)
        comment = tuple(c for k, c in START_COMMENTS if k == kind)
        event_c = ev.name + suffix
        if monitor_type == "per_task":
            body = ("struct task_struct *p = /* XXX: the task of this event */;", "",
                    f"{call}(p, {event_c});")
        elif monitor_type == "per_obj":
            body = ("int id = /* XXX: the id of the object of this event */;",
                    "monitor_target t = /* XXX: that object */;", "",
                    f"{call}(id, t, {event_c});")
        else:
            body = (f"{call}({event_c});",)
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
