"""Live streaming: `hamodel replay models/tlob.dot INSTANCE/trace_pipe` monitors this
machine while tests/live/tlob_marker.c runs, and its verdicts are the program's own
ground truth (the comment at its top): job 0 within its budget, job 1 over and mostly
sleeping, jobs 2 and 3 over and mostly waiting.

The uprobe markers and sched events are set up as tests/test_replay_live.py does, in
a private tracefs mount and an instance of this test's own; replay reads that
instance's trace_pipe as it fills, each verdict arriving as it is found, and
Ctrl-C (SIGINT) ends it with the summary so far.  Everything is removed after.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from test_replay_live import BUDGET, SOURCE, file_offset, tracefs, write  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "tlob.dot"
WAIT_S = 60


def pump(stream, into: queue.Queue[str]) -> None:
    """Each line of `stream` into `into`, then "" at its end."""
    for line in stream:
        into.put(line)
    into.put("")


def test_trace_pipe_is_monitored_live_with_the_programs_verdicts(tracefs, tmp_path):  # noqa: F811
    compiler = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if compiler is None:
        pytest.skip("no C compiler to build the workload")
    binary = tmp_path / "tlob_marker"
    subprocess.run([compiler, "-O1", "-o", str(binary), str(SOURCE)], check=True)

    group = f"hamodel_stream_{os.getpid()}"
    instance = tracefs / "instances" / group
    probes = [
        f"p:{group}/tlob_start {binary}:{file_offset(binary, 'tlob_start'):#x} "
        "id=%di:s32 budget_ns=%si:s64",
        f"p:{group}/tlob_stop {binary}:{file_offset(binary, 'tlob_stop'):#x} id=%di:s32",
    ]
    events = ["sched/sched_switch", "sched/sched_wakeup", f"{group}/tlob_start",
              f"{group}/tlob_stop"]
    added: list[str] = []
    replay = None
    instance.mkdir()
    try:
        for probe in probes:
            write(tracefs / "uprobe_events", probe + "\n", append=True)
            added.append(probe.split()[0][2:])
        write(instance / "trace_clock", "mono")
        write(instance / "buffer_size_kb", "4096")
        for event in events:
            write(instance / "events" / event / "enable", "1")

        replay = subprocess.Popen(
            [sys.executable, "-m", "hamodel", "replay", str(MODEL),
             str(instance / "trace_pipe"), "--format", "jsonl"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        records: queue.Queue[str] = queue.Queue()
        threading.Thread(target=pump, args=(replay.stdout, records), daemon=True).start()

        run = subprocess.run(["chrt", "-f", "1", str(binary)], capture_output=True, timeout=60)
        assert run.returncode == 0, run.stderr

        # The stop of job 3 comes last; its overrun record says replay has read it.
        found: list[dict] = []
        while not any(r["type"] == "overrun" and r["start_args"]["id"] == "3" for r in found):
            line = records.get(timeout=WAIT_S)
            assert line, f"replay ended: {replay.stderr.read()}"
            found.append(json.loads(line))
        replay.send_signal(signal.SIGINT)
        code = replay.wait(timeout=WAIT_S)
        while (line := records.get(timeout=WAIT_S)) != "":
            found.append(json.loads(line))
        err = replay.stderr.read()
    finally:
        if replay is not None and replay.poll() is None:
            replay.kill()
            replay.wait()
        for event in events:
            enable = instance / "events" / event / "enable"
            if enable.exists():
                write(enable, "0")
        instance.rmdir()
        for name in added:
            write(tracefs / "uprobe_events", f"-:{name}\n", append=True)

    assert code == 130 and "interrupted (SIGINT)" in err and "Traceback" not in err, err
    violations = {r["start_args"]["id"]: r for r in found if r["type"] == "violation"}
    (summary,) = [r for r in found if r["type"] == "summary"]
    assert summary["invocations"] == 4 and summary["within_bounds"] == 1, summary
    assert sorted(violations) == ["1", "2", "3"]
    for job, dominant in (("1", "sleeping"), ("2", "waiting"), ("3", "waiting")):
        v = violations[job]
        assert (v["kind"], v["event"], v["dominant"]) == ("invariant", None, dominant)
        assert v["time"] == v["start"] + BUDGET
        assert sum(v["residency"].values()) == BUDGET
    assert not instance.exists()
    assert not any(group in line for line in (tracefs / "uprobe_events").read_text().split("\n"))
