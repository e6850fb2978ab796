"""What the zone explorer needs to know of a model before it sees a zone:
Automaton + parameter valuation + Timing -> per table cell a `CellPlan`, per state
its extrapolation constants.

Everything here depends on the model only, not on a zone: the guards of each
cell and each edge as disjunctions of clock bounds on DBM columns (disjuncts
no env value satisfies are dropped, since read-only envs are chosen afresh at
each event), the clocks whose being unset makes a guard hold, the resets, and
the constants of the Extra+_LU abstraction.  zones.py then does only zone
arithmetic per node.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass

from hamodel.check.cells import Table, edge_reads, escapes_of
from hamodel.check.constraints import Dnf, clock_lits, conjoin, dnf, env_solution, resolve
from hamodel.check.timing import Timing
from hamodel.model import Automaton, comparisons

# (i, j, c): the DBM constraint xi - xj <= c (x0 is 0): `x <= b` is (x, 0, b), `x >= b`
# is (0, x, -b)
Bound = tuple[int, int, int]


@dataclass(frozen=True, slots=True)
class Disjunct:
    index: int  # its place in constraints.dnf of the guard (Step.part)
    bounds: tuple[Bound, ...]


Formula = tuple[Disjunct, ...]  # () is FALSE


@dataclass(frozen=True, slots=True)
class EdgePlan:
    """One edge of a cell: for the findings about edges."""

    edge: int
    escapes: frozenset[str]  # an unset one of these makes its guard count as holding
    holds: Formula
    fails: Formula
    alone: Formula | None  # holds while no other edge of the cell does (None: single edge)


@dataclass(frozen=True, slots=True)
class DroppedPlan:
    """An edge the table leaves out (HA111): where its own guard would hold."""

    edge: int
    reads: frozenset[str]
    holds: Formula


@dataclass(frozen=True, slots=True)
class CellPlan:
    src: str
    event: str
    dst: str
    first: int  # the edge that gives the next state and the resets
    reads: frozenset[str]  # clocks the joined guard reads: an unset one makes it hold
    escaped: bool  # no guard: it always holds
    holds: Formula  # the joined guard
    fails: Formula
    edges: tuple[EdgePlan, ...]
    any_escapes: frozenset[str]  # the union of the edges' escapes
    dropped: tuple[DroppedPlan, ...]
    resets: tuple[int, ...]  # DBM columns
    reset_names: frozenset[str]
    rearms: bool  # ha_setup_invariants runs (not a self-loop that keeps the timer)
    key: tuple[str, str]  # (src, event)
    # one edge whose guard is the cell's: its findings follow from the cell's guard
    single: bool
    # the joined guard and its negation when each is one comparison (the common
    # case, which the explorer tests without walking the formula): (i, j, c, index)
    holds_one: tuple[int, int, int, int] | None = None
    fails_one: tuple[int, int, int, int] | None = None


def one_comparison(f: Formula) -> tuple[int, int, int, int] | None:
    """(i, j, c, index) when f is the single bound xi - xj <= c (its disjunct `index`)."""
    if len(f) != 1 or len(f[0].bounds) != 1:
        return None
    i, j, c = f[0].bounds[0]
    return i, j, c, f[0].index


def formula(d: Dnf, index: Mapping[str, int]) -> Formula:
    return tuple(
        Disjunct(i, tuple((index[lit.clock], 0, lit.bound) if lit.upper
                          else (0, index[lit.clock], -lit.bound) for lit in clock_lits(conj)))
        for i, conj in enumerate(d) if env_solution(conj) is not None)


# per state, in the kernel's event order: each event, its (state, event) key and its
# cell's plan (None: no cell)
Row = tuple[tuple[str, tuple[str, str], "CellPlan | None"], ...]

_PLANS: dict[tuple, tuple[Automaton, dict[tuple[str, str], CellPlan], dict[str, Row]]] = {}


def cell_plans(a: Automaton, tab: Table, params: Mapping[str, int],
               index: Mapping[str, int]) -> dict[tuple[str, str], CellPlan]:
    """Per table cell its plan (kept per model and parameter valuation: the check
    explores once per same-instant order, and the threshold search many times)."""
    return _compiled(a, tab, params, index)[1]


def event_rows(a: Automaton, tab: Table, params: Mapping[str, int],
               index: Mapping[str, int]) -> dict[str, Row]:
    """Per state its row of the table, as the explorer walks it (kept with the plans)."""
    return _compiled(a, tab, params, index)[2]


def _compiled(a: Automaton, tab: Table, params: Mapping[str, int],
              index: Mapping[str, int]
              ) -> tuple[Automaton, dict[tuple[str, str], CellPlan], dict[str, Row]]:
    key = (id(a), tuple(sorted(params.items())))
    cached = _PLANS.get(key)
    if cached is None or cached[0] is not a:
        if len(_PLANS) > 64:
            _PLANS.clear()
        plans = _build(a, tab, params, index)
        events = tuple(e.name for e in a.events)
        rows = {s.name: tuple((e, (s.name, e), plans.get((s.name, e))) for e in events)
                for s in a.states}
        cached = _PLANS[key] = (a, plans, rows)
    return cached


def _build(a: Automaton, tab: Table, params: Mapping[str, int],
           index: Mapping[str, int]) -> dict[tuple[str, str], CellPlan]:
    clocks = frozenset(index)
    cache: dict[tuple[object, bool], Formula] = {}

    def guard_formula(guard, negate: bool) -> Formula:
        # edges and cells share guard objects: a cell of one edge has that edge's guard
        k = (id(guard), negate)
        if k not in cache:
            cache[k] = formula(dnf(guard, clocks, params, negate), index)
        return cache[k]

    plans: dict[tuple[str, str], CellPlan] = {}
    for key, cell in tab.cells.items():
        edges = []
        for k in cell.edges:
            guard = a.edges[k].guard
            alone = None
            if len(cell.edges) > 1:
                d = dnf(guard, clocks, params, False)
                for j in cell.edges:
                    if j != k:
                        d = conjoin(d, dnf(a.edges[j].guard, clocks, params, True))
                alone = formula(d, index)
            edges.append(EdgePlan(k, escapes_of(a, cell, k), guard_formula(guard, False),
                                  guard_formula(guard, True), alone))
        escapes = frozenset().union(*(e.escapes for e in edges))
        dropped = tuple(DroppedPlan(k, edge_reads(a, k), guard_formula(a.edges[k].guard, False))
                        for k in cell.dropped)
        guard = cell.guard
        holds = guard_formula(guard, False) if guard is not None else ()
        fails = guard_formula(guard, True) if guard is not None else ()
        plans[key] = CellPlan(
            cell.src, cell.event, cell.dst, cell.first, cell.reads, guard is None, holds, fails,
            tuple(edges), escapes, dropped, tuple(index[r] for r in cell.resets),
            frozenset(cell.resets), tab.rearms(cell), key,
            len(cell.edges) == 1 and a.edges[cell.first].guard is guard,
            one_comparison(holds), one_comparison(fails))
    return plans


_BOUNDS: dict[tuple, tuple[Automaton, tuple[dict, dict]]] = {}


def extrapolation_bounds(a: Automaton, tm: Timing, params: Mapping[str, int],
                         index: Mapping[str, int]
                         ) -> tuple[dict[str, tuple[int, ...]], dict[str, tuple[int, ...]]]:
    """Per state the largest constant each clock is compared with as a lower (L) and
    an upper (U) bound there or later without a reset in between (-1: never); kept
    per model, parameter valuation and platform."""
    key = (id(a), tuple(sorted(params.items())), tm.platform, tm.timer)
    cached = _BOUNDS.get(key)
    if cached is None or cached[0] is not a:
        if len(_BOUNDS) > 64:
            _BOUNDS.clear()
        cached = _BOUNDS[key] = (a, _extrapolation_bounds(a, tm, params, index))
    return cached[1]


def _extrapolation_bounds(a: Automaton, tm: Timing, params: Mapping[str, int],
                          index: Mapping[str, int]
                          ) -> tuple[dict[str, tuple[int, ...]], dict[str, tuple[int, ...]]]:
    size = len(index) + 1
    clocks = frozenset(index)
    lows = {s.name: [-1] * size for s in a.states}
    ups = {s.name: [-1] * size for s in a.states}

    def note(state: str, clock: str, c: int | None) -> None:
        if c is None or c < 0:
            return
        i = index[clock]
        # a bound used both ways (checks, negated guards): count it as both
        for table_ in (lows, ups):
            table_[state][i] = max(table_[state][i], c + 1)

    for name, st in tm.states.items():
        for c in (st.pass_max, st.fire_lo, st.fire_hi, st.event_max):
            note(name, st.clock, c)
    for e in a.edges:
        for cmp in comparisons(e.guard):
            if cmp.env in clocks:
                c = resolve(cmp.value, params)
                if c >= 0:  # INFINITE (-1): no constant to remember
                    note(e.src, cmp.env, c)
        # the arming at the destination compares the clock in the source's zone
        st = tm.states.get(e.dst)
        if st is not None:
            note(e.src, st.clock, st.pass_max)
    # a worklist: a state whose constants grew passes them on to its predecessors
    before: dict[str, list[tuple[str, frozenset[int]]]] = {}
    for e in a.edges:
        before.setdefault(e.dst, []).append(
            (e.src, frozenset(index[r] for r in e.reset_envs)))
    todo = deque(s.name for s in a.states)
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
    return ({s: tuple(v) for s, v in lows.items()}, {s: tuple(v) for s, v in ups.items()})
