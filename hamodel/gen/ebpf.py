"""Automaton + Binding -> a libbpf CO-RE monitor: `<m>.bpf.c` and `<m>.meta.json`.

The view built here holds every decision (tables, deadlines, which tracepoint
argument names the task, which condition selects an event); templates/ebpf/
only lays it out.  The meta file is what user space needs to decode the
monitor's reports (hamodel/bpf/records.py reads it).

Why the program is shaped the way it is (facts measured on kernel 6.18, see
docs/ebpf.md): uprobe programs may not touch a map holding a `bpf_timer`
("tracing progs cannot use bpf_timer yet") and task storage refuses timers
(-EOPNOTSUPP).  So per-task state lives in task storage, shared by the uprobes
and the `tp_btf` programs, while the invariant timers live in a hash map keyed
by tid that only `tp_btf` programs and the timer callback touch.  The start
uprobe cannot arm a timer: the task's next `tp_btf` event does (sched_switch,
sched_wakeup, or the local timer interrupt, which fires every tick while it
runs).  `sched_stat_runtime` would do too, but fires at every context switch
as well: measured here, it cost almost as much as the two model tracepoints.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from hamodel import diagnostics as dg
from hamodel.binding import Binding, Condition, EventBinding, find_binding
from hamodel.build import is_c_identifier
from hamodel.gen import GenError, GenOptions, render
from hamodel.gen import names as cn
from hamodel.model import Automaton, ClockKind, Number, Symbol, Value
from hamodel.semantics import Semantics
from hamodel.source import Span

EBPF_UNSUPPORTED = dg.register(
    "HA060", "ebpf-unsupported", "see docs/ebpf.md for what the eBPF target supports"
)


class EbpfUnsupported(ValueError):
    """The model or binding uses something the eBPF target cannot express (one line).

    `span` points at the model element at fault; None for options and bindings.
    """

    def __init__(self, message: str, span: Span | None = None) -> None:
        super().__init__(message)
        self.span = span


# --- how each tracepoint reaches a tp_btf program --------------------------------


@dataclass(frozen=True, slots=True)
class TracepointAbi:
    """A raw tracepoint's BPF_PROG arguments and its tracefs fields as C expressions.

    `tasks` maps a pid field to the task_struct pointer it is read from;
    `fields` maps a numeric field to an expression of the arguments.
    """

    params: str
    tasks: tuple[tuple[str, str], ...]
    fields: tuple[tuple[str, str], ...]


_WAKEUP_ABI = TracepointAbi(
    params="struct task_struct *p",
    tasks=(("pid", "p"), ("common_pid", "bpf_get_current_task_btf()")),
    fields=(("pid", "p->pid"), ("prio", "p->prio"), ("common_pid", "hamodel_current_pid()")),
)

# The tp_btf prototypes of kernel 6.18 (include/trace/events/sched.h).
TRACEPOINT_ABI: dict[str, TracepointAbi] = {
    "sched_switch": TracepointAbi(
        params=(
            "bool preempt, struct task_struct *prev,\n"
            "\t     struct task_struct *next, unsigned int prev_state"
        ),
        tasks=(
            ("prev_pid", "prev"),
            ("next_pid", "next"),
            ("common_pid", "bpf_get_current_task_btf()"),
        ),
        fields=(
            ("prev_pid", "prev->pid"),
            ("prev_prio", "prev->prio"),
            # What tracefs prints: a preempted task is still runnable ("R+").
            ("prev_state", "hamodel_prev_state(preempt, prev_state, prev)"),
            ("next_pid", "next->pid"),
            ("next_prio", "next->prio"),
            ("common_pid", "hamodel_current_pid()"),
        ),
    ),
    "sched_wakeup": _WAKEUP_ABI,
    "sched_waking": _WAKEUP_ABI,
    "sched_wakeup_new": _WAKEUP_ABI,
    "sched_process_exit": TracepointAbi(
        params="struct task_struct *p, bool group_dead",
        tasks=(("pid", "p"), ("common_pid", "bpf_get_current_task_btf()")),
        fields=(("pid", "p->pid"), ("prio", "p->prio"), ("common_pid", "hamodel_current_pid()")),
    ),
}


# x86's irq_vectors:local_timer_entry: runs on the CPU of the interrupted task.
ARM_TRACEPOINT = "local_timer_entry"


def _keeps_deadline(
    src: InvariantView | None,
    dst: InvariantView | None,
    *,
    self_loop: bool,
    loop_event: bool,
    resets: bool,
    init_clocks: frozenset[int],
) -> bool:
    """Whether an edge leaves the armed deadline as it is, so the hot path skips it.

    ha_setup_invariants() leaves the timer on a self-loop unless its event resets
    a clock on some self-loop of the model (rvgen's self_loop_reset_events,
    `loop_event`), and an edge between two states with no invariant keeps "none".
    Otherwise the timer is armed again, and that lands on the same deadline when
    the edge resets nothing between two states with the same invariant on a clock
    reset on the __init arrow: never unset, so the hrtimer runs bound - passed ns
    from now, at reset + bound, in both states (the event found it not passed).
    An unset clock counts from each arming, so its deadline moves with every edge.
    """
    if (self_loop and not loop_event) or (src is None and dst is None):
        return True
    return (
        not resets
        and src is not None
        and dst is not None
        and (src.clock, src.bound) == (dst.clock, dst.bound)
        and src.clock in init_clocks
    )

# --- the view ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InvariantView:
    clock: int
    bound: str  # C expression in ns, of `params` (`<` and `<=` alike: the kernel's check)
    text: str  # as written, for the comment


@dataclass(frozen=True, slots=True)
class StateView:
    name: str
    const: str
    invariant: InvariantView | None
    line: int


@dataclass(frozen=True, slots=True)
class HandlerCall:
    event_const: str
    task: str
    condition: str  # C expression, "" when unconditional
    comment: str


@dataclass(frozen=True, slots=True)
class ProgramView:
    tracepoint: str
    params: str
    locals: tuple[tuple[str, str], ...]  # (field, C expression), in first-use order
    calls: tuple[HandlerCall, ...]


@dataclass(frozen=True, slots=True)
class EbpfView:
    name: str
    source: str
    description: str
    states: tuple[StateView, ...]
    events: tuple[tuple[str, str], ...]  # (model name, C constant)
    clocks: tuple[str, ...]
    params: tuple[str, ...]
    next_state: tuple[tuple[str, ...], ...]  # [state][event] -> C constant or "-1"
    edge_resets: tuple[tuple[str, ...], ...]  # [state][event] -> clock bitmask
    edge_new_deadline: tuple[tuple[str, ...], ...]  # [state][event] -> "1" recompute, "0" keep
    init_resets: str
    init_timer: bool  # the start sets the initial state's timer: the __init arrow resets
    programs: tuple[ProgramView, ...]
    exit_tracepoint: str
    exit_params: str
    exit_task: str
    arm_tracepoint: str  # a tp_btf hook that only arms timers ("": none)
    uses_current_pid: bool

    @property
    def clock_slots(self) -> int:
        return max(1, len(self.clocks))

    @property
    def param_slots(self) -> int:
        return max(1, len(self.params))


# The template's own functions, tables and macros, each suffixed _<model> like the
# state and event constants (tags of enums and structs live apart and cannot clash).
GENERATOR_NAMES = (
    "next_state", "edge_resets", "edge_new_deadline", "stored", "count", "invariant_holds", "holds",
    "invariant_deadline", "deadline", "report", "timer_fired", "arm_slow", "arm", "live",
    "handle", "HOW", "HOW_NO_EVENT", "CLOCKS", "PARAMS", "CLOCK_SLOTS", "PARAM_SLOTS",
    "BINDINGS", "INIT_RESETS",
)


def _check_identifiers(a: Automaton) -> None:
    for name in [a.name, *(s.name for s in a.states), *(e.name for e in a.events)]:
        if not is_c_identifier(name):
            raise EbpfUnsupported(f"{name!r} is not a C identifier")
    # Every enum constant of the program, model-made and fixed, must be unique.
    fixed = [
        f"{prefix}_{a.name}"
        for prefix in (
            "state_max",
            "event_max",
            "count_max",
            "status_idle",
            "status_monitoring",
            "status_violated",
            *(f"kind_{k}" for k in KINDS),
            *(f"by_{d}" for d in DETECTORS),
            *(f"count_{c}" for c in COUNTERS),
            *GENERATOR_NAMES,
        )
    ]
    seen: dict[str, str] = {c: "a name the generator uses" for c in fixed}
    for what, name in [
        *(("state", s.name) for s in a.states),
        *(("event", e.name) for e in a.events),
    ]:
        const = f"{name}_{a.name}"
        if const in seen:
            raise EbpfUnsupported(f"{what} {name}: its C name {const} is already {seen[const]}")
        seen[const] = f"the {what} {name}"


def _bound(value: Value, params: tuple[str, ...]) -> tuple[str, str]:
    if isinstance(value, Number):
        return f"{value.value}ULL", value.text or str(value.value)
    assert isinstance(value, Symbol)
    scale = value.unit.scale if value.unit else 1
    expr = f"m->params[{params.index(value.name)}]"
    return (expr if scale == 1 else f"{expr} * {scale}ULL"), value.text


def _condition(tp: str, cond: Condition) -> str:
    """`field op value` over the program's local copy of the field (see _field_locals)."""
    if cond.field not in dict(TRACEPOINT_ABI[tp].fields):
        raise EbpfUnsupported(f"{tp}: the eBPF target cannot read field {cond.field!r}")
    comment = f"{cond.text}" if cond.text != str(cond.value) else ""
    value = f"{cond.value}" + (f" /* {comment} */" if comment else "")
    return f"field_{cond.field} {cond.op} {value}"


