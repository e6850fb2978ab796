"""Build every generated kernel-C monitor in a real kernel tree, as the kernel builds it.

    python3 tests/kernel_build/build_check.py [--only NAME ...]

The tree is Debian's linux-source-6.12 with the newest RV framework laid over
it, prepared by ../shared/kernel/kit-recipe.sh (`tree`: unpack, verify, overlay,
compat patches) under $RVKIT_WORK (default /tmp/rvkit-ci) and reused when it is
there.  This script then

1. generates the monitors: the checked-in generated/<m>/kernel-c/ and every
   upstream model with its binding (models/upstream/<path>.binding.toml);
2. puts each into kernel/trace/rv/monitors/<m>/ the way a maintainer adds one
   (Kconfig source line, rv_trace.h include in its class's section, Makefile
   object), replacing the kernel's own files of the same name;
3. configures $RVKIT_WORK/hamodel (x86_64_defconfig, CONFIG_WERROR, every
   monitor on, KUnit) and builds each monitor object, rv.o, which instantiates
   all their trace events, and rv_monitors_test.o, which includes every
   monitor's KUnit cases (their lines added as `hamodel gen` says), with
   `make W=1 C=1` (gcc's extra warnings as errors, and sparse);
4. runs `scripts/checkpatch.pl --strict` on every generated file.

Every diagnostic fails the check unless tests/kernel_build/findings.py accepts
it, saying why.  Monitors 6.12 cannot build (monitors.NOT_ON_6_12) are
generated and checkpatch'ed, not compiled.  Exit status: 0 clean, 1 findings
or a failed build, 2 a tree that cannot be prepared; without the RV kit
(../shared/kernel) the check is skipped with exit 0, saying so.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # hamodel, run as a script
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # kernel_build

from hamodel.gen.kernel_kunit import Kunit, patch_monitors_test  # noqa: E402
from kernel_build import findings, monitors  # noqa: E402

KIT = monitors.ROOT.parent / "shared" / "kernel"
TARBALL = Path("/usr/src/linux-source-6.12.tar.xz")
RV = Path("kernel/trace/rv")
# Beside what the kit's own `check` enables: the options the monitors' Kconfig
# entries depend on (PREEMPT_TRACER, TRACE_IRQFLAGS through IRQSOFF_TRACER, the
# sched container) and room for every per-task monitor.
CONFIG = ("WERROR FTRACE FUNCTION_TRACER HIGH_RES_TIMERS PREEMPT RV RV_REACTORS KUNIT"
          " RV_MONITORS_KUNIT_TEST UPROBES UPROBE_EVENTS PREEMPT_TRACER IRQSOFF_TRACER"
          " RV_MON_SCHED").split()
PER_TASK_SLOTS = 8


@dataclass(frozen=True, slots=True)
class Monitor:
    name: str
    files: dict[str, str]
    build: bool  # compiled (False: 6.12 lacks what it needs, monitors.NOT_ON_6_12)
    kunit: Kunit | None = None  # its KUnit cases' lines in rv_monitors_test.c


def log(message: str) -> None:
    print(message, flush=True)


def run(cmd: list[str], cwd: Path | None = None, env: dict | None = None,
        check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if check and done.returncode != 0:
        raise BuildError(f"{' '.join(cmd)} failed ({done.returncode}):\n"
                         + (done.stdout + done.stderr)[-4000:])
    return done


class BuildError(RuntimeError):
    """A step that must work did not: the tree, the configuration."""


# --- 1. the monitors ----------------------------------------------------------------


def generated_monitors(only: set[str]) -> list[Monitor]:
    out = []
    for name, folder in monitors.checked_in():
        files = {p.name: p.read_text() for p in sorted(folder.iterdir()) if p.is_file()}
        out.append(Monitor(name, files, name not in monitors.NOT_ON_6_12,
                           monitors.checked_in_kunit(name)))
    for u in monitors.upstream():
        out.append(Monitor(u.name, monitors.generate_upstream(u),
                           u.name not in monitors.NOT_ON_6_12, monitors.upstream_kunit(u)))
    names = [m.name for m in out]
    if len(set(names)) != len(names):
        raise BuildError(f"two monitors share a name: {sorted(names)}")
    unknown = only - set(names)
    if unknown:
        raise BuildError(f"--only: no monitor {', '.join(sorted(unknown))} (known:"
                         f" {', '.join(names)})")
    return [m for m in out if not only or m.name in only]


# --- 2. the tree --------------------------------------------------------------------


def prepared(src: Path) -> bool:
    """kit-recipe.sh `tree` ran to its end: the RV framework is laid over the source and
    the last compat patch (the sched tracepoints) is applied."""
    sched = src / "include/trace/events/sched.h"
    return ((src / "include/rv/ha_monitor.h").is_file() and sched.is_file()
            and "sched_set_state_tp" in sched.read_text(errors="replace"))


def prepare_tree(work: Path) -> Path:
    src = work / "src"
    if prepared(src):
        log(f"tree: reusing {src}")
        return src
    if not TARBALL.is_file():
        raise BuildError(f"{TARBALL} is missing: install linux-source-6.12 (.ci/setup)")
    log(f"tree: kit-recipe.sh tree into {src} (unpack, verify the kit, overlay, patches)")
    started = time.monotonic()
    run(["bash", str(KIT / "kit-recipe.sh"), "tree"], env=dict(os.environ, RVKIT_WORK=str(work)))
    if not prepared(src):
        raise BuildError(f"kit-recipe.sh tree left no prepared tree in {src}")
    log(f"tree: ready in {time.monotonic() - started:.1f} s")
    return src


def class_anchor(kconfig: str) -> str:
    """The rv_trace.h line above which a monitor of this event class is included
    (kit-recipe.sh `check` uses the same anchors)."""
    for select in ("HA_MON_EVENTS_ID", "HA_MON_EVENTS_IMPLICIT", "DA_MON_EVENTS_ID",
                   "LTL_MON_EVENTS_ID"):
        if f"select {select}" in kconfig:
            return f"// Add new monitors based on CONFIG_{select} here"
    return "// Add new monitors based on CONFIG_DA_MON_EVENTS_IMPLICIT here"


def insert_above(path: Path, anchor: str, line: str) -> None:
    text = path.read_text()
    if line in text.splitlines():
        return
    if anchor not in text:
        raise BuildError(f"{path}: no line {anchor!r} to add {line!r} above")
    path.write_text(text.replace(anchor, f"{line}\n{anchor}", 1))


def wire(src: Path, m: Monitor) -> None:
    """Put the monitor's files in the tree and connect them, as a maintainer would."""
    folder = src / RV / "monitors" / m.name
    folder.mkdir(parents=True, exist_ok=True)
    for rel, text in m.files.items():
        (folder / rel).write_text(text)
    insert_above(src / RV / "Kconfig", "# Add new monitors here",
                 f'source "kernel/trace/rv/monitors/{m.name}/Kconfig"')
    insert_above(src / RV / "rv_trace.h", class_anchor(m.files["Kconfig"]),
                 f"#include <monitors/{m.name}/{m.name}_trace.h>")
    obj = f"monitors/{m.name}/{m.name}.o"
    insert_above(src / RV / "Makefile", "# Add new monitors here",
                 f"obj-$(CONFIG_RV_MON_{m.name.upper()}) += {obj}")
    # 6.12 lacks hrtimer_setup() and kmalloc_nolock(), which the framework's headers
    # call: the kit's compile-only mapping, for this object only
    makefile = src / RV / "Makefile"
    if f"CFLAGS_{obj}" not in makefile.read_text():
        insert_above(makefile, "# Add new monitors here",
                     f"CFLAGS_{obj} += -Werror -include {KIT / 'compat/rv_compat_6_12.h'}")
    # its KUnit cases: the #include and KUNIT_CASE() lines `hamodel gen` prints
    tests = src / RV / "rv_monitors_test.c"
    if m.kunit is not None and tests.is_file():
        tests.write_text(patch_monitors_test(tests.read_text(), m.kunit))


