"""Witnesses from the zone path: steps + goal -> the earliest integer-timed run, no solver.

For concrete parameter values the zone graph already holds everything a
witness needs.  Along the path's table cells (and the guard disjunct each step
took, recorded by the explorer) this module recomputes the exact zones, with
one more clock T that counts the time since the start and is never reset: a
forward pass gives, per event, the valuations at which it can happen; then the
earliest valuation of the goal is picked and a backward pass picks, step by
step, a valuation of each earlier event from which the later one is reached
(the pre-image of the resets and of letting time pass).  Env values come from
the disjunct's literals (constraints.env_solution).  The result is replayed by
witness.py like a Z3 witness; the Z3 encoding remains for free parameters and
the small-uptime goal.

Sharing (`ZoneRuns`): the prefixes of one zone graph's paths are computed once
per zone-graph node, and each prefix remembers which valuation the backward
pass picked for its last event given the next event's point; a later witness
whose backward pass reaches the same prefix with the same point takes the rest
of the run from there (`RunNode` chains), so common prefixes are built once.

Exactness: the explorer's abstraction (Extra+_LU) is a simulation, so every
path it records, with the disjuncts it took, is realised by a run; the zones
here are not abstracted, so a picked valuation is one such run.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence

from hamodel.check import dbm
from hamodel.check.cells import Table, edge_reads, env_reads, escapes_of
from hamodel.check.constraints import ClockLit, Dnf, clock_lits, conjoin, dnf, env_solution
from hamodel.check.goals import TimedEvent
from hamodel.check.timing import Timing, rule
from hamodel.check.zones import Mode, Node, Step
from hamodel.model import Automaton, Guard


class _Path:
    def __init__(self, a: Automaton, params: Mapping[str, int], tab: Table, tm: Timing) -> None:
        self.a, self.params, self.tab, self.tm = a, params, tab, tm
        self.clocks = tuple(c.name for c in a.clocks)
        self.clockset = frozenset(self.clocks)
        self.n = len(self.clocks) + 1  # the model's clocks, then T
        self.T = self.n
        self.index = {c: i + 1 for i, c in enumerate(self.clocks)}
        self.rule = rule(tm.unit, tm.timer, tm.platform)
        self.param_items = tuple(sorted(params.items()))
        self._dnfs: dict[tuple[int, bool], Dnf] = {}

    # --- zone helpers ---

    def upper(self, z, i: int, c: int):
        return dbm.upper(z, self.n, i, c)

    def lower(self, z, i: int, c: int):
        return dbm.lower(z, self.n, i, c)

    def empty(self, z) -> bool:
        return dbm.is_empty(z, self.n)

    def apply(self, z, lits: tuple[ClockLit, ...]):
        for lit in lits:
            i = self.index[lit.clock]
            z = self.upper(z, i, lit.bound) if lit.upper else self.lower(z, i, lit.bound)
            if self.empty(z):
                break
        return z

    def dnf(self, guard: Guard | None, negate: bool = False) -> Dnf:
        key = (id(guard), negate)  # the model's guards live as long as this path
        found = self._dnfs.get(key)
        if found is None:
            found = self._dnfs[key] = _dnf(guard, self.clockset, self.param_items, negate)
        return found

    def event_max(self, state: str) -> int | None:
        """As witness.PathEncoder.event_max for a concrete bound."""
        st = self.tm.states[state]
        if st.bound is not None and (self.rule.limit is None or st.bound <= self.rule.limit):
            return st.bound + self.rule.event_off
        return st.event_max

    # --- the framework, on exact zones ---

    def before_timer(self, z, state: str, mode: Mode, unset):
        """The part of the node's delayed zone where an event comes before the callback."""
        st = self.tm.states.get(state)
        if st is None:
            return z
        x = self.index[st.clock]
        if mode is Mode.ARMED:
            em = self.event_max(state)
            return z if em is None else self.upper(z, x, em)
        if mode is Mode.EXPIRED and st.expired_now:
            assert st.pass_max is not None
            return self.lower(z, x, st.pass_max + 2)
        return z

    def check(self, z, state: str, mode: Mode, unset, passes: bool):
        st = self.tm.states.get(state)
        if st is None:
            return z if passes else None
        if mode is Mode.EXPIRED:
            return None if passes else z
        if st.clock in unset:
            return z if st.unset_passes == passes else None
        if st.pass_max is None:
            return z if passes else None
        x = self.index[st.clock]
        return self.upper(z, x, st.pass_max) if passes else self.lower(z, x, st.pass_max + 1)

    def delayed(self, z, mode: Mode):
        return z if mode is Mode.EXPIRED else dbm.up(z, self.n)

    def post(self, z, state: str, unset, step: Step):
        """Resets and ha_setup_invariants: (zone after, unset after, columns written)."""
        cell = self.tab.cell_of_edge(step.edge, self.a)
        written = [self.index[r] for r in cell.resets]
        for i in written:
            z = dbm.reset(z, self.n, i)
        unset = unset - frozenset(cell.resets)
        mode = step.mode
        st = self.tm.states.get(cell.dst)
        if self.tab.rearms(cell) and st is not None:
            x = self.index[st.clock]
            if st.clock in unset:
                z = dbm.reset(z, self.n, x)
                written.append(x)
            elif st.pass_max is not None and mode is Mode.ARMED:
                z = self.upper(z, x, st.pass_max)
            elif st.pass_max is not None and mode is Mode.EXPIRED:
                z = self.lower(z, x, st.pass_max + 1)
        return z, unset, written


