"""The timed semantics on hand-computed cases (docs/semantics.md, rule by rule).

Times are ns since boot; most cases run at an uptime of U (long after boot),
where no check of the framework wraps.  tests/test_framework_semantics.py shows
the same rules on the framework itself; here each is worked out by hand.
"""

from __future__ import annotations

import pytest
from conftest import MODELS, ROOT

from hamodel.load import load_model, load_text
from hamodel.semantics import (
    Monitor,
    Moved,
    Platform,
    SemanticsError,
    StartResult,
    StopResult,
    Tie,
    Timer,
    Violation,
    ViolationKind,
    initial_jiffies,
    tick_nsec,
)

MS = 1_000_000
U = 10**12  # about 17 minutes after boot


def tlob(budget_ms: int = 5, platform: Platform | None = None) -> Monitor:
    a, _ = load_model(ROOT / "models" / "tlob.dot")
    return Monitor(a, {"BUDGET_NS": budget_ms * MS}, platform=platform)


def model(body: str, states: str = '"a" [label = "a"];\n\t"b" [label = "b"];\n',
          init: str = "") -> Monitor:
    text = (
        "digraph state_automaton {\n"
        '\t{node [shape = plaintext, style=invis, label=""] "__init_a"};\n'
        '\t{node [shape = doublecircle] "a"};\n'
        '\t{node [shape = circle] "b"};\n'
        f'\t"__init_a" -> "a"{init};\n'
        f"\t{states}\t{body}}}\n"
    )
    a, diags = load_text(text, "m.dot")
    assert a is not None, [d.message for d in diags]
    return Monitor(a)


def violations(outs):
    return [o for o in outs if isinstance(o, Violation)]


# --- timers and the event-time check ----------------------------------------------------


def test_timer_fires_between_events_at_the_deadline():
    m = tlob(5)
    m.start(1, U + 1 * MS)  # the __init arrow resets clk_elapsed: deadline U + 6 ms
    m.event(1, U + 2 * MS, "preempt")
    out = m.event(1, U + 10 * MS, "switch_in")
    (v,) = violations(out)
    assert v.kind is ViolationKind.INVARIANT and v.event is None
    assert v.time == U + 6 * MS and v.state == "waiting"
    assert dict(v.clocks) == {"clk_elapsed": 5 * MS}
    assert v.env_text() == f"clk_elapsed={5 * MS}"
    assert dict(v.residency) == {"running": 1 * MS, "sleeping": 0, "waiting": 4 * MS}
    assert len(out) == 1  # the event itself is ignored: the object is no longer monitored


def test_an_event_at_the_expiry_instant_runs_before_the_callback():
    """ha_check_invariant_ns() is non-strict: clk == B passes; the callback comes after."""
    m = tlob(5)
    m.start(1, U)
    assert m.event(1, U + 5 * MS, "preempt") == [
        Moved(1, U + 5 * MS, "running", "preempt", "waiting")]
    # waiting re-arms with passed = B: the timer is due at once, and runs after the instant
    (v,) = m.advance(U + 5 * MS + 1)
    assert v.time == U + 5 * MS and v.state == "waiting"


def test_timer_first_at_a_tie_is_an_option():
    m = tlob(5, Platform(tie=Tie.TIMER_FIRST))
    m.start(1, U)
    (v,) = m.event(1, U + 5 * MS, "preempt")
    assert v.event is None and v.state == "running" and v.time == U + 5 * MS


def test_a_late_event_fails_the_invariant_under_its_own_name():
    """Between the expiry and a late callback, the event-time check catches the overrun."""
    m = tlob(5, Platform(latency_ns=1000))
    m.start(1, U)
    (v,) = m.event(1, U + 5 * MS + 500, "preempt")
    assert v.kind is ViolationKind.INVARIANT and v.event == "preempt"
    assert v.state == "running" and dict(v.clocks) == {"clk_elapsed": 5 * MS + 500}


def test_the_ns_check_wraps_while_the_uptime_is_below_the_bound():
    """store >= now - B in u64: at 2 ms of uptime with a 5 ms budget every event fails."""
    m = tlob(5)
    m.start(1, 1 * MS)
    (v,) = m.event(1, 2 * MS, "preempt")
    assert v.kind is ViolationKind.INVARIANT and v.event == "preempt"
    m = tlob(5)
    m.start(1, 5 * MS)  # from 5 ms of uptime on, now - B no longer wraps
    assert isinstance(m.event(1, 6 * MS, "preempt")[0], Moved)


