"""rvgen's workflow: `gen -a` wiring a monitor into a kernel tree, rvgen's flags,
the checklist, and `hamodel container`.

The trees are Debian's linux-source-6.12 (RV parts) with and without the newest
RV files of ../shared (conftest); the build test compiles the patched monitor
in the kit tree prepared by ../shared/kernel/kit-recipe.sh.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, SHARED

from hamodel.tree.patch import PatchError, Wiring, insert_above, wiring_edits

RV = "kernel/trace/rv"
STALL = SHARED / "models/upstream/stall.dot"
WWNR = SHARED / "models/upstream/wwnr.dot"
TLOB = ROOT / "models/tlob.dot"
GOLDEN = ROOT / "tests/golden/container"


def hamodel(*args: str, cwd: Path | None = None):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "hamodel", *map(str, args)],
                          capture_output=True, text=True, env=env, cwd=cwd, timeout=600)


def snapshot(tree: Path) -> dict[str, bytes]:
    return {p.relative_to(tree).as_posix(): p.read_bytes()
            for p in sorted((tree / RV).rglob("*")) if p.is_file()}


@pytest.fixture
def newest(newest_rv_tree, tmp_path) -> Path:
    dest = tmp_path / "linux"
    shutil.copytree(newest_rv_tree, dest)
    return dest


# --- the edits ----------------------------------------------------------------------------


def test_insert_above_is_idempotent_and_refuses_a_missing_marker():
    text = "a\n# Add new monitors here\nb\n"
    once = insert_above(text, "# Add new monitors here", ["x"], "Makefile")
    assert once == "a\nx\n# Add new monitors here\nb\n"
    assert insert_above(once, "# Add new monitors here", ["x"], "Makefile") == once
    with pytest.raises(PatchError, match="Makefile: no line `# Add new monitors here`"):
        insert_above("a\n", "# Add new monitors here", ["x"], "Makefile")


def test_a_container_gets_its_own_marker(newest):
    edits = wiring_edits(newest, Wiring("box", None, None, container=True))
    assert [e.rel for e in edits] == [f"{RV}/Makefile", f"{RV}/Kconfig"]  # no rv_trace.h
    kconfig = edits[1].after
    assert ('source "kernel/trace/rv/monitors/box/Kconfig"\n# Add new box monitors here\n\n'
            "# Add new monitors here") in kconfig
    nested = Wiring("inner", "box", "DA_MON_EVENTS_ID")
    (newest / RV / "Kconfig").write_text(kconfig)
    after = wiring_edits(newest, nested)[1].after
    assert ('source "kernel/trace/rv/monitors/inner/Kconfig"\n# Add new box monitors here'
            in after)


# --- gen -a -----------------------------------------------------------------------------


def test_gen_auto_patch_wires_the_monitor_and_is_idempotent(newest):
    before = snapshot(newest)
    done = hamodel("gen", "--target", "kernel-c", "-a", STALL, "-n", "stall2", "-t", "per_task",
                   cwd=newest)
    assert done.returncode == 0, done.stderr
    assert "checklist (done by -a):" in done.stdout
    after = snapshot(newest)
    changed = sorted(k for k in after if before.get(k) != after[k])
    assert changed == [f"{RV}/Kconfig", f"{RV}/Makefile", f"{RV}/monitors/stall2/Kconfig",
                       f"{RV}/monitors/stall2/stall2.c", f"{RV}/monitors/stall2/stall2.h",
                       f"{RV}/monitors/stall2/stall2_kunit.c",
                       f"{RV}/monitors/stall2/stall2_kunit.h",
                       f"{RV}/monitors/stall2/stall2_trace.h", f"{RV}/rv_monitors_test.c",
                       f"{RV}/rv_trace.h"]
    tests = (newest / RV / "rv_monitors_test.c").read_text()
    assert ('#include "monitors/sleep/sleep_kunit.c"\n'
            '#include "monitors/stall2/stall2_kunit.c"\n') in tests
    assert "\tKUNIT_CASE(rv_test_sleep),\n\tKUNIT_CASE(rv_test_stall2),\n" in tests
    makefile = (newest / RV / "Makefile").read_text()
    assert ("obj-$(CONFIG_RV_MON_STALL2) += monitors/stall2/stall2.o\n# Add new monitors here"
            in makefile)
    trace = (newest / RV / "rv_trace.h").read_text()
    assert ("#include <monitors/stall2/stall2_trace.h>\n"
            "// Add new monitors based on CONFIG_HA_MON_EVENTS_ID here") in trace
    again = hamodel("gen", "--target", "kernel-c", "-a", STALL, "-n", "stall2", "-t",
                    "per_task", cwd=newest)
    assert again.returncode == 0
    assert snapshot(newest) == after
    assert "already wired, unchanged: kernel/trace/rv/Makefile" in again.stdout
    # The pre-merge check agrees: the new monitor is wired in (no HA220-HA224 for it).
    check = hamodel("check", "--kernel-tree", ".", cwd=newest)
    assert "stall2" not in check.stdout


def test_gen_auto_patch_finds_the_tree_from_tools_verification(newest):
    done = hamodel("gen", "--target", "kernel-c", "-a", WWNR, "-n", "wwnr2", "-t", "per_task",
                   cwd=newest / "tools/verification")
    assert done.returncode == 0, done.stderr
    assert (newest / RV / "monitors/wwnr2/wwnr2.c").is_file()
    assert "monitors/wwnr2/wwnr2.o" in (newest / RV / "Makefile").read_text()


def test_gen_auto_patch_without_markers_changes_nothing(linux_612, tmp_path):
    tree = tmp_path / "linux"
    shutil.copytree(linux_612, tree)  # 6.12 has no `# Add new monitors here` markers
    before = snapshot(tree)
    done = hamodel("gen", "--target", "kernel-c", "-a", "--kernel-tree", tree, WWNR, "-n",
                   "wwnr2", "-t", "per_task", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "hamodel gen: kernel/trace/rv/Makefile: no line `# Add new monitors here` to add"
        " `obj-$(CONFIG_RV_MON_WWNR2) += monitors/wwnr2/wwnr2.o` above (add it by hand where"
        " the other monitors are)")
    assert snapshot(tree) == before


def test_gen_without_auto_patch_prints_the_checklist(tmp_path):
    done = hamodel("gen", "--target", "kernel-c", "-s", WWNR, "-c", "da", "-t", "per_task",
                   "-o", tmp_path / "out", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    for line in ("obj-$(CONFIG_RV_MON_WWNR) += monitors/wwnr/wwnr.o",
                 'source "kernel/trace/rv/monitors/wwnr/Kconfig"',
                 "above `// Add new monitors based on CONFIG_DA_MON_EVENTS_ID here`",
                 "#include <monitors/wwnr/wwnr_trace.h>",
                 f"copy {tmp_path / 'out'}/ to kernel/trace/rv/monitors/wwnr/"):
        assert line in done.stdout


@pytest.mark.parametrize("args, message", [
    (["-c", "da", STALL], "-c da, but"),
    (["-c", "ha", WWNR], "-c ha, but"),
    (["-c", "ltl", WWNR], "-c ltl: hamodel reads no LTL specification yet"),
    (["-c", "xx", WWNR], "-c 'xx': expected da or ha"),
    (["-s", STALL, WWNR], "give the model once"),
    ([], "which model?"),
    (["-a", "-o", "x", WWNR], "-a writes into the kernel tree"),
    (["--kernel-tree", ".", WWNR], "--kernel-tree says where -a patches: add -a"),
])
def test_rvgen_flags_refuse_what_cannot_work(args, message, tmp_path):
    done = hamodel("gen", "--target", "kernel-c", "-t", "per_task", *args, cwd=tmp_path)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert not any(tmp_path.iterdir())


def test_auto_patch_needs_a_tree(tmp_path):
    done = hamodel("gen", "--target", "kernel-c", "-a", WWNR, "-t", "per_task", cwd=tmp_path)
    assert done.returncode == 2
    assert "-a: no kernel/trace/rv/ in the current directory or in ../.." in done.stderr


# --- container ------------------------------------------------------------------------------


def test_container_matches_its_golden_files(tmp_path):
    done = hamodel("container", "-n", "test_container", "-D",
                   "Test container for grouping monitors", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = tmp_path / "test_container"
    got = {p.name: p.read_text() for p in sorted(out.iterdir())}
    if os.environ.get("HAMODEL_UPDATE_GOLDEN"):
        GOLDEN.mkdir(parents=True, exist_ok=True)
        for name, text in got.items():
            (GOLDEN / name).write_text(text)
    want = {p.name: p.read_text() for p in sorted(GOLDEN.iterdir())}
    assert got == want
    assert "extern struct rv_monitor rv_test_container;" in got["test_container.h"]
    assert "# Add new test_container monitors here" in done.stdout


def test_container_then_nested_monitor_in_a_tree(newest):
    done = hamodel("container", "-n", "box", "-a", cwd=newest)
    assert done.returncode == 0, done.stderr
    nested = hamodel("gen", "--target", "kernel-c", "-a", WWNR, "-n", "inner", "-t",
                     "per_task", "-p", "box", cwd=newest)
    assert nested.returncode == 0, nested.stderr
    kconfig = (newest / RV / "Kconfig").read_text()
    assert kconfig.index("monitors/box/Kconfig") < kconfig.index("monitors/inner/Kconfig") \
        < kconfig.index("# Add new box monitors here")
    assert "#include <monitors/box/box.h>" in (newest / RV / "monitors/inner/inner.c").read_text()
    check = hamodel("check", "--kernel-tree", ".", cwd=newest)
    assert "box" not in check.stdout and "inner" not in check.stdout


@pytest.mark.parametrize("args, message", [
    ([], "the following arguments are required: -n/--name"),
    (["-n", "1bad"], "container name (-n)"),
    (["-n", "ok", "-D", "two\nlines"], "one line of printable text"),
])
def test_container_bad_input(args, message, tmp_path):
    done = hamodel("container", *args, cwd=tmp_path)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr


# --- the patched tree builds the monitor ----------------------------------------------------

KIT_SRC = Path(os.environ.get("RVKIT_SRC", "/tmp/rvkit-ci/src"))
COMPAT = SHARED / "kernel/compat/rv_compat_6_12.h"


WWNR_BINDING = """\
[monitor]
type = "per_task"
description = "wakeup while not running"

