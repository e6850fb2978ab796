"""Benchmark: what the eBPF tlob monitor costs a context switch, and how long it takes to start.

    sudo python3 bench/bench_ebpf.py [--rounds 24] [--trips 100000] [--hit-pairs 8]
        [--hit-trips 10000] [--against REV|DIR [--compare-pairs 20] [--compare-runs 2]]

A pipe ping-pong between two tasks pinned to one CPU does two context
switches per round trip.  Runs are interleaved (detached; the floor: two
empty tp_btf programs on sched_switch/sched_wakeup, then the same reading the
clock; the monitor with the tasks outside any window, then with both tasks
inside a window) so drift on this shared machine hits every variant alike;
the median of each, and the median of each round's ratio to its own detached
run with a distribution-free 95 % interval (order statistics), are printed.

The cost of each program per hit (`run_time_ns / run_cnt` with
kernel.bpf_stats_enabled, the counters read before and after each run) is
measured in every round on HIT_PAIRS pairs of short ping-pong runs (HIT_TRIPS
round trips, under SCHED_FIFO so that no other task runs on the CPU between the
measured switches), one with the tasks outside any window and one with both
inside one, the order turning at each pair.  The pairs are spread over five
slots, one after each of the round's other runs, each slot on a fresh load of
the program (loaded in this process as `hamodel run` loads it): the co-tenants'
load drifts within seconds, and each load lays the program out anew, so a
round's figure, the median of its runs, averages both.  Printed: the median,
min and max over the rounds, and a distribution-free 95 % interval for the
median (order statistics of the rounds): when its width is under 1 % of the
median, a +1 % change of the program shows.  The floor programs are measured
per hit as well: the clock-only program minus the empty one is what one
bpf_ktime_get_ns costs a hit.  Only the bench's own programs count (by program
id), not another monitor someone runs on the machine at the same time; hits of
other tasks (on the other CPU) do count, under 1 % of them.

With --against, this program and another (a generated tlob eBPF folder, or a git
revision's) are loaded afresh in each of COMPARE_PAIRS pairs of rounds, attached at
the same time and counted over the same per-hit runs; the program attached second
runs second at each hit, which costs it (or saves it) several percent, so each
pair of rounds takes both orders and the square root of the two ratios' product
is the figure (`--against generated/tlob/ebpf`: the program against itself, the
noise).
Load+attach time is what `hamodel run` reports (clang not included), compile
time is measured separately.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hamodel.bpf.elf import resolve  # noqa: E402
from hamodel.bpf.libbpf import BpfObject, Uprobe  # noqa: E402
from hamodel.bpf.records import Meta  # noqa: E402
from hamodel.bpf.toolchain import compile_object  # noqa: E402

GENERATED = ROOT / "generated" / "tlob" / "ebpf"

PINGPONG_C = r"""
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

__attribute__((noinline)) void nop_start(void) { __asm__ volatile("nop" ::: "memory"); }
__attribute__((noinline)) void nop_stop(void) { __asm__ volatile("nop" ::: "memory"); }

int main(int argc, char **argv)
{
	long trips = atol(argv[1]);
	int windowed = atoi(argv[2]), cpu = atoi(argv[3]);
	int a[2], b[2];
	char c = 0;
	cpu_set_t set;
	struct timespec t0, t1;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
	if (pipe(a) || pipe(b))
		return 1;
	if (fork() == 0) {
		if (windowed)
			nop_start();
		for (long i = 0; i < trips; i++) {
			if (read(a[0], &c, 1) != 1 || write(b[1], &c, 1) != 1)
				return 1;
		}
		if (windowed)
			nop_stop();
		return 0;
	}
	if (windowed)
		nop_start();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < trips; i++) {
		if (write(a[1], &c, 1) != 1 || read(b[0], &c, 1) != 1)
			return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (windowed)
		nop_stop();
	wait(NULL);
	printf("%.1f\n", ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / trips / 2);
	return 0;
}
"""


# Two marker pairs: one whose first instruction is a bare `ret`, one starting with a `nop`.
UPROBE_C = r"""
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