def _field_locals(tp: str, events: tuple[EventBinding, ...]) -> tuple[tuple[str, str], ...]:
    """Each field the conditions read, computed once per run: handlers write memory,
    so the compiler could not reuse a value read before them."""
    fields = dict(TRACEPOINT_ABI[tp].fields)
    used: dict[str, None] = {}
    for eb in events:
        for c in eb.when:
            used.setdefault(c.field, None)
    return tuple((name, fields[name]) for name in used if name in fields)


def _call(a: Automaton, eb: EventBinding) -> HandlerCall:
    abi = TRACEPOINT_ABI.get(eb.tracepoint)
    if abi is None:
        raise EbpfUnsupported(f"the eBPF target has no tp_btf mapping for {eb.tracepoint}")
    tasks = dict(abi.tasks)
    if eb.object not in tasks:
        raise EbpfUnsupported(
            f"event {eb.event}: object {eb.object!r} is not a task of {eb.tracepoint}"
        )
    if eb.handler != "event":
        raise EbpfUnsupported(
            f"event {eb.event}: handler {eb.handler!r} (the eBPF target starts monitors "
            "at the start marker only)"
        )
    condition = " && ".join(f"({_condition(eb.tracepoint, c)})" for c in eb.when)
    if len(eb.when) == 1:
        condition = condition[1:-1]
    when = " and ".join(f"{c.field} {c.op} {c.text}" for c in eb.when)
    comment = f"{eb.event} of the task {eb.object}" + (f", when {when}" if when else "")
    return HandlerCall(f"{eb.event}_{a.name}", tasks[eb.object], condition, comment)