class RunNode:
    """One event of a witness run, linked to the events before it.

    Witnesses of one zone graph share these chains wherever their earlier
    events coincide, so a run's common prefix is built, stored and replayed
    once (confirm.Replays keeps the oracle's state after each node).
    """

    __slots__ = ("parent", "event", "snapshot", "run")

    def __init__(self, parent: RunNode | None, event: TimedEvent) -> None:
        self.parent = parent
        self.event = event
        self.snapshot: object = None  # confirm.Replays' state after this event
        self.run: tuple[TimedEvent, ...] | None = None  # the events up to here, once asked

    def events(self) -> tuple[TimedEvent, ...]:
        """The run up to this node (kept: a witness holds the same tuple, and a later
        one that extends it copies it instead of walking the chain again)."""
        out: list[TimedEvent] = []
        node: RunNode | None = self
        while node is not None and node.run is None:
            out.append(node.event)
            node = node.parent
        out.reverse()
        self.run = (node.run if node is not None and node.run else ()) + tuple(out)
        return self.run


class Prefix:
    """The exact zones after a path prefix: where its last event happens (`zone`),
    the zone after that event's resets and arming (`post`), and the state, timer
    mode and unset clocks then.  `picks` remembers, per point of the next event
    (or of the goal), the run node the backward pass chose for this one."""

    __slots__ = ("parent", "zone", "post", "written", "event", "state", "mode", "unset",
                 "picks")

    def __init__(self, parent: Prefix | None, zone, post, written: tuple[int, ...],
                 event: TimedEvent | None, state: str, mode: Mode,
                 unset: frozenset[str]) -> None:
        self.parent, self.zone, self.post, self.written = parent, zone, post, written
        self.event, self.state, self.mode, self.unset = event, state, mode, unset
        self.picks: dict[tuple, RunNode] = {}


