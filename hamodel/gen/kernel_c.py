"""Automaton -> kernel C monitor in rvgen's layout, for include/rv/da_monitor.h / ha_monitor.h.

Input: an Automaton, GenOptions (-t/-n/-p/-D and the binding).  Output: the
files rvgen writes (`<m>.h`, `<m>.c`, `<m>_trace.h`, `Kconfig`), rendered from
templates/kernel-c/ with a view of ordered tuples and C already printed by
cexpr.py; a model the kernel API cannot express raises GenError with located
diagnostics instead of C that fails to build.

Kernel order (da_monitor.h's tables): initial state first then the others
sorted, events sorted, stored envs (clocks) before read-only ones.  Where a
choice is rvgen's, the comment names the function in rvgen/dot2k.py or
rvgen/automata.py it follows.
"""

from __future__ import annotations

from dataclasses import dataclass

from hamodel import diagnostics as dg
from hamodel.binding import Binding
from hamodel.build import MAX_HA_ENV_LEN
from hamodel.diagnostics import Diagnostic, Note
from hamodel.gen import (
    GenError,
    GenOptions,
    environment,
    kernel_handlers,
    kernel_kunit,
    kernel_objects,
    kernel_params,
    render,
)
from hamodel.gen import names as cn
from hamodel.gen.cexpr import CNames, any_of, expiry_c, guard_segments
from hamodel.gen.kernel_handlers import Handler, Probe, guard_line
from hamodel.gen.kernel_objects import Objects
from hamodel.gen.kernel_params import Getter
from hamodel.model import Automaton, ClockKind, Edge, Number, comparisons
from hamodel.semantics import Semantics, Timer, timer_kind
from hamodel.source import Span

TARGET = "kernel-c"
KERNEL_C_OPTION = dg.register("HA040", "kernel-c-option", "see `hamodel gen --help`")
MAX_STATES = 1_000_000  # rvgen's limit for `unsigned int` state tables
U64_LIMIT = 2**64
# rvgen/dot2k.py __format_guard_rules: one line while the comparisons total at
# most this many characters, else one comparison per line.
GUARD_ONE_LINE = 80

TIMER_MACRO = {Timer.NONE: None, Timer.WHEEL: "HA_TIMER_WHEEL", Timer.HRTIMER: "HA_TIMER_HRTIMER"}

RV_MON_TYPE = {
    "global": "RV_MON_GLOBAL",
    "per_cpu": "RV_MON_PER_CPU",
    "per_task": "RV_MON_PER_TASK",
    "per_obj": "RV_MON_PER_OBJ",
}