def build_view(a: Automaton, binding: Binding) -> EbpfView:
    """Decide everything the template prints; raise EbpfUnsupported for what it cannot."""
    kernel_only = binding.kernel_only()
    if kernel_only:
        raise EbpfUnsupported(f"the binding uses what only the kernel-C target follows"
                              f" ({kernel_only[0]})")
    _check_identifiers(a)
    _check_sizes(a)
    for edge in a.edges:
        if edge.guard is not None:
            raise EbpfUnsupported(
                f"edge {edge.src} -> {edge.dst} ({edge.event}) has a guard: "
                "the eBPF target supports invariants and resets only",
                edge.span,
            )
    for env in a.envs:
        if not env.stored:
            raise EbpfUnsupported(
                f"env {env.name} is read-only: the eBPF target has no source", env.span
            )
        if env.clock_kind is ClockKind.JIFFIES:
            raise EbpfUnsupported(
                f"clock {env.name} counts jiffies: the eBPF target uses ns", env.span
            )
    if binding.monitor_type not in ("per_task", "per_obj"):
        raise EbpfUnsupported(f"monitor type {binding.monitor_type}: the eBPF target is per task")
    for p in a.parameters:
        if p.clock_kind is ClockKind.JIFFIES:
            raise EbpfUnsupported(
                f"parameter {p.name} is in jiffies: the eBPF target uses ns", p.span
            )

    clocks = tuple(c.name for c in a.clocks)
    params = tuple(p.name for p in a.parameters)
    states = []
    for s in a.states:
        inv = None
        if s.invariant is not None:
            bound, text = _bound(s.invariant.bound, params)
            inv = InvariantView(
                clock=clocks.index(s.invariant.clock),
                bound=bound,
                text=f"{s.invariant.clock} {s.invariant.op} {text}",
            )
        states.append(StateView(s.name, f"{s.name}_{a.name}", inv, s.span.line if s.span else 0))

    invariant_of = {s.name: view.invariant for s, view in zip(a.states, states, strict=True)}
    init_clocks = frozenset(clocks.index(r.env) for r in a.init_resets)
    loop_events = Semantics(a).self_loop_reset_events
    next_rows, reset_rows, deadline_rows = [], [], []
    for s in a.states:
        nrow, rrow, drow = [], [], []
        for e in a.events:
            edges = a.edges_from(s.name, e.name)
            if edges:
                # The kernel stores one edge per (state, event); build.py warns on more.
                first = edges[0]
                nrow.append(f"{first.dst}_{a.name}")
                rrow.append(_mask(first.reset_envs, clocks))
                keeps = _keeps_deadline(
                    invariant_of[s.name], invariant_of[first.dst],
                    self_loop=first.dst == s.name,
                    loop_event=e.name in loop_events,
                    resets=bool(first.reset_envs),
                    init_clocks=init_clocks,
                )
                drow.append("0" if keeps else "1")
            else:
                nrow.append("-1")
                rrow.append("0")
                drow.append("0")
        next_rows.append(tuple(nrow))
        reset_rows.append(tuple(rrow))
        deadline_rows.append(tuple(drow))

    programs = tuple(
        ProgramView(
            tp,
            TRACEPOINT_ABI[tp].params if tp in TRACEPOINT_ABI else "",
            _field_locals(tp, binding.for_tracepoint(tp)),
            tuple(_call(a, eb) for eb in binding.for_tracepoint(tp)),
        )
        for tp in binding.tracepoints
    )
    exit_tp = binding.exit_tracepoint or "sched_process_exit"
    if exit_tp != "sched_process_exit":
        raise EbpfUnsupported(
            f"exit tracepoint {exit_tp}: the eBPF target needs sched_process_exit"
        )
    exit_abi = TRACEPOINT_ABI[exit_tp]
    return EbpfView(
        name=a.name,
        source=os.path.basename(a.file) if a.file else "(text)",
        description=binding.description,
        states=tuple(states),
        events=tuple((e.name, f"{e.name}_{a.name}") for e in a.events),
        clocks=clocks,
        params=params,
        next_state=tuple(next_rows),
        edge_resets=tuple(reset_rows),
        edge_new_deadline=tuple(deadline_rows),
        init_resets=_mask(tuple(r.env for r in a.init_resets), clocks),
        init_timer=bool(a.init_resets),
        programs=programs,
        exit_tracepoint=exit_tp,
        exit_params=exit_abi.params,
        exit_task=dict(exit_abi.tasks)["pid"],
        arm_tracepoint=ARM_TRACEPOINT,
        uses_current_pid=any(
            "hamodel_current_pid()" in expr for p in programs for _, expr in p.locals
        ),
    )