class ZoneRuns:
    """Earliest runs along the paths of one zone graph (or along given steps).

    Prefixes are cached per zone-graph node, and the backward pass of each
    witness stops where it meets a choice an earlier witness made for the same
    point: along a shared prefix the earliest run is the same, so it is
    computed once.
    """

    def __init__(self, a: Automaton, params: Mapping[str, int], start_mode: Mode,
                 tab: Table, tm: Timing) -> None:
        self.p = _Path(a, params, tab, tm)
        self.a, self.tab, self.tm = a, tab, tm
        self.reads = env_reads(a)
        self.root = self._root(start_mode)
        self._at: dict[int, Prefix | None] = {}

    def _root(self, start_mode: Mode) -> Prefix:
        a, p = self.a, self.p
        unset = frozenset(p.clocks) - frozenset(r.env for r in a.init_resets)
        z0 = dbm.zero(p.n)
        st0 = self.tm.states.get(a.initial.name)
        mode = start_mode if a.init_resets and st0 is not None else Mode.NONE
        if mode is Mode.EXPIRED and st0 is not None and st0.pass_max is not None:
            z0 = p.lower(z0, p.index[st0.clock], st0.pass_max + 1)
        return Prefix(None, None, z0, (), None, a.initial.name, mode, unset)

    def step(self, prefix: Prefix, step: Step) -> Prefix | None:
        """The prefix one table cell longer, or None when no timing follows it."""
        p, state, mode, unset = self.p, prefix.state, prefix.mode, prefix.unset
        cell = self.tab.cell_of_edge(step.edge, self.a)
        z = p.before_timer(p.delayed(prefix.post, mode), state, mode, unset)
        z = p.check(z, state, mode, unset, True)
        if z is None or p.empty(z):
            return None
        env: dict[str, int] = {}
        if not cell.reads & unset and cell.guard is not None:
            conj = p.dnf(cell.guard)[step.part]
            values = env_solution(conj)
            if values is None:
                return None
            env = values
            z = p.apply(z, clock_lits(conj))
            if p.empty(z):
                return None
        post, unset, written = p.post(z, state, unset, step)
        if p.empty(post):
            return None
        return Prefix(prefix, z, post, tuple(written), self._event(state, step.event, env),
                      cell.dst, step.mode, unset)

    def along(self, steps: Sequence[Step]) -> Prefix | None:
        prefix: Prefix | None = self.root
        for step in steps:
            prefix = self.step(prefix, step)
            if prefix is None:
                return None
        return prefix

    def at(self, nodes: Sequence[Node], node_id: int) -> Prefix | None:
        """The prefix of a zone-graph node's path (cached per node)."""
        todo: list[Node] = []
        node = nodes[node_id]
        while node.parent is not None and node.id not in self._at:
            todo.append(node)
            node = nodes[node.parent]
        prefix = self.root if node.parent is None else self._at[node.id]
        for node in reversed(todo):
            assert node.step is not None
            prefix = None if prefix is None else self.step(prefix, node.step)
            self._at[node.id] = prefix
        return prefix

    def _event(self, state: str, event: str, env: Mapping[str, int]) -> TimedEvent:
        """The event at time 0, with every env its state's edges for it read (the
        time is set when the backward pass picks it)."""
        names = self.reads.get((state, event), ())
        return TimedEvent(0, event, tuple(sorted((k, env.get(k, 0)) for k in names)))

    def run(self, prefix: Prefix, goal) -> tuple[RunNode | None, TimedEvent | None] | None:
        """The earliest run along the prefix that reaches the goal: its last run node
        and the extra event the goal reports (if any), or None (then ask Z3)."""
        p = self.p
        final, extra = _goal_zone(p, goal, prefix.post, prefix.state, prefix.mode,
                                  prefix.unset)
        if final is None or p.empty(final):
            return None
        n, scale = p.n, self.tm.scale
        point = _pick(final, n, p.T)
        last = None
        if extra is not None:
            names = self.reads.get((prefix.state, extra[0]), ())
            last = TimedEvent(_value(point, n, p.T) * scale, extra[0],
                              tuple(sorted((k, extra[1].get(k, 0)) for k in names)))
        # backward: each event's valuation from which the later one is reached
        chosen: list[tuple[Prefix, tuple, TimedEvent]] = []
        later, node, tail = point, prefix, None
        while node.parent is not None:
            tail = node.picks.get(later)
            if tail is not None:
                break
            back = _intersect(_before_point(later, n), node.post, n)
            for i in node.written:
                back = dbm.free(p.lower(p.upper(back, i, 0), i, 0), n, i)
            here = _intersect(back, node.zone, n)
            if p.empty(here):
                return None
            picked = _pick(here, n, p.T)
            assert node.event is not None
            chosen.append((node, later, TimedEvent(_value(picked, n, p.T) * scale,
                                                   node.event.event, node.event.env)))
            later, node = picked, node.parent
        for node, key, event in reversed(chosen):
            tail = node.picks[key] = RunNode(tail, event)
        return tail, last


