"""Exact timed reachability: Automaton + parameter valuation + Timing -> ZoneGraph.

The explorer walks the zone graph of what the kernel's framework does with the
monitor (hamodel.semantics), not UPPAAL's semantics: an event with no table
cell, an invariant that fails the framework's check at an event, a false guard
and a firing timer are *outcomes* (violations) recorded where they can happen,
never blocked moves.

A node is (state, unset clocks, timer mode, zone).  The timer mode is what
ha_setup_invariants left armed: NONE (no invariant, or monitoring started and
nothing armed it yet), ARMED (it fires when the invariant clock reaches the
state's `fire` value) or EXPIRED (armed while the framework's invariant was
already false: the state is reached and traced, every event there fails the
check, and the timer fires late or never).  An unset invariant clock's column
holds the time since the arming, because `ha_invariant_passed_*` is 0 for an
unset clock; other unset clocks' columns are free (nothing reads them: the
guard's escape makes any guard reading an unset clock hold).

Guarantee: integer time, closed constraints, and Extra+_LU extrapolation with
per-state constants (every bound a guard, a check, an arming or a timer
compares a clock with, propagated backwards over edges that keep the clock)
make the exploration finite and exact for the exact timings of timing.py: a
state, outcome or guard evaluation is recorded iff some integer-timed run
produces it.  With an inexact timing (a firing window) the graph holds every
run and possibly more.  Search is breadth-first, so the first hit of anything
has fewest events.

What depends on the model only (each cell's guards as DBM bounds, escapes,
resets, the extrapolation constants) is compiled once in plans.py; per node the
explorer does zone arithmetic, and records each fact about an edge once.
"""

from __future__ import annotations

import enum
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from hamodel.check import dbm
from hamodel.check.cells import Table, table
from hamodel.check.gcpause import collection_paused
from hamodel.check.plans import CellPlan, Formula, cell_plans, extrapolation_bounds
from hamodel.check.timing import Timing, Unsupported, timing
from hamodel.model import Automaton
from hamodel.semantics import Platform

__all__ = ["ExplorationLimit", "Hit", "Mode", "Node", "Step", "Unsupported", "ZoneGraph",
           "explore"]


class ExplorationLimit(RuntimeError):
    """The time budget ran out before the zone graph was complete."""


class Mode(enum.Enum):
    NONE = "none"
    ARMED = "armed"
    EXPIRED = "expired"

    # members are singletons: hash them by identity (in C), as the explorer keys
    # its tables by mode once per node
    __hash__ = object.__hash__


_ARMED, _EXPIRED = Mode.ARMED, Mode.EXPIRED  # module names: read once per node


# Step, Node and Hit are typed named tuples rather than frozen dataclasses: the
# explorer makes one or more per node, and a frozen dataclass's constructor
# (one object.__setattr__ per field) cost about as much as a node's zone arithmetic.


class Step(NamedTuple):
    """One event of a path: the table cell taken (its first edge), the timer after,
    and the disjunct of the cell's guard it took (-1: none read, or escaped)."""

    event: str
    edge: int
    mode: Mode
    part: int = -1


class Node(NamedTuple):
    id: int
    state: str
    unset: frozenset[str]
    mode: Mode
    zone: dbm.Matrix
    parent: int | None
    step: Step | None
    depth: int


class Hit(NamedTuple):
    """Something observed at `node`, optionally by an `event` (of the cell of `edge`)."""

    node: int
    event: str | None = None
    edge: int | None = None


@dataclass
class ZoneGraph:
    automaton: Automaton
    params: Mapping[str, int]
    timing: Timing
    table: Table
    clocks: tuple[str, ...]
    nodes: list[Node] = field(default_factory=list)
    by_state: dict[str, list[int]] = field(default_factory=dict)
    reached: dict[str, Hit] = field(default_factory=dict)
    # outcomes, in semantics' ViolationKind words
    invalid_event: dict[tuple[str, str], Hit] = field(default_factory=dict)
    guard_violation: dict[tuple[str, str], Hit] = field(default_factory=dict)
    late_event: dict[tuple[str, str], Hit] = field(default_factory=dict)  # check fails
    timer: dict[str, Hit] = field(default_factory=dict)  # the callback reports
    expired_entry: dict[int, Hit] = field(default_factory=dict)  # per cell (first edge)
    # per edge: where its guard was evaluated (the check passed), held, failed,
    # held alone among the cell's edges; per dropped edge: where its own guard held
    evaluated: dict[int, Hit] = field(default_factory=dict)
    evaluated_set: set[int] = field(default_factory=set)  # ... with no clock unset
    guard_holds: dict[int, Hit] = field(default_factory=dict)
    guard_fails: dict[int, Hit] = field(default_factory=dict)
    only: dict[int, Hit] = field(default_factory=dict)
    dropped_holds: dict[int, Hit] = field(default_factory=dict)
    taken: dict[tuple[str, str], Hit] = field(default_factory=dict)
    # states where a move from an armed node leaves, or re-arms to a later deadline
    timer_escape: set[str] = field(default_factory=set)

    def path(self, node_id: int) -> tuple[Step, ...]:
        steps: list[Step] = []
        node = self.nodes[node_id]
        while node.parent is not None:
            assert node.step is not None
            steps.append(node.step)
            node = self.nodes[node.parent]
        return tuple(reversed(steps))

    def violation_hits(self) -> list[tuple[str, Hit]]:
        """Every violation found, as (goal kind, hit)."""
        out: list[tuple[str, Hit]] = []
        out += [("invalid_event", h) for h in self.invalid_event.values()]
        out += [("guard", h) for h in self.guard_violation.values()]
        out += [("late", h) for h in self.late_event.values()]
        out += [("timer", h) for h in self.timer.values()]
        return out