__attribute__((noinline)) void ret_start(void) { __asm__ volatile("" ::: "memory"); }
__attribute__((noinline)) void ret_stop(void) { __asm__ volatile("" ::: "memory"); }
__attribute__((noinline)) void nop_start(void) { __asm__ volatile("nop" ::: "memory"); }
__attribute__((noinline)) void nop_stop(void) { __asm__ volatile("nop" ::: "memory"); }

int main(int argc, char **argv)
{
	long n = atol(argv[1]);
	int use_ret = argv[2][0] == 'r';
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < n; i++) {
		if (use_ret) {
			ret_start();
			ret_stop();
		} else {
			nop_start();
			nop_stop();
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("%.1f\n", ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / n / 2);
	return 0;
}
"""


# What attaching costs before the monitor does anything: two empty tp_btf programs
# on the monitor's model tracepoints; the same reading the clock once per run (the
# monitor reads it once per run that finds a monitored task); and the least a
# per-task monitor with ns instants does: look the tasks up in task storage (made
# at the start marker, skipped for tasks without any, as the monitor does) and, when
# one is there, read the clock once and store it.
FLOOR_BPF_C = r"""
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct task_struct {
	void *bpf_storage;
} __attribute__((preserve_access_index));

struct stamp {
	__u64 at;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct stamp);
} stamps SEC(".maps");

__u64 sink;

SEC("tp_btf/sched_switch")
int BPF_PROG(empty_sched_switch) { return 0; }
SEC("tp_btf/sched_wakeup")
int BPF_PROG(empty_sched_wakeup) { return 0; }
SEC("tp_btf/sched_switch")
int BPF_PROG(clock_sched_switch) { sink += bpf_ktime_get_ns(); return 0; }
SEC("tp_btf/sched_wakeup")
int BPF_PROG(clock_sched_wakeup) { sink += bpf_ktime_get_ns(); return 0; }

static __always_inline struct stamp *stamp_of(struct task_struct *t)
{
	if (!t->bpf_storage)
		return 0;
	return bpf_task_storage_get(&stamps, t, 0, 0);
}

SEC("tp_btf/sched_switch")
int BPF_PROG(stored_sched_switch, _Bool preempt, struct task_struct *prev,
					struct task_struct *next)
{
	struct stamp *a = stamp_of(prev), *b = stamp_of(next);
	__u64 now = 0;

