"""Benchmark: where replay's time goes on the real line mix, layer by layer.

    python bench/bench_replay_costs.py [--lines 1200000] [--runs 3]

bench_replay.py says how replay compares with reading the file; this says what
the rest is made of.  The trace is bench_replay.py's real line mix (the shared
capture repeated).  Each round replays it in fresh processes, each with one more
layer of the work switched on (the layers below it switched off by replacing
their functions in that process only), and prints the median CPU time of each
stage, the cost each layer adds, and that cost per line it concerns:

1. idle: the same text with its markers renamed, so nothing is ever monitored
   (the block scan alone, bench_replay.py's "nothing monitored");
2. token lines: the real text; a marker line only adds or removes its task from
   the monitored set, every other handler does nothing: the cost of finding and
   visiting the lines that name a monitored task (numpy searches, a decode and
   a dispatch per line);
3. marker lines read: the markers' fields and parameters parsed as replay
   does, the engine only keeping the set;
4. start, stop, timers, findings: the engine, the generated monitor and the
   JSON report for every start and stop and the violations and overruns found
   at them, the scheduler lines still doing nothing;
5. everything: the scheduler lines read and given to the monitor as well (the
   replay bench_replay.py times).

Stage 4 is also run with the report's writing switched off, for the JSON
alone.  Not a test: nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_replay import MODEL, REAL, repeat_real  # noqa: E402

STAGES = ("idle", "tokens", "markers", "monitor", "all", "no-report")


def _stage(stage: str) -> None:
    """Switch off, in this process, the layers above `stage` (see the docstring)."""
    from hamodel import replay_report
    from hamodel.replay import Engine
    from hamodel.trace import bind

    if stage == "no-report":
        replay_report.Reporter.violation = lambda *_: None  # type: ignore[method-assign]
        replay_report.Reporter.overrun = lambda *_: None  # type: ignore[method-assign]
    if stage in ("tokens", "markers", "monitor", "no-report"):
        def nothing(*_):
            return lambda number, text, colon, end: None

        bind._format_handler = nothing  # type: ignore[assignment]
        bind._general_handler = nothing  # type: ignore[assignment]
    if stage in ("tokens", "markers"):
        def keep_set(engine: Engine, obj: object, start: bool) -> None:
            if start:
                engine.live[obj] = None  # only a member of the set: no monitor runs
            else:
                engine.live.pop(obj, None)
            engine._refresh()

        Engine.start = lambda self, line, t, obj, *_: keep_set(self, obj, True)  # type: ignore
        Engine.stop = lambda self, line, t, obj: keep_set(self, obj, False)  # type: ignore
    if stage == "tokens":
        from hamodel.trace.ftrace import head_pid_time

        def pid_only(marker, kind, sink):
            def handle(number: int, text: str, colon: int, end: int) -> None:
                pid, t = head_pid_time(text, colon, number)
                (sink.start if kind == "start" else sink.stop)(number, t, pid)

            return handle

        bind._uprobe_handler = pid_only  # type: ignore[assignment]


def worker(stage: str, trace: str) -> None:
    import jinja2  # noqa: F401

    import hamodel.gen.python  # noqa: F401
    import hamodel.trace.blocks  # noqa: F401
    from hamodel.binding import find_binding
    from hamodel.load import load_model
    from hamodel.replay import replay

    _stage(stage)
    a, _ = load_model(MODEL)
    binding, _ = find_binding(MODEL, a)
    with open(os.devnull, "w") as out:
        cpu = time.process_time()
        summary = replay(a, binding, trace, "jsonl", {}, out)
        cpu = time.process_time() - cpu
    print(json.dumps([cpu, summary.violation_count]))


def run(stage: str, trace: Path) -> tuple[float, int]:
    argv = [sys.executable, str(Path(__file__).resolve()), "--worker", stage, "--trace",
            str(trace)]
    done = subprocess.run(argv, capture_output=True, text=True, check=True)
    return tuple(json.loads(done.stdout))  # type: ignore[return-value]


def counts(path: Path) -> tuple[int, int]:
    """The marker lines of the trace, and the other lines that name the marker task's
    pid as a field (`=PID`): the lines the token search finds."""
    markers = named = 0
    token = None
    with path.open() as f:
        for line in f:
            if ": tlob_st" in line:
                markers += 1
                if token is None:  # TASK-PID of the first marker line
                    head = line[:line.find(" [")].rstrip()
                    token = "=" + head[head.rfind("-") + 1:]
            elif token is not None and (token + " " in line or line.rstrip().endswith(token)):
                named += 1
    return markers, named


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_200_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--worker", choices=STAGES, help=argparse.SUPPRESS)
    parser.add_argument("--trace", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.trace)
        return
    if not REAL.is_file():
        print(f"{REAL} is absent: no real line mix to measure")
        return
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as tmp:
        real, idle = Path(tmp) / "real.txt", Path(tmp) / "idle.txt"
        lines = repeat_real(REAL, real, args.lines)
        repeat_real(REAL, idle, args.lines, monitored=False)
        times: dict[str, list[float]] = {s: [] for s in STAGES}
        violations = 0
        for _ in range(args.runs):
            for stage in STAGES:
                cpu, found = run(stage, idle if stage == "idle" else real)
                times[stage].append(cpu)
                if stage == "monitor":
                    violations = found
        markers, named = counts(real)
    med = {s: statistics.median(v) * 1000 for s, v in times.items()}
    print(f"real line mix, {lines} lines; CPU ms, median of {args.runs} "
          f"(min..max), each stage in its own process:")
    for stage in STAGES:
        print(f"  {stage:>10}: {med[stage]:8.1f} ({min(times[stage]) * 1000:.1f}.."
              f"{max(times[stage]) * 1000:.1f})")
    per = [
        ("idle: the block scan", med["idle"], lines, "line"),
        ("token lines found and visited", med["tokens"] - med["idle"], markers + named,
         "marker line or line naming the marker task"),
        ("marker lines read", med["markers"] - med["tokens"], markers, "marker line"),
        ("start, stop, timers, findings", med["monitor"] - med["markers"], markers,
         "marker line"),
        ("  of which the JSON report", med["monitor"] - med["no-report"], violations,
         "violation (and its overrun)"),
        ("scheduler lines read and stepped", med["all"] - med["monitor"], named,
         "line naming the marker task"),
    ]
    print("what each layer adds (CPU ms), and per line it concerns:")
    for title, ms, count, unit in per:
        print(f"  {title:<34} {ms:7.1f} ms  {ms * 1000 / max(count, 1):6.2f} us per {unit}"
              f" ({count})")


if __name__ == "__main__":
    main()
