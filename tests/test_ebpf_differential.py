"""Differential: the live eBPF monitor against hamodel.semantics on the same run.

While `hamodel run` watches tests/programs/ebpf_target.c, a private tracefs
instance records the same run (sched_switch, sched_wakeup and two uprobe
events on the window markers, trace clock `mono`, which is the clock
bpf_ktime_get_ns reads).  The recording is replayed through
hamodel.semantics.Monitor with models/tlob.binding.toml, on an hrtimer (the
eBPF monitor's bpf_timer is one, whatever timer the kernel-C generator would
choose); both must find the same violated windows, at the same instant and
with the same per-state breakdown, within TOLERANCE_NS: tracefs prints
microseconds, and the two consumers of one tracepoint hit read the clock a few
microseconds apart.  The semantics runs timer callbacks at their expiry; the
kernel runs them a little later, so an event in between is a late event to
the eBPF monitor (an invariant violation under the event's name, at the
event): that counts as the same finding when it lies within TOLERANCE_NS of
the semantics' timer.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from conftest import ROOT
from test_ebpf_live import (  # noqa: F401 (fixtures)
    MS,
    Runner,
    _no_runner_left_behind,
    _why_no_bpf,
    target,
)

from hamodel.binding import PREV_STATE_LETTERS, find_binding
from hamodel.bpf import elf
from hamodel.load import load_model
from hamodel.semantics import Monitor, Platform, Timer, Violation

TRACEFS = Path("/sys/kernel/tracing")
INSTANCE = TRACEFS / "instances" / "hamodel_ebpf_diff"
GROUP = "hamodel_ebpf_diff"
TOLERANCE_NS = 100_000
BUDGET_NS = 2 * MS

# tracefs prev_state letters -> the reported state (hamodel.binding); "R+" is preempted.
STATE_LETTERS = PREV_STATE_LETTERS
LINE = re.compile(r"^\s*(?P<comm>.+?)-(?P<pid>\d+)\s+\[\d+\]\s+\S+\s+(?P<ts>\d+\.\d+): "
                  r"(?P<event>\w+): (?P<rest>.*)$")
FIELD = re.compile(r"(\w+)=(\S+)")


def _tracefs_ready() -> str | None:
    if _why_no_bpf():
        return _why_no_bpf()
    if not (TRACEFS / "uprobe_events").exists():
        subprocess.run(["mount", "-t", "tracefs", "nodev", str(TRACEFS)], capture_output=True)
    if not (TRACEFS / "uprobe_events").exists():
        return "tracefs with uprobe events unavailable"
    return None


pytestmark = pytest.mark.skipif(_tracefs_ready() is not None, reason=str(_tracefs_ready()))


def _write(path: Path, text: str, flags: int = os.O_WRONLY | os.O_TRUNC) -> None:
    # os.open, not open(): Python's append mode seeks to the end, which tracefs refuses.
    fd = os.open(path, flags)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def _append(path: Path, text: str) -> None:
    _write(path, text, os.O_WRONLY | os.O_APPEND)


class Recording:
    """A private tracefs instance: other users of tracefs are not disturbed."""

    def __init__(self, binary: Path) -> None:
        self.binary = binary
        start = elf.resolve(str(binary), "nop_start").offset
        stop = elf.resolve(str(binary), "nop_stop").offset
        self.cleanup()
        _append(TRACEFS / "uprobe_events", f"p:{GROUP}/start {binary}:{start:#x}\n")
        _append(TRACEFS / "uprobe_events", f"p:{GROUP}/stop {binary}:{stop:#x}\n")
        INSTANCE.mkdir()
        _write(INSTANCE / "tracing_on", "0")
        _write(INSTANCE / "trace_clock", "mono")
        _write(INSTANCE / "buffer_size_kb", "4096")
        comm = binary.name[:15]
        _write(INSTANCE / "events/sched/sched_switch/filter",
               f'prev_comm == "{comm}" || next_comm == "{comm}"')
        _write(INSTANCE / "events/sched/sched_wakeup/filter", f'comm == "{comm}"')
        for event in ("sched/sched_switch", "sched/sched_wakeup", f"{GROUP}/start",
                      f"{GROUP}/stop"):
            _write(INSTANCE / "events" / event / "enable", "1")
        _write(INSTANCE / "tracing_on", "1")

    def text(self) -> str:
        _write(INSTANCE / "tracing_on", "0")
        return (INSTANCE / "trace").read_text()

    @staticmethod
    def cleanup() -> None:
        if INSTANCE.exists():
            _write(INSTANCE / "tracing_on", "0")
            for event in ("sched/sched_switch", "sched/sched_wakeup", f"{GROUP}/start",
                          f"{GROUP}/stop"):
                enable = INSTANCE / "events" / event / "enable"
                if enable.exists():
                    _write(enable, "0")
            INSTANCE.rmdir()
        for name in ("start", "stop"):
            if (TRACEFS / "events" / GROUP / name).exists():
                _append(TRACEFS / "uprobe_events", f"-:{GROUP}/{name}\n")


def _ns(ts: str) -> int:
    sec, frac = ts.split(".")
    return int(sec) * 1_000_000_000 + int(frac.ljust(9, "0")[:9])


def replay(text: str, model: Path) -> tuple[list[Violation], int]:
    """The recording through the oracle; returns its violations and the lost-event count."""
    automaton, _ = load_model(model)
    binding, _ = find_binding(model, automaton)
    (param,) = automaton.parameters  # the run sets the model's one parameter to 2 ms
    monitor = Monitor(automaton, params={param.name: BUDGET_NS},
                      platform=Platform(timer=Timer.HRTIMER))
    out: list[Violation] = []
    lost = 0
    t = 0
    for line in text.splitlines():
        if "LOST" in line:
            lost += 1
        m = LINE.match(line)
        if not m:
            continue
        t = max(t, _ns(m["ts"]))
        event, tid = m["event"], int(m["pid"])
        if event == "start":
            _, outcomes = monitor.start(tid, t)
        elif event == "stop":
            _, outcomes = monitor.stop(tid, t)
        else:
            fields = {k: v for k, v in FIELD.findall(m["rest"].replace(" ==> ", " "))}
            numeric = {"common_pid": tid}
            for k, v in fields.items():
                if k == "prev_state":
                    numeric[k] = STATE_LETTERS.get(v.rstrip("+")[:1], 1) if v != "R+" else 0
                elif k.endswith("comm"):
                    continue
                else:
                    numeric[k] = int(v)
            outcomes = []
            for eb in binding.for_tracepoint(event):
                if eb.matches(numeric):
                    outcomes += monitor.event(numeric[eb.object], t, eb.event)
        out += [o for o in outcomes if isinstance(o, Violation)]
    out += [o for o in monitor.advance(t + 10 * BUDGET_NS) if isinstance(o, Violation)]
    return out, lost


MODELS = {
    # tlob: the odd jobs sleep 4 ms against a 2 ms budget.
    "tlob": (ROOT / "models" / "tlob.dot", ROOT / "generated" / "tlob" / "ebpf"),
    # two clocks: a 4 ms sleep overruns `clk_b < LIMIT_NS()` (2 ms) from the sleep on.
    "two_clocks": (ROOT / "tests" / "programs" / "ebpf_two_clocks.dot",) * 2,
}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_ebpf_and_semantics_agree_on_a_recorded_run(target, name):  # noqa: F811 (fixture)
    model, monitor_source = MODELS[name]
    automaton, _ = load_model(model)
    (param,) = automaton.parameters
    # --budget sets a budget parameter (tlob's BUDGET_NS); any other goes by --param.
    if param.name.lower().startswith("budget"):
        runner = Runner(target, ("nop_start", "nop_stop", "2ms"), model=monitor_source)
    else:
        runner = Runner(target, ("nop_start", "nop_stop", None), model=monitor_source,
                        extra=("--param", f"{param.name}=2ms"))
    try:
        recording = Recording(target)
        subprocess.run(["chrt", "-f", "10", str(target), "jobs", "8"], check=True, timeout=60)
        text = recording.text()
    finally:
        Recording.cleanup()
        result = runner.finish()
    oracle, lost = replay(text, model)
    assert lost == 0, "tracefs lost events: the recording is incomplete"
    ebpf = sorted(result.violations, key=lambda v: v["start_ns"])
    assert len(ebpf) >= 4  # at least the four odd jobs
    assert len(oracle) == len(ebpf), (oracle, ebpf)
    for py, bpf in zip(sorted(oracle, key=lambda v: v.time), ebpf, strict=True):
        assert (py.obj, py.kind.value, py.state) == (bpf["tid"], bpf["kind"], bpf["state"])
        # A timer that a loaded machine runs late lets the task's next event see the
        # overrun first: reported, as by the kernel framework, under that event's name
        # and at its instant, so times and clocks are later by the delay, never earlier.
        late = py.event is None and bpf["event"] is not None and bpf["detected_by"] == "event"
        assert py.event == bpf["event"] or late, (py, bpf)
        delay = bpf["time_ns"] - py.time if late else 0
        assert delay >= -TOLERANCE_NS, (py, bpf)
        slack = TOLERANCE_NS + max(delay, 0)
        assert abs(py.time - bpf["time_ns"]) <= slack
        for state, ns in py.residency:
            assert abs(ns - bpf["residency_ns"][state]) <= slack, (state, py, bpf)
        for clock, value in py.clocks:
            got = bpf["clocks"][clock]
            assert (value is None) == (got is None), (clock, py, bpf)
            if value is not None:
                assert abs(value - got) <= slack, (clock, py, bpf)
