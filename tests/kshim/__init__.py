"""Build and run monitors on the verbatim RV framework in user space (kshim).

`build_model` compiles a model the way `hamodel gen --target kernel-c` writes
it (`<m>.h`, the constraint functions, `<m>_trace.h`) together with the
kernel's own `include/rv/da_monitor.h` / `ha_monitor.h` and
`kernel/trace/rv/rv_trace.h`, read from ../shared/kernel/rv-framework
unmodified, on top of the small kernel API in tests/kshim/include.  The
resulting driver (tests/kshim/driver.c) replays timed calls and prints what
the kernel would trace.  Nothing of the framework is copied into the
project: the build directory gets a copy of rv_trace.h with the monitor's
`#include` added at the framework's own marker, as a maintainer adds it.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from hamodel.gen import GenOptions, kernel_c, render
from hamodel.model import Automaton

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
FRAMEWORK = ROOT.parent / "shared" / "kernel" / "rv-framework"
MISSING = f"the verbatim RV framework is not there ({FRAMEWORK}): tests that run it skip"

CFLAGS = ("-std=gnu11", "-O1", "-g", "-Wall", "-Werror", "-Wno-unused-function",
          "-Wno-unused-variable", "-fno-strict-aliasing", "-pthread")
# AddressSanitizer turns a use-after-free (a handler writing a slot the monitor
# freed) or a write past a monitor's storage into a failed test, as KASAN would
# in the kernel; builds that test memory lifetimes use it.
SANITIZE = ("-fsanitize=address,undefined", "-fno-sanitize-recover=all")

# The framework's rv_trace.h marks where each class of monitor adds its trace header.
CLASS_MARKER = {
    "DA_MON_EVENTS_IMPLICIT": "// Add new monitors based on CONFIG_DA_MON_EVENTS_IMPLICIT here",
    "HA_MON_EVENTS_IMPLICIT": "// Add new monitors based on CONFIG_HA_MON_EVENTS_IMPLICIT here",
    "DA_MON_EVENTS_ID": "// Add new monitors based on CONFIG_DA_MON_EVENTS_ID here",
    "HA_MON_EVENTS_ID": "// Add new monitors based on CONFIG_HA_MON_EVENTS_ID here",
    "LTL_MON_EVENTS_ID": "// Add new monitors based on CONFIG_LTL_MON_EVENTS_ID here",
}


def available() -> bool:
    return (FRAMEWORK / "include" / "rv" / "ha_monitor.h").is_file() and shutil.which("gcc")


@dataclass(frozen=True)
class Build:
    exe: Path
    automaton: Automaton
    view: kernel_c.View

    def run(self, lines: list[str], *, latency_ns: int = 0, timers_first: bool = False,
            wheel_clk_ahead: bool = False) -> list[str]:
        argv = [str(self.exe), "-l", str(latency_ns)]
        if timers_first:
            argv.append("-t")
        if wheel_clk_ahead:
            argv.append("-c")
        done = subprocess.run(argv, input="\n".join(lines) + "\n", capture_output=True,
                              text=True, timeout=60)
        if done.returncode != 0:
            raise AssertionError(f"driver failed ({done.returncode}):\n{done.stderr}\n"
                                 f"{done.stdout[-2000:]}")
        return done.stdout.splitlines()


def configs(view: kernel_c.View) -> dict[str, str]:
    """The CONFIG_ symbols a kernel with this monitor built in has."""
    out = {"CONFIG_RV": "1", "CONFIG_RV_REACTORS": "1", "CONFIG_RV_MON_MAINTENANCE_EVENTS": "1",
           f"CONFIG_RV_MON_{view.name_upper}": "1"}
    cls = view.class_type  # e.g. HA_MON_EVENTS_ID
    out[f"CONFIG_{cls}"] = "1"
    if cls.startswith("HA_"):
        out["CONFIG_RV_HA_MONITOR"] = "1"
        out["CONFIG_" + cls.replace("HA_", "DA_", 1)] = "1"
    return out


def rv_trace_h(view: kernel_c.View, framework: Path = FRAMEWORK) -> str:
    """The framework's rv_trace.h with this monitor's trace header added."""
    text = (framework / "kernel/trace/rv/rv_trace.h").read_text()
    marker = CLASS_MARKER[view.class_type]
    own = f"#include <monitors/{view.name}/{view.name}_trace.h>"
    assert marker in text, marker
    # a monitor of the kernel's own (stall, opid) may be built here as another class
    text = text.replace(own + "\n", "")
    return text.replace(marker, f"{own}\n{marker}", 1)


def trace_stubs(build: Path, text: str, own: str) -> None:
    """Empty trace headers for the framework's other monitors (not built in)."""
    for path in re.findall(r"#include <(monitors/[^>]+_trace\.h)>", text):
        target = build / path
        if path != own:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text("")


