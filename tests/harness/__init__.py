"""Compile a generated kernel-C monitor against user-space stand-ins and replay calls.

`compile_monitor` renders the model (`<m>.h`) and the constraint section of
`<m>.c` exactly as `hamodel gen --target kernel-c` does, with two hand-written
parts supplied the way a kernel developer would supply them: the parameter
definitions (`BUDGET_NS(ha_mon)`, ...) read an array set from the command line,
and the read-only envs read the values given with each event.  It compiles
them with rv_stub.h (stand-ins for da_monitor.h / ha_monitor.h) and driver.c
using `gcc -Wall -Wextra -Werror`.

`run_c` and `run_oracle` replay the same timed calls through the binary and
through hamodel.semantics.Monitor and return outcome lines in one format.
"""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
from pathlib import Path

from hamodel.gen import GenOptions, kernel_c, render
from hamodel.model import Automaton, Number
from hamodel.semantics import (
    DEFAULT_HZ,
    Monitor,
    Moved,
    StartResult,
    StopResult,
    Violation,
    tick_nsec,
)

HERE = Path(__file__).resolve().parent
TICK_NS = tick_nsec(DEFAULT_HZ)
# -Wunused-parameter is off because the kernel's constraint callbacks take
# arguments (event, next_state) a given model does not read; kernel builds
# never enable -Wextra for that reason.
CFLAGS = ("-std=gnu11", "-O1", "-Wall", "-Wextra", "-Werror", "-Wno-unused-parameter")

Op = tuple[int, str, int, tuple[int, ...]]  # (time ns, kind, event index, read-only env values)


def gcc() -> str | None:
    return shutil.which("gcc")


def readonly_envs(a: Automaton) -> tuple[str, ...]:
    return tuple(e.name for e in a.envs if not e.stored)


def _params_h(a: Automaton) -> str:
    lines = ["#include <stdint.h>"]
    lines.append(f"static uint64_t harness_params[{max(1, len(a.parameters))}];")
    lines.append(f"static uint64_t harness_env[{max(1, len(readonly_envs(a)))}];")
    for i, p in enumerate(a.parameters):
        arg = "(ha_mon)" if p.kind.value in ("macro", "function") else ""
        lines.append(f"#define {p.name}{arg} (harness_params[{i}])")
    if not a.is_hybrid:
        m = a.name
        lines.append(f"enum envs_{m} {{ env_max_{m}, env_max_stored_{m} = env_max_{m} }};")
    return "\n".join(lines) + "\n"


def compile_monitor(a: Automaton, workdir: Path) -> Path:
    """Build the driver for `a` in `workdir`; returns the executable."""
    options = GenOptions(model_path=a.file or "model.dot", monitor_type="per_task")
    view = kernel_c.build_view(a, options)
    readers = {name: i for i, name in enumerate(readonly_envs(a))}
    getters = tuple(
        dataclasses.replace(g, body=f"return harness_env[{readers[g.env[: -len(view.suffix)]]}];")
        if g.env[: -len(view.suffix)] in readers
        else g
        for g in view.getters
    )
    view = dataclasses.replace(view, getters=getters)
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "model.h").write_text(render("kernel-c", "model.h.j2", v=view))
    (workdir / "params.h").write_text(_params_h(a))
    defines = []
    if a.is_hybrid:
        (workdir / "constraints.c").write_text(render("kernel-c", "constraints.c.j2", v=view))
        defines.append("-DHARNESS_HYBRID")
        if view.initial_setup:
            defines.append("-DHARNESS_INITIAL_SETUP")
    exe = workdir / "driver"
    cmd = [gcc() or "gcc", *CFLAGS, *defines, f"-I{workdir}", f"-I{HERE}",
           str(HERE / "driver.c"), "-o", str(exe)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise AssertionError(f"gcc failed on {a.name}:\n{done.stderr}")
    return exe


def param_values(a: Automaton, values: dict[str, int]) -> tuple[int, ...]:
    return tuple(values[p.name] for p in a.parameters)


def run_c(exe: Path, a: Automaton, ops: list[Op], params: dict[str, int]) -> list[str]:
    lines = []
    for t, kind, event, env in ops:
        if kind in ("start", "stop"):
            lines.append(f"{t} {kind}")
        else:
            lines.append(" ".join([str(t), kind, str(event), *map(str, env)]))
    argv = [str(exe), str(TICK_NS), *map(str, param_values(a, params))]
    done = subprocess.run(argv, input="\n".join(lines) + "\n", capture_output=True,
                          text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def _clocks(v: Violation) -> str:
    return "".join(" -" if value is None else f" {value}" for _, value in v.clocks)


def _line(out: Moved | Violation) -> str:
    if isinstance(out, Moved):
        return f"moved {out.time} {out.src} {out.event} {out.dst}"
    event = out.event or "none"
    return f"violation {out.time} {out.state} {event} {out.kind.value}{_clocks(out)}"


def run_oracle(a: Automaton, ops: list[Op], params: dict[str, int]) -> list[str]:
    mon = Monitor(a, params=params, hz=DEFAULT_HZ)
    ro = readonly_envs(a)
    events = [e.name for e in a.events]
    lines: list[str] = []
    for t, kind, event, env in ops:
        # Timers due by now fire first, as the driver's advance() does.
        lines += [_line(o) for o in mon.advance(t)]
        if kind == "start":
            result, outs = mon.start(0, t)
            lines += [_line(o) for o in outs]
            if result is StartResult.ALREADY:
                lines.append(f"already {t}")
            continue
        if kind == "stop":
            result, outs = mon.stop(0, t)
            lines += [_line(o) for o in outs]
            lines.append(f"stop {t} {int(result is StopResult.STOPPED)}")
            continue
        values = dict(zip(ro, env, strict=True))
        call = {"event": mon.event, "start_event": mon.start_event,
                "start_run_event": mon.start_run_event}[kind]
        if kind == "event" and mon.objects() == 0:
            lines.append(f"ignored {t}")
        lines += [_line(o) for o in call(0, t, events[event], values)]
    return lines


def time_scale(a: Automaton, params: dict[str, int]) -> int:
    """A span of time in which the model's bounds matter, in ns."""
    bounds = [1]
    for s in a.states:
        if s.invariant:
            b = s.invariant.bound
            bounds.append(b.value if isinstance(b, Number) else params[b.name] * (
                b.unit.scale if b.unit else 1))
    jiffy = any(c.clock_kind is not None and c.clock_kind.value == "jiffies" for c in a.clocks)
    return max(bounds) * (TICK_NS if jiffy else 1)
