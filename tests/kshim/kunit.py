"""Run a generated monitor's KUnit cases with the kernel's own rv_monitors_test.c, on kshim.

`build_suite` lays out a piece of kernel/trace/rv in a build directory, as a
maintainer would after `hamodel gen`: the monitor's files under
`monitors/<m>/`, a copy of the verbatim `rv_trace.h` with the monitor's trace
header added at its class's marker, and a copy of the verbatim
`rv_monitors_test.c` with the `#include` and the `KUNIT_CASE()` lines
`hamodel.gen.kernel_kunit.monitors_test_lines` gives (the kernel's other monitors'
cases stay, and compile to rv_test_stub as in a kernel without them).  The
driver compiles `<m>.c` and `rv_monitors_test.c` in one program with the
verbatim framework headers and AddressSanitizer, and runs the `rv_mon` suite:
one line per case, KTAP-like.  `rv_monitors_test.c` is also compiled on its
own, as the kernel compiles it, so a case that reaches past `rv_<m>_ops` into
`<m>.c` fails the build.

A monitor generated without a binding has `XXX` placeholders; `fill_skeleton`
writes what a maintainer would (a tracepoint without arguments, NULL objects,
the given parameter values) so that it builds; the cases never call its
handlers.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from hamodel.gen import kernel_c, kernel_kunit

from . import CFLAGS, FRAMEWORK, HERE, SANITIZE, configs, rv_trace_h, trace_stubs

RV = Path("kernel/trace/rv")
# A kernel that has been up for a while, and one whose KUnit cases run at boot.
LONG_UPTIME = 1 << 42
BOOT_UPTIME = 500_000_000

_RESULT = re.compile(r"(not ok|ok) \d+ (\w+)(?: # SKIP (.*))?$")


@dataclass(frozen=True, slots=True)
class CaseResult:
    name: str
    status: str  # pass | fail | skip
    reason: str = ""


@dataclass(frozen=True)
class KunitBuild:
    exe: Path
    view: kernel_c.View

    def run(self, uptime: int = LONG_UPTIME, latency_ns: int = 0
            ) -> tuple[list[CaseResult], list[str]]:
        """Every case of the rv_mon suite, and the driver's whole output; timer callbacks
        run `latency_ns` after their expiry."""
        done = subprocess.run([str(self.exe), "-u", str(uptime), "-l", str(latency_ns), "kunit"],
                              capture_output=True, text=True, timeout=120)
        lines = done.stdout.splitlines()
        results = []
        for line in lines:
            found = _RESULT.match(line)
            if found:
                status = "fail" if found[1] == "not ok" else "skip" if found[3] else "pass"
                results.append(CaseResult(found[2], status, found[3] or ""))
        if done.returncode not in (0, 1) or done.stderr.strip():
            raise AssertionError(f"driver failed ({done.returncode}):\n{done.stderr[-4000:]}\n"
                                 + "\n".join(lines[-40:]))
        return results, lines


def monitors_test_c(view: kernel_c.View, framework: Path = FRAMEWORK) -> str:
    """The verbatim rv_monitors_test.c with the monitor's include and cases added."""
    text = (framework / RV / "rv_monitors_test.c").read_text()
    return kernel_kunit.patch_monitors_test(text, view.kunit)


