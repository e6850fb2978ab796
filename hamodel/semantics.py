"""The executable timed semantics of a monitor: the oracle every other part is tested against.

Input: an Automaton and timestamped calls (start, event, stop) per monitored object.
Output: `Moved` and `Violation` records.  docs/semantics.md is the prose version of
this file; the two must say the same thing.

It follows the kernel's include/rv/da_monitor.h and include/rv/ha_monitor.h:

* time is integer ns; a jiffy clock reads `jiffies(t) - jiffies(reset)` with
  `jiffies(t) = t // TICK_NSEC` (the kernel's TICK_NSEC for the given HZ);
* an object is idle until started: explicitly (`start`, e.g. tlob_start_task),
  by a start event (`da_handle_start_event`: starts, the event itself is not
  processed) or by a start-run event (`da_handle_start_run_event`: starts, then
  processes the event in the same step, before any timer the start armed);
  events for an idle object are ignored (`da_handle_event`);
* starting sets the initial state, marks every clock unset
  (`ha_monitor_reset_all_stored`) and then applies the resets written on the
  `__init_X -> X` arrow, at the start instant;
* an event with no edge from the current state is a violation; an edge whose
  guard is false is a violation (`ha_verify_guards`); edges are tried in the
  model's canonical order and the first whose guard holds is taken (the kernel
  stores one per (state, event); hamodel keeps all and warns);
* a comparison that reads an unset clock holds (rvgen's `ha_monitor_env_invalid
  || ...` escape, applied per comparison);
* guards read clocks before the edge's resets; resets happen at the event instant;
* an invariant `clk < B` arms a timer when its state is entered (and on a
  self-loop that resets something; a plain self-loop keeps the timer, as
  `ha_setup_invariants` does). The timer fires at reset(clk) + B, or at
  entry + B when clk is unset (`passed = 0`), and the violation happens at that
  instant, between events.  `clk <= B` fires one unit later (B + 1 ns or
  B + 1 jiffy): the kernel arms both at B, hamodel keeps the model's meaning;
* at the same instant, a timer that is due fires before any event; entering a
  state whose invariant is already false fires at the entry instant;
* after any violation the object is idle again until it is started (`da_monitor_reset`);
  `stop` then reports that the budget was exceeded (tlob's -EOVERFLOW).
"""

from __future__ import annotations

import enum
import heapq
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field

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
    Value,
)

DEFAULT_HZ = 250
NSEC_PER_SEC = 1_000_000_000


class SemanticsError(ValueError):
    """A call the model cannot interpret: unknown event, missing value, time going back."""

    outcomes: list = []  # violations that fired before a late refusal (missing env value)