def explore(
    automaton: Automaton,
    params: Mapping[str, int],
    platform: Platform | None = None,
    budget_s: float = 10.0,
    max_nodes: int = 500_000,
) -> ZoneGraph:
    tm = timing(automaton, platform or Platform(), params)
    clocks = tuple(c.name for c in automaton.clocks)
    g = ZoneGraph(automaton, params, tm, table(automaton), clocks)
    with collection_paused():
        _Explorer(g, time.monotonic() + budget_s, max_nodes).run()
    return g


class _Explorer:
    def __init__(self, g: ZoneGraph, deadline: float, max_nodes: int) -> None:
        self.g = g
        self.a = g.automaton
        self.tm = g.timing
        self.clockset = frozenset(g.clocks)
        self.n = len(g.clocks)
        self.index = {c: i + 1 for i, c in enumerate(g.clocks)}
        self.deadline, self.max_nodes = deadline, max_nodes
        self.lows, self.ups = extrapolation_bounds(self.a, self.tm, g.params, self.index)
        # per state: its timing and the DBM column of its invariant's clock
        self.states = {s.name: (self.tm.states.get(s.name), self.index.get(
            s.invariant.clock, 0) if s.invariant else 0) for s in self.a.states}
        self.plans = cell_plans(self.a, g.table, g.params, self.index)
        self.events = tuple(e.name for e in self.a.events)
        self.passed: dict[tuple, list[tuple[dbm.Matrix, int]]] = {}
        self._kinds: dict[tuple, tuple] = {}  # per (state, unset, mode): see _kind
        self.rows: dict[str, tuple[tuple[str, tuple[str, str], CellPlan | None], ...]] = {}

    # --- zone helpers ---

    def _some(self, zone: dbm.Matrix, f: Formula) -> bool:
        """Whether a disjunct of f holds somewhere in the zone."""
        n = self.n
        constrain = dbm.constrain
        for d in f:
            z = zone
            for i, j, c in d.bounds:
                z = constrain(z, n, i, j, c)
                if z[0] < 0:
                    break
            if z[0] >= 0:
                return True
        return False

    def _parts(self, zone: dbm.Matrix, f: Formula) -> list[tuple[dbm.Matrix, int]]:
        """The non-empty parts of the zone where a disjunct holds, with its index."""
        n = self.n
        constrain = dbm.constrain
        out = []
        for d in f:
            z = zone
            for i, j, c in d.bounds:
                z = constrain(z, n, i, j, c)
                if z[0] < 0:
                    break
            if z[0] >= 0:
                out.append((z, d.index))
        return out

    # --- search ---

    def run(self) -> None:
        a = self.a
        unset = self.clockset - frozenset(r.env for r in a.init_resets)
        zone = dbm.zero(self.n)
        mode = Mode.NONE
        st = self.tm.states.get(a.initial.name)
        if a.init_resets and st is not None:
            # the generated start path applies the `__init` resets and arms the timer
            mode = Mode.ARMED if st.pass_max is None or st.pass_max >= 0 else Mode.EXPIRED
        queue: deque[int] = deque()
        self._add(a.initial.name, unset, mode, zone, None, None, -1, queue)
        nodes = self.g.nodes
        while queue:
            if time.monotonic() > self.deadline or len(nodes) > self.max_nodes:
                raise ExplorationLimit(f"zone graph not complete after {len(nodes)} nodes")
            self._expand(nodes[queue.popleft()], queue)

    def _add(self, state: str, unset: frozenset[str], mode: Mode, entry: dbm.Matrix,
             parent: Node | None, plan: CellPlan | None, part: int, queue: deque[int]) -> int:
        """The node for this entry (made by `plan`'s cell from `parent`, on its
        guard's disjunct `part`), or the earlier one that covers it."""
        n = self.n
        key = (state, unset, mode)
        kind = self._kinds.get(key)
        if kind is None:
            kind = self._kinds[key] = self._kind(state, unset, mode)
        freed, fire_col, fire_hi, lows, ups, seen, times = kind
        for i in freed:
            entry = dbm.free(entry, n, i)
        if mode is _EXPIRED:
            zone = entry  # a leaf: only violations follow, the first at once
            # An expired node is a leaf that shows how it was entered: one per entering cell.
            seen_key = (key, plan.first if plan is not None else None)
            seen = self.passed.get(seen_key)
            if seen is None:
                seen = self.passed[seen_key] = []
        else:
            zone = dbm.up(entry, n)
            if fire_hi is not None:
                zone = dbm.constrain(zone, n, fire_col, 0, fire_hi)
        zone = dbm.extrapolate_lu(zone, n, lows, ups)
        for old, nid in seen:
            if dbm.includes(old, zone):
                return nid
        g = self.g
        nodes = g.nodes
        nid = len(nodes)
        if parent is None or plan is None:
            node = Node(nid, state, unset, mode, zone, None, None, 0)
        else:
            node = Node(nid, state, unset, mode, zone, parent.id,
                        Step(plan.event, plan.first, mode, part), parent.depth + 1)
        seen.append((zone, nid))
        nodes.append(node)
        at = g.by_state.get(state)
        if at is None:
            g.by_state[state] = [nid]
            g.reached[state] = Hit(nid)
        else:
            at.append(nid)
        if times and state not in g.timer:
            g.timer[state] = Hit(nid)
        queue.append(nid)
        return nid

    def _kind(self, state: str, unset: frozenset[str], mode: Mode) -> tuple:
        """What _add needs for the nodes of (state, unset clocks, timer mode): the
        columns freed on entry, the armed timer's column and latest firing, the
        extrapolation constants, the zones met so far (not for expired nodes,
        kept per entering cell), and whether the timer's callback can run here."""
        st, col = self.states[state]
        freed = tuple(self.index[c] for c in sorted(unset)
                      if not (mode is _ARMED and st is not None and c == st.clock))
        fire_hi = st.fire_hi if mode is _ARMED and st is not None else None
        times = st is not None and st.fire_lo is not None and (
            mode is _ARMED or (mode is _EXPIRED and st.expired_fires))
        seen: list[tuple[dbm.Matrix, int]] = []
        if mode is not _EXPIRED:
            self.passed[(state, unset, mode)] = seen
        return freed, col, fire_hi, self.lows[state], self.ups[state], seen, times

    def _events_zone(self, node: Node) -> dbm.Matrix:
        """Where an event can still come before the timer's callback."""
        st, col = self.states[node.state]
        if st is None:
            return node.zone
        if node.mode is _ARMED and st.event_max is not None:
            return dbm.constrain(node.zone, self.n, col, 0, st.event_max)
        if node.mode is _EXPIRED and st.expired_now:
            assert st.pass_max is not None  # armed at the bound: due at once
            return dbm.constrain(node.zone, self.n, 0, col, -(st.pass_max + 2))
        return node.zone

    def _check(self, node: Node, zone: dbm.Matrix) -> tuple[dbm.Matrix | None, bool]:
        """ha_verify_invariants at an event: (where it passes or None, whether it can fail)."""
        st, col = self.states[node.state]
        if st is None:
            return zone, False
        if node.mode is _EXPIRED:
            return None, True
        if st.clock in node.unset:
            return (zone, False) if st.unset_passes else (None, True)
        if st.pass_max is None:
            return zone, False
        ok = dbm.constrain(zone, self.n, col, 0, st.pass_max)
        bad = dbm.constrain(zone, self.n, 0, col, -(st.pass_max + 1))
        return (None if ok[0] < 0 else ok), bad[0] >= 0

    def _expand(self, node: Node, queue: deque[int]) -> None:
        g = self.g
        zone = self._events_zone(node)
        if zone[0] < 0:
            return  # the timer runs before any event could
        ok, fails = self._check(node, zone)
        row = self.rows.get(node.state)
        if row is None:  # per state: each event, its (state, event) key and its cell's plan
            row = self.rows[node.state] = tuple(
                (e, (node.state, e), self.plans.get((node.state, e))) for e in self.events)
        for e, key, plan in row:
            if plan is None:
                if key not in g.invalid_event:
                    g.invalid_event[key] = Hit(node.id, e)
                continue
            if fails and key not in g.late_event:
                g.late_event[key] = Hit(node.id, e, plan.first)
            if ok is not None:
                self._evaluate(node, plan, ok, queue)

    def _evaluate(self, node: Node, plan: CellPlan, ok: dbm.Matrix, queue: deque[int]) -> None:
        """ha_verify_guards on the part of the zone where the check passed."""
        g = self.g
        unset = node.unset
        key, event = plan.key, plan.event
        fails: bool | None = None  # whether the joined guard fails somewhere, once known
        reads_unset = bool(unset) and not plan.reads.isdisjoint(unset)
        if plan.escaped or reads_unset:
            holds = [(ok, -1)]
        else:
            holds = self._parts(ok, plan.holds)
            if key not in g.guard_violation:
                fails = self._some(ok, plan.fails)
                if fails:
                    g.guard_violation[key] = Hit(node.id, event, plan.first)
        if plan.single:
            # the edge's guard is the cell's: what holds and fails is known already
            k = plan.first
            if k not in g.evaluated:
                g.evaluated[k] = Hit(node.id, event, k)
            if reads_unset:
                if k not in g.guard_holds:
                    g.guard_holds[k] = Hit(node.id, event, k)
            else:
                g.evaluated_set.add(k)
                if holds and k not in g.guard_holds:
                    g.guard_holds[k] = Hit(node.id, event, k)
                if k not in g.guard_fails and not plan.escaped:
                    if fails is None:
                        fails = self._some(ok, plan.fails)
                    if fails:
                        g.guard_fails[k] = Hit(node.id, event, k)
        # each edge's own guard, for the findings about edges (each fact once)
        for ep in () if plan.single else plan.edges:
            k = ep.edge
            if k not in g.evaluated:
                g.evaluated[k] = Hit(node.id, event, k)
            if ep.escapes & unset:
                if k not in g.guard_holds:
                    g.guard_holds[k] = Hit(node.id, event, k)
                continue
            g.evaluated_set.add(k)
            if k not in g.guard_holds and self._some(ok, ep.holds):
                g.guard_holds[k] = Hit(node.id, event, k)
            if k not in g.guard_fails and self._some(ok, ep.fails):
                g.guard_fails[k] = Hit(node.id, event, k)
            if ep.alone is not None and k not in g.only and not (plan.any_escapes & unset) \
                    and self._some(ok, ep.alone):
                g.only[k] = Hit(node.id, event, k)
        for dp in plan.dropped:
            k = dp.edge
            if k not in g.dropped_holds and (dp.reads & unset or self._some(ok, dp.holds)):
                g.dropped_holds[k] = Hit(node.id, event, k)
        if holds and key not in g.taken:
            g.taken[key] = Hit(node.id, event, plan.first)
        for part, index in holds:
            self._take(node, plan, part, index, queue)

    def _take(self, node: Node, plan: CellPlan, zone: dbm.Matrix, part: int,
              queue: deque[int]) -> None:
        """The resets, then ha_setup_invariants: keep, arm, or cancel the timer."""
        n = self.n
        unset = node.unset
        dst, first = plan.dst, plan.first
        for i in plan.resets:
            zone = dbm.reset(zone, n, i)
        if unset and plan.reset_names:
            unset = unset - plan.reset_names
        if not plan.rearms:
            self._add(dst, unset, node.mode, zone, node, plan, part, queue)
            return
        src_st = self.states[plan.src][0]
        st, col = self.states[dst]
        if node.mode is _ARMED and src_st is not None and (
                dst != plan.src or src_st.clock in plan.reset_names
                or src_st.clock in node.unset):
            self.g.timer_escape.add(node.state)
        parts: list[tuple[Mode, dbm.Matrix]]
        if st is None:
            parts = [(Mode.NONE, zone)]
        elif st.clock in unset:
            # passed = 0: the timer counts from now
            zone = dbm.reset(zone, n, col)
            armed = st.pass_max is None or st.pass_max >= 0
            parts = [(_ARMED if armed else _EXPIRED, zone)]
        elif st.pass_max is None:
            parts = [(_ARMED, zone)]
        else:
            parts = [(_ARMED, dbm.constrain(zone, n, col, 0, st.pass_max)),
                     (_EXPIRED, dbm.constrain(zone, n, 0, col, -(st.pass_max + 1)))]
        for mode, zone_part in parts:
            if zone_part[0] < 0:
                continue
            nid = self._add(dst, unset, mode, zone_part, node, plan, part, queue)
            if mode is _EXPIRED and first not in self.g.expired_entry:
                self.g.expired_entry[first] = Hit(nid)