def _params_h(a: Automaton) -> str:
    lines = []
    for i, p in enumerate(a.parameters):
        arg = "(ha_mon)" if p.kind.value in ("macro", "function") else ""
        lines.append(f"#define {p.name}{arg} (kshim_params[{i}])")
    return "\n".join(lines) + "\n"


def _model_source(a: Automaton, view: kernel_c.View) -> str:
    m = view.name
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
        f"#define RV_MON_TYPE {view.rv_mon_type}",
    ]
    if view.timer:
        lines.append(f"#define HA_TIMER_TYPE {view.timer}")
    if view.monitor_type == "per_obj":
        lines.append("typedef struct kshim_object *monitor_target;")
    lines += [f'#include "{m}.h"',
              "#include <rv/ha_monitor.h>" if view.hybrid else "#include <rv/da_monitor.h>",
              "static u64 kshim_env[8];", "static u64 kshim_params[8];", '#include "params.h"']
    init, destroy = ("ha_monitor_init", "ha_monitor_destroy") if view.hybrid else (
        "da_monitor_init", "da_monitor_destroy")
    if view.hybrid:
        lines.append('#include "constraints.c"')
    lines += [
        f"static int kshim_enable_monitor(void) {{ return {init}(); }}",
        f"static void kshim_disable_monitor(void) {{ rv_this.enabled = 0; {destroy}(); }}",
        "static struct rv_monitor rv_this = {",
        f'\t.name = "{m}", .enable = kshim_enable_monitor, .disable = kshim_disable_monitor,',
        "\t.reset = da_monitor_reset_all,",
        "};",
        "static int __init kshim_register_monitor(void) { return rv_register_monitor(&rv_this, NULL); }",
        "module_init(kshim_register_monitor);",
        "#define KSHIM_MODEL",
    ]
    if view.hybrid:
        lines.append("#define KSHIM_HYBRID")
    if view.initial_setup:
        lines += ["#define KSHIM_INIT_SETUP", f"#define KSHIM_START_EVENT {m}_handle_start_event"]
    return "\n".join(lines) + "\n"


def build_model(a: Automaton, workdir: Path, monitor_type: str = "per_task",
                timer: str | None = "auto", hz: int = 250, sanitize: bool = False) -> Build:
    """Compile model `a` as a `monitor_type` monitor; `timer` overrides the generator's
    HA_TIMER_TYPE choice ("HA_TIMER_WHEEL" / "HA_TIMER_HRTIMER")."""
    view = kernel_c.build_view(a, GenOptions(model_path=a.file or "model.dot",
                                             monitor_type=monitor_type))
    if timer != "auto" and view.timer:
        view = dataclasses.replace(view, timer=timer)
    return build_view_model(a, workdir, view, hz, sanitize)


