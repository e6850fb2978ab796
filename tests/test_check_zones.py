"""The zone explorer against the oracle: random models, random timed runs, DBM basics.

hamodel.semantics is proven against the verbatim framework
(tests/test_framework_semantics.py); here the explorer is proven against
hamodel.semantics, on every platform choice: soundness (every outcome a run
shows was predicted), completeness (every predicted state has a witness the
semantics replays), the parameter bracket, and Spacer proofs that agree with
the zone graph.
"""

from __future__ import annotations

import dataclasses

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import PARAM, _finish, automata

from hamodel.check import Options, check_automaton, dbm
from hamodel.check.cells import table
from hamodel.check.constraints import INFINITE, dnf
from hamodel.check.params import parameter_uses
from hamodel.check.proof import prove
from hamodel.check.timing import Unsupported, clock_kind, platform_timer
from hamodel.check.witness import Goal, concretize, confirms
from hamodel.check.zones import ExplorationLimit, explore
from hamodel.model import And, ClockKind, Cmp, Not, Number, Or, Symbol, TimeUnit
from hamodel.semantics import (
    Monitor,
    Moved,
    Platform,
    Semantics,
    SemanticsError,
    Tie,
    Timer,
    Violation,
    ViolationKind,
    tick_nsec,
)

PARAMS = {PARAM: 3_000}
# Zone graphs grow with the ratio of a guard constant to the time one loop
# takes: a 4 ns invariant on a loop that resets one clock while another is
# compared with 486 ms needs ~10^8 zones (UPPAAL's would too).  Random models
# hit that now and then; the checker then stops at its budget and says so,
# and these tests skip such an example.
BUDGET = 3.0
UPTIME = 3_600_000_000_000  # a jiffy boundary at HZ=250, past every bound
TICK = tick_nsec(250)


def test_dbm_constrain_reset_free_and_inclusion():
    z = dbm.up(dbm.zero(2), 2)  # x == y >= 0
    z = dbm.upper(z, 2, 1, 5)  # x <= 5
    z = dbm.reset(z, 2, 2)  # y := 0
    z = dbm.up(z, 2)
    assert dbm.min_value(z, 2, 1) == 0 and dbm.max_value(z, 2, 1) == dbm.INF
    assert not dbm.is_empty(dbm.lower(z, 2, 2, 7), 2)
    stuck = dbm.upper(dbm.lower(z, 2, 1, 6), 2, 2, 0)  # x >= 6 but x - y <= 5
    assert dbm.is_empty(stuck, 2)
    assert dbm.includes(z, dbm.upper(z, 2, 1, 3)) and not dbm.includes(dbm.upper(z, 2, 1, 3), z)
    early = dbm.upper(z, 2, 2, 1)  # y <= 1, so x <= 6
    freed = dbm.free(early, 2, 2)  # forget y: x keeps its bounds
    assert dbm.max_value(freed, 2, 2) == dbm.INF and dbm.max_value(freed, 2, 1) == 6
    assert dbm.includes(freed, early) and not dbm.includes(freed, z)
    assert dbm.close(freed, 2) == freed  # still canonical


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(automata(max_states=4, max_edges=8))
def test_the_table_is_the_semantics_table(a):
    """cells.py and hamodel.semantics build the kernel's table the same way."""
    sem = Semantics(a)
    cells = table(a)
    assert set(cells.cells) == set(sem._table)
    for key, cell in cells.cells.items():
        mine = sem._table[key]
        assert cell.dst == mine.dst and cell.guard == mine.guard
        assert cell.resets == tuple(sem.clock_names[i] for i in mine.resets)
        assert cell.reads == frozenset(sem.clock_names[i] for i in mine.escapes)
    assert cells.rearm_events == sem.self_loop_reset_events


platforms = st.builds(
    lambda tie, timer, latency: Platform(tie=tie, timer=timer, latency_ns=latency),
    st.sampled_from(Tie), st.sampled_from((None, Timer.HRTIMER, Timer.WHEEL)),
    st.sampled_from((0, 0, 1, 3, TICK, TICK + 5)),
)

runs = st.lists(
    st.tuples(
        st.sampled_from((0, 1, 999, 1000, 2_999, 3_000, 3_001, 1_000_000, 4_000_000)),
        st.integers(0, 7),
        st.integers(0, 1),
    ),
    max_size=12,
)


def _with_timer(a, platform: Platform) -> Platform:
    return dataclasses.replace(platform, timer=platform_timer(a, platform))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(automata(max_states=3, max_edges=6), runs, platforms, st.sampled_from(
    ("start", "start_event", "start_run_event")))