def test_lt_and_le_are_the_same_to_the_kernel():
    for op in ("<", "<="):
        m = model(
            '"a" -> "b" [ label = "go;reset(clk)" ];\n\t"b" -> "a" [ label = "back" ];\n',
            states=f'"a" [label = "a"];\n\t"b" [label = "b\\nclk {op} 3ms"];\n',
        )
        m.start(1, U)
        m.event(1, U, "go")
        assert isinstance(m.event(1, U + 3 * MS, "back")[0], Moved)  # clk == B passes
        m.event(1, U + 3 * MS, "go")
        (v,) = m.advance(U + 10 * MS)
        assert v.time == U + 6 * MS


def test_self_loop_without_reset_keeps_the_timer():
    m = model(
        '"a" -> "b" [ label = "go;reset(clk)" ];\n\t"b" -> "b" [ label = "tick" ];\n'
        '\t"b" -> "a" [ label = "back" ];\n',
        states='"a" [label = "a"];\n\t"b" [label = "b\\nclk < 3ms"];\n',
    )
    m.start(1, U)
    m.event(1, U, "go")
    m.event(1, U + 2 * MS, "tick")
    (v,) = m.advance(U + 4 * MS)
    assert v.time == U + 3 * MS
    assert dict(v.residency)["b"] == 3 * MS


def test_self_loops_re_arm_per_event_name():
    """`tick` resets on a's self-loop, so b's plain `tick` self-loop re-arms too; with
    the clock unset (nothing reset it) that moves the deadline to now + B."""
    m = model(
        '"a" -> "b" [ label = "go" ];\n\t"a" -> "a" [ label = "tick;reset(clk)" ];\n'
        '\t"b" -> "b" [ label = "tick" ];\n\t"b" -> "a" [ label = "back" ];\n',
        states='"a" [label = "a"];\n\t"b" [label = "b\\nclk < 3ms"];\n',
    )
    m.start(1, U)
    m.event(1, U, "go")  # unset clock: passed = 0, due at U + 3 ms
    m.event(1, U + 2 * MS, "tick")  # re-armed: due at U + 5 ms
    assert m.advance(U + 4 * MS) == []
    (v,) = m.advance(U + 6 * MS)
    assert v.time == U + 5 * MS and dict(v.clocks) == {"clk": None}


def test_invariant_on_unset_clock_counts_from_entry():
    m = model(
        '"a" -> "b" [ label = "go" ];\n\t"b" -> "a" [ label = "back;reset(clk)" ];\n',
        states='"a" [label = "a"];\n\t"b" [label = "b\\nclk < 3ms"];\n',
    )
    m.start(1, U)
    m.event(1, U + 10 * MS, "go")
    (v,) = m.advance(U + 13 * MS + 1)
    assert v.time == U + 13 * MS and v.state == "b" and dict(v.clocks) == {"clk": None}
    assert v.env_text() == f"clk={U + 13 * MS + 1}"  # an unset clock prints now - U64_MAX


def test_entering_a_state_whose_invariant_is_already_false():
    """The hrtimer's expiry is negative: ktime_add_safe() saturates, it never fires; the
    state is entered (the move is traced) and its next event fails the check."""
    m = model(
        '"a" -> "b" [ label = "go" ];\n\t"b" -> "a" [ label = "back" ];\n'
        '\t"a" -> "a" [ label = "r;reset(clk)" ];\n',
        states='"a" [label = "a"];\n\t"b" [label = "b\\nclk < 3ms"];\n',
    )
    m.start(1, U)
    m.event(1, U, "r")
    assert m.event(1, U + 5 * MS, "go") == [Moved(1, U + 5 * MS, "a", "go", "b")]
    assert m.advance(U + 10**9) == []
    (v,) = m.event(1, U + 10**9, "back")
    assert v.kind is ViolationKind.INVARIANT and v.event == "back"


# --- starting -------------------------------------------------------------------------------


def test_a_start_arms_nothing_without_init_resets():
    m = model(
        '"a" -> "b" [ label = "go;reset(clk)" ];\n\t"b" -> "a" [ label = "back" ];\n',
        states='"a" [label = "a\\nclk < 3ms"];\n\t"b" [label = "b"];\n',
    )
    m.start(1, U)
    assert m.advance(U + 10 * MS) == []  # the initial invariant has no timer
    assert isinstance(m.event(1, U + 10 * MS, "go")[0], Moved)  # an unset ns clock passes


def test_init_resets_start_the_clock_and_the_timer():
    m = model(
        '"a" -> "b" [ label = "go" ];\n\t"b" -> "a" [ label = "back" ];\n',
        states='"a" [label = "a\\nclk < 3ms"];\n\t"b" [label = "b"];\n',
        init=' [ label = "reset(clk)" ]',
    )
    m.start(1, U)
    (v,) = m.advance(U + 4 * MS)
    assert v.time == U + 3 * MS and v.state == "a"


