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
"""

from __future__ import annotations

import enum
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field

from hamodel.check import dbm
from hamodel.check.cells import Cell, Table, edge_reads, escapes_of, table
from hamodel.check.constraints import (
    ClockLit,
    Dnf,
    clock_lits,
    conjoin,
    dnf,
    env_solution,
    resolve,
)
from hamodel.check.timing import Timing, Unsupported, timing
from hamodel.model import Automaton, comparisons
from hamodel.semantics import Platform

__all__ = ["ExplorationLimit", "Hit", "Mode", "Node", "Step", "Unsupported", "ZoneGraph",
           "explore"]


class ExplorationLimit(RuntimeError):
    """The time budget ran out before the zone graph was complete."""


class Mode(enum.Enum):
    NONE = "none"
    ARMED = "armed"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class Step:
    """One event of a path: the table cell taken (its first edge), the timer after,
    and the disjunct of the cell's guard it took (-1: none read, or escaped)."""

    event: str
    edge: int
    mode: Mode
    part: int = -1


@dataclass(frozen=True, slots=True)
class Node:
    id: int
    state: str
    unset: frozenset[str]
    mode: Mode
    zone: dbm.Matrix
    parent: int | None
    step: Step | None
    depth: int


@dataclass(frozen=True, slots=True)
class Hit:
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
    _Explorer(g, time.monotonic() + budget_s, max_nodes).run()
    return g


