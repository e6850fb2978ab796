"""hamodel/trace/blocks.py against ftrace.LineScan: the same handler calls, gaps, errors
and end state, whatever the text and however it is cut into blocks.

The block scanner only avoids looking at lines that LineScan would look at and
drop; so for every trace, read line by line and read in blocks of every size,
the calls each handler gets (line number, text, colon, end), the gaps, the
error raised (its line and message) and where the scan ends must be equal.
The traces mix real sched and marker lines with what must go to LineScan: comments,
blank lines, gap markers, timestamps that go back or change width, lines with no
colon, non-ASCII task names, NUL bytes.  A fake monitor starts and stops objects
from the marker lines, so the set of `=<pid>` tokens changes inside blocks.
"""

from __future__ import annotations

import numpy as np
from conftest import SHARED
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hamodel.trace.blocks import BlockScan
from hamodel.trace.ftrace import LineScan, TraceFormatError
from hamodel.trace.stream import Block

SKIPPABLE = frozenset({"sched_switch", "sched_wakeup"})


class FakeMonitor:
    """Tokens as replay's engine keeps them: `=<pid>` of each started object, None past
    `most` of them."""

    def __init__(self, most: int = 3) -> None:
        self.live: list[int] = []
        self.most = most
        self.tokens: tuple[str, ...] | None = ()

    def refresh(self) -> None:
        self.tokens = None if len(self.live) > self.most else tuple(f"={o}" for o in self.live)


def run(text: str, cuts: list[int] | None, most: int = 3) -> tuple:
    """Scan `text` line by line (cuts None) or in blocks cut after those line indexes."""
    calls: list[tuple] = []
    gaps: list[tuple] = []
    monitor = FakeMonitor(most)

    def record(name):
        def handle(number, line, colon, end):
            calls.append((name, number, line, colon, end))
            if name == "tlob_start":
                pid = int(line[line.rfind("-", 0, line.find(" [")) + 1: line.find(" [")])
                if pid not in monitor.live:
                    monitor.live.append(pid)
                monitor.refresh()
            elif name == "tlob_stop" and monitor.live:
                monitor.live.pop(0)
                monitor.refresh()
        return handle

    handlers = {n: record(n) for n in ("tlob_start", "tlob_stop", "sched_switch",
                                       "sched_wakeup", "sched_process_exit", "go")}
    scan = LineScan(handlers, lambda g: gaps.append((g.line, g.cpu, g.lost)), SKIPPABLE,
                    monitor)
    lines = text.split("\n")[:-1]  # every line ends with a newline here
    error = None
    try:
        if cuts is None:
            scan.lines(1, lines)
        else:
            blocks = BlockScan(scan)
            for first, part in pieces(lines, cuts):
                blocks.block(make_block(first, part))
    except TraceFormatError as exc:
        error = (exc.line, exc.message, exc.col, exc.needle)
    return calls, gaps, error, (scan.number, scan.last, scan.last_number, scan.stamp,
                                scan.width)


def pieces(lines: list[str], cuts: list[int]):
    start = 0
    for cut in sorted(set(c for c in cuts if 0 < c < len(lines))) + [len(lines)]:
        yield start + 1, lines[start:cut]
        start = cut


def make_block(first: int, lines: list[str]) -> Block:
    """A Block as TraceInput.blocks makes it: bytes when ASCII, else decoded lines."""
    data = "".join(t + "\n" for t in lines).encode()
    if not data.isascii():
        return Block(first, lines=lines)
    return Block(first, data, np.flatnonzero(np.frombuffer(data, np.uint8) == 10))


HEADER = "# tracer: nop\n#\n"


def sched(pid: int, other: int, t: str, kind: str = "switch", comm: str = "bash") -> str:
    head = f"{comm:>16}-{pid:<7} [000] d..2. {t:>12}: "
    if kind == "switch":
        return (head + f"sched_switch: prev_comm={comm} prev_pid={pid} prev_prio=120 "
                f"prev_state=S ==> next_comm=x next_pid={other} next_prio=120")
    if kind == "wakeup":
        return head + f"sched_wakeup: comm=x pid={other} prio=120 target_cpu=000"
    if kind == "waking":
        return head + f"sched_waking: comm=x pid={other} prio=120 target_cpu=000"
    if kind == "start":
        return head + "tlob_start: (0x5) id=0 budget_ns=2000000"
    return head + "tlob_stop: (0x6) id=0"


KINDS = ("switch", "wakeup", "waking", "start", "stop")
ODD = ["", "# a comment: in the middle", "CPU:1 [LOST 5 EVENTS]", "no colon here",
       "  x-1 [000] d..2. 1.000000: unrelated", "  x-1 [000] d..2. 99.99999: sched_switch: x",
       "  x-1 [000] d..2. 0.000001: late: x", " ünïcode-7 [000] d..2. 500.000000: tlob_stop: x",
       "  x-1 [000] d..2. 5\x00.000000: nul: x", "version = 6",
       "  x-1 [000] d..2. 1000.000000: tlob_start: (0x5) id=0"]


