"""Run an LTL monitor on the verbatim include/rv/ltl_monitor.h in user space (kshim).

`build_ltl` writes the `<m>.h` and `<m>_trace.h` that `hamodel gen --target
kernel-c X.ltl` writes, the framework's rv_trace.h with that trace header
added at its LTL marker, and a kshim_build.h that includes them with the
verbatim `rv/ltl_monitor.h`; tests/kshim/driver.c (KSHIM_LTL) supplies
`ltl_atoms_init()` / `ltl_atoms_fetch()` from the atom set-up each run
gives it, and takes the calls the generated handlers make.

`Reference` replays the same calls through hamodel.ltl.monitor.LtlMonitor
and prints, in the kernel's text (hamodel.ltl.events), what the driver
prints: each `event_<m>` / `error_<m>` line, the reaction, and after each
call the task's three bitmaps.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

from hamodel.gen import render
from hamodel.gen.kernel_c_ltl import LtlOptions, build_view
from hamodel.ltl import events
from hamodel.ltl.buchi import Buchi, build_buchi
from hamodel.ltl.formula import LtlSpec
from hamodel.ltl.monitor import AtomSetup, LtlMonitor, Step, Violation
from hamodel.ltl.names import abbreviations

from . import CFLAGS, FRAMEWORK, HERE, SANITIZE, rv_trace_h, trace_stubs

TASKS = 64  # kshim/task.h: the tasks the monitor initializes at enable are pids 1..63
CLASS = "LTL_MON_EVENTS_ID"

# A call: ("enable",) | ("disable",) | ("fork", pid) | (kind, pid, atom, value) with kind
# prop (what ltl_atoms_fetch reads from now on), update, pulse or set.
Op = tuple


@dataclass(frozen=True)
class LtlBuild:
    exe: Path
    spec: LtlSpec
    buchi: Buchi

    def run(self, ops: Iterable[Op], setup: Mapping[str, AtomSetup] | None = None
            ) -> list[str]:
        """What the driver prints for the calls, the atoms set up as `setup` says (an
        atom it does not name: no init value, not fetched)."""
        done = subprocess.run([str(self.exe)], input=driver_text(self.spec, ops, setup),
                              capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise AssertionError(f"driver failed ({done.returncode}):\n{done.stderr}\n"
                                 f"{done.stdout[-2000:]}")
        return done.stdout.splitlines()

    def tables(self) -> list[str]:
        """`start ATOMS STATES` and `next ATOMS STATE STATES` for every valuation (masks)."""
        done = subprocess.run([str(self.exe), "tables"], capture_output=True, text=True,
                              timeout=600, check=True)
        return done.stdout.splitlines()


def _build_h(spec: LtlSpec) -> str:
    m = spec.name
    lines = [
        "#include <linux/ftrace.h>",
        "#include <linux/tracepoint.h>",
        "#include <linux/kernel.h>",
        "#include <linux/module.h>",
        "#include <linux/init.h>",
        "#include <linux/rv.h>",
        "#include <rv/instrumentation.h>",
        f'#define MODULE_NAME "{m}"',
        "#include <trace/events/sched.h>",
        "#include <rv_trace.h>",
        f'#include "{m}.h"',
        "#include <rv/ltl_monitor.h>",
        "#define KSHIM_LTL",
    ]
    return "\n".join(lines) + "\n"


def build_ltl(spec: LtlSpec, workdir: Path, sanitize: bool = False) -> LtlBuild:
    """Compile `spec`'s generated header with the verbatim ltl_monitor.h and the driver."""
    buchi = build_buchi(spec)
    view = build_view(spec, buchi, LtlOptions(spec.file))
    m = spec.name
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / f"{m}.h").write_text(render("kernel-c-ltl", "model.h.j2", v=view))
    trace = workdir / "monitors" / m / f"{m}_trace.h"
    trace.parent.mkdir(parents=True, exist_ok=True)
    trace.write_text(render("kernel-c-ltl", "trace.h.j2", v=view))
    rv_trace = rv_trace_h(SimpleNamespace(name=m, class_type=CLASS))
    (workdir / "rv_trace.h").write_text(rv_trace)
    trace_stubs(workdir, rv_trace, f"monitors/{m}/{m}_trace.h")
    config = {"CONFIG_RV": 1, "CONFIG_RV_REACTORS": 1, "CONFIG_RV_LTL_MONITOR": 1,
              f"CONFIG_{CLASS}": 1, f"CONFIG_RV_MON_{m.upper()}": 1}
    (workdir / "autoconf.h").write_text("".join(f"#define {k} {v}\n" for k, v in config.items()))
    (workdir / "kshim_build.h").write_text(_build_h(spec))
    exe = workdir / "driver"
    cmd = ["gcc", *CFLAGS, *(SANITIZE if sanitize else ()), "-include",
           str(workdir / "autoconf.h"), f"-I{workdir}", f"-I{HERE / 'include'}",
           f"-I{FRAMEWORK / 'include'}", str(HERE / "driver.c"), "-o", str(exe)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise AssertionError(f"gcc failed on {m}.h:\n{done.stderr[-6000:]}")
    return LtlBuild(exe, spec, buchi)


def driver_text(spec: LtlSpec, ops: Iterable[Op],
                setup: Mapping[str, AtomSetup] | None = None) -> str:
    """The driver's input: the atoms' set-up at 0, then one line per call at 1, 2, 3...
    ns (an LTL monitor has no clock)."""
    index = {a: i for i, a in enumerate(spec.atoms)}
    lines = []
    for atom, how in sorted((setup or {}).items()):
        init = -1 if how.init is None else int(how.init)
        lines.append(f"0 setup {index[atom]} {init} {int(how.init_new_tasks_only)}"
                     f" {int(how.fetched)}")
    for t, op in enumerate(ops, 1):
        kind, *args = op
        if len(args) == 3:
            pid, atom, value = args
            args = [pid, index[atom], int(value)]
        lines.append(" ".join(map(str, [t, kind, *args])))
    return "\n".join(lines) + "\n"


class Reference:
    """What the driver must print, from hamodel.ltl.monitor.LtlMonitor.

    Around the monitor (which keeps tasks, not a kernel) it keeps what the
    kernel adds: the enable switch (ltl_monitor_init() sets up every task;
    while disabled the handlers are detached) and what each task's
    ltl_atoms_fetch() would read.
    """

    def __init__(self, build: LtlBuild, setup: Mapping[str, AtomSetup] | None = None) -> None:
        setup = dict(setup or {})
        self.m = build.spec.name
        self.short = dict(zip(build.spec.atoms, abbreviations(build.spec.atoms), strict=True))
        self.monitor = LtlMonitor(build.buchi, setup, self._step, self._violation)
        self.fetched = [a for a in build.spec.atoms if setup.get(a, AtomSetup()).fetched]
        self.props = {pid: dict.fromkeys(self.fetched, False) for pid in range(TASKS)}
        self.enabled = False
        self.out: list[str] = []
        self.t = 0

    def _who(self, task: int) -> tuple[str, int]:
        return f"task{task}", task

    def _step(self, s: Step) -> None:
        text = events.event_text(self.m, *self._who(s.task), s.states,
                                 [self.short[a] for a in s.atoms], s.next)
        self.out.append(f"{self.t} trace {text}")

    def _violation(self, v: Violation) -> None:
        self.out.append(f"{self.t} trace {events.error_text(self.m, *self._who(v.task))}")
        self.out.append(f"{self.t} react {events.react_text(self.m, *self._who(v.task))}")

    def _print(self, pid: int) -> None:
        t = self.monitor.tasks[pid]
        known = t.atoms & ~t.unknown
        self.out.append(f"{self.t} ltl {pid} {t.states:x} {known:x} {t.unknown:x}")

    def play(self, ops: Iterable[Op]) -> list[str]:
        for self.t, op in enumerate(ops, 1):
            kind, *args = op
            if kind == "enable":
                self.enabled = True
                for pid in range(1, TASKS):
                    self.monitor.task_init(pid, creation=False, props=self.props[pid])
                continue
            if kind == "disable":
                self.enabled = False
                continue
            pid = args[0]
            if kind == "prop":
                self.props[pid][args[1]] = args[2]
                if self.enabled:
                    self.monitor.fetch_values(pid, {args[1]: args[2]})
            elif not self.enabled:
                continue
            elif kind == "fork":
                self.monitor.task_init(pid, creation=True, props=self.props[pid])
            else:
                getattr(self.monitor, kind)(pid, args[1], args[2])
            if self.enabled:
                self._print(pid)
        return self.out
