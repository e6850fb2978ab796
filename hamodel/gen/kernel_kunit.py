"""KUnit cases of a generated kernel monitor, in the kernel's in-tree RV KUnit layout.

Input: the Automaton and what the kernel-C view decided for it (`Facts`: the
monitor type, the da_handle_*() kind of each event, the parameters and their
definitions, the env readers, the objects a start marker makes).  Output: a
`Kunit` view for templates/kernel-c/kunit*.j2:

- the `rv_<m>_ops` table `<m>.c` fills under CONFIG_RV_MONITORS_KUNIT_TEST
  (declared in `<m>_kunit.h`): `mon` (RV_MON_OPS_INIT(), or the monitor's own
  set-up), one sender per model event (a small function in `<m>.c` that calls
  the da_handle_*() kind the handlers use, so a case needs no tracepoint and
  no inverse of the binding), `reset`, `state`, pointers to the module
  parameters that bound clocks, and for a monitor started by markers its
  start, stop, residency and binding-file parser;
- the cases of `<m>_kunit.c`, which kernel/trace/rv/rv_monitors_test.c
  includes: every edge after a path from the initial state (no reaction),
  every refused event (one reaction), guards that fail where a case can make
  them fail, and an invariant overrun (one reaction, from the timer or from
  the next event's check).

Paths are found on an abstract monitor: a configuration is "not monitoring"
or a state with its clock set or unset, and each call moves it as
include/rv/da_monitor.h and the generated constraint functions do
(docs/semantics.md).  Bounds that must not expire are set at run time below
the uptime (the framework's ns check wraps while the uptime is below a
bound); bounds that must expire are tiny, and the case waits until the clock
has passed them.
"""

from __future__ import annotations

import itertools
from collections import deque
from dataclasses import dataclass

from hamodel.binding import Binding
from hamodel.binding_kernel import EnvReader
from hamodel.gen.kernel_objects import Objects, ParseCase
from hamodel.model import (
    And,
    Automaton,
    ClockKind,
    Cmp,
    Edge,
    Guard,
    Invariant,
    Not,
    Number,
    Or,
    Symbol,
    Value,
    comparisons,
)

# The first pid of a case's mock tasks: distinct pids, none of them 0 (the idle
# task's, and the deadline container's id of CPU 0's server).
FIRST_PID = 1001
# A bound that must not expire: half the uptime (below it, so the framework's
# ns check cannot wrap), or this many jiffies (a jiffy check never wraps).
LONG_JIFFIES = "10 * HZ"
# A bound that must expire: the smallest a parameter takes.
TINY_NS = 1000
TINY_JIFFIES = 1
# Literal bounds a case may wait out (a longer one gets no overrun case).
MAX_WAIT_NS = 20_000_000
MAX_WAIT_JIFFIES = 5
# The state name `state` returns for an object not being monitored (state names are
# C identifiers, so no state has it).
NOT_MONITORING = "not monitoring"


# --- the ops table -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sender:
    """An ops member that sends one model event the way the handlers send it."""

    event: str  # model event
    member: str  # send_<event>
    function: str  # the static function in <m>.c
    call: str  # its da_handle_*() call, a C statement
    kind: str  # event | start_event | start_run_event


@dataclass(frozen=True, slots=True)
class Knob:
    """A module parameter the cases set through a pointer in the ops table: `long`
    and `tiny` are the C of the values they give it."""

    name: str
    jiffies: bool
    long: str
    tiny: str


@dataclass(frozen=True, slots=True)
class Facts:
    """What the kernel-C view decided, as far as the cases need it."""

    name: str
    suffix: str
    monitor_type: str
    kinds: dict[str, str]  # event -> da_handle_* kind of its sender
    start_helper: bool  # start events go through <m>_handle_start_event()
    objects: Objects | None
    dl_entities: bool
    shared_stamp: str | None  # the per-CPU stamp a handler writes first
    module_params: tuple[str, ...]  # `static u64 X; module_param(X, ...)` in <m>.c
    binding: Binding | None
    own_setup: bool  # the monitor needs its own rv_kunit_mon (enable without probes)


