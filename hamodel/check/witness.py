"""Concrete timed traces: a zone-graph path -> Witness (integer ns, env values), and replay.

The zone explorer finds *which* table cells lead somewhere; Z3 then finds
*when*: the path is encoded in linear integer arithmetic as the framework runs
it (the invariant check at each event, the guard with its whole-guard escape,
resets, the timer kept, armed or cancelled, an event only while the timer has
not run), and Optimize picks the earliest finish.  Every witness is then
replayed through `hamodel.semantics.Monitor` on the witness's platform, from
each start the witness allows; a witness that does not reproduce its verdict
is never reported.  tests/test_check_framework.py replays them on the verbatim
kernel framework as well.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import z3

from hamodel.check.cells import Table, edge_reads, escapes_of, table
from hamodel.check.concrete import zone_witness
from hamodel.check.constraints import ENV_MAX, INFINITE
from hamodel.check.timing import DEFAULT_UPTIME_NS, Timing, rule, timing
from hamodel.check.zones import Mode, Step
from hamodel.model import (
    And,
    Automaton,
    ClockKind,
    Cmp,
    Guard,
    Not,
    Number,
    Or,
    Value,
    comparisons,
)
from hamodel.semantics import (
    U64,
    U64_MAX,
    Monitor,
    Moved,
    Platform,
    Semantics,
    Tie,
    Timer,
    Violation,
    ViolationKind,
)

OBJ = "obj"


class SolverUnknown(RuntimeError):
    """Z3 answered unknown (usually: its timeout expired)."""


@dataclass(frozen=True, slots=True)
class TimedEvent:
    time: int  # ns after the start of monitoring
    event: str
    env: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True, slots=True)
class Goal:
    """What the witness shows.

    kind: "reach" (arrive in `state`; `unset`: exactly these clocks unset then,
    `armed`: whether a timer is armed), "entry" (the last event enters `state`
    with its invariant already false for the framework), "invalid_event" |
    "guard" | "late" (the extra `event` is reported: no cell, a false guard, or
    the invariant check at the event), "timer" (the callback reports),
    "holds" / "only" (the extra `event` passes the check and `edge`'s guard
    holds, for "only" while the other guards of its cell do not), "dropped"
    (the guard of `edge`, which is not in the table, holds at the extra
    `event`), "wrap" (the ns check at the extra `event` wraps: small uptime).
    """

    kind: str
    state: str
    event: str | None = None
    edge: int | None = None
    unset: frozenset[str] | None = None
    armed: bool | None = None


@dataclass(frozen=True, slots=True)
class Witness:
    goal: Goal
    params: tuple[tuple[str, int], ...]
    events: tuple[TimedEvent, ...]
    platform: Platform  # with the timer kind fixed
    uptime: int = DEFAULT_UPTIME_NS  # ns since boot when monitoring starts
    end: int | None = None  # ns after the start: the timer's callback (goal "timer")
    # clock values (base units; None: unset) where the verdict is decided: before
    # the last event, after it for "reach" and "entry"
    clocks: tuple[tuple[str, int | None], ...] = field(default=(), compare=False)

    def start_kinds(self) -> tuple[str, ...]:
        """The starts that produce this run: the monitor's own start routine and
        da_handle_start_event (whose event is not processed) always; and
        da_handle_start_run_event of the first event when it comes at once."""
        kinds = ("start", "start_event")
        if self.events and self.events[0].time == 0:
            kinds += ("start_run_event",)
        return kinds

    def valuation(self, automaton: Automaton) -> str:
        """`x = 2000001 ns` style text of `clocks`, or "" when there are none."""
        units = {
            c.name: "j" if c.clock_kind is ClockKind.JIFFIES else "ns" for c in automaton.clocks
        }
        parts = [
            f"{c} unset" if v is None else f"{c} = {v} {units.get(c, 'ns')}"
            for c, v in self.clocks
        ]
        env = self.events[-1].env if self.events and self.goal.kind not in (
            "entry", "reach") else ()
        parts += [f"{k} = {v}" for k, v in env]
        return ", ".join(parts)

    def header(self) -> str:
        p = self.platform
        assert p.timer is not None
        if p.timer is Timer.NONE:
            return f"uptime {self.uptime} ns at the start, no timer, HZ={p.hz}"
        lat = f", callback latency {p.latency_ns} ns" if p.latency_ns else ""
        return (f"uptime {self.uptime} ns at the start, {p.timer.value}, {p.tie.value}{lat},"
                f" HZ={p.hz}")

    def lines(self) -> list[str]:
        out = [self.header()]
        if self.params:
            out.append("with " + ", ".join(f"{k}={v}" for k, v in self.params))
        starts = "start routine or start event"
        if "start_run_event" in self.start_kinds():
            starts += f", or start-run event {self.events[0].event}"
        out.append(f"t=0 start ({starts})")
        for ev in self.events:
            env = "".join(f" {k}={v}" for k, v in ev.env)
            out.append(f"t={ev.time} {ev.event}{env}")
        if self.end is not None:
            out.append(f"t={self.end} timer fires")
        return out

    def to_json(self) -> dict:
        p = self.platform
        assert p.timer is not None
        return {
            "uptime_ns": self.uptime,
            "platform": {"timer": p.timer.value, "tie": p.tie.value,
                         "timer_latency_ns": p.latency_ns, "hz": p.hz},
            "starts": list(self.start_kinds()),
            "params": dict(self.params),
            "events": [
                {"time_ns": e.time, "event": e.event, "env": dict(e.env)} for e in self.events
            ],
            "timer_ns": self.end,
            "clocks": dict(self.clocks),
        }


# --- the encoding -------------------------------------------------------------------


@dataclass
class _Timer:
    """What ha_setup_invariants left: mode, the instant its clock counts from, and
    the clock value at the arming (for an expired one)."""

    mode: Mode
    base: z3.ArithRef | None = None
    at_arming: z3.ArithRef | None = None


class PathEncoder:
    """One zone-graph path and its goal as linear integer constraints (times,
    env values, parameters), added to any object with `.add` (a solver)."""

    def __init__(self, a: Automaton, params: Mapping[str, int], platform: Platform,
                 small_uptime: bool = False, tab: Table | None = None,
                 tm: Timing | None = None) -> None:
        self.a = a
        self.tab: Table = tab or table(a)
        free = {p.name: INFINITE for p in a.parameters}
        self.tm: Timing = tm or timing(a, platform, free | dict(params))
        self.rule = rule(self.tm.unit, self.tm.timer, platform)
        self.jiffy = self.tm.unit is ClockKind.JIFFIES
        self.clocks = frozenset(c.name for c in a.clocks)
        self.param_vars: dict[str, z3.ArithRef] = {}
        self.params = params
        self.trace: list[tuple[z3.ArithRef, str, list[tuple[str, z3.ArithRef]]]] = []
        self.n_env = 0
        self.invariants = {st.name: st.invariant for st in a.states}
        # ns since boot at the start, when the goal is the small-uptime wrap
        self.uptime: z3.ArithRef | None = z3.Int("uptime") if small_uptime else None
        self._limited: set[str] = set()

    # --- values ---

    def value(self, v: Value, s) -> z3.ArithRef:
        if isinstance(v, Number):
            return z3.IntVal(v.value)
        fixed = self.params.get(v.name, INFINITE)
        if fixed != INFINITE:
            base: z3.ArithRef = z3.IntVal(fixed)
        else:
            if v.name not in self.param_vars:
                p = z3.Int(f"param_{v.name}")
                s.add(p >= 1)
                self.param_vars[v.name] = p
            base = self.param_vars[v.name]
        return base * (v.unit.scale if v.unit else 1)

    def _symbolic(self, state: str) -> bool:
        inv = self.invariants[state]
        assert inv is not None
        return not isinstance(inv.bound, Number) and self.params.get(
            inv.bound.name, INFINITE) == INFINITE

    def _bound(self, state: str, s) -> z3.ArithRef:
        inv = self.invariants[state]
        assert inv is not None
        b = self.value(inv.bound, s)
        if self._symbolic(state) and state not in self._limited:
            self._limited.add(state)
            if self.rule.limit is not None and self.rule.limit >= 0:
                s.add(b <= self.rule.limit)  # the regime where the offsets are exact
        return b

    def pass_max(self, state: str, s) -> z3.ArithRef | None:
        if self._symbolic(state):
            return self._bound(state, s) + self.rule.pass_off
        v = self.tm.states[state].pass_max
        return None if v is None else z3.IntVal(v)

    def event_max(self, state: str, s) -> z3.ArithRef | None:
        """The last clock value at which an event comes before the callback: the rule's
        offset where it holds (on the wheel, at every level: the callback is never
        earlier than at level 0), else the window's end (left to the replay)."""
        if self._symbolic(state):
            if self.rule.limit is not None and self.rule.limit < 0:
                return None  # no exact regime: left to the replay
            return self._bound(state, s) + self.rule.event_off
        st = self.tm.states[state]
        if st.bound is not None and (self.rule.limit is None or st.bound <= self.rule.limit):
            return z3.IntVal(st.bound + self.rule.event_off)
        return None if st.event_max is None else z3.IntVal(st.event_max)

    def fire_at(self, state: str, s) -> z3.ArithRef | None:
        if self._symbolic(state):
            return self._bound(state, s) + self.rule.fire_off
        v = self.tm.states[state].fire_lo
        return None if v is None else z3.IntVal(v)

    # --- guards ---

    def guard(self, g: Guard | None, ctx: dict, s) -> z3.BoolRef:
        if g is None:
            return z3.BoolVal(True)
        if isinstance(g, And):
            return z3.And(self.guard(g.left, ctx, s), self.guard(g.right, ctx, s))
        if isinstance(g, Or):
            return z3.Or(self.guard(g.left, ctx, s), self.guard(g.right, ctx, s))
        if isinstance(g, Not):
            return z3.Not(self.guard(g.operand, ctx, s))
        return self.cmp(g, ctx, s)

    def cmp(self, c: Cmp, ctx: dict, s) -> z3.BoolRef:
        if c.env in self.clocks:
            r = ctx["resets"][c.env]
            assert r is not None, "a guard reading an unset clock is escaped whole"
            left = ctx["t"] - r
        else:
            left = self._env(c.env, ctx, s)
        right = self.value(c.value, s)
        return {
            "==": left == right,
            "!=": left != right,
            "<": left < right,
            "<=": left <= right,
            ">": left > right,
            ">=": left >= right,
        }[c.op]

    def _env(self, name: str, ctx: dict, s) -> z3.ArithRef:
        env = ctx["env"]
        if name not in env:
            v = z3.Int(f"env_{self.n_env}_{name}")
            self.n_env += 1
            s.add(v >= 0, v <= ENV_MAX)
            env[name] = v
        return env[name]

    def holds(self, guard: Guard | None, reads: frozenset[str], ctx: dict, s) -> z3.BoolRef:
        """The kernel's reading of a guard: an unset clock in `reads` makes it hold."""
        if any(ctx["resets"][c] is None for c in reads):
            return z3.BoolVal(True)
        return self.guard(guard, ctx, s)

    def touch_envs(self, state: str, event: str, ctx: dict, s) -> None:
        """A value for every read-only env an edge of (state, event) reads: the kernel
        supplies them with the event, and the oracle may read any of them."""
        for name in _env_reads(self.a).get((state, event), ()):
            self._env(name, ctx, s)

    # --- the framework's checks and timer ---

    def before_timer(self, s, t, state: str, timer: _Timer) -> None:
        """The event comes before the timer's callback."""
        if timer.mode is Mode.ARMED:
            em = self.event_max(state, s)
            if em is not None:
                s.add(t <= timer.base + em)
        elif timer.mode is Mode.EXPIRED:
            st = self.tm.states.get(state)
            if st is not None and st.expired_now:
                pm = self.pass_max(state, s)
                assert pm is not None and timer.at_arming is not None
                s.add(timer.at_arming >= pm + 2)

    def check(self, s, t, state: str, resets: dict, timer: _Timer, passes: bool) -> None:
        """ha_verify_invariants at an event: make it pass or fail."""
        inv = self.invariants[state]
        if inv is None:
            assert passes
            return
        if timer.mode is Mode.EXPIRED:
            assert not passes
            return
        r = resets[inv.clock]
        if r is None:
            return  # static: ns passes, jiffy fails (the path agrees)
        c = t - r
        pm = self.pass_max(state, s)
        if self.uptime is not None:
            # ns check store >= now - B in u64: it wraps while the uptime is below B
            awake = self.uptime + t >= self._bound(state, s)
            ok = z3.And(awake, c <= pm) if pm is not None else awake
            s.add(ok if passes else z3.Not(ok))
            return
        if pm is None:
            assert passes
            return
        s.add(c <= pm if passes else c >= pm + 1)

    def arm(self, s, t, dst: str, resets: dict, mode: Mode) -> _Timer:
        """ha_setup_invariants entering `dst`: the mode the zone path says."""
        inv = self.invariants[dst]
        if inv is None:
            return _Timer(Mode.NONE)
        r = resets[inv.clock]
        if r is None:
            return _Timer(mode, t, z3.IntVal(0))  # passed = 0: counts from now
        c = t - r
        pm = self.pass_max(dst, s)
        if mode is Mode.ARMED and pm is not None:
            s.add(c <= pm)
        elif mode is Mode.EXPIRED:
            assert pm is not None
            s.add(c >= pm + 1)
        return _Timer(mode, r, c)

    # --- the path ---

    def encode(self, s, steps: Sequence[Step], goal: Goal, start_mode: Mode) -> z3.ArithRef:
        a = self.a
        t0 = z3.IntVal(0)
        if self.uptime is not None:
            s.add(self.uptime >= 0)
        resets: dict = {c: None for c in sorted(self.clocks)}
        for r in a.init_resets:
            resets[r.env] = t0
        state = a.initial.name
        timer = _Timer(Mode.NONE)
        if a.init_resets and self.invariants[state] is not None:
            timer = self.arm(s, t0, state, resets, start_mode)
        prev = t0
        for i, step in enumerate(steps):
            t = z3.Int(f"t_{i}")
            s.add(t >= prev)
            cell = self.tab.cell_of_edge(step.edge, a)
            self.before_timer(s, t, state, timer)
            self.check(s, t, state, resets, timer, True)
            ctx = {"t": t, "resets": resets, "env": {}}
            s.add(self.holds(cell.guard, cell.reads, ctx, s))
            self.touch_envs(state, step.event, ctx, s)
            self.trace.append((t, step.event, sorted(ctx["env"].items())))
            resets = dict(resets)
            for r in cell.resets:
                resets[r] = t
            if self.tab.rearms(cell):
                timer = self.arm(s, t, cell.dst, resets, step.mode)
            state = cell.dst
            prev = t
        return self._finish(s, goal, state, resets, timer, prev)

    def _finish(self, s, goal: Goal, state: str, resets: dict, timer: _Timer, prev):
        a = self.a
        if goal.kind in ("reach", "entry"):
            return prev
        if goal.kind == "timer":
            fire = self.fire_at(state, s) if timer.mode is Mode.ARMED else None
            if fire is None:
                return prev
            assert timer.base is not None
            return timer.base + fire
        t = z3.Int("t_last")
        s.add(t >= prev)
        if timer.mode is Mode.EXPIRED:
            s.add(t <= prev)  # at the entry instant: before any late callback
        self.before_timer(s, t, state, timer)
        ctx = {"t": t, "resets": resets, "env": {}}
        cell = self.tab.get(state, goal.event or "")
        kind = goal.kind
        if kind != "invalid_event":
            assert cell is not None
            self.check(s, t, state, resets, timer, kind not in ("late", "wrap"))
        if kind == "wrap":
            inv = self.invariants[state]
            assert inv is not None and self.uptime is not None
            s.add(self.uptime + t < self._bound(state, s))
        elif kind == "guard":
            assert cell is not None
            s.add(z3.Not(self.holds(cell.guard, cell.reads, ctx, s)))
        elif kind in ("holds", "only"):
            assert cell is not None and goal.edge is not None
            s.add(self.holds(a.edges[goal.edge].guard, escapes_of(a, cell, goal.edge), ctx, s))
            if kind == "only":
                for j in cell.edges:
                    if j != goal.edge:
                        s.add(z3.Not(self.holds(a.edges[j].guard, escapes_of(a, cell, j),
                                                ctx, s)))
        elif kind == "dropped":
            assert goal.edge is not None
            s.add(self.holds(a.edges[goal.edge].guard, edge_reads(a, goal.edge), ctx, s))
        assert goal.event is not None
        self.touch_envs(state, goal.event, ctx, s)
        self.trace.append((t, goal.event, sorted(ctx["env"].items())))
        if self.uptime is not None:
            return self.uptime + t
        return t


