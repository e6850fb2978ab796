"""The captured run of docs/kernel-c.md ("A real run"): the kernel's tlob and hamodel
replay, side by side on one execution.

docs/examples/boot/ holds the trace buffer and the jobs' own timing from one boot
of tests/kernel_boot/boot.py (copied from $RVKIT_WORK/hamodel-boot/); this test
needs no kernel: it replays the checked-in trace and holds the documented
agreement to it.
"""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import ROOT

sys.path.insert(0, str(ROOT / "tests" / "kernel_boot"))
from console import clear, events, jobs, over  # noqa: E402

EXAMPLE = ROOT / "docs" / "examples" / "boot"


def test_replay_and_the_kernel_agree_on_the_captured_run():
    trace = EXAMPLE / "tlob-trace.txt"
    done = subprocess.run([sys.executable, "-m", "hamodel", "replay", str(ROOT / "models/tlob.dot"),
                           str(trace), "--format", "jsonl"], capture_output=True, text=True)
    assert done.returncode in (0, 1), done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines()]
    all_jobs = jobs((EXAMPLE / "jobs.txt").read_text().splitlines())

    def job_of(t: int) -> int:
        return next(j.i for j in all_jobs if j.holds(t))

    kernel = {job_of(e.time) for e in events(trace.read_text().splitlines())
              if e.name == "error_env_tlob"}
    replayed = {job_of(r["start"]) for r in records if r["type"] == "violation"}
    sure = clear(all_jobs)
    assert kernel & sure == over(all_jobs) == replayed & sure
    summary = records[-1]
    assert summary["type"] == "summary" and summary["invocations"] == len(all_jobs)
