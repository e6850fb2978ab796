"""The executable timed semantics of a monitor: what the kernel's RV framework does.

Input: an Automaton, a `Platform` (HZ, the monitor's timer kind, and the few
things the kernel leaves to circumstance) and timestamped calls per monitored
object.  Output: `Moved` and `Violation` records.  docs/semantics.md is the
prose version of this file, rule by rule with the kernel function each follows;
the two must say the same thing.

This module mirrors the code paths of include/rv/da_monitor.h and
include/rv/ha_monitor.h (verbatim in ../shared/kernel/rv-framework, compiled and
run against this module by tests/test_framework_semantics.py) and of the
constraint functions rvgen writes for a model (hamodel's kernel-C generator
writes the same).  Arithmetic is the kernel's: clocks are u64 and wrap, an
unset clock stores U64_MAX, relative hrtimers saturate, wheel timers fire at
their bucket's expiry.  Where the kernel's outcome depends on circumstance
(which of an event and a timer due at the same nanosecond runs first, how late
a timer callback runs, where the wheel's clock stands) `Platform` names the
choice; the defaults follow the framework's own check at the event.

Times are nanoseconds since boot (ktime_get_ns()), because the kernel's checks
wrap while the uptime is below a bound: a trace whose times start near zero
must say so (replay adds `Platform`-independent offsets, see hamodel.replay).
"""

from __future__ import annotations

import copy
import enum
import heapq
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field

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

