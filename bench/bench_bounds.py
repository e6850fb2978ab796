"""Benchmark: what the bounds on input cost, each against a paired reference.

    python bench/bench_bounds.py [--lines 300000] [--runs 7]

1. Reading a trace: hamodel's bounded reader (hamodel/trace/stream.py: read(2) a
   chunk at a time, a line-length limit, located decoding errors) against the
   reader it replaced (Python's text file, `readlines(1 MiB)`, no limit), alone and
   end to end in replay, on the same synthesized file (bench_replay.py's), runs
   interleaved.  Wall and CPU time; median, min and max of RUNS.
2. Loading a model with N repeated edge statements (tlob plus N copies of one
   edge, up to the 256 KiB limit): the time per statement stays flat (the
   duplicate check is a dict look-up), and a file over the limit is refused
   before it is parsed.

Not a test: nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import io
import itertools
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_replay import synthesize  # noqa: E402

from hamodel.binding import find_binding  # noqa: E402
from hamodel.load import MAX_FILE_BYTES, load_model  # noqa: E402
from hamodel.replay import Engine, Reporter, replay_ftrace  # noqa: E402
from hamodel.trace.stream import TraceInput  # noqa: E402

MODEL = ROOT / "models" / "tlob.dot"


def reference_lines(path: Path) -> Iterable[str]:
    """The reader replay used before: text mode, a megabyte of lines at a time."""
    f = path.open(encoding="utf-8-sig", newline="\n")
    return itertools.chain.from_iterable(iter(lambda: f.readlines(1 << 20), []))


def bounded_lines(path: Path) -> Iterable[str]:
    return itertools.chain.from_iterable(TraceInput.open(str(path)).chunks())


def timed(work: Callable[[], object]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    return time.perf_counter() - wall, time.process_time() - cpu


def read_only(lines: Callable[[Path], Iterable[str]], path: Path) -> Callable[[], object]:
    return lambda: sum(1 for _ in lines(path))


def end_to_end(lines: Callable[[Path], Iterable[str]], path: Path) -> Callable[[], object]:
    a, _ = load_model(MODEL)
    binding, _ = find_binding(MODEL, a)

    def work() -> object:
        engine = Engine(a, {}, None, Reporter(io.StringIO(), "jsonl"))
        return replay_ftrace(engine, binding, lines(path))

    return work


def paired(what: str, n: int, runs: int, make: Callable) -> None:
    results: dict[str, list[tuple[float, float]]] = {"reference": [], "bounded": []}
    for _ in range(runs):  # interleaved, so load changes hit both alike
        for name, lines in (("reference", reference_lines), ("bounded", bounded_lines)):
            results[name].append(timed(make(lines)))
    for name, times in results.items():
        wall = [n / w / 1e6 for w, _ in times]
        cpu = [n / c / 1e6 for _, c in times]
        print(f"  {what:<22} {name:<9} wall {statistics.median(wall):.2f} M lines/s "
              f"(min {min(wall):.2f}, max {max(wall):.2f}); CPU "
              f"{statistics.median(cpu):.2f} M lines/s (min {min(cpu):.2f}, max {max(cpu):.2f})")


def flood(copies: int, folder: Path) -> Path:
    text = MODEL.read_text()
    line = '\t"running" -> "waiting" [ label = "preempt" ];\n'
    path = folder / f"flood{copies}.dot"
    path.write_text(text[: text.rindex("}")] + line * copies + "}\n")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=300_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as tmp:
        trace = Path(tmp) / "synth.txt"
        n = synthesize(trace, args.lines)
        print(f"1. reading a {trace.stat().st_size >> 20} MiB trace of {n} lines, {args.runs} "
              "interleaved runs each")
        paired("read only", n, args.runs, lambda lines: read_only(lines, trace))
        paired("replay, end to end", n, args.runs, lambda lines: end_to_end(lines, trace))

        print("2. loading tlob with N repeated edge statements (CPU time, median of 3)")
        for copies in (500, 1000, 2000, 4000, 5400):
            path = flood(copies, Path(tmp))
            secs = statistics.median(timed(lambda p=path: load_model(p))[1] for _ in range(3))
            print(f"  N={copies:<5} {path.stat().st_size >> 10:>4} KiB  {secs:6.2f} s  "
                  f"{secs / copies * 1e6:6.1f} us per statement")
        big = flood(1_000_000, Path(tmp))
        secs = timed(lambda: load_model(big))[1]
        print(f"  N=1000000 {big.stat().st_size >> 20} MiB: refused (limit "
              f"{MAX_FILE_BYTES >> 10} KiB) in {secs * 1e3:.1f} ms CPU")


if __name__ == "__main__":
    main()
