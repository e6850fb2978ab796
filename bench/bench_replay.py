"""Benchmark: replay of kernel trace text against reading the same file, and the monitor step.

    python bench/bench_replay.py [--lines 1200000] [--events 1000000] [--runs 5]
                                 [--reference REV]

Each measurement runs in a fresh process; the figures are the median, min and
max of RUNS rounds, in wall time and in that process's CPU time.  In every
round, each trace is also read by the reference, a plain Python loop that
splits every line (`for line in open(path): line.split()`), and the per-round
ratio of replay's CPU time to the reference's is printed: load from other users
of the machine falls on both alike.

The traces, made deterministically in a temporary folder:
- real (the default figure): the event lines of
  ../shared/traces/ftrace-mono-pipebench-400.txt, a tracefs capture of a pipe
  benchmark with a marker task running tlob jobs, repeated with shifted
  timestamps to about LINES lines: the line mix, comm names and flags of a real
  trace; half the jobs overrun (a violation and an overrun every few dozen lines);
- real, nothing monitored: the same text with the marker lines renamed, so no
  object is ever monitored and no line can matter: what skipping costs
  (also against a byte scan: read(2) and count the newlines);
- synthetic: tracefs lines between two busy tasks and a marker task, half of
  its invocations over budget (the figure of earlier versions).

Last, the peak resident set of the replay process on the real line mix a
quarter as long and whole (imports included): flat when they are alike.

With --reference, the same measurements of git revision REV (the project as
committed there, `git archive`d into a temporary directory) run in the same
rounds, and the per-round ratio of this tree to REV is printed too.  Not a
test: nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# A worker measures the tree it was started for, with that tree's model.
MODEL = Path(os.environ.get("HAMODEL_BENCH_TREE") or ROOT) / "models" / "tlob.dot"
REAL = ROOT.parent / "shared" / "traces" / "ftrace-mono-pipebench-400.txt"
# The monitored task starts this long after boot (ns), with a budget below it: the
# kernel's ns check wraps while the uptime is below the bound.
UPTIME = 1 << 42
BUDGET_NS = 1 << 40
CYCLE = ("sleep", "wakeup", "switch_in", "preempt", "switch_in")


def repeat_real(source: Path, path: Path, lines: int, monitored: bool = True) -> int:
    """The event lines of `source` again and again, each copy later by the span of the
    copy plus a microsecond, after its header; returns how many lines were written.
    With monitored False the markers are renamed (no object is ever started)."""
    text = source.read_text().splitlines()
    header = [t for t in text if t.startswith("#")]
    body = [t for t in text if t.strip() and not t.startswith("#")]
    if not monitored:
        body = [t.replace(": tlob_st", ": other_st") for t in body]

    def stamp(line: str) -> tuple[int, int, int]:
        colon = line.find(": ")
        start = line.rfind(" ", 0, colon) + 1
        sec, frac = line[start:colon].split(".")
        return start, colon, int(sec) * 1_000_000 + int(frac)

    first, last = stamp(body[0])[2], stamp(body[-1])[2]
    period = last - first + 1
    parts = [stamp(t) for t in body]
    written = len(header)
    with path.open("w") as f:
        f.write("\n".join(header) + "\n")
        shift = 0
        while written < lines:
            for t, (start, colon, us) in zip(body, parts, strict=True):
                us += shift
                f.write(f"{t[:start]}{us // 1_000_000}.{us % 1_000_000:06d}{t[colon:]}\n")
            written += len(body)
            shift += period
    return written


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
    """Lines/s of `replay` on kernel text, findings as JSON lines; everything replay
    imports is imported before the clock starts (bench_startup.py times imports)."""
    import hamodel.gen.python  # noqa: F401
    from hamodel.binding import find_binding
    from hamodel.load import load_model
    from hamodel.replay import replay

    try:
        import hamodel.trace.blocks  # noqa: F401 (numpy, where the tree has it)
    except ImportError:
        pass
    import jinja2  # noqa: F401 (the monitor is rendered at the start of replay)
    a, _ = load_model(MODEL)
    binding, _ = find_binding(MODEL, a)
    # findings written out, not kept: a buffer would grow with the trace
    with open(os.devnull, "w") as out:
        clock = Clock()
        replay(a, binding, trace, "jsonl", {}, out)
        return clock.rates(lines)


def bench_split(trace: Path, lines: int) -> tuple[float, float]:
    """The reference: read the file as text and split every line."""
    clock = Clock()
    with trace.open() as f:
        for line in f:
            line.split()
    return clock.rates(lines)


def bench_bytes(trace: Path, lines: int) -> tuple[float, float]:
    """A byte scan: read(2) 256 KiB at a time and count the newlines."""
    clock = Clock()
    fd = os.open(trace, os.O_RDONLY)
    try:
        while data := os.read(fd, 1 << 18):
            data.count(b"\n")
    finally:
        os.close(fd)
    return clock.rates(lines)


WORKERS = {"step": bench_step, "feed": bench_feed, "replay": bench_replay,
           "split": bench_split, "bytes": bench_bytes}


def worker(what: str, count: int, trace: str | None) -> None:
    """Run one measurement here and print its rates as JSON (the paired mode's unit)."""
    if what in ("step", "feed"):
        rates = WORKERS[what](count)
    else:
        rates = WORKERS[what](Path(trace or ""), count)
    # the process's peak resident set (KiB on Linux): replay's memory, imports included
    print(json.dumps([*rates, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss]))


# --- driving ---------------------------------------------------------------------------


def summary(rates: list[tuple[float, float]]) -> str:
    def one(values: list[float]) -> str:
        return (f"{statistics.median(values) / 1e6:.2f} M/s "
                f"({min(values) / 1e6:.2f}..{max(values) / 1e6:.2f})")

    return (f"wall {one([r[0] for r in rates])}, CPU {one([r[1] for r in rates])}")


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} ({min(values):.3f}..{max(values):.3f})"