DEFAULT_HZ = 250
NSEC_PER_SEC = 1_000_000_000
USEC_PER_SEC = 1_000_000
U64 = 1 << 64
U64_MAX = U64 - 1  # ENV_INVALID_VALUE: a clock not reset since monitoring started
S64_MAX = (1 << 63) - 1
KTIME_SATURATED = (S64_MAX // NSEC_PER_SEC) * NSEC_PER_SEC  # ktime_add_safe()'s result
# The wheel (kernel/time/timer.c): levels of 64 buckets, each 8x coarser.
LVL_CLK_SHIFT, LVL_SIZE = 3, 64
NEVER = 1 << 80  # later than any u64 nanosecond: a timer that will not fire


class SemanticsError(ValueError):
    """A call the model cannot interpret: unknown event, missing value, time going back."""

    outcomes: list = []  # violations that fired before a late refusal (missing env value)


def tick_nsec(hz: int) -> int:
    """The kernel's TICK_NSEC: ns per jiffy, rounded to nearest."""
    return (NSEC_PER_SEC + hz // 2) // hz


def initial_jiffies(hz: int) -> int:
    """INITIAL_JIFFIES on a 64-bit kernel: jiffies at boot, (unsigned int)(-300 * HZ)."""
    return (-300 * hz) % (1 << 32)


class Timer(enum.Enum):
    """HA_TIMER_TYPE: how the monitor's invariants are enforced between events."""

    NONE = "none"  # no invariant: no timer
    WHEEL = "wheel"  # HA_TIMER_WHEEL: jiffy resolution, fires at its bucket's expiry
    HRTIMER = "hrtimer"  # HA_TIMER_HRTIMER: ns resolution


class Tie(enum.Enum):
    """Which runs first when an event and a timer callback fall on the same nanosecond."""

    EVENT_FIRST = "event-first"  # default: the callback runs after its expiry instant
    TIMER_FIRST = "timer-first"


def timer_kind(automaton: Automaton) -> Timer:
    """The timer kind hamodel's kernel-C generator chooses for a model.

    No invariant needs no timer; invariants on jiffy clocks only go on the
    timer wheel (jiffy resolution is all they have); anything else gets an
    hrtimer, as rvgen writes for every model with an invariant.
    """
    clocks = {c.name: c.clock_kind for c in automaton.clocks}
    kinds = [clocks.get(s.invariant.clock) for s in automaton.states if s.invariant]
    if not kinds:
        return Timer.NONE
    if all(k is ClockKind.JIFFIES for k in kinds):
        return Timer.WHEEL
    return Timer.HRTIMER


@dataclass(frozen=True, slots=True)
class Platform:
    """The kernel around a monitor, as far as its verdicts depend on it."""

    hz: int = DEFAULT_HZ
    timer: Timer | None = None  # None: the kind hamodel's kernel-C generator chooses
    tie: Tie = Tie.EVENT_FIRST
    latency_ns: int = 0  # how long after its expiry a timer callback runs
    wheel_clk_ahead: bool = False  # the wheel's clock is a jiffy ahead (its softirq ran)


class ViolationKind(enum.Enum):
    INVALID_EVENT = "invalid_event"  # no transition for the event (error_<monitor>)
    GUARD = "guard"  # the transition's guard is false (error_env_<monitor>)
    # the state's invariant is false: found by the timer (event None) or by an
    # event that came before the timer ran (error_env_<monitor> with its name)
    INVARIANT = "invariant"


class StartResult(enum.Enum):
    STARTED = "started"
    ALREADY = "already"  # the object is being monitored: nothing changes


class StopResult(enum.Enum):
    STOPPED = "stopped"  # was monitored, within its invariants
    NOT_MONITORED = "not_monitored"
    VIOLATED = "violated"  # a violation ended monitoring since the last start


@dataclass(frozen=True, slots=True)
class Moved:
    """A processed event: the object went from `src` to `dst` (event_<monitor>)."""

    obj: Hashable
    time: int
    src: str
    event: str
    dst: str


@dataclass(frozen=True, slots=True)
class Violation:
    """What the kernel reports with error_<monitor> / error_env_<monitor>.

    `event` is None for a timer (the kernel prints "none"). `clocks` gives each
    clock's value at `time` (None when unset); `env` is every env as the
    kernel prints it (`ha_get_env_string`: u64, an unset clock wraps);
    `residency` the ns spent in each state since monitoring started, the
    current interval included.
    """

    obj: Hashable
    time: int
    state: str
    event: str | None
    kind: ViolationKind
    clocks: tuple[tuple[str, int | None], ...]
    residency: tuple[tuple[str, int], ...]
    env: tuple[tuple[str, int], ...] = ()

    def env_text(self) -> str:
        """The env string of error_env_<monitor> ("clk=12,irq_off=0")."""
        return ",".join(f"{name}={value}" for name, value in self.env)


Outcome = Moved | Violation


@dataclass(frozen=True, slots=True)
class ObjectState:
    """One monitored object between two calls (struct ha_monitor plus bookkeeping)."""

    state: str
    started_at: int
    entered_at: int
    store: tuple[int, ...]  # env_store[]: per clock its reset (ns or jiffies), U64_MAX unset
    fire_at: int | None  # when the armed timer's callback runs (ns), None when not armed
    residency: tuple[int, ...]  # per state, completed intervals only
    params: tuple[tuple[str, int], ...] = ()
    armings: int = 0  # how many times a timer was started: a new one queues after its equals


@dataclass(frozen=True, slots=True)
class _Transition:
    """One cell of the kernel's table, with the constraint rvgen writes for it."""

    dst: str
    guard: Guard | None
    resets: tuple[int, ...]  # clock indices
    escapes: tuple[int, ...]  # clocks the guard reads: any unset one makes it hold


class Semantics:
    """Pure functions over ObjectState for one automaton on one platform."""

    def __init__(self, automaton: Automaton, platform: Platform | None = None) -> None:
        self.automaton = a = automaton
        self.platform = platform = platform or Platform()
        self.timer = platform.timer or timer_kind(a)
        self.hz = platform.hz
        self.tick_ns = tick_nsec(self.hz)
        self.jiffies0 = initial_jiffies(self.hz)
        self.clock_names = tuple(c.name for c in a.clocks)
        self._clock_index = {n: i for i, n in enumerate(self.clock_names)}
        self._jiffy = tuple(c.clock_kind is ClockKind.JIFFIES for c in a.clocks)
        # HA_CLK_NS: without an ns clock, ha_get_ns() is 0 and nothing reads ktime
        self._reads_ns = any(not j for j in self._jiffy)
        self._readonly = tuple(e.name for e in a.envs if not e.stored)
        self._state_index = {s.name: i for i, s in enumerate(a.states)}
        self._state_names = tuple(s.name for s in a.states)
        self._invariant = {s.name: s.invariant for s in a.states}
        self._events = {e.name for e in a.events}
        self._table: dict[tuple[str, str], _Transition] = {}
        groups: dict[tuple[str, str], list] = {}
        for edge in a.edges:
            groups.setdefault((edge.src, edge.event), []).append(edge)
        for key, edges in groups.items():
            # da_monitor.h keeps one next state per (state, event): the first edge's
            # in the model's canonical order; edges to it share it, guards OR-ed.
            same = [e for e in edges if e.dst == edges[0].dst]
            guard: Guard | None = None
            if all(e.guard is not None for e in same):
                guard = same[0].guard
                for e in same[1:]:
                    guard = Or(guard, e.guard)  # type: ignore[arg-type]
            read = {c.env for c in comparisons(guard)}
            self._table[key] = _Transition(
                dst=same[0].dst,
                guard=guard,
                resets=tuple(self._clock_index[r.env] for r in same[0].resets),
                escapes=tuple(i for i, n in enumerate(self.clock_names) if n in read),
            )
        # rvgen's self_loop_reset_events: events that reset a clock on some self-loop
        # re-arm the timer on every self-loop (ha_setup_invariants).
        self.self_loop_reset_events = frozenset(
            e.event for e in a.edges if e.src == e.dst and e.resets)
        self._init_resets = tuple(self._clock_index[r.env] for r in a.init_resets)

    # --- time --------------------------------------------------------------------

    def jiffies(self, t: int) -> int:
        """get_jiffies_64() at t ns since boot."""
        return (self.jiffies0 + t // self.tick_ns) % U64

    def jiffy_start(self, j: int) -> int:
        """The instant jiffies becomes j."""
        return ((j - self.jiffies0) % U64) * self.tick_ns

    def _time_ns(self, t: int) -> int:
        return t if self._reads_ns else 0

    # --- starting --------------------------------------------------------------------

    def start(self, t: int, params: Mapping[str, int] | None = None) -> ObjectState:
        """da_monitor_start(): the initial state, every clock unset, no timer armed;
        then, for a model whose `__init` arrow resets clocks, what its generated
        start paths do at once: those resets, and the initial state's timer."""
        a = self.automaton
        obj = ObjectState(
            state=a.initial.name,
            started_at=t,
            entered_at=t,
            store=(U64_MAX,) * len(self.clock_names),
            fire_at=None,
            residency=(0,) * len(a.states),
            params=tuple(sorted((params or {}).items())),
        )
        if not self._init_resets:
            return obj
        store = list(obj.store)
        for i in self._init_resets:
            store[i] = self._clock_now(i, t)
        obj = _replace(obj, store=tuple(store))
        inv = self._invariant[a.initial.name]
        if inv is not None:
            obj = _replace(obj, fire_at=self._start_timer(obj, inv.clock, inv.bound, t),
                           armings=1)
        return obj

    # --- events ------------------------------------------------------------------------

    def require_event(self, event: str) -> None:
        if event not in self._events:
            raise SemanticsError(f"unknown event {event!r}")

    def step(
        self, obj: ObjectState, t: int, event: str, env: Mapping[str, int] | None = None
    ) -> tuple[ObjectState | None, Moved | Violation]:
        """da_event() with ha_monitor_handle_constraint(): one event of a monitored object.

        Returns the new state (None after a violation: da_monitor_reset()) and
        what the kernel traces.
        """
        self.require_event(event)
        env = env or {}
        cell = self._table.get((obj.state, event))
        if cell is None:
            return None, self.violation(None, obj, t, event, ViolationKind.INVALID_EVENT, env)
        # ha_verify_invariants(): the state being left must still hold at the event
        inv = self._invariant[obj.state]
        if inv is not None and not self._invariant_holds(obj, inv.clock, inv.bound, t):
            return None, self.violation(None, obj, t, event, ViolationKind.INVARIANT, env)
        # ha_verify_guards(): the guard reads the clocks, then the resets happen anyway
        holds = True
        if cell.guard is not None:
            holds = any(obj.store[i] == U64_MAX for i in cell.escapes) or self._guard(
                cell.guard, obj, t, env)
        store = list(obj.store)
        for i in cell.resets:
            store[i] = self._clock_now(i, t)
        moved = _replace(obj, store=tuple(store))
        if not holds:
            return None, self.violation(None, moved, t, event, ViolationKind.GUARD, env)
        # ha_setup_invariants()
        fire_at, armings = obj.fire_at, obj.armings
        dst_inv = self._invariant[cell.dst]
        if cell.dst == obj.state and event not in self.self_loop_reset_events:
            pass  # a self-loop leaves the timer as it is
        elif dst_inv is not None:
            fire_at = self._start_timer(moved, dst_inv.clock, dst_inv.bound, t)
            armings += 1
        elif inv is not None:
            fire_at = None  # ha_cancel_timer()
        spent, i = obj.residency, self._state_index[obj.state]
        if t != obj.entered_at:  # (slices: no per-state Python loop on a long model)
            spent = spent[:i] + (spent[i] + t - obj.entered_at,) + spent[i + 1:]
        new = _replace(moved, state=cell.dst, entered_at=t, fire_at=fire_at,
                       residency=spent, armings=armings)
        return new, Moved(None, t, obj.state, event, cell.dst)

    def overdue(self, obj: ObjectState, t: int) -> bool:
        """Whether the state's invariant is false at t (ha_verify_invariants at t)."""
        inv = self._invariant[obj.state]
        return inv is not None and not self._invariant_holds(obj, inv.clock, inv.bound, t)

    def _invariant_holds(self, obj: ObjectState, clock: str, bound: Value, t: int) -> bool:
        i = self._clock_index[clock]
        b = self.value(bound, obj) % U64
        if self._jiffy[i]:
            # ha_check_invariant_jiffy(): time_after64(store, jiffies - B), strict;
            # an unset clock (U64_MAX) fails it
            diff = (self.jiffies(t) - b - obj.store[i]) % U64
            return diff >= 1 << 63
        # ha_check_invariant_ns(): store >= now - B in u64, non-strict; wraps while now < B
        return obj.store[i] >= (self._time_ns(t) - b) % U64

    def _start_timer(self, obj: ObjectState, clock: str, bound: Value, t: int) -> int:
        """ha_start_timer_ns() / ha_start_timer_jiffy(): when the callback will run."""
        i = self._clock_index[clock]
        b = self.value(bound, obj) % U64
        unset = obj.store[i] == U64_MAX
        if self._jiffy[i]:
            passed = 0 if unset else (self.jiffies(t) - obj.store[i]) % U64
            if self.timer is Timer.WHEEL:
                return self._mod_timer((self.jiffies(t) + b - passed) % U64, t)
            return self._hrtimer_start(self._jiffies_to_nsecs((b - passed) % U64), t)
        passed = 0 if unset else (self._time_ns(t) - obj.store[i]) % U64
        if self.timer is Timer.WHEEL:
            ticks = ((b - passed + self.tick_ns - 1) % U64) // (NSEC_PER_SEC // self.hz)
            return self._mod_timer((self.jiffies(t) + ticks) % U64, t)
        return self._hrtimer_start((b - passed) % U64, t)

    def _jiffies_to_nsecs(self, j: int) -> int:
        """jiffies_to_nsecs(): through jiffies_to_usecs(), an unsigned int that wraps."""
        return (((USEC_PER_SEC // self.hz) * j) % (1 << 32)) * 1000

    def _hrtimer_start(self, rel: int, t: int) -> int:
        """hrtimer_start(REL): ktime_add_safe() makes a negative or overflowing expiry
        KTIME_SEC_MAX seconds, which never comes."""
        tim = rel - U64 if rel > S64_MAX else rel
        res = tim + t
        if res > S64_MAX or res < 0 or res < tim or res < t:
            res = KTIME_SATURATED
        return max(res, t) + self.platform.latency_ns

    def _mod_timer(self, expires: int, t: int) -> int:
        """mod_timer(): the bucket calc_wheel_index() files the timer in fires at its
        expiry jiffy, at the earliest the next one."""
        now = self.jiffies(t)
        clk = (now + int(self.platform.wheel_clk_ahead)) % U64
        delta = (expires - clk) % U64
        if delta >= 1 << 63:
            bucket = clk
        else:
            depth = 9 if self.hz > 100 else 8
            cutoff = (LVL_SIZE - 1) << ((depth - 1) * LVL_CLK_SHIFT)
            if delta >= cutoff:
                expires = (clk + cutoff - (1 << ((depth - 1) * LVL_CLK_SHIFT))) % U64
                lvl = depth - 1
            else:
                lvl = 0
                while lvl < depth - 1 and delta >= (LVL_SIZE - 1) << (lvl * LVL_CLK_SHIFT):
                    lvl += 1
            shift = lvl * LVL_CLK_SHIFT
            bucket = (((expires >> shift) + 1) << shift) % U64
        if (bucket - (now + 1)) % U64 >= 1 << 63:  # time_before(bucket, now + 1)
            bucket = (now + 1) % U64
        return self.jiffy_start(bucket) + self.platform.latency_ns

    # --- timers ---------------------------------------------------------------------------

    def fire(self, obj: ObjectState, env: Mapping[str, int] | None = None) -> Violation:
        """__ha_monitor_timer_callback(): a monitored object's timer reports, whatever
        its clock says by then, and resets the monitor."""
        assert obj.fire_at is not None
        return self.violation(None, obj, obj.fire_at, None, ViolationKind.INVARIANT, env or {})

    # --- values ---------------------------------------------------------------------------

    def clock_value(self, obj: ObjectState, clock: str, t: int) -> int | None:
        i = self._clock_index[clock]
        if obj.store[i] == U64_MAX:
            return None
        return (self._clock_now(i, t) - obj.store[i]) % U64

    def _clock_now(self, i: int, t: int) -> int:
        return self.jiffies(t) if self._jiffy[i] else self._time_ns(t)

    def value(self, value: Value, obj: ObjectState) -> int:
        if isinstance(value, Number):
            return value.value
        params = dict(obj.params)
        if value.name not in params:
            raise SemanticsError(f"no value for parameter {value.name}")
        scale = value.unit.scale if value.unit else 1
        return params[value.name] * scale

    def env_value(self, obj: ObjectState, name: str, t: int, env: Mapping[str, int]) -> int:
        """ha_get_env(): a clock reads now - store in u64 (an unset one wraps)."""
        if name in self._clock_index:
            i = self._clock_index[name]
            return (self._clock_now(i, t) - obj.store[i]) % U64
        if name not in env:
            raise SemanticsError(f"event needs a value for env {name}")
        return int(env[name])

    def _guard(self, guard: Guard, obj: ObjectState, t: int, env: Mapping[str, int]) -> bool:
        if isinstance(guard, And):
            return self._guard(guard.left, obj, t, env) and self._guard(guard.right, obj, t, env)
        if isinstance(guard, Or):
            return self._guard(guard.left, obj, t, env) or self._guard(guard.right, obj, t, env)
        if isinstance(guard, Not):
            return not self._guard(guard.operand, obj, t, env)
        return self._compare(guard, obj, t, env)

    def _compare(self, cmp: Cmp, obj: ObjectState, t: int, env: Mapping[str, int]) -> bool:
        left = self.env_value(obj, cmp.env, t, env)
        return _OPS[cmp.op](left, self.value(cmp.value, obj) % U64)

    def residency(self, obj: ObjectState, t: int) -> tuple[tuple[str, int], ...]:
        spent = list(obj.residency)
        spent[self._state_index[obj.state]] += t - obj.entered_at
        return tuple(zip(self._state_names, spent, strict=True))

    def violation(
        self,
        obj_id: Hashable,
        obj: ObjectState,
        t: int,
        event: str | None,
        kind: ViolationKind,
        env: Mapping[str, int],
    ) -> Violation:
        clocks = tuple((c, self.clock_value(obj, c, t)) for c in self.clock_names)
        printed: tuple[tuple[str, int], ...] = ()
        if kind is not ViolationKind.INVALID_EVENT:
            printed = tuple(
                (name, self.env_value(obj, name, t, env) if name in self._clock_index
                 else int(env.get(name, 0)))
                for name in self.clock_names + self._readonly)
        return Violation(obj_id, t, obj.state, event, kind, clocks, self.residency(obj, t),
                         printed)


_OPS = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _replace(obj: ObjectState, **changes: object) -> ObjectState:
    fields = {
        "state": obj.state,
        "started_at": obj.started_at,
        "entered_at": obj.entered_at,
        "store": obj.store,
        "fire_at": obj.fire_at,
        "residency": obj.residency,
        "params": obj.params,
        "armings": obj.armings,
    }
    fields.update(changes)
    return ObjectState(**fields)  # type: ignore[arg-type]


@dataclass
class _Slot:
    status: str = "idle"  # idle | monitoring | violated
    obj: ObjectState | None = None


@dataclass
class Monitor:
    """Many objects of one model over one clock (calls in non-decreasing time).

    Every call first runs the timer callbacks due by its time (before it at the
    same nanosecond only with Tie.TIMER_FIRST), in the order they fire, ties in
    arming order, then acts.
    """

    automaton: Automaton
    params: Mapping[str, int] = field(default_factory=dict)
    hz: int = DEFAULT_HZ
    platform: Platform | None = None

    def __post_init__(self) -> None:
        platform = self.platform or Platform(hz=self.hz)
        self.sem = Semantics(self.automaton, platform)
        self._slots: dict[Hashable, _Slot] = {}
        self._timers: list[tuple[int, int, int, Hashable, ObjectState]] = []
        self._pushes = 0
        self._seq = 0
        self._armed_seq: dict[Hashable, int] = {}
        self._env: dict[str, int] = {}  # the read-only envs' values, last seen
        self.now = 0

    # --- public calls ---
    #
    # A call that is refused (SemanticsError: unknown event, missing parameter,
    # time going back) is refused before it changes anything.  Only a missing
    # env value is found late, after due timers fired: the exception then
    # carries those violations in `outcomes`.

    def start(
        self, obj: Hashable, t: int, params: Mapping[str, int] | None = None
    ) -> tuple[StartResult, list[Outcome]]:
        """The monitor's own start routine (e.g. tlob_start_task)."""
        fresh = self._fresh(t, params)
        out = self.advance(t)
        slot = self._slot(obj)
        if slot.status == "monitoring":
            return StartResult.ALREADY, out
        self._begin(obj, slot, fresh)
        return StartResult.STARTED, out

    def stop(self, obj: Hashable, t: int) -> tuple[StopResult, list[Outcome]]:
        """The monitor's own stop routine: da_monitor_reset() and the verdict since start.

        The stop checks the state's invariant at its instant, as an event would
        (ha_verify_invariants), so an overrun whose timer callback has not run yet
        (Platform.latency_ns) is reported as the timer would report it.
        """
        out = self.advance(t)
        slot = self._slot(obj)
        if slot.status == "monitoring" and slot.obj is not None:
            if self.sem.overdue(slot.obj, t):
                out.append(_with_obj(self.sem.violation(None, slot.obj, t, None,
                                                        ViolationKind.INVARIANT, self._env),
                                     obj))
                slot.status, slot.obj = "violated", None
        result = {
            "monitoring": StopResult.STOPPED,
            "violated": StopResult.VIOLATED,
            "idle": StopResult.NOT_MONITORED,
        }[slot.status]
        slot.status, slot.obj = "idle", None
        return result, out

    def event(
        self, obj: Hashable, t: int, event: str, env: Mapping[str, int] | None = None
    ) -> list[Outcome]:
        """da_handle_event(): ignored unless the object is monitored."""
        self.sem.require_event(event)
        out = self.advance(t)
        self._env.update(env or {})
        slot = self._slot(obj)
        if slot.status != "monitoring":
            return out
        return out + self._step(obj, slot, t, event, env, out)

    def start_event(
        self, obj: Hashable, t: int, event: str, env: Mapping[str, int] | None = None
    ) -> list[Outcome]:
        """da_handle_start_event(): an idle object starts and the event is not processed."""
        self.sem.require_event(event)
        fresh = self._fresh(t, None)
        out = self.advance(t)
        self._env.update(env or {})
        slot = self._slot(obj)
        if slot.status != "monitoring":
            self._begin(obj, slot, fresh)
            return out
        return out + self._step(obj, slot, t, event, env, out)

    def start_run_event(
        self, obj: Hashable, t: int, event: str, env: Mapping[str, int] | None = None
    ) -> list[Outcome]:
        """da_handle_start_run_event(): an idle object starts, then the event is processed."""
        self.sem.require_event(event)
        fresh = self._fresh(t, None)
        out = self.advance(t)
        self._env.update(env or {})
        slot = self._slot(obj)
        if slot.status != "monitoring":
            self._begin(obj, slot, fresh)
        return out + self._step(obj, slot, t, event, env, out)

    def reset(self, obj: Hashable, t: int) -> list[Outcome]:
        """da_reset(): the object stops being monitored, its timer cancelled."""
        out = self.advance(t)
        slot = self._slot(obj)
        if slot.status == "monitoring":
            slot.status, slot.obj = "idle", None
        return out

    def fork(self) -> Monitor:
        """An independent copy that shares what never changes (the automaton, the
        Semantics, the immutable object states): the checker replays witnesses
        that share a prefix from one copy of the state after it."""
        twin = copy.copy(self)
        twin._slots = {k: _Slot(s.status, s.obj) for k, s in self._slots.items()}
        # only the live timers: the others are skipped when they come due anyway
        twin._timers = [entry for entry in self._timers
                        if self._slots[entry[3]].status == "monitoring"
                        and self._slots[entry[3]].obj is entry[4]]
        heapq.heapify(twin._timers)
        twin._armed_seq = dict(self._armed_seq)
        twin._env = dict(self._env)
        return twin

    def advance(self, t: int) -> list[Outcome]:
        """Run the timer callbacks due by t."""
        if t < self.now:
            raise SemanticsError(f"time went back from {self.now} to {t}")
        self.now = t
        timers_first = self.sem.platform.tie is Tie.TIMER_FIRST
        out: list[Outcome] = []
        while self._timers:
            fire_at, _, _, obj_id, armed = self._timers[0]
            if fire_at > t or (fire_at == t and not timers_first):
                break
            heapq.heappop(self._timers)
            slot = self._slots[obj_id]
            if slot.status != "monitoring" or slot.obj is not armed:
                continue  # cancelled, re-armed or moved on since
            out.append(_with_obj(self.sem.fire(armed, self._env), obj_id))
            slot.status, slot.obj = "violated", None
        return out

    def residency(self, obj: Hashable, t: int) -> tuple[tuple[str, int], ...] | None:
        slot = self._slots.get(obj)
        if slot is None or slot.obj is None:
            return None
        return self.sem.residency(slot.obj, t)

    def state_of(self, obj: Hashable) -> str | None:
        slot = self._slots.get(obj)
        return slot.obj.state if slot and slot.obj else None

    def object_state(self, obj: Hashable) -> ObjectState | None:
        slot = self._slots.get(obj)
        return slot.obj if slot else None

    def objects(self) -> int:
        """How many objects are monitored now."""
        return sum(1 for s in self._slots.values() if s.status == "monitoring")

    def next_deadline(self) -> int | None:
        """When the next timer callback will run, if any is armed."""
        while self._timers:
            fire_at, _, _, obj_id, armed = self._timers[0]
            slot = self._slots[obj_id]
            if slot.status == "monitoring" and slot.obj is armed:
                return fire_at
            heapq.heappop(self._timers)
        return None

    # --- internals ---

    def _slot(self, obj: Hashable) -> _Slot:
        slot = self._slots.get(obj)
        if slot is None:
            slot = self._slots[obj] = _Slot()
        return slot

    def _fresh(self, t: int, params: Mapping[str, int] | None) -> ObjectState:
        """A just-started object (pure: a missing parameter is refused here)."""
        if t < self.now:
            raise SemanticsError(f"time went back from {self.now} to {t}")
        merged = dict(self.params)
        merged.update(params or {})
        return self.sem.start(t, merged)

    def _begin(self, obj: Hashable, slot: _Slot, fresh: ObjectState) -> None:
        slot.status = "monitoring"
        self._set(obj, slot, fresh, None)

    def _set(self, obj_id: Hashable, slot: _Slot, obj: ObjectState,
             before: ObjectState | None) -> None:
        slot.obj = obj
        if obj.fire_at is None or obj.fire_at >= NEVER:
            return
        # Entries are never removed: `advance` skips those whose object moved on.
        # A timer kept across a self-loop keeps its place among equal instants.
        if before is not None and before.armings == obj.armings:
            seq = self._armed_seq[obj_id]
        else:
            self._seq += 1
            seq = self._armed_seq[obj_id] = self._seq
        self._pushes += 1
        heapq.heappush(self._timers, (obj.fire_at, seq, self._pushes, obj_id, obj))

    def _step(self, obj_id: Hashable, slot: _Slot, t: int, event: str,
              env: Mapping[str, int] | None, fired: list[Outcome]) -> list[Outcome]:
        """Guards read the values this call brings; a timer report prints the last seen."""
        assert slot.obj is not None
        try:
            new, outcome = self.sem.step(slot.obj, t, event, env or {})
        except SemanticsError as exc:
            exc.outcomes = list(fired)  # timers that fired before the refusal
            raise
        outcome = _with_obj(outcome, obj_id)
        if new is None:
            slot.status, slot.obj = "violated", None
            return [outcome]
        self._set(obj_id, slot, new, slot.obj)
        return [outcome]


def _with_obj(outcome: Outcome, obj_id: Hashable) -> Outcome:
    if isinstance(outcome, Moved):
        return Moved(obj_id, outcome.time, outcome.src, outcome.event, outcome.dst)
    return Violation(obj_id, outcome.time, outcome.state, outcome.event, outcome.kind,
                     outcome.clocks, outcome.residency, outcome.env)
