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
resets, each state's row of the table, the extrapolation constants) is compiled
once in plans.py, and what depends on a node's (state, unset clocks, timer
mode) only once per such kind; per node the explorer does zone arithmetic
through the DBM operations for its clock count, and records each fact about an
edge once.
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
from hamodel.check.plans import CellPlan, Formula, event_rows, extrapolation_bounds
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


_new = tuple.__new__  # builds a named tuple without its Python-level __new__


class _Kind(NamedTuple):
    """The nodes of one (state, unset clocks, timer mode), and what entering and
    expanding any of them needs, worked out once (a named tuple: made once per
    kind, and a large model has about as many kinds as nodes)."""

    state: str
    unset: frozenset[str]
    mode: Mode
    freed: tuple[int, ...]  # the columns freed on entry
    fire: tuple[int, int] | None  # the armed timer's column and latest firing
    lows: tuple[int, ...]  # the extrapolation constants
    ups: tuple[int, ...]
    seen: list[int] | None  # the nodes whose zones may cover a new one (None: expired,
    # kept per entering cell)
    times: bool  # the timer's callback runs here
    window: tuple[int, int, int] | None  # the bound before which an event still comes
    check: int | tuple[int, int]  # the framework's check: 0 passes, 1 fails, or (column,
    # the largest passing value)