def tick_nsec(hz: int) -> int:
    """The kernel's TICK_NSEC: ns per jiffy, rounded to nearest."""
    return (NSEC_PER_SEC + hz // 2) // hz


class ViolationKind(enum.Enum):
    INVALID_EVENT = "invalid_event"  # no edge for the event in the current state
    GUARD = "guard"  # an edge exists, its guard is false
    INVARIANT = "invariant"  # the state's invariant timer fired


class StartResult(enum.Enum):
    STARTED = "started"
    ALREADY = "already"  # the object is being monitored: nothing changes


class StopResult(enum.Enum):
    STOPPED = "stopped"  # was monitored, within its invariants
    NOT_MONITORED = "not_monitored"
    VIOLATED = "violated"  # a violation ended monitoring since the last start


@dataclass(frozen=True, slots=True)
class Moved:
    """A processed event: the object went from `src` to `dst`."""

    obj: Hashable
    time: int
    src: str
    event: str
    dst: str


@dataclass(frozen=True, slots=True)
class Violation:
    """What the kernel reports with error_<monitor> / error_env_<monitor>.

    `event` is None for a timer (the kernel prints "none"). `clocks` gives each
    clock's value at `time` (None when unset), `residency` the ns spent in each
    state since monitoring started, the current interval included.
    """

    obj: Hashable
    time: int
    state: str
    event: str | None
    kind: ViolationKind
    clocks: tuple[tuple[str, int | None], ...]
    residency: tuple[tuple[str, int], ...]


Outcome = Moved | Violation


@dataclass(frozen=True, slots=True)
class ObjectState:
    """One monitored object between two calls."""

    state: str
    started_at: int
    entered_at: int
    clock_resets: tuple[int | None, ...]  # per clock: ns (ns clock) or jiffies at reset
    deadline: int | None  # ns instant the armed invariant timer fires
    residency: tuple[int, ...]  # per state, completed intervals only
    params: tuple[tuple[str, int], ...] = ()


class Semantics:
    """Pure functions over ObjectState for one automaton; `Monitor` keeps the objects."""

    def __init__(self, automaton: Automaton, hz: int = DEFAULT_HZ) -> None:
        self.automaton = automaton
        self.hz = hz
        self.tick_ns = tick_nsec(hz)
        self._clock_names = tuple(c.name for c in automaton.clocks)
        self._clock_index = {n: i for i, n in enumerate(self._clock_names)}
        self._jiffy = tuple(c.clock_kind is ClockKind.JIFFIES for c in automaton.clocks)
        self._state_index = {s.name: i for i, s in enumerate(automaton.states)}
        self._invariant = {s.name: s.invariant for s in automaton.states}
        self._events = {e.name for e in automaton.events}
        self._edges: dict[tuple[str, str], tuple[Edge, ...]] = {}
        for edge in automaton.edges:
            key = (edge.src, edge.event)
            self._edges[key] = self._edges.get(key, ()) + (edge,)

    # --- starting and stopping ---

    def start(self, t: int, params: Mapping[str, int] | None = None) -> ObjectState:
        a = self.automaton
        initial = a.initial.name
        resets: list[int | None] = [None] * len(self._clock_names)
        for r in a.init_resets:
            i = self._clock_index[r.env]
            resets[i] = self._clock_now(i, t)
        obj = ObjectState(
            state=initial,
            started_at=t,
            entered_at=t,
            clock_resets=tuple(resets),
            deadline=None,
            residency=(0,) * len(a.states),
            params=tuple(sorted((params or {}).items())),
        )
        return self._arm(obj, initial, t)

    # --- events ---

    def step(
        self, obj: ObjectState, t: int, event: str, env: Mapping[str, int] | None = None
    ) -> tuple[ObjectState | None, Moved | Violation]:
        """Process one event at t, whose timer (if due) the caller has fired already.

        Returns the new state (None after a violation) and what happened.
        """
        self.require_event(event)
        edges = self._edges.get((obj.state, event), ())
        if not edges:
            return None, self.violation(None, obj, t, event, ViolationKind.INVALID_EVENT)
        for edge in edges:
            if self.guard_holds(edge.guard, obj, t, env or {}):
                return self._take(obj, edge, t), Moved(None, t, edge.src, event, edge.dst)
        return None, self.violation(None, obj, t, event, ViolationKind.GUARD)

    def require_event(self, event: str) -> None:
        if event not in self._events:
            raise SemanticsError(f"unknown event {event!r}")

    def _take(self, obj: ObjectState, edge: Edge, t: int) -> ObjectState:
        resets = list(obj.clock_resets)
        for r in edge.resets:
            i = self._clock_index[r.env]
            resets[i] = self._clock_now(i, t)
        residency = list(obj.residency)
        residency[self._state_index[obj.state]] += t - obj.entered_at
        moved = ObjectState(
            state=edge.dst,
            started_at=obj.started_at,
            entered_at=t,
            clock_resets=tuple(resets),
            deadline=obj.deadline,
            residency=tuple(residency),
            params=obj.params,
        )
        if edge.src == edge.dst and not edge.resets:
            # A self-loop without resets keeps the timer that is running; only
            # the residency interval restarts, which sums to the same total.
            return moved
        return self._arm(moved, edge.dst, t)

    def _arm(self, obj: ObjectState, state: str, t: int) -> ObjectState:
        inv = self._invariant[state]
        deadline = None if inv is None else max(t, self.invariant_deadline(inv, obj, t))
        return ObjectState(
            obj.state,
            obj.started_at,
            obj.entered_at,
            obj.clock_resets,
            deadline,
            obj.residency,
            obj.params,
        )

    def invariant_deadline(self, inv: Invariant, obj: ObjectState, t: int) -> int:
        """The instant the invariant becomes false, counting from now if the clock is unset."""
        i = self._clock_index[inv.clock]
        bound = self.value(inv.bound, obj) + (0 if inv.strict else 1)
        reset = obj.clock_resets[i]
        if reset is None:
            reset = self._clock_now(i, t)
        if self._jiffy[i]:
            return (reset + bound) * self.tick_ns
        return reset + bound

    # --- timers ---

    def fire(self, obj: ObjectState) -> Violation:
        """The invariant violation of an object whose deadline has come."""
        assert obj.deadline is not None
        return self.violation(None, obj, obj.deadline, None, ViolationKind.INVARIANT)

    # --- values ---

    def clock_value(self, obj: ObjectState, clock: str, t: int) -> int | None:
        i = self._clock_index[clock]
        reset = obj.clock_resets[i]
        if reset is None:
            return None
        return self._clock_now(i, t) - reset

    def _clock_now(self, i: int, t: int) -> int:
        return t // self.tick_ns if self._jiffy[i] else t

    def value(self, value: Value, obj: ObjectState) -> int:
        if isinstance(value, Number):
            return value.value
        params = dict(obj.params)
        if value.name not in params:
            raise SemanticsError(f"no value for parameter {value.name}")
        scale = value.unit.scale if value.unit else 1
        return params[value.name] * scale

    def guard_holds(
        self, guard: Guard | None, obj: ObjectState, t: int, env: Mapping[str, int]
    ) -> bool:
        if guard is None:
            return True
        if isinstance(guard, And):
            return self.guard_holds(guard.left, obj, t, env) and self.guard_holds(
                guard.right, obj, t, env
            )
        if isinstance(guard, Or):
            return self.guard_holds(guard.left, obj, t, env) or self.guard_holds(
                guard.right, obj, t, env
            )
        if isinstance(guard, Not):
            return not self.guard_holds(guard.operand, obj, t, env)
        return self._compare(guard, obj, t, env)

    def _compare(self, cmp: Cmp, obj: ObjectState, t: int, env: Mapping[str, int]) -> bool:
        if cmp.env in self._clock_index:
            left = self.clock_value(obj, cmp.env, t)
            if left is None:
                return True  # the kernel's unset-clock escape
        elif cmp.env in env:
            left = int(env[cmp.env])
        else:
            raise SemanticsError(f"event needs a value for env {cmp.env}")
        return _OPS[cmp.op](left, self.value(cmp.value, obj))

    def residency(self, obj: ObjectState, t: int) -> tuple[tuple[str, int], ...]:
        spent = list(obj.residency)
        spent[self._state_index[obj.state]] += t - obj.entered_at
        return tuple((s.name, spent[i]) for i, s in enumerate(self.automaton.states))

    def violation(
        self,
        obj_id: Hashable,
        obj: ObjectState,
        t: int,
        event: str | None,
        kind: ViolationKind,
    ) -> Violation:
        clocks = tuple((c, self.clock_value(obj, c, t)) for c in self._clock_names)
        return Violation(obj_id, t, obj.state, event, kind, clocks, self.residency(obj, t))


_OPS = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


@dataclass
class _Slot:
    status: str = "idle"  # idle | monitoring | violated
    obj: ObjectState | None = None


@dataclass
class Monitor:
    """Many objects of one model over one global clock (events in non-decreasing time).

    Every call first fires the invariant timers due at or before its time, in
    time order (ties in the order objects were first seen), then acts.
    """

    automaton: Automaton
    params: Mapping[str, int] = field(default_factory=dict)
    hz: int = DEFAULT_HZ

    def __post_init__(self) -> None:
        self.sem = Semantics(self.automaton, self.hz)
        self._slots: dict[Hashable, _Slot] = {}
        self._order: dict[Hashable, int] = {}
        self._timers: list[tuple[int, int, int, Hashable, ObjectState]] = []
        self._seq = 0
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
        fresh = self._fresh(t, params)
        out = self.advance(t)
        slot = self._slot(obj)
        if slot.status == "monitoring":
            return StartResult.ALREADY, out
        self._begin(obj, slot, fresh)
        out += self.advance(t)  # an initial invariant that is false at once
        return StartResult.STARTED, out

    def stop(self, obj: Hashable, t: int) -> tuple[StopResult, list[Outcome]]:
        out = self.advance(t)
        slot = self._slot(obj)
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
        """`da_handle_event`: ignored unless the object is monitored."""
        self.sem.require_event(event)
        out = self.advance(t)
        slot = self._slot(obj)
        if slot.status != "monitoring":
            return out
        return out + self._step(obj, slot, t, event, env, out)

    def start_event(
        self, obj: Hashable, t: int, event: str, env: Mapping[str, int] | None = None
    ) -> list[Outcome]:
        """`da_handle_start_event`: an idle object starts and the event is not processed."""
        self.sem.require_event(event)
        fresh = self._fresh(t, None)
        out = self.advance(t)
        slot = self._slot(obj)
        if slot.status != "monitoring":
            self._begin(obj, slot, fresh)
            return out + self.advance(t)
        return out + self._step(obj, slot, t, event, env, out)

    def start_run_event(
        self, obj: Hashable, t: int, event: str, env: Mapping[str, int] | None = None
    ) -> list[Outcome]:
        """`da_handle_start_run_event`: an idle object starts, then the event is processed."""
        self.sem.require_event(event)
        fresh = self._fresh(t, None)
        out = self.advance(t)
        slot = self._slot(obj)
        if slot.status != "monitoring":
            self._begin(obj, slot, fresh)
        return out + self._step(obj, slot, t, event, env, out)

    def advance(self, t: int) -> list[Outcome]:
        """Fire every timer due at or before t."""
        if t < self.now:
            raise SemanticsError(f"time went back from {self.now} to {t}")
        self.now = t
        out: list[Outcome] = []
        while self._timers and self._timers[0][0] <= t:
            _, _, _, obj_id, armed = heapq.heappop(self._timers)
            slot = self._slots[obj_id]
            if slot.status != "monitoring" or slot.obj is not armed:
                continue  # cancelled or re-armed since
            v = self.sem.fire(armed)
            out.append(_with_obj(v, obj_id))
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

    def objects(self) -> int:
        """How many objects are monitored now."""
        return sum(1 for s in self._slots.values() if s.status == "monitoring")

    def next_deadline(self) -> int | None:
        while self._timers:
            deadline, _, _, obj_id, armed = self._timers[0]
            slot = self._slots[obj_id]
            if slot.status == "monitoring" and slot.obj is armed:
                return deadline
            heapq.heappop(self._timers)
        return None

    # --- internals ---

    def _slot(self, obj: Hashable) -> _Slot:
        slot = self._slots.get(obj)
        if slot is None:
            slot = self._slots[obj] = _Slot()
            self._order[obj] = len(self._order)
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
        self._set(obj, slot, fresh)

    def _set(self, obj_id: Hashable, slot: _Slot, obj: ObjectState) -> None:
        slot.obj = obj
        if obj.deadline is not None:
            # Entries are never removed: `advance` skips those whose object moved on.
            self._seq += 1
            entry = (obj.deadline, self._order[obj_id], self._seq, obj_id, obj)
            heapq.heappush(self._timers, entry)

    def _step(
        self,
        obj_id: Hashable,
        slot: _Slot,
        t: int,
        event: str,
        env: Mapping[str, int] | None,
        fired: list[Outcome],
    ) -> list[Outcome]:
        assert slot.obj is not None
        try:
            new, outcome = self.sem.step(slot.obj, t, event, env)
        except SemanticsError as exc:
            exc.outcomes = list(fired)  # timers that fired before the refusal
            raise
        outcome = _with_obj(outcome, obj_id)
        if new is None:
            slot.status, slot.obj = "violated", None
            return [outcome]
        self._set(obj_id, slot, new)
        return [outcome, *self.advance(t)]


def _with_obj(outcome: Outcome, obj_id: Hashable) -> Outcome:
    if isinstance(outcome, Moved):
        return Moved(obj_id, outcome.time, outcome.src, outcome.event, outcome.dst)
    return Violation(
        obj_id,
        outcome.time,
        outcome.state,
        outcome.event,
        outcome.kind,
        outcome.clocks,
        outcome.residency,
    )