class _Explorer:
    def __init__(self, g: ZoneGraph, deadline: float, max_nodes: int) -> None:
        self.g = g
        self.a = g.automaton
        self.params = g.params
        self.tm = g.timing
        self.clocks = g.clocks
        self.clockset = frozenset(g.clocks)
        self.n = len(g.clocks)
        self.index = {c: i + 1 for i, c in enumerate(g.clocks)}
        self.deadline, self.max_nodes = deadline, max_nodes
        self.lows, self.ups = self._bounds()
        self._dnf_cache: dict[tuple, Dnf] = {}
        self.passed: dict[tuple, list[tuple[dbm.Matrix, int]]] = {}

    # --- extrapolation constants: per state, propagated backwards over edges ---

    def _bounds(self) -> tuple[dict[str, list[int]], dict[str, list[int]]]:
        size = self.n + 1
        lows = {s.name: [-1] * size for s in self.a.states}
        ups = {s.name: [-1] * size for s in self.a.states}

        def note(state: str, clock: str, c: int | None) -> None:
            if c is None or c < 0:
                return
            i = self.index[clock]
            # a bound used both ways (checks, negated guards): count it as both
            for table_ in (lows, ups):
                table_[state][i] = max(table_[state][i], c + 1)

        for name, st in self.tm.states.items():
            for c in (st.pass_max, st.fire_lo, st.fire_hi, st.event_max):
                note(name, st.clock, c)
        for e in self.a.edges:
            for cmp in comparisons(e.guard):
                if cmp.env in self.clockset:
                    c = resolve(cmp.value, self.params)
                    if c >= 0:  # INFINITE (-1): no constant to remember
                        note(e.src, cmp.env, c)
            # the arming at the destination compares the clock in the source's zone
            st = self.tm.states.get(e.dst)
            if st is not None:
                note(e.src, st.clock, st.pass_max)
        # a worklist: a state whose constants grew passes them on to its predecessors
        before: dict[str, list[tuple[str, frozenset[int]]]] = {}
        for e in self.a.edges:
            before.setdefault(e.dst, []).append(
                (e.src, frozenset(self.index[r] for r in e.reset_envs)))
        todo = deque(s.name for s in self.a.states)
        waiting = set(todo)
        while todo:
            dst = todo.popleft()
            waiting.discard(dst)
            for src, reset in before.get(dst, ()):
                grew = False
                for i in range(1, size):
                    if i in reset:
                        continue
                    for table_ in (lows, ups):
                        if table_[dst][i] > table_[src][i]:
                            table_[src][i] = table_[dst][i]
                            grew = True
                if grew and src not in waiting:
                    waiting.add(src)
                    todo.append(src)
        return lows, ups

    # --- helpers ---

    def _dnf(self, key: object, guard, negate: bool) -> Dnf:
        k = (key, negate)
        if k not in self._dnf_cache:
            self._dnf_cache[k] = dnf(guard, self.clockset, self.params, negate)
        return self._dnf_cache[k]

    def _apply(self, zone: dbm.Matrix, lits: tuple[ClockLit, ...]) -> dbm.Matrix:
        for lit in lits:
            i = self.index[lit.clock]
            if lit.upper:
                zone = dbm.upper(zone, self.n, i, lit.bound)
            else:
                zone = dbm.lower(zone, self.n, i, lit.bound)
            if dbm.is_empty(zone, self.n):
                break
        return zone

    def _restrict(self, zone: dbm.Matrix, formula: Dnf) -> list[tuple[dbm.Matrix, int]]:
        """The non-empty parts of the zone where a disjunct holds for some env values,
        with the disjunct's index."""
        out = []
        for index, conj in enumerate(formula):
            if env_solution(conj) is None:
                continue
            z = self._apply(zone, clock_lits(conj))
            if not dbm.is_empty(z, self.n):
                out.append((z, index))
        return out

    def _upper(self, zone: dbm.Matrix, clock: str, c: int) -> dbm.Matrix:
        return dbm.upper(zone, self.n, self.index[clock], c)

    def _lower(self, zone: dbm.Matrix, clock: str, c: int) -> dbm.Matrix:
        return dbm.lower(zone, self.n, self.index[clock], c)

    def _empty(self, zone: dbm.Matrix) -> bool:
        return dbm.is_empty(zone, self.n)

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
        self._add(a.initial.name, unset, mode, zone, None, None, 0, queue)
        while queue:
            if time.monotonic() > self.deadline or len(self.g.nodes) > self.max_nodes:
                raise ExplorationLimit(f"zone graph not complete after {len(self.g.nodes)} nodes")
            self._expand(self.g.nodes[queue.popleft()], queue)

    def _add(self, state: str, unset: frozenset[str], mode: Mode, entry: dbm.Matrix,
             parent: int | None, step: Step | None, depth: int, queue: deque[int]) -> int:
        """The node for this entry, or the earlier one that covers it."""
        st = self.tm.states.get(state)
        for c in sorted(unset):
            if not (mode is Mode.ARMED and st is not None and c == st.clock):
                entry = dbm.free(entry, self.n, self.index[c])
        if mode is Mode.EXPIRED:
            zone = entry  # a leaf: only violations follow, the first at once
        else:
            zone = dbm.up(entry, self.n)
            if mode is Mode.ARMED and st is not None and st.fire_hi is not None:
                zone = self._upper(zone, st.clock, st.fire_hi)
        zone = dbm.extrapolate_lu(zone, self.n, tuple(self.lows[state]), tuple(self.ups[state]))
        # An expired node is a leaf that shows how it was entered: one per entering cell.
        key = (state, unset, mode, step.edge if mode is Mode.EXPIRED and step else None)
        seen = self.passed.setdefault(key, [])
        for old, nid in seen:
            if dbm.includes(old, zone):
                return nid
        g = self.g
        node = Node(len(g.nodes), state, unset, mode, zone, parent, step, depth)
        seen.append((zone, node.id))
        g.nodes.append(node)
        g.by_state.setdefault(state, []).append(node.id)
        g.reached.setdefault(state, Hit(node.id))
        if mode is Mode.ARMED or (mode is Mode.EXPIRED and st is not None and st.expired_fires):
            if st is not None and st.fire_lo is not None:
                g.timer.setdefault(state, Hit(node.id))
        queue.append(node.id)
        return node.id

    def _events_zone(self, node: Node) -> dbm.Matrix:
        """Where an event can still come before the timer's callback."""
        st = self.tm.states.get(node.state)
        if node.mode is Mode.ARMED and st is not None and st.event_max is not None:
            return self._upper(node.zone, st.clock, st.event_max)
        if node.mode is Mode.EXPIRED and st is not None and st.expired_now:
            assert st.pass_max is not None  # armed at the bound: due at once
            return self._lower(node.zone, st.clock, st.pass_max + 2)
        return node.zone

    def _check(self, node: Node, zone: dbm.Matrix) -> tuple[dbm.Matrix | None, bool]:
        """ha_verify_invariants at an event: (where it passes or None, whether it can fail)."""
        st = self.tm.states.get(node.state)
        if st is None:
            return zone, False
        if node.mode is Mode.EXPIRED:
            return None, True
        if st.clock in node.unset:
            return (zone, False) if st.unset_passes else (None, True)
        if st.pass_max is None:
            return zone, False
        ok = self._upper(zone, st.clock, st.pass_max)
        bad = self._lower(zone, st.clock, st.pass_max + 1)
        return (None if self._empty(ok) else ok), not self._empty(bad)

    def _expand(self, node: Node, queue: deque[int]) -> None:
        g = self.g
        zone = self._events_zone(node)
        if self._empty(zone):
            return  # the timer runs before any event could
        for ev in self.a.events:
            e = ev.name
            cell = g.table.get(node.state, e)
            if cell is None:
                g.invalid_event.setdefault((node.state, e), Hit(node.id, e))
                continue
            ok, fails = self._check(node, zone)
            if fails:
                g.late_event.setdefault((node.state, e), Hit(node.id, e, cell.first))
            if ok is None:
                continue
            self._evaluate(node, cell, ok, queue)

    def _evaluate(self, node: Node, cell: Cell, ok: dbm.Matrix, queue: deque[int]) -> None:
        """ha_verify_guards on the part of the zone where the check passed."""
        g = self.g
        hit = Hit(node.id, cell.event, cell.first)
        if cell.reads & node.unset or cell.guard is None:
            holds = [(ok, -1)]
        else:
            holds = self._restrict(ok, self._dnf(("cell", cell.key), cell.guard, False))
            if self._restrict(ok, self._dnf(("cell", cell.key), cell.guard, True)):
                g.guard_violation.setdefault(cell.key, hit)
        # each edge's own guard, for the findings about edges
        for k in cell.edges:
            at = Hit(node.id, cell.event, k)
            g.evaluated.setdefault(k, at)
            if escapes_of(self.a, cell, k) & node.unset:
                g.guard_holds.setdefault(k, at)
                continue
            g.evaluated_set.add(k)
            guard = self.a.edges[k].guard
            if self._restrict(ok, self._dnf(("edge", k), guard, False)):
                g.guard_holds.setdefault(k, at)
            if self._restrict(ok, self._dnf(("edge", k), guard, True)):
                g.guard_fails.setdefault(k, at)
            if len(cell.edges) > 1 and k not in g.only and not any(
                    escapes_of(self.a, cell, j) & node.unset for j in cell.edges):
                alone = self._dnf(("edge", k), guard, False)
                for j in cell.edges:
                    if j != k:
                        alone = conjoin(alone, self._dnf(("edge", j),
                                                         self.a.edges[j].guard, True))
                if self._restrict(ok, alone):
                    g.only[k] = at
        for k in cell.dropped:
            if k in g.dropped_holds:
                continue
            if edge_reads(self.a, k) & node.unset or self._restrict(
                    ok, self._dnf(("edge", k), self.a.edges[k].guard, False)):
                g.dropped_holds[k] = Hit(node.id, cell.event, k)
        for part, index in holds:
            g.taken.setdefault(cell.key, hit)
            self._take(node, cell, part, index, queue)

    def _take(self, node: Node, cell: Cell, zone: dbm.Matrix, part: int,
              queue: deque[int]) -> None:
        """The resets, then ha_setup_invariants: keep, arm, or cancel the timer."""
        unset = node.unset
        for r in cell.resets:
            zone = dbm.reset(zone, self.n, self.index[r])
        unset = unset - frozenset(cell.resets)
        src_st = self.tm.states.get(node.state)
        if not self.g.table.rearms(cell):
            self._add(cell.dst, unset, node.mode, zone, node.id,
                      Step(cell.event, cell.first, node.mode, part), node.depth + 1, queue)
            return
        st = self.tm.states.get(cell.dst)
        if node.mode is Mode.ARMED and src_st is not None and (
                cell.dst != cell.src or src_st.clock in cell.resets
                or src_st.clock in node.unset):
            self.g.timer_escape.add(node.state)
        parts: list[tuple[Mode, dbm.Matrix]]
        if st is None:
            parts = [(Mode.NONE, zone)]
        elif st.clock in unset:
            # passed = 0: the timer counts from now
            zone = dbm.reset(zone, self.n, self.index[st.clock])
            armed = st.pass_max is None or st.pass_max >= 0
            parts = [(Mode.ARMED if armed else Mode.EXPIRED, zone)]
        elif st.pass_max is None:
            parts = [(Mode.ARMED, zone)]
        else:
            parts = [(Mode.ARMED, self._upper(zone, st.clock, st.pass_max)),
                     (Mode.EXPIRED, self._lower(zone, st.clock, st.pass_max + 1))]
        for mode, zone_part in parts:
            if self._empty(zone_part):
                continue
            nid = self._add(cell.dst, unset, mode, zone_part, node.id,
                            Step(cell.event, cell.first, mode, part), node.depth + 1, queue)
            if mode is Mode.EXPIRED:
                self.g.expired_entry.setdefault(cell.first, Hit(nid))
