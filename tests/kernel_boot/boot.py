"""Boot a small kernel with hamodel's generated monitors built in, and capture what they do.

    python3 tests/kernel_boot/boot.py [--force]

The tree is the one tests/kernel_build/build_check.py prepares (Debian's
linux-source-6.12 with the newest RV framework and the kit's compat patches,
under $RVKIT_WORK, default /tmp/rvkit-ci).  The generated tlob (models/tlob.dot
with its binding), stall (the upstream model with models/upstream/stall.
binding.toml, in place of the kernel's own stall) and pagefault (the LTL spec,
in place of the kernel's own; the kernel's rv_test_pagefault drives it) are
wired into it; a
tinyconfig kernel with tracing, RV, uprobes and KUnit is built in
$RVKIT_WORK/hamodel-boot, and rebuilt only when the generated sources, the
configuration or this script change.  qemu (TCG) boots it with a busybox
initramfs whose /init (init.sh here):

1. lets KUnit run the RV suites at boot (`kunit.enable=1`);
2. waits for the tsc clocksource (on the jiffies clocksource a 2 ms timer
   cannot fire in time);
3. binds tlob to the marker functions of jobs.c with the monitor's own
   tracefs file, records the sched events, the marker uprobes and every rv
   event while 20 jobs run (the odd ones over their 2 ms budget), and dumps
   the trace buffer;
4. enables stall with a one-jiffy threshold under four busy loops and dumps
   the trace again.

The console goes to $RVKIT_WORK/hamodel-boot/console.log; tests/test_kernel_boot.py
reads it.  Exit status: 0 the boot ran to its end, 1 it did not, 2 the kernel or
the initramfs could not be made; without the RV kit or qemu it says why and
exits 0.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))  # hamodel, run as a script
sys.path.insert(0, str(HERE.parent))  # kernel_build

from kernel_build import build_check  # noqa: E402
from kernel_build.build_check import BuildError, log, run  # noqa: E402

from hamodel.bpf.elf import resolve  # noqa: E402

MONITORS = ("tlob", "stall", "pagefault")
# tinyconfig plus: a serial console and an initramfs, tracing with sched events and
# uprobe events, RV with the printk reactor, the RV KUnit suite, two CPUs.  ACPI
# gives the kernel qemu's HPET and PM timer: without them TCG's TSC cannot be
# calibrated, the clocksource stays on jiffies and hrtimers have a 4 ms tick.
CONFIG = ("64BIT ACPI PRINTK PRINTK_TIME TTY SERIAL_8250 SERIAL_8250_CONSOLE BINFMT_ELF"
          " BINFMT_SCRIPT BLK_DEV_INITRD PROC_FS SYSFS DEVTMPFS DEVTMPFS_MOUNT MULTIUSER"
          " FUTEX HIGH_RES_TIMERS SMP PREEMPT FTRACE TRACING PERF_EVENTS UPROBES"
          " UPROBE_EVENTS DEBUG_FS KUNIT KUNIT_DEBUGFS RV RV_REACTORS RV_REACT_PRINTK"
          " RV_MONITORS_KUNIT_TEST").split()
JOBS, BUDGET_NS = 20, 2_000_000
STALL_THRESHOLD_JIFFIES = 1
BOOT_TIMEOUT_S = 900


def work() -> Path:
    return Path(os.environ.get("RVKIT_WORK", "/tmp/rvkit-ci"))


def configure(src: Path, out: Path, monitors: list[build_check.Monitor]) -> None:
    symbols = CONFIG + [f"RV_MON_{m.name.upper()}" for m in monitors]
    symbols += [f"RV_MON_{m.name.upper()}_KUNIT_TEST" for m in monitors
                if f"config RV_MON_{m.name.upper()}_KUNIT_TEST" in m.files["Kconfig"]]
    out.mkdir(parents=True, exist_ok=True)
    run(["make", "-s", "-C", str(src), f"O={out}", "tinyconfig"])
    args = [a for s in symbols for a in ("-e", s)]
    run([str(src / "scripts/config"), "--file", str(out / ".config"), "-d", "PREEMPT_NONE",
         *args, "--set-val", "RV_PER_TASK_MONITORS", "4", "--set-val", "NR_CPUS", "2"])
    run(["make", "-s", "-C", str(src), f"O={out}", "olddefconfig"])
    config = (out / ".config").read_text().splitlines()
    missing = [s for s in symbols if f"CONFIG_{s}=y" not in config]
    if missing:
        raise BuildError(f"olddefconfig turned off {', '.join(missing)}")


def key(monitors: list[build_check.Monitor]) -> str:
    """What the kernel is built from, besides the kit's tree."""
    h = hashlib.sha256()
    for m in monitors:
        for rel, text in sorted(m.files.items()):
            h.update(f"{m.name}/{rel}\0{text}\0".encode())
    h.update(" ".join(CONFIG).encode())
    h.update(Path(__file__).read_bytes())
    return h.hexdigest()


