"""The generated Python monitor agrees with hamodel.semantics, call for call.

Differential: random automata (tests/monitor_strategies.py) and random timed
call sequences, at small and long uptimes, on random `Platform` choices (timer
kind, same-instant order, callback latency, the wheel's clock), go through
`semantics.Monitor` and the generated module; every call must give the same
result, the same moves and violations (with their env values) in the same
order, and leave the same states, clock cells and next timer, or both must
refuse the call.  hamodel.semantics is itself proven against the kernel's
framework (tests/test_framework_semantics.py).
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from monitor_strategies import (
    HUGE_NUMBERS,
    HZ_CHOICES,
    LONG_UPTIME,
    WIDE_NUMBERS,
    Call,
    automata,
    default_params,
    platforms,
    timed_calls,
    uptimes,
)

from hamodel import semantics
from hamodel.gen.python import generate, load_monitor
from hamodel.load import load_model
from hamodel.model import (
    Automaton,
    ClockKind,
    Edge,
    Env,
    Event,
    Invariant,
    Number,
    Reset,
    State,
)
from hamodel.semantics import Platform, Timer

T0 = LONG_UPTIME  # where the hand-written cases start: long after boot
# More hypothesis examples for a longer run (as tests/test_framework_semantics.py).
EXAMPLES = int(os.environ.get("HAMODEL_DIFF_EXAMPLES", "0") or 0)


def oracle_outcome(o: semantics.Outcome) -> tuple:
    if isinstance(o, semantics.Moved):
        return ("moved", o.obj, o.time, o.src, o.event, o.dst)
    return ("violation", o.obj, o.time, o.state, o.event, o.kind.value, o.clocks, o.residency,
            o.env)


def generated_outcome(o) -> tuple:
    if type(o).__name__ == "Moved":
        return ("moved", o.obj, o.time, o.src, o.event, o.dst)
    return ("violation", o.obj, o.time, o.state, o.event, o.kind, o.clocks, o.residency, o.env)


ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def tlob() -> Automaton:
    a, diags = load_model(ROOT / "models" / "tlob.dot")
    assert a is not None, diags
    return a


def platform_options(platform: Platform) -> dict:
    """The generated Monitor's keyword arguments for a Platform."""
    options = {"tie": platform.tie.value, "latency_ns": platform.latency_ns,
               "wheel_clk_ahead": platform.wheel_clk_ahead}
    if platform.timer is not None:
        options["timer"] = platform.timer.value
    return options


class Pair:
    """The oracle and the generated monitor, driven by the same calls."""

    def __init__(self, a: Automaton, params: dict[str, int], platform: Platform) -> None:
        self.oracle = semantics.Monitor(a, params, platform=platform)
        self.seen: list[tuple] = []
        module = load_monitor(a)
        self.gen = module.Monitor(
            params, platform.hz,
            on_violation=lambda v: self.seen.append(generated_outcome(v)),
            on_move=lambda m: self.seen.append(generated_outcome(m)),
            **platform_options(platform),
        )
        self.error = (semantics.SemanticsError, module.MonitorError)

    def run(self, call: Call, t: int) -> tuple[object, object]:
        """(oracle's answer, generated answer); an error is ('error',)."""
        return self._oracle(call, t), self._generated(call, t)

    def _oracle(self, c: Call, t: int) -> object:
        m = self.oracle
        env = dict(c.env)
        try:
            if c.op == "start":
                result, out = m.start(c.obj, t, None if c.params is None else dict(c.params))
                return result is semantics.StartResult.STARTED, _oracle_list(out)
            if c.op == "stop":
                result, out = m.stop(c.obj, t)
                return result.value, _oracle_list(out)
            if c.op == "advance":
                return None, _oracle_list(m.advance(t))
            if c.op == "reset":
                return None, _oracle_list(m.reset(c.obj, t))
            return None, _oracle_list(getattr(m, c.op)(c.obj, t, c.event, env))
        except self.error:
            return ("error",)

    def _generated(self, c: Call, t: int) -> object:
        m = self.gen
        self.seen.clear()
        try:
            if c.op == "start":
                result = m.start(c.obj, t, None if c.params is None else dict(c.params))
            elif c.op in ("stop", "reset"):
                result = getattr(m, c.op)(c.obj, t)
            elif c.op == "advance":
                result = m.advance(t)
            else:
                result = getattr(m, c.op)(c.obj, t, c.event, dict(c.env))
        except self.error:
            return ("error",)
        return result, list(self.seen)

    def same_objects(self, t: int) -> None:
        """Both monitors hold the same objects, states, clock cells and next timer."""
        assert self.gen.objects() == self.oracle.objects()
        for obj in range(3):
            assert self.gen.state_of(obj) == self.oracle.state_of(obj)
            assert self.gen.residency(obj, t) == self.oracle.residency(obj, t)
            ours = self.oracle.object_state(obj)
            assert self.gen.store(obj) == (ours.store if ours else None)
        assert self.gen.next_deadline() == self.oracle.next_deadline()