# A clock set is a __u32 bitmask (`1U << clock`), next_state holds a state index
# or -1 in an __s8, and a report packs its event in 16 bits with 0xffff for none:
# past these sizes the generated C would be undefined.
MAX_CLOCKS = 32
MAX_STATES = 128
MAX_EVENTS = 0xffff


def _check_sizes(a: Automaton) -> None:
    if len(a.clocks) > MAX_CLOCKS:
        extra = a.clocks[MAX_CLOCKS]
        raise EbpfUnsupported(
            f"clock {extra.name}: the model has {len(a.clocks)} clocks, "
            f"the eBPF target at most {MAX_CLOCKS}",
            extra.span,
        )
    if len(a.events) > MAX_EVENTS:
        extra_event = a.events[MAX_EVENTS]
        raise EbpfUnsupported(
            f"event {extra_event.name}: the model has {len(a.events)} events, "
            f"the eBPF target at most {MAX_EVENTS}",
            extra_event.span,
        )
    if len(a.states) > MAX_STATES:
        extra = a.states[MAX_STATES]
        raise EbpfUnsupported(
            f"state {extra.name}: the model has {len(a.states)} states, "
            f"the eBPF target at most {MAX_STATES}",
            extra.span,
        )


def _mask(envs: tuple[str, ...], clocks: tuple[str, ...]) -> str:
    """A C bitmask of clocks, parenthesised so it can stand anywhere."""
    bits = [f"(1U << {b})" for b in sorted({clocks.index(e) for e in envs})]
    if not bits:
        return "0"
    return bits[0] if len(bits) == 1 else "(" + " | ".join(bits) + ")"


