"""Benchmark: LTL specs from text to checked automaton, and JSON-lines replay through the
reference monitor, each beside a paired reference.

    python bench/bench_ltl.py [--lines 400000] [--runs 5]

- `load+buchi` and `check` of models/pagefault.ltl and, when ../shared is here,
  the kernel's newest rtapp/sleep.ltl (15 atoms, 8 states); the paired
  reference is the parse alone (`load`).
- replay of a synthesized JSON-lines trace of pagefault updates (four tasks,
  fetches and pulses, one violation in eight faults); the paired reference is
  reading and `json.loads`-ing the same lines without a monitor.

Prints median / min / max of RUNS runs.  Not a test: nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hamodel.ltl.binding import find_ltl_binding  # noqa: E402
from hamodel.ltl.buchi import build_buchi  # noqa: E402
from hamodel.ltl.check import check_spec  # noqa: E402
from hamodel.ltl.load import load_ltl  # noqa: E402
from hamodel.ltl.replay import replay  # noqa: E402

PAGEFAULT = ROOT / "models" / "pagefault.ltl"
SLEEP = ROOT.parent / "shared" / "models" / "upstream-ltl" / "rtapp" / "sleep.ltl"


def timed(runs: int, work: Callable[[], object]) -> tuple[float, float, float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times), max(times)


def synthesize(path: Path, lines: int) -> int:
    n = 0
    with path.open("w") as f:
        for task in range(4):
            f.write(json.dumps({"t": 0, "task": task, "init": "fork"}) + "\n")
            n += 1
        t = 1
        while n < lines:
            task = n % 4
            rt = (n // 4) % 8 == 7
            f.write(json.dumps({"t": t, "task": task, "fetch": {"RT": rt}}) + "\n")
            f.write(json.dumps({"t": t, "task": task, "pulse": "PAGEFAULT", "value": True})
                    + "\n")
            f.write(json.dumps({"t": t, "task": task, "fetch": {"RT": False}}) + "\n")
            n += 3
            t += 1000
    return n


def main() -> int:
    parser = argparse.ArgumentParser(prog="bench_ltl.py")
    parser.add_argument("--lines", type=int, default=400_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    specs = [PAGEFAULT] + ([SLEEP] if SLEEP.is_file() else [])
    for path in specs:
        spec, _ = load_ltl(path)
        for what, work in (
            ("load", lambda p=path: load_ltl(p)),
            ("load+buchi", lambda p=path: build_buchi(load_ltl(p)[0])),
            ("check", lambda s=spec: check_spec(s, violate=True)),
        ):
            med, lo, hi = timed(args.runs, work)
            print(f"{path.name:14} {what:11} median {med * 1e3:8.2f} ms"
                  f"  (min {lo * 1e3:.2f}, max {hi * 1e3:.2f})")

    spec, _ = load_ltl(PAGEFAULT)
    binding, _ = find_ltl_binding(PAGEFAULT, spec)
    buchi = build_buchi(spec)
    with tempfile.TemporaryDirectory() as tmp:
        trace = Path(tmp) / "trace.jsonl"
        count = synthesize(trace, args.lines)

        def reference() -> None:
            with trace.open() as f:
                for line in f:
                    json.loads(line)

        def monitor() -> None:  # the command's path: the bounded reader, the monitor
            replay(spec, buchi, binding, trace, "text", io.StringIO())

        for what, work in (("json only (reference)", reference), ("replay", monitor)):
            med, lo, hi = timed(args.runs, work)
            print(f"{what:22} {count / med / 1e3:8.1f} k lines/s median"
                  f"  (min {count / hi / 1e3:.1f}, max {count / lo / 1e3:.1f}; {count} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