def test_stop_within_budget_and_after_violation():
    m = tlob(5)
    m.start(1, U)
    assert m.stop(1, U + 4 * MS) == (StopResult.STOPPED, [])
    m.start(2, U + 10 * MS)
    result, out = m.stop(2, U + 20 * MS)
    assert result is StopResult.VIOLATED  # tlob: -EOVERFLOW
    assert violations(out)[0].time == U + 15 * MS
    assert m.stop(3, U + 21 * MS)[0] is StopResult.NOT_MONITORED  # -ESRCH


def test_a_stop_after_the_deadline_reports_a_late_timer():
    m = tlob(5, Platform(latency_ns=1000))
    m.start(1, U)
    result, (v,) = m.stop(1, U + 5 * MS + 500)  # the callback would run at +1000
    assert result is StopResult.VIOLATED
    assert v.event is None and v.time == U + 5 * MS + 500 and v.state == "running"
    m.start(2, U + 10 * MS)
    assert m.stop(2, U + 15 * MS) == (StopResult.STOPPED, [])  # clk == B still holds


def test_start_twice_is_refused_and_restart_after_violation_works():
    m = tlob(5)
    assert m.start(1, U)[0] is StartResult.STARTED
    assert m.start(1, U + 1 * MS)[0] is StartResult.ALREADY  # -EALREADY; budget not reset
    m.advance(U + 6 * MS)
    assert m.state_of(1) is None  # the violation ended monitoring
    assert m.start(1, U + 7 * MS)[0] is StartResult.STARTED
    assert m.event(1, U + 11 * MS, "sleep") == [
        Moved(1, U + 11 * MS, "running", "sleep", "sleeping")]


def test_start_event_and_start_run_event():
    a, _ = load_model(MODELS / "upstream" / "wip.dot")
    m = Monitor(a)
    # da_handle_start_event: the first event only starts monitoring.
    assert m.start_event(0, U, "preempt_enable") == []
    assert m.state_of(0) == "preemptive"
    # da_handle_start_run_event: starts and processes.
    out = m.start_run_event(1, U + 1, "preempt_disable")
    assert out == [Moved(1, U + 1, "preemptive", "preempt_disable", "non_preemptive")]


# --- transitions and guards ----------------------------------------------------------------


def test_invalid_event_is_a_violation_and_ends_monitoring():
    m = tlob(5)
    m.start(1, U)
    (v,) = m.event(1, U + 1 * MS, "switch_in")  # running has no switch_in edge
    assert v.kind is ViolationKind.INVALID_EVENT and v.event == "switch_in"
    assert v.state == "running" and dict(v.clocks) == {"clk_elapsed": 1 * MS}
    assert m.event(1, U + 2 * MS, "sleep") == []  # ignored until started again
    assert m.advance(U + 100 * MS) == []  # the timer was cancelled with the monitor


def test_events_of_unmonitored_objects_are_ignored():
    m = tlob(5)
    assert m.event(7, U, "wakeup") == []
    with pytest.raises(SemanticsError):
        m.event(7, U, "no_such_event")


def test_an_unset_clock_makes_the_whole_guard_hold():
    """ha_monitor_env_invalid(ha_mon, clk) || (clk < 2ms && is_on == 1)."""
    m = model('"a" -> "b" [ label = "go;clk < 2ms && is_on == 1" ];\n'
              '\t"b" -> "a" [ label = "back;reset(clk)" ];\n')
    m.start(1, U)
    assert m.event(1, U + 10 * MS, "go", {"is_on": 0}) == [
        Moved(1, U + 10 * MS, "a", "go", "b")]
    m.event(1, U + 11 * MS, "back")  # reset at 11 ms
    (v,) = m.event(1, U + 12 * MS, "go", {"is_on": 0})
    assert v.kind is ViolationKind.GUARD and v.env_text() == f"clk={1 * MS},is_on=0"


def test_guard_reads_clock_before_the_edge_resets_it():
    m = model(
        '"a" -> "b" [ label = "go;reset(clk)" ];\n'
        '\t"b" -> "a" [ label = "back;clk > 1ms;reset(clk)" ];\n'
    )
    m.start(1, U)
    m.event(1, U, "go")
    assert isinstance(m.event(1, U + 2 * MS, "back")[0], Moved)
    m.event(1, U + 3 * MS, "go")
    (v,) = m.event(1, U + 3 * MS + 500_000, "back")
    # the reset happened before the env is printed, as ha_verify_guards() does it
    assert v.kind is ViolationKind.GUARD and v.env_text() == "clk=0"


