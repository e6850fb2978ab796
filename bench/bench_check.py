"""Benchmark `hamodel check`: wall time and peak Python memory per model.

Run on demand:  python bench/bench_check.py [--quick] [--upto N]
Corpus: the upstream models and tlob variants in ../shared/models, then
generated models (states x events x clocks) up to 1000 states.  Prints a table;
nothing here asserts a time.
"""

from __future__ import annotations

import argparse
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


def measure(a, diags) -> tuple[float, float, float, int, int, int]:
    """Whole check (s), exploration alone (s), peak MiB, zone nodes, findings, witnesses."""
    options = Options(timeout_s=600)
    configs, _ = configurations(a, {})
    # both same-instant orders when there is a timer, as the check explores them
    ties = [Tie.EVENT_FIRST, Tie.TIMER_FIRST] if any(s.invariant for s in a.states) else [
        Tie.EVENT_FIRST]
    t0 = time.perf_counter()
    nodes = 0
    for tie in ties:
        platform = Platform(tie=tie)
        platform = Platform(tie=tie, timer=platform_timer(a, platform))
        nodes += sum(len(explore(a, params, platform, budget_s=600).nodes)
                     for _, params in configs)
    explore_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    report = check_automaton(a, options, diags)
    elapsed = time.perf_counter() - t0
    tracemalloc.start()
    check_automaton(a, options, diags)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    witnesses = sum(1 for f in report.findings if f.witness is not None)
    return elapsed, explore_s, peak / 2**20, nodes, len(report.findings), witnesses


def row(name: str, a, figures) -> str:
    el, ex, mem, nodes, n, w = figures
    return (f"{name:<32} {len(a.states):>6} {len(a.edges):>6} {len(a.clocks):>3} {nodes:>7}"
            f" {ex * 1000:>9.1f} {el * 1000:>9.1f} {mem:>8.2f} {n:>8} {w:>5}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="stop the scaling series at 100 states")
    ap.add_argument("--upto", type=int, default=1000, help="stop the scaling series at N states")
    args = ap.parse_args()
    print(f"{'model':<32} {'states':>6} {'edges':>6} {'clk':>3} {'nodes':>7} {'zones ms':>9}"
          f" {'check ms':>9} {'peak MiB':>8} {'findings':>8} {'witn.':>5}")
    paths = sorted(SHARED.glob("upstream/**/*.dot")) + sorted(SHARED.glob("tlob-proposal/*.dot"))
    for path in paths:
        a, diags = load_model(path)
        if a is None:
            continue
        print(row(str(path.relative_to(SHARED)), a, measure(a, diags)), flush=True)
    sizes = [(10, 2, 1), (10, 3, 2), (100, 2, 1), (100, 3, 2), (300, 3, 2), (1000, 2, 1),
             (1000, 3, 2)]
    limit = 100 if args.quick else args.upto
    sizes = [s for s in sizes if s[0] <= limit]
    for states, events, clocks in sizes:
        a, diags = load_text(scaling_model(states, events, clocks), f"gen_{states}.dot")
        assert a is not None, diags
        name = f"generated {states}x{events}x{clocks}"
        print(row(name, a, measure(a, diags)), flush=True)


if __name__ == "__main__":
    main()
