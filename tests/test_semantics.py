"""The timed semantics on hand-computed cases (docs/semantics.md, rule by rule)."""

from __future__ import annotations

import pytest
from conftest import MODELS, ROOT

from hamodel.load import load_model, load_text
from hamodel.semantics import (
    Monitor,
    Moved,
    SemanticsError,
    StartResult,
    StopResult,
    Violation,
    ViolationKind,
    tick_nsec,
)

MS = 1_000_000


def tlob(budget_ms: int = 5) -> Monitor:
    a, _ = load_model(ROOT / "models" / "tlob.dot")
    return Monitor(a, {"BUDGET_NS": budget_ms * MS})


def model(body: str, states: str = '"a" [label = "a"];\n\t"b" [label = "b"];\n') -> Monitor:
    text = (
        "digraph state_automaton {\n"
        '\t{node [shape = plaintext, style=invis, label=""] "__init_a"};\n'
        '\t{node [shape = doublecircle] "a"};\n'
        '\t{node [shape = circle] "b"};\n'
        '\t"__init_a" -> "a";\n'
        f"\t{states}\t{body}}}\n"
    )
    a, diags = load_text(text, "m.dot")
    assert a is not None, [d.message for d in diags]
    return Monitor(a)


def violations(outs):
    return [o for o in outs if isinstance(o, Violation)]


def test_timer_fires_between_events_at_the_deadline():
    m = tlob(5)
    m.start(1, 1 * MS)
    m.event(1, 2 * MS, "preempt")
    out = m.event(1, 10 * MS, "switch_in")  # the timer fired at 6 ms, before this event
    (v,) = violations(out)
    assert v.kind is ViolationKind.INVARIANT and v.event is None
    assert v.time == 6 * MS and v.state == "waiting"
    assert dict(v.clocks) == {"clk_elapsed": 5 * MS}
    assert dict(v.residency) == {"running": 1 * MS, "sleeping": 0, "waiting": 4 * MS}
    assert sum(ns for _, ns in v.residency) == v.time - 1 * MS  # residency sums to elapsed
    assert len(out) == 1  # the event itself is ignored: the object is no longer monitored


def test_timer_due_at_the_event_instant_fires_first():
    m = tlob(5)
    m.start(1, 0)
    out = m.event(1, 5 * MS, "preempt")  # exactly clk == BUDGET: `<` is already false
    assert [type(o) for o in out] == [Violation]
    assert out[0].time == 5 * MS and out[0].state == "running"


def test_one_ns_before_the_deadline_is_fine():
    m = tlob(5)
    m.start(1, 0)
    out = m.event(1, 5 * MS - 1, "preempt")
    assert out == [Moved(1, 5 * MS - 1, "running", "preempt", "waiting")]


def test_stop_within_budget_and_after_violation():
    m = tlob(5)
    m.start(1, 0)
    assert m.stop(1, 4 * MS) == (StopResult.STOPPED, [])
    m.start(2, 10 * MS)
    result, out = m.stop(2, 20 * MS)
    assert result is StopResult.VIOLATED  # tlob: -EOVERFLOW
    assert violations(out)[0].time == 15 * MS
    assert m.stop(3, 21 * MS)[0] is StopResult.NOT_MONITORED  # -ESRCH


def test_start_twice_is_refused_and_restart_after_violation_works():
    m = tlob(5)
    assert m.start(1, 0)[0] is StartResult.STARTED
    assert m.start(1, 1 * MS)[0] is StartResult.ALREADY  # -EALREADY; budget not reset
    m.advance(6 * MS)
    assert m.state_of(1) is None  # the violation ended monitoring
    assert m.start(1, 7 * MS)[0] is StartResult.STARTED
    assert m.state_of(1) == "running"
    out = m.event(1, 11 * MS, "sleep")
    assert out == [Moved(1, 11 * MS, "running", "sleep", "sleeping")]