def zone_witness(
    a: Automaton,
    steps: Sequence[Step],
    goal,
    params: Mapping[str, int],
    start_mode: Mode,
    tab: Table,
    tm: Timing,
) -> tuple[TimedEvent, ...] | None:
    """The earliest run along `steps` that reaches the goal (ns after the start, with
    the env values its edges read), or None when the path gives none (then the
    caller asks Z3)."""
    runs = ZoneRuns(a, params, start_mode, tab, tm)
    prefix = runs.along(steps)
    found = None if prefix is None else runs.run(prefix, goal)
    if found is None:
        return None
    chain, extra = found
    events = chain.events() if chain is not None else ()
    return events + (extra,) if extra is not None else events


def _goal_zone(p: _Path, goal, post, state: str, mode: Mode, unset):
    """The zone where the goal is decided, and the extra event (name, env) if any."""
    kind = goal.kind
    st = p.tm.states.get(state)
    if kind in ("reach", "entry"):
        return post, None
    if kind == "timer":
        if mode is not Mode.ARMED or st is None or st.fire_lo is None or not st.exact:
            return post, None  # the callback's instant comes from the replay
        x = p.index[st.clock]
        z = dbm.up(post, p.n)
        return p.lower(p.upper(z, x, st.fire_lo), x, st.fire_lo), None
    z = p.before_timer(p.delayed(post, mode), state, mode, unset)
    cell = p.tab.get(state, goal.event or "")
    if kind == "invalid_event":
        return z, (goal.event, {})
    assert cell is not None
    z = p.check(z, state, mode, unset, kind != "late")
    if z is None:
        return None, None
    if kind == "late":
        return z, (goal.event, {})
    a = p.a
    if kind == "guard":
        if cell.reads & unset:
            return None, None
        formula = p.dnf(cell.guard, negate=True)
    elif kind in ("holds", "only", "dropped"):
        k = goal.edge
        reads = edge_reads(a, k) if kind == "dropped" else escapes_of(a, cell, k)
        formula = ((),) if reads & unset else p.dnf(a.edges[k].guard)
        if kind == "only":
            for j in cell.edges:
                if j != k:
                    if escapes_of(a, cell, j) & unset:
                        return None, None
                    formula = conjoin(formula, p.dnf(a.edges[j].guard, negate=True))
    else:
        return None, None
    best = None
    for conj in formula:
        values = env_solution(conj)
        if values is None:
            continue
        part = p.apply(z, clock_lits(conj))
        if p.empty(part):
            continue
        t = -part[p.T]  # the earliest T in this part
        if best is None or t < best[0]:
            best = (t, part, values)
    if best is None:
        return None, None
    return best[1], (goal.event, best[2])


@functools.lru_cache(maxsize=4096)
def _dnf(guard: Guard | None, clocks: frozenset[str], params: tuple, negate: bool) -> Dnf:
    return dnf(guard, clocks, dict(params), negate)


def _before_point(d, n: int):
    """`_down` of a zone that is one point: the segment of valuations some delay before
    it, built canonical (every clock keeps its distance to the others, the smallest
    reaches 0)."""
    size = n + 1
    p = [0] + [int(-d[i]) for i in range(1, size)]
    low = min(p[1:]) if n else 0
    m = [0] * (size * size)
    for i in range(1, size):
        m[i * size] = p[i]  # xi <= p_i
        m[i] = -(p[i] - low)  # xi >= p_i - low
        for j in range(1, size):
            m[i * size + j] = p[i] - p[j]
    return tuple(m)


def _intersect(x, y, n: int):
    """x and y, by adding y's tighter bounds to the canonical x one at a time."""
    size = n + 1
    for k, (u, v) in enumerate(zip(x, y, strict=True)):
        if v < u:
            i, j = divmod(k, size)
            if i == j:
                continue
            x = dbm.constrain(x, n, i, j, v)
            if dbm.is_empty(x, n):
                return x
    return x


def _value(d, n: int, i: int) -> int:
    return int(-d[i])


def _pick(d, n: int, first: int):
    """One integer valuation of d: T at its smallest, then each clock at its smallest."""
    for i in [first] + [j for j in range(1, n + 1) if j != first]:
        low = -d[i]
        d = dbm.upper(d, n, i, int(low))
    return d