# --- 3. configure and build --------------------------------------------------------


def configure(src: Path, out: Path, mons: list[Monitor]) -> None:
    started = time.monotonic()
    if not (out / ".config").is_file():
        out.mkdir(parents=True, exist_ok=True)
        run(["make", "-s", "-C", str(src), f"O={out}", "x86_64_defconfig"])
    symbols = CONFIG + [f"RV_MON_{m.name.upper()}" for m in mons if m.build]
    wanted = {f"CONFIG_{s}=y" for s in symbols} | {
        f"CONFIG_RV_PER_TASK_MONITORS={PER_TASK_SLOTS}"}
    ready = out / "include/generated/autoconf.h"
    if (ready.is_file() and ready.stat().st_mtime >= (out / ".config").stat().st_mtime
            and wanted <= set((out / ".config").read_text().splitlines())):
        log("config: unchanged, tree already prepared")
        return
    args = [a for s in symbols for a in ("-e", s)]
    run([str(src / "scripts/config"), "--file", str(out / ".config"), *args,
         "--set-val", "RV_PER_TASK_MONITORS", str(PER_TASK_SLOTS)])
    run(["make", "-s", "-C", str(src), f"O={out}", "olddefconfig"])
    config = (out / ".config").read_text()
    missing = [s for s in symbols if f"CONFIG_{s}=y" not in config.splitlines()]
    if missing:
        raise BuildError(f"olddefconfig turned off {', '.join(missing)} (Kconfig depends?)")
    run(["make", "-s", "-C", str(src), f"O={out}", f"-j{jobs()}", "prepare"])
    log(f"config: {len(symbols)} options on, tree prepared in {time.monotonic() - started:.1f} s")