def _oracle_list(out: list[semantics.Outcome]) -> list[tuple]:
    return [oracle_outcome(o) for o in out]


def limits(oracle: semantics.Monitor, obj: object) -> list[int]:
    """Where the invariant check of the object's state changes: the bound (while the
    uptime is below it the ns check wraps) and the last instant it passes."""
    state = oracle.object_state(obj)
    sem = oracle.sem
    inv = state and sem.automaton.state(state.state).invariant
    if not inv:
        return []
    try:
        bound = sem.value(inv.bound, state) % semantics.U64
    except semantics.SemanticsError:
        return []
    i = sem.clock_names.index(inv.clock)
    cell = state.store[i]
    if cell == semantics.U64_MAX:
        return [bound]
    if sem.automaton.clocks[i].clock_kind is ClockKind.JIFFIES:
        return [bound, sem.jiffy_start((cell + bound) % semantics.U64) - 1]
    return [bound, cell + bound]


def call_time(call: Call, t: int, oracle: semantics.Monitor) -> int:
    """The call's time: `dt` after the last one, next to the next timer's instant, to
    the next jiffy's beginning, or to where the object's invariant check changes;
    never past U64_MAX, the last ns since boot the kernel can tell."""
    return max(t, min(_call_time(call, t, oracle), semantics.U64_MAX))


