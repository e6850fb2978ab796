"""The paths a generated KUnit case drives a monitor along, on an abstract monitor.

Input: the Automaton and `Facts` (what the kernel-C view decided: the monitor
type, the da_handle_*() kind of each event's sender, the parameters, the env
readers, the objects a start marker makes).  Output: the `Case`s of
`<m>_kunit.c` as steps (hamodel/gen/kernel_kunit.py puts them in its view).

A configuration is "not monitoring" or a state with its clock set or unset,
and each call moves it as include/rv/da_monitor.h and the generated
constraint functions do (docs/semantics.md): a plain event is ignored while
not monitoring, a start event starts without being processed, a start-run
event starts and is processed; an unset jiffy clock fails its state's check;
a guard reading an unset clock holds.  Shortest call sequences reach each
configuration; a read-only env a case can set (interrupts, preemption, a
field of the mock object) is set to make a guard hold or fail.  Bounds that
must not expire are set at run time below the uptime (the framework's ns
check wraps while the uptime is below a bound); bounds that must expire are
tiny, and the case waits until the clock has passed them.
"""

from __future__ import annotations

import itertools
from collections import deque
from dataclasses import dataclass

from hamodel.binding import Binding
from hamodel.gen import kernel_kunit_envs as envs
from hamodel.gen.kernel_kunit_bounds import (
    MAX_WAIT_JIFFIES,
    MAX_WAIT_NS,
    TINY_NS,
    Knob,
    knob_terms,
)
from hamodel.gen.kernel_objects import Objects
from hamodel.model import (
    Automaton,
    ClockKind,
    Edge,
    Guard,
    Invariant,
    Number,
    Or,
    Value,
    comparisons,
)

# The state name `state` returns for an object not being monitored (state names are
# C identifiers, so no state has it).
NOT_MONITORING = "not monitoring"


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
    one_cpu: bool = False  # the case runs on one CPU (migration disabled)

    @property
    def long_start(self) -> bool:
        """Whether a step starts the monitor with long parameters (a variable holds them)."""
        return any(st.kind == "start" and st.value == "long"
                   for sc in self.scenarios for st in sc.steps + sc.here)

    @property
    def residency(self) -> bool:
        return any(sc.residency for sc in self.scenarios)


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
        self.drivers = envs.drivers(a, f.binding, f.monitor_type, f.objects is not None,
                                    f.dl_entities)
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

    def _guard(self, g: Guard, clock_set: bool, env: dict[str, int]) -> bool | None:
        read = {c.env for c in comparisons(g)}
        if self.clock in read and not clock_set:
            return True  # an unset clock the guard reads makes it hold
        return envs.evaluate(g, self.clock, lambda v: _settable(v, self), env)

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
                "timer or the next event's check reacts, exactly once.  The case stays on",
                "one CPU, where the monitor's timer is armed."), overruns, one_cpu=True))
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
            # The last event with interrupts off: the timer's interrupt (on this CPU, see
            # the case) cannot come between the event's check of the monitor and its
            # reset, where both would react; it comes before, or after and finds the
            # monitor stopped.
            last = self.step(_Call(final))
            last = Step(last.kind, last.member, ("irqsave", *last.wraps), last.sets)
            here += [self.step(call, "tiny"), Step("wait", bound=bound, jiffies=self.jiffy_clock),
                     last]
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


def _settable(v: Value, plan: _Planner) -> bool:
    """Whether a case decides which side of a bound a fresh clock is on: a bound it sets
    long, or a literal longer than any case."""
    if isinstance(v, Number):
        return v.value >= (MAX_WAIT_JIFFIES if plan.jiffy_clock else MAX_WAIT_NS)
    if plan.f.objects and any(p.model == v.name for p in plan.f.objects.params):
        return True
    terms = knob_terms(v, plan.f.module_params, plan.f.binding)
    return any(k.name == v.name for k in plan.knobs) or bool(terms)


def cases(a: Automaton, f: Facts, knobs: tuple[Knob, ...]) -> tuple[Case, ...]:
    """The cases of `<m>_kunit.c`, rv_test_<m> first."""
    return _Planner(a, f, knobs).cases()