def test_read_only_env_values_come_with_the_event():
    m = model('"a" -> "b" [ label = "go;is_defer == 1" ];\n\t"b" -> "a" [ label = "back" ];\n')
    m.start(1, U)
    assert violations(m.event(1, U + 1, "go", {"is_defer": 0}))
    m.start(1, U + 2)
    assert m.event(1, U + 3, "go", {"is_defer": 1}) == [Moved(1, U + 3, "a", "go", "b")]
    m.start(2, U + 4)
    with pytest.raises(SemanticsError):
        m.event(2, U + 5, "go")  # the value is missing


def test_symbol_with_a_unit_scales():
    m = model(
        '"a" -> "b" [ label = "go;reset(clk)" ];\n\t"b" -> "a" [ label = "back;clk < LIMIT us" ];\n'
    )
    m.params = {"LIMIT": 3}
    m.start(1, U)
    m.event(1, U, "go")
    assert isinstance(m.event(1, U + 2_999, "back")[0], Moved)
    m.event(1, U + 3_000, "go")
    assert violations(m.event(1, U + 6_000, "back"))


# --- jiffies and the timer wheel ---------------------------------------------------------------


def test_jiffy_clock_on_the_wheel():
    """stall: reset at jiffy J, threshold 3: the event check fails from J + 3 (strict), the
    wheel files J + 3 at level 0 and runs it one jiffy later, at J + 4."""
    a, _ = load_model(MODELS / "upstream" / "stall.dot")
    tick = tick_nsec(250)
    base = 1000 * tick  # a jiffy boundary, long after boot
    m = Monitor(a, {"threshold_jiffies": 3})
    assert m.sem.timer is Timer.WHEEL
    m.start_event(1, base, "sched_switch_wait")
    m.event(1, base + tick // 2, "sched_wakeup")  # dequeued -> enqueued, reset at J
    assert m.sem.jiffies(base) == initial_jiffies(250) + 1000
    (v,) = m.advance(base + 10 * tick)
    assert v.time == base + 4 * tick and dict(v.clocks) == {"clk": 4}
    later = base + 20 * tick
    m.start_event(2, later, "sched_switch_wait")
    m.event(2, later, "sched_wakeup")
    (v,) = m.event(2, later + 3 * tick, "sched_switch_in")
    assert v.event == "sched_switch_in" and v.kind is ViolationKind.INVARIANT


def test_an_unset_jiffy_clock_fails_the_event_check():
    """time_after64(U64_MAX, jiffies - B) is false: every event in such a state fails."""
    m = model(
        '"a" -> "b" [ label = "go" ];\n\t"b" -> "a" [ label = "back" ];\n'
        '\t"a" -> "a" [ label = "r;reset(clk)" ];\n',
        states='"a" [label = "a"];\n\t"b" [label = "b\\nclk < 5j"];\n',
    )
    m.start(1, U)
    m.event(1, U, "go")
    (v,) = m.event(1, U + 1, "back")
    assert v.kind is ViolationKind.INVARIANT and v.event == "back"


# --- refusals -----------------------------------------------------------------------------------


def test_time_cannot_go_back():
    m = tlob()
    m.start(1, U + 10)
    with pytest.raises(SemanticsError):
        m.event(1, U + 5, "sleep")


def test_refused_calls_change_nothing():
    m = tlob(5)
    m.start(1, U)
    with pytest.raises(SemanticsError):
        m.event(2, U + 10 * MS, "bogus")  # refused before the due timer of object 1 fires
    (v,) = m.advance(U + 10 * MS)
    assert v.obj == 1 and v.time == U + 5 * MS
    bare = Monitor(tlob().automaton)  # no BUDGET_NS
    with pytest.raises(SemanticsError):
        bare.start(1, U)
    assert bare.objects() == 0 and bare.stop(1, U)[0] is StopResult.NOT_MONITORED


def test_a_late_refusal_hands_over_the_timers_that_fired():
    m = model(
        '"a" -> "b" [ label = "go;reset(clk)" ];\n\t"b" -> "a" [ label = "back" ];\n'
        '\t"a" -> "a" [ label = "back;is_on == 1" ];\n',
        states='"a" [label = "a"];\n\t"b" [label = "b\\nclk < 1ms"];\n',
    )
    m.start(1, U)
    m.event(1, U, "go")  # object 1 waits in b: its timer is due at 1 ms
    m.start(2, U)
    with pytest.raises(SemanticsError) as exc:
        m.event(2, U + 2 * MS, "back")  # object 2's guard needs is_on, which is missing
    (v,) = exc.value.outcomes
    assert v.obj == 1 and v.time == U + 1 * MS and v.kind is ViolationKind.INVARIANT
