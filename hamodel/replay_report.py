"""Replay findings and how they are written: text lines or JSON objects, as found.

Input: what hamodel/replay.py's engine finds (violations from the generated
monitor, overruns, gaps, the summary); output: one line per finding on a text
stream.  docs/replay.md shows both formats.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from operator import itemgetter
from typing import TextIO

from hamodel.trace.ftrace import Gap


@dataclass(slots=True)
class Invocation:
    """One monitored stretch of an object, from its start to its stop."""

    start: int
    line: int
    args: dict[str, str]
    violation: int | None = None  # when the monitor reported it
    kind: str | None = None


@dataclass(frozen=True, slots=True)
class Overrun:
    obj: object
    ns: int
    start: int
    line: int
    args: dict[str, str]


@dataclass(slots=True)
class Summary:
    lines: int = 0
    invocations: int = 0
    within: int = 0  # stopped without a violation
    violations: dict[str, int] = field(default_factory=dict)
    worst: Overrun | None = None
    unfinished: int = 0  # still monitored when the trace ended
    violated_unstopped: int = 0
    exited: int = 0
    gaps: int = 0
    lost: int = 0
    abandoned: int = 0
    end: int | None = None

    @property
    def violation_count(self) -> int:
        return sum(self.violations.values())


# json.dumps without its check for cycles (a record never holds itself): same text.
_json = json.JSONEncoder(check_circular=False).encode
_NS = itemgetter(1)
_NO_START = '"start": null, "start_line": null, "start_args": null'
# A trace may have a finding every few dozen lines, so the records of violations and
# overruns are put together from their pieces, each written as _json writes it
# (tests/golden and tests/test_replay*.py hold the bytes), with the key names
# encoded once and an invocation's start once for its violation and its overrun.

# What the encoder writes for a str (ensure_ascii, as json.dumps).
_quote = json.encoder.encode_basestring_ascii
_KEYS: dict[str, str] = {}  # a key -> `"key": `


def _value(x: object) -> str:
    """_json(x); ints, None and strings without going through the encoder."""
    if type(x) is int:
        return str(x)  # what the encoder writes for an int (int.__repr__)
    if x is None:
        return "null"
    if type(x) is str:
        return _quote(x)
    return _json(x)


def _key(name: str) -> str:
    """`"name": ` as the encoder writes it; findings repeat a few names, so kept."""
    text = _KEYS.get(name)
    if text is None:
        if len(_KEYS) > 4096:  # names come from the model and the binding: few
            _KEYS.clear()
        text = _KEYS[name] = _quote(name) + ": "
    return text


def _object(pairs: tuple) -> str:
    """_json(dict(pairs)): a JSON object of (name, value) pairs."""
    d = dict(pairs)
    if not all(type(k) is str for k in d):
        return _json(d)  # the encoder's own spelling of other keys
    return "{" + ", ".join([_key(k) + _value(x) for k, x in d.items()]) + "}"


def seconds(ns: int) -> str:
    return f"{ns // 1_000_000_000}.{ns % 1_000_000_000:09d}"


def dominant(residency: tuple[tuple[str, int], ...]) -> str:
    """The state the object spent most time in (the first such, in the model's order)."""
    return max(residency, key=_NS)[0]  # max keeps the first of equals


class Reporter:
    """Writes findings as text lines or JSON objects, as they are found."""

    def __init__(self, out: TextIO, fmt: str, flush: bool = False) -> None:
        self.out = out
        self.json = fmt == "jsonl"
        self.flush = flush  # each finding reaches a pipe as it is found (a live trace)
        self.units: dict[str, str] = {}  # clock -> "ns" | "jiffies", set by the engine
        # The last invocation start encoded: (args, start, line) by identity, and the text.
        self._started: tuple = (None, None, None, _NO_START)

    def _emit(self, record: dict, text: str) -> None:
        self._write(_json(record) if self.json else text)

    def _write(self, line: str) -> None:
        self._put(line + "\n")

    def _put(self, text: str) -> None:
        self.out.write(text)
        if self.flush:
            self.out.flush()

    def violation(self, v, inv: Invocation | None, line: int) -> None:
        # Only the chosen format is made: a trace may have a violation every few lines.
        if self.json:
            started = _NO_START if inv is None else self._start(inv.start, inv.line, inv.args)
            obj, time, residency = v.obj, v.time, v.residency
            self._put(
                f'{{"type": "violation", "obj": {obj if type(obj) is int else _value(obj)}, '
                f'"time": {time if type(time) is int else _value(time)}, '
                f'"state": {_value(v.state)}, "event": {_value(v.event)}, '
                f'"kind": {_value(v.kind)}, "clocks": {_object(v.clocks)}, '
                f'"residency": {_object(residency)}, '
                f'"dominant": {_value(dominant(residency))}, "env": {_object(v.env)}, '
                f'{started}, "line": {line if type(line) is int else _value(line)}}}\n')
            return
        what = {
            "invariant": f"invariant timer in state {v.state}" if v.event is None else
            f"event {v.event} after the invariant of state {v.state} ran out (before its "
            "timer ran)",
            "invalid_event": f"event {v.event} not allowed in state {v.state}",
            "guard": f"event {v.event}: guard false in state {v.state}",
        }[v.kind]
        clocks = " ".join(
            f"{c}=unset" if n is None else f"{c}={n}{self.units.get(c, '')}" for c, n in v.clocks
        )
        spent = " ".join(f"{s}={n}ns" for s, n in v.residency)
        started = ""
        if inv is not None:
            args = "".join(f", {k}={val}" for k, val in inv.args.items())
            started = f"; started {seconds(inv.start)} (line {inv.line}{args})"
        self._write(f"violation: obj {v.obj} at {seconds(v.time)}: {what}; {clocks}; "
                    f"residency {spent} (mostly {dominant(v.residency)}){started}")

    def overrun(self, o: Overrun, t: int, line: int) -> None:
        if self.json:
            self._put(f'{{"type": "overrun", "obj": {_value(o.obj)}, "stop": {_value(t)}, '
                      f'"overrun_ns": {_value(o.ns)}, {self._start(o.start, o.line, o.args)}, '
                      f'"line": {_value(line)}}}\n')
            return
        self._write(f"overrun: obj {o.obj} stopped at {seconds(t)} (line {line}), "
                    f"{o.ns} ns after its violation; started line {o.line}")

    def _start(self, start: object, line: object, args: object) -> str:
        """`"start": ..., "start_line": ..., "start_args": ...` of an invocation; its
        overrun, found after its violation, reuses the text."""
        last = self._started
        if last[0] is args and last[1] is start and last[2] is line:
            return last[3]
        text = (f'"start": {_value(start)}, "start_line": {_value(line)}, '
                f'"start_args": {_object(args.items()) if type(args) is dict else _json(args)}')
        self._started = (args, start, line, text)
        return text

    def gap(self, gap: Gap, abandoned: list) -> None:
        where = "" if gap.cpu is None else f" on CPU {gap.cpu}"
        count = "some" if gap.lost is None else str(gap.lost)
        record = {"type": "gap", "line": gap.line, "cpu": gap.cpu, "lost": gap.lost,
                  "why": gap.why, "abandoned": abandoned}
        self._emit(record, f"gap: line {gap.line}: {count} events missing{where} ({gap.why}); "
                           f"stopped monitoring {len(abandoned)} object(s) whose fate is unknown"
                           + (f": {', '.join(map(str, abandoned))}" if abandoned else ""))

    def summary(self, s: Summary) -> None:
        worst = None
        if s.worst is not None:
            worst = {"obj": s.worst.obj, "overrun_ns": s.worst.ns, "start": s.worst.start,
                     "start_line": s.worst.line, "start_args": s.worst.args}
        record = {
            "type": "summary", "lines": s.lines, "invocations": s.invocations,
            "within_bounds": s.within, "violations": s.violation_count,
            "by_kind": dict(sorted(s.violations.items())), "worst_overrun": worst,
            "unfinished": s.unfinished, "violated_unstopped": s.violated_unstopped,
            "exited": s.exited, "gaps": s.gaps, "lost_events": s.lost,
            "abandoned": s.abandoned, "end": s.end,
        }
        kinds = ", ".join(f"{n} {k}" for k, n in sorted(s.violations.items()))
        text = (f"summary: {s.lines} lines, {s.invocations} invocations, {s.within} within "
                f"bounds, {s.violation_count} violations" + (f" ({kinds})" if kinds else ""))
        if s.worst is not None:
            text += (f"; worst overrun {s.worst.ns} ns (obj {s.worst.obj}, started line "
                     f"{s.worst.line})")
        text += (f"; unfinished {s.unfinished}, violated and never stopped "
                 f"{s.violated_unstopped}, gaps {s.gaps}")
        self._emit(record, text)