def concretize(
    automaton: Automaton,
    steps: Sequence[Step],
    goal: Goal,
    params: Mapping[str, int],
    platform: Platform,
    start_mode: Mode = Mode.ARMED,
    timeout_s: float = 10.0,
    tab: Table | None = None,
    tm: Timing | None = None,
    solver: bool = False,
) -> Witness | None:
    """The earliest integer-timed trace along `steps` that reaches `goal`, or None
    (see concretize_run)."""
    found = concretize_run(automaton, steps, goal, params, platform, start_mode, timeout_s,
                           tab, tm, solver)
    return None if found is None else found[0]


def concretize_run(
    automaton: Automaton,
    steps: Sequence[Step],
    goal: Goal,
    params: Mapping[str, int],
    platform: Platform,
    start_mode: Mode = Mode.ARMED,
    timeout_s: float = 10.0,
    tab: Table | None = None,
    tm: Timing | None = None,
    solver: bool = False,
) -> tuple[Witness, bool] | None:
    """The earliest integer-timed trace along `steps` that reaches `goal`, or None;
    with it, whether its replay from the monitor's start routine confirms it.

    `platform` must name its timer kind; `tab` and `tm` may be given when known
    (the table, and the timing of `params` on `platform`).  With every parameter
    concrete the zones give the run (concrete.py); free parameters, the
    small-uptime goal, or `solver` ask Z3.  The result is replayed through
    hamodel.semantics to fill in the timer's instant and the clock values.
    """
    assert platform.timer is not None
    small = goal.kind == "wrap"
    concrete = all(params.get(p.name, INFINITE) != INFINITE for p in automaton.parameters)
    if concrete and not small and not solver:
        found = _from_zones(automaton, steps, goal, params, platform, start_mode, tab, tm)
        if found is not None:
            return found
    enc = PathEncoder(automaton, params, platform, small_uptime=small, tab=tab, tm=tm)
    opt = z3.Optimize()
    opt.set("timeout", max(1, int(timeout_s * 1000)))
    last = enc.encode(opt, steps, goal, start_mode)
    opt.minimize(last)
    for p in enc.param_vars.values():
        opt.minimize(p)
    answer = opt.check()
    if answer == z3.unknown:
        raise SolverUnknown(opt.reason_unknown())
    if answer == z3.unsat:
        return None
    model = opt.model()
    scale = enc.tm.scale

    def val(x: z3.ArithRef) -> int:
        return model.eval(x, model_completion=True).as_long()

    events = tuple(
        TimedEvent(val(t) * scale, e, tuple((k, val(v)) for k, v in env))
        for t, e, env in enc.trace
    )
    chosen = {k: val(v) for k, v in enc.param_vars.items()}
    chosen.update({k: v for k, v in params.items() if v != INFINITE})
    for p in automaton.parameters:
        chosen.setdefault(p.name, 1)  # not read along the path: any value will do
    if small:
        assert enc.uptime is not None
        uptime = val(enc.uptime)
    else:
        uptime = _uptime(automaton, chosen, scale, enc.tm.tick_ns)
    w = Witness(goal, tuple(sorted(chosen.items())), events, platform, uptime)
    return _complete(automaton, w)