def _call_time(call: Call, t: int, oracle: semantics.Monitor) -> int:
    if call.at_limit is not None:
        anchor, offset = call.at_limit
        near = limits(oracle, call.obj)
        if near:
            return max(t, near[anchor % len(near)] + offset)
    if call.at_tick is not None:
        tick = oracle.sem.tick_ns
        return (t // tick + 1) * tick + call.at_tick
    if call.at_deadline is None:
        return t + call.dt
    deadline = oracle.next_deadline()
    if deadline is None or deadline + call.at_deadline < t:
        return t
    return deadline + call.at_deadline


@settings(max_examples=EXAMPLES or 300, deadline=None)
@given(st.data())
def test_generated_monitor_equals_semantics(data):
    a = data.draw(automata(), label="automaton")
    hz = data.draw(st.sampled_from(HZ_CHOICES), label="hz")
    platform = data.draw(platforms(hz), label="platform")
    tick = semantics.tick_nsec(hz)
    calls = data.draw(timed_calls(a, tick=tick), label="calls")
    params = default_params(a, data.draw(st.integers(0, 12), label="param base"))
    if data.draw(st.booleans(), label="drop a parameter") and params:
        params.pop(next(iter(params)))
    pair = Pair(a, params, platform)
    t = data.draw(uptimes(tick), label="uptime")
    for i, call in enumerate(calls):
        t = call_time(call, t, pair.oracle)
        expected, got = pair.run(call, t)
        assert got == expected, f"call {i} at {t}: {call}"
        if expected == ("error",):
            break  # after a refused call the two need not be in the same state
        pair.same_objects(t)


def test_time_going_back_is_refused(tlob):
    m = load_monitor(tlob).Monitor({"BUDGET_NS": 10})
    m.start(1, 100)
    try:
        m.event(1, 99, "sleep")
    except ValueError as exc:
        assert "time went back from 100 to 99" in str(exc)
    else:
        raise AssertionError("time going back was accepted")


def test_unknown_event_and_missing_parameter_are_refused(tlob):
    module = load_monitor(tlob)
    m = module.Monitor({"BUDGET_NS": 10})
    for bad in (lambda: m.event(1, 0, "nap"), lambda: module.Monitor().start(1, 0)):
        try:
            bad()
        except module.MonitorError as exc:
            assert "unknown event 'nap'" in str(exc) or "no value for parameter BUDGET_NS" in str(
                exc
            )
        else:
            raise AssertionError("accepted")


@st.composite
def timer_models(draw, tick: int) -> Automaton:
    """Two states under one invariant on one clock (ns or jiffies), a bound anywhere from
    0 to past the wheel's coarsest level or u64, self-loops that do and do not re-arm."""
    kind = draw(st.sampled_from(ClockKind))
    unit = 1 if kind is ClockKind.JIFFIES else tick  # ns per jiffy: bounds near whole jiffies
    bound = draw(st.one_of(
        st.integers(0, 12),
        st.builds(lambda k, d: max(0, k * unit + d), st.integers(0, 70), st.integers(-1, 1)),
        st.sampled_from(WIDE_NUMBERS).map(lambda k: k * unit),
        st.sampled_from(HUGE_NUMBERS),
        st.integers(0, 1 << 40)))
    inv = Invariant("c", draw(st.sampled_from(("<", "<="))), Number(bound, None))
    other = Invariant("c", "<", Number(draw(st.integers(0, 70)) * unit, None))
    reset = (Reset("c"),)
    return Automaton(
        "timers",
        (State("s0", True, False, inv), State("s1", False, False, draw(st.sampled_from(
            (inv, other, None))))),
        (Event("go"), Event("back"), Event("again"), Event("stay")),
        (Env("c", True, kind),), (),
        (Edge("s0", "s1", "go", None, reset if draw(st.booleans()) else ()),
         Edge("s0", "s0", "again", None, reset if draw(st.booleans()) else ()),
         Edge("s1", "s0", "back"),
         Edge("s1", "s1", "stay"),
         Edge("s0", "s0", "stay")),
        init_resets=reset if draw(st.booleans()) else (),
    )


@settings(max_examples=EXAMPLES or 400, deadline=None)
@given(st.data())
def test_timer_placement_equals_semantics(data):
    """Where each timer kind puts a deadline, and which events still pass the invariant
    check: the wheel's levels and rounding, jiffy boundaries, wraps and saturation."""
    hz = data.draw(st.sampled_from(HZ_CHOICES + (1000, 1_000_000)), label="hz")
    tick = semantics.tick_nsec(hz)
    a = data.draw(timer_models(tick), label="automaton")
    platform = data.draw(platforms(hz), label="platform")
    pair = Pair(a, {}, platform)
    t = data.draw(uptimes(tick), label="uptime")
    steps = st.one_of(st.integers(0, 3), st.sampled_from((tick - 1, tick, tick + 1)),
                      st.integers(0, 70).map(lambda k: k * tick))
    calls = [Call("start", 1, 0)] + data.draw(st.lists(st.builds(
        Call, st.sampled_from(("event",) * 6 + ("advance", "start")), st.just(1), steps,
        st.sampled_from(("go", "back", "again", "stay")), st.just(()), st.none(),
        st.one_of(st.none(), st.none(), st.integers(-6, 1)),
        st.one_of(st.none(), st.none(), st.none(), st.integers(-1, 1)),
        st.one_of(st.none(), st.tuples(st.integers(0, 1), st.integers(-1, 1)))),
        max_size=12), label="calls")
    for i, call in enumerate(calls):
        t = call_time(call, t, pair.oracle)
        expected, got = pair.run(call, t)
        assert got == expected, f"call {i} at {t}: {call}"
        pair.same_objects(t)


def test_tlob_violation_reports_state_clock_and_residency(tlob):
    m = load_monitor(tlob).Monitor({"BUDGET_NS": 2_000_000})
    m.start("task", T0 + 1_000)
    m.event("task", T0 + 301_000, "sleep")
    m.event("task", T0 + 3_301_000, "wakeup")  # the timer fired at +2_001_000, while sleeping
    (v,) = m.violations
    assert (v.obj, v.time, v.state, v.event, v.kind) == ("task", T0 + 2_001_000, "sleeping", None,
                                                         "invariant")
    assert v.clocks == (("clk_elapsed", 2_000_000),)
    assert v.env == (("clk_elapsed", 2_000_000),)
    assert dict(v.residency) == {"running": 300_000, "sleeping": 1_700_000, "waiting": 0}
    assert m.stop("task", T0 + 3_500_000) == "violated"
    assert m.stop("task", T0 + 3_600_000) == "not_monitored"


def test_right_after_boot_the_ns_check_wraps(tlob):
    """ha_check_invariant_ns() subtracts the bound from the uptime in u64: while the
    uptime is below the budget, the first event of a started task is reported."""
    m = load_monitor(tlob).Monitor({"BUDGET_NS": 2_000_000})
    m.start("task", 1_000)
    m.event("task", 301_000, "sleep")
    (v,) = m.violations
    assert (v.time, v.state, v.event, v.kind) == (301_000, "running", "sleep", "invariant")
    assert v.clocks == (("clk_elapsed", 300_000),)


def test_generated_module_is_standalone(tlob, tmp_path):
    """It runs in a fresh interpreter that cannot import hamodel."""
    (name, text), = generate(tlob).items()
    (tmp_path / name).write_text(text)
    code = (
        "import sys; sys.path.insert(0, '.'); sys.modules['hamodel'] = None\n"
        f"import {name[:-3]} as m\n"
        "mon = m.Monitor({'BUDGET_NS': 5}); mon.start(1, 0); mon.advance(9)\n"
        "print(mon.violations[0].kind)\n"
    )
    out = subprocess.run(
        [sys.executable, "-I", "-c", code], cwd=tmp_path, capture_output=True, text=True,
        check=True,
    )
    assert out.stdout == "invariant\n"
    imported = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}, imported


