"""Benchmark: events/s of the generated monitor's step, lines/s of ftrace replay.

    python bench/bench_replay.py [--lines 1200000] [--runs 5]

Prints the median of RUNS runs of each.  The ftrace trace is synthesized
deterministically (tracefs text, the line mix of a context-switch-heavy pipe
benchmark: sched_switch / sched_waking / sched_wakeup between two busy tasks,
plus a marker task that runs tlob invocations, half of them over budget), so
the figures are comparable from machine to machine.  Not a test: nothing here
asserts a speed.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hamodel.binding import find_binding  # noqa: E402
from hamodel.gen.python import load_monitor  # noqa: E402
from hamodel.load import load_model  # noqa: E402
from hamodel.replay import replay  # noqa: E402
from hamodel.trace.stream import TraceInput  # noqa: E402

MODEL = ROOT / "models" / "tlob.dot"


def synthesize(path: Path, lines: int) -> int:
    """Write a tracefs-style trace of about `lines` lines; returns how many."""
    a, b, marker = 10543, 10545, 10542
    t = 722_000_000  # µs
    n = 0
    job = 0
    with path.open("w") as f:
        f.write("# tracer: nop\n#\n")
        while n < lines:
            # 64 context switches of the pipe pair ...
            for _ in range(16):
                for prev, nxt in ((a, b), (b, a)):
                    head = f"      sched-pipe-{prev}   [000]"
                    ts = f"{t // 1_000_000}.{t % 1_000_000:06d}"
                    f.write(
                        f"{head} d..3.   {ts}: sched_waking: comm=sched-pipe pid={nxt} "
                        "prio=120 target_cpu=000\n"
                        f"{head} dN.4.   {ts}: sched_wakeup: comm=sched-pipe pid={nxt} "
                        "prio=120 target_cpu=000\n"
                        f"{head} d..2.   {ts}: sched_switch: prev_comm=sched-pipe "
                        f"prev_pid={prev} prev_prio=120 prev_state=S ==> "
                        f"next_comm=sched-pipe next_pid={nxt} next_prio=120\n"
                    )
                    t += 1
                    n += 3
            # ... and one step of the marker task's current invocation on CPU 1.
            step = (n // 96) % 6
            ts = f"{t // 1_000_000}.{t % 1_000_000:06d}"
            if step == 0:
                f.write(f"          marker-{marker}   [001] DBZff   {ts}: tlob_start: "
                        f"(0x562ab1ef61a7) id={job} budget_ns=2000000\n")
            elif step == 1:
                f.write(f"          marker-{marker}   [001] d..2.   {ts}: sched_switch: "
                        f"prev_comm=marker prev_pid={marker} prev_prio=120 prev_state=S ==> "
                        f"next_comm=swapper/1 next_pid=0 next_prio=120\n")
            elif step == 2:
                t += 2_500 if job % 2 else 200  # odd jobs sleep past the budget
                ts = f"{t // 1_000_000}.{t % 1_000_000:06d}"
                f.write(f"          <idle>-0       [001] dNh4.   {ts}: sched_wakeup: "
                        f"comm=marker pid={marker} prio=120 target_cpu=001\n")
            elif step == 3:
                f.write(f"          <idle>-0       [001] d..2.   {ts}: sched_switch: "
                        f"prev_comm=swapper/1 prev_pid=0 prev_prio=120 prev_state=R ==> "
                        f"next_comm=marker next_pid={marker} next_prio=120\n")
            elif step == 4:
                f.write(f"          marker-{marker}   [001] DBZff   {ts}: tlob_stop: "
                        f"(0x562ab1ef61a8) id={job}\n")
                job += 1
            n += 1
    return n


class Clock:
    """Wall time and this process's CPU time: the machine may be shared, and CPU time
    is what the code costs when it has a core to itself."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def rates(self, n: int) -> tuple[float, float]:
        return (n / (time.perf_counter() - self.wall), n / (time.process_time() - self.cpu))


def report(what: str, rates: list[tuple[float, float]], unit: str, note: str) -> None:
    wall = statistics.median(r[0] for r in rates) / 1e6
    cpu = statistics.median(r[1] for r in rates) / 1e6
    print(f"{what}: {wall:.2f} M {unit}/s wall, {cpu:.2f} M {unit}/s CPU "
          f"(median of {len(rates)}; {note})")


def bench_step(events: int) -> tuple[float, float]:
    """Events/s of Monitor.event on tlob: one task cycling through its states."""
    a, _ = load_model(MODEL)
    module = load_monitor(a)
    cycle = ("sleep", "wakeup", "switch_in", "preempt", "switch_in")
    calls = [(i * 10, cycle[i % 5]) for i in range(events)]
    mon = module.Monitor({"BUDGET_NS": 1 << 60})
    mon.start(1, 0)
    step = mon.event
    clock = Clock()
    for t, event in calls:
        step(1, t, event)
    return clock.rates(events)


def bench_feed(events: int) -> tuple[float, float]:
    """Events/s of Monitor.feed (the batch form of event) on the same input."""
    a, _ = load_model(MODEL)
    module = load_monitor(a)
    cycle = ("sleep", "wakeup", "switch_in", "preempt", "switch_in")
    calls = [(1, i * 10, cycle[i % 5]) for i in range(events)]
    mon = module.Monitor({"BUDGET_NS": 1 << 60})
    mon.start(1, 0)
    clock = Clock()
    mon.feed(calls)
    return clock.rates(events)


def bench_replay(trace: Path, lines: int) -> tuple[float, float]:
    a, _ = load_model(MODEL)
    binding, _ = find_binding(MODEL, a)
    out = io.StringIO()
    clock = Clock()
    with TraceInput.open(str(trace)) as opened:
        replay(a, binding, opened, "jsonl", {}, out)
    return clock.rates(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_200_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    report("monitor step (Monitor.event)", [bench_step(args.events) for _ in range(args.runs)],
           "events", f"{args.events} events")
    report("monitor step (Monitor.feed)", [bench_feed(args.events) for _ in range(args.runs)],
           "events", "the batch form")
    with tempfile.TemporaryDirectory() as tmp:
        trace = Path(tmp) / "synth.txt"
        lines = synthesize(trace, args.lines)
        report("ftrace replay", [bench_replay(trace, lines) for _ in range(args.runs)], "lines",
               f"{lines} lines, end to end: read, decode, monitor, report")


if __name__ == "__main__":
    main()
