"""Replay and the Python target given hostile input: task names that look like fields,
file names that look like Python, numbers that are not ASCII or not u64, JSON that is
too big or too deep, time that goes back where the monitor does not look.

Every refusal names FILE:LINE:COL, quotes the line with a caret (one line when it is about
an option), and exits 2; never a traceback.
"""

from __future__ import annotations

import ast
import dataclasses
import io
import json
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
from located import refusal

from hamodel import cli
from hamodel.gen.python import generate, load_monitor
from hamodel.load import load_model

ROOT = Path(__file__).resolve().parent.parent
TLOB = ROOT / "models" / "tlob.dot"
STALL = ROOT.parent / "shared" / "models" / "upstream" / "stall.dot"


def replay(tmp_path: Path, trace: str, *extra: str, model: Path = TLOB,
           name: str = "t.txt") -> tuple[int, str, str]:
    path = tmp_path / name
    path.write_bytes(trace.encode("utf-8"))
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = cli.main(["replay", str(model), str(path), *extra])
    return code, out.getvalue(), err.getvalue()


def refused(result: tuple[int, str, str], *words: str) -> None:
    code, _, err = result
    assert code == 2, err
    refusal(err)  # located, with the line and a caret; or one line about an option
    for word in words:
        assert word in err, err


def ftrace(*lines: str) -> str:
    return "".join(line + "\n" for line in lines)


START = "          marker-100    [000] DBZff   1.000000: tlob_start: (0x5) id=0 budget_ns=2000000"
STOP = "          marker-100    [000] DBZff   1.000300: tlob_stop: (0x5) id=0"


# --- 1. fields are read by the tracepoint's format, never out of a task name ---


def test_a_prev_comm_with_a_field_in_it_is_not_the_field(tmp_path):
    """prev_comm `a prev_state=S` before the real prev_state=R+: a preemption, not a
    sleep (a sleep would make the later switch_in from `sleeping` an invalid event)."""
    trace = ftrace(
        START,
        "          marker-100    [000] d..2.   1.000100: sched_switch: prev_comm=a prev_state=S"
        " prev_pid=100 prev_prio=120 prev_state=R+ ==> next_comm=bash next_pid=5 next_prio=120",
        "          <idle>-0      [000] d..2.   1.000200: sched_switch: prev_comm=x prev_pid=5"
        " prev_prio=120 prev_state=S ==> next_comm=marker next_pid=100 next_prio=120",
        STOP,
    )
    code, out, err = replay(tmp_path, trace)
    assert (code, err) == (0, "")
    assert "1 within bounds, 0 violations" in out


def test_comms_naming_another_pid_do_not_move_the_monitored_task(tmp_path):
    """next_comm `x next_pid=100` and a waking comm `y pid=100` are about pids 7 and 8:
    task 100 stays running and keeps its budget."""
    trace = ftrace(
        START,
        "               z-9      [001] d..2.   1.000100: sched_switch: prev_comm=z prev_pid=9"
        " prev_prio=120 prev_state=S ==> next_comm=x next_pid=100 next_pid=7 next_prio=120",
        "               z-9      [001] d..2.   1.000150: sched_wakeup: comm=y pid=100"
        " pid=8 prio=120 target_cpu=001",
        STOP,
    )
    code, out, err = replay(tmp_path, trace)
    assert (code, err) == (0, ""), out
    assert "1 within bounds, 0 violations" in out


def test_a_sched_switch_line_that_breaks_the_format_is_refused(tmp_path):
    trace = ftrace(
        START,
        "          marker-100    [000] d..2.   1.000100: sched_switch: prev_comm=a"
        " prev_pid=100 prev_state=R+ ==> next_comm=bash next_pid=5 next_prio=120",
    )
    refused(replay(tmp_path, trace), "t.txt:2:", "sched_switch", "format")


# --- 2. the model's file name cannot break the generated module ---


@pytest.mark.parametrize("file_name", [
    "a\\N.dot", 'x""".dot', 'x"""; import os; """.dot', "end\\", "tab\tnew\nline.dot",
    "é'q'.dot",
])
def test_hostile_model_file_names_stay_inside_the_docstring(file_name):
    a, diags = load_model(TLOB)
    assert a is not None, diags
    hostile = dataclasses.replace(a, file=f"/models/{file_name}")
    (text,) = generate(hostile, {}).values()
    (plain,) = generate(a, {}).values()
    tree = ast.parse(text)  # a SyntaxError here is the bug
    assert len(tree.body) == len(ast.parse(plain).body)
    docstring = ast.get_docstring(tree, clean=False)
    assert docstring is not None
    assert docstring.splitlines()[1:] == ast.get_docstring(ast.parse(plain),
                                                           clean=False).splitlines()[1:]
    for c in "\\\"'\n\t":
        assert c not in docstring.splitlines()[0]
    load_monitor(hostile)  # and it imports