def test_timers_due_together_fire_in_arming_order(tlob):
    """Callbacks due at one instant run in the order their timers were armed; a move
    that re-arms an hrtimer at the same deadline puts it behind the others."""
    for rearm, expected in ((False, ["a", "b"]), (True, ["b", "a"])):
        oracle = semantics.Monitor(tlob, {"BUDGET_NS": 10})
        m = load_monitor(tlob).Monitor({"BUDGET_NS": 10})
        for mon in (oracle, m):
            mon.event("b", T0, "sleep")  # b is idle: ignored
            mon.start("a", T0 + 5)
            mon.start("b", T0 + 5)
            if rearm:
                mon.event("a", T0 + 7, "preempt")
        assert [v.obj for v in oracle.advance(T0 + 20)] == expected
        m.advance(T0 + 20)
        assert [v.obj for v in m.violations] == expected


def test_start_arms_nothing_without_init_resets():
    """da_monitor_start() runs no model code: with no reset on the __init arrow the
    initial state's invariant has no timer, and entering a state with its clock unset
    counts the bound from that entry (ha_start_timer_ns with nothing passed)."""
    inv = Invariant("c0", "<", Number(5, None))
    a = Automaton(
        "unset", (State("s0", True, True, inv), State("s1", False, False, inv)),
        (Event("e0"),), (Env("c0", True, ClockKind.NS),), (),
        (Edge("s0", "s1", "e0"), Edge("s1", "s0", "e0")),
    )
    m = load_monitor(a).Monitor()
    m.start(1, T0)
    assert m.next_deadline() is None
    m.event(1, T0 + 3, "e0")
    assert m.next_deadline() == T0 + 8
    m.advance(T0 + 8)  # an event now would still pass (clk == B): the callback runs after
    assert m.violations == []
    m.advance(T0 + 9)
    assert [(v.time, v.state, v.env) for v in m.violations] == [(T0 + 8, "s1",
                                                                  (("c0", T0 + 9),))]


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_generated_monitor_equals_semantics_on_the_builders_models(data):
    """The same comparison on tests/strategies.py's models: real units, ms-scale times."""
    import strategies

    a = data.draw(strategies.automata(), label="automaton")
    calls = data.draw(strategies.timed_calls(a), label="calls")
    uptime = data.draw(st.sampled_from((0, 1_000_000, LONG_UPTIME)), label="uptime")
    platform = Platform(timer=data.draw(st.sampled_from((None, Timer.WHEEL, Timer.HRTIMER))))
    pair = Pair(a, {strategies.PARAM: data.draw(st.integers(1, 5_000_000))}, platform)
    for i, c in enumerate(calls):
        call = Call(c.kind, c.obj, 0, c.event or "", c.env)
        expected, got = pair.run(call, uptime + c.time)
        assert got == expected, f"call {i}: {c}"
        if expected == ("error",):
            break


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_feed_equals_one_event_call_at_a_time(data):
    a = data.draw(automata(max_envs=0), label="automaton")
    calls = data.draw(timed_calls(a), label="calls")
    params = default_params(a)
    module = load_monitor(a)
    timer = data.draw(st.sampled_from(module.TIMERS), label="timer")
    seen: dict[str, list] = {"one": [], "feed": []}
    one = module.Monitor(params, on_violation=seen["one"].append, timer=timer)
    fed = module.Monitor(params, on_violation=seen["feed"].append, timer=timer)
    batch: list = []
    t = data.draw(uptimes(), label="uptime")
    try:
        for call in calls:
            if call.at_deadline is None:
                t += call.dt
            elif (d := one.next_deadline()) is not None and d + call.at_deadline >= t:
                t = d + call.at_deadline
            if call.op == "event":
                one.event(call.obj, t, call.event)
                batch.append((call.obj, t, call.event))
                continue
            fed.feed(batch)
            batch.clear()
            if call.op in ("start", "stop", "reset", "advance"):
                for m in (one, fed):
                    if call.op == "advance":
                        m.advance(t)
                    else:
                        getattr(m, call.op)(call.obj, t)
        fed.feed(batch)
    except module.MonitorError:
        return  # envs or parameters missing: feed passes no env, so stop comparing here
    assert seen["feed"] == seen["one"]
    for obj in range(3):
        assert fed.state_of(obj) == one.state_of(obj)
        assert fed.residency(obj, t) == one.residency(obj, t)
        assert fed.store(obj) == one.store(obj)
    assert fed.next_deadline() == one.next_deadline()


