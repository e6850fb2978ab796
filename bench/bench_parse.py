"""Benchmark: parse + build time and peak memory, and the semantics step rate.

    python bench/bench_parse.py

Prints, for the upstream corpus and for generated models of growing size, the
median of 5 runs of load (parse + build), and the events/s of
hamodel.semantics.Monitor on a random tlob schedule.  Figures only: nothing
here is asserted.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hamodel.load import load_text  # noqa: E402
from hamodel.semantics import Monitor  # noqa: E402


def synthetic(states: int, events: int) -> str:
    """A ring of states; each state has `events` edges to pseudo-random successors."""
    rng = random.Random(states * 31 + events)
    names = [f"s{i:04d}" for i in range(states)]
    lines = [
        "digraph state_automaton {",
        '\t{node [shape = plaintext, style=invis, label=""] "__init_s0000"};',
    ]
    lines += [f'\t{{node [shape = circle] "{n}"}};' for n in names]
    lines.append('\t"__init_s0000" -> "s0000" [ label = "reset(clk)" ];')
    for i, n in enumerate(names):
        lines.append(f'\t"{n}" [label = "{n}\\nclk < 5ms"];')
        dsts: dict[str, list[str]] = {}
        for e in range(events):
            dst = names[(i + 1) % states] if e == 0 else rng.choice(names)
            guard = ";clk < 4ms" if e % 2 else ";reset(clk)"
            dsts.setdefault(dst, []).append(f"ev{e:03d}{guard}")
        for dst, evs in sorted(dsts.items()):
            label = "\\n".join(evs)
            lines.append(f'\t"{n}" -> "{dst}" [ label = "{label}" ];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def measure(text: str, name: str) -> tuple[float, float]:
    times = []
    for _ in range(5):
        start = time.perf_counter()
        a, diags = load_text(text, name, "m")
        times.append(time.perf_counter() - start)
        assert a is not None, [d.message for d in diags if d.is_error][:3]
    tracemalloc.start()
    load_text(text, name, "m")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return statistics.median(times), peak / 2**20


def main() -> None:
    print(f"{'model':<40} {'lines':>7} {'load ms':>9} {'peak MiB':>9}")
    corpus = sorted((ROOT.parent / "shared" / "models" / "upstream").rglob("*.dot"))
    for path in corpus:
        text = path.read_text()
        t, mem = measure(text, str(path))
        print(f"{path.name:<40} {text.count(chr(10)):>7} {t * 1e3:>9.2f} {mem:>9.2f}")
    for states, events in ((10, 5), (100, 10), (1000, 10), (1000, 30)):
        text = synthetic(states, events)
        t, mem = measure(text, "synthetic.dot")
        label = f"synthetic {states} states x {events} events"
        print(f"{label:<40} {text.count(chr(10)):>7} {t * 1e3:>9.2f} {mem:>9.2f}")

    a, _ = load_text((ROOT / "models" / "tlob.dot").read_text(), "tlob.dot")
    rng = random.Random(1)
    rates = []
    for _ in range(5):
        m = Monitor(a, {"BUDGET_NS": 50_000_000})
        nxt = {"running": ("sleep", "preempt"), "sleeping": ("wakeup",), "waiting": ("switch_in",)}
        for obj in range(64):
            m.start(obj, 0)
        t, n = 0, 0
        start = time.perf_counter()
        while n < 200_000:
            t += rng.randint(0, 2000)
            obj = rng.randrange(64)
            state = m.state_of(obj)
            if state is None:
                m.start(obj, t)
            else:
                m.event(obj, t, rng.choice(nxt[state]))
            n += 1
        rates.append(n / (time.perf_counter() - start))
    rate = statistics.median(rates)
    print(f"semantics.Monitor on tlob, 64 tasks: {rate:,.0f} events/s (median of 5)")


if __name__ == "__main__":
    main()
