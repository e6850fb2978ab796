"""Benchmark `hamodel check`: time and memory per model, growth, and TChecker beside it.

Run on demand:  python bench/bench_check.py [--quick] [--upto N] [--rounds R] [--tck-dir DIR]
                                           [--exploration-only] [--no-tchecker]

1. the upstream models and tlob variants in ../shared/models, then generated
   ring-with-chords models (states x events x clocks): the whole check (median
   of R runs, with min and max), the exploration alone, peak Python heap;
2. the ring of N states (one clock, an invariant in every state, edges with and
   without a reset) for N = 100 ... 3000: the whole check, and the exponent of a
   least-squares fit of log(time) on log(N);
3. the zone exploration of the generated models (one same-instant order) beside
   TChecker's on the same automata: the `.tck` files (`hamodel export --format
   tchecker`) are written to DIR, and when a `tck-reach` is on PATH it explores
   each (`-a covreach -s bfs`, its own RUNNING_TIME_SECONDS) in the same run.
`--exploration-only` prints table 3 alone (e.g. to time an older checker beside
the same TChecker runs: copy this script into its tree).
Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import shutil
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hamodel.check import Options, check_automaton  # noqa: E402
from hamodel.check.params import configurations  # noqa: E402
from hamodel.check.timing import platform_timer  # noqa: E402
from hamodel.check.zones import explore  # noqa: E402
from hamodel.load import load_model, load_text  # noqa: E402
from hamodel.semantics import Platform, Tie  # noqa: E402

SHARED = ROOT.parent / "shared" / "models"
SIZES = [(10, 2, 1), (10, 3, 2), (100, 2, 1), (100, 3, 2), (300, 3, 2), (1000, 2, 1),
         (1000, 3, 2)]
RING = [100, 300, 1000, 3000]


def scaling_model(states: int, events: int, clocks: int, invariant_every: int = 3) -> str:
    """A ring with chords: each state has one edge per event, guards and resets on clocks.

    Every `invariant_every`-th state has an invariant; edges alternate lower and
    upper bounds, so the zone graph is not the untimed graph.
    """
    names = [f"s{i}" for i in range(states)]
    clk = [f"c{k}" for k in range(clocks)]
    lines = [
        "digraph state_automaton {",
        '\t{node [shape = plaintext, style=invis, label=""] "__init_s0"};',
        '\t{node [shape = doublecircle] "s0"};',
    ]
    lines += [f'\t{{node [shape = circle] "{n}"}};' for n in names[1:]]
    init = ";".join(f"reset({c})" for c in clk)
    arrow = '\t"__init_s0" -> "s0"'
    lines.append(f'{arrow} [ label = "{init}" ];' if clk else f"{arrow};")
    for i, n in enumerate(names):
        if clk and i % invariant_every == 0:
            lines.append(f'\t"{n}" [label = "{n}\\n{clk[i % clocks]} < {5 + i % 7}ms"];')
        else:
            lines.append(f'\t"{n}" [label = "{n}"];')
        for j in range(events):
            dst = names[(i + j + 1) % states]
            label = f"e{j}"
            if clk:
                c = clk[(i + j) % clocks]
                op = ">" if (i + j) % 2 else "<"
                label += f";{c} {op} {1 + (i * 7 + j) % 9}ms"
                if j % 2 == 0:
                    label += f";reset({clk[(i + 2 * j) % clocks]})"
            lines.append(f'\t"{n}" -> "{dst}" [ label = "{label}" ];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def ring_model(states: int) -> str:
    """The ring of the issue: one clock, an invariant in every state, edges with and
    without a reset."""
    return scaling_model(states, 2, 1, invariant_every=1)


def spread(values: list[float], scale: float = 1000.0) -> str:
    """median [min-max], scaled (ms by default)."""
    med = statistics.median(values) * scale
    return f"{med:9.1f} [{min(values) * scale:.1f}-{max(values) * scale:.1f}]"


def timed(fn, rounds: int) -> tuple[list[float], object]:
    times, result = [], None
    for _ in range(rounds):
        result = None  # the previous round's result is freed before the clock starts
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return times, result


def measure(a, diags, rounds: int):
    """Whole check (s, per round), exploration alone (s, per round), peak MiB, zone
    nodes, findings, witnesses."""
    options = Options(timeout_s=600)
    configs, _ = configurations(a, {})
    # both same-instant orders when there is a timer, as the check explores them
    ties = [Tie.EVENT_FIRST, Tie.TIMER_FIRST] if any(s.invariant for s in a.states) else [
        Tie.EVENT_FIRST]

    def exploration() -> int:
        nodes = 0
        for tie in ties:
            platform = Platform(tie=tie)
            platform = Platform(tie=tie, timer=platform_timer(a, platform))
            nodes += sum(len(explore(a, params, platform, budget_s=600).nodes)
                         for _, params in configs)
        return nodes

    explore_s, nodes = timed(exploration, rounds)
    check_s, report = timed(lambda: check_automaton(a, options, diags), rounds)
    tracemalloc.start()
    check_automaton(a, options, diags)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    witnesses = sum(1 for f in report.findings if f.witness is not None)
    return check_s, explore_s, peak / 2**20, nodes, len(report.findings), witnesses


def row(name: str, a, figures) -> str:
    el, ex, mem, nodes, n, w = figures
    return (f"{name:<32} {len(a.states):>6} {len(a.edges):>6} {len(a.clocks):>3} {nodes:>7}"
            f" {statistics.median(ex) * 1000:>9.1f} {spread(el):>24} {mem:>8.2f} {n:>8}"
            f" {w:>5}")


def fit_exponent(points: list[tuple[int, float]]) -> float:
    """The slope of log(time) against log(N), least squares."""
    xs = [math.log(n) for n, _ in points]
    ys = [math.log(t) for _, t in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mx) ** 2 for x in xs)


def tck_reach(path: Path, rounds: int) -> tuple[int, list[float]] | None:
    """TChecker's visited states and its own running times on the file, or None."""
    exe = shutil.which("tck-reach")
    if exe is None:
        return None
    states, times = 0, []
    for _ in range(rounds):
        done = subprocess.run([exe, "-a", "covreach", "-s", "bfs", str(path)],
                              capture_output=True, text=True, timeout=600, check=True)
        stats = dict(line.split(None, 1) for line in done.stdout.splitlines() if " " in line)
        states = int(stats["VISITED_STATES"])
        times.append(float(stats["RUNNING_TIME_SECONDS"]))
    return states, times