# --- 3. numbers and nesting the reader cannot take: one line, exit 2 ---


def test_a_superscript_parameter_value_is_refused(tmp_path):
    refused(replay(tmp_path, "", "--param", "BUDGET_NS=²"), "BUDGET_NS=²")


def test_a_parameter_given_twice_is_refused(tmp_path):
    """Found in review: the last value was kept without a word."""
    refused(replay(tmp_path, "", "--param", "BUDGET_NS=5ms", "--param", "BUDGET_NS=7ms"),
            "'BUDGET_NS=7ms': BUDGET_NS is given twice")


def test_a_parameter_of_2_to_the_64_ns_is_refused(tmp_path):
    refused(replay(tmp_path, "", "--param", f"BUDGET_NS={1 << 64}"), "2^64")


def test_a_superscript_timestamp_on_the_last_line_is_refused(tmp_path):
    refused(replay(tmp_path, "x ².5: foo: bar\n"), "t.txt:1:", "timestamp")


def test_an_integer_of_5000_digits_is_refused(tmp_path):
    refused(replay(tmp_path, '{"t": ' + "9" * 5000 + ', "lost": null}\n', name="t.jsonl"),
            "t.jsonl:1:", "too long")


def test_json_nested_30000_deep_is_refused(tmp_path):
    deep = '{"t": 1, "lost": null, "x": ' + "[" * 30_000 + "]" * 30_000 + "}\n"
    refused(replay(tmp_path, deep, name="t.jsonl"), "t.jsonl:1:", "nested")


@pytest.mark.parametrize("hz", ["0", "-1", "100001", "3000000000"])
def test_hz_out_of_range_is_refused(tmp_path, hz):
    if not STALL.is_file():
        pytest.skip(f"{STALL} (shared read-only models) is not there")
    trace = '{"t": 0, "start": 1, "params": {"threshold_jiffies": 5}}\n'
    refused(replay(tmp_path, trace, "--hz", hz, model=STALL, name="t.jsonl"), "--hz")


def test_hz_at_the_top_of_its_range_runs_a_jiffy_model(tmp_path):
    if not STALL.is_file():
        pytest.skip(f"{STALL} (shared read-only models) is not there")
    trace = '{"t": 0, "start": 1, "params": {"threshold_jiffies": 5}}\n'
    code, _, err = replay(tmp_path, trace, "--hz", "100000", model=STALL, name="t.jsonl")
    assert (code, err) == (0, "")


# --- 4. shapes docs/replay.md says are refused ---


def jsonl(*records: dict) -> str:
    return "".join(json.dumps(r) + "\n" for r in records)


@pytest.mark.parametrize("env", [{"zz": 5}, {"clk_elapsed": 5}])
def test_env_naming_no_env_of_the_model_is_refused(tmp_path, env):
    trace = jsonl({"t": 1, "start": 1, "params": {"BUDGET_NS": 100}},
                  {"t": 2, "event": "sleep", "obj": 1, "env": env})
    refused(replay(tmp_path, trace, name="t.jsonl"), "t.jsonl:2:", next(iter(env)))


@pytest.mark.parametrize("value", [-5, 1 << 64, 10**26])
def test_parameters_outside_u64_are_refused(tmp_path, value):
    trace = jsonl({"t": 1, "start": 1, "params": {"BUDGET_NS": value}},
                  {"t": 2, "event": "sleep", "obj": 1})
    refused(replay(tmp_path, trace, name="t.jsonl"), "t.jsonl:1:", "BUDGET_NS")


def test_a_negative_marker_parameter_in_kernel_text_is_refused(tmp_path):
    trace = ftrace(START.replace("budget_ns=2000000", "budget_ns=-5"))
    refused(replay(tmp_path, trace), "t.txt:1:", "BUDGET_NS")


