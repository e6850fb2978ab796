"""prev_state has one meaning on every target: what sched_switch reports.

The same table runs through the Python definition (hamodel.binding), the
helper the generated kernel C carries (compiled with gcc against tests/kshim
and the verbatim <linux/rv.h>), the helper of the generated eBPF program (compiled as user
space C with clang) and the ftrace letters replay reads.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from hamodel.binding import reported_prev_state
from hamodel.trace.ftrace import task_state

ROOT = Path(__file__).resolve().parent.parent
KSHIM = ROOT / "tests" / "kshim" / "include"
FRAMEWORK = ROOT.parent / "shared" / "kernel" / "rv-framework" / "include"
KERNEL_C = ROOT / "generated" / "tlob" / "kernel-c" / "tlob.c"
EBPF = ROOT / "generated" / "tlob" / "ebpf" / "tlob.bpf.c"

# (preempt, raw __state, exit_state, what ftrace prints, reported prev_state)
CASES = [
    (False, 0x0000, 0, "R", 0x00),  # runnable, switched out without preemption
    (True, 0x0001, 0, "R+", 0x00),  # preempted while going to sleep
    (True, 0x0402, 0, "R+", 0x00),
    (False, 0x0001, 0, "S", 0x01),
    (False, 0x2001, 0, "S", 0x01),  # TASK_FREEZABLE is not reported
    (False, 0x0002, 0, "D", 0x02),
    (False, 0x0102, 0, "D", 0x02),  # TASK_KILLABLE
    (False, 0x0402, 0, "I", 0x80),  # TASK_IDLE
    (False, 0x2402, 0, "I", 0x80),  # TASK_IDLE | TASK_FREEZABLE
    (False, 0x1000, 0, "D", 0x02),  # PREEMPT_RT rt-lock wait
    (False, 0x8000, 0, "D", 0x02),  # frozen
    (False, 0x0104, 0, "T", 0x04),  # TASK_STOPPED
    (False, 0x0008, 0, "t", 0x08),
    (False, 0x0040, 0, "P", 0x40),  # TASK_PARKED
    (False, 0x0080, 0x20, "Z", 0x20),  # TASK_DEAD, exit_state EXIT_ZOMBIE
    (False, 0x0080, 0x10, "X", 0x10),  # TASK_DEAD, exit_state EXIT_DEAD
    (False, 0x0200, 0, "R", 0x00),  # TASK_WAKING alone is not reported
]


def test_python_definition() -> None:
    assert [reported_prev_state(p, s, e) for p, s, e, _, _ in CASES] == [c[4] for c in CASES]


def test_ftrace_letters() -> None:
    assert [task_state(text, 1) for _, _, _, text, _ in CASES] == [c[4] for c in CASES]


def _function(source: str, start: str) -> str:
    at = source.index(start)
    return source[at:source.index("\n}\n", at) + 3]


def _run(compiler: str, prelude: str, helper: str, call: str, tmp: Path) -> list[int]:
    rows = "\n".join(f"\t{{ {int(p)}, {s:#x}, {e:#x} }}," for p, s, e, _, _ in CASES)
    program = f"""{prelude}
#include <stdio.h>
{helper}
int main(void)
{{
	static const unsigned int cases[][3] = {{
{rows}
	}};
	unsigned int i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {{
		struct task_struct t = {{ .exit_state = (int)cases[i][2] }};

		printf("%u\\n", (unsigned int){call});
	}}
	return 0;
}}
"""
    src, exe = tmp / "prev_state.c", tmp / "prev_state"
    src.write_text(program)
    done = subprocess.run([compiler, "-std=gnu11", "-Wall", "-Wextra", "-Werror",
                           "-Wno-unused-variable", "-Wno-unused-function", "-Wno-unused-parameter",
                           "-DCONFIG_RV=1", f"-I{KSHIM}", f"-I{FRAMEWORK}", str(src),
                           "-o", str(exe)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    out = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout
    return [int(x) for x in out.split()]


@pytest.mark.skipif(shutil.which("gcc") is None or not FRAMEWORK.is_dir(),
                    reason="gcc or the verbatim RV framework in ../shared is missing")
def test_generated_kernel_c_helper(tmp_path: Path) -> None:
    helper = _function(KERNEL_C.read_text(), "static unsigned int ha_prev_state(")
    got = _run("gcc", "#include <linux/sched.h>", helper,
               "ha_prev_state(cases[i][0], cases[i][1], &t)", tmp_path)
    assert got == [c[4] for c in CASES]


@pytest.mark.skipif(shutil.which("clang") is None, reason="clang is not installed")
def test_generated_ebpf_helper(tmp_path: Path) -> None:
    text = EBPF.read_text()
    defines = "\n".join(re.findall(r"^#define HAMODEL_TASK_\w+\s+\w+$", text, re.M))
    prelude = ("#include <stdbool.h>\n#define __always_inline inline\n"
               "typedef unsigned int __u32;\nstruct task_struct { int exit_state; };\n"
               + defines)
    helper = _function(text, "static __always_inline __u32 hamodel_prev_state(")
    got = _run("clang", prelude, helper,
               "hamodel_prev_state(cases[i][0], cases[i][1], &t)", tmp_path)
    assert got == [c[4] for c in CASES]