# --- the cases ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Step:
    """One statement of a case.

    kind: send (`member` to the object, inside `wraps` guards, after `sets`),
    start (the marker's start with `value` long|tiny), reset, knobs (`value`
    long|tiny: every knob of `knobs`), wait (`bound`: C, `jiffies`), mark (read
    the start instant for the residency check).
    """

    kind: str
    member: str = ""
    wraps: tuple[str, ...] = ()
    sets: tuple[tuple[str, str], ...] = ()  # (lvalue relative to the task, value)
    value: str = ""
    knobs: tuple[Knob, ...] = ()
    bound: str = ""
    jiffies: bool = False


@dataclass(frozen=True, slots=True)
class Scenario:
    """Steps, then `here` (which must react exactly once), then the checks."""

    comment: str
    steps: tuple[Step, ...]
    here: tuple[Step, ...] = ()
    state: str | None = None  # the state the monitor must be in afterwards
    residency: bool = False  # the time in the states adds up to the time since the start


@dataclass(frozen=True, slots=True)
class Case:
    """kind: scenarios (the steps of `scenarios`), start_stop, parse (a monitor started
    by markers), skip (nothing to run: `skip` says why)."""

    name: str
    kind: str
    comment: tuple[str, ...]
    scenarios: tuple[Scenario, ...] = ()
    skip: str = ""

    @property
    def long_start(self) -> bool:
        """Whether a step starts the monitor with long parameters (a variable holds them)."""
        return any(st.kind == "start" and st.value == "long"
                   for sc in self.scenarios for st in sc.steps + sc.here)

    @property
    def residency(self) -> bool:
        return any(sc.residency for sc in self.scenarios)


@dataclass(frozen=True, slots=True)
class StartValue:
    """A parameter of the marker's start: the C of a long and a tiny value (the
    long one a variable of the case), and its limits."""

    c_name: str
    long: str
    tiny: str
    least: int | None
    greatest: int | None


@dataclass(frozen=True, slots=True)
class Kunit:
    name: str
    upper: str
    struct: str  # rv_<m>_ops
    per_object: bool  # senders take a task
    implicit_cpu: bool  # per-CPU: cases stay on one CPU
    senders: tuple[Sender, ...]
    knobs: tuple[Knob, ...]
    reset: tuple[str, ...]  # body of <m>_kunit_reset()
    state: tuple[str, ...]  # body of <m>_kunit_state()
    own_setup: bool
    objects: Objects | None
    start_values: tuple[StartValue, ...]
    initial: str
    refused_at_start: str | None  # an event the initial state refuses (start_stop)
    literal_ns: int | None  # the largest literal ns bound (uptime check)
    cases: tuple[Case, ...]
    parse_cases: tuple[ParseCase, ...]

    @property
    def case_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.cases)

    @property
    def waits(self) -> tuple[bool, ...]:
        """Which wait helpers the cases use: (ns, jiffies)."""
        steps = [s for c in self.cases for sc in c.scenarios for s in sc.here if s.kind == "wait"]
        return (any(not s.jiffies for s in steps), any(s.jiffies for s in steps))


def test_lines(k: Kunit) -> tuple[str, tuple[str, ...]]:
    """What a maintainer adds to kernel/trace/rv/rv_monitors_test.c: the #include of
    the monitor's cases (beside the others) and its KUNIT_CASE() entries."""
    include = f'#include "monitors/{k.name}/{k.name}_kunit.c"'
    return include, tuple(f"KUNIT_CASE({c})," for c in k.case_names)


def patch_monitors_test(text: str, k: Kunit) -> str:
    """rv_monitors_test.c with the monitor's lines added (idempotent): the include after
    the last monitor include, the cases before the list's terminating `{}`.  A line
    already there (the kernel's own sco, opid, ... of the same name) stays once."""
    include, cases = test_lines(k)
    lines = text.split("\n")
    if include not in lines:
        last = max(i for i, line in enumerate(lines) if line.startswith('#include "monitors/'))
        lines.insert(last + 1, include)
    end = lines.index("\t{}", lines.index("static struct kunit_case rv_mon_test_cases[] = {"))
    for case in cases:
        if f"\t{case}" not in lines:
            lines.insert(end, f"\t{case}")
            end += 1
    return "\n".join(lines)