def _from_zones(a: Automaton, steps: Sequence[Step], goal: Goal, params: Mapping[str, int],
                platform: Platform, start_mode: Mode, tab: Table | None,
                tm: Timing | None) -> tuple[Witness, bool] | None:
    """The witness by concrete.zone_witness, with every env an event's edges read."""
    tab = tab or table(a)
    tm = tm or timing(a, platform, params)
    found = zone_witness(a, steps, goal, params, start_mode, tab, tm)
    if found is None:
        return None
    run, _ = found
    reads = _env_reads(a)
    events = []
    state = a.initial.name
    for i, (t, event, env) in enumerate(run):
        values = {name: env.get(name, 0) for name in reads.get((state, event), ())}
        events.append(TimedEvent(t * tm.scale, event, tuple(sorted(values.items()))))
        if i < len(steps):
            state = tab.cell_of_edge(steps[i].edge, a).dst
    chosen = dict(params)
    w = Witness(goal, tuple(sorted(chosen.items())), tuple(events), platform,
                _uptime(a, chosen, tm.scale, tm.tick_ns))
    return _complete(a, w)


_READS: dict[int, tuple[Automaton, dict[tuple[str, str], list[str]]]] = {}
_BOUNDS: dict[int, tuple[Automaton, list[Value]]] = {}


