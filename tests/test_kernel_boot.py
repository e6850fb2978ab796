"""The generated monitors in a booted kernel: what tests/kernel_boot/boot.py captured.

boot.py (a step of .ci/run, before the test suite) builds a small kernel with the
generated tlob and stall built in and boots it under qemu; its console is read
here.  The jobs program's own clock is the truth: each job that ran longer than
its budget must be reported by tlob (error_env_tlob, then detail_env_tlob) and
no job within it; `hamodel replay` of the same trace buffer must find the same
windows.  Without a console from this very build of the generated code the
tests skip, saying how to make one.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

sys.path.insert(0, str(ROOT / "tests" / "kernel_boot"))
from console import BUDGET_NS, clear, events, jobs, over  # noqa: E402

WORK = Path(os.environ.get("RVKIT_WORK", "/tmp/rvkit-ci"))
OUT = WORK / "hamodel-boot"
CONSOLE = OUT / "console.log"


def _fresh() -> str | None:
    """Why the console cannot be used, or None."""
    if not CONSOLE.is_file():
        return (f"no boot console at {CONSOLE}: run `python3 tests/kernel_boot/boot.py`"
                " (.ci/run does, before the tests)")
    import boot
    from kernel_build import build_check

    want = boot.key(build_check.generated_monitors(set(boot.MONITORS)))
    stamp = OUT / "hamodel.key"
    if not stamp.is_file() or stamp.read_text() != want:
        return ("the boot console is from another build of the generated monitors:"
                " run `python3 tests/kernel_boot/boot.py` again")
    return None


pytestmark = pytest.mark.skipif(_fresh() is not None, reason=_fresh() or "")


def _console() -> str:
    return CONSOLE.read_text(errors="replace")


def _section(name: str) -> list[str]:
    text = _console()
    begin, end = f"=== HAMODEL {name} BEGIN", f"=== HAMODEL {name} END"
    assert begin in text and end in text, f"the boot did not get to {name}"
    return text.split(begin, 1)[1].split(end, 1)[0].strip("\n").splitlines()


def _jobs():
    return jobs(_section("JOBS"))


def _events(lines: list[str]):
    return events(lines)


def test_boot_ran_to_its_end_without_kernel_warnings():
    text = _console()
    assert "=== HAMODEL DONE" in text
    assert "=== HAMODEL dmesg problems 0" in text, text[text.index("dmesg problems"):][:2000]
    assert "=== HAMODEL clocksource tsc" in text
    monitors = re.search(r"=== HAMODEL available_monitors (.*)", text)[1].split()
    assert {"tlob", "stall"} <= set(monitors)


def test_every_kunit_case_passes():
    results = re.findall(r"^\[ *[\d.]+\]\s+((?:not )?ok) \d+ (\w+)(.*)$", _console(), re.M)
    assert results, "KUnit printed nothing"
    failed = [(name, rest) for verdict, name, rest in results if verdict == "not ok"]
    assert failed == []
    ran = {name for _, name, rest in results if "SKIP" not in rest}
    assert any("tlob" in name for name in ran), "no KUnit case of the generated tlob ran"
    # the kernel's own KUnit case of pagefault, on the generated LTL monitor
    assert "rv_test_pagefault" in ran


def test_tlob_reports_exactly_the_jobs_over_budget():
    all_jobs = _jobs()
    assert len(all_jobs) == 20
    errors = [e for e in _events(_section("TLOB TRACE")) if e.name == "error_env_tlob"]
    for job in all_jobs:
        found = [e for e in errors if job.holds(e.time)]
        if job.over:
            assert len(found) == 1, (job, found)
        elif job.within:
            assert found == [], (job, found)
    assert len(over(all_jobs)) >= 8


def test_every_tlob_error_is_followed_by_its_residency():
    """detail_env_tlob after each error_env_tlob, the timer's or a late event's; the time
    it accounts to the states is the clock the error printed, never more."""
    events = _events(_section("TLOB TRACE"))
    errors = [i for i, e in enumerate(events) if e.name == "error_env_tlob"]
    assert errors
    for i in errors:
        error = events[i]
        detail = next(e for e in events[i + 1:] if e.name == "detail_env_tlob")
        clk = int(re.search(r"clk_elapsed=(\d+)", error.body)[1])
        values = dict(w.split("=") for w in detail.body.split()[1:])
        assert int(values["threshold_ns"]) == BUDGET_NS
        spent = sum(int(values[k]) for k in ("running_ns", "waiting_ns", "sleeping_ns"))
        assert spent == clk, (error, detail)


def test_replay_of_the_trace_agrees_with_the_kernel(tmp_path):
    """hamodel replay of the same trace buffer finds the windows the kernel reported."""
    trace = tmp_path / "trace.txt"
    trace.write_text("\n".join(_section("TLOB TRACE")) + "\n")
    done = subprocess.run([sys.executable, "-m", "hamodel", "replay", str(ROOT / "models/tlob.dot"),
                           str(trace), "--format", "jsonl"], capture_output=True, text=True)
    assert done.returncode in (0, 1), done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines()]
    all_jobs = _jobs()

    def job_of(t: int) -> int:
        return next(j.i for j in all_jobs if j.holds(t))

    replayed = {job_of(r["start"]) for r in records if r["type"] == "violation"}
    kernel = {job_of(e.time) for e in _events(_section("TLOB TRACE"))
              if e.name == "error_env_tlob"}
    # A job whose inner span is within its budget and outer span over it may go
    # either way: how long the markers' uprobes took decides.
    sure = clear(all_jobs)
    assert replayed & sure == kernel & sure == over(all_jobs)


def test_stall_reports_the_busy_loops():
    events = _events(_section("STALL TRACE"))
    assert any(e.name == "event_stall" for e in events)
    assert any(e.name == "error_env_stall" for e in events)