def test_a_byte_order_mark_does_not_hide_json_lines(tmp_path):
    trace = "\ufeff" + jsonl({"t": 1, "start": 1, "params": {"BUDGET_NS": 100}},
                             {"t": 50, "stop": 1})
    code, out, err = replay(tmp_path, trace, name="t.jsonl")
    assert (code, err) == (0, "")
    assert "1 within bounds" in out


def test_time_going_back_on_a_line_the_monitor_never_sees_is_refused(tmp_path):
    trace = ftrace(
        START,
        "          marker-100    [000] d..2.   1.000100: sched_switch: prev_comm=a prev_pid=7"
        " prev_prio=120 prev_state=S ==> next_comm=bash next_pid=5 next_prio=120",
        "  x-1 [000] d..2. 0.999999: unrelated: x",
    )
    refused(replay(tmp_path, trace), "t.txt:3:", "went back")


def test_time_going_back_on_an_unmonitored_sched_switch_is_refused(tmp_path):
    trace = ftrace(
        START,
        "               z-9      [001] d..2.   0.999000: sched_switch: prev_comm=z prev_pid=9"
        " prev_prio=120 prev_state=S ==> next_comm=y next_pid=7 next_prio=120",
        STOP,
    )
    refused(replay(tmp_path, trace), "t.txt:2:", "went back")


def test_more_seconds_digits_is_later_not_earlier(tmp_path):
    """9.999999 -> 10.000000: a shorter string is not always an earlier time."""
    trace = ftrace(
        START.replace("1.000000", "9.999999"),
        "  x-1 [000] d..2. 10.000000: unrelated: x",
        "  x-1 [000] d..2. 10.000000123: unrelated: x",
        "  x-1 [000] d..2. 10.000001: unrelated: x",
    )
    code, out, err = replay(tmp_path, trace)
    assert (code, err) == (0, ""), out


def test_time_going_back_after_the_timestamp_grew_a_digit_is_refused(tmp_path):
    """5 -> 17 -> 16: the step back is caught although the width changed before it."""
    trace = ftrace(
        START.replace("1.000000", "5.000000"),
        "  x-1 [000] d..2. 17.000000: unrelated: x",
        "  x-1 [000] d..2. 16.000000: unrelated: x",
    )
    refused(replay(tmp_path, trace), "t.txt:3:", "went back from 17.000000 to 16.000000")


def test_a_binding_on_common_pid_reads_prev_state_by_the_format_too(tmp_path):
    """preempt/sleep bound to the task emitting sched_switch (common_pid): the
    condition on prev_state still comes from the real field, not from prev_comm."""
    binding = (ROOT / "models" / "tlob.binding.toml").read_text()
    binding = binding.replace('object = "prev_pid"', 'object = "common_pid"')
    assert binding.count('object = "common_pid"') >= 4
    (tmp_path / "b.toml").write_text(binding)
    trace = ftrace(
        START,
        "          marker-100    [000] d..2.   1.000100: sched_switch: prev_comm=a prev_state=S"
        " prev_pid=100 prev_prio=120 prev_state=R+ ==> next_comm=bash next_pid=5 next_prio=120",
        "          <idle>-0      [000] d..2.   1.000200: sched_switch: prev_comm=x prev_pid=5"
        " prev_prio=120 prev_state=S ==> next_comm=marker next_pid=100 next_prio=120",
        STOP,
    )
    code, out, err = replay(tmp_path, trace, "--binding", str(tmp_path / "b.toml"))
    assert (code, err) == (0, ""), out
    assert "1 within bounds, 0 violations" in out


@pytest.mark.parametrize("garbage", ["a: b: c", "x ².5: foo: bar"])
def test_a_short_line_with_no_timestamp_is_refused_anywhere(tmp_path, garbage):
    lines = [START, STOP]
    for at in range(3):
        trace = ftrace(*lines[:at], garbage, *lines[at:])
        refused(replay(tmp_path, trace), f"t.txt:{at + 1}:", "timestamp")


def test_an_exiting_task_named_like_a_pid_does_not_end_another_tasks_monitoring(tmp_path):
    trace = ftrace(
        START,
        "               a-7      [001] d..2.   1.000100: sched_process_exit: comm=a pid=100"
        " pid=7 prio=120 group_dead=true",
        STOP,
    )
    code, out, err = replay(tmp_path, trace)
    assert (code, err) == (0, ""), out
    assert "1 within bounds" in out and "exited" not in out.replace("exited 0", "")