[[event]]
event = "switch_in"
tracepoint = "sched_switch"
object = "next_pid"

[[event]]
event = "switch_out"
tracepoint = "sched_switch"
object = "prev_pid"

[[event]]
event = "wakeup"
tracepoint = "sched_wakeup"
object = "pid"
"""


def test_patched_kit_tree_builds_the_monitor_object(tmp_path):
    """gen -a into a copy of the kit's 6.12 tree, then kbuild compiles the object (-Werror)."""
    if not (KIT_SRC / RV / "rv_trace.h").is_file():
        pytest.skip(f"no prepared kit tree at {KIT_SRC} (../shared/kernel/kit-recipe.sh tree;"
                    " RVKIT_SRC=DIR names another)")
    if not COMPAT.is_file() or not all(shutil.which(t) for t in ("make", "gcc", "cp")):
        pytest.skip("no kernel toolchain (make, gcc) or no ../shared/kernel/compat")
    src, build = tmp_path / "src", tmp_path / "build"
    # Hard links: the kit tree is only read; gen -a replaces the files it edits
    # (write, then rename), and kbuild writes only below O=.
    subprocess.run(["cp", "-al", str(KIT_SRC), str(src)], check=True)
    before = (KIT_SRC / RV / "Makefile").read_bytes()
    binding = tmp_path / "wwnr2.binding.toml"
    binding.write_text(WWNR_BINDING)
    done = hamodel("gen", "--target", "kernel-c", "-a", "--kernel-tree", src, WWNR, "-n",
                   "wwnr2", "--binding", binding, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (KIT_SRC / RV / "Makefile").read_bytes() == before  # the kit tree is untouched
    assert not (KIT_SRC / RV / "monitors/wwnr2").exists()

    def make(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["make", "-s", "-C", str(src), f"O={build}", *args],
                              capture_output=True, text=True, timeout=1800)

    assert make("x86_64_defconfig").returncode == 0
    subprocess.run([str(src / "scripts/config"), "--file", str(build / ".config"), "-e", "WERROR",
                    "-e", "FTRACE", "-e", "RV", "-e", "RV_REACTORS", "-e", "RV_MON_WWNR2"],
                   check=True)
    assert make("olddefconfig").returncode == 0
    assert "CONFIG_RV_MON_WWNR2=y" in (build / ".config").read_text()  # Kconfig sources it
    # The kit's 6.12 shims go in on the command line: the patched Makefile stays as -a left it.
    built = make("-j2", f"CFLAGS_monitors/wwnr2/wwnr2.o=-Werror -include {COMPAT}",
                 f"{RV}/monitors/wwnr2/wwnr2.o")
    assert built.returncode == 0, built.stderr[-4000:]
    assert (build / RV / "monitors/wwnr2/wwnr2.o").stat().st_size > 0


def test_rvgens_long_spellings_mean_the_same(tmp_path):
    short = hamodel("gen", "--target", "kernel-c", "-c", "da", "-s", WWNR, "-t", "per_cpu",
                    "-n", "x", "-D", "d", "-o", tmp_path / "short", cwd=tmp_path)
    long = hamodel("gen", "--target", "kernel-c", "--class", "da", "--spec", WWNR,
                   "--monitor_type", "per_cpu", "--model_name", "x", "--description", "d",
                   "-o", tmp_path / "long", cwd=tmp_path)
    assert short.returncode == long.returncode == 0, short.stderr + long.stderr
    files = sorted(p.name for p in (tmp_path / "short").iterdir())
    assert files == ["Kconfig", "x.c", "x.h", "x_kunit.c", "x_kunit.h", "x_trace.h"]
    for name in files:
        assert (tmp_path / "short" / name).read_bytes() == (tmp_path / "long" / name).read_bytes()
