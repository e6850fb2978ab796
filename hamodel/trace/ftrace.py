"""Kernel trace text -> trace lines, streaming: tracefs `trace` / `trace_pipe` and
`trace-cmd report -N -t`.

A line looks like

    marker-5884    [000] DBZff   451.510464: tlob_start: (0x55d1068521a7) id=0 budget_ns=2000000
          marker-8024  [000]   568.386245669: tlob_start:           (5568cb3aa1a7) id=0 ...

TASK-PID, [CPU], the flags column (tracefs only), the timestamp in seconds with
6 (tracefs: µs) or 9 (trace-cmd -t: ns) decimals, the event name and its
fields.  Gaps come as `CPU:1 [LOST 743 EVENTS]` (tracefs) or
`CPU:1 [743 EVENTS DROPPED]` (trace-cmd), and a tracefs header whose
`entries-in-buffer/entries-written` differ says the ring buffer overwrote the
oldest events.

The split is done with `str.find`, not a regular expression, because replay
reads millions of lines: the first ": " after the CPU column ends the
timestamp.  Only lines whose event the caller asks for are split further.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from hamodel.binding import PREV_STATE_LETTERS

NS_PER_S = 1_000_000_000

LOST_RE = re.compile(
    r"^\s*CPU:\s*(\d+)\s*\[(?:LOST (\d+) EVENTS|LOST EVENTS|(\d+) EVENTS DROPPED|EVENTS DROPPED)\]"
)
# trace-cmd report's preamble: `version = 6`, `cpus=2`, `CPU 1 is empty`.
PREAMBLE_RE = re.compile(r"^(?:version = \d+|cpus=\d+|CPU \d+ is empty)$")
HEADER_ENTRIES_RE = re.compile(r"entries-in-buffer/entries-written:\s*(\d+)/(\d+)")
# TASK-PID, optional (TGID), [CPU], optional flags, then the timestamp.
HEAD_RE = re.compile(
    r"^\s*(?P<comm>.*)-(?P<pid>\d+)\s+(?:\(\s*[-\d]+\)\s+)?\[(?P<cpu>\d+)\]\s+"
    r"(?:(?P<flags>\S+)\s+)?(?P<ts>\d+(?:\.\d+)?)$"
)

# sched_switch prints prev_state with the kernel's task-state letters; the
# table and the meaning of the number are hamodel.binding's, one for all targets.
TASK_STATE_LETTERS = PREV_STATE_LETTERS


class TraceFormatError(ValueError):
    """A line that is neither a trace event, a gap marker, a comment nor blank.

    Where on the line: `col` (from 1) when known, else the first place of `needle`
    in the line, else its start."""

    def __init__(self, line: int, message: str, col: int = 0, needle: str | None = None
                 ) -> None:
        super().__init__(message)
        self.line = line
        self.message = message
        self.col = col
        self.needle = needle


@dataclass(frozen=True, slots=True)
class Gap:
    """Events are missing here: `lost` of them on `cpu` (None: how many is unknown)."""

    line: int
    cpu: int | None
    lost: int | None
    why: str


@dataclass(frozen=True, slots=True)
class Head:
    """The fixed columns of an event line."""

    comm: str
    pid: int
    cpu: int
    time: int  # ns


def parse_time(text: str, line: int) -> int:
    """`451.494131` (µs, as tracefs prints) or `568.386245669` (ns) -> integer ns."""
    sec, dot, frac = text.partition(".")
    # isascii: str.isdigit also takes `²` and other digits int() refuses or reads.
    if dot and sec and 0 < len(frac) <= 9 and text.isascii():
        digits = sec + frac
        if digits.isdigit():
            return int(digits) * _SCALE[len(frac)]
    raise TraceFormatError(
        line,
        f"timestamp {text!r} is not seconds with up to 9 decimals "
        "(record with a clock in seconds: trace_clock mono, local, boot, ...)",
        needle=text,
    )


_SCALE = tuple(10 ** (9 - n) for n in range(10))  # ns per unit of n decimals


def parse_head(head: str, line: int) -> Head:
    m = HEAD_RE.match(head)
    if m is None:
        raise TraceFormatError(
            line, f"not a trace line (TASK-PID [CPU] TIMESTAMP): {head.strip()!r}",
            col=len(head) - len(head.lstrip()) + 1,
        )
    return Head(m["comm"].strip(), int(m["pid"]), int(m["cpu"]), parse_time(m["ts"], line))


# The head of a line before its timestamp -> its pid: the lines of one task repeat it.
_HEAD_PIDS: dict[str, int] = {}


def head_pid_time(text: str, colon: int, line: int) -> tuple[int, int]:
    """(pid, time) of `parse_head(text[:colon], line)`, the same values and errors.

    The part before the timestamp (up to the last space) is matched by HEAD_RE once
    per spelling: a line that ends it the same way matches with the same pid
    whatever its timestamp, as long as the timestamp parses (a digit-and-dot string
    cannot change which part of the head is comm, pid, CPU or flags)."""
    start = text.rfind(" ", 0, colon) + 1
    pid = _HEAD_PIDS.get(text[:start])
    if pid is not None:
        try:
            return pid, parse_time(text[start:colon], line)
        except TraceFormatError:
            pass  # parse_head says what is wrong, as without the shortcut
    head = parse_head(text[:colon], line)
    m = HEAD_RE.match(text, 0, colon)
    if m is not None and m.start("ts") == start:
        if len(_HEAD_PIDS) >= 4096:
            _HEAD_PIDS.clear()
        _HEAD_PIDS[text[:start]] = head.pid
    return head.pid, head.time


def parse_fields(fields: str) -> dict[str, str]:
    """Every `name=value` of an event's fields (uprobe address and `==>` left out)."""
    out: dict[str, str] = {}
    for token in fields.split():
        name, eq, value = token.partition("=")
        if eq and name:
            out[name] = value
    return out


