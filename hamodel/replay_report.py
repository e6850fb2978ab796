"""Replay findings and how they are written: text lines or JSON objects, as found.

Input: what hamodel/replay.py's engine finds (violations from the generated
monitor, overruns, gaps, the summary); output: one line per finding on a text
stream.  docs/replay.md shows both formats.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
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


def seconds(ns: int) -> str:
    return f"{ns // 1_000_000_000}.{ns % 1_000_000_000:09d}"


def dominant(residency: tuple[tuple[str, int], ...]) -> str:
    """The state the object spent most time in (the first such, in the model's order)."""
    best = max(ns for _, ns in residency)
    return next(state for state, ns in residency if ns == best)


class Reporter:
    """Writes findings as text lines or JSON objects, as they are found."""

    def __init__(self, out: TextIO, fmt: str, flush: bool = False) -> None:
        self.out = out
        self.json = fmt == "jsonl"
        self.flush = flush  # each finding reaches a pipe as it is found (a live trace)
        self.units: dict[str, str] = {}  # clock -> "ns" | "jiffies", set by the engine

    def _emit(self, record: dict, text: str) -> None:
        self._write(_json(record) if self.json else text)

    def _write(self, line: str) -> None:
        self.out.write(line + "\n")
        if self.flush:
            self.out.flush()

    def violation(self, v, inv: Invocation | None, line: int) -> None:
        # Only the chosen format is made: a trace may have a violation every few lines.
        if self.json:
            self._write(_json({
                "type": "violation", "obj": v.obj, "time": v.time, "state": v.state,
                "event": v.event, "kind": v.kind, "clocks": dict(v.clocks),
                "residency": dict(v.residency), "dominant": dominant(v.residency),
                "env": dict(v.env),
                "start": None if inv is None else inv.start,
                "start_line": None if inv is None else inv.line,
                "start_args": None if inv is None else inv.args, "line": line,
            }))
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
            self._write(_json({
                "type": "overrun", "obj": o.obj, "stop": t, "overrun_ns": o.ns,
                "start": o.start, "start_line": o.line, "start_args": o.args, "line": line}))
            return
        self._write(f"overrun: obj {o.obj} stopped at {seconds(t)} (line {line}), "
                    f"{o.ns} ns after its violation; started line {o.line}")

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