def test_every_observed_outcome_was_predicted(a, run, platform, start):
    """Soundness: whatever the oracle does on a run, the zone graph has it."""
    platform = _with_timer(a, platform)
    try:
        g = explore(a, PARAMS, platform, budget_s=BUDGET)
    except (Unsupported, ExplorationLimit):
        return
    # jiffy models: events on jiffy boundaries, where the checker places them
    tick = TICK if clock_kind(a) is ClockKind.JIFFIES else 1
    m = Monitor(a, params=PARAMS, platform=platform)
    values = [e.name for e in a.envs if not e.stored]
    out: list = []
    t = UPTIME
    first = a.events[run[0][1] % len(a.events)].name if run else a.events[0].name
    try:
        if start == "start":
            out += m.start(0, t)[1]
        elif start == "start_event":
            out += m.start_event(0, t, first, {n: 0 for n in values})
        else:
            out += m.start_run_event(0, t, first, {n: 0 for n in values})
        for delta, pick, v in run:
            t += delta * tick
            event = a.events[pick % len(a.events)].name
            out += m.event(0, t, event, {n: v for n in values})
            if m.state_of(0) is None:
                break
        deadline = m.next_deadline()
        if deadline is not None:
            out += m.advance(deadline + 1)
    except SemanticsError:
        return
    entered = {a.initial.name} | {o.dst for o in out if isinstance(o, Moved)}
    assert entered <= set(g.reached)
    for o in out:
        if not isinstance(o, Violation):
            continue
        if o.kind is ViolationKind.INVALID_EVENT:
            assert (o.state, o.event) in g.invalid_event
        elif o.kind is ViolationKind.GUARD:
            assert (o.state, o.event) in g.guard_violation
        elif o.event is None:
            assert o.state in g.timer
        else:
            assert (o.state, o.event) in g.late_event


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(automata(max_states=3, max_edges=6), platforms)
def test_every_predicted_state_has_a_replayed_witness(a, platform):
    """Completeness: each state the zone graph reaches has a trace the oracle confirms."""
    platform = _with_timer(a, platform)
    try:
        g = explore(a, PARAMS, platform, budget_s=BUDGET)
    except (Unsupported, ExplorationLimit):
        return
    if g.timing.inexact:
        return  # a firing window may promise more than there is: HA128
    for state, hit in g.reached.items():
        w = concretize(a, g.path(hit.node), Goal("reach", state), PARAMS, platform,
                       g.nodes[0].mode)
        assert w is not None and confirms(a, w), state


def _one_direction(g, upper: bool, negated: bool = False):
    """The guard with every parameter comparison turned into an upper (or lower) bound."""
    if g is None:
        return None
    if isinstance(g, Not):
        return Not(_one_direction(g.operand, upper, not negated))
    if isinstance(g, And | Or):
        return type(g)(_one_direction(g.left, upper, negated),
                       _one_direction(g.right, upper, negated))
    if not isinstance(g.value, Symbol):
        return g
    want_upper = upper != negated
    return Cmp(g.env, "<" if want_upper else ">", g.value)


@st.composite
def monotone_models(draw):
    a = draw(automata(max_states=3, max_edges=6))
    upper = draw(st.booleans())
    clocks = [c.name for c in a.clocks]
    keys = [(e.src, e.event) for e in a.edges]
    edges = []
    for e in a.edges:
        guard = _one_direction(e.guard, upper)
        if clocks and keys.count((e.src, e.event)) == 1 and draw(st.booleans()):
            extra = Cmp(draw(st.sampled_from(clocks)), "<" if upper else ">",
                        Symbol(PARAM, True))
            guard = extra if guard is None else And(guard, extra)
        edges.append(dataclasses.replace(e, guard=guard))
    states = a.states
    if not upper:
        states = tuple(
            dataclasses.replace(x, invariant=dataclasses.replace(
                x.invariant, bound=Number(2_000_000, TimeUnit.NS, "2ms")))
            if x.invariant and isinstance(x.invariant.bound, Symbol) else x
            for x in a.states
        )
    return _finish(dataclasses.replace(a, edges=tuple(edges), states=states), frozenset(
        c.name for c in a.clocks if c.clock_kind is ClockKind.JIFFIES))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(monotone_models(), st.integers(1, 6_000_000), platforms)
def test_monotone_parameter_extremes_bound_every_value(a, value, platform):
    """The argument behind "for every positive value": extremes enclose each valuation."""
    uses = parameter_uses(a)
    if PARAM not in uses or not uses[PARAM] or len(uses[PARAM]) > 1 or "other" in uses[PARAM]:
        return
    platform = _with_timer(a, platform)
    upper = uses[PARAM] == {"upper"}
    try:
        middle = explore(a, {PARAM: value}, platform, budget_s=BUDGET)
    except (Unsupported, ExplorationLimit):
        return
    try:
        permissive = explore(a, {PARAM: INFINITE if upper else 1}, platform, budget_s=BUDGET)
        restrictive = explore(a, {PARAM: 1 if upper else INFINITE}, platform, budget_s=BUDGET)
    except ExplorationLimit:
        return
    assert set(restrictive.reached) <= set(middle.reached) <= set(permissive.reached)
    assert set(middle.taken) <= set(permissive.taken)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(automata(max_states=3, max_edges=6), monotone_models()), st.booleans(),
       st.sampled_from((None, Tie.EVENT_FIRST)))