def task_state(text: str, line: int) -> int:
    """prev_state as printed (`R+`, `S`, `I`...) -> the reported state
    (hamodel.binding.reported_prev_state)."""
    known = _TASK_STATES.get(text)
    if known is not None:
        return known
    letters = text.rstrip("+")
    value = 0
    for letter in letters.split("|"):
        if letter not in TASK_STATE_LETTERS:
            raise TraceFormatError(line, f"unknown task state {text!r} in prev_state",
                                   needle="=" + text)
        value |= TASK_STATE_LETTERS[letter]
    if len(_TASK_STATES) < 256:  # a handful of spellings in any real trace
        _TASK_STATES[text] = value
    return value


_TASK_STATES: dict[str, int] = {}  # prev_state texts read so far


# A handler gets (line number, line text, end of the timestamp, end of the event name).
Handler = Callable[[int, str, int, int], None]


class Monitored(Protocol):
    """What scan asks of its caller: `tokens`, the `=<id>` strings of the objects being
    monitored while they are few, or None."""

    tokens: tuple[str, ...] | None


def scan(
    lines: Iterable[str],
    handlers: Mapping[str, Handler],
    on_gap: Callable[[Gap], None],
    skippable: frozenset[str] = frozenset(),
    monitored: Monitored | None = None,
) -> tuple[int, str, int]:
    """Call the handler of every event line whose name has one; report every gap.

    Comment lines (`#`), blank lines and trace-cmd's preamble (`version = N`,
    `cpus=N`, `CPU N is empty`) are skipped; any other line that is not an
    event or a gap marker is refused.  Returns (number of lines, the last
    event line, its number) so the caller learns where the trace ends.
    """
    state = LineScan(handlers, on_gap, skippable, monitored)
    state.lines(1, lines)
    return state.number, state.last, state.last_number


class LineScan:
    """`scan`, a line at a time, resumable: what it has seen so far is kept, so lines
    can come in pieces (hamodel/trace/blocks.py hands it the blocks it does not
    take itself).

    A line whose event nobody asked for costs two `find`s and a dict look-up, and
    a line of a `skippable` event that contains none of `monitored.tokens` is
    dropped without calling its handler.
    """

    def __init__(self, handlers: Mapping[str, Handler], on_gap: Callable[[Gap], None],
                 skippable: frozenset[str] = frozenset(),
                 monitored: Monitored | None = None) -> None:
        self.handlers = handlers
        self.on_gap = on_gap
        self.skippable = skippable if monitored is not None else frozenset()
        self.monitored = monitored
        self.number = 0  # the last line seen
        self.last = ""  # the last event line, and its number
        self.last_number = 0
        self.stamp = ""  # the last timestamp as printed, and its length: see _later_stamp
        self.width = 0

    def lines(self, first: int, lines: Iterable[str]) -> None:
        """Lines numbered from `first` (one after the last seen)."""
        get = self.handlers.get
        on_gap = self.on_gap
        skippable = self.skippable
        monitored = self.monitored
        stamp, width = self.stamp, self.width
        last, last_number = self.last, self.last_number
        number = first - 1
        try:
            for number, text in enumerate(lines, first):  # noqa: B007 - kept in self.number
                colon = text.find(": ")
                if colon < 0 or text[0] == "#":
                    _other_line(number, text, on_gap)
                    continue
                end = text.find(":", colon + 2)
                if end < 0:
                    raise TraceFormatError(number, f"not a trace line: {text.strip()[:80]!r}",
                                           col=len(text) - len(text.lstrip()) + 1)
                last, last_number = text, number
                # Time never goes back, on any line: compared as text while the width holds.
                now = text[colon - width : colon]
                if now < stamp or colon <= width or text[colon - width - 1] != " ":
                    stamp = _later_stamp(text, colon, stamp, number)
                    width = len(stamp)
                else:
                    stamp = now
                name = text[colon + 2 : end]
                if name in skippable:
                    tokens = monitored.tokens  # type: ignore[union-attr]
                    if tokens is not None:
                        for token in tokens:
                            if token in text:
                                break
                        else:
                            continue
                handler = get(name)
                if handler is not None:
                    handler(number, text, colon, end)
        finally:
            self.number = number
            self.stamp, self.width = stamp, width
            self.last, self.last_number = last, last_number


