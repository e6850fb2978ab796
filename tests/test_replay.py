"""`hamodel replay`: exit codes, both output formats, bad input, streaming."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
from conftest import SHARED
from located import one_error

from hamodel import cli
from hamodel.binding import find_binding
from hamodel.load import load_model
from hamodel.replay import Engine, Reporter, replay_ftrace

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "tlob.dot"


def run(tmp_path: Path, trace: str, *extra: str, name: str = "t.jsonl") -> tuple[int, str, str]:
    path = tmp_path / name
    path.write_text(trace)
    return run_path(path, *extra)


def run_path(path: Path, *extra: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = cli.main(["replay", str(MODEL), str(path), *extra])
    return code, out.getvalue(), err.getvalue()


def jsonl(*records: dict) -> str:
    return "".join(json.dumps(r) + "\n" for r in records)


WITHIN = jsonl(
    {"t": 0, "start": 7, "params": {"BUDGET_NS": 1000}},
    {"t": 100, "event": "sleep", "obj": 7},
    {"t": 300, "event": "wakeup", "obj": 7},
    {"t": 350, "event": "switch_in", "obj": 7},
    {"t": 900, "stop": 7},
)
OVER = jsonl(
    {"t": 0, "start": 7, "params": {"BUDGET_NS": 1000}},
    {"t": 100, "event": "preempt", "obj": 7},
    {"t": 1500, "event": "switch_in", "obj": 7},
    {"t": 1600, "stop": 7},
)


def test_exit_0_when_every_invocation_keeps_its_budget(tmp_path):
    code, out, _ = run(tmp_path, WITHIN)
    assert code == 0
    assert out.startswith("summary: 5 lines, 1 invocations, 1 within bounds, 0 violations")


def test_exit_1_and_one_violation_with_state_clock_and_residency(tmp_path):
    code, out, _ = run(tmp_path, OVER, "--format", "jsonl")
    assert code == 1
    violation, overrun, summary = (json.loads(line) for line in out.splitlines())
    assert violation == {
        "type": "violation", "obj": 7, "time": 1000, "state": "waiting", "event": None,
        "kind": "invariant", "clocks": {"clk_elapsed": 1000},
        "residency": {"running": 100, "sleeping": 0, "waiting": 900}, "dominant": "waiting",
        "env": {"clk_elapsed": 1000},
        "start": 0, "start_line": 1, "start_args": {}, "line": 3,
    }
    assert (overrun["type"], overrun["overrun_ns"], overrun["line"]) == ("overrun", 600, 4)
    assert summary["violations"] == 1 and summary["by_kind"] == {"invariant": 1}
    assert summary["worst_overrun"]["overrun_ns"] == 600


def test_text_output_says_where_the_time_went(tmp_path):
    _, out, _ = run(tmp_path, OVER)
    first = out.splitlines()[0]
    assert first.startswith("violation: obj 7 at 0.000001000: invariant timer in state waiting")
    assert "residency running=100ns sleeping=0ns waiting=900ns (mostly waiting)" in first


def test_an_event_the_model_forbids_is_a_violation(tmp_path):
    trace = jsonl({"t": 0, "start": 1}, {"t": 5, "event": "switch_in", "obj": 1})
    code, out, _ = run(tmp_path, trace, "--param", "BUDGET_NS=2ms", "--format", "jsonl")
    assert code == 1
    v = json.loads(out.splitlines()[0])
    assert (v["kind"], v["event"], v["state"], v["time"]) == ("invalid_event", "switch_in",
                                                             "running", 5)


def test_a_timer_due_before_the_trace_ends_fires_and_one_after_does_not(tmp_path):
    """A timer expiring at the last line's instant has not run before it (--tie
    event-first: the callback runs after its expiry); with --tie timer-first it has."""
    def trace(end: int) -> str:
        return jsonl({"t": 0, "start": 1, "params": {"BUDGET_NS": 10}},
                     {"t": end, "event": "sleep", "obj": 2})

    assert run(tmp_path, trace(11), "--format", "jsonl")[1].count('"violation"') == 1
    for end, extra in ((10, ()), (9, ("--tie", "timer-first"))):
        code, out, _ = run(tmp_path, trace(end), "--format", "jsonl", *extra)
        summary = json.loads(out.splitlines()[-1])
        assert code == 0 and summary["unfinished"] == 1
    assert run(tmp_path, trace(10), "--format", "jsonl", "--tie", "timer-first")[0] == 1


def test_gap_abandons_monitored_objects_and_exits_3(tmp_path):
    trace = jsonl({"t": 0, "start": 1, "params": {"BUDGET_NS": 10}},
                  {"t": 5, "lost": 3}, {"t": 50, "stop": 1})
    code, out, _ = run(tmp_path, trace, "--format", "jsonl")
    gap, summary = (json.loads(line) for line in out.splitlines())
    assert code == 3
    assert (gap["type"], gap["lost"], gap["abandoned"]) == ("gap", 3, [1])
    assert summary["violations"] == 0 and summary["abandoned"] == 1


@pytest.mark.parametrize("trace,extra,where,message", [
    ('{"t": 0, "start": 1}\n', (), (1, 1), "no value for parameter BUDGET_NS"),
    ('{"t": 5, "start": 1}\n{"t": 4, "stop": 1}\n', ("--param", "BUDGET_NS=9"), (2, 2),
     "time went back from 5 to 4"),
    ('{"t": 0, "start": 1}\n{"t": 1, "event": "nap", "obj": 1}\n',
     ("--param", "BUDGET_NS=9"), (2, 20), "unknown event 'nap'"),
    ('{"t": 0, "stop": 1}\n{"t": 1, "stop": 1, "x": 2}\n', (), (2, 21), "unexpected key"),
    ('{"t": 0, "start": 1, "params": {"BUDGET": 5}}\n', ("--param", "BUDGET_NS=9"), (1, 34),
     "BUDGET is no parameter of the model (expected one of: BUDGET_NS)"),
])
def test_bad_trace_lines_are_located_and_exit_2(tmp_path, trace, extra, where, message):
    code, _, err = run(tmp_path, trace, *extra)
    assert code == 2
    e = one_error(err, trace, message)
    assert (e.file, e.line, e.col) == (str(tmp_path / "t.jsonl"), *where)


@pytest.mark.parametrize("extra,message", [
    (("--param", "BUDGET=1"), "--param 'BUDGET=1': expected NAME"),
    (("--param", "BUDGET_NS=1h"), "VALUE is an integer"),
])
def test_bad_options_are_one_line_and_exit_2(tmp_path, extra, message):
    code, _, err = run(tmp_path, '{"t": 0, "stop": 1}\n', *extra)
    assert code == 2
    assert message in err
    assert "Traceback" not in err and len(err.splitlines()) == 1


def test_binary_and_missing_traces_are_refused(tmp_path):
    data = b"# tracer: nop\n\x89\xff\xfe\x00 trace\n"
    (tmp_path / "bin.dat").write_bytes(data)
    code, _, err = run_path(tmp_path / "bin.dat")
    assert code == 2
    e = one_error(err, data, "not UTF-8 text (byte 0x89)", "trace-cmd report -N -t")
    assert (e.line, e.col, e.code) == (2, 1, "HA074")
    code, _, err = run_path(tmp_path / "absent")
    assert code == 2 and "no such file" in err and len(err.splitlines()) == 1


def test_ftrace_line_that_is_no_trace_line_is_refused_with_its_number(tmp_path):
    trace = "# tracer: nop\n  hello world\n"
    code, _, err = run(tmp_path, trace, name="t.txt")
    assert code == 2
    e = one_error(err, trace, "not a trace line")
    assert (e.line, e.col) == (2, 3)


def test_trace_marker_lines_start_and_stop_monitoring(tmp_path):
    trace = (
        "   app-40  [001] ...1.   10.000000: tracing_mark_write: tlob_start budget_ns=1000000\n"
        "   app-40  [001] d..2.   10.000100: sched_switch: prev_comm=app prev_pid=40 "
        "prev_prio=120 prev_state=D ==> next_comm=swapper/1 next_pid=0 next_prio=120\n"
        "   app-40  [001] ...1.   10.000900: tracing_mark_write: hamodel: something else\n"
        "   <idle>-0 [001] d..2.   10.000950: sched_wakeup: comm=app pid=40 prio=120 "
        "target_cpu=001\n"
        "   app-40  [001]   10.001500000: print:      tracing_mark_write: tlob_stop\n"
    )
    code, out, _ = run(tmp_path, trace, "--format", "jsonl", name="t.txt")
    v = json.loads(out.splitlines()[0])
    assert code == 1
    assert (v["obj"], v["time"], v["state"]) == (40, 10_001_000_000, "waiting")
    assert v["residency"] == {"running": 100_000, "sleeping": 850_000, "waiting": 50_000}
    assert v["start_args"] == {"budget_ns": "1000000"}
    assert json.loads(out.splitlines()[1])["overrun_ns"] == 500_000  # the trace-cmd stop line


def test_memory_follows_live_objects_not_trace_length():
    """60k lines of ten thousand invocations: nothing of them is kept at the end."""
    a, _ = load_model(MODEL)
    binding, _ = find_binding(MODEL, a)

    def stamp(t: int) -> str:
        return f"{t // 10**6}.{t % 10**6:06d}"

    def lines():
        t = 1_000_000
        for job in range(10_000):
            yield (f"m-9 [000] DBZff {stamp(t)}: tlob_start: (0x1) id={job} "
                   "budget_ns=2000000\n")
            for k in (1, 3):
                yield (f"m-9 [000] d..2. {stamp(t + k)}: sched_switch: prev_comm=m prev_pid=9 "
                       "prev_prio=1 prev_state=R+ ==> next_comm=x next_pid=8 next_prio=1\n")
                yield (f"x-8 [000] d..2. {stamp(t + k + 1)}: sched_switch: prev_comm=x prev_pid=8 "
                       "prev_prio=1 prev_state=R ==> next_comm=m next_pid=9 next_prio=1\n")
            yield f"m-9 [000] DBZff {stamp(t + 5)}: tlob_stop: (0x2) id={job}\n"
            t += 10 + (3_000 if job % 1000 == 999 else 0)

    engine = Engine(a, {}, None, Reporter(io.StringIO(), "jsonl"))
    summary = replay_ftrace(engine, binding, lines())
    assert summary.lines == 60_000 and summary.invocations == 10_000
    assert summary.within == 10_000 and summary.violation_count == 0
    assert engine.invocations == {} and engine.monitor.live == {}
    assert len(engine.monitor._timers) <= 250  # entries of the last 2 ms only


def test_jiffy_clocks_count_ticks_of_the_given_hz(tmp_path):
    """stall.dot: `enqueued` allows clk < threshold_jiffies; at HZ=1000 a jiffy is 1 ms.

    The clock is reset at jiffy 2 of the trace (its 0 is a jiffy boundary).  On the
    timer wheel (the generator's kind for jiffy-only invariants) the bound ends at
    jiffy 5 and its level-0 bucket runs a jiffy later; an hrtimer counts 3 ms of ns
    from the reset."""
    stall = SHARED / "models" / "upstream" / "stall.dot"
    if not stall.exists():
        pytest.skip(f"{stall} is not available (shared test data)")
    trace = tmp_path / "t.jsonl"
    trace.write_text(jsonl({"t": 0, "start": 5}, {"t": 2_500_000, "event": "sched_wakeup",
                                                  "obj": 5}))

    def replay(*extra: str) -> tuple[int, list[dict]]:
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            code = cli.main(["replay", str(stall), str(trace), "--format", "jsonl", "--hz",
                             "1000", "--param", "threshold_jiffies=3", *extra])
        assert code in (0, 1), err.getvalue()
        return code, [json.loads(line) for line in out.getvalue().splitlines()]

    assert replay()[0] == 0  # the trace ends before any timer runs
    trace.write_text(trace.read_text() + jsonl({"t": 6_000_001, "stop": 5}))
    code, (v, *_) = replay()
    assert code == 1
    assert (v["time"], v["state"], v["event"], v["clocks"]) == (6_000_000, "enqueued", None,
                                                                {"clk": 4})
    code, (v, *_) = replay("--timer", "hrtimer")
    assert (v["time"], v["clocks"]) == (5_500_000, {"clk": 3})


def test_uptime_places_the_trace_and_small_uptimes_wrap(tmp_path):
    """ha_check_invariant_ns() wraps while the uptime is below the bound: a JSON-lines
    trace replayed as if recorded at boot reports the first event."""
    assert run(tmp_path, WITHIN)[0] == 0
    code, out, _ = run(tmp_path, WITHIN, "--uptime", "0", "--format", "jsonl")
    v = json.loads(out.splitlines()[0])
    assert code == 1
    assert (v["time"], v["state"], v["event"], v["kind"]) == (100, "running", "sleep",
                                                              "invariant")
    code, out, _ = run(tmp_path, WITHIN, "--uptime", "1s")
    assert code == 0


def test_kernel_text_is_replayed_at_its_own_uptime_unless_told(tmp_path):
    """tracefs times are ns since boot: a task started 100 us after boot with a 1 ms
    budget is reported at its first event (the kernel's check wraps); --uptime moves
    the first line, and the findings keep the trace's times."""
    trace = (
        "# tracer: nop\n"
        "   app-40  [001] ...1.    0.000100: tracing_mark_write: tlob_start budget_ns=1000000\n"
        "   app-40  [001] d..2.    0.000200: sched_switch: prev_comm=app prev_pid=40 "
        "prev_prio=120 prev_state=D ==> next_comm=swapper/1 next_pid=0 next_prio=120\n"
        "   app-40  [001] ...1.    0.001500: tracing_mark_write: tlob_stop\n"
    )
    code, out, _ = run(tmp_path, trace, "--format", "jsonl", name="t.txt")
    v = json.loads(out.splitlines()[0])
    assert code == 1
    assert (v["time"], v["state"], v["event"], v["kind"]) == (200_000, "running", "sleep",
                                                              "invariant")
    code, out, _ = run(tmp_path, trace, "--format", "jsonl", "--uptime", "10s", name="t.txt")
    v = json.loads(out.splitlines()[0])
    assert code == 1  # now the budget's timer runs out while the task sleeps
    assert (v["time"], v["state"], v["event"]) == (1_100_000, "sleeping", None)


def test_a_late_callback_makes_a_late_event_an_invariant_violation(tmp_path):
    """--timer-latency: an event after the deadline but before the callback fails the
    invariant check under its own name; the invocation's stop is still an overrun."""
    code, out, _ = run(tmp_path, OVER, "--timer-latency", "1us", "--format", "jsonl")
    violation, overrun, summary = (json.loads(line) for line in out.splitlines())
    assert code == 1
    assert (violation["time"], violation["state"], violation["event"], violation["kind"]) == (
        1500, "waiting", "switch_in", "invariant")
    assert (overrun["type"], overrun["overrun_ns"]) == ("overrun", 100)
    _, text, _ = run(tmp_path, OVER, "--timer-latency", "1us")
    assert ("event switch_in after the invariant of state waiting ran out (before its "
            "timer ran)") in text.splitlines()[0]


@pytest.mark.parametrize("extra,message", [
    (("--timer-latency", "-1"), "--timer-latency '-1': expected an integer"),
    (("--uptime", "1h2"), "--uptime '1h2': expected an integer"),
    (("--uptime", "9223372036854775808"), "--uptime '9223372036854775808': must be below 2^63"),
])
def test_bad_platform_options_are_one_line_and_exit_2(tmp_path, extra, message):
    code, _, err = run(tmp_path, WITHIN, *extra)
    assert code == 2 and message in err and len(err.splitlines()) == 1


def test_progress_goes_to_stderr_and_is_erased(tmp_path, capsys, monkeypatch):
    from hamodel.trace import stream

    monkeypatch.setattr(stream, "PROGRESS_BYTES", 1 << 20)
    path = tmp_path / "t.txt"
    path.write_text("".join(f"line {i}\n" for i in range(200_000)))
    with stream.TraceInput.open(str(path), progress=True) as trace:
        chunks = list(trace.chunks())
    assert sum(len(c) for c in chunks) == 200_000 and len(chunks) > 1
    err = capsys.readouterr().err
    assert err.startswith("\rreplay:") and "2.29M" in err  # tqdm's bar, in bytes
    last = err.rstrip("\r").rsplit("\r", 1)[-1]
    assert err.endswith("\r") and last.strip() == ""  # erased: nothing is left on the line
