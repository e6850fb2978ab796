"""Benchmark: how long `hamodel` takes to start, against a bare interpreter.

    python bench/bench_startup.py [--runs 15] [--reference REV]

Each round runs, in a fresh process and in this order, a bare interpreter
(`python -c pass`, the same interpreter and environment), `hamodel --help`,
`hamodel show models/tlob.dot`, `hamodel check models/tlob.dot`, and the same
check's own work measured inside one process after its imports (load, build,
check: what no start-up can save).  Then, when ../shared has the kernel's 13
models, `gen --target kernel-c` of all of them: one process for the 13 (their
bindings from models/upstream/ through --binding-dir) against 13 processes of
one model each, the times of the 13 summed.  Printed: median, min and max of the runs,
in wall time and in CPU time (user + system of the child), and each command's
per-round ratio to the bare interpreter of the same round, so load from other
users of the machine falls on both alike.  With --reference, the commands of
git revision REV (`git archive`d into a temporary directory) run in the same
rounds.  Every child reads compiled byte-code, as an installed hamodel does (see
PYCACHE below).  Not a test: nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODEL = "models/tlob.dot"
UPSTREAM = ROOT.parent / "shared" / "models" / "upstream"

# The check's own work, after every import it needs: what start-up cannot save.
OWN_WORK = """
import sys, time
from hamodel.check.command import add_parser  # the command's imports
from hamodel.check import Options, check_automaton
from hamodel.load import load_model
t0, c0 = time.perf_counter(), time.process_time()
a, _ = load_model(sys.argv[1])
check_automaton(a, Options())
print(time.perf_counter() - t0, time.process_time() - c0)
"""


# Byte-code: an installed hamodel has its modules compiled (pip does it), so the
# children read theirs from one cache made by a warm-up round, even where the
# environment says PYTHONDONTWRITEBYTECODE (compiling every module at each start
# would add tens of milliseconds that no user pays).
PYCACHE = tempfile.mkdtemp(prefix="hamodel-bench-pycache-")


def timed(argv: list[str], tree: Path) -> tuple[float, float, str]:
    """Wall and CPU seconds of one child process, and its standard output."""
    env = dict(os.environ, PYTHONPATH=str(tree), PYTHONPYCACHEPREFIX=PYCACHE)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=tree, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    out = proc.stdout.read() if proc.stdout else b""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(argv)}: exit {proc.returncode}")
    return wall, usage.ru_utime + usage.ru_stime, out.decode()


def commands(tree: Path) -> dict[str, list[str]]:
    py = sys.executable
    return {
        "hamodel --help": [py, "-m", "hamodel", "--help"],
        f"hamodel show {MODEL}": [py, "-m", "hamodel", "show", MODEL],
        f"hamodel check {MODEL}": [py, "-m", "hamodel", "check", MODEL],
    }


def gen_many(out: Path) -> tuple[list[str], list[list[str]]]:
    """The argv of one `gen` of the 13 upstream models, and of 13 gens of one each."""
    models = sorted(UPSTREAM.rglob("*.dot"))
    folders = sorted({str(ROOT / "models" / "upstream" / m.parent.relative_to(UPSTREAM))
                      for m in models})
    base = [sys.executable, "-m", "hamodel", "gen", "--target", "kernel-c"]
    one = base + [str(m) for m in models] + ["--into", str(out / "one")]
    for folder in folders:
        one += ["--binding-dir", folder]
    each = [base + [str(m), "--binding", str(ROOT / "models" / "upstream" /
                                             m.relative_to(UPSTREAM).with_suffix("")) +
                    ".binding.toml", "-o", str(out / "each" / m.stem)]
            for m in models]
    return one, each


def export(rev: str, into: Path) -> Path:
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev], capture_output=True,
                             check=True).stdout
    into.mkdir()
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def spread(values: list[float], unit: str = "ms", scale: float = 1e3) -> str:
    return (f"{statistics.median(values) * scale:7.1f} {unit} "
            f"({min(values) * scale:.1f}..{max(values) * scale:.1f})")


def ratio_spread(values: list[float]) -> str:
    return f"{statistics.median(values):5.2f}x ({min(values):.2f}..{max(values):.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--reference", metavar="REV",
                        help="also run the commands of git revision REV in each round")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs; "
          f"{args.runs} rounds; {sys.executable}")
    with tempfile.TemporaryDirectory() as tmp:
        trees = {"": ROOT}
        if args.reference:
            trees[f" [{args.reference}]"] = export(args.reference, Path(tmp) / "reference")
        bare = [sys.executable, "-c", "pass"]
        wall: dict[str, list[float]] = {}
        cpu: dict[str, list[float]] = {}
        ratio_wall: dict[str, list[float]] = {}
        ratio_cpu: dict[str, list[float]] = {}
        for tree in trees.values():  # warm-up: fills the byte-code cache
            for argv in commands(tree).values():
                timed(argv, tree)
            timed([sys.executable, "-c", OWN_WORK, MODEL], tree)
        for _ in range(args.runs):
            base_wall, base_cpu, _ = timed(bare, ROOT)
            wall.setdefault("python -c pass", []).append(base_wall)
            cpu.setdefault("python -c pass", []).append(base_cpu)
            for suffix, tree in trees.items():
                for title, argv in commands(tree).items():
                    w, c, _ = timed(argv, tree)
                    key = title + suffix
                    wall.setdefault(key, []).append(w)
                    cpu.setdefault(key, []).append(c)
                    ratio_wall.setdefault(key, []).append(w / base_wall)
                    ratio_cpu.setdefault(key, []).append(c / base_cpu)
                _, _, out = timed([sys.executable, "-c", OWN_WORK, MODEL], tree)
                own_wall, own_cpu = map(float, out.split())
                key = f"check's own work (in process){suffix}"
                wall.setdefault(key, []).append(own_wall)
                cpu.setdefault(key, []).append(own_cpu)
        if UPSTREAM.is_dir():
            one, each = gen_many(Path(tmp) / "gen")
            timed(one, ROOT)
            for _ in range(args.runs):
                base_wall, base_cpu, _ = timed(bare, ROOT)
                w1, c1, _ = timed(one, ROOT)
                runs = [timed(argv, ROOT) for argv in each]
                wn, cn = sum(r[0] for r in runs), sum(r[1] for r in runs)
                for key, w, c in (("gen 13 upstream models, one process", w1, c1),
                                  ("gen 13 upstream models, 13 processes", wn, cn)):
                    wall.setdefault(key, []).append(w)
                    cpu.setdefault(key, []).append(c)
                ratio_wall.setdefault("13 processes / one", []).append(wn / w1)
                ratio_cpu.setdefault("13 processes / one", []).append(cn / c1)
                wall.setdefault("13 processes / one", [])
                cpu.setdefault("13 processes / one", [])
        else:
            print(f"note: {UPSTREAM} is absent: no gen figure")
        width = max(map(len, wall))
        print(f"{'':{width}}  {'wall: median (min..max)':>28}  {'CPU':>26}  "
              f"{'wall / bare':>22}  {'CPU / bare':>22}")
        for key in wall:
            rw = ratio_spread(ratio_wall[key]) if key in ratio_wall else ""
            rc = ratio_spread(ratio_cpu[key]) if key in ratio_cpu else ""
            w = spread(wall[key]) if wall[key] else ""
            c = spread(cpu[key]) if cpu[key] else ""
            print(f"{key:{width}}  {w:>28}  {c:>26}  {rw:>22}  {rc:>22}")
    shutil.rmtree(PYCACHE, ignore_errors=True)


if __name__ == "__main__":
    main()
