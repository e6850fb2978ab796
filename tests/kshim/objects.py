"""Run a whole generated monitor with start/stop markers (tlob) on the verbatim framework.

`build_objects` writes `<m>.h`, `<m>.c` and `<m>_trace.h` exactly
as `hamodel gen --target kernel-c` does (one change: the pool has `slots`
monitors, so a short test can fill it) and compiles them with
tests/kshim/driver.c, the verbatim framework headers and AddressSanitizer.  The
driver is fed tracepoint hits, starts, stops, the tracefs binding file and its
uprobes; it prints the kernel's trace lines.

`Reference` replays the same through hamodel.semantics.Monitor (and the
binding, the slot pool and the enable switch around it) and prints the lines
the kernel would.
"""

from __future__ import annotations

import dataclasses
import subprocess
from collections.abc import Iterable
from pathlib import Path

from hamodel.binding import Binding, reported_prev_state
from hamodel.gen import GenOptions, kernel_c, render
from hamodel.gen.kernel_objects import BindingLine, parse_binding_line
from hamodel.model import Automaton
from hamodel.semantics import (
    Monitor,
    Moved,
    Platform,
    StartResult,
    StopResult,
    Violation,
    ViolationKind,
)

from . import CFLAGS, FRAMEWORK, HERE, SANITIZE, configs, rv_trace_h, trace_stubs

ERRNO = {"EALREADY": 114, "ENOSPC": 28, "ERANGE": 34, "ENODEV": 19, "ESRCH": 3,
         "EOVERFLOW": 75, "EINVAL": 22, "EEXIST": 17, "ENOENT": 2, "EBUSY": 16}
# The driver's clock at its first line: a kernel that has been up for a while.
UPTIME = 1 << 42

Op = tuple  # (time, op, *args) as strings/ints; time is relative to UPTIME