@pytest.mark.parametrize("feed", [True, False])
@pytest.mark.parametrize("tie", ["event-first", "timer-first"])
def test_an_event_at_the_timers_instant(tlob, feed, tie):
    """event-first: the event at the expiry passes the non-strict ns check and re-arms
    at once, the callback runs after it; timer-first: the callback runs before it."""
    m = load_monitor(tlob).Monitor({"BUDGET_NS": 10}, tie=tie)
    m.start(1, T0)
    m.event(1, T0 + 4, "sleep")
    m.event(1, T0 + 6, "wakeup")
    calls = [(1, T0 + 8, "switch_in"), (1, T0 + 10, "preempt")]
    if feed:
        m.feed(calls)
    else:
        for obj, t, event in calls:
            m.event(obj, t, event)
    m.advance(T0 + 11)
    (v,) = m.violations
    expected = "waiting" if tie == "event-first" else "running"
    assert (v.time, v.state, v.event) == (T0 + 10, expected, None)
    assert dict(v.residency) == {"running": 6, "sleeping": 2, "waiting": 2}


def test_a_late_event_is_an_invariant_violation_under_its_own_name(tlob):
    """Between the expiry and a late callback, an event fails the invariant check."""
    m = load_monitor(tlob).Monitor({"BUDGET_NS": 10}, latency_ns=5)
    m.start(1, T0)
    m.event(1, T0 + 12, "sleep")
    (v,) = m.violations
    assert (v.time, v.state, v.event, v.kind) == (T0 + 12, "running", "sleep", "invariant")


def test_a_timer_past_any_u64_time_is_never_queued():
    """A jiffies sum that wraps puts a wheel timer past 2^80 ns; the oracle never queues
    it (semantics.NEVER), and neither does the generated monitor (only reachable with
    times beyond u64, which no kernel has: here to keep the two equal everywhere)."""
    inv = Invariant("c", "<", Number((1 << 63) - 1, None))
    a = Automaton("never", (State("s0", True, False, inv),), (Event("e0"),),
                  (Env("c", True, ClockKind.JIFFIES),), (), (), init_resets=(Reset("c"),))
    platform = Platform(timer=Timer.WHEEL)
    pair = Pair(a, {}, platform)
    far = semantics.Semantics(a, platform).jiffy_start(
        (semantics.initial_jiffies(250) + (1 << 63) - 1) % semantics.U64)
    for call, t in ((Call("start", 0, 0), 0), (Call("start", 1, 0), far)):
        expected, got = pair.run(call, t)
        assert got == expected
    assert pair.oracle.object_state(1).fire_at >= semantics.NEVER
    pair.same_objects(far)
    assert pair.gen.next_deadline() is None
