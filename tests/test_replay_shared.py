"""Replay of the real kernel traces in ../shared/traces/ gives the violations they contain.

The truth is established twice, independently of hamodel's readers, binding
and monitor: (1) the verdicts written below, read off the traces by hand
(docs/replay.md, "How the truth was established"), and (2) `walk_jobs`, a
direct reading of each job's sched lines with one regular expression: for
each tlob_start..tlob_stop of the marker task it follows the task through
running / waiting / sleeping and says whether the job reached its budget and
where the time went by then.  The replayed violations must match both.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
from contextlib import redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest

from hamodel import cli

ROOT = Path(__file__).resolve().parent.parent
TRACES = ROOT.parent / "shared" / "traces"
MODEL = ROOT / "models" / "tlob.dot"

LINE = re.compile(
    r"^\s*(?P<comm>.+?)-(?P<pid>\d+)\s+\[\d+\]\s+(?:\S+\s+)?(?P<sec>\d+)\.(?P<frac>\d+):"
    r"\s+(?P<event>\w+):\s+(?P<body>.*)$"
)


@dataclass(frozen=True)
class Job:
    pid: int
    id: int
    start: int
    stop: int | None  # None: the trace ended first
    budget: int
    overrun: bool
    residency: dict[str, int]  # at the deadline (overrun) or at the stop

    @property
    def dominant(self) -> str:
        return max(self.residency, key=lambda s: self.residency[s])


def walk_jobs(path: Path) -> list[Job]:
    """Each tlob_start..tlob_stop of a task, followed through the sched lines."""
    jobs: list[Job] = []
    open_jobs: dict[int, dict] = {}
    end = 0
    for text in path.read_text().splitlines():
        m = LINE.match(text)
        if not m:
            continue
        t = int(m["sec"]) * 10**9 + int(m["frac"].ljust(9, "0"))
        end = t
        body = dict(kv.split("=", 1) for kv in m["body"].split() if "=" in kv)
        for job in open_jobs.values():  # the budget timer fires before an event at its instant
            if job["deadline"] <= t and job["at_deadline"] is None:
                job["at_deadline"] = _spent(job, job["deadline"])
        event, pid = m["event"], int(m["pid"])
        if event == "tlob_start":
            open_jobs[pid] = {"id": int(body["id"]), "start": t, "budget": int(body["budget_ns"]),
                              "deadline": t + int(body["budget_ns"]), "state": "running",
                              "since": t, "spent": dict.fromkeys(("running", "sleeping",
                                                                  "waiting"), 0),
                              "at_deadline": None}
        elif event == "tlob_stop" and pid in open_jobs:
            job = open_jobs.pop(pid)
            jobs.append(_job(pid, job, t))
        elif event == "sched_switch":
            prev, nxt = int(body["prev_pid"]), int(body["next_pid"])
            if prev in open_jobs:
                _move(open_jobs[prev], t, "waiting" if body["prev_state"].startswith("R")
                      else "sleeping")
            if nxt in open_jobs:
                _move(open_jobs[nxt], t, "running")
        elif event == "sched_wakeup" and int(body["pid"]) in open_jobs:
            job = open_jobs[int(body["pid"])]
            if job["state"] == "sleeping":
                _move(job, t, "waiting")
    for pid, job in open_jobs.items():
        if job["deadline"] <= end and job["at_deadline"] is None:
            job["at_deadline"] = _spent(job, job["deadline"])
        jobs.append(_job(pid, job, None))
    return sorted(jobs, key=lambda j: j.start)


def _spent(job: dict, t: int) -> dict[str, int]:
    spent = dict(job["spent"])
    spent[job["state"]] += t - job["since"]
    return spent


def _move(job: dict, t: int, state: str) -> None:
    job["spent"] = _spent(job, t)
    job["state"], job["since"] = state, t


def _job(pid: int, job: dict, stop: int | None) -> Job:
    over = job["at_deadline"] is not None
    residency = job["at_deadline"] if over else _spent(job, stop if stop else job["since"])
    return Job(pid, job["id"], job["start"], stop, job["budget"], over, residency)


def replay_jsonl(trace: Path) -> tuple[int, list[dict]]:
    out = io.StringIO()
    with redirect_stdout(out):
        code = cli.main(["replay", str(MODEL), str(trace), "--format", "jsonl"])
    return code, [json.loads(line) for line in out.getvalue().splitlines()]


# What each trace contains, read off it by hand: job id -> dominant state at the
# violation, for the jobs that reach their 2 ms budget; and jobs still running at the end.
TRUTH = {
    "ftrace-local-uprobes.txt": ({1: "sleeping", 3: "sleeping", 5: "sleeping"}, set()),
    "tracecmd-report-N-t.txt": ({1: "sleeping", 3: "sleeping", 5: "sleeping", 7: "sleeping"},
                                set()),
    # Job 0 is even but was kept off the CPU by the pipe benchmark: it overran waiting.
    "ftrace-mono-pipebench-400.txt": ({0: "waiting", 1: "sleeping", 3: "sleeping"}, {5}),
}


@pytest.mark.parametrize("name", sorted(TRUTH))
def test_independent_reading_agrees_with_the_written_truth(name):
    overruns, unfinished = TRUTH[name]
    jobs = walk_jobs(TRACES / name)
    assert {j.id: j.dominant for j in jobs if j.overrun} == overruns
    assert {j.id for j in jobs if j.stop is None} == unfinished


@pytest.mark.parametrize("name", sorted(TRUTH))
def test_replay_finds_the_violations_the_trace_contains(name):
    jobs = walk_jobs(TRACES / name)
    code, records = replay_jsonl(TRACES / name)
    violations = [r for r in records if r["type"] == "violation"]
    expected = [j for j in jobs if j.overrun]
    assert code == (1 if expected else 0)
    assert [(v["obj"], v["time"], v["kind"], v["event"]) for v in violations] == [
        (j.pid, j.start + j.budget, "invariant", None) for j in expected
    ]
    for v, j in zip(violations, expected, strict=True):
        assert v["residency"] == j.residency
        assert v["dominant"] == j.dominant
        assert v["clocks"] == {"clk_elapsed": j.budget}
        assert v["start_args"]["id"] == str(j.id)
        assert v["state"] == j.dominant  # these jobs overran in their longest state
    (summary,) = [r for r in records if r["type"] == "summary"]
    assert summary["invocations"] == len(jobs)
    assert summary["violations"] == len(expected)
    assert summary["within_bounds"] == sum(1 for j in jobs if not j.overrun and j.stop)
    assert summary["unfinished"] == sum(1 for j in jobs if j.stop is None and not j.overrun)
    worst = max((j.stop - j.start - j.budget for j in expected if j.stop), default=None)
    assert (summary["worst_overrun"] or {}).get("overrun_ns") == worst


def test_lost_events_make_exit_3_and_are_reported():
    code, records = replay_jsonl(TRACES / "trace_pipe-lost-events.txt")
    assert code == 3
    (gap,) = [r for r in records if r["type"] == "gap"]
    assert (gap["line"], gap["cpu"], gap["lost"]) == (37, 1, 743)


def test_trace_dat_through_trace_cmd_gives_the_same_verdicts(tmp_path):
    if shutil.which("trace-cmd") is None:
        pytest.skip("trace-cmd is not installed: cannot convert trace.dat")
    report = subprocess.run(["trace-cmd", "report", "-N", "-t", "-i", str(TRACES / "trace.dat")],
                            capture_output=True, text=True, check=True).stdout
    converted = tmp_path / "report.txt"
    converted.write_text(report)
    code, records = replay_jsonl(converted)
    _, shared = replay_jsonl(TRACES / "tracecmd-report-N-t.txt")
    def verdicts(rs):
        return [(r["obj"], r["time"], r["state"], r["residency"]) for r in rs
                if r["type"] == "violation"]
    assert code == 1
    assert verdicts(records) == verdicts(shared)
    assert len(verdicts(records)) == 4
