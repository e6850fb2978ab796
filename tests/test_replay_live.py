"""Record a real kernel trace here (tracefs + uprobes), replay it, check the verdicts.

The workload (tests/live/tlob_marker.c) runs four invocations whose fate does
not depend on co-tenant load: busy sections run under SCHED_FIFO (`chrt -f`),
the sleep is 3 ms past the budget, and the two waiting jobs are kept off their
CPU by SCHED_FIFO hogs: one of higher priority preempts, one of equal priority
runs when the job yields.  The trace is recorded in a private tracefs
instance, with uprobe events in a group of this test's own, so nothing another
user of tracefs set up is touched.  Skips only where the kernel or the machine
truly cannot do this (no root, no tracefs, no uprobe events, no C compiler).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import struct
import subprocess
import tempfile
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from hamodel import cli

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "tests" / "live" / "tlob_marker.c"
MODEL = ROOT / "models" / "tlob.dot"
BUDGET = 5_000_000


def file_offset(binary: Path, symbol: str) -> int:
    """Where the symbol's code lies in the file (what uprobe_events wants)."""
    out = subprocess.run(["nm", str(binary)], capture_output=True, text=True, check=True).stdout
    addr = next(int(line.split()[0], 16) for line in out.splitlines()
                if line.split()[-1] == symbol)
    data = binary.read_bytes()
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    for i in range(phnum):
        p_type, _, p_offset, p_vaddr, _, p_filesz = struct.unpack_from(
            "<IIQQQQ", data, phoff + i * phentsize)
        if p_type == 1 and p_vaddr <= addr < p_vaddr + p_filesz:  # PT_LOAD
            return addr - p_vaddr + p_offset
    raise AssertionError(f"{symbol} at {addr:#x} is in no loadable segment")


@pytest.fixture
def tracefs():
    """A tracefs mount of our own (unmounted after), or a precise skip."""
    if os.geteuid() != 0:
        pytest.skip("recording a kernel trace needs root (tracefs, uprobe_events)")
    if os.uname().machine != "x86_64":
        pytest.skip("the uprobe arguments (%di, %si) are written for x86-64")
    mnt = Path(tempfile.mkdtemp(prefix="hamodel-tracefs-"))
    mounted = subprocess.run(["mount", "-t", "tracefs", "nodev", str(mnt)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        mnt.rmdir()
        pytest.skip(f"cannot mount tracefs: {mounted.stderr.strip()}")
    try:
        if not (mnt / "uprobe_events").exists():
            pytest.skip("this kernel has no uprobe events (CONFIG_UPROBE_EVENTS is off)")
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], check=False)
        mnt.rmdir()


def write(path: Path, text: str, append: bool = False) -> None:
    """One write(2), as `echo` does (tracefs files refuse the seek of Python's "a" mode)."""
    fd = os.open(path, os.O_WRONLY | (os.O_APPEND if append else os.O_TRUNC))
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def record(tracefs: Path, binary: Path) -> str:
    group = f"hamodel_{os.getpid()}"
    instance = tracefs / "instances" / group
    probes = [
        f"p:{group}/tlob_start {binary}:{file_offset(binary, 'tlob_start'):#x} "
        "id=%di:s32 budget_ns=%si:s64",
        f"p:{group}/tlob_stop {binary}:{file_offset(binary, 'tlob_stop'):#x} id=%di:s32",
    ]
    events = ["sched/sched_switch", "sched/sched_wakeup", f"{group}/tlob_start",
              f"{group}/tlob_stop"]
    added = []
    instance.mkdir()
    try:
        for probe in probes:
            write(tracefs / "uprobe_events", probe + "\n", append=True)
            added.append(probe.split()[0][2:])
        write(instance / "trace_clock", "mono")
        write(instance / "buffer_size_kb", "4096")
        for event in events:
            write(instance / "events" / event / "enable", "1")
        run = subprocess.run(["chrt", "-f", "1", str(binary)], capture_output=True, timeout=60)
        assert run.returncode == 0, run.stderr
        write(instance / "tracing_on", "0")
        return (instance / "trace").read_text()
    finally:
        for event in events:  # a probe that is enabled somewhere cannot be removed
            enable = instance / "events" / event / "enable"
            if enable.exists():
                write(enable, "0")
        instance.rmdir()
        for name in added:
            write(tracefs / "uprobe_events", f"-:{name}\n", append=True)


def test_recorded_trace_gives_the_expected_verdicts_and_dominant_states(tracefs, tmp_path):
    compiler = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if compiler is None:
        pytest.skip("no C compiler to build the workload")
    binary = tmp_path / "tlob_marker"
    subprocess.run([compiler, "-O1", "-o", str(binary), str(SOURCE)], check=True)
    trace = tmp_path / "trace.txt"
    trace.write_text(record(tracefs, binary))
    print(trace.read_text())  # shown when the test fails

    out = io.StringIO()
    with redirect_stdout(out):
        code = cli.main(["replay", str(MODEL), str(trace), "--format", "jsonl"])
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    violations = {r["start_args"]["id"]: r for r in records if r["type"] == "violation"}
    (summary,) = [r for r in records if r["type"] == "summary"]

    assert code == 1, out.getvalue()
    assert summary["invocations"] == 4 and summary["within_bounds"] == 1
    assert sorted(violations) == ["1", "2", "3"]
    for job, dominant in (("1", "sleeping"), ("2", "waiting"), ("3", "waiting")):
        v = violations[job]
        assert (v["kind"], v["event"], v["dominant"]) == ("invariant", None, dominant)
        assert v["time"] == v["start"] + BUDGET
        assert sum(v["residency"].values()) == BUDGET