def run_in(tree: Path, what: str, count: int, trace: Path | None
           ) -> tuple[float, float, int]:
    """One measurement in a fresh process importing hamodel from `tree`: the wall and
    CPU rates, and the process's peak resident set in KiB."""
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
    parser.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--trace", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.count, args.trace)
        return

    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as tmp:
        traces: list[tuple[str, Path, int, bool]] = []  # title, file, lines, byte scan too
        if REAL.is_file():
            real, idle = Path(tmp) / "real.txt", Path(tmp) / "real-idle.txt"
            n = repeat_real(REAL, real, args.lines)
            repeat_real(REAL, idle, args.lines, monitored=False)
            traces += [(f"real line mix ({n} lines, {REAL.name} repeated)", real, n, False),
                       (f"real line mix, nothing monitored ({n} lines)", idle, n, True)]
            quarter = Path(tmp) / "real-quarter.txt"
            memory = [(repeat_real(REAL, quarter, args.lines // 4), quarter), (n, real)]
        else:
            print(f"note: {REAL} is absent: no real-trace figure")
            memory = []
        synth = Path(tmp) / "synth.txt"
        n = synthesize(synth, args.lines)
        traces.append((f"synthetic ({n} lines)", synth, n, False))
        trees = {"this tree": ROOT}
        if args.reference:
            trees[args.reference] = export(args.reference, Path(tmp) / "reference")
        for title, what, count in (("monitor step (Monitor.event)", "step", args.events),
                                   ("monitor step (Monitor.feed)", "feed", args.events)):
            rates: dict[str, list[tuple[float, float]]] = {name: [] for name in trees}
            for _ in range(args.runs):
                for name, tree in trees.items():
                    rates[name].append(run_in(tree, what, count, None))
            print(title)
            report(trees, rates, args)
        for title, path, count, byte_scan in traces:
            rates = {name: [] for name in trees}
            refs = {"read + split()": [], **({"byte scan": []} if byte_scan else {})}
            for _ in range(args.runs):
                refs["read + split()"].append(run_in(ROOT, "split", count, path))
                if byte_scan:
                    refs["byte scan"].append(run_in(ROOT, "bytes", count, path))
                for name, tree in trees.items():
                    rates[name].append(run_in(tree, "replay", count, path))
            print(f"ftrace replay, end to end: {title}")
            report(trees, rates, args)
            for ref_name, ref_rates in refs.items():
                print(f"  {ref_name:>12}: {summary(ref_rates)}")
                for name in trees:
                    # CPU time ratio = the reference's rate over replay's
                    ratios = [r[1] / x[1] for x, r in zip(rates[name], ref_rates, strict=True)]
                    print(f"  CPU time of {name} / {ref_name}: median, min..max {spread(ratios)}")
        # Memory flat in trace length: the same real line mix, a quarter as long and whole.
        for name, tree in trees.items():
            peaks = [(count, [run_in(tree, "replay", count, path)[2] / 1024
                              for _ in range(args.runs)]) for count, path in memory]
            if peaks:
                print(f"peak resident set of replay ({name}), real line mix: " + ", ".join(
                    f"{count} lines {spread(mib)} MiB" for count, mib in peaks))


def report(trees: dict[str, Path], rates: dict[str, list[tuple[float, float]]],
           args: argparse.Namespace) -> None:
    for name in trees:
        print(f"  {name:>12}: {summary(rates[name])}  [median, min..max of {args.runs}]")
    if args.reference:
        ours, ref = rates["this tree"], rates[args.reference]
        for i, clock in enumerate(("wall", "CPU")):
            ratios = [a[i] / b[i] for a, b in zip(ours, ref, strict=True)]
            print(f"  {clock} ratio this/{args.reference}: median {spread(ratios)}")


if __name__ == "__main__":
    main()