def _later_stamp(text: str, colon: int, before: str, number: int) -> str:
    """The timestamp of this line as printed; raise if it is earlier than `before`.

    scan compares the `len(before)` characters before the colon with `before` as
    text: exact while timestamps keep their width (digit by digit).  It comes here
    when they compare lower (earlier, or a shorter timestamp: it starts with the
    space before it) or when the width grew, and here the times are parsed.  Every
    line counts, monitored or not: tracefs and trace-cmd merge the CPUs' buffers in
    timestamp order, so a step back means a damaged or spliced trace."""
    now = text[text.rfind(" ", 0, colon) + 1 : colon]
    if before and parse_time(now, number) < parse_time(before, number - 1):
        raise TraceFormatError(number, f"time went back from {before} to {now}",
                               col=colon - len(now) + 1)
    return now


def _other_line(number: int, text: str, on_gap: Callable[[Gap], None]) -> None:
    if text.startswith("#"):
        header = HEADER_ENTRIES_RE.search(text)
        if header and int(header[2]) > int(header[1]):
            on_gap(Gap(number, None, int(header[2]) - int(header[1]),
                       "the ring buffer overwrote its oldest events before they were read"))
        return
    stripped = text.strip()
    if not stripped or PREAMBLE_RE.match(stripped):
        return
    lost = LOST_RE.match(text)
    if lost is None:
        raise TraceFormatError(number, f"not a trace line: {stripped[:80]!r}",
                               col=len(text) - len(text.lstrip()) + 1)
    count = lost[2] or lost[3]
    on_gap(Gap(number, int(lost[1]), int(count) if count else None, "events were lost"))


def line_time(text: str, colon: int, number: int) -> int:
    """The timestamp of an event line whose timestamp ends at `colon`."""
    return parse_time(text[text.rfind(" ", 0, colon) + 1 : colon], number)


# The print formats of the scheduler tracepoints (events/sched/<tp>/format), anchored at
# both ends: a task name (`comm`) may contain spaces and `=`, so a field found by
# searching for ` prev_pid=` could come out of a comm.  Matching the whole field list
# with the comms lazy makes every numeric field the one the kernel printed: a comm is
# at most 15 bytes (TASK_COMM_LEN), too short to hold the rest of a field list, so no
# comm can make the line match in a second way.  trace-cmd pads after the event name.
_COMM = r"(?P<{}>.*?)"
_WAKEUP = (r"\s*comm=" + _COMM.format("comm") + r" pid=(?P<pid>-?\d+) prio=(?P<prio>-?\d+)"
           r"(?: success=\d+)? target_cpu=(?P<target_cpu>\d+)\s*$")
FIELD_FORMATS: dict[str, re.Pattern[str]] = {
    "sched_switch": re.compile(
        r"\s*prev_comm=" + _COMM.format("prev_comm") + r" prev_pid=(?P<prev_pid>-?\d+)"
        r" prev_prio=(?P<prev_prio>-?\d+) prev_state=(?P<prev_state>\S+)"
        r" ==> next_comm=" + _COMM.format("next_comm") + r" next_pid=(?P<next_pid>-?\d+)"
        r" next_prio=(?P<next_prio>-?\d+)\s*$"
    ),
    "sched_wakeup": re.compile(_WAKEUP),
    "sched_waking": re.compile(_WAKEUP),
    "sched_wakeup_new": re.compile(_WAKEUP),
    "sched_process_exit": re.compile(
        r"\s*comm=" + _COMM.format("comm") + r" pid=(?P<pid>-?\d+) prio=(?P<prio>-?\d+)"
        r"(?: group_dead=\S+)?\s*$"
    ),
}


def event_fields(event: str, text: str, start: int, line: int) -> re.Match[str] | None:
    """The fields of a `event` line (they begin at `start`) by the event's print format,
    or None when hamodel knows no format for it; a line that breaks its format is refused."""
    pattern = FIELD_FORMATS.get(event)
    if pattern is None:
        return None
    m = pattern.match(text, start)
    if m is None:
        raise TraceFormatError(line, f"the fields of this {event} line do not follow the "
                                     f"kernel's format: {text[start:].strip()[:120]!r}",
                               col=start + 1 + len(text[start:]) - len(text[start:].lstrip()))
    return m


def line_field(text: str, start: int, name: str) -> str | None:
    """`name=value` in the fields of an event line (fields begin after `start`).

    The first ` name=`: for an event without string fields.  Events with a comm are
    read with `event_fields`."""
    key = " " + name + "="
    at = text.find(key, start)
    if at < 0:
        return None
    at += len(key)
    stop = text.find(" ", at)
    return text[at:].rstrip() if stop < 0 else text[at:stop]
