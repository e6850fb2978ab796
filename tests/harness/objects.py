"""Run a whole generated per_obj monitor with start/stop markers (tlob) in user space.

`compile_objects` renders `<m>.h`, `<m>.c` and `<m>_kunit.c` exactly as
`hamodel gen --target kernel-c` does (one view change: the pool has `slots`
monitors, so a short test can fill it), writes the two files the driver needs
(`names.h`: the generated function names; `rv_trace.h`: the monitor's
tracepoints, each printing one line and calling the probes attached to it) and
compiles tests/harness/obj_driver.c with gcc -Wall -Wextra -Werror against
tests/harness/kernel/.

`run_c` replays operations through the binary; `Reference` replays the same
through hamodel.semantics.Monitor (and the binding, the slot pool and the
enable switch around it); both produce the same line format.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

from hamodel.binding import Binding, reported_prev_state
from hamodel.gen import GenOptions, kernel_c, render
from hamodel.gen.kernel_handlers import TRACEPOINT_ARGS
from hamodel.gen.kernel_objects import BindingLine, parse_binding_line
from hamodel.model import Automaton
from hamodel.semantics import (
    Monitor,
    Moved,
    StartResult,
    StopResult,
    Violation,
    ViolationKind,
)

HERE = Path(__file__).resolve().parent
CFLAGS = ("-std=gnu11", "-O1", "-Wall", "-Wextra", "-Werror", "-Wno-unused-parameter",
          "-Wno-unused-function")
ERRNO = {"EALREADY": 114, "ENOSPC": 28, "ERANGE": 34, "ENODEV": 19, "ESRCH": 3,
         "EOVERFLOW": 75, "EINVAL": 22, "EEXIST": 17, "ENOENT": 2}

Op = tuple  # (time, op, *args) as strings/ints


def _rv_trace_h(view) -> str:
    m = view.name
    o = view.objects
    lines = ['#include "harness_kernel.h"']
    for tp in [h.tracepoint for h in view.handlers] + ([view.cleanup.tracepoint]
                                                        if view.cleanup else []):
        args = " ".join(TRACEPOINT_ARGS[tp].split())
        lines.append(f"static void (*harness_probe_{tp})(void *data, {args});")
    lines.append(f"static void (*harness_probe_error_env_{m})(void *data, int id, char *state,"
                 " char *event, char *env);")
    t = "(unsigned long long)(harness_now - harness_epoch)"
    lines += [
        f"static inline void trace_event_{m}(int id, char *state, char *event, char *next,"
        " bool final)",
        f'{{ printf("moved %llu %d %s %s %s\\n", {t}, id, state, event, next); }}',
        f"static inline void trace_error_{m}(int id, char *state, char *event)",
        f'{{ printf("violation %llu %d %s %s invalid_event\\n", {t}, id, state, event); }}',
        f"static inline void trace_error_env_{m}(int id, char *state, char *event, char *env)",
        "{",
        f'\tprintf("violation %llu %d %s %s %s\\n", {t}, id, state, event,'
        ' strcmp(event, "none") ? "guard" : "invariant");',
        f"\tif (harness_probe_error_env_{m})",
        f"\t\tharness_probe_error_env_{m}(NULL, id, state, event, env);",
        "}",
    ]
    if o.residency:
        fields = [p.c_name for p in o.params] + [r.field for r in o.residency]
        proto = "".join(f", u64 {f}" for f in fields)
        fmt = " %llu" * len(fields)
        args = "".join(f", (unsigned long long){f}" for f in fields)
        lines += [
            f"static inline void trace_detail_env_{m}(int id{proto})",
            f'{{ printf("detail %llu %d{fmt}\\n", {t}, id{args}); }}',
        ]
    return "\n".join(lines) + "\n"


def _names_h(view) -> str:
    m = view.name
    lines = [f'#define HARNESS_SOURCE "{m}.c"',
             f"#define harness_start_task {m}_start_task",
             f"#define harness_stop_task {m}_stop_task"]
    if view.objects.uprobe:
        lines += [f"#define harness_parse_binding {m}_parse_binding",
                  f"#define harness_binding_line {m}_binding_line",
                  f"#define HARNESS_BINDING_VALUE(b) ((b).{view.objects.uprobe.c_name})"]
    return "\n".join(lines) + "\n"


def compile_objects(a: Automaton, binding: Binding, workdir: Path, slots: int) -> Path:
    view = kernel_c.build_view(a, GenOptions(a.file or "model.dot", binding=binding))
    assert view.objects is not None, "the binding starts no monitor"
    view = dataclasses.replace(view, objects=dataclasses.replace(view.objects, slots=slots))
    m = view.name
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / f"{m}.h").write_text(render("kernel-c", "model.h.j2", v=view))
    (workdir / f"{m}.c").write_text(render("kernel-c", "monitor.c.j2", v=view))
    (workdir / f"{m}_kunit.c").write_text(render("kernel-c", "kunit.c.j2", v=view))
    (workdir / "rv_trace.h").write_text(_rv_trace_h(view))
    (workdir / "names.h").write_text(_names_h(view))
    exe = workdir / "obj_driver"
    kernel = HERE / "kernel"
    cmd = ["gcc", *CFLAGS, f"-DCONFIG_RV_MON_{view.name_upper}_KUNIT_TEST=1",
           f"-I{workdir}", f"-I{kernel}", str(HERE / "obj_driver.c"), "-o", str(exe)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise AssertionError(f"gcc failed on {m}.c:\n{done.stderr}")
    return exe


def run_c(exe: Path, ops: Iterable[Op], mode: str = "run") -> list[str]:
    text = "".join(" ".join(map(str, op)) + "\n" for op in ops)
    done = subprocess.run([str(exe), mode], input=text, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.splitlines()


def parse_c(exe: Path, lines: list[str]) -> list[str]:
    text = "".join(line.encode().hex() + "\n" for line in lines)
    done = subprocess.run([str(exe), "parse"], input=text, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def parse_reference(line: str, word: str, least: int | None, greatest: int | None) -> str:
    got = parse_binding_line(line, word, least, greatest)
    if isinstance(got, str):
        return str(-ERRNO[got.removeprefix("-")])
    if got.remove:
        return f"0 remove {got.path} {got.start}"
    return f"0 add {got.path} {got.start} {got.stop} {got.value}"


@functools.cache
def _load_module(path: Path):
    name = f"generated_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


class GeneratedPython:
    """The generated Python monitor (`generated/<m>/python/<m>_monitor.py`, issue 4)
    behind hamodel.semantics.Monitor's calling convention, so Reference can
    replay through it: outcomes are returned, not passed to callbacks."""

    def __init__(self, path: Path, automaton: Automaton) -> None:
        module = _load_module(path)
        self._outs: list = []
        self.mon = module.Monitor(on_violation=self._violation, on_move=self._move)

    def _violation(self, v) -> None:
        self._outs.append(Violation(v.obj, v.time, v.state, v.event, ViolationKind(v.kind),
                                    tuple(v.clocks), tuple(v.residency)))

    def _move(self, m) -> None:
        self._outs.append(Moved(m.obj, m.time, m.src, m.event, m.dst))

    def _take(self) -> list:
        outs, self._outs = self._outs, []
        return outs

    def advance(self, t: int) -> list:
        self.mon.advance(t)
        return self._take()

    def event(self, obj, t: int, event: str, env=None) -> list:
        self.mon.event(obj, t, event, env)
        return self._take()

    def start(self, obj, t: int, params=None):
        started = self.mon.start(obj, t, params)
        return (StartResult.STARTED if started else StartResult.ALREADY), self._take()

    def stop(self, obj, t: int):
        return StopResult(self.mon.stop(obj, t)), self._take()


class Reference:
    """What the generated monitor must print, from hamodel.semantics.Monitor.

    Around the semantics (which knows objects, not kernels) it keeps what the
    C adds: the enable switch (-ENODEV), the parameter limits (-ERANGE), the
    pool of slots (-ENOSPC; a slot is held from a start to the stop or exit,
    through a violation), the binding's tracepoint conditions and the uprobe
    binding file.
    """

    def __init__(self, a: Automaton, binding: Binding, slots: int, pids: Iterable[int],
                 generated: Path | None = None) -> None:
        """`generated`: replay through that generated Python monitor instead."""
        self.a, self.binding, self.slots = a, binding, slots
        self.generated = generated
        self.pids = sorted(pids)
        self.view = kernel_c.build_view(a, GenOptions(a.file or "model.dot", binding=binding))
        self.param = self.view.objects.params[0]
        self.enabled = True
        self.held: dict[int, int] = {}  # pid -> parameter value of its last start
        self.files: dict[tuple[str, int], BindingLine] = {}
        self.out: list[str] = []
        self._fresh(0)

    def _fresh(self, t: int) -> None:
        self.mon = GeneratedPython(self.generated, self.a) if self.generated else Monitor(self.a)
        # Register every object in id order at once, so that timers due at one
        # instant fire in id order, as the driver fires them.
        for pid in self.pids:
            self.mon.event(pid, t, self.a.events[0].name)

    def _emit(self, outs) -> None:
        for o in outs:
            if isinstance(o, Moved):
                self.out.append(f"moved {o.time} {o.obj} {o.src} {o.event} {o.dst}")
                continue
            assert isinstance(o, Violation)
            event = o.event or "none"
            self.out.append(f"violation {o.time} {o.obj} {o.state} {event} {o.kind.value}")
            if o.kind is ViolationKind.INVARIANT and self.view.objects.residency:
                spent = dict(o.residency)
                values = [self.held[o.obj]] + [spent[s] for s in self.binding.residency]
                self.out.append(f"detail {o.time} {o.obj} " + " ".join(map(str, values)))

    def _event(self, t: int, tracepoint: str, fields: dict[str, int]) -> None:
        for eb in self.binding.for_tracepoint(tracepoint):
            if eb.matches(fields):
                self._emit(self.mon.event(fields[eb.object], t, eb.event))

    def start(self, t: int, pid: int, value: int, echo: bool = True) -> None:
        p = self.param
        if not self.enabled:
            ret = -ERRNO["ENODEV"]
        elif (p.least is not None and value < p.least) or (
                p.greatest is not None and value > p.greatest):
            ret = -ERRNO["ERANGE"]
        elif pid not in self.held and len(self.held) >= self.slots:
            ret = -ERRNO["ENOSPC"]
        else:
            result, outs = self.mon.start(pid, t, {p.model: value})
            self._emit(outs)
            ret = -ERRNO["EALREADY"] if result is StartResult.ALREADY else 0
            if ret == 0:
                self.held[pid] = value
        if echo:
            self.out.append(f"start {t} {pid} {ret}")

    def stop(self, t: int, pid: int, echo: bool = True) -> None:
        if pid not in self.held:
            ret = -ERRNO["ESRCH"]
        else:
            result, outs = self.mon.stop(pid, t)
            self._emit(outs)
            ret = -ERRNO["EOVERFLOW"] if result is StopResult.VIOLATED else 0
            del self.held[pid]
        if echo:
            self.out.append(f"stop {t} {pid} {ret}")

    def play(self, ops: Iterable[Op]) -> list[str]:
        for op in ops:
            t, kind, *args = op
            self._emit(self.mon.advance(t))
            if kind == "switch":
                prev, nxt, preempt, state = map(int, args)
                if self.enabled:
                    reported = reported_prev_state(bool(preempt), state)
                    self._event(t, "sched_switch", {"prev_pid": prev, "next_pid": nxt,
                                                    "prev_state": reported})
            elif kind == "wakeup":
                if self.enabled:
                    self._event(t, "sched_wakeup", {"pid": int(args[0])})
            elif kind == "exit":
                if self.enabled:
                    self.stop(t, int(args[0]), echo=False)
            elif kind == "start":
                self.start(t, int(args[0]), int(args[1]))
            elif kind == "stop":
                self.stop(t, int(args[0]))
            elif kind == "disable":
                if self.enabled:
                    self.enabled = False
                    self.held.clear()
                    self._fresh(t)
            elif kind == "enable":
                self.enabled = True
            elif kind == "write":
                self.write(t, " ".join(map(str, args)))
            elif kind == "read":
                for (path, start), b in self.files.items():
                    self.out.append(f"read p {path}:{start:#x} {b.stop:#x}"
                                    f" {self.param.word}={b.value}")
            elif kind == "hit":
                pid, offset = int(args[0]), int(args[1])
                for b in self.files.values():
                    if b.start == offset:
                        self.start(t, pid, b.value, echo=False)
                    if b.stop == offset:
                        self.stop(t, pid, echo=False)
            else:
                raise ValueError(kind)
        return self.out

    def write(self, t: int, text: str) -> None:
        p = self.param
        got = parse_binding_line(text, p.word, p.least, p.greatest)
        if isinstance(got, str):
            ret = -ERRNO[got.removeprefix("-")]
        elif got.remove:
            ret = 0 if self.files.pop((got.path, got.start), None) else -ERRNO["ENOENT"]
        elif (got.path, got.start) in self.files:
            ret = -ERRNO["EEXIST"]
        elif not Path(got.path).is_file():
            ret = -ERRNO["ENOENT"] if not Path(got.path).exists() else -ERRNO["EINVAL"]
        else:
            self.files[(got.path, got.start)] = got
            ret = 0
        self.out.append(f"write {t} {ret}")