def compare_with_tchecker(models: list[tuple[str, str]], rounds: int, where: Path) -> None:
    from hamodel.export.tchecker import render, translate

    where.mkdir(parents=True, exist_ok=True)
    print(f"\nzone exploration, one order (event-first), beside TChecker on the same automata"
          f" ({where}/*.tck)")
    print(f"{'model':<24} {'nodes':>7} {'explore ms':>24} {'nodes/s':>9}  {'tck states':>10}"
          f" {'tck ms':>22} {'states/s':>9}  {'rate ratio':>10} {'time ratio':>10}")
    for name, text in models:
        a, _ = load_text(text, f"{name}.dot")
        assert a is not None
        base = Platform(tie=Tie.EVENT_FIRST)
        platform = dataclasses.replace(base, timer=platform_timer(a, base))
        path = where / f"{name}.tck"
        path.write_text(render(translate(a, {}, platform)))
        times, g = timed(lambda a=a, p=platform: explore(a, {}, p, budget_s=600), rounds)
        nodes = len(g.nodes)
        rate = nodes / statistics.median(times)
        line = f"{name:<24} {nodes:>7} {spread(times):>24} {rate:>9.0f}"
        tck = tck_reach(path, rounds)
        if tck is not None:
            states, tck_times = tck
            tck_rate = states / statistics.median(tck_times)
            line += (f"  {states:>10} {spread(tck_times):>22} {tck_rate:>9.0f}"
                     f"  {tck_rate / rate:>9.1f}x"
                     f" {statistics.median(times) / statistics.median(tck_times):>9.1f}x")
        else:
            line += "  (no tck-reach on PATH)"
        print(line, flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true",
                    help="stop the scaling series at 100 states and the ring at 300")
    ap.add_argument("--upto", type=int, default=3000, help="stop both series at N states")
    ap.add_argument("--rounds", type=int, default=3, help="runs per figure (median, min, max)")
    ap.add_argument("--tck-dir", type=Path, default=ROOT / "out" / "bench-tck",
                    help="where the TChecker translations are written")
    ap.add_argument("--no-tchecker", action="store_true",
                    help="skip part 3 (e.g. to time a checker from before `hamodel export`)")
    ap.add_argument("--exploration-only", action="store_true",
                    help="print part 3 alone (the exploration beside TChecker)")
    args = ap.parse_args()
    rounds = max(1, args.rounds)
    limit = 100 if args.quick else args.upto
    if args.exploration_only:
        compare_with_tchecker(
            [(f"gen_{s}x{e}x{c}", scaling_model(s, e, c)) for s, e, c in SIZES if s <= limit]
            + [(f"ring_{n}", ring_model(n))
               for n in RING if n <= (300 if args.quick else args.upto)],
            rounds, args.tck_dir)
        return
    print(f"{'model':<32} {'states':>6} {'edges':>6} {'clk':>3} {'nodes':>7} {'zones ms':>9}"
          f" {'check ms [min-max]':>24} {'peak MiB':>8} {'findings':>8} {'witn.':>5}")
    paths = sorted(SHARED.glob("upstream/**/*.dot")) + sorted(SHARED.glob("tlob-proposal/*.dot"))
    for path in paths:
        a, diags = load_model(path)
        if a is None:
            continue
        print(row(str(path.relative_to(SHARED)), a, measure(a, diags, rounds)), flush=True)
    generated: list[tuple[str, str]] = []
    for states, events, clocks in [s for s in SIZES if s[0] <= limit]:
        text = scaling_model(states, events, clocks)
        a, diags = load_text(text, f"gen_{states}.dot")
        assert a is not None, diags
        print(row(f"generated {states}x{events}x{clocks}", a, measure(a, diags, rounds)),
              flush=True)
        generated.append((f"gen_{states}x{events}x{clocks}", text))
    print(f"\nring of N states (one clock, an invariant in every state): whole check, {rounds}"
          " runs")
    print(f"{'N':>6} {'nodes':>7} {'check ms [min-max]':>24} {'findings':>8}"
          f" {'witness events':>14}")
    points = []
    for n in [n for n in RING if n <= (300 if args.quick else args.upto)]:
        text = ring_model(n)
        a, diags = load_text(text, f"ring_{n}.dot")
        assert a is not None, diags
        check_s, explore_s, _, nodes, findings, _ = measure(a, diags, rounds)
        report = check_automaton(a, Options(timeout_s=600), diags)
        events = sum(len(f.witness.events) for f in report.findings if f.witness)
        print(f"{n:>6} {nodes:>7} {spread(check_s):>24} {findings:>8} {events:>14}",
              flush=True)
        points.append((n, statistics.median(check_s)))
        generated.append((f"ring_{n}", text))
    if len(points) > 1:
        print(f"growth: time ~ N^{fit_exponent(points):.2f} (least squares over"
              f" N = {points[0][0]}..{points[-1][0]})")
    if not args.no_tchecker:
        compare_with_tchecker(generated, rounds, args.tck_dir)


if __name__ == "__main__":
    main()
