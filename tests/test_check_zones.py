"""The zone explorer against the oracle: random models, random timed runs, DBM basics."""

from __future__ import annotations

import dataclasses

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import PARAM, _finish, automata

from hamodel.check import Options, check_automaton, dbm
from hamodel.check.constraints import INFINITE
from hamodel.check.params import parameter_uses
from hamodel.check.proof import prove
from hamodel.check.witness import Goal, concretize, confirms
from hamodel.check.zones import ExplorationLimit, Unsupported, explore
from hamodel.model import And, ClockKind, Cmp, Not, Number, Or, Symbol, TimeUnit
from hamodel.semantics import Monitor, Moved, SemanticsError, Violation, ViolationKind

PARAMS = {PARAM: 3_000}
# Zone graphs grow with the ratio of a guard constant to the time one loop
# takes: a 4 ns invariant on a loop that resets one clock while another is
# compared with 486 ms needs ~10^8 zones (UPPAAL's would too).  Random models
# hit that now and then; the checker then stops at its budget and says so,
# and these tests skip such an example.
BUDGET = 3.0


def test_dbm_constrain_reset_and_inclusion():
    z = dbm.up(dbm.zero(2), 2)  # x == y >= 0
    z = dbm.upper(z, 2, 1, 5)  # x <= 5
    z = dbm.reset(z, 2, 2)  # y := 0
    z = dbm.up(z, 2)
    assert dbm.min_value(z, 2, 1) == 0 and dbm.max_value(z, 2, 1) == dbm.INF
    assert not dbm.is_empty(dbm.lower(z, 2, 2, 7), 2)
    stuck = dbm.upper(dbm.lower(z, 2, 1, 6), 2, 2, 0)  # x >= 6 but x - y <= 5
    assert dbm.is_empty(stuck, 2)
    assert dbm.includes(z, dbm.upper(z, 2, 1, 3)) and not dbm.includes(dbm.upper(z, 2, 1, 3), z)


def single_clock_base(a) -> bool:
    kinds = {c.clock_kind for c in a.clocks if c.clock_kind}
    return len(kinds) <= 1


runs = st.lists(
    st.tuples(
        st.sampled_from((0, 1, 999, 1000, 2_999, 3_000, 3_001, 1_000_000, 4_000_000)),
        st.integers(0, 7),
        st.integers(0, 1),
    ),
    max_size=12,
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(automata(max_states=3, max_edges=6), runs)
def test_every_observed_outcome_was_predicted(a, run):
    """Soundness: whatever the oracle does on a run, the zone graph has it."""
    try:
        g = explore(a, PARAMS, budget_s=BUDGET)
    except (Unsupported, ExplorationLimit):
        return
    tick = 4_000_000 if any(c.clock_kind is ClockKind.JIFFIES for c in a.clocks) else 1
    m = Monitor(a, params=PARAMS)
    _, out = m.start(0, 0)
    t = 0
    values = [e.name for e in a.envs if not e.stored]
    for delta, pick, v in run:
        t += delta * tick
        event = a.events[pick % len(a.events)].name
        try:
            out += m.event(0, t, event, {n: v for n in values})
        except SemanticsError:
            return
        if m.state_of(0) is None:
            break
    entered = {a.initial.name} | {o.dst for o in out if isinstance(o, Moved)}
    assert entered <= set(g.reached)
    for o in out:
        if not isinstance(o, Violation):
            continue
        if o.kind is ViolationKind.INVALID_EVENT:
            assert (o.state, o.event) in g.invalid_event
        elif o.kind is ViolationKind.GUARD:
            assert (o.state, o.event) in g.guard_violation
        else:
            entries = {a.edges[k].dst for k in g.entry_violation}
            assert o.state in g.invariant_violation or o.state in entries


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(automata(max_states=3, max_edges=6))
def test_every_predicted_state_has_a_replayed_witness(a):
    """Completeness: each state the zone graph reaches has a trace the oracle confirms."""
    try:
        g = explore(a, PARAMS, budget_s=BUDGET)
    except (Unsupported, ExplorationLimit):
        return
    for state, hit in g.reached.items():
        w = concretize(a, g.path(hit.node), Goal("reach", state), PARAMS)
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
@given(monotone_models(), st.integers(1, 6_000_000))
def test_monotone_parameter_extremes_bound_every_value(a, value):
    """The argument behind "for every positive value": extremes enclose each valuation."""
    uses = parameter_uses(a)
    if PARAM not in uses or not uses[PARAM] or len(uses[PARAM]) > 1 or "other" in uses[PARAM]:
        return
    upper = uses[PARAM] == {"upper"}
    try:
        middle = explore(a, {PARAM: value}, budget_s=BUDGET)
    except (Unsupported, ExplorationLimit):
        return
    try:
        permissive = explore(a, {PARAM: INFINITE if upper else 1}, budget_s=BUDGET)
        restrictive = explore(a, {PARAM: 1 if upper else INFINITE}, budget_s=BUDGET)
    except ExplorationLimit:
        return
    assert set(restrictive.reached) <= set(middle.reached) <= set(permissive.reached)
    assert set(middle.taken) <= set(permissive.taken)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(automata(max_states=3, max_edges=6), monotone_models()), st.booleans())
def test_whole_check_on_random_models(a, fix_param):
    """End to end: no exception, and every witness of every finding replays."""
    params = {PARAM: 2_500} if fix_param and a.parameters else {}
    names = tuple(s.name for s in a.states)
    report = check_automaton(a, Options(params, BUDGET, names, True))
    if report.incomplete:
        # Said honestly (HA123, exit 3); see BUDGET.
        assert any(f.diagnostic.code == "analysis-incomplete" for f in report.findings)
        return
    assert not [f for f in report.findings if f.diagnostic.code == "witness-not-confirmed"]
    for f in report.findings:
        if f.witness is not None:
            assert confirms(a, f.witness), f.diagnostic.message


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(automata(max_states=3, max_edges=5))
def test_spacer_proofs_agree_with_the_zone_graph(a):
    """The Horn encoding and the explorer are two codings of one semantics: Spacer
    proves a state (or a guard where its edge starts) unreachable exactly when
    the zone graph does not reach it.  (The queries take milliseconds; the
    generous timeout only keeps a loaded machine from turning them unknown.)"""
    try:
        g = explore(a, PARAMS, budget_s=BUDGET)
    except (Unsupported, ExplorationLimit):
        return
    fixed = {p.name: PARAMS[p.name] for p in a.parameters}
    for s in a.states:
        proved = prove(a, ("state", s.name), fixed, timeout_s=60) is not None
        assert proved == (s.name not in g.reached), s.name
    for k, e in enumerate(a.edges):
        if e.src in g.reached:
            proved = prove(a, ("edge", k), fixed, timeout_s=60) is not None
            assert proved == (k not in g.guard_holds), k