class _Explorer:
    def __init__(self, g: ZoneGraph, deadline: float, max_nodes: int) -> None:
        self.g = g
        self.a = g.automaton
        self.tm = g.timing
        self.clockset = frozenset(g.clocks)
        self.n = len(g.clocks)
        self.ops = dbm.operations(self.n)
        self.index = {c: i + 1 for i, c in enumerate(g.clocks)}
        self.deadline, self.max_nodes = deadline, max_nodes
        self.lows, self.ups = extrapolation_bounds(self.a, self.tm, g.params, self.index)
        # per state: its timing and the DBM column of its invariant's clock
        self.states = {s.name: (self.tm.states.get(s.name), self.index.get(
            s.invariant.clock, 0) if s.invariant else 0) for s in self.a.states}
        # per state: each event, its (state, event) key and its cell's plan
        self.rows = event_rows(self.a, g.table, g.params, self.index)
        # expired nodes per (kind, entering cell)
        self.expired_seen: dict[tuple, list[int]] = {}
        self.kinds: dict[tuple, _Kind] = {}  # per (state, unset clocks, timer mode)
        self.queue: deque[tuple[Node, _Kind]] = deque()

    # --- zone helpers ---

    def _conjoin(self, zone: dbm.Matrix, bounds: tuple) -> dbm.Matrix:
        """The zone with every comparison of a conjunction added (empty: d[0] < 0)."""
        constrain = self.ops.constrain
        for i, j, c in bounds:
            zone = constrain(zone, i, j, c)
            if zone[0] < 0:
                break
        return zone

    def _some(self, zone: dbm.Matrix, f: Formula) -> bool:
        """Whether a disjunct of f holds somewhere in the zone."""
        conjoin = self._conjoin
        for d in f:
            if conjoin(zone, d.bounds)[0] >= 0:
                return True
        return False

    def _fails(self, zone: dbm.Matrix, plan: CellPlan) -> bool:
        """Whether the cell's joined guard fails somewhere in the zone."""
        one = plan.fails_one
        if one is None:
            return self._some(zone, plan.fails)
        return self.ops.constrain(zone, one[0], one[1], one[2])[0] >= 0

    def _parts(self, zone: dbm.Matrix, f: Formula) -> list[tuple[dbm.Matrix, int]]:
        """The non-empty parts of the zone where a disjunct holds, with its index."""
        conjoin = self._conjoin
        out = []
        for d in f:
            z = conjoin(zone, d.bounds)
            if z[0] >= 0:
                out.append((z, d.index))
        return out

    # --- search ---

    def run(self) -> None:
        a = self.a
        unset = self.clockset - frozenset(r.env for r in a.init_resets)
        mode = Mode.NONE
        st = self.tm.states.get(a.initial.name)
        if a.init_resets and st is not None:
            # the generated start path applies the `__init` resets and arms the timer
            mode = Mode.ARMED if st.pass_max is None or st.pass_max >= 0 else Mode.EXPIRED
        self._add(self._kind(a.initial.name, unset, mode), dbm.zero(self.n), None, "", None, -1)
        nodes, queue = self.g.nodes, self.queue
        deadline, max_nodes = self.deadline, self.max_nodes
        expand, popleft, monotonic = self._expand, queue.popleft, time.monotonic
        while queue:
            if monotonic() > deadline or len(nodes) > max_nodes:
                raise ExplorationLimit(f"zone graph not complete after {len(nodes)} nodes")
            expand(*popleft())

    def _add(self, kind: _Kind, entry: dbm.Matrix, parent: Node | None, event: str,
             first: int | None, part: int) -> int:
        """The node of `kind` for this entry (made by the cell of edge `first` on its
        guard's disjunct `part` from `parent`), or the earlier one that covers it."""
        ops = self.ops
        for i in kind.freed:
            entry = ops.free(entry, i)
        mode = kind.mode
        seen = kind.seen
        if seen is None:  # expired
            zone = entry  # a leaf: only violations follow, the first at once
            # An expired node is a leaf that shows how it was entered: one per entering cell.
            seen_key = (kind, first)
            seen = self.expired_seen.get(seen_key)
            if seen is None:
                seen = self.expired_seen[seen_key] = []
        else:
            zone = ops.up(entry)
            fire = kind.fire
            if fire is not None:
                zone = ops.constrain(zone, fire[0], 0, fire[1])
        zone = ops.extrapolate_lu(zone, kind.lows, kind.ups)
        g = self.g
        nodes = g.nodes
        includes = ops.includes
        for nid in seen:
            if includes(nodes[nid].zone, zone):
                return nid
        nid = len(nodes)
        state = kind.state
        if parent is None:
            node = Node(nid, state, kind.unset, mode, zone, None, None, 0)
        else:
            node = _new(Node, (nid, state, kind.unset, mode, zone, parent.id,
                               _new(Step, (event, first, mode, part)), parent.depth + 1))
        seen.append(nid)
        nodes.append(node)
        at = g.by_state.get(state)
        if at is None:
            g.by_state[state] = [nid]
            g.reached[state] = _new(Hit, (nid, None, None))
        else:
            at.append(nid)
        if kind.times and state not in g.timer:
            g.timer[state] = _new(Hit, (nid, None, None))
        self.queue.append((node, kind))
        return nid

    def _kind(self, state: str, unset: frozenset[str], mode: Mode) -> _Kind:
        st, col = self.states[state]
        freed = tuple(self.index[c] for c in sorted(unset)
                      if not (mode is _ARMED and st is not None and c == st.clock)
                      ) if unset else ()
        fire = (col, st.fire_hi) if (mode is _ARMED and st is not None
                                     and st.fire_hi is not None) else None
        times = st is not None and st.fire_lo is not None and (
            mode is _ARMED or (mode is _EXPIRED and st.expired_fires))
        window: tuple[int, int, int] | None = None
        check: int | tuple[int, int] = 0
        if st is not None:
            if mode is _ARMED and st.event_max is not None:
                window = (col, 0, st.event_max)
            elif mode is _EXPIRED and st.expired_now:
                assert st.pass_max is not None  # armed at the bound: due at once
                window = (0, col, -(st.pass_max + 2))
            if mode is _EXPIRED:
                check = 1
            elif st.clock in unset:
                check = 0 if st.unset_passes else 1
            elif st.pass_max is not None:
                check = (col, st.pass_max)
        kind = self.kinds[(state, unset, mode)] = _new(_Kind, (
            state, unset, mode, freed, fire, self.lows[state], self.ups[state],
            None if mode is _EXPIRED else [], times, window, check))
        return kind

    def _expand(self, node: Node, kind: _Kind) -> None:
        g = self.g
        constrain = self.ops.constrain
        zone = node.zone
        window = kind.window
        if window is not None:  # where an event can still come before the timer's callback
            zone = constrain(zone, window[0], window[1], window[2])
        if zone[0] < 0:
            return  # the timer runs before any event could
        # ha_verify_invariants at an event: where it passes (ok), whether it can fail
        check = kind.check
        fails: bool | None
        if check == 0:
            ok, fails = zone, False
        elif check == 1:
            ok, fails = None, True
        else:
            col, pass_max = check  # type: ignore[misc]
            ok = constrain(zone, col, 0, pass_max)
            if ok[0] < 0:
                ok = None
            fails = None  # worked out when a late event is still to be noted
        nid = node.id
        for e, key, plan in self.rows[kind.state]:
            if plan is None:
                if key not in g.invalid_event:
                    g.invalid_event[key] = _new(Hit, (nid, e, None))
                continue
            if key not in g.late_event:
                if fails is None:
                    fails = constrain(zone, 0, col, -(pass_max + 1))[0] >= 0
                if fails:
                    g.late_event[key] = _new(Hit, (nid, e, plan.first))
            if ok is not None:
                self._evaluate(node, kind, plan, ok)

    def _evaluate(self, node: Node, kind: _Kind, plan: CellPlan, ok: dbm.Matrix) -> None:
        """ha_verify_guards on the part of the zone where the check passed, then the
        move on each part where the joined guard holds."""
        g = self.g
        unset = kind.unset
        key, event, first = plan.key, plan.event, plan.first
        hit = _new(Hit, (node.id, event, first))  # what the cell's facts record
        fails: bool | None = None  # whether the joined guard fails somewhere, once known
        reads_unset = bool(unset) and not plan.reads.isdisjoint(unset)
        if plan.escaped or reads_unset:
            holds = [(ok, -1)]
        else:
            one = plan.holds_one
            if one is None:
                holds = self._parts(ok, plan.holds)
            else:
                part = self.ops.constrain(ok, one[0], one[1], one[2])
                holds = [(part, one[3])] if part[0] >= 0 else []
            if key not in g.guard_violation:
                fails = self._fails(ok, plan)
                if fails:
                    g.guard_violation[key] = hit
        if plan.single:
            # the edge's guard is the cell's: what holds and fails is known already
            k = first
            if k not in g.evaluated:
                g.evaluated[k] = hit
            if reads_unset:
                if k not in g.guard_holds:
                    g.guard_holds[k] = hit
            else:
                g.evaluated_set.add(k)
                if holds and k not in g.guard_holds:
                    g.guard_holds[k] = hit
                if k not in g.guard_fails and not plan.escaped:
                    if fails is None:
                        fails = self._fails(ok, plan)
                    if fails:
                        g.guard_fails[k] = hit
        else:
            self._edge_facts(node, plan, unset, ok)
        if plan.dropped:
            self._dropped_facts(node, plan, unset, ok)
        if not holds:
            return
        if key not in g.taken:
            g.taken[key] = hit
        # the resets, then ha_setup_invariants: keep, arm, or cancel the timer
        ops = self.ops
        reset, add = ops.reset, self._add
        mode = kind.mode
        dst, resets = plan.dst, plan.resets
        after = unset - plan.reset_names if unset and plan.reset_names else unset
        kinds = self.kinds
        if not plan.rearms:
            target = kinds.get((dst, after, mode))
            if target is None:
                target = self._kind(dst, after, mode)
            for zone, part in holds:
                for i in resets:
                    zone = reset(zone, i)
                add(target, zone, node, event, first, part)
            return
        src_st = self.states[kind.state][0]
        st, col = self.states[dst]
        if mode is _ARMED and src_st is not None and (
                dst != plan.src or src_st.clock in plan.reset_names or src_st.clock in unset):
            g.timer_escape.add(kind.state)
        constrain = ops.constrain
        for zone, part in holds:
            for i in resets:
                zone = reset(zone, i)
            if st is None:
                to = Mode.NONE
            elif st.clock in after:
                zone = reset(zone, col)  # passed = 0: the timer counts from now
                to = _ARMED if st.pass_max is None or st.pass_max >= 0 else _EXPIRED
            elif st.pass_max is None:
                to = _ARMED
            else:  # armed where the check would pass, expired where it would fail
                armed = constrain(zone, col, 0, st.pass_max)
                if armed[0] >= 0:
                    target = kinds.get((dst, after, _ARMED))
                    if target is None:
                        target = self._kind(dst, after, _ARMED)
                    add(target, armed, node, event, first, part)
                zone = constrain(zone, 0, col, -(st.pass_max + 1))
                if zone[0] < 0:
                    continue
                to = _EXPIRED
            target = kinds.get((dst, after, to))
            if target is None:
                target = self._kind(dst, after, to)
            nid = add(target, zone, node, event, first, part)
            if to is _EXPIRED and first not in g.expired_entry:
                g.expired_entry[first] = _new(Hit, (nid, None, None))

    def _edge_facts(self, node: Node, plan: CellPlan, unset: frozenset[str],
                    ok: dbm.Matrix) -> None:
        """Each edge's own guard in a cell of several edges, for the findings about
        edges (each fact once)."""
        g = self.g
        event = plan.event
        for ep in plan.edges:
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

    def _dropped_facts(self, node: Node, plan: CellPlan, unset: frozenset[str],
                       ok: dbm.Matrix) -> None:
        """Where the edges the table leaves out of the cell would hold (HA111)."""
        g = self.g
        for dp in plan.dropped:
            k = dp.edge
            if k not in g.dropped_holds and (dp.reads & unset or self._some(ok, dp.holds)):
                g.dropped_holds[k] = Hit(node.id, plan.event, k)
