"""Benchmark: events/s of the generated monitor's step, lines/s of ftrace replay.

    python bench/bench_replay.py [--lines 1200000] [--events 1000000] [--runs 5]
                                 [--reference REV]

Prints the median, min and max of RUNS runs of each, in wall time and in CPU
time.  With --reference, the same measurements of git revision REV (the
project as committed there, `git archive`d into a temporary directory) run
paired with this tree's: each round runs this tree, then REV, each in a fresh
process, and the per-round ratio is printed too, so load from other users of
the machine falls on both alike.  The ftrace trace is synthesized
deterministically (tracefs text, the line mix of a context-switch-heavy pipe
benchmark: sched_switch / sched_waking / sched_wakeup between two busy tasks,
plus a marker task that runs tlob invocations, half of them over budget), so
the figures are comparable from machine to machine.  Not a test: nothing
here asserts a speed.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# A worker measures the tree it was started for, with that tree's model.
MODEL = Path(os.environ.get("HAMODEL_BENCH_TREE") or ROOT) / "models" / "tlob.dot"
# The monitored task starts this long after boot (ns), with a budget below it: the
# kernel's ns check wraps while the uptime is below the bound.
UPTIME = 1 << 42
BUDGET_NS = 1 << 40
CYCLE = ("sleep", "wakeup", "switch_in", "preempt", "switch_in")


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


# --- one measurement, in the process of the tree measured (imports from sys.path) ---


def _tlob_monitor():
    from hamodel.gen.python import load_monitor
    from hamodel.load import load_model

    a, _ = load_model(MODEL)
    mon = load_monitor(a).Monitor({"BUDGET_NS": BUDGET_NS})
    mon.start(1, UPTIME)
    return mon


def bench_step(events: int) -> tuple[float, float]:
    """Events/s of Monitor.event on tlob: one task cycling through its states."""
    calls = [(UPTIME + i * 10, CYCLE[i % 5]) for i in range(events)]
    step = _tlob_monitor().event
    clock = Clock()
    for t, event in calls:
        step(1, t, event)
    return clock.rates(events)


def bench_feed(events: int) -> tuple[float, float]:
    """Events/s of Monitor.feed (the batch form of event) on the same input."""
    calls = [(1, UPTIME + i * 10, CYCLE[i % 5]) for i in range(events)]
    mon = _tlob_monitor()
    clock = Clock()
    mon.feed(calls)
    return clock.rates(events)


def bench_replay(trace: Path, lines: int) -> tuple[float, float]:
    from hamodel.binding import find_binding
    from hamodel.load import load_model
    from hamodel.replay import replay

    a, _ = load_model(MODEL)
    binding, _ = find_binding(MODEL, a)
    out = io.StringIO()
    clock = Clock()
    replay(a, binding, trace, "jsonl", {}, out)
    return clock.rates(lines)


def worker(what: str, count: int, trace: str | None) -> None:
    """Run one measurement here and print its rates as JSON (the paired mode's unit)."""
    if what == "step":
        rates = bench_step(count)
    elif what == "feed":
        rates = bench_feed(count)
    else:
        rates = bench_replay(Path(trace or ""), count)
    print(json.dumps(rates))


# --- driving ---------------------------------------------------------------------------


def summary(rates: list[tuple[float, float]]) -> str:
    def one(values: list[float]) -> str:
        return (f"{statistics.median(values) / 1e6:.2f} M/s "
                f"({min(values) / 1e6:.2f}..{max(values) / 1e6:.2f})")

    return (f"wall {one([r[0] for r in rates])}, CPU {one([r[1] for r in rates])}")


def run_in(tree: Path, what: str, count: int, trace: Path | None) -> tuple[float, float]:
    """One measurement in a fresh process importing hamodel from `tree`."""
    argv = [sys.executable, str(Path(__file__).resolve()), "--worker", what, "--count",
            str(count)] + (["--trace", str(trace)] if trace else [])
    env = dict(os.environ, PYTHONPATH=str(tree), HAMODEL_BENCH_TREE=str(tree))
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=True)
    return tuple(json.loads(done.stdout))  # type: ignore[return-value]


def export(rev: str, into: Path) -> Path:
    """The project as committed at `rev`, in a directory of its own."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev], capture_output=True,
                             check=True).stdout
    into.mkdir()
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_200_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--reference", metavar="REV",
                        help="also measure git revision REV, paired round by round")
    parser.add_argument("--worker", choices=("step", "feed", "replay"), help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--trace", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.count, args.trace)
        return

    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as tmp:
        trace = Path(tmp) / "synth.txt"
        lines = synthesize(trace, args.lines)
        trees = {"this tree": ROOT}
        if args.reference:
            trees[args.reference] = export(args.reference, Path(tmp) / "reference")
        jobs = (("monitor step (Monitor.event)", "step", args.events, None),
                ("monitor step (Monitor.feed)", "feed", args.events, None),
                (f"ftrace replay, end to end ({lines} lines)", "replay", lines, trace))
        for title, what, count, path in jobs:
            rates: dict[str, list[tuple[float, float]]] = {name: [] for name in trees}
            for _ in range(args.runs):
                for name, tree in trees.items():
                    rates[name].append(run_in(tree, what, count, path))
            print(title)
            for name in trees:
                print(f"  {name:>12}: {summary(rates[name])}  [median, min..max of "
                      f"{args.runs}]")
            if args.reference:
                ours, ref = rates["this tree"], rates[args.reference]
                for i, clock in enumerate(("wall", "CPU")):
                    ratios = [a[i] / b[i] for a, b in zip(ours, ref, strict=True)]
                    print(f"  {clock} ratio this/{args.reference}: median "
                          f"{statistics.median(ratios):.3f} ({min(ratios):.3f}.."
                          f"{max(ratios):.3f})")


if __name__ == "__main__":
    main()
