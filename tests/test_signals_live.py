"""Live: `hamodel run` stopped by SIGTERM at any moment leaves nothing in the kernel.

A service manager stops a program with SIGTERM.  The runner is sent one at 0.1,
0.5, 1 and 3 s after it was started (while Python starts, while the monitor is
generated and compiled, while it loads, once it is attached: which phase each
delay hits depends on the machine's load) and once right after it said it was
attached.  Each time it must exit 143 with one line, and bpftool must show no
program, link or map of the monitor left.  The model is tlob under a name of this
test's own, so its objects are told from those of other runs on the machine.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_ebpf_live import TARGET_C, _why_no_bpf

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(_why_no_bpf() is not None, reason=str(_why_no_bpf()))


@pytest.fixture(scope="module")
def target(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("live") / "ebpf_target"
    subprocess.run(["cc", "-O2", "-pthread", "-o", str(out), str(TARGET_C)], check=True)
    return out


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    """tlob under a name of this test process's own, so every program and map of its
    monitor can be told from those of other runs on the machine (bpftool here cannot
    say which process holds what)."""
    folder = tmp_path_factory.mktemp("model")
    name = f"s{os.getpid() % 100_000}"
    shutil.copy(ROOT / "models" / "tlob.dot", folder / f"{name}.dot")
    shutil.copy(ROOT / "models" / "tlob.binding.toml", folder / f"{name}.binding.toml")
    return folder / f"{name}.dot"


def bpftool(kind: str) -> list[dict]:
    done = subprocess.run(["bpftool", "-j", kind, "show"], capture_output=True, text=True,
                          check=True)
    return json.loads(done.stdout or "[]")


def loaded(prefix: str) -> list[tuple[str, str]]:
    """Programs, links and maps of the monitor whose names start with `prefix`."""
    progs = {p["id"]: p.get("name", "") for p in bpftool("prog")}
    found = []
    for kind in ("prog", "link", "map"):
        for item in bpftool(kind):
            name = item.get("name") or progs.get(item.get("prog_id"), "")
            if name.startswith(prefix + "_"):
                found.append((kind, name))
    return found


def left_behind(prefix: str, settle_s: float = 2.0) -> list[tuple[str, str]]:
    """What of the monitor is still loaded after its runner has exited.  The kernel
    frees a map in a workqueue once its last reference is gone, so right after the
    exit it can still be listed for a few milliseconds (seen under load); a leak
    stays."""
    deadline = time.monotonic() + settle_s
    while (found := loaded(prefix)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return found


def start(model: Path, target: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "hamodel", "run", str(model), "--binary", str(target),
         "--start", "nop_start", "--stop", "nop_stop", "--budget", "5ms", "--format", "jsonl",
         "--duration", "600"],  # a backstop only: the tests stop it long before
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def stop(proc: subprocess.Popen) -> tuple[str, str]:
    try:
        proc.send_signal(signal.SIGTERM)
        return proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize("delay", [0.1, 0.5, 1.0, 3.0])
def test_sigterm_at_any_moment_leaves_nothing_loaded(model, target, delay):
    proc = start(model, target)
    time.sleep(delay)
    _, err = stop(proc)
    assert left_behind(model.stem) == []
    if proc.returncode == -signal.SIGTERM:
        # Before Python ran hamodel's entry point the kernel's default action ends it.
        assert delay <= 0.1 and err == "", err
        return
    assert proc.returncode == 143, err
    assert "Traceback" not in err
    lines = [x for x in err.splitlines() if "attached to" not in x and "note:" not in x]
    assert len(lines) == 1 and lines[0].startswith("hamodel") and "SIGTERM" in lines[0], err


def test_sigterm_once_attached_detaches_and_prints_the_summary(model, target):
    proc = start(model, target)
    for line in proc.stderr:
        if "attached to" in line:
            break
    else:
        pytest.fail(f"the runner never attached: {proc.communicate()}")
    kinds = {kind for kind, _ in loaded(model.stem)}
    out, err = stop(proc)
    assert kinds == {"prog", "link", "map"}  # it was attached for real
    assert proc.returncode == 143, err
    assert err == "hamodel run: stopped by SIGTERM; everything detached\n"
    (summary,) = [json.loads(x) for x in out.splitlines() if '"summary"' in x]
    assert summary["counters"]["started"] == 0
    assert left_behind(model.stem) == []


def test_a_run_ended_by_its_duration_exits_1_after_a_violated_window(model, target):
    """No signal: the exit status is the verdict, as replay's (1: a window violated)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "hamodel", "run", str(model), "--binary", str(target),
         "--start", "nop_start", "--stop", "nop_stop", "--budget", "5ms", "--format", "jsonl",
         "--duration", "3"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for line in proc.stderr:
            if "attached to" in line:
                break
        subprocess.run(["chrt", "-f", "10", str(target), "busy", "15000"], check=True,
                       timeout=60)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 1, err
    assert [json.loads(x)["type"] for x in out.splitlines()] == ["violation", "summary"]
    assert left_behind(model.stem) == []