def build_view_model(a: Automaton, workdir: Path, view: kernel_c.View, hz: int = 250,
                     sanitize: bool = False, framework: Path = FRAMEWORK) -> Build:
    """Compile model `a` from a kernel-C view (build_model, with the view given);
    `framework` is the RV framework's tree (the verbatim one unless a test says)."""
    readers = {e.name: i for i, e in enumerate(e for e in a.envs if not e.stored)}
    getters = tuple(
        dataclasses.replace(g, body=f"return kshim_env[{readers[g.env[: -len(view.suffix)]]}];")
        if g.env[: -len(view.suffix)] in readers else g
        for g in view.getters)
    view = dataclasses.replace(view, getters=getters,
                               start_event_helper=bool(view.initial_setup))
    m = view.name
    build = workdir
    build.mkdir(parents=True, exist_ok=True)
    (build / f"{m}.h").write_text(render("kernel-c", "model.h.j2", v=view))
    (build / "params.h").write_text(_params_h(a))
    if view.hybrid:
        (build / "constraints.c").write_text(render("kernel-c", "constraints.c.j2", v=view))
    trace = build / "monitors" / m / f"{m}_trace.h"
    trace.parent.mkdir(parents=True, exist_ok=True)
    trace.write_text(render("kernel-c", "trace.h.j2", v=view))
    rv_trace = rv_trace_h(view, framework)
    (build / "rv_trace.h").write_text(rv_trace)
    trace_stubs(build, rv_trace, f"monitors/{m}/{m}_trace.h")
    (build / "autoconf.h").write_text(
        "".join(f"#define {k} {v}\n" for k, v in configs(view).items()))
    (build / "kshim_build.h").write_text(_model_source(a, view))
    exe = build / "driver"
    cmd = ["gcc", *CFLAGS, *(SANITIZE if sanitize else ()), f"-DHZ={hz}", "-include", str(build / "autoconf.h"),
           f"-I{build}", f"-I{HERE / 'include'}", f"-I{framework / 'include'}",
           str(HERE / "driver.c"), "-o", str(exe)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise AssertionError(f"gcc failed on {a.name}:\n{done.stderr[-6000:]}")
    return Build(exe, a, view)


# --- timed scenarios, run on the framework and on hamodel.semantics -------------------------


@dataclass(frozen=True)
class Op:
    """One call at `time` (ns since boot) on object `obj` (a pid, an id or a CPU).

    kind: event | start_event | start_run_event (the da_handle_* functions),
    begin (a monitor's own start), reset (da_reset), idle (time passes).
    """

    time: int
    kind: str
    obj: int = 1
    event: int = 0
    env: tuple[int, ...] = ()


def driver_lines(build: Build, ops: list[Op], params: tuple[int, ...]) -> list[str]:
    t0 = ops[0].time if ops else 0
    lines = [f"{t0} enable"] + [f"{t0} param {i} {v}" for i, v in enumerate(params)]
    implicit = build.view.monitor_type in ("global", "per_cpu")
    for op in ops:
        cpu = f"@{op.obj} " if build.view.monitor_type == "per_cpu" else ""
        if op.kind == "idle":
            lines.append(f"{op.time} idle")
        elif op.kind == "begin":
            lines.append(f"{op.time} {cpu}begin {op.obj}")
        elif op.kind == "reset":
            if not implicit:
                lines.append(f"{op.time} reset {op.obj}")
        else:
            lines += [f"{op.time} env {i} {v}" for i, v in enumerate(op.env)]
            lines.append(f"{op.time} {cpu}handle {op.kind} {op.obj} {op.event}")
    return lines


def run_framework(build: Build, ops: list[Op], params: tuple[int, ...], **options) -> list[str]:
    return build.run(driver_lines(build, ops, params), **options)


def run_semantics(build: Build, ops: list[Op], params: tuple[int, ...],
                  platform) -> list[str]:
    """The same calls through hamodel.semantics.Monitor, printed as the driver prints."""
    from hamodel import semantics as sm

    a = build.automaton
    m = build.view.name
    id_prefix = build.view.id_monitor
    finals = {s.name for s in a.final_states}
    names = [p.name for p in a.parameters]
    mon = sm.Monitor(a, dict(zip(names, params, strict=True)), platform=platform)
    readonly = [e.name for e in a.envs if not e.stored]
    implicit = build.view.monitor_type in ("global", "per_cpu")
    out: list[str] = []

    def who(v) -> str:
        return f"{v.obj}: " if id_prefix else ""

    def emit(outcomes) -> None:
        for o in outcomes:
            if isinstance(o, sm.Moved):
                final = " (final)" if o.dst in finals else ""
                out.append(f"{o.time} trace event_{m}: {who(o)}{o.src} x {o.event} -> {o.dst}"
                           f"{final}")
                continue
            event = o.event or "none"
            if o.kind is sm.ViolationKind.INVALID_EVENT:
                out.append(f"{o.time} react rv: monitor {m} does not allow event {event} on"
                           f" state {o.state}")
                out.append(f"{o.time} trace error_{m}: {who(o)}event {event} not expected in"
                           f" the state {o.state}")
            else:
                env = o.env_text()
                out.append(f"{o.time} react rv: monitor {m} does not allow event {event} on"
                           f" state {o.state} with env {env}")
                out.append(f"{o.time} trace error_env_{m}: {who(o)}event {event} not expected"
                           f" in the state {o.state} with env {env}")

    def state(t: int, obj: int) -> None:
        st = mon.object_state(obj)
        if st is None:
            out.append(f"{t} state {obj} off")
        else:
            store = "".join(f" {v}" for v in st.store)
            out.append(f"{t} state {obj} on {st.state}{store}")

    for op in ops:
        obj = 0 if build.view.monitor_type == "global" else op.obj
        if op.kind == "idle":
            emit(mon.advance(op.time))
        elif op.kind == "begin":
            result, outcomes = mon.start(obj, op.time)
            emit(outcomes)
            ret = 0 if result is sm.StartResult.STARTED else -114
            out.append(f"{op.time} begin {op.obj} {ret}")
            state(op.time, obj)
        elif op.kind == "reset":
            if not implicit:
                emit(mon.reset(obj, op.time))
                state(op.time, obj)
        else:
            call = {"event": mon.event, "start_event": mon.start_event,
                    "start_run_event": mon.start_run_event}[op.kind]
            env = dict(zip(readonly, op.env, strict=True))
            emit(call(obj, op.time, a.events[op.event].name, env))
            state(op.time, obj)
    return out