	if (a) {
		now = bpf_ktime_get_ns();
		a->at = now;
	}
	if (b)
		b->at = now ? now : bpf_ktime_get_ns();
	return 0;
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(stored_sched_wakeup, struct task_struct *p)
{
	struct stamp *a = stamp_of(p);

	if (a)
		a->at = bpf_ktime_get_ns();
	return 0;
}

SEC("uprobe")
int stored_start(struct pt_regs *ctx)
{
	bpf_task_storage_get(&stamps, bpf_get_current_task_btf(), 0,
					BPF_LOCAL_STORAGE_GET_F_CREATE);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
"""

FLOORS = {"empty progs": "empty", "clock-only progs": "clock", "storage+clock": "stored"}


class Floor:
    """The floor programs `which`_sched_{switch,wakeup} loaded and attached alone (for
    "stored", also its start marker on the ping-pong's nop_start: the ping-pong then
    runs windowed, so both tasks have storage)."""

    def __init__(self, obj: Path, which: str, binary: Path) -> None:
        loaded = {p.get("id") for p in programs(which + "_")}
        self.which = which
        self.windowed = which == "stored"
        self.obj = BpfObject(str(obj))
        try:
            self.obj.load()
            self.obj.attach(f"{which}_sched_switch")
            self.obj.attach(f"{which}_sched_wakeup")
            if self.windowed:
                offset = resolve(str(binary), "nop_start").offset
                self.obj.attach_uprobe(Uprobe("stored_start", str(binary), offset, 0))
        except BaseException:
            self.obj.close()
            raise
        self.ids = frozenset(p["id"] for p in programs(which + "_") if p.get("id") not in loaded)

    def __enter__(self) -> Floor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.obj.close()


def floor_switch_ns(obj: Path, which: str, binary: Path, trips: int, cpu: int) -> float:
    """The ping-pong with only the floor programs `which` attached."""
    with Floor(obj, which, binary) as floor:
        return switch_ns(binary, trips, floor.windowed, cpu)


def floor_per_hit(obj: Path, which: str, binary: Path, trips: int, cpu: int
                  ) -> dict[str, float]:
    """ns per hit of the floor programs `which`_sched_{switch,wakeup}, alone on their
    tracepoints, over one ping-pong run (kernel.bpf_stats_enabled must be on)."""
    with Floor(obj, which, binary) as floor:
        prefix = which + "_"
        before = program_costs(floor.ids, prefix)
        switch_ns(binary, trips, floor.windowed, cpu, fifo=True)
        after = program_costs(floor.ids, prefix)
    return {name: (ns - before.get(name, (0, 0))[0]) / (cnt - before.get(name, (0, 0))[1])
            for name, (ns, cnt) in after.items()
            if cnt > before.get(name, (0, 0))[1] and "_sched_" in name}


def build_c(tmp: Path, name: str, text: str) -> Path:
    src = tmp / f"{name}.c"
    src.write_text(text)
    out = tmp / name
    subprocess.run([shutil.which("gcc") or "clang", "-O2", "-o", str(out), str(src)], check=True)
    return out


def uprobe_cost(tmp: Path, calls: int) -> dict[str, float]:
    """ns per probed marker call, attached minus detached, for `ret` and `nop` first."""
    binary = build_c(tmp, "markers", UPROBE_C)
    out = {}
    for kind in ("ret", "nop"):
        bare = float(subprocess.run([str(binary), str(calls), kind], capture_output=True,
                                    text=True, check=True).stdout)
        run = Attached(binary, f"{kind}_start", f"{kind}_stop")
        probed = float(subprocess.run([str(binary), str(calls), kind], capture_output=True,
                                      text=True, check=True).stdout)
        run.close()
        out[kind] = probed - bare
    return out


def build_pingpong(tmp: Path) -> Path:
    return build_c(tmp, "pingpong", PINGPONG_C)


# The per-hit runs' policy: SCHED_FIFO keeps other tasks off the ping-pong's CPU while
# it runs (they wait at most a run, ~30 ms; the kernel's RT throttling still applies),
# so fewer foreign switches and cache evictions land between the measured hits.
FIFO = ["chrt", "-f", "10"]


def switch_ns(binary: Path, trips: int, windowed: bool, cpu: int, fifo: bool = False) -> float:
    out = subprocess.run(
        [*(FIFO if fifo else []), str(binary), str(trips), "1" if windowed else "0", str(cpu)],
        capture_output=True, text=True, check=True,
    )
    return float(out.stdout)


class Attached:
    """`hamodel run` on the ping-pong binary, budget 1 h (never violated by time; a
    window can still end early, docs/ebpf.md "Observed on this VM")."""

    def __init__(self, binary: Path, start: str = "nop_start", stop: str = "nop_stop",
                 generated: Path = GENERATED) -> None:
        loaded = {p.get("id") for p in programs()}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "hamodel", "run", str(generated), "--binary", str(binary),
             "--start", start, "--stop", stop, "--budget", "3600s"],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        self.load_ms = None
        self.seen = ""  # what the runner printed so far (one line per ended window)
        for line in self.proc.stderr:
            m = re.search(r"(\d+) ms to load and attach", line)
            if m:
                self.load_ms = float(m.group(1))
                os.set_blocking(self.proc.stdout.fileno(), False)  # type: ignore[union-attr]
                # its programs: those loaded while it started (bpftool here names no
                # holder pids)
                self.ids = frozenset(p["id"] for p in programs()
                                     if p.get("id") not in loaded)
                return
        raise SystemExit("hamodel run failed: " + self.proc.stdout.read())

    def ended_windows(self) -> int:
        """How many windows the monitor has reported so far."""
        fd = self.proc.stdout.fileno()  # type: ignore[union-attr]
        while True:
            try:
                chunk = os.read(fd, 1 << 16)
            except BlockingIOError:
                break
            if not chunk:
                break
            self.seen += chunk.decode(errors="replace")
        return self.seen.count(" violated ")

    def close(self) -> str:
        os.set_blocking(self.proc.stdout.fileno(), True)  # type: ignore[union-attr]
        self.proc.send_signal(signal.SIGINT)
        out, _ = self.proc.communicate(timeout=30)
        return self.seen + out


class Loaded:
    """The monitor loaded and attached in this process as `hamodel run` attaches it (one
    window on the ping-pong's markers, budget 1 h), for per-hit runs: it costs a load
    and no runner process, so a round can load it afresh between its other runs, and
    its per-hit runs spread over the round (the co-tenants' load drifts within
    seconds) and over loads (each load lays the program out anew)."""

    def __init__(self, obj_path: Path, meta: Meta, binary: Path) -> None:
        loaded = {p.get("id") for p in programs()}
        self.meta = meta
        self.obj = BpfObject(str(obj_path))
        try:
            self.obj.load()
            budget = struct.pack("<Q", 3600 * 10**9)
            self.obj.update(meta.maps["bindings"], struct.pack("<I", 0), budget)
            for prog in meta.tracepoint_programs:
                self.obj.attach(prog)
            for prog, symbol in ((meta.start_program, "nop_start"),
                                 (meta.stop_program, "nop_stop")):
                offset = resolve(str(binary), symbol).offset
                self.obj.attach_uprobe(Uprobe(prog, str(binary), offset, 0))
        except BaseException:
            self.obj.close()
            raise
        self.ids = frozenset(p["id"] for p in programs() if p.get("id") not in loaded)

    def ended_windows(self) -> int:
        """Windows reported so far (the monitor's `violations` counter)."""
        key = struct.pack("<I", self.meta.counters.index("violations"))
        raw = self.obj.lookup(self.meta.maps["counters"], key, 8)
        return struct.unpack("<Q", raw)[0] if raw else 0

    def close(self) -> None:
        self.obj.close()


def windowed_run(run: Attached, binary: Path, trips: int, cpu: int) -> float | None:
    """The windowed ping-pong; None when a window ended before the run did (its tasks
    were outside a window for part of it)."""
    before = run.ended_windows()
    ns = switch_ns(binary, trips, True, cpu)
    return None if run.ended_windows() > before else ns


def per_hit_costs(run: Attached | Loaded, binary: Path, trips: int, cpu: int, windowed: bool
                  ) -> dict[str, float] | None:
    """ns per hit of each program over one ping-pong run (bpf_stats counters before
    and after); None when a window ended during a windowed run."""
    return per_hit_costs_of([run], binary, trips, cpu, windowed)[0]


def per_hit_costs_of(runs: list[Attached] | list[Loaded], binary: Path, trips: int, cpu: int,
                     windowed: bool) -> list[dict[str, float] | None]:
    """per_hit_costs of monitors attached at the same time, over one ping-pong run
    (each counted by the programs its own runner holds); all None when a window of
    any ended during a windowed run."""
    before_ended = [run.ended_windows() for run in runs]
    before = [program_costs(run.ids) for run in runs]
    switch_ns(binary, trips, windowed, cpu, fifo=True)
    after = [program_costs(run.ids) for run in runs]
    if windowed and any(run.ended_windows() > n for run, n in zip(runs, before_ended,
                                                                   strict=True)):
        return [None] * len(runs)
    outs: list[dict[str, float] | None] = []
    for b, a in zip(before, after, strict=True):
        out = {}
        for name, (ns, cnt) in a.items():
            ns0, cnt0 = b.get(name, (0, 0))
            if cnt > cnt0:
                out[name] = (ns - ns0) / (cnt - cnt0)
        outs.append(out)
    return outs


def median_interval(values: list[float]) -> tuple[float, float]:
    """A distribution-free interval holding the median with at least 95 % confidence:
    the order statistics x(k) and x(n+1-k) for the largest k with
    P(Binomial(n, 1/2) < k) <= 2.5 %; the whole range when n is too small."""
    n = len(values)
    ordered = sorted(values)
    k, tail = 0, 0.0
    while True:
        nxt = tail + math.comb(n, k) / 2 ** n
        if nxt > 0.025:
            break
        tail, k = nxt, k + 1
    k = max(k, 1)
    return ordered[k - 1], ordered[n - k]


def programs(prefix: str = "tlob_") -> list[dict]:
    """bpftool's record of each loaded program whose name starts with `prefix`."""
    out = subprocess.run(["bpftool", "--json", "prog", "show"], capture_output=True, text=True)
    return [p for p in json.loads(out.stdout or "[]") if p.get("name", "").startswith(prefix)]


def program_costs(ids: frozenset[int], prefix: str = "tlob_") -> dict[str, tuple[int, int]]:
    """run_time_ns and run_cnt of the loaded programs `ids` (one monitor's; another
    monitor on the machine must not count), with kernel.bpf_stats_enabled."""
    return {p["name"]: (p["run_time_ns"], p["run_cnt"]) for p in programs(prefix)
            if p.get("id") in ids and p.get("run_cnt")}


def set_stats(on: bool) -> str:
    path = Path("/proc/sys/kernel/bpf_stats_enabled")
    old = path.read_text().strip()
    path.write_text("1" if on else "0")
    return old


def other_program(against: str, tmp: Path) -> Path:
    """A generated tlob eBPF folder: `against` itself, or generated/tlob/ebpf of git
    revision `against`."""
    folder = Path(against)
    if (folder / "tlob.meta.json").is_file():
        return folder
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", against, "generated/tlob/ebpf"],
                             capture_output=True, check=True).stdout
    into = tmp / "against"
    into.mkdir()
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into / "generated" / "tlob" / "ebpf"


def compare(args: argparse.Namespace, binary: Path, cpu: int, this: Path, other: Path,
            tmp: Path) -> list[str]:
    """Per-hit costs of this tree's program and another, both attached at the same time
    and counted over the same ping-pong runs, so the co-tenants' load falls on both
    alike; the program attached second runs second at each hit, which costs it (or
    saves it) several percent, so the order turns every round and each pair of rounds
    takes both.  Many short rounds, each loading both afresh, also average what one
    load's layout costs; a round keeps the median of its runs' ratios.  (Each program
    alone in neighbouring slots was tried too: the load's drift between the slots
    made it noisier here.)"""
    objs = {"this": (this, Meta.read(GENERATED / "tlob.meta.json")),
            "other": (compile_object(other / "tlob.bpf.c", tmp / "other.bpf.o"),
                      Meta.read(other / "tlob.meta.json"))}
    rounds = 2 * args.compare_pairs  # pairs of rounds, one of each order
    ratios: dict[tuple[str, str], list[float | None]] = {}
    for i in range(rounds):
        order = ("this", "other")[:: 1 if i % 2 == 0 else -1]
        mons: dict[str, Loaded] = {}
        per_run: dict[tuple[str, str], list[float]] = {}
        old = set_stats(True)
        try:
            for variant in order:
                mons[variant] = Loaded(*objs[variant], binary)
            for k in range(args.compare_runs):
                for where in ("outside", "inside")[:: 1 if (i // 2 + k) % 2 == 0 else -1]:
                    costs = dict(zip(order, per_hit_costs_of([mons[v] for v in order], binary,
                                                             args.hit_trips, cpu,
                                                             where == "inside"), strict=True))
                    if costs["this"] is None or costs["other"] is None:
                        continue
                    for name in ("tlob_sched_switch", "tlob_sched_wakeup"):
                        if name in costs["this"] and name in costs["other"]:
                            per_run.setdefault((name, where), []).append(
                                costs["other"][name] / costs["this"][name])
        finally:
            set_stats(old == "1")
            for mon in mons.values():
                mon.close()
        for key in {*ratios, *per_run}:
            row = ratios.setdefault(key, [None] * rounds)
            row[i] = statistics.median(per_run[key]) if per_run.get(key) else None
    lines = [f"  {args.against} against this tree, both attached, per hit, {rounds} rounds of "
             f"{args.compare_runs} runs each way: ratio other/this (the two orders of a pair "
             "of rounds multiplied, square root), median (min..max), 95 % interval of the "
             "median"]
    for key in sorted(ratios):
        row = ratios[key]
        # Rounds 2k and 2k+1 run the two programs in both orders: their product
        # cancels what going first or second costs.
        balanced = [math.sqrt(a * b) for a, b in zip(row[::2], row[1::2], strict=False)
                    if a is not None and b is not None]
        if len(balanced) < 2:
            lines.append(f"  {key[0]:24s} {key[1]:7s} too few rounds with both windows whole")
            continue
        low, high = median_interval(balanced)
        lines.append(f"  {key[0]:24s} {key[1]:7s} {statistics.median(balanced):.4f} "
                     f"({min(balanced):.4f}..{max(balanced):.4f})  [{low:.4f}, {high:.4f}]  "
                     f"{len(balanced)} pairs of rounds")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=24)
    parser.add_argument("--against", metavar="REV|DIR",
                        help="also compare the per-hit cost with another program, round by "
                        "round: a generated tlob eBPF folder or a git revision's "
                        "(`--against generated/tlob/ebpf`: this program against itself, the "
                        "noise of the comparison)")
    parser.add_argument("--trips", type=int, default=100_000)
    parser.add_argument("--calls", type=int, default=20_000, help="marker calls (uprobe cost)")
    parser.add_argument("--hit-pairs", type=int, default=8,
                        help="per round, pairs of per-hit runs (outside / inside a window)")
    parser.add_argument("--hit-trips", type=int, default=10_000,
                        help="round trips of one per-hit run")
    parser.add_argument("--compare-pairs", type=int, default=20,
                        help="with --against: pairs of rounds (one of each attaching order)")
    parser.add_argument("--compare-runs", type=int, default=2,
                        help="with --against: per-hit runs each way in a round")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("bench_ebpf: needs root", file=sys.stderr)
        return 2
    cpu = max(os.sched_getaffinity(0))
    results: dict[str, list[float | None]] = {
        "detached": [], **{name: [] for name in FLOORS}, "attached": [], "attached+window": [],
    }
    load_ms: list[float] = []
    per_hit: dict[tuple[str, str], list[float]] = {}  # (program, where) -> ns per hit
    notes: list[str] = []
    dropped = 0  # windowed runs left out: a window ended during them
    with tempfile.TemporaryDirectory() as tmp:
        binary = build_pingpong(Path(tmp))
        t0 = time.monotonic()
        obj = compile_object(GENERATED / "tlob.bpf.c", Path(tmp) / "tlob.bpf.o")
        compile_ms = (time.monotonic() - t0) * 1e3
        floor_src = Path(tmp) / "floor.bpf.c"
        floor_src.write_text(FLOOR_BPF_C)
        floor_obj = compile_object(floor_src, Path(tmp) / "floor.bpf.o")
        switch_ns(binary, args.trips // 10, False, cpu)  # warm up
        meta = Meta.read(GENERATED / "tlob.meta.json")
        pairs_done = 0
        slots = len(FLOORS) + 2  # per-hit slots of a round, between its other runs

        def hit_slot(samples: dict[tuple[str, str], list[float]], pairs: int) -> None:
            """`pairs` pairs of per-hit runs on a fresh load, outside a window and inside
            one, the order turning at each pair."""
            nonlocal pairs_done, dropped
            if not pairs:
                return
            mon = Loaded(obj, meta, binary)
            old = set_stats(True)
            try:
                for _ in range(pairs):
                    for where in ("outside", "inside")[:: 1 if pairs_done % 2 == 0 else -1]:
                        hits = per_hit_costs(mon, binary, args.hit_trips, cpu, where == "inside")
                        if hits is None:
                            dropped += 1
                            continue
                        for name, ns in hits.items():
                            samples.setdefault((name, where), []).append(ns)
                    pairs_done += 1
            finally:
                set_stats(old == "1")
                mon.close()

        for i in range(args.rounds):
            # The order turns every round, so drift does not favour one variant.  The
            # per-hit runs sit between the other runs, each slot on a fresh load; a
            # round keeps the median of its per-hit runs.
            samples: dict[tuple[str, str], list[float]] = {}
            share = [args.hit_pairs // slots + (k < args.hit_pairs % slots) for k in range(slots)]
            attached_order = ("attached", "attached+window")[:: 1 if i % 2 == 0 else -1]
            if i % 2 == 0:
                results["detached"].append(switch_ns(binary, args.trips, False, cpu))
                hit_slot(samples, share.pop())
            for name in list(FLOORS)[:: 1 if i % 2 == 0 else -1]:
                results[name].append(
                    floor_switch_ns(floor_obj, FLOORS[name], binary, args.trips, cpu)
                )
                hit_slot(samples, share.pop())
            run = Attached(binary)
            load_ms.append(run.load_ms or 0.0)
            for variant in attached_order:
                if variant == "attached+window":
                    results[variant].append(windowed_run(run, binary, args.trips, cpu))
                else:
                    results[variant].append(switch_ns(binary, args.trips, False, cpu))
            summary = run.close()
            if "0 violated" not in summary:
                notes.append(summary.strip().splitlines()[0])
            hit_slot(samples, share.pop())
            # The floor programs alone, per hit.
            old = set_stats(True)
            try:
                for name in list(FLOORS)[:: 1 if i % 2 == 0 else -1]:
                    for _ in range(max(1, args.hit_pairs // 8)):
                        hits = floor_per_hit(floor_obj, FLOORS[name], binary, args.hit_trips,
                                             cpu)
                        for prog, ns in hits.items():
                            samples.setdefault((prog, "alone"), []).append(ns)
            finally:
                set_stats(old == "1")
            if i % 2 == 1:
                results["detached"].append(switch_ns(binary, args.trips, False, cpu))
                hit_slot(samples, share.pop())
            for key, values in samples.items():
                per_hit.setdefault(key, []).append(statistics.median(values))
        costs = uprobe_cost(Path(tmp), args.calls)
        compared = []
        if args.against:
            compared = compare(args, binary, cpu, obj, other_program(args.against, Path(tmp)),
                               Path(tmp))
    base = statistics.median(v for v in results["detached"] if v is not None)
    print(
        f"pipe ping-pong on CPU {cpu}, {args.trips} round trips x {args.rounds} "
        "interleaved rounds"
    )
    for name, values in results.items():
        kept = [v for v in values if v is not None]
        med = statistics.median(kept)
        print(
            f"  {name:16s} median {med:7.1f} ns/switch  ({(med / base - 1) * 100:+5.1f} %, "
            f"{med - base:+6.1f} ns)  runs: {', '.join(f'{v:.0f}' for v in kept)}"
        )
    # Paired: each round's attached run against the same round's detached run.
    for name in (*FLOORS, "attached", "attached+window"):
        ratios = [a / d - 1 for a, d in zip(results[name], results["detached"], strict=True)
                  if a is not None]
        low, high = median_interval(ratios)
        print(f"  {name:16s} paired median {statistics.median(ratios) * 100:+5.1f} % per round"
              f" ({len(ratios)} rounds), 95 % interval [{low * 100:+.1f}, {high * 100:+.1f}] %")
    left_out = sum(v is None for v in results["attached+window"])
    if left_out or dropped:
        print(f"  left out: {left_out} windowed ping-pong run(s) and {dropped} windowed per-hit"
              " run(s) in which a window ended early (docs/ebpf.md, Observed on this VM)")
    print(f"  per hit (bpf_stats), {args.rounds} rounds of {args.hit_pairs} runs each way "
          f"({args.hit_trips} round trips a run; the floor programs alone: "
          f"{max(1, args.hit_pairs // 8)}): median (min..max) of the rounds' medians, 95 % "
          "interval of the median and its width")
    for (name, where), values in sorted(per_hit.items()):
        med = statistics.median(values)
        low, high = median_interval(values)
        print(f"  {name:24s} {where:7s} {med:6.1f} ns ({min(values):.1f}..{max(values):.1f})"
              f"  [{low:.1f}, {high:.1f}] {(high - low) / med * 100:4.1f} %")
    clock = [c - e for c, e in zip(per_hit.get(("clock_sched_switch", "alone"), []),
                                   per_hit.get(("empty_sched_switch", "alone"), []), strict=False)]
    if clock:
        low, high = median_interval(clock)
        print(f"  bpf_ktime_get_ns per hit (clock-only minus empty sched_switch, per round): "
              f"{statistics.median(clock):.1f} ns ({min(clock):.1f}..{max(clock):.1f})"
              f"  [{low:.1f}, {high:.1f}]")
    print(f"  clang compile of tlob.bpf.c: {compile_ms:.0f} ms")
    print(f"  load+attach (hamodel run): median {statistics.median(load_ms):.0f} ms")
    print(
        f"  uprobe cost per marker hit (start or stop): first instruction `ret` "
        f"{costs['ret'] / 1e3:.1f} us, `nop` {costs['nop'] / 1e3:.1f} us"
    )
    print("\n".join(compared))
    for note in notes:
        # A window ending early is the model's verdict on the events the kernel gave
        # (docs/ebpf.md: a switch-in missing from the sched_switch stream).
        print(f"  note: {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