# The filters STYLE.md asks templates to use for names and strings.
environment(TARGET).filters.update(
    c_ident=cn.c_ident,
    c_string=cn.c_string,
    # kernel alignment of a continuation line: tabs, then spaces, to column n
    indent_to=lambda n: "\t" * (n // 8) + " " * (n % 8),
)


# --- the view -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GuardCase:
    """One (state, event) of ha_verify_guards: `res = <segments>;` then the resets."""

    state: str  # C enum names
    event: str
    segments: tuple[str, ...]  # empty when the edge only resets
    one_line: bool
    resets: tuple[str, ...]  # env enum names

    @property
    def braced(self) -> bool:
        """More than one statement: kernel style wants braces."""
        return bool(self.segments) + len(self.resets) > 1


@dataclass(frozen=True, slots=True)
class Invariant:
    state: str
    clock: str
    kind: str  # "ns" | "jiffy"
    expiry: str

    @property
    def check_lines(self) -> tuple[str, ...]:
        """The return of ha_verify_invariants (two tabs deep), wrapped at 100 columns."""
        return wrap_call(f"return ha_check_invariant_{self.kind}(",
                         ["ha_mon", self.clock, "time_ns", self.expiry], 2)

    @property
    def start_lines(self) -> tuple[str, ...]:
        """The timer start of ha_setup_invariants (two tabs deep), wrapped at 100 columns."""
        return wrap_call(f"ha_start_timer_{self.kind}(",
                         ["ha_mon", self.clock, self.expiry, "time_ns"], 2)


def wrap_call(head: str, args: list[str], tabs: int) -> tuple[str, ...]:
    """`head` + args + `);`, broken after a comma where a line would pass 100 columns,
    continuations aligned with the open parenthesis (kernel style); lines are
    relative to `tabs` leading tabs, which the template writes."""
    indent = "\t" * (len(head) // 8) + " " * (len(head) % 8)
    lines: list[str] = []
    line = head + args[0]
    for arg in args[1:]:
        candidate = f"{line}, {arg}"
        if 8 * tabs + len(candidate.expandtabs(8)) + len(");") <= 100:
            line = candidate
        else:
            lines.append(line + ",")
            line = indent + arg
    lines.append(line + ");")
    return tuple(lines)


@dataclass(frozen=True, slots=True)
class View:
    name: str
    name_upper: str
    suffix: str
    hybrid: bool
    monitor_type: str
    rv_mon_type: str
    id_monitor: bool
    parent: str | None
    description: str  # escaped for a C string
    kconfig_help: str
    monitor_class: str  # tracepoint class: da_monitor | da_monitor_id
    class_type: str  # Kconfig select
    # <m>.h
    states: tuple[str, ...]  # names as in the model, kernel order
    events: tuple[str, ...]
    envs: tuple[str, ...]
    env_max_stored: str
    ns_clock: bool
    min_type: str
    table: tuple[tuple[str, ...], ...]
    table_wide: bool
    cell_width: int
    initial: str
    finals: tuple[int, ...]
    # <m>.c
    # tracepoint headers (header, the config symbol it exists under); empty: XXX comment
    includes: tuple[tuple[str, str | None], ...]
    depends: tuple[str, ...]  # Kconfig symbols the tracepoints need
    timer: str | None  # HA_TIMER_HRTIMER | HA_TIMER_WHEEL
    timer_why: tuple[str, ...]  # comment lines: why this timer
    target_type: str | None  # per_obj monitor_target typedef (None: XXX skeleton)
    parameters: tuple[kernel_params.ParamDef, ...]  # parameters defined in <m>.c
    getters: tuple[Getter, ...]
    resetters: tuple[Getter, ...]
    invariants: tuple[Invariant, ...]
    guards: tuple[GuardCase, ...]
    setup_skip: tuple[str, ...]  # `if (...)` lines: when ha_setup_invariants keeps the timer
    initial_setup: tuple[str, ...]  # statements of ha_setup_initial_state
    init_clock: str | None  # a clock the __init arrow resets: unset means "just started"
    start_event_helper: bool  # <m>_handle_start_event(): start events also set up the start
    handlers: tuple[Handler, ...]
    probes: tuple[Probe, ...]
    enable: tuple[str, ...]  # more of enable_<m>() after the framework's init
    dl_entities: bool  # per_obj objects are deadline entities (gen/kernel_dl.py)
    prev_state_helper: tuple[str, ...]  # C lines, empty when no condition reads prev_state
    cleanup: Handler | None
    skeleton: bool
    objects: Objects | None  # start/stop markers: target pool, start/stop, residency, uprobes
    # bound handlers read the clock once per tracepoint hit; every event it sends shares it
    shared_stamp: bool
    kunit: kernel_kunit.Kunit  # the rv_<m>_ops table and the KUnit cases

    def probe_lines(self, verb: str) -> tuple[str, ...]:
        """rv_<verb>_trace_probe() calls (the template indents them one tab) for every
        handler, wrapped at 100 columns; probes that need config symbols sit between
        `#if` and `#endif` lines, one block for each run of probes with the same."""
        probes = list(self.probes)
        if self.cleanup:
            probes.append(Probe(self.cleanup.tracepoint, self.cleanup.name))
        if self.objects and self.objects.residency:
            probes.append(Probe(f"error_env_{self.name}", "error_env"))
        out: list[str] = []
        open_guards: tuple[str, ...] = ()
        for p in probes:
            if p.guards != open_guards:
                if open_guards:
                    out.append("#endif")
                if p.guards:
                    out.append(guard_line(p.guards))
                open_guards = p.guards
            call = wrap_call(f"rv_{verb}_trace_probe(",
                             [f'"{self.name}"', p.tracepoint, f"handle_{p.handler}"],
                             2 if p.condition else 1)
            if p.condition:
                out += [f"if ({p.condition})", *("\t" + line for line in call)]
            else:
                out += call
        if open_guards:
            out.append("#endif")
        return tuple(out)


# --- entry points ------------------------------------------------------------------


def generate(automaton: Automaton, options: GenOptions) -> dict[str, str]:
    view = build_view(automaton, options)
    m = view.name
    files = {
        f"{m}.h": render(TARGET, "model.h.j2", v=view),
        f"{m}.c": render(TARGET, "monitor.c.j2", v=view),
        f"{m}_trace.h": render(TARGET, "trace.h.j2", v=view),
        "Kconfig": render(TARGET, "Kconfig.j2", v=view),
    }
    files[f"{m}_kunit.h"] = render(TARGET, "kunit.h.j2", v=view, k=view.kunit)
    files[f"{m}_kunit.c"] = render(TARGET, "kunit.c.j2", v=view, k=view.kunit)
    return files


def notes(automaton: Automaton, options: GenOptions) -> list[str]:
    """What the user still has to write by hand (the CLI prints these on stdout)."""
    view = build_view(automaton, options)
    out: list[str] = []
    if view.skeleton:
        out.append(
            f"kernel-c: {view.name} has no binding: tracepoint handlers are /* XXX */"
            " skeletons to fill in (as rvgen writes them)"
        )
    set_by_start = {p.model for p in view.objects.params} if view.objects else set()
    for p in view.parameters:
        if p.name in set_by_start or p.value is not None:
            continue
        out.append(f"kernel-c: define {p.name}{'(ha_mon)' if p.takes_monitor else ''}"
                   " where the XXX comment asks")
    unread = [g for g in view.getters if "XXX" in g.body]
    for g in unread:
        out.append(f"kernel-c: write how to read {g.env.removesuffix(view.suffix)} in ha_get_env()")
    binding = options.binding
    markers = (("starts", binding.start), ("stops", binding.stop)) if binding else ()
    if view.objects:
        markers = ()
    for what, marker in markers:
        if marker is not None:
            out.append(
                f"kernel-c: the binding {what} monitoring at the user-space marker"
                f" {marker.name!r}, which is no tracepoint: write that part by hand"
            )
    return out


def constraint_source(automaton: Automaton, options: GenOptions) -> str:
    """Only the model-derived part of `<m>.c` (env access and constraint functions).

    tests/harness compiles this against its stand-ins; it is a slice of the
    same template that renders `<m>.c`.
    """
    view = build_view(automaton, options)
    return render(TARGET, "constraints.c.j2", v=view)


# --- building the view -----------------------------------------------------------


def build_view(a: Automaton, options: GenOptions) -> View:
    problems: list[Diagnostic] = []
    binding = options.binding
    monitor_type = options.monitor_type or (binding.monitor_type if binding else None)
    if monitor_type is None:
        raise GenError([_usage("kernel-c needs a monitor type: -t " + "|".join(cn.MONITOR_TYPES))])
    name = options.name or a.name
    parent = options.parent or (binding.parent if binding else None)
    try:
        cn.check_monitor_type(monitor_type)
        cn.check_monitor_name("monitor name (-n)", name)
        if parent is not None:
            cn.check_monitor_name("parent monitor (-p)", parent)
            if parent == name:
                raise cn.BadName(f"parent monitor (-p) {name!r} is the monitor itself"
                                 " (its Kconfig entry would depend on itself)")
        description = options.description or (binding.description if binding else "") or ""
        if description:
            cn.check_description(description)
    except cn.BadName as exc:
        raise GenError([_usage(str(exc))]) from exc
    description = description or "auto-generated"

    suffix = f"_{name}"
    clocks = a.clocks
    if len(clocks) > MAX_HA_ENV_LEN:
        first, second = clocks[0], clocks[1]
        problems.append(
            dg.error(
                dg.KERNEL_LIMIT,
                f"{len(clocks)} clocks are reset ({', '.join(c.name for c in clocks)}), but"
                f" include/rv/ha_monitor.h stores at most MAX_HA_ENV_LEN = {MAX_HA_ENV_LEN}"
                " per monitor: kernel C would fail its _Static_assert",
                second.span,
                Note(f"first clock {first.name!r} here", first.span),
            )
        )
    if clocks and monitor_type in ("global", "per_cpu"):
        problems.append(
            dg.error(
                dg.KERNEL_LIMIT,
                f"a {monitor_type} monitor with clocks: include/rv/da_monitor.h stores global"
                " and per-CPU monitors as struct da_monitor, so the clock storage and timer"
                " of struct ha_monitor would lie in memory past it (use per_task or per_obj)",
                clocks[0].span,
            )
        )
    if len(a.states) > MAX_STATES:
        problems.append(
            dg.error(dg.KERNEL_LIMIT, f"{len(a.states)} states: rvgen's tables stop at"
                     f" {MAX_STATES}", a.states[0].span)
        )
    problems += _too_big_numbers(a)
    table, merged, table_problems = _table(a)
    problems += table_problems
    if problems:
        raise GenError(problems)

    names = CNames(suffix, frozenset(c.name for c in clocks), tuple(c.name for c in clocks))
    stored = tuple(e.name for e in a.envs if e.stored)
    unstored = tuple(e.name for e in a.envs if not e.stored)
    id_monitor = monitor_type in ("per_task", "per_obj")
    hybrid = a.is_hybrid
    jiffy = {c.name for c in clocks if c.clock_kind is ClockKind.JIFFIES}
    invariants = tuple(
        Invariant(
            s.name + suffix,
            names.env(s.invariant.clock),
            "jiffy" if s.invariant.clock in jiffy else "ns",
            expiry_c(s.invariant),
        )
        for s in a.states
        if s.invariant is not None
    )
    timer, timer_why = _timer(a, binding)

    state_index = {s.name: i for i, s in enumerate(a.states)}
    event_index = {e.name: i for i, e in enumerate(a.events)}
    cases = (
        _guard_case(src, event, edges, names)
        for (src, event), edges in sorted(
            merged.items(), key=lambda kv: (state_index[kv[0][0]], event_index[kv[0][1]])
        )
    )
    # an unguarded edge beside a guarded one leaves nothing to check
    guards = tuple(case for case in cases if case.segments or case.resets)
    start_events = handler_kinds(a, table)

    try:
        objects = kernel_objects.objects(a, binding, monitor_type, name, timer)
        bound = kernel_handlers.handlers(
            a, binding, monitor_type, suffix, start_events,
            f"{name}_target" if objects else None,
            stamp=f"{name}_event_ns" if binding and any(
                c.clock_kind is not ClockKind.JIFFIES for c in clocks) else None,
            start_helper=name if a.init_resets else None,
        )
        definitions = kernel_params.definitions(a, binding, monitor_type, objects)
        getters = tuple(kernel_params.getter(e, e.name in jiffy, suffix, binding)
                        for e in a.envs)
    except (kernel_handlers.BindingProblem, kernel_objects.ObjectsProblem,
            kernel_params.ParamsProblem) as exc:
        where = Span.point(binding.file, 1, 1) if binding else None
        raise GenError([dg.error(dg.KERNEL_LIMIT, str(exc), where)]) from exc
    width = max(max(len(s.name) for s in a.states), len("INVALID_STATE")) + len(suffix)
    start_event_helper = bool(a.init_resets) and (
        any(eb.handler == "start_event" for eb in binding.events) if binding
        else "start_event" in start_events.values())
    shared_stamp = binding is not None and any(c.name not in jiffy for c in clocks)
    facts = kernel_kunit.Facts(
        name=name, suffix=suffix, monitor_type=monitor_type,
        kinds=_sender_kinds(a, binding, start_events), start_helper=start_event_helper,
        objects=objects, dl_entities=bound.dl_entities,
        shared_stamp=f"{name}_event_ns" if shared_stamp else None,
        module_params=tuple(p.name for p in definitions if p.kind == "parameter"),
        binding=binding, own_setup=objects is not None)
    return View(
        name=name,
        name_upper=name.upper(),
        suffix=suffix,
        hybrid=hybrid,
        monitor_type=monitor_type,
        rv_mon_type=RV_MON_TYPE[monitor_type],
        id_monitor=id_monitor,
        parent=parent,
        description=cn.c_string(description),
        kconfig_help=description,
        monitor_class="da_monitor_id" if id_monitor else "da_monitor",
        class_type=("HA" if hybrid else "DA")
        + ("_MON_EVENTS_ID" if id_monitor else "_MON_EVENTS_IMPLICIT"),
        states=tuple(s.name for s in a.states),
        events=tuple(e.name for e in a.events),
        envs=stored + unstored,
        env_max_stored=(unstored[0] if unstored else "env_max") + suffix,
        ns_clock=any(c.name not in jiffy for c in clocks),
        min_type=_min_type(len(a.states)),
        table=tuple(
            tuple("INVALID_STATE" if dst is None else dst + suffix for dst in row) for row in table
        ),
        # rvgen/dot2c.py get_aut_init_function: one row per line while it fits 100 columns.
        table_wide=2 * 8 + 2 + 1 + (width + 2) * len(a.events) > 100,
        cell_width=width,
        initial=a.initial.name + suffix,
        finals=_finals(a),
        includes=bound.includes,
        depends=bound.depends,
        timer=timer,
        timer_why=timer_why,
        target_type=bound.target_type,
        parameters=definitions,
        getters=getters,
        resetters=tuple(_resetter(n, n in jiffy, suffix) for n in stored),
        invariants=invariants,
        guards=guards,
        setup_skip=_setup_skip(a, suffix),
        initial_setup=_initial_setup(a, names, jiffy) if a.init_resets else (),
        init_clock=names.env(a.init_resets[0].env) if a.init_resets else None,
        start_event_helper=start_event_helper,
        handlers=bound.handlers,
        probes=bound.probes,
        enable=bound.enable,
        dl_entities=bound.dl_entities,
        prev_state_helper=(kernel_handlers.PREV_STATE_HELPER
                           if kernel_handlers.uses_prev_state(binding) else ()),
        cleanup=bound.cleanup,
        skeleton=binding is None,
        objects=objects,
        shared_stamp=shared_stamp,
        kunit=kernel_kunit.kunit(a, facts),
    )


# the kind a KUnit sender uses when a binding sends one event several ways: the one
# that starts monitoring (it processes the event like the others once monitoring)
_KIND_ORDER = ("start_run_event", "start_event", "event")


def _sender_kinds(a: Automaton, binding: Binding | None,
                  start_events: dict[str, str]) -> dict[str, str]:
    """The da_handle_*() kind of each event's KUnit sender: the binding's, else the
    one the skeleton handler calls."""
    if binding is None:
        return dict(start_events)
    out = {}
    for ev in a.events:
        kinds = {eb.handler for eb in binding.events if eb.event == ev.name}
        out[ev.name] = next((k for k in _KIND_ORDER if k in kinds), "event")
    return out


def _timer(a: Automaton, binding: Binding | None) -> tuple[str | None, tuple[str, ...]]:
    """The HA timer and the comment that says why (rvgen leaves it to an XXX hint).

    The default is hamodel.semantics.timer_kind(): the timer wheel when every
    invariant counts jiffies (jiffy resolution is all such a bound has; the wheel
    runs a timer one jiffy or more after its expiry, and the event-time check
    catches what comes before), else an hrtimer (ns resolution).  A binding may
    choose (`[monitor] timer`), e.g. the wheel for many monitors with coarse bounds.
    """
    kind = timer_kind(a)
    if kind is Timer.NONE:
        return None, ()
    if binding is not None and binding.timer is not None:
        what = "the timer wheel" if binding.timer == "wheel" else "an hrtimer"
        chosen = Timer.WHEEL if binding.timer == "wheel" else Timer.HRTIMER
        return TIMER_MACRO[chosen], (f"Invariant timer: {what}, as the binding asks.",)
    if kind is Timer.WHEEL:
        return TIMER_MACRO[kind], ("Invariant timer: the timer wheel, since every invariant counts",
                                   "jiffies: it runs a jiffy or more after a bound ends, and the",
                                   "check at each event catches what comes earlier.")
    return TIMER_MACRO[kind], ("Invariant timer: an hrtimer, since an invariant counts ns, which",
                               "the timer wheel would round up to the next jiffy.")


def _usage(message: str) -> Diagnostic:
    return dg.error(KERNEL_C_OPTION, message, None)


def _min_type(n_states: int) -> str:
    """rvgen/dot2c.py get_minimun_type: the smallest type that holds a state."""
    if n_states > 65535:
        return "unsigned int"
    if n_states > 255:
        return "unsigned short"
    return "unsigned char"


def _finals(a: Automaton) -> tuple[int, ...]:
    finals = {s.name for s in a.final_states}
    return tuple(1 if s.name in finals else 0 for s in a.states)


def _too_big_numbers(a: Automaton) -> list[Diagnostic]:
    out = []
    values = [s.invariant.bound for s in a.states if s.invariant]
    values += [c.value for e in a.edges for c in comparisons(e.guard)]
    for v in values:
        if isinstance(v, Number) and v.value >= U64_LIMIT - 1:
            out.append(dg.error(dg.KERNEL_LIMIT, f"{v.text or v.value} does not fit the"
                                " kernel's u64 clocks", v.span))
    return out


def _table(
    a: Automaton,
) -> tuple[list[list[str | None]], dict[tuple[str, str], tuple[Edge, ...]], list[Diagnostic]]:
    """The transition function; edges sharing (state, event) must agree on where they go.

    da_monitor.h keeps one next state per (state, event), and ha_verify_guards one
    set of resets: two edges may share them only if they differ in the guard alone,
    which then becomes their disjunction.
    """
    problems: list[Diagnostic] = []
    groups: dict[tuple[str, str], tuple[Edge, ...]] = {}
    for e in a.edges:
        groups[(e.src, e.event)] = groups.get((e.src, e.event), ()) + (e,)
    table: list[list[str | None]] = []
    for s in a.states:
        row: list[str | None] = []
        for ev in a.events:
            edges = groups.get((s.name, ev.name), ())
            row.append(edges[0].dst if edges else None)
            for other in edges[1:]:
                first = edges[0]
                if other.dst != first.dst:
                    problems.append(dg.error(
                        dg.KERNEL_LIMIT,
                        f"{s.name} --{ev.name}--> {first.dst} and --> {other.dst}: the kernel's"
                        " table holds one next state per state and event",
                        other.span, Note("first edge here", first.span)))
                elif other.reset_envs != first.reset_envs:
                    problems.append(dg.error(
                        dg.KERNEL_LIMIT,
                        f"two {s.name} --{ev.name}--> {first.dst} edges reset different clocks:"
                        " ha_verify_guards has one set of resets per state and event",
                        other.span, Note("first edge here", first.span)))
        table.append(row)
    return table, groups, problems


def _guard_case(
    src: str, event: str, edges: tuple[Edge, ...], names: CNames
) -> GuardCase:
    guards = tuple(e.guard for e in edges)
    segments: tuple[str, ...] = ()
    if all(g is not None for g in guards):
        segments = guard_segments(any_of(guards), names)  # type: ignore[arg-type]
    return GuardCase(
        state=src + names.suffix,
        event=event + names.suffix,
        segments=segments,
        one_line=sum(len(s) for s in segments) <= GUARD_ONE_LINE,
        resets=tuple(names.env(r) for r in edges[0].reset_envs),
    )


def _setup_skip(a: Automaton, suffix: str) -> tuple[str, ...]:
    """When ha_setup_invariants leaves the timer alone: a self-loop, unless its event
    resets a clock on some self-loop of the model (rvgen's self_loop_reset_events,
    the same set hamodel.semantics uses); such an event re-arms the timer on every
    self-loop, also where it resets nothing."""
    terms = ["next_state == curr_state"]
    terms += [f"event != {e}{suffix}" for e in sorted(Semantics(a).self_loop_reset_events)]
    return wrap_condition(terms, "if (", "\t    ", ")")


def wrap_condition(terms: list[str], head: str, indent: str, tail: str) -> tuple[str, ...]:
    """`head a && b && c tail`, broken after `&&` where a line would pass 100 columns
    (the caller's line starts with one tab)."""
    lines: list[str] = []
    line = head + terms[0]
    for term in terms[1:]:
        candidate = f"{line} && {term}"
        if 8 + len(candidate.expandtabs(8)) + len(tail) <= 100:
            line = candidate
        else:
            lines.append(line + " &&")
            line = indent + term
    lines.append(line + tail)
    return tuple(lines)


def _initial_setup(a: Automaton, names: CNames, jiffy: set[str]) -> tuple[str, ...]:
    """What every start path of a model with `reset()` on its `__init` arrow does
    after da_monitor_start() (which marks every clock unset): those resets, then
    the initial state's timer.  A model without such resets starts with nothing
    armed, as the framework does."""
    lines = [f"ha_reset_env(ha_mon, {names.env(r.env)}, time_ns);" for r in a.init_resets]
    inv = a.initial.invariant
    if inv is not None:
        kind = "jiffy" if inv.clock in jiffy else "ns"
        lines.append(
            f"ha_start_timer_{kind}(ha_mon, {names.env(inv.clock)}, {expiry_c(inv)}, time_ns);"
        )
    return tuple(lines)


def _resetter(env: str, jiffy: bool, suffix: str) -> Getter:
    body = "ha_reset_clk_jiffy(ha_mon, env);" if jiffy else "ha_reset_clk_ns(ha_mon, env, time_ns);"
    return Getter(env + suffix, body)


def handler_kinds(a: Automaton, table: list[list[str | None]] | None = None) -> dict[str, str]:
    """rvgen/automata.py __store_init_events: which da_handle_* each event calls.

    A start event always leads to the initial state; a start-run event is only
    defined in the initial state; start-run is used only if no start event exists.
    """
    if table is None:
        table = _table(a)[0]
    initial = a.initial.name
    start: dict[str, bool] = {}
    start_run: dict[str, bool] = {}
    for j, ev in enumerate(a.events):
        column = [row[j] for row in table]
        used = sum(1 for d in column if d is not None)
        to_init = sum(1 for d in column if d == initial)
        start[ev.name] = bool(to_init) and used == to_init
        start_run[ev.name] = column[0] is not None and used == 1
    any_start = any(start.values())
    out = {}
    for ev in a.events:
        if start[ev.name]:
            out[ev.name] = "start_event"
        elif start_run[ev.name] and not any_start:
            out[ev.name] = "start_run_event"
        else:
            out[ev.name] = "event"
    return out