def test_whole_check_on_random_models(a, fix_param, tie):
    """End to end: no exception, and every witness of every finding replays."""
    params = {PARAM: 2_500} if fix_param and a.parameters else {}
    names = tuple(s.name for s in a.states)
    report = check_automaton(a, Options(params, BUDGET, names, True, tie=tie))
    if report.incomplete:
        # Said honestly (HA123, exit 3); see BUDGET.
        assert any(f.diagnostic.code == "analysis-incomplete" for f in report.findings)
        return
    assert not [f for f in report.findings if f.diagnostic.code == "witness-not-confirmed"]
    for f in report.findings:
        if f.witness is not None:
            assert confirms(a, f.witness), f.diagnostic.message
        if "[only when" in f.diagnostic.message:
            assert not f.diagnostic.is_error and "(proved)" not in f.diagnostic.message


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(automata(max_states=3, max_edges=5), st.sampled_from(Tie))
def test_spacer_proofs_agree_with_the_zone_graph(a, tie):
    """The Horn encoding and the explorer are two codings of one semantics: Spacer
    proves a state (or a guard where its edge starts) unreachable exactly when
    the zone graph does not reach it.  (The queries take milliseconds; the
    generous timeout only keeps a loaded machine from turning them unknown.)"""
    platform = _with_timer(a, Platform(tie=tie))
    try:
        g = explore(a, PARAMS, platform, budget_s=BUDGET)
    except (Unsupported, ExplorationLimit):
        return
    if g.timing.inexact:
        return
    fixed = {p.name: PARAMS[p.name] for p in a.parameters}
    for s in a.states:
        proved = prove(a, ("state", s.name), fixed, platform, timeout_s=60) is not None
        assert proved == (s.name not in g.reached), s.name
    tab = table(a)
    for cell in tab.cells.values():
        for k in cell.edges:
            if k in g.evaluated:
                proved = prove(a, ("edge", k), fixed, platform, timeout_s=60) is not None
                assert proved == (k not in g.guard_holds), k


def _finish_time(w) -> int:
    if w.end is not None:
        return w.end
    return w.events[-1].time if w.events else 0


def _one_way(a, steps, goal) -> bool:
    """Whether every guard the path (and its goal) reads has a single disjunct, so that
    the zone path's recorded disjuncts are the only way along it."""
    tab = table(a)
    clocks = frozenset(c.name for c in a.clocks)
    guards = [tab.cell_of_edge(s.edge, a).guard for s in steps]
    cell = tab.get(goal.state, goal.event or "")
    if cell is not None:
        guards += [cell.guard] + [a.edges[k].guard for k in cell.edges + cell.dropped]
    return all(len(dnf(g, clocks, PARAMS, neg)) <= 1 for g in guards for neg in (False, True))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(automata(max_states=3, max_edges=6), platforms)
def test_zone_witnesses_are_as_early_as_the_solver_s(a, platform):
    """Witnesses built from the zone path (concrete.py) finish at the earliest instant
    the path's recorded guard disjuncts allow; Z3's Optimize may pick other disjuncts
    of the same cells: never later, and the same instant when there is one way."""
    platform = _with_timer(a, platform)
    try:
        g = explore(a, PARAMS, platform, budget_s=BUDGET)
    except (Unsupported, ExplorationLimit):
        return
    if g.timing.inexact:
        return
    goals = [(hit, Goal("reach", state)) for state, hit in g.reached.items()]
    for kind, hit in g.violation_hits():
        goals.append((hit, Goal(kind, g.nodes[hit.node].state, hit.event)))
    for hit, goal in goals:
        steps = g.path(hit.node)
        fixed = {p.name: PARAMS[p.name] for p in a.parameters}
        zone = concretize(a, steps, goal, fixed, platform, g.nodes[0].mode)
        z3_ = concretize(a, steps, goal, fixed, platform, g.nodes[0].mode, solver=True)
        assert zone is not None and z3_ is not None, goal
        assert confirms(a, zone) and confirms(a, z3_), goal
        assert _finish_time(z3_) <= _finish_time(zone), goal
        if _one_way(a, steps, goal):
            assert _finish_time(zone) == _finish_time(z3_), goal
