"""`hamodel replay X.ltl`: JSON lines of atom updates, and the kernel's own event_/error_ lines."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest
from conftest import MODELS, ROOT
from located import errors

from hamodel.cli import main

PAGEFAULT = str(ROOT / "models" / "pagefault.ltl")


def replay(tmp_path, lines, *extra, spec=PAGEFAULT):
    trace = tmp_path / "trace"
    trace.write_text("".join(line if isinstance(line, str) else json.dumps(line) + "\n"
                             for line in lines))
    return main(["replay", spec, str(trace), *extra])


FAULTS = [
    {"t": 1, "task": 7, "init": "fork"},
    {"t": 2, "task": 7, "fetch": {"RT": False}},
    {"t": 3, "task": 7, "pulse": "PAGEFAULT", "value": True},
    {"t": 4, "task": 7, "fetch": {"RT": True}},
    {"t": 5, "task": 7, "pulse": "PAGEFAULT", "value": True},
]


def test_a_fault_of_a_real_time_task_is_reported(tmp_path, capsys):
    assert replay(tmp_path, FAULTS) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "line 5 t=5: task 7: violation: no state follows (S0) when (PAGEFAULT,RT) hold"
    assert out[-1] == "replay: 5 lines, 1 tasks, 2 steps, 1 violations, 0 disagreements, 0 gaps"


def test_jsonl_output(tmp_path, capsys):
    assert replay(tmp_path, FAULTS, "--format", "jsonl") == 1
    first, summary = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert first == {"violation": {"atoms": ["PAGEFAULT", "RT"], "line": 5, "states": ["S0"],
                                   "t": 5, "task": 7}}
    assert summary["summary"]["violations"] == 1


def test_no_violation_without_real_time(tmp_path, capsys):
    assert replay(tmp_path, FAULTS[:3]) == 0
    assert "0 violations" in capsys.readouterr().out


def test_a_gap_forgets_every_task_and_exits_3(tmp_path, capsys):
    lines = FAULTS[:3] + [{"t": 4, "lost": 3}, {"t": 5, "task": 7, "fetch": {"RT": True}},
                          {"t": 6, "task": 7, "pulse": "PAGEFAULT", "value": True}]
    assert replay(tmp_path, lines) == 3
    out = capsys.readouterr().out
    assert "line 4: events were lost; 1 task(s) forgotten" in out
    assert "0 violations" in out  # forgotten: PAGEFAULT unknown again, no start while RT


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ({"task": 1, "update": "PAGEFAULT", "value": True, "x": 1}, "unknown key 'x'"),
        ({"task": 1, "update": "PAGEFAULT", "pulse": "RT", "value": True}, "exactly one"),
        ({"task": 1, "update": "NOPE", "value": True}, "NOPE is no atom"),
        ({"task": 1, "update": "PAGEFAULT", "value": 1}, "true or false"),
        ({"task": 1, "init": "boot"}, "init = 'boot'"),
        ({"task": 1, "fetch": {"PAGEFAULT": True}}, "not an atom the binding fetches"),
        ({"task": 1, "pulse": "PAGEFAULT", "value": True}, "give its value with a fetch"),
        ({"task": [1], "init": "fork"}, "expected an integer or a string"),
        ({"t": -1, "task": 1, "init": "fork"}, "expected a time in ns"),
        ("{not json\n", "not JSON: Expecting property name"),
        ("[1, 2]\n", "expected a JSON object"),
    ],
)
def test_bad_lines_are_refused_with_their_line(tmp_path, capsys, line, message):
    assert replay(tmp_path, [{"task": 1, "init": "fork"}, line]) == 2
    err = capsys.readouterr().err
    [e] = errors(err, tmp_path / "trace")  # the line quoted, the caret under the column
    assert e.line == 2 and e.code == "HA352" and message in e.message, err


def test_time_never_goes_back(tmp_path, capsys):
    assert replay(tmp_path, [{"t": 5, "task": 1, "init": "fork"},
                             {"t": 4, "task": 1, "init": "fork"}]) == 2
    assert "time went back from 5 to 4" in capsys.readouterr().err


# --- the kernel's trace of the monitor ---------------------------------------------------

def kernel_line(event: str) -> str:
    return f"           <...>-7       [000] d..1.   12.000001: {event}\n"


def test_kernel_steps_agree_with_the_reference(tmp_path, capsys):
    lines = [
        kernel_line("event_pagefault: a.out[7]: (0) x (pa) -> (0)"),
        kernel_line("event_pagefault: a.out[7]: (0) x () -> (0)"),
        kernel_line("event_pagefault: a b[c][7]: (0) x (pa,rt) -> ()"),
        kernel_line("error_pagefault: a b[c][7]: violation detected"),
    ]
    assert replay(tmp_path, lines) == 1  # a violation, no disagreement
    out = capsys.readouterr().out
    assert "line 4: task 7: violation: no state follows (S0) when (PAGEFAULT,RT) hold" in out
    assert "3 steps, 1 violations, 0 disagreements" in out


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (["event_pagefault: x[7]: (0) x (pa,rt) -> (0)"], "the reference gives ()"),
        (["event_pagefault: x[7]: (0) x (pa,rt) -> ()",
          "event_pagefault: x[7]: (0) x () -> (0)"], "no error_pagefault after a step"),
        (["error_pagefault: x[7]: violation detected"], "without a step to no state"),
        (["event_pagefault: x[7]: (0-3) x () -> (0)"], "the reference has 1 states"),
    ],
)
def test_kernel_steps_that_disagree_are_reported(tmp_path, capsys, lines, message):
    assert replay(tmp_path, [kernel_line(x) for x in lines] + ["# end\n"]) == 1
    out = capsys.readouterr().out
    assert "kernel and reference disagree" in out and message in out, out


def test_an_unknown_trace_name_is_bad_input(tmp_path, capsys):
    assert replay(tmp_path, [kernel_line("event_pagefault: x[7]: (0) x (zz) -> (0)")]) == 2
    assert "atom 'zz'" in capsys.readouterr().err


def test_lost_events_in_the_kernel_trace_exit_3(tmp_path, capsys):
    lines = [kernel_line("event_pagefault: x[7]: (0) x () -> (0)"),
             "CPU:0 [LOST 12 EVENTS]\n"]
    assert replay(tmp_path, lines) == 3


@pytest.mark.parametrize("option", [("--hz", "100"), ("--param", "X=1"), ("--timer", "wheel"),
                                    ("--tie", "timer-first"), ("--timer-latency", "5"),
                                    ("--uptime", "1s"), ("--plot", "x.svg")])
def test_automaton_options_are_refused(tmp_path, capsys, option):
    assert replay(tmp_path, FAULTS, *option) == 2
    assert capsys.readouterr().err == (f"hamodel replay: {option[0]} is for automata; an LTL"
                                       " spec has no parameters, clocks or timers\n")


# --- streams: read through hamodel/trace/stream.py, as the automaton replay reads ----------

WAIT_S = 60  # generous: the machine is shared
TRACE = "".join(json.dumps(x) + "\n" for x in FAULTS)


def _background(trace: str, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "hamodel", "replay", PAGEFAULT, trace,
                             "--format", "jsonl", *extra], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_standard_input_gives_what_the_file_gives(tmp_path, capsys):
    assert replay(tmp_path, FAULTS, "--format", "jsonl") == 1
    expected = capsys.readouterr().out
    done = subprocess.run([sys.executable, "-m", "hamodel", "replay", PAGEFAULT, "-",
                           "--format", "jsonl"], input=TRACE, capture_output=True, text=True,
                          timeout=WAIT_S)
    assert (done.returncode, done.stdout, done.stderr) == (1, expected, "")


def test_a_fifo_is_read_as_it_comes_and_a_signal_prints_the_summary(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    proc = _background(str(fifo))
    try:
        with open(fifo, "w") as w:
            w.write(TRACE)
            w.flush()
            # the writer keeps the pipe open: the violation must come before its end
            first = json.loads(proc.stdout.readline())
            assert first["violation"]["line"] == 5
            proc.send_signal(signal.SIGINT)
            code = proc.wait(timeout=WAIT_S)
        summary = json.loads(proc.stdout.readline())["summary"]
        err = proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert code == 130 and summary["lines"] == 5 and summary["violations"] == 1
    assert err == "hamodel replay: interrupted (SIGINT) after line 5; the summary covers" \
                  " the lines read\n"


def test_a_cut_last_line_is_a_gap(tmp_path, capsys):
    lines = [kernel_line("event_pagefault: x[7]: (0) x () -> (0)"), "  <...>-7 [000] d..1. 12"]
    assert replay(tmp_path, lines) == 3
    out = capsys.readouterr().out
    assert "line 2: the last line is cut: it has no newline" in out and "1 gaps" in out


def test_a_whole_json_last_line_needs_no_newline(tmp_path, capsys):
    assert replay(tmp_path, [json.dumps(x) + "\n" for x in FAULTS[:-1]]
                  + [json.dumps(FAULTS[-1])]) == 1
    assert "replay: 5 lines, 1 tasks, 2 steps, 1 violations" in capsys.readouterr().out


@pytest.mark.parametrize(("body", "code", "col"), [
    (b'{"task": 1, "init": "fork"}\n{"task": 1, "in\xffit": "fork"}\n', "HA074", 16),
    (b'{"task": 1, "init": "fork"}\n' + b"x" * 70_000 + b"\n", "HA075", 65537),
])
def test_bytes_that_are_no_trace_are_located(tmp_path, capsys, body, code, col):
    trace = tmp_path / "trace"
    trace.write_bytes(body)
    assert main(["replay", PAGEFAULT, str(trace)]) == 2
    [e] = errors(capsys.readouterr().err, trace)
    assert (e.line, e.col, e.code) == (2, col, code)


# --- the kernel's own lines, with the atom list cut at 63 characters -----------------------

SLEEP = MODELS / "upstream-ltl" / "rtapp" / "sleep.ltl"
needs_sleep = pytest.mark.skipif(not SLEEP.exists(), reason="../shared/models/upstream-ltl")


@needs_sleep
def test_a_cut_atom_list_is_checked_against_every_way_it_goes_on(tmp_path, capsys):
    # the first 8 names fill the 63 characters; rt, sch_in, sle, us_th, wo_* are open:
    # S0 follows when not RT, S1 without SCHEDULE_IN; S5 (ABORT_SLEEP) and S6
    # (BLOCK_ON_RT_MUTEX) whatever they are
    cut = "ab_sl,bl_on_rt_mu,cl_na,ep_wa,fu_lo_pi,fu_wa,na_cl_re,na_ti_ab,"
    assert len(cut) == 63
    for nxt, status in (("0,1,5,6", 0), ("5-6", 0), ("1,6", 1), ("0", 1), ("", 1)):
        lines = [kernel_line(f"event_sleep: x[7]: (0) x ({cut}) -> ({nxt})")]
        assert replay(tmp_path, lines, spec=str(SLEEP)) == status, nxt
        out = capsys.readouterr().out
        assert ("kernel and reference disagree" in out) == (status == 1), out


@needs_sleep
def test_an_atom_no_name_starts_with_is_bad_input(tmp_path, capsys):
    cut = "ab_sl,bl_on_rt_mu,cl_na,ep_wa,fu_lo_pi,fu_wa,na_cl_re,na_ti_ab,q"
    line = kernel_line(f"event_sleep: x[7]: (0) x ({cut}) -> (0)")
    assert replay(tmp_path, [line], spec=str(SLEEP)) == 2
    [e] = errors(capsys.readouterr().err, tmp_path / "trace")
    assert e.col == line.index(",q)") + 2 and "'q' is no start of a name" in e.message
