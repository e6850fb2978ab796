"""Exact timed reachability: Automaton + parameter valuation -> ZoneGraph.

The explorer walks the zone graph of the kernel's semantics (semantics.py), not
UPPAAL's: an event with no edge, a false guard and an expired invariant are
*outcomes* (violations) recorded where they can happen, never blocked moves.

A node is (state, set of unset clocks, zone).  An unset clock's column holds
the time since the state's invariant timer was last armed, because the kernel
arms a timer on an unset clock with `passed = 0` (ha_monitor.h); guards never
read that column (constraints.py makes such comparisons TRUE).

Guarantee: integer time, closed constraints and Extra+_LU extrapolation with
per-state bounds make the exploration finite and exact: a state, violation or
guard overlap is recorded iff some integer-timed event sequence produces it.
Search is breadth-first, so the first hit of anything has fewest events.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field

from hamodel.check import dbm
from hamodel.check.constraints import (
    ClockLit,
    Conj,
    Dnf,
    clock_lits,
    conjoin,
    dnf,
    env_solution,
    invariant_bound,
    resolve,
)
from hamodel.model import Automaton, ClockKind, comparisons


class ExplorationLimit(RuntimeError):
    """The time budget ran out before the zone graph was complete."""


class Unsupported(ValueError):
    """A model this explorer cannot analyse exactly (said in the message)."""


@dataclass(frozen=True, slots=True)
class Step:
    """One event of a path; `edge` indexes automaton.edges (None: no edge taken)."""

    event: str
    edge: int | None


@dataclass(frozen=True, slots=True)
class Node:
    id: int
    state: str
    unset: frozenset[str]
    zone: dbm.Matrix
    parent: int | None
    step: Step | None
    depth: int


@dataclass(frozen=True, slots=True)
class Hit:
    """Something observed at `node`, optionally by firing `event` (over `edge`)."""

    node: int
    event: str | None = None
    edge: int | None = None


@dataclass
class ZoneGraph:
    automaton: Automaton
    params: Mapping[str, int]
    clocks: tuple[str, ...]
    nodes: list[Node] = field(default_factory=list)
    by_state: dict[str, list[int]] = field(default_factory=dict)
    reached: dict[str, Hit] = field(default_factory=dict)
    invalid_event: dict[tuple[str, str], Hit] = field(default_factory=dict)
    guard_violation: dict[tuple[str, str], Hit] = field(default_factory=dict)
    invariant_violation: dict[str, Hit] = field(default_factory=dict)
    entry_violation: dict[int, Hit] = field(default_factory=dict)  # per edge index
    guard_holds: dict[int, Hit] = field(default_factory=dict)
    guard_fails: dict[int, Hit] = field(default_factory=dict)
    taken: dict[int, Hit] = field(default_factory=dict)
    overlap: dict[tuple[int, int], Hit] = field(default_factory=dict)
    time_unbounded: set[str] = field(default_factory=set)  # states where time can diverge

    def path(self, node_id: int) -> tuple[Step, ...]:
        steps: list[Step] = []
        node = self.nodes[node_id]
        while node.parent is not None:
            assert node.step is not None
            steps.append(node.step)
            node = self.nodes[node.parent]
        return tuple(reversed(steps))

    def violation_hits(self) -> list[tuple[str, Hit]]:
        """Every violation found, as (kind, hit), kinds in semantics' ViolationKind words."""
        out: list[tuple[str, Hit]] = []
        out += [("invalid_event", h) for h in self.invalid_event.values()]
        out += [("guard", h) for h in self.guard_violation.values()]
        out += [("invariant", h) for h in self.invariant_violation.values()]
        out += [("entry", h) for h in self.entry_violation.values()]
        return out


def clock_kind(automaton: Automaton) -> ClockKind:
    """The one time base of the model's clocks (the explorer needs a single one)."""
    kinds = {c.clock_kind for c in automaton.clocks if c.clock_kind is not None}
    if len(kinds) > 1:
        raise Unsupported("clocks of both ns and jiffies in one model: timed analysis skipped")
    return kinds.pop() if kinds else ClockKind.NS