def _bounds(a: Automaton) -> list[Value]:
    """Every bound the model compares a clock or env with."""
    cached = _BOUNDS.get(id(a))
    if cached is None or cached[0] is not a:
        values = [s.invariant.bound for s in a.states if s.invariant] + [
            c.value for e in a.edges for c in comparisons(e.guard)]
        if len(_BOUNDS) > 256:
            _BOUNDS.clear()
        cached = _BOUNDS[id(a)] = (a, values)
    return cached[1]


def _env_reads(a: Automaton) -> dict[tuple[str, str], list[str]]:
    """Per (state, event): the read-only envs its edges' guards read."""
    cached = _READS.get(id(a))
    if cached is None or cached[0] is not a:
        clocks = {c.name for c in a.clocks}
        reads: dict[tuple[str, str], list[str]] = {}
        for e in a.edges:
            names = reads.setdefault((e.src, e.event), [])
            names += [c.env for c in comparisons(e.guard)
                      if c.env not in clocks and c.env not in names]
        if len(_READS) > 256:
            _READS.clear()
        cached = _READS[id(a)] = (a, reads)
    return cached[1]


def _uptime(a: Automaton, params: Mapping[str, int], scale: int, tick: int) -> int:
    """An uptime past every bound (no check wraps), on a jiffy boundary."""
    biggest = 0
    for v in _bounds(a):
        n = v.value if isinstance(v, Number) else params.get(v.name, 0) * (
            v.unit.scale if v.unit else 1)
        biggest = max(biggest, n * scale)
    up = max(DEFAULT_UPTIME_NS, 2 * biggest)
    return -(-up // tick) * tick


def _complete(a: Automaton, w: Witness) -> tuple[Witness, bool]:
    """Fill in the timer's instant and the clock values from a replay from the start
    routine, and say whether that replay confirms the witness."""
    run = _run(a, w, "start")
    end = None if run.deadline is None else run.deadline - w.uptime
    clocks: tuple[tuple[str, int | None], ...] = ()
    obj = run.after if w.goal.kind in ("reach", "entry") else run.before
    if obj is not None and w.goal.kind != "timer":
        at = w.uptime + (w.events[-1].time if w.events else 0)
        sem = run.monitor.sem
        clocks = tuple((c, sem.clock_value(obj, c, at)) for c in sem.clock_names)
    done = Witness(w.goal, w.params, w.events, w.platform, w.uptime,
                   end if w.goal.kind == "timer" else None, clocks)
    return done, _judge(a, done, run)


# --- replay through the oracle ------------------------------------------------------


_TEMPLATES: dict[tuple, tuple[Automaton, Monitor]] = {}


def _monitor(a: Automaton, params: Mapping[str, int], platform: Platform) -> Monitor:
    """A fresh Monitor: a deep copy of a pristine one that shares its Semantics (whose
    construction costs more than a whole witness's replay)."""
    key = (id(a), tuple(sorted(params.items())), platform)
    cached = _TEMPLATES.get(key)
    if cached is None or cached[0] is not a:
        if len(_TEMPLATES) > 256:
            _TEMPLATES.clear()
        cached = (a, Monitor(a, params=dict(params), platform=platform))
        _TEMPLATES[key] = cached
    template = cached[1]
    shared = {id(x): x for x in (template.sem, template.automaton, template.params,
                                 template.platform)}
    return copy.deepcopy(template, shared)


@dataclass
class _Run:
    monitor: Monitor
    outcomes: list
    before: object  # the object state before the last event (timers due by then run)
    after: object  # ... after the last event
    deadline: int | None  # when the armed timer fired (goal "timer")


def _run(a: Automaton, w: Witness, start: str) -> _Run:
    m = _monitor(a, dict(w.params), w.platform)
    u = w.uptime
    events = list(w.events)
    out: list = []
    before = None
    if start == "start":
        _, out = m.start(OBJ, u)
    elif start == "start_event":
        out = m.start_event(OBJ, u, a.events[0].name)
    else:
        first = events.pop(0)
        if not events:
            before = m.sem.start(u, dict(w.params))
        out = m.start_run_event(OBJ, u, first.event, dict(first.env))
    for i, ev in enumerate(events):
        if i == len(events) - 1:
            out += m.advance(u + ev.time)
            before = m.object_state(OBJ)
        out += m.event(OBJ, u + ev.time, ev.event, dict(ev.env))
    after = m.object_state(OBJ)
    deadline = None
    if w.goal.kind == "timer":
        deadline = m.next_deadline()
        if deadline is not None:
            out += m.advance(deadline + 1)  # past it: callbacks due by then have run
    return _Run(m, out, before, after, deadline)


def replay(automaton: Automaton, w: Witness, start: str = "start") -> list[Moved | Violation]:
    return _run(automaton, w, start).outcomes


def confirms(automaton: Automaton, w: Witness, starts: Sequence[str] | None = None) -> bool:
    """Does the oracle, replaying the witness from each start it allows (or those
    given), reach its verdict?"""
    return all(_confirms(automaton, w, start) for start in starts or w.start_kinds())


def _confirms(a: Automaton, w: Witness, start: str) -> bool:
    return _judge(a, w, _run(a, w, start))


def _judge(a: Automaton, w: Witness, run: _Run) -> bool:
    """Whether a replay of the witness reached its verdict."""
    g = w.goal
    mon, out, before = run.monitor, run.outcomes, run.before
    moves_needed = len(w.events) - (0 if g.kind in ("reach", "entry", "timer") else 1)
    moves, rest = out[:moves_needed], out[moves_needed:]
    if len(moves) != moves_needed or not all(isinstance(o, Moved) for o in moves):
        return False
    sem = mon.sem
    if g.kind in ("reach", "entry"):
        if rest:
            return False
        obj = run.after
        if obj is None or obj.state != g.state:
            return False
        at = w.uptime + (w.events[-1].time if w.events else 0)
        if g.unset is not None and _unset(sem, obj) != g.unset:
            return False
        if g.armed is not None and (obj.fire_at is not None) != g.armed:
            return False
        if g.kind == "entry":
            return bool(w.events) and not _framework_invariant(sem, obj, at)
        return True
    if g.kind == "timer":
        return (len(rest) == 1 and isinstance(rest[0], Violation)
                and rest[0].kind is ViolationKind.INVARIANT and rest[0].event is None
                and rest[0].state == g.state)
    last_event = w.events[-1]
    if before is None or before.state != g.state:
        return False
    if g.kind in ("invalid_event", "guard", "late", "wrap"):
        kind = {"invalid_event": ViolationKind.INVALID_EVENT, "guard": ViolationKind.GUARD,
                "late": ViolationKind.INVARIANT, "wrap": ViolationKind.INVARIANT}[g.kind]
        return (len(rest) == 1 and isinstance(rest[0], Violation) and rest[0].kind is kind
                and rest[0].state == g.state and rest[0].event == g.event)
    # holds / only / dropped: the check passed and the guard is read as the goal says
    if len(rest) != 1 or (isinstance(rest[0], Violation)
                          and rest[0].kind is not ViolationKind.GUARD):
        return False
    assert g.edge is not None
    t = w.uptime + last_event.time
    env = _env_at(w)
    tab = table(a)
    cell = tab.get(g.state, last_event.event)
    assert cell is not None
    reads = edge_reads(a, g.edge) if g.kind == "dropped" else escapes_of(a, cell, g.edge)
    if not _guard_holds(sem, a.edges[g.edge].guard, reads, before, t, env):
        return False
    if g.kind == "only":
        return not any(_guard_holds(sem, a.edges[j].guard, escapes_of(a, cell, j), before, t,
                                    env) for j in cell.edges if j != g.edge)
    return True


def _env_at(w: Witness) -> dict[str, int]:
    """The env values the last event brings (what its guards read)."""
    return dict(w.events[-1].env) if w.events else {}


def _unset(sem: Semantics, obj) -> frozenset[str]:
    return frozenset(c for c, v in zip(sem.clock_names, obj.store, strict=True)
                     if v == U64_MAX)


def _framework_invariant(sem: Semantics, obj, t: int) -> bool:
    """Whether the framework's check of the object's state holds at t (clk <= B for
    ns clocks, clk < B for jiffy clocks; the model's < or <= is not read)."""
    inv = sem.automaton.state(obj.state).invariant
    if inv is None:
        return True
    c = sem.clock_value(obj, inv.clock, t)
    if c is None:
        return True
    b = sem.value(inv.bound, obj) % U64
    jiffy = any(x.name == inv.clock and x.clock_kind is ClockKind.JIFFIES
                for x in sem.automaton.clocks)
    return c < b if jiffy else c <= b


def _guard_holds(sem: Semantics, guard: Guard | None, reads: frozenset[str], obj, t: int,
                 env: Mapping[str, int]) -> bool:
    """A guard as the generated ha_verify_guards reads it: any unset clock it reads
    makes it hold; comparisons are u64."""
    if any(sem.clock_value(obj, c, t) is None for c in reads):
        return True
    return _eval(sem, guard, obj, t, env)


def _eval(sem: Semantics, g: Guard | None, obj, t: int, env: Mapping[str, int]) -> bool:
    if g is None:
        return True
    if isinstance(g, And):
        return _eval(sem, g.left, obj, t, env) and _eval(sem, g.right, obj, t, env)
    if isinstance(g, Or):
        return _eval(sem, g.left, obj, t, env) or _eval(sem, g.right, obj, t, env)
    if isinstance(g, Not):
        return not _eval(sem, g.operand, obj, t, env)
    left = sem.env_value(obj, g.env, t, env)
    right = sem.value(g.value, obj) % U64
    return {"==": left == right, "!=": left != right, "<": left < right,
            "<=": left <= right, ">": left > right, ">=": left >= right}[g.op]


def tie_name(tie: Tie) -> str:
    return {Tie.EVENT_FIRST: "the event runs before the timer's callback",
            Tie.TIMER_FIRST: "the timer's callback runs before the event"}[tie]
