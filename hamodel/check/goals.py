"""Witnesses as data: Goal (what a witness shows), TimedEvent, Witness, and their text.

A witness is a timed run on a stated platform: the uptime at which monitoring
starts, the events in ns after it with the env values their guards read, and
for a timer the instant its callback reports.  witness.py builds them,
confirm.py replays them, report.py prints them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hamodel.check.timing import DEFAULT_UPTIME_NS
from hamodel.model import Automaton, ClockKind
from hamodel.semantics import Platform, Timer


@dataclass(frozen=True, slots=True)
class TimedEvent:
    time: int  # ns after the start of monitoring
    event: str
    env: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True, slots=True)
class Goal:
    """What the witness shows.

    kind: "reach" (arrive in `state`; `unset`: exactly these clocks unset then,
    `armed`: whether a timer is armed), "entry" (the last event enters `state`
    with its invariant already false for the framework), "invalid_event" |
    "guard" | "late" (the extra `event` is reported: no cell, a false guard, or
    the invariant check at the event), "timer" (the callback reports),
    "holds" / "only" (the extra `event` passes the check and `edge`'s guard
    holds, for "only" while the other guards of its cell do not), "dropped"
    (the guard of `edge`, which is not in the table, holds at the extra
    `event`), "wrap" (the ns check at the extra `event` wraps: small uptime).
    """

    kind: str
    state: str
    event: str | None = None
    edge: int | None = None
    unset: frozenset[str] | None = None
    armed: bool | None = None


@dataclass(frozen=True, slots=True)
class Witness:
    goal: Goal
    params: tuple[tuple[str, int], ...]
    events: tuple[TimedEvent, ...]
    platform: Platform  # with the timer kind fixed
    uptime: int = DEFAULT_UPTIME_NS  # ns since boot when monitoring starts
    end: int | None = None  # ns after the start: the timer's callback (goal "timer")
    # clock values (base units; None: unset) where the verdict is decided: before
    # the last event, after it for "reach" and "entry"
    clocks: tuple[tuple[str, int | None], ...] = field(default=(), compare=False)

    def start_kinds(self) -> tuple[str, ...]:
        """The starts that produce this run: the monitor's own start routine and
        da_handle_start_event (whose event is not processed) always; and
        da_handle_start_run_event of the first event when it comes at once."""
        kinds = ("start", "start_event")
        if self.events and self.events[0].time == 0:
            kinds += ("start_run_event",)
        return kinds

    def valuation(self, automaton: Automaton) -> str:
        """`x = 2000001 ns` style text of `clocks`, or "" when there are none."""
        units = {
            c.name: "j" if c.clock_kind is ClockKind.JIFFIES else "ns" for c in automaton.clocks
        }
        parts = [
            f"{c} unset" if v is None else f"{c} = {v} {units.get(c, 'ns')}"
            for c, v in self.clocks
        ]
        env = self.events[-1].env if self.events and self.goal.kind not in (
            "entry", "reach") else ()
        parts += [f"{k} = {v}" for k, v in env]
        return ", ".join(parts)

    def header(self) -> str:
        p = self.platform
        assert p.timer is not None
        if p.timer is Timer.NONE:
            return f"uptime {self.uptime} ns at the start, no timer, HZ={p.hz}"
        lat = f", callback latency {p.latency_ns} ns" if p.latency_ns else ""
        return (f"uptime {self.uptime} ns at the start, {p.timer.value}, {p.tie.value}{lat},"
                f" HZ={p.hz}")

    def lines(self) -> list[str]:
        out = [self.header()]
        if self.params:
            out.append("with " + ", ".join(f"{k}={v}" for k, v in self.params))
        starts = "start routine or start event"
        if "start_run_event" in self.start_kinds():
            starts += f", or start-run event {self.events[0].event}"
        out.append(f"t=0 start ({starts})")
        for ev in self.events:
            env = "".join(f" {k}={v}" for k, v in ev.env)
            out.append(f"t={ev.time} {ev.event}{env}")
        if self.end is not None:
            out.append(f"t={self.end} timer fires")
        return out

    def to_json(self) -> dict:
        p = self.platform
        assert p.timer is not None
        return {
            "uptime_ns": self.uptime,
            "platform": {"timer": p.timer.value, "tie": p.tie.value,
                         "timer_latency_ns": p.latency_ns, "hz": p.hz},
            "starts": list(self.start_kinds()),
            "params": dict(self.params),
            "events": [
                {"time_ns": e.time, "event": e.event, "env": dict(e.env)} for e in self.events
            ],
            "timer_ns": self.end,
            "clocks": dict(self.clocks),
        }