def kernel(force: bool) -> Path:
    monitors = build_check.generated_monitors(set(MONITORS))
    out = work() / "hamodel-boot"
    image = out / "arch/x86/boot/bzImage"
    stamp = out / "hamodel.key"
    want = key(monitors)
    if not force and image.is_file() and stamp.is_file() and stamp.read_text() == want:
        log(f"kernel: reusing {image}")
        return image
    src = build_check.prepare_tree(work())
    for m in monitors:
        build_check.wire(src, m)
    started = time.monotonic()
    configure(src, out, monitors)
    done = run(["make", "-s", "-C", str(src), f"O={out}", f"-j{build_check.jobs()}",
                "bzImage"], check=False)
    (out / "build.log").write_text(done.stdout + done.stderr)
    if done.returncode != 0 or not image.is_file():
        raise BuildError(f"bzImage did not build, see {out / 'build.log'}:\n"
                         + (done.stdout + done.stderr)[-3000:])
    stamp.write_text(want)
    log(f"kernel: built in {time.monotonic() - started:.1f} s")
    return image


def initramfs(out: Path) -> Path:
    """busybox, /bin/jobs and /init, with the uprobe offsets of the jobs' markers."""
    busybox = shutil.which("busybox")
    if not busybox:
        raise BuildError("busybox is missing: install busybox-static (.ci/setup)")
    root = out / "initramfs"
    shutil.rmtree(root, ignore_errors=True)
    for d in ("bin", "proc", "sys", "dev", "tmp"):
        (root / d).mkdir(parents=True)
    shutil.copy(busybox, root / "bin/busybox")
    for applet in ("sh", "mount", "cat", "echo", "grep", "sleep", "dmesg", "reboot", "kill",
                   "seq", "tr", "true"):
        (root / "bin" / applet).symlink_to("busybox")
    jobs = root / "bin/jobs"
    run(["gcc", "-static", "-O2", "-o", str(jobs), str(HERE / "jobs.c")])
    start, stop = resolve(str(jobs), "tlob_start"), resolve(str(jobs), "tlob_stop")
    init = (HERE / "init.sh").read_text()
    init = (init.replace("@START@", hex(start.offset)).replace("@STOP@", hex(stop.offset))
            .replace("@JOBS@", str(JOBS)).replace("@BUDGET_NS@", str(BUDGET_NS)))
    (root / "init").write_text(init)
    (root / "init").chmod(0o755)
    cpio = out / "initramfs.cpio"
    files = sorted(str(p.relative_to(root)) for p in root.rglob("*"))
    with open(cpio, "wb") as f:
        done = subprocess.run(["cpio", "-o", "-H", "newc"], cwd=root,
                              input="\n".join(files).encode(), stdout=f,
                              stderr=subprocess.PIPE)
    if done.returncode != 0:
        raise BuildError(f"cpio failed: {done.stderr.decode(errors='replace')}")
    return cpio


def boot(image: Path, cpio: Path, console: Path) -> int:
    cmdline = ("console=ttyS0 panic=-1 rdinit=/init kunit.enable=1 tsc=reliable"
               f" stall.threshold_jiffies={STALL_THRESHOLD_JIFFIES}")
    started = time.monotonic()
    with open(console, "wb") as f:
        done = subprocess.run(
            ["qemu-system-x86_64", "-cpu", "max", "-kernel", str(image), "-initrd", str(cpio),
             "-nographic", "-no-reboot", "-m", "512M", "-smp", "2", "-append", cmdline],
            stdout=f, stderr=subprocess.STDOUT, timeout=BOOT_TIMEOUT_S, check=False)
    text = console.read_bytes().replace(b"\r\n", b"\n")
    console.write_bytes(text)
    log(f"boot: qemu ran {time.monotonic() - started:.1f} s (exit {done.returncode});"
        f" console in {console}")
    return 0 if b"=== HAMODEL DONE" in text else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="boot.py", description=__doc__.split("\n")[0])
    parser.add_argument("--force", action="store_true", help="rebuild the kernel")
    args = parser.parse_args(argv)
    if not (build_check.KIT / "kit-recipe.sh").is_file():
        log(f"kernel boot skipped: the RV kit {build_check.KIT} is missing")
        return 0
    if not shutil.which("qemu-system-x86_64"):
        log("kernel boot skipped: qemu-system-x86_64 is missing (.ci/setup installs it)")
        return 0
    try:
        image = kernel(args.force)
        out = work() / "hamodel-boot"
        cpio = initramfs(out)
    except BuildError as exc:
        log(f"error: {exc}")
        return 2
    return boot(image, cpio, out / "console.log")


if __name__ == "__main__":
    sys.exit(main())
