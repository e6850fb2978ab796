"""Property tests: fmt round trips, no exception but our own on any input, semantic laws."""

from __future__ import annotations

import random

import pytest
from conftest import ROOT, corpus
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import automata, timed_calls

from hamodel.fmt import format_dot
from hamodel.load import load_text
from hamodel.semantics import Monitor, Moved, SemanticsError, Violation

REAL = corpus("upstream", "upstream-history", "tlob-proposal", "rvgen-probes") + [
    ROOT / "models" / "tlob.dot"
]
VALID = [p for p in REAL if load_text(p.read_text(), str(p))[0] is not None]
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_fmt_of_real_models_round_trips(path):
    a, _ = load_text(path.read_text(), str(path), "m")
    text = format_dot(a)
    again, diags = load_text(text, "fmt.dot", "m")
    assert again == a, [d.message for d in diags]
    assert format_dot(again) == text


@FAST
@given(automata())
def test_fmt_of_random_models_round_trips(a):
    text = format_dot(a)
    again, diags = load_text(text, "rnd.dot", "rnd")
    assert not [d for d in diags if d.is_error], (text, [d.message for d in diags])
    assert again == a, text


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_mutated_real_models_give_a_model_or_diagnostics(data):
    path = data.draw(st.sampled_from(REAL))
    raw = bytearray(path.read_bytes())
    for _ in range(data.draw(st.integers(1, 4))):
        op = data.draw(st.sampled_from(("flip", "delete", "insert", "dup")))
        pos = data.draw(st.integers(0, max(0, len(raw) - 1)))
        if op == "flip" and raw:
            raw[pos] = data.draw(st.sampled_from(b'"{}[];=\\-<>&|!()\n\t #/*abc019'))
        elif op == "delete" and raw:
            del raw[pos : pos + data.draw(st.integers(1, 20))]
        elif op == "insert":
            raw[pos:pos] = data.draw(st.binary(max_size=8))
        elif op == "dup":
            raw[pos:pos] = raw[pos : pos + data.draw(st.integers(1, 40))]
    text = raw.decode("utf-8", errors="replace")
    a, diags = load_text(text, "mut.dot")  # must not raise
    assert (a is None) == any(d.is_error for d in diags)
    for d in diags:
        if d.span is not None:
            assert d.span.line >= 1 and d.span.col >= 1


def _run(m: Monitor, calls, params):
    out = []
    for c in calls:
        env = dict(c.env)
        if c.kind == "start":
            out += m.start(c.obj, c.time, params)[1]
        elif c.kind == "stop":
            result, more = m.stop(c.obj, c.time)
            out += more
            out.append(("stop", c.obj, c.time, result))
        else:
            out += getattr(m, c.kind)(c.obj, c.time, c.event, env)
    return out


@FAST
@given(st.data())
def test_semantic_laws_on_random_models(data):
    a = data.draw(automata())
    calls = data.draw(timed_calls(a))
    params = {"LIMIT_NS": data.draw(st.integers(1, 5_000_000))}
    try:
        again = _run(Monitor(a, params), calls, params)
    except SemanticsError as exc:  # only: a guard reads a value the event did not carry
        assert "needs a value" in str(exc)
        return
    m = Monitor(a, params)
    out = []
    last_time = 0
    for c in calls:
        # When each monitored object started, as the monitor knows it before the call.
        started = {o: slot.obj.started_at for o, slot in m._slots.items() if slot.obj}
        produced = _run(m, [c], params)
        out += produced
        for o in produced:
            if isinstance(o, Violation):
                spent = sum(ns for _, ns in o.residency)
                # residency covers exactly the time since the object's start: the one
                # it had before this call, or this call's own (a start, a start event)
                assert spent in {o.time - started.get(o.obj, o.time), o.time - c.time}
                assert all(ns >= 0 for _, ns in o.residency)
                assert o.time >= last_time
                last_time = o.time
            if isinstance(o, Moved):
                assert any(e.src == o.src and e.event == o.event and e.dst == o.dst
                           for e in a.edges)
    assert out == again  # deterministic, and call by call the same as all at once


def test_residency_sums_to_elapsed_on_a_long_random_tlob_run():
    a, _ = load_text((ROOT / "models" / "tlob.dot").read_text(), "tlob.dot")
    rng = random.Random(7)
    budget = 3_000_000
    m = Monitor(a, {"BUDGET_NS": budget})
    t = 10**12  # long after boot: the framework's ns check does not wrap
    starts = {}
    for obj in range(4):
        m.start(obj, t)
        starts[obj] = t
    next_event = {"running": ("sleep", "preempt"), "sleeping": ("wakeup",), "waiting": ("switch_in",)}
    checked = 0
    while t < 10**12 + 200_000_000:
        t += rng.randint(0, 400_000)
        obj = rng.randrange(4)
        state = m.state_of(obj)
        if state is None:
            m.start(obj, t)
            starts[obj] = t
            continue
        for o in m.event(obj, t, rng.choice(next_event[state])):
            if isinstance(o, Violation):
                assert sum(ns for _, ns in o.residency) == o.time - starts[o.obj] == budget
                checked += 1
    assert checked > 10
