"""The kernel trace text reader: timestamps, heads, task states, gaps, refusals."""

from __future__ import annotations

import pytest

from hamodel.trace.ftrace import (
    Gap,
    TraceFormatError,
    line_field,
    line_time,
    parse_fields,
    parse_head,
    parse_time,
    scan,
    task_state,
)

TRACEFS = ("          marker-5884    [000] DBZff   451.510464: tlob_start: (0x55d1068521a7) "
           "id=0 budget_ns=2000000\n")
TRACECMD = ("          marker-8024  [000]   568.386245669: tlob_start:           (5568cb3aa1a7) "
            "id=0 budget_ns=2000000\n")
SWITCH = (" memfd:sealed-91-2441    [000] d..2.   451.503989: sched_switch: "
          "prev_comm=memfd:sealed-91 prev_pid=2441 prev_prio=120 prev_state=S ==> "
          "next_comm=swapper/0 next_pid=0 next_prio=120\n")


def test_timestamps_in_us_and_ns_become_ns():
    assert parse_time("451.510464", 1) == 451_510_464_000
    assert parse_time("568.386245669", 1) == 568_386_245_669
    assert parse_time("0.5", 1) == 500_000_000
    for bad in ("123456", "1.2.3", "12.x", "1.1234567890"):
        with pytest.raises(TraceFormatError, match="timestamp"):
            parse_time(bad, 7)


def test_heads_of_both_formats_and_odd_comms():
    assert parse_head(TRACEFS[: TRACEFS.find(": ")], 1) == parse_head(
        "          marker-5884    [000] DBZff   451.510464", 1
    )
    head = parse_head(TRACECMD[: TRACECMD.find(": ")], 1)
    assert (head.comm, head.pid, head.cpu, head.time) == ("marker", 8024, 0, 568_386_245_669)
    head = parse_head(SWITCH[: SWITCH.find(": ")], 1)
    assert (head.comm, head.pid) == ("memfd:sealed-91", 2441)
    head = parse_head("   my task-name-77  (     77) [001] d..2.   1.000001", 1)
    assert (head.comm, head.pid, head.cpu) == ("my task-name", 77, 1)
    with pytest.raises(TraceFormatError, match="not a trace line"):
        parse_head("garbage 1.0", 3)


def test_fields_and_times_of_a_line():
    colon = SWITCH.find(": ")
    end = SWITCH.find(":", colon + 2)
    assert line_time(SWITCH, colon, 1) == 451_503_989_000
    assert line_field(SWITCH, end, "prev_pid") == "2441"
    assert line_field(SWITCH, end, "next_pid") == "0"
    assert line_field(SWITCH, end, "next_prio") == "120"
    assert line_field(SWITCH, end, "pid") is None  # prev_pid= is not pid=
    assert parse_fields(" (0x55d1068521a7) id=0 budget_ns=2000000") == {
        "id": "0", "budget_ns": "2000000"}


@pytest.mark.parametrize("text,value", [
    ("R", 0), ("R+", 0), ("S", 1), ("D", 2), ("I", 0x80), ("Z", 0x20), ("S|D", 3),
])
def test_prev_state_letters_become_kernel_task_states(text, value):
    assert task_state(text, 1) == value


def test_unknown_prev_state_is_refused():
    with pytest.raises(TraceFormatError, match="unknown task state 'Q'"):
        task_state("Q", 4)


def run_scan(text: str, wanted=("sched_switch", "tlob_start")):
    seen, gaps = [], []
    handlers = {name: (lambda n, t, c, e, name=name: seen.append((n, name))) for name in wanted}
    count, last, _ = scan(text.splitlines(keepends=True), handlers, gaps.append)
    return seen, gaps, count, last


def test_scan_dispatches_wanted_events_and_reports_every_kind_of_gap():
    text = (
        "# tracer: nop\n#\n# entries-in-buffer/entries-written: 10/15   #P:2\n"
        "version = 6\ncpus=2\nCPU 1 is empty\n" + TRACEFS
        + SWITCH.replace("451.503989", "451.603989")  # after TRACEFS: time never goes back
        + "CPU:1 [LOST 743 EVENTS]\nCPU:0 [LOST EVENTS]\nCPU:1 [12 EVENTS DROPPED]\n"
        + "       <idle>-0  [001] d.s3.   624.636060: sched_waking: comm=x pid=15 prio=1\n"
    )
    seen, gaps, count, last = run_scan(text)
    assert seen == [(7, "tlob_start"), (8, "sched_switch")]
    assert gaps == [
        Gap(3, None, 5, "the ring buffer overwrote its oldest events before they were read"),
        Gap(9, 1, 743, "events were lost"),
        Gap(10, 0, None, "events were lost"),
        Gap(11, 1, 12, "events were lost"),
    ]
    assert count == 12 and "sched_waking" in last


def test_scan_refuses_lines_that_are_no_trace_lines():
    with pytest.raises(TraceFormatError) as info:
        run_scan(TRACEFS + "this is not a trace\n")
    assert info.value.line == 2
    assert "not a trace line" in info.value.message