@st.composite
def traces(draw) -> str:
    n = draw(st.integers(1, 120))
    t = draw(st.integers(0, 10**9))
    out = [HEADER.rstrip("\n")]
    pids = draw(st.lists(st.integers(1, 120), min_size=2, max_size=5))
    for _ in range(n):
        odd = draw(st.integers(0, 40))
        if odd == 0:
            out.append(draw(st.sampled_from(ODD)))
            continue
        t += draw(st.sampled_from([0, 1, 1, 7, 999_999]))
        line = sched(draw(st.sampled_from(pids)), draw(st.sampled_from(pids)),
                     f"{t // 10**6}.{t % 10**6:06d}", draw(st.sampled_from(KINDS)))
        if odd == 1:  # a step back at the same width
            line = line.replace(f"{t // 10**6}.{t % 10**6:06d}:",
                                f"{(t - 1) // 10**6}.{(t - 1) % 10**6:06d}:")
        elif odd == 2:  # an event line commented out
            line = "#" + line
        out.append(line)
    return "\n".join(out) + "\n"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(traces(), st.lists(st.integers(1, 130), max_size=6), st.integers(0, 4))
def test_blocks_of_any_size_make_the_same_calls(text, cuts, most):
    assert run(text, cuts, most) == run(text, None, most)


def test_a_long_real_trace_in_blocks_of_several_sizes():
    lines = [HEADER.rstrip("\n")]
    t = 722_000_000
    for i in range(3000):
        t += i % 3
        stamp = f"{t // 10**6}.{t % 10**6:06d}"
        kind = KINDS[i % 5] if i % 40 else "start"
        lines.append(sched(10 + i % 7, 10 + (i * 3) % 7, stamp, kind))
    text = "\n".join(lines) + "\n"
    expected = run(text, None)
    assert len(expected[0]) > 500  # the fake monitor made many lines matter
    for size in (1, 2, 17, 400, 5000):
        assert run(text, list(range(size, 3002, size))) == expected, size


def test_the_shared_traces_in_blocks():
    folder = SHARED / "traces"
    for path in sorted(folder.glob("*.txt")):
        text = path.read_text(errors="replace")
        text = text if text.endswith("\n") else text[: text.rfind("\n") + 1]
        expected = run(text, None)
        for size in (3, 64, 100_000):
            assert run(text, list(range(size, 100_000, size))) == expected, (path, size)


def base_trace(n: int = 60) -> list[str]:
    lines, t = [HEADER.rstrip("\n")], 5_000_000
    for i in range(n):
        t += 1
        lines.append(sched(10 + i % 3, 10 + (i + 1) % 3, f"{t // 10**6}.{t % 10**6:06d}",
                           KINDS[i % 5]))
    return lines


def back_at(lines: list[str], i: int) -> str:
    """Line i with the timestamp of the line before it, minus one microsecond."""
    before = lines[i - 1]
    stamp = before[before.rfind(" ", 0, before.find(": ")) + 1: before.find(": ")]
    sec, frac = stamp.split(".")
    t = int(sec) * 10**6 + int(frac) - 1
    mine = lines[i][lines[i].rfind(" ", 0, lines[i].find(": ")) + 1: lines[i].find(": ")]
    return lines[i].replace(mine + ":", f"{t // 10**6}.{t % 10**6:06d}:")


EDITS = {
    "a step back at the same width": back_at,
    "an event line commented out": lambda lines, i: "#" + lines[i],
    "a blank line": lambda lines, i: "",
    "a gap marker": lambda lines, i: "CPU:0 [LOST 3 EVENTS]",
    "no second colon": lambda lines, i: lines[i].replace("sched_", "sched ").split(": ")[0]
    + ": x",
    "a wider timestamp": lambda lines, i: lines[i].replace(" 5.", " 50."),
    "a NUL in the timestamp": lambda lines, i: lines[i].replace(" 5.", " \x00."),
    "a task name with a colon-space": lambda lines, i: lines[i].replace("    bash", "a: bash"),
    "a head shorter than the timestamp": lambda lines, i: "7: tlob_stop: x",
    "a short event name, the line's end close": lambda lines, i: lines[i][
        : lines[i].find(": ") + 2] + "go: ",
    "a colon and no space in the name": lambda lines, i: lines[i].replace(": tlob_st",
                                                                          ": tlob:st"),
}


def space_before(lines: list[str], i: int, back: int) -> list[str]:
    """Line i made short (`N: tlob_stop: x`) and the line before it ending so that the
    byte `back` before line i is a space: the short line's stamp would start there."""
    lines = list(lines)
    lines[i - 1] += " " + "q" * (back - 2)
    lines[i] = "7: tlob_stop: x"
    return lines


def grown_from(lines: list[str], i: int) -> list[str]:
    """Seconds 5 become 15 from line i on: later in time, one character wider."""
    return lines[:i] + [t.replace(" 5.", "15.") for t in lines[i:]]


def test_each_kind_of_odd_line_anywhere_in_a_block():
    for what, edit in [*EDITS.items(), ("a timestamp grown by a digit", None),
                       *((f"a short head after a space {k} back", k) for k in range(2, 12))]:
        for i in (2, 3, 9, 30, 59, 60):
            lines = base_trace()
            if isinstance(edit, int):
                lines = space_before(lines, i, edit)
            elif edit is None:
                lines = grown_from(lines, i)
            else:
                lines[i] = edit(lines, i)
            text = "\n".join(lines) + "\n"
            expected = run(text, None)
            for size in (1, 7, 25, 100):
                assert run(text, list(range(size, 62, size))) == expected, (what, i, size)