@dataclasses.dataclass(frozen=True)
class ObjectsBuild:
    exe: Path
    view: kernel_c.View

    def run(self, ops: Iterable[Op], mode: str | None = None, uptime: int = UPTIME,
            latency_ns: int = 0) -> list[str]:
        """Lines the driver prints, times made relative to `uptime` again."""
        ops = list(ops)
        first = ops[0][0] if ops else 0
        text = f"{first + uptime} enable\n" + "".join(
            " ".join([str(op[0] + uptime), *map(str, op[1:])]) + "\n" for op in ops)
        argv = [str(self.exe), "-u", str(uptime), "-l", str(latency_ns)]
        if mode:
            argv.append(mode)
        done = subprocess.run(argv, input=text, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stdout + done.stderr
        if mode:
            return done.stdout.splitlines()
        out = []
        for line in done.stdout.splitlines():
            t, rest = line.split(" ", 1)
            out.append(f"{int(t) - uptime} {rest}")
        return out


def _build_h(view) -> str:
    m = view.name
    lines = [f'#include "monitors/{m}/{m}.c"',
             f"#define KSHIM_START {m}_start_task",
             f"#define KSHIM_STOP {m}_stop_task"]
    if view.objects.uprobe:
        lines += ["#define KSHIM_FILE",
                  f"#define KSHIM_PARSE {m}_parse_binding",
                  f"#define KSHIM_PARSE_LINE {m}_binding_line",
                  f"#define KSHIM_PARSE_VALUE(b) ((b).{view.objects.uprobe.c_name})"]
    return "\n".join(lines) + "\n"


def build_objects(a: Automaton, binding: Binding, workdir: Path, slots: int) -> ObjectsBuild:
    view = kernel_c.build_view(a, GenOptions(a.file or "model.dot", binding=binding))
    assert view.objects is not None, "the binding starts no monitor"
    view = dataclasses.replace(view, objects=dataclasses.replace(view.objects, slots=slots))
    m = view.name
    src = workdir / "monitors" / m
    src.mkdir(parents=True, exist_ok=True)
    (src / f"{m}.h").write_text(render("kernel-c", "model.h.j2", v=view))
    (src / f"{m}.c").write_text(render("kernel-c", "monitor.c.j2", v=view))
    (src / f"{m}_trace.h").write_text(render("kernel-c", "trace.h.j2", v=view))
    rv_trace = rv_trace_h(view)
    (workdir / "rv_trace.h").write_text(rv_trace)
    trace_stubs(workdir, rv_trace, f"monitors/{m}/{m}_trace.h")
    config = configs(view)
    (workdir / "autoconf.h").write_text("".join(f"#define {k} {v}\n" for k, v in config.items()))
    (workdir / "kshim_build.h").write_text(_build_h(view))
    exe = workdir / "driver"
    cmd = ["gcc", *CFLAGS, *SANITIZE, "-include", str(workdir / "autoconf.h"),
           f"-I{workdir}", f"-I{HERE / 'include'}", f"-I{FRAMEWORK / 'include'}",
           str(HERE / "driver.c"), "-o", str(exe)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise AssertionError(f"gcc failed on {m}.c:\n{done.stderr[-6000:]}")
    return ObjectsBuild(exe, view)


def parse_c(build: ObjectsBuild, lines: list[str]) -> list[str]:
    text = "".join(line.encode().hex() + "\n" for line in lines)
    done = subprocess.run([str(build.exe), "parse"], input=text, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def parse_reference(line: str, word: str, least: int | None, greatest: int | None) -> str:
    got = parse_binding_line(line, word, least, greatest)
    if isinstance(got, str):
        return str(-ERRNO[got.removeprefix("-")])
    if got.remove:
        return f"0 remove {got.path} {got.start}"
    return f"0 add {got.path} {got.start} {got.stop} {got.value}"


class Reference:
    """What the generated monitor must print, from hamodel.semantics.Monitor.

    Around the semantics (which knows objects, not kernels) it keeps what the
    C adds: the enable switch (-ENODEV), the parameter limits (-ERANGE), the
    pool of slots (-ENOSPC; a slot is held from a start to the stop or exit,
    through a violation), the binding's tracepoint conditions and the uprobe
    binding file.
    """

    def __init__(self, a: Automaton, binding: Binding, slots: int, pids: Iterable[int],
                 uptime: int = UPTIME, platform: Platform | None = None) -> None:
        self.a, self.binding, self.slots = a, binding, slots
        self.uptime = uptime
        self.platform = platform
        self.pids = sorted(pids)
        self.view = kernel_c.build_view(a, GenOptions(a.file or "model.dot", binding=binding))
        self.param = self.view.objects.params[0]
        self.enabled = True
        self.held: dict[int, int] = {}  # pid -> parameter value of its last start
        self.files: dict[tuple[str, int], BindingLine] = {}
        self.out: list[str] = []
        self._fresh(0)

    def _fresh(self, t: int) -> None:
        self.mon = Monitor(self.a, platform=self.platform)

    def _emit(self, outs) -> None:
        """Outcomes as the driver prints them, times relative to the uptime."""
        m = self.view.name
        finals = {s.name for s in self.a.final_states}
        for o in outs:
            t = o.time - self.uptime
            if isinstance(o, Moved):
                final = " (final)" if o.dst in finals else ""
                self.out.append(f"{t} trace event_{m}: {o.obj}: {o.src} x {o.event} ->"
                                f" {o.dst}{final}")
                continue
            assert isinstance(o, Violation)
            event = o.event or "none"
            if o.kind is ViolationKind.INVALID_EVENT:
                self.out.append(f"{t} react rv: monitor {m} does not allow event {event}"
                                f" on state {o.state}")
                self.out.append(f"{t} trace error_{m}: {o.obj}: event {event} not"
                                f" expected in the state {o.state}")
                continue
            env = o.env_text()
            self.out.append(f"{t} react rv: monitor {m} does not allow event {event} on"
                            f" state {o.state} with env {env}")
            self.out.append(f"{t} trace error_env_{m}: {o.obj}: event {event} not"
                            f" expected in the state {o.state} with env {env}")
            if self.view.objects.residency:  # after every error_env, timer's or event's
                spent = dict(o.residency)
                o_ = self.view.objects
                values = [(p.c_name, self.held[o.obj]) for p in o_.params]
                values += [(r.field, spent[name])
                           for name, r in zip(self.binding.residency, o_.residency, strict=True)]
                text = " ".join(f"{k}={v}" for k, v in values)
                self.out.append(f"{t} trace detail_env_{m}: {o.obj}: {text}")

    def _event(self, t: int, tracepoint: str, fields: dict[str, int]) -> None:
        for eb in self.binding.for_tracepoint(tracepoint):
            if eb.matches(fields):
                self._emit(self.mon.event(fields[eb.object], t + self.uptime, eb.event))

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
            result, outs = self.mon.start(pid, t + self.uptime, {p.model: value})
            self._emit(outs)
            ret = -ERRNO["EALREADY"] if result is StartResult.ALREADY else 0
            if ret == 0:
                self.held[pid] = value
        if echo:
            self.out.append(f"{t} start {pid} {ret}")

    def stop(self, t: int, pid: int, echo: bool = True) -> None:
        if pid not in self.held:
            ret = -ERRNO["ESRCH"]
        else:
            result, outs = self.mon.stop(pid, t + self.uptime)
            self._emit(outs)
            ret = -ERRNO["EOVERFLOW"] if result is StopResult.VIOLATED else 0
            del self.held[pid]
        if echo:
            self.out.append(f"{t} stop {pid} {ret}")

    def play(self, ops: Iterable[Op]) -> list[str]:
        for op in ops:
            t, kind, *args = op
            self._emit(self.mon.advance(t + self.uptime))
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
                    self.out.append(f"{t} read p {path}:{start:#x} {b.stop:#x}"
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
        self.out.append(f"{t} write {ret}")