def explore(
    automaton: Automaton,
    params: Mapping[str, int],
    budget_s: float = 10.0,
    max_nodes: int = 500_000,
) -> ZoneGraph:
    clock_kind(automaton)
    clocks = tuple(c.name for c in automaton.clocks)
    for s in automaton.states:
        if s.invariant is not None and s.invariant.clock not in clocks:
            raise Unsupported(
                f"invariant of {s.name} is on {s.invariant.clock}, which is not a clock"
            )
    g = ZoneGraph(automaton, params, clocks)
    ex = _Explorer(automaton, params, clocks, g, time.monotonic() + budget_s, max_nodes)
    ex.run()
    return g


class _Explorer:
    def __init__(
        self,
        a: Automaton,
        params: Mapping[str, int],
        clocks: tuple[str, ...],
        g: ZoneGraph,
        deadline: float,
        max_nodes: int,
    ) -> None:
        self.a, self.params, self.g = a, params, g
        self.clocks = clocks
        self.clockset = frozenset(clocks)
        self.n = len(clocks)
        self.index = {c: i + 1 for i, c in enumerate(clocks)}
        self.deadline, self.max_nodes = deadline, max_nodes
        self.edges_by_key: dict[tuple[str, str], list[int]] = {}
        for k, e in enumerate(a.edges):
            self.edges_by_key.setdefault((e.src, e.event), []).append(k)
        self.inv = {
            s.name: (
                (self.index[s.invariant.clock], invariant_bound(s.invariant, params))
                if s.invariant is not None
                else None
            )
            for s in a.states
        }
        self.lows, self.ups = self._bounds()
        self._dnf_cache: dict[tuple, Dnf] = {}
        self.passed: dict[tuple[str, frozenset[str]], list[dbm.Matrix]] = {}

    # --- extrapolation constants: per state, propagated backwards over edges ---

    def _bounds(self) -> tuple[dict[str, list[int]], dict[str, list[int]]]:
        size = self.n + 1
        lows = {s.name: [-1] * size for s in self.a.states}
        ups = {s.name: [-1] * size for s in self.a.states}
        for s in self.a.states:
            inv = self.inv[s.name]
            if inv is not None and inv[1] is not None:
                i, b = inv
                # The entry check negates the invariant (`x >= b + 1`): a lower bound too.
                ups[s.name][i] = max(ups[s.name][i], b, 0)
                lows[s.name][i] = max(lows[s.name][i], b + 1)
        for e in self.a.edges:
            for cmp in comparisons(e.guard):
                if cmp.env not in self.clockset:
                    continue
                c = resolve(cmp.value, self.params)
                if c < 0:  # INFINITE or a negative bound: no constant to remember
                    continue
                i = self.index[cmp.env]
                # Negated guards (edge priority, guard violations) turn lower
                # bounds into upper ones, so each constant counts as both.
                for table in (lows, ups):
                    table[e.src][i] = max(table[e.src][i], c + 1)
        changed = True
        while changed:
            changed = False
            for e in self.a.edges:
                reset = {self.index[r] for r in e.reset_envs}
                for i in range(1, size):
                    if i in reset:
                        continue
                    for table in (lows, ups):
                        if table[e.dst][i] > table[e.src][i]:
                            table[e.src][i] = table[e.dst][i]
                            changed = True
        return lows, ups

    # --- helpers ---

    def _dnf(self, edge: int, unset: frozenset[str], negate: bool) -> Dnf:
        key = (edge, unset, negate)
        if key not in self._dnf_cache:
            guard = self.a.edges[edge].guard
            self._dnf_cache[key] = dnf(guard, self.clockset, unset, self.params, negate)
        return self._dnf_cache[key]

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

    def _restrict(self, zone: dbm.Matrix, formula: Dnf) -> list[tuple[dbm.Matrix, Conj]]:
        """The non-empty parts of the zone where a disjunct holds for some env values."""
        out = []
        for conj in formula:
            if env_solution(conj) is None:
                continue
            z = self._apply(zone, clock_lits(conj))
            if not dbm.is_empty(z, self.n):
                out.append((z, conj))
        return out

    def _with_invariant(self, state: str, zone: dbm.Matrix) -> dbm.Matrix:
        inv = self.inv[state]
        if inv is None or inv[1] is None:
            return zone
        i, b = inv
        return dbm.upper(zone, self.n, i, b)

    def _violates_invariant(self, state: str, zone: dbm.Matrix) -> bool:
        inv = self.inv[state]
        if inv is None or inv[1] is None:
            return False
        i, b = inv
        return not dbm.is_empty(dbm.lower(zone, self.n, i, b + 1), self.n)

    # --- search ---

    def run(self) -> None:
        zone = dbm.zero(self.n)
        unset = frozenset(self.clocks) - frozenset(r.env for r in self.a.init_resets)
        queue: deque[int] = deque()
        initial = self.a.initial.name
        root = self._add(initial, unset, zone, None, None, 0, queue)
        if root is None:  # the initial invariant is false at once
            self.g.nodes.append(Node(0, initial, unset, zone, None, None, 0))
            self.g.invariant_violation[initial] = Hit(0)
            return
        while queue:
            if time.monotonic() > self.deadline or len(self.g.nodes) > self.max_nodes:
                raise ExplorationLimit(f"zone graph not complete after {len(self.g.nodes)} nodes")
            self._expand(self.g.nodes[queue.popleft()], queue)

    def _add(
        self,
        state: str,
        unset: frozenset[str],
        entry_zone: dbm.Matrix,
        parent: int | None,
        step: Step | None,
        depth: int,
        queue: deque[int],
    ) -> int | None:
        zone = self._with_invariant(state, entry_zone)
        if dbm.is_empty(zone, self.n):
            return None
        zone = self._with_invariant(state, dbm.up(zone, self.n))
        key = (state, unset)
        size = self.n + 1
        lows = tuple(self.lows[state][:size])
        ups = tuple(self.ups[state][:size])
        zone = dbm.extrapolate_lu(zone, self.n, lows, ups)
        seen = self.passed.setdefault(key, [])
        if any(dbm.includes(old, zone) for old in seen):
            return -1
        seen.append(zone)
        node = Node(len(self.g.nodes), state, unset, zone, parent, step, depth)
        self.g.nodes.append(node)
        self.g.by_state.setdefault(state, []).append(node.id)
        self.g.reached.setdefault(state, Hit(node.id))
        if self.inv[state] is None or self.inv[state][1] is None:
            self.g.time_unbounded.add(state)
        else:
            self.g.invariant_violation.setdefault(state, Hit(node.id))
        queue.append(node.id)
        return node.id

    def _expand(self, node: Node, queue: deque[int]) -> None:
        g = self.g
        for ev in self.a.events:
            e = ev.name
            edges = self.edges_by_key.get((node.state, e), [])
            if not edges:
                g.invalid_event.setdefault((node.state, e), Hit(node.id, e))
                continue
            fails = self._restrict(node.zone, self._all_fail(edges, node.unset))
            if fails:
                g.guard_violation.setdefault((node.state, e), Hit(node.id, e))
            earlier: Dnf = ((),)
            for pos, k in enumerate(edges):
                holds = self._dnf(k, node.unset, False)
                if self._restrict(node.zone, holds):
                    g.guard_holds.setdefault(k, Hit(node.id, e, k))
                if self._restrict(node.zone, self._dnf(k, node.unset, True)):
                    g.guard_fails.setdefault(k, Hit(node.id, e, k))
                for k2 in edges[pos + 1:]:
                    both = conjoin(holds, self._dnf(k2, node.unset, False))
                    if self._restrict(node.zone, both):
                        g.overlap.setdefault((k, k2), Hit(node.id, e, k))
                for zone, _ in self._restrict(node.zone, conjoin(earlier, holds)):
                    g.taken.setdefault(k, Hit(node.id, e, k))
                    self._take(node, k, zone, queue)
                earlier = conjoin(earlier, self._dnf(k, node.unset, True))

    def _all_fail(self, edges: list[int], unset: frozenset[str]) -> Dnf:
        out: Dnf = ((),)
        for k in edges:
            out = conjoin(out, self._dnf(k, unset, True))
        return out

    def _take(self, node: Node, k: int, zone: dbm.Matrix, queue: deque[int]) -> None:
        edge = self.a.edges[k]
        unset = node.unset
        for r in edge.reset_envs:
            zone = dbm.reset(zone, self.n, self.index[r])
        unset = unset - frozenset(edge.reset_envs)
        plain_loop = edge.src == edge.dst and not edge.resets
        if not plain_loop:
            # Re-arming the timer: an unset clock counts from now (`passed = 0`).
            for c in sorted(unset):
                zone = dbm.reset(zone, self.n, self.index[c])
        if self._violates_invariant(edge.dst, zone):
            self.g.entry_violation.setdefault(k, Hit(node.id, edge.event, k))
        self._add(edge.dst, unset, zone, node.id, Step(edge.event, k), node.depth + 1, queue)