def test_invalid_event_is_a_violation_and_ends_monitoring():
    m = tlob(5)
    m.start(1, 0)
    out = m.event(1, 1 * MS, "wakeup")  # running has no wakeup edge
    (v,) = out
    assert v.kind is ViolationKind.INVALID_EVENT and v.event == "wakeup"
    assert v.state == "running" and dict(v.clocks) == {"clk_elapsed": 1 * MS}
    assert m.event(1, 2 * MS, "sleep") == []  # ignored until started again
    assert m.advance(100 * MS) == []  # the timer was cancelled with the monitor


def test_events_of_unmonitored_objects_are_ignored():
    m = tlob(5)
    assert m.event(7, 0, "wakeup") == []
    with pytest.raises(SemanticsError):
        m.event(7, 0, "no_such_event")


def test_guard_failure_and_unset_clock_escape():
    m = model('"a" -> "b" [ label = "go;clk < 2ms" ];\n\t"b" -> "a" [ label = "back;reset(clk)" ];\n')
    m.start(1, 0)
    # clk was never reset: the comparison on an unset clock holds (kernel rule).
    assert m.event(1, 10 * MS, "go") == [Moved(1, 10 * MS, "a", "go", "b")]
    m.event(1, 11 * MS, "back")  # reset at 11 ms
    assert m.event(1, 12 * MS, "go") == [Moved(1, 12 * MS, "a", "go", "b")]
    m.event(1, 13 * MS, "back")
    (v,) = m.event(1, 15 * MS, "go")  # clk == 2 ms: `<` fails
    assert v.kind is ViolationKind.GUARD and dict(v.clocks) == {"clk": 2 * MS}


def test_guard_reads_clock_before_the_edge_resets_it():
    m = model(
        '"a" -> "b" [ label = "go;reset(clk)" ];\n'
        '\t"b" -> "a" [ label = "back;clk > 1ms;reset(clk)" ];\n'
    )
    m.start(1, 0)
    m.event(1, 0, "go")
    assert isinstance(m.event(1, 2 * MS, "back")[0], Moved)
    m.event(1, 3 * MS, "go")
    assert violations(m.event(1, 3 * MS + 500_000, "back"))[0].kind is ViolationKind.GUARD


def test_read_only_env_values_come_with_the_event():
    m = model('"a" -> "b" [ label = "go;is_defer == 1" ];\n\t"b" -> "a" [ label = "back" ];\n')
    m.start(1, 0)
    assert violations(m.event(1, 1, "go", {"is_defer": 0}))
    m.start(1, 2)
    assert m.event(1, 3, "go", {"is_defer": 1}) == [Moved(1, 3, "a", "go", "b")]
    m.start(2, 4)
    with pytest.raises(SemanticsError):
        m.event(2, 5, "go")  # the value is missing


def test_invariant_on_unset_clock_counts_from_entry():
    m = model(
        '"a" -> "b" [ label = "go" ];\n\t"b" -> "a" [ label = "back;reset(clk)" ];\n',
        states='"a" [label = "a"];\n\t"b" [label = "b\\nclk < 3ms"];\n',
    )
    m.start(1, 0)
    m.event(1, 10 * MS, "go")  # clk unset: the kernel arms the timer with passed = 0
    (v,) = m.advance(13 * MS)
    assert v.time == 13 * MS and v.state == "b" and dict(v.clocks) == {"clk": None}


def test_non_strict_invariant_fires_one_ns_later():
    m = model(
        '"a" -> "b" [ label = "go;reset(clk)" ];\n\t"b" -> "a" [ label = "back" ];\n',
        states='"a" [label = "a"];\n\t"b" [label = "b\\nclk <= 3ms"];\n',
    )
    m.start(1, 0)
    m.event(1, 0, "go")
    assert m.event(1, 3 * MS, "back") == [Moved(1, 3 * MS, "b", "back", "a")]
    m.event(1, 3 * MS, "go")
    (v,) = m.advance(10 * MS)
    assert v.time == 6 * MS + 1


def test_self_loop_without_reset_keeps_the_timer():
    m = model(
        '"a" -> "b" [ label = "go;reset(clk)" ];\n\t"b" -> "b" [ label = "tick" ];\n'
        '\t"b" -> "a" [ label = "back" ];\n',
        states='"a" [label = "a"];\n\t"b" [label = "b\\nclk < 3ms"];\n',
    )
    m.start(1, 0)
    m.event(1, 0, "go")
    m.event(1, 2 * MS, "tick")
    (v,) = m.advance(4 * MS)
    assert v.time == 3 * MS
    assert dict(v.residency)["b"] == 3 * MS