# --- building the view ----------------------------------------------------------------


def kunit(a: Automaton, f: Facts) -> Kunit:
    m = f.name
    per_object = f.monitor_type in ("per_task", "per_obj")
    senders = tuple(_sender(a, f, e.name) for e in a.events)
    knobs = _knobs(a, f)
    plan = _Planner(a, f, knobs)
    cases = plan.cases()
    start_values = []
    for p in f.objects.params if f.objects else ():
        lo = p.least if p.least is not None else 1
        hi = p.greatest if p.greatest is not None else 2**64 - 1
        long = f"clamp_t(u64, ktime_get_ns() / 2, {lo}ull, {hi}ull)"
        start_values.append(StartValue(p.c_name, long, f"{max(lo, TINY_NS)}ull", p.least,
                                       p.greatest))
    allowed = {e.event for e in a.edges if e.src == a.initial.name}
    refused = [e.name for e in a.events if e.name not in allowed]
    literal = [v.value for v in _bounds(a) if isinstance(v, Number) and not _jiffy_value(a, v)]
    return Kunit(
        name=m, upper=m.upper(), struct=f"rv_{m}_ops", per_object=per_object,
        implicit_cpu=f.monitor_type == "per_cpu", senders=senders, knobs=knobs,
        reset=_reset_body(f), state=_state_body(f), own_setup=f.own_setup,
        objects=f.objects, start_values=tuple(start_values), initial=a.initial.name,
        refused_at_start=refused[0] if refused else None,
        literal_ns=max(literal) if literal else None, cases=cases,
        parse_cases=f.objects.parse_cases if f.objects and f.objects.uprobe else ())


def _target_args(f: Facts, task: str = "task") -> str:
    """The da_handle_*() object arguments for the monitor of a mock task."""
    if f.monitor_type == "per_task":
        return f"{task}, "
    if f.monitor_type == "per_obj":
        if f.dl_entities:
            return f"EXPAND_ID_TASK({task}), "
        if f.objects:
            return f"{task}->pid, NULL, "
        return f"{task}->pid, {task}, "
    return ""


def _sender(a: Automaton, f: Facts, event: str) -> Sender:
    kind = f.kinds[event]
    function = f"da_handle_{kind}"
    if kind == "start_event" and f.start_helper:
        function = f"{f.name}_handle_start_event"
    call = f"{function}({_target_args(f)}{event}{f.suffix});"
    return Sender(event, f"send_{event}", f"{f.name}_kunit_send_{event}", call, kind)


def _reset_body(f: Facts) -> tuple[str, ...]:
    if f.monitor_type == "per_task":
        return ("da_reset(task);",)
    if f.monitor_type == "per_obj":
        if f.dl_entities:
            # the deadline container makes storage at fork and policy changes: a
            # mock task gets it here
            return ("da_create_or_get(EXPAND_ID_TASK(task));", "da_reset(EXPAND_ID_TASK(task));")
        return (f"da_reset({_target_args(f).removesuffix(', ')});",)
    if f.monitor_type == "per_cpu":
        return ("guard(migrate)();", "da_monitor_reset(da_get_monitor());")
    return ("da_monitor_reset(da_get_monitor());",)


def _state_body(f: Facts) -> tuple[str, ...]:
    out = ["struct da_monitor *da_mon;", ""]
    if f.monitor_type == "per_obj":
        out += ["guard(rcu)();", f"da_mon = da_get_monitor({_target_args(f).removesuffix(', ')});",
                "if (!da_mon || !da_monitoring(da_mon))"]
    else:
        if f.monitor_type == "per_cpu":
            out.insert(0, "guard(migrate)();")
        out += [f"da_mon = da_get_monitor({'task' if f.monitor_type == 'per_task' else ''});",
                "if (!da_monitoring(da_mon))"]
    return (*out, f'\treturn "{NOT_MONITORING}";',
            "return model_get_state_name(READ_ONCE(da_mon->curr_state));")