def build_suite(files: dict[str, str], view: kernel_c.View, workdir: Path,
                hz: int = 250) -> KunitBuild:
    m = view.name
    rv = workdir / RV
    own = rv / "monitors" / m
    own.mkdir(parents=True, exist_ok=True)
    for rel, text in files.items():
        if rel != "Kconfig":
            (own / rel).write_text(text)
    rv_trace = rv_trace_h(view)
    (rv / "rv_trace.h").write_text(rv_trace)
    trace_stubs(rv, rv_trace, f"monitors/{m}/{m}_trace.h")
    # rv.h reads the tracing core's header next to it (kshim stands in for that one)
    shutil.copyfile(FRAMEWORK / RV / "rv.h", rv / "rv.h")
    (rv.parent / "trace.h").write_text("#include <kshim/tracing.h>\n")
    (rv / "rv_monitors_test.c").write_text(monitors_test_c(view))
    config = configs(view) | {"CONFIG_KUNIT": "1", "CONFIG_RV_MONITORS_KUNIT_TEST": "1",
                              "CONFIG_THREAD_INFO_IN_TASK": "1", "CONFIG_PREEMPTION": "1",
                              "CONFIG_RV_PER_TASK_MONITORS": "2"}
    if view.parent:
        config[f"CONFIG_RV_MON_{view.parent.upper()}"] = "1"
    (workdir / "autoconf.h").write_text("".join(f"#define {k} {v}\n" for k, v in config.items()))
    (workdir / "kshim_build.h").write_text(
        "#define KSHIM_KUNIT\n"
        "#include <kshim/kshim.h>\n"
        "/* the tracepoint a skeleton's handlers are attached to (fill_skeleton) */\n"
        "DECLARE_TRACE(kshim_skeleton, TP_PROTO(int unused), TP_ARGS(unused));\n"
        f'#include "{RV}/monitors/{m}/{m}.c"\n'
        f'#include "{RV}/rv_monitors_test.c"\n')
    include = ["-include", str(workdir / "autoconf.h"), "-include", "linux/kconfig.h",
               f"-DHZ={hz}", f"-I{workdir}", f"-I{rv}", f"-I{HERE / 'include'}",
               f"-I{FRAMEWORK / 'include'}", f"-I{FRAMEWORK / RV}"]
    alone = subprocess.run(["gcc", *CFLAGS, *include, "-fsyntax-only",
                            str(rv / "rv_monitors_test.c")], capture_output=True, text=True)
    if alone.returncode != 0:
        raise AssertionError(f"rv_monitors_test.c alone does not compile with {m}'s cases:\n"
                             f"{alone.stderr[-6000:]}")
    exe = workdir / "driver"
    done = subprocess.run(["gcc", *CFLAGS, *SANITIZE, *include, str(HERE / "driver.c"),
                           "-o", str(exe)], capture_output=True, text=True)
    if done.returncode != 0:
        raise AssertionError(f"gcc failed on {m}.c with rv_monitors_test.c:\n"
                             f"{done.stderr[-6000:]}")
    return KunitBuild(exe, view)


# --- monitors without a binding --------------------------------------------------------

_PLACEHOLDERS = (
    # a handler's arguments and its tracepoint: the tracepoint kshim_build.h declares
    (re.compile(r"/\* XXX: the tracepoint's arguments \*/"), "int unused"),
    (re.compile(r"/\* XXX: tracepoint \*/"), "kshim_skeleton"),
    # objects of an event no case sends through the handler
    (re.compile(r"/\* XXX: the task of this event \*/"), "NULL"),
    (re.compile(r"/\* XXX: the id of the object[^*]*\*/"), "0"),
    (re.compile(r"/\* XXX: that object \*/"), "NULL"),
    (re.compile(r"/\* XXX: read \w+ here \*/"), "0"),
)


def fill_skeleton(files: dict[str, str], view: kernel_c.View,
                  values: dict[str, str]) -> dict[str, str]:
    """The XXX placeholders of `<m>.c` filled as a maintainer would; `values` gives each
    parameter's C value."""
    text = files[f"{view.name}.c"]
    for pattern, replacement in _PLACEHOLDERS:
        text = pattern.sub(replacement, text)
    for name, value in values.items():
        text = re.sub(rf"(static u64 {name} = )/\* XXX: its default \*/", rf"\g<1>{value}", text)
        text = re.sub(rf"/\* XXX: the value of {name}\b[^*]*\*/", value, text)
    left = [line for line in text.splitlines()
            if "XXX" in line and not line.lstrip().startswith(("/*", "*"))]
    assert not left, f"placeholders left: {left}"
    return dict(files, **{f"{view.name}.c": text})