def test_entering_a_state_whose_invariant_is_false_fires_at_entry():
    text_model = model(
        '"a" -> "b" [ label = "go" ];\n\t"b" -> "a" [ label = "back" ];\n'
        '\t"a" -> "a" [ label = "r;reset(clk)" ];\n',
        states='"a" [label = "a"];\n\t"b" [label = "b\\nclk < 3ms"];\n',
    )
    text_model.start(1, 0)
    text_model.event(1, 0, "r")
    out = text_model.event(1, 5 * MS, "go")
    assert [type(o) for o in out] == [Moved, Violation]
    assert out[1].time == 5 * MS and out[1].state == "b"


def test_jiffy_clock_counts_ticks():
    a, _ = load_model(MODELS / "upstream" / "stall.dot")
    hz = 250
    tick = tick_nsec(hz)
    m = Monitor(a, {"threshold_jiffies": 3}, hz=hz)
    m.start(1, 0)
    m.event(1, tick // 2, "sched_wakeup")  # dequeued -> enqueued, reset at jiffy 0
    (v,) = m.advance(10 * tick)
    assert v.time == 3 * tick  # jiffies 0 -> 3
    assert dict(v.clocks) == {"clk": 3} and v.state == "enqueued"


def test_start_event_and_start_run_event():
    a, _ = load_model(MODELS / "upstream" / "wip.dot")
    m = Monitor(a)
    # da_handle_start_event: the first event only starts monitoring.
    assert m.start_event(0, 0, "preempt_enable") == []
    assert m.state_of(0) == "preemptive"
    # da_handle_start_run_event: starts and processes.
    out = m.start_run_event(1, 1, "preempt_disable")
    assert out == [Moved(1, 1, "preemptive", "preempt_disable", "non_preemptive")]


def test_time_cannot_go_back():
    m = tlob()
    m.start(1, 10)
    with pytest.raises(SemanticsError):
        m.event(1, 5, "sleep")


def test_symbol_with_a_unit_scales():
    m = model(
        '"a" -> "b" [ label = "go;reset(clk)" ];\n\t"b" -> "a" [ label = "back;clk < LIMIT us" ];\n'
    )
    m.params = {"LIMIT": 3}
    m.start(1, 0)
    m.event(1, 0, "go")
    assert isinstance(m.event(1, 2_999, "back")[0], Moved)
    m.event(1, 3_000, "go")
    assert violations(m.event(1, 6_000, "back"))


def test_refused_calls_change_nothing():
    m = tlob(5)
    m.start(1, 0)
    with pytest.raises(SemanticsError):
        m.event(2, 10 * MS, "bogus")  # refused before the due timer of object 1 fires
    (v,) = m.advance(10 * MS)
    assert v.obj == 1 and v.time == 5 * MS
    bare = Monitor(tlob().automaton)  # no BUDGET_NS
    with pytest.raises(SemanticsError):
        bare.start(1, 0)
    assert bare.objects() == 0 and bare.stop(1, 0)[0] is StopResult.NOT_MONITORED


def test_a_late_refusal_hands_over_the_timers_that_fired():
    m = model(
        '"a" -> "b" [ label = "go;reset(clk)" ];\n\t"b" -> "a" [ label = "back" ];\n'
        '\t"a" -> "a" [ label = "back;is_on == 1" ];\n',
        states='"a" [label = "a"];\n\t"b" [label = "b\\nclk < 1ms"];\n',
    )
    m.start(1, 0)
    m.event(1, 0, "go")  # object 1 waits in b: its timer is due at 1 ms
    m.start(2, 0)
    with pytest.raises(SemanticsError) as exc:
        m.event(2, 2 * MS, "back")  # object 2's guard needs is_on, which is missing
    (v,) = exc.value.outcomes
    assert v.obj == 1 and v.time == 1 * MS and v.kind is ViolationKind.INVARIANT
