"""Reading what a boot of tests/kernel_boot/boot.py printed: jobs, trace lines.

Shared by tests/test_kernel_boot.py (the live console) and
tests/test_boot_example.py (the run checked in under docs/examples/boot/).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

BUDGET_NS = 2_000_000
TRACE_LINE = re.compile(r"^\s*(?P<task>.+?)-(?P<pid>\d+)\s+\[(?P<cpu>\d+)\]\s+\S+\s+"
                        r"(?P<secs>\d+)\.(?P<usecs>\d{6}):\s+(?P<event>\w+):\s+(?P<body>.*)$")


@dataclass(frozen=True)
class Job:
    """One job of jobs.c, as the program measured it (CLOCK_MONOTONIC ns): the outer
    span around the marker calls, the inner one between them; the monitor's window
    lies between the two."""

    i: int
    pid: int
    start: int  # outer
    inner_start: int
    inner_stop: int
    stop: int  # outer

    @property
    def over(self) -> bool:
        """Over budget whichever way the uprobes took their time."""
        return self.inner_stop - self.inner_start > BUDGET_NS

    @property
    def within(self) -> bool:
        return self.stop - self.start < BUDGET_NS

    def holds(self, t: int) -> bool:
        """Whether a trace time (rounded to microseconds) falls in the job."""
        return self.start - 1000 <= t <= self.stop + 1000


@dataclass(frozen=True)
class Event:
    time: int  # ns (the trace prints microseconds)
    pid: int
    name: str
    body: str


def events(lines: list[str]) -> list[Event]:
    out = []
    for line in lines:
        m = TRACE_LINE.match(line)
        if m:
            t = int(m["secs"]) * 1_000_000_000 + int(m["usecs"]) * 1000
            out.append(Event(t, int(m["pid"]), m["event"], m["body"]))
    return out


def jobs(lines: list[str]) -> list[Job]:
    return [Job(*map(int, line.split()[1:])) for line in lines if line.startswith("job ")]


def clear(all_jobs: list[Job]) -> set[int]:
    """The jobs surely within or surely over their budget."""
    return {j.i for j in all_jobs if j.over or j.within}


def over(all_jobs: list[Job]) -> set[int]:
    return {j.i for j in all_jobs if j.over}