def jobs() -> int:
    return int(os.environ.get("RVKIT_JOBS") or os.cpu_count() or 1)


def build(src: Path, out: Path, mons: list[Monitor]) -> tuple[list[str], str, list[str]]:
    """Build each monitor object and rv.o from scratch with W=1 C=1; one job, so each
    diagnostic follows the CC or CHECK line of its file.  Returns the targets, make's
    output and the targets that did not build."""
    targets = [f"{RV}/monitors/{m.name}/{m.name}.o" for m in mons if m.build]
    # rv.o instantiates every monitor's trace events, rv_monitors_test.o every KUnit case
    targets += [f"{RV}/rv.o", f"{RV}/rv_monitors_test.o"]
    for t in targets:
        (out / t).unlink(missing_ok=True)  # sparse checks only what is compiled
    started = time.monotonic()
    done = run(["make", "-C", str(src), f"O={out}", "-j1", "-k", "W=1", "C=1", *targets],
               check=False)
    log(f"build: {len(targets)} objects with W=1 C=1 in {time.monotonic() - started:.1f} s")
    failed = [t for t in targets if not (out / t).is_file()]
    return targets, done.stdout + done.stderr, failed


def checkpatch(src: Path, mons: list[Monitor]) -> tuple[list[findings.Finding], list[str]]:
    """checkpatch.pl --strict on each monitor's files; one run per monitor, since
    checkpatch names some problems (CamelCase) only the first time it meets them."""
    def one(m: Monitor) -> subprocess.CompletedProcess:
        paths = [f"{RV}/monitors/{m.name}/{rel}" for rel in sorted(m.files)]
        return run(["perl", "scripts/checkpatch.pl", "--strict", "--terse", "--show-types",
                    "--no-summary", "--quiet", "-f", *paths], cwd=src, check=False)

    started = time.monotonic()
    found: list[findings.Finding] = []
    noise: list[str] = []
    with ThreadPoolExecutor(jobs()) as pool:
        for done in pool.map(one, mons):  # in monitor order, whatever finishes first
            found += findings.parse_checkpatch(done.stdout)
            noise += findings.unparsed_checkpatch(done.stdout + done.stderr)
    log(f"checkpatch: {len(mons)} monitors in {time.monotonic() - started:.1f} s")
    return found, noise


# --- 4. judge -----------------------------------------------------------------------


def judge(src: Path, mons: list[Monitor], found: list[findings.Finding]
          ) -> tuple[list[tuple[findings.Finding, str]], list[findings.Finding]]:
    """Split findings into accepted (with the reason) and not; only findings in the
    generated files count as the generator's, any other fails too."""
    ours = {f"monitors/{m.name}/{rel}": text for m in mons for rel, text in m.files.items()}
    ok: list[tuple[findings.Finding, str]] = []
    bad: list[findings.Finding] = []
    for f in found:
        key = re.sub(r"^.*?kernel/trace/rv/", "", f.path)
        reason = findings.accepted(f, ours[key]) if key in ours else None
        if reason:
            ok.append((f, reason))
        else:
            bad.append(f)
    return ok, bad


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="build_check.py", description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="+", default=[], metavar="NAME",
                        help="check only these monitors")
    args = parser.parse_args(argv)
    if not (KIT / "kit-recipe.sh").is_file():
        log(f"kernel build check skipped: the RV kit {KIT} is missing")
        return 0
    work = Path(os.environ.get("RVKIT_WORK", "/tmp/rvkit-ci"))
    started = time.monotonic()
    try:
        mons = generated_monitors(set(args.only))
        src = prepare_tree(work)
        for m in mons:
            wire(src, m)
        out = work / "hamodel"
        configure(src, out, mons)
        targets, output, failed = build(src, out, mons)
    except BuildError as exc:
        log(f"error: {exc}")
        return 2
    (work / "hamodel-build.log").write_text(output)
    found = findings.parse_make(output)
    patch_found, patch_noise = checkpatch(src, mons)
    ok, bad = judge(src, mons, found + patch_found)

    for m in mons:
        built = "built" if m.build else f"not built ({monitors.NOT_ON_6_12[m.name]})"
        log(f"{m.name}: {len(m.files)} files, {built}")
    for f, reason in ok:
        log(f"accepted: {f}\n    because {reason}")
    for f in bad:
        log(f"FINDING: {f}")
    for line in patch_noise:
        log(f"FINDING: checkpatch printed: {line}")
    for t in failed:
        log(f"FAILED: {t} did not build (log: {work / 'hamodel-build.log'})")
    n_built = len(targets) - len(failed)
    log(f"kernel build check: {n_built}/{len(targets)} objects built, {len(found)} compiler/"
        f"sparse and {len(patch_found)} checkpatch findings, {len(ok)} accepted,"
        f" {len(bad) + len(patch_noise)} not; {time.monotonic() - started:.1f} s")
    return 1 if failed or bad or patch_noise else 0


if __name__ == "__main__":
    sys.exit(main())
