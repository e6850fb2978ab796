"""`hamodel replay X.ltl`: JSON lines of atom updates, and the kernel's own event_/error_ lines."""

from __future__ import annotations

import json

import pytest
from conftest import ROOT

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
        ("{not json\n", "not a JSON object"),
        ("[1, 2]\n", "expected a JSON object"),
    ],
)
def test_bad_lines_are_refused_with_their_line(tmp_path, capsys, line, message):
    assert replay(tmp_path, [{"task": 1, "init": "fork"}, line]) == 2
    err = capsys.readouterr().err
    assert ":2: " in err and message in err, err


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


def test_automaton_options_are_refused(tmp_path, capsys):
    assert replay(tmp_path, FAULTS, "--hz", "100") == 2
    assert replay(tmp_path, FAULTS, "--param", "X=1") == 2
    assert "neither parameters nor clocks" in capsys.readouterr().err