def _bounds(a: Automaton) -> list[Value]:
    out = [s.invariant.bound for s in a.states if s.invariant]
    out += [c.value for e in a.edges for c in comparisons(e.guard) if a.env(c.env).stored]
    return out


def _jiffy_value(a: Automaton, v: Value) -> bool:
    """Whether a bound counts jiffies (compared with a jiffy clock)."""
    for s in a.states:
        if s.invariant and s.invariant.bound == v:
            return a.env(s.invariant.clock).clock_kind is ClockKind.JIFFIES
    for e in a.edges:
        for c in comparisons(e.guard):
            if c.value == v:
                return a.env(c.env).clock_kind is ClockKind.JIFFIES
    return False


def _knobs(a: Automaton, f: Facts) -> tuple[Knob, ...]:
    """Module parameters that bound a clock, directly or as a term of a definition."""
    out: dict[str, Knob] = {}
    for v in _bounds(a):
        if not isinstance(v, Symbol):
            continue
        jiffies = _jiffy_value(a, v)
        scale = v.unit.scale if v.unit else 1
        for name in _knob_terms(v, f):
            if jiffies:
                knob = Knob(name, True, LONG_JIFFIES, str(TINY_JIFFIES))
            else:
                divided = f" / {scale}" if scale > 1 else ""
                knob = Knob(name, False, f"ktime_get_ns() / 2{divided}",
                            str(max(TINY_NS // scale, 1)))
            out.setdefault(name, knob)
    return tuple(out[n] for n in f.module_params if n in out)


def _knob_terms(v: Symbol, f: Facts) -> tuple[str, ...]:
    if v.name in f.module_params:
        return (v.name,)
    if f.binding is None:
        return ()
    for d in f.binding.parameters:
        if d.name == v.name:
            return tuple(t for t in d.terms if isinstance(t, str) and t in f.module_params)
    return ()


# --- the abstract monitor -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Config:
    state: str | None  # None: not monitoring
    clock_set: bool


@dataclass(frozen=True, slots=True)
class _Call:
    """One call of a path: a sender (with env settings) or the marker's start."""

    event: str | None  # None: the start
    assignment: tuple[tuple[str, int], ...] = ()


_OFF = _Config(None, False)


class _Planner:
    def __init__(self, a: Automaton, f: Facts, knobs: tuple[Knob, ...]) -> None:
        self.a, self.f, self.knobs = a, f, knobs
        self.clock = a.clocks[0].name if a.clocks else None
        self.jiffy_clock = bool(a.clocks) and a.clocks[0].clock_kind is ClockKind.JIFFIES
        self.table: dict[tuple[str, str], tuple[Edge, ...]] = {}
        for e in a.edges:
            self.table[(e.src, e.event)] = self.table.get((e.src, e.event), ()) + (e,)
        self.drivers = _drivers(a, f)
        self.paths = self._search()

    # --- moves ---

    def start(self, c: _Config) -> _Config | None:
        """The marker's start (monitors with objects): only when not monitoring."""
        if not self.f.objects or c.state is not None:
            return None
        return _Config(self.a.initial.name, bool(self.a.init_resets))

    def started(self, c: _Config, kind: str) -> tuple[_Config, bool] | None:
        """Before processing: the configuration, and whether the event is processed."""
        if c.state is not None:
            return c, True
        if kind == "event":
            return None  # ignored: nothing happens
        init = _Config(self.a.initial.name, False)
        if kind == "start_event":
            return _Config(init.state, bool(self.a.init_resets) and self.f.start_helper), False
        return init, True

    def process(self, c: _Config, event: str, assignment: dict[str, int]) -> _Config | None:
        """The monitor processes `event` and accepts it (None: it reacts, or it may)."""
        edges = self.table.get((c.state, event))
        if not edges:
            return None
        clock_set = c.clock_set
        if self.a.init_resets and not clock_set:
            clock_set = True  # ha_verify_constraint() sets up the initial arrow first
        inv = self.a.state(c.state).invariant
        if inv is not None and self.jiffy_clock and not clock_set:
            return None  # an unset jiffy clock fails the check
        guard = _any(tuple(e.guard for e in edges))
        if guard is not None and self._guard(guard, clock_set, assignment) is not True:
            return None
        if self.clock in edges[0].reset_envs:
            clock_set = True
        return _Config(edges[0].dst, clock_set)

    def call(self, c: _Config, call: _Call) -> _Config | None:
        """Where an accepted call leads (None: not accepted, or ignored)."""
        if call.event is None:
            return self.start(c)
        begun = self.started(c, self.f.kinds[call.event])
        if begun is None:
            return None
        c2, processed = begun
        if not processed:
            return c2
        return self.process(c2, call.event, dict(call.assignment))

    def _guard(self, g: Guard, clock_set: bool, env: dict[str, int], late: bool = False
               ) -> bool | None:
        read = {c.env for c in comparisons(g)}
        if self.clock in read and not clock_set:
            return True  # an unset clock the guard reads makes it hold
        return _evaluate(g, self, env, late)

    def truth_choices(self, g: Guard | None, clock_set: bool, want: bool
                      ) -> tuple[tuple[str, int], ...] | None:
        """The read-only envs a case drives (each to its `inside` value) so that the
        guard is `want` whatever the others are; fewest first.  None: impossible."""
        if g is None:
            return () if want else None
        envs = list(dict.fromkeys(c.env for c in comparisons(g) if c.env in self.drivers))
        for n in range(len(envs) + 1):
            for driven in itertools.combinations(envs, n):
                values = {e: self.drivers[e].inside for e in driven}
                for e in envs:
                    if e not in values and self.drivers[e].bare is not None:
                        values[e] = self.drivers[e].bare
                if self._guard(g, clock_set, values) is want:
                    return tuple((e, values[e]) for e in driven)
        return None

    def calls_from(self, c: _Config) -> list[tuple[_Call, _Config]]:
        out = []
        if self.f.objects:
            nxt = self.start(c)
            if nxt is not None:
                out.append((_Call(None), nxt))
        for ev in self.a.events:
            kind = self.f.kinds[ev.name]
            begun = self.started(c, kind)
            if begun is None:
                continue
            c2, processed = begun
            if not processed:
                out.append((_Call(ev.name), c2))
                continue
            edges = self.table.get((c2.state, ev.name))
            if not edges:
                continue
            choice = self.truth_choices(_any(tuple(e.guard for e in edges)),
                                        c2.clock_set or bool(self.a.init_resets), True)
            if choice is None:
                continue
            nxt = self.process(c2, ev.name, dict(choice))
            if nxt is not None:
                out.append((_Call(ev.name, choice), nxt))
        return out

    def _search(self) -> dict[_Config, tuple[_Call, ...]]:
        """Shortest accepted call sequences from "not monitoring" to each configuration."""
        paths: dict[_Config, tuple[_Call, ...]] = {_OFF: ()}
        queue = deque([_OFF])
        while queue:
            c = queue.popleft()
            for call, nxt in self.calls_from(c):
                if nxt not in paths:
                    paths[nxt] = paths[c] + (call,)
                    queue.append(nxt)
        return paths

    def configs_in(self, state: str) -> list[_Config]:
        """Reachable configurations in `state`, shortest path first."""
        found = [c for c in self.paths if c.state == state]
        return sorted(found, key=lambda c: (len(self.paths[c]), not c.clock_set))

    # --- steps ---

    def steps(self, calls: tuple[_Call, ...], start: str = "long") -> list[Step]:
        return [self.step(c, start) for c in calls]

    def step(self, call: _Call, start: str = "long") -> Step:
        if call.event is None:
            return Step("start", value=start)
        wraps: list[str] = []
        sets: list[tuple[str, str]] = []
        for env, value in call.assignment:
            d = self.drivers[env]
            if d.field:
                sets.append((d.field, str(value)))
            else:
                wraps.append(d.wrap)
        return Step("send", member=f"send_{call.event}", wraps=tuple(wraps), sets=tuple(sets))

    def head(self) -> list[Step]:
        return [Step("reset")]

    # --- cases ---

    def cases(self) -> tuple[Case, ...]:
        m = self.f.name
        edges = self._edges()
        out = []
        if not edges:
            out.append(Case(f"rv_test_{m}", "skip", ("Nothing starts this monitor.",),
                            skip="no event starts the monitor"))
            return tuple(out)
        out.append(Case(f"rv_test_{m}", "scenarios", (
            "Each edge of the model, after a path from the initial state: no",
            "reaction, and the monitor ends in the edge's target state."), edges))
        if self.f.objects:
            out.append(Case(f"rv_test_{m}_start_stop", "start_stop", (
                f"The return codes of {m}_start_task() and {m}_stop_task().",)))
            if self.f.objects.uprobe:
                out.append(Case(f"rv_test_{m}_parse", "parse", (
                    "Lines of the binding file, with what the parser must make of them",
                    "(expected values from hamodel's reference parser).",)))
        refused = self._refused()
        if refused:
            out.append(Case(f"rv_test_{m}_refused", "scenarios", (
                "Each event a state has no edge for, after a path to that state: one",
                "reaction."), refused))
        guards = self._guard_failures()
        if guards:
            out.append(Case(f"rv_test_{m}_guards", "scenarios", (
                "Each guard a case can make false, after a path to its edge: one",
                "reaction."), guards))
        overruns = self._overruns()
        if overruns:
            out.append(Case(f"rv_test_{m}_overrun", "scenarios", (
                "Each state whose invariant a case can overrun: past a tiny bound, the",
                "timer or the next event's check reacts, exactly once."), overruns))
        return tuple(out)

    def _edges(self) -> tuple[Scenario, ...]:
        out = []
        for (src, event), edges in self._table_order():
            for c in self.configs_in(src):
                path = self.paths[c]
                begun = self.started(c, self.f.kinds[event])
                if begun is None or not begun[1]:
                    continue
                choice = self.truth_choices(_any(tuple(e.guard for e in edges)),
                                            c.clock_set or bool(self.a.init_resets), True)
                if choice is None:
                    continue
                call = _Call(event, choice)
                if self.call(c, call) is None:
                    continue
                steps = self.head() + self.steps(path + (call,))
                if self.f.objects and self.f.objects.residency:
                    first = next(i for i, st in enumerate(steps) if st.kind == "start")
                    steps.insert(first + 1, Step("mark"))
                out.append(Scenario(f"{src} --{event}--> {edges[0].dst}", tuple(steps),
                                    state=edges[0].dst,
                                    residency=bool(self.f.objects and self.f.objects.residency)))
                break
        return tuple(out)

    def _table_order(self) -> list[tuple[tuple[str, str], tuple[Edge, ...]]]:
        order = {s.name: i for i, s in enumerate(self.a.states)}
        events = {e.name: i for i, e in enumerate(self.a.events)}
        return sorted(self.table.items(), key=lambda kv: (order[kv[0][0]], events[kv[0][1]]))

    def _refused(self) -> tuple[Scenario, ...]:
        out = []
        for s in self.a.states:
            configs = self.configs_in(s.name)
            if not configs:
                continue
            c = configs[0]
            for ev in self.a.events:
                if (s.name, ev.name) in self.table:
                    continue
                steps = self.head() + self.steps(self.paths[c])
                out.append(Scenario(f"{s.name} refuses {ev.name}", tuple(steps),
                                    here=(self.step(_Call(ev.name)),)))
        return tuple(out)

    def _guard_failures(self) -> tuple[Scenario, ...]:
        out = []
        for (src, event), edges in self._table_order():
            guard = _any(tuple(e.guard for e in edges))
            if guard is None:
                continue
            for c in self.configs_in(src):
                begun = self.started(c, self.f.kinds[event])
                if begun is None or not begun[1]:
                    continue
                clock_set = c.clock_set or bool(self.a.init_resets)
                inv = self.a.state(src).invariant
                if inv is not None and self.jiffy_clock and not clock_set:
                    continue
                choice = self.truth_choices(guard, clock_set, False)
                if choice is None:
                    continue
                steps = self.head() + self.steps(self.paths[c])
                out.append(Scenario(f"{src} --{event}--> {edges[0].dst} with its guard false",
                                    tuple(steps), here=(self.step(_Call(event, choice)),)))
                break
        return tuple(out)

    def _overruns(self) -> tuple[Scenario, ...]:
        out = []
        for s in self.a.states:
            inv = s.invariant
            tiny = self._tiny(inv) if inv is not None else None
            final = self._final_event(s.name) if tiny is not None else None
            entry = self._entry(s.name, by_start=tiny[2]) if final is not None else None
            if entry is None:
                continue
            knobs, bound, _ = tiny
            path, call = entry
            here: list[Step] = [Step("knobs", value="tiny", knobs=knobs)] if knobs else []
            here += [self.step(call, "tiny"), Step("wait", bound=bound, jiffies=self.jiffy_clock),
                     self.step(_Call(final))]
            # the knobs long again for the path: the case may have set them tiny before
            before = [Step("knobs", value="long", knobs=knobs)] if knobs else []
            out.append(Scenario(f"{s.name}: {inv.clock} past a tiny bound",
                                tuple(before + self.head() + self.steps(path)),
                                here=tuple(here)))
        return tuple(out)

    def _tiny(self, inv: Invariant) -> tuple[tuple[Knob, ...], str, bool] | None:
        """The knobs to make the bound tiny, the bound then (C), and whether only the
        marker's start sets it; None when a case cannot make it tiny."""
        v = inv.bound
        if isinstance(v, Number):
            limit = MAX_WAIT_JIFFIES if self.jiffy_clock else MAX_WAIT_NS
            return ((), f"{v.value}ull", False) if v.value <= limit else None
        objects = self.f.objects
        if objects and any(p.model == v.name for p in objects.params):
            return (), self._start_tiny(), True
        scale = v.unit.scale if v.unit else 1
        if v.name in self.f.module_params:
            knob = next(k for k in self.knobs if k.name == v.name)
            return (knob,), f"{int(knob.tiny) * scale}ull", False
        if self.f.binding is None:
            return None
        for d in self.f.binding.parameters:
            if d.name != v.name:
                continue
            knobs = tuple(k for k in self.knobs if k.name in d.terms)
            rest = [t for t in d.terms if not (isinstance(t, str) and t in self.f.module_params)]
            # target fields of a mock are 0; constants of the kernel are not tiny
            if not knobs or any(isinstance(t, str) and not t.startswith("target.")
                                for t in rest):
                return None
            total = sum(t for t in rest if isinstance(t, int)) + sum(int(k.tiny) for k in knobs)
            return knobs, f"{total * scale}ull", False
        return None

    def _start_tiny(self) -> str:
        p = self.f.objects.params[0]
        return f"{max(p.least or 1, TINY_NS)}ull"

    def _final_event(self, state: str) -> str | None:
        """An event the state accepts, sent after the wait: a plain one, whose call is
        ignored once a reaction stopped the monitor (or a start event, which only
        starts it again, when starting arms nothing)."""
        plain = [e.name for e in self.a.events if (state, e.name) in self.table
                 and self.f.kinds[e.name] == "event"]
        if plain:
            return plain[0]
        if not self.a.init_resets:
            starts = [e.name for e in self.a.events if (state, e.name) in self.table
                      and self.f.kinds[e.name] == "start_event"]
            if starts:
                return starts[0]
        return None

    def _entry(self, state: str, by_start: bool) -> tuple[tuple[_Call, ...], _Call] | None:
        """A path and a last call that enters `state` resetting its clock (the
        marker's start, when `by_start`)."""
        best = None
        for c, path in self.paths.items():
            for call, nxt in self.calls_from(c):
                if nxt.state != state or not self._resets(c, call):
                    continue
                if by_start and call.event is not None:
                    continue
                if best is None or len(path) < len(best[0]):
                    best = (path, call)
        return best

    def _resets(self, c: _Config, call: _Call) -> bool:
        if call.event is None:
            return bool(self.a.init_resets)
        kind = self.f.kinds[call.event]
        if c.state is None:
            return kind == "start_event" and self.f.start_helper
        edges = self.table.get((c.state, call.event), ())
        return bool(edges) and self.clock in edges[0].reset_envs


def _any(guards: tuple[Guard | None, ...]) -> Guard | None:
    """Edges sharing a state and event: their guards joined by ||; one without a
    guard makes it always hold."""
    if any(g is None for g in guards):
        return None
    out = guards[0]
    for g in guards[1:]:
        out = Or(out, g)
    return out


# --- read-only envs a case can set ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Driver:
    """How a case gives a read-only env its `inside` value: it sends the event inside
    scoped_guard(`wrap`), or sets `field` of the mock object first.  `bare` is the
    value otherwise (None: the configuration decides)."""

    inside: int
    bare: int | None
    wrap: str | None = None
    field: str | None = None


# Readers whose value a section of code decides: (guard, value outside, value inside).
_WRAPS = {
    ("call", "irqs_disabled"): ("irqsave", 0, 1),
    # with preemption compiled out the count says nothing (kernel_params.BUILTINS)
    ("builtin", "preempt_disabled"): ("preempt", None, 1),
}


def _drivers(a: Automaton, f: Facts) -> dict[str, _Driver]:
    readers: dict[str, EnvReader] = {r.env: r for r in f.binding.envs} if f.binding else {}
    out = {}
    for env in a.envs:
        r = readers.get(env.name)
        if env.stored or r is None:
            continue
        wrap = _WRAPS.get((r.kind, r.name))
        if wrap is not None:
            name, bare, inside = wrap
            if r.negate:
                bare, inside = (None if bare is None else 1 - bare), 1 - inside
            out[env.name] = _Driver(inside, bare, wrap=name)
        elif r.kind == "field" and f.monitor_type == "per_obj" and not f.objects:
            # a mock object's fields are 0 until a case sets one (and clears it after)
            field = f"dl.{r.name}" if f.dl_entities else r.name
            out[env.name] = _Driver(1, 0, field=field)
    return out


def _evaluate(g: Guard, plan: _Planner, env: dict[str, int], late: bool) -> bool | None:
    """Three-valued: True, False, or None when the case cannot know."""
    if isinstance(g, Not):
        inner = _evaluate(g.operand, plan, env, late)
        return None if inner is None else not inner
    if isinstance(g, (And, Or)):
        left = _evaluate(g.left, plan, env, late)
        right = _evaluate(g.right, plan, env, late)
        if isinstance(g, And):
            if left is False or right is False:
                return False
            return None if left is None or right is None else True
        if left is True or right is True:
            return True
        return None if left is None or right is None else False
    return _compare(g, plan, env, late)


def _compare(c: Cmp, plan: _Planner, env: dict[str, int], late: bool) -> bool | None:
    if c.env == plan.clock:
        # a set clock reads a few us in a case (`late`: past a tiny bound); only a
        # bound the case sets long or tiny says which side it is on
        if not _settable(c.value, plan):
            return None
        below = not late
        return {"<": below, "<=": below, ">": not below, ">=": not below}.get(c.op)
    if c.env not in env or not isinstance(c.value, Number):
        return None
    value, bound = env[c.env], c.value.value
    return {"==": value == bound, "!=": value != bound, "<": value < bound,
            "<=": value <= bound, ">": value > bound, ">=": value >= bound}[c.op]


def _settable(v: Value, plan: _Planner) -> bool:
    if isinstance(v, Number):
        return v.value >= (MAX_WAIT_JIFFIES if plan.jiffy_clock else MAX_WAIT_NS)
    if plan.f.objects and any(p.model == v.name for p in plan.f.objects.params):
        return True
    return any(k.name == v.name for k in plan.knobs) or bool(_knob_terms(v, plan.f))