# --- user-space metadata --------------------------------------------------------

RECORD_HEADER = (
    "kind",
    "detected_by",
    "tid",
    "tgid",
    "binding",
    "seq",
    "state",
    "event",
    "start_ns",
    "time_ns",
    "detect_ns",
)
KINDS = ("invariant", "invalid_event")
DETECTORS = ("timer", "event", "stop")
COUNTERS = (
    "started",
    "already_monitoring",
    "stopped",
    "violations",
    "report_dropped",
    "no_timer_slot",
    "exited_in_window",
    "timer_fired",
)


def meta(view: EbpfView) -> dict:
    """What the runner needs to decode records: names in index order, record layout."""
    return {
        "model": view.name,
        "source": view.source,
        "states": [s.name for s in view.states],
        "events": [name for name, _ in view.events],
        "clocks": list(view.clocks),
        "params": list(view.params),
        "record": {
            "u64": list(RECORD_HEADER)
            + ([f"param:{p}" for p in view.params] or ["pad:params"])
            + ([f"clock:{c}" for c in view.clocks] or ["pad:clocks"])
            + [f"residency:{s.name}" for s in view.states],
            "comm_bytes": 16,
        },
        "kinds": list(KINDS),
        "detectors": list(DETECTORS),
        "counters": list(COUNTERS),
        "maps": {
            "tasks": f"{view.name}_tasks",
            "timers": f"{view.name}_timers",
            "bindings": f"{view.name}_bindings",
            "reports": f"{view.name}_reports",
            "counters": f"{view.name}_counters",
        },
        "programs": {
            "start": f"{view.name}_start",
            "stop": f"{view.name}_stop",
            "tracepoints": [
                f"{view.name}_{tp}"
                for tp in (
                    *(p.tracepoint for p in view.programs),
                    *((view.arm_tracepoint,) if view.arm_tracepoint else ()),
                    view.exit_tracepoint,
                )
            ],
        },
        "max_bindings": MAX_BINDINGS,
    }


MAX_BINDINGS = 16


def render_files(view: EbpfView) -> dict[str, str]:
    c_text = render(
        "ebpf",
        "monitor.bpf.c.j2",
        v=view,
        kinds=KINDS,
        detectors=DETECTORS,
        counters=COUNTERS,
        max_bindings=MAX_BINDINGS,
    )
    meta_text = json.dumps(meta(view), indent=2, sort_keys=True) + "\n"
    return {f"{view.name}.bpf.c": c_text, f"{view.name}.meta.json": meta_text}


def _binding_of(automaton: Automaton, options: GenOptions | None) -> Binding:
    """The options' binding (the CLI resolved it, or --no-binding); without options,
    the one beside the model."""
    binding = options.binding if options else None
    if options is None and automaton.file:
        binding, diags = find_binding(automaton.file, automaton)
        errors = [d for d in diags if d.is_error]
        if errors:
            raise GenError(errors)
    if binding is None:
        raise EbpfUnsupported(
            f"the eBPF target needs a binding beside the model ({automaton.name}.binding.toml)"
        )
    return binding


def _with_options(binding: Binding, options: GenOptions | None) -> Binding:
    """-t and -D override the binding's monitor type and description."""
    if options is None:
        return _checked(binding)
    description = binding.description if options.description is None else options.description
    if options.parent:
        raise EbpfUnsupported("the eBPF target has no container monitors (-p)")
    return _checked(
        Binding(
            options.monitor_type or binding.monitor_type,
            description,
            binding.start,
            binding.stop,
            binding.events,
            binding.exit_tracepoint,
            binding.file,
        )
    )


def _checked(binding: Binding) -> Binding:
    """The description lands in a C comment: one printable line (as kernel-c asks), no `*/`."""
    if binding.description:
        try:
            cn.check_description(binding.description)
        except cn.BadName as exc:
            raise EbpfUnsupported(str(exc)) from None
        if "*/" in binding.description:
            raise EbpfUnsupported("the description may not contain `*/`")
    return binding


def generate(automaton: Automaton, options: GenOptions | None = None) -> dict[str, str]:
    """The target entry point: relative path -> file text."""
    try:
        binding = _with_options(_binding_of(automaton, options), options)
        return render_files(build_view(automaton, binding))
    except EbpfUnsupported as exc:
        raise GenError([dg.error(EBPF_UNSUPPORTED, str(exc), exc.span)]) from None
