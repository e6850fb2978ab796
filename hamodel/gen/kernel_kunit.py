"""KUnit cases of a generated kernel monitor, in the kernel's in-tree RV KUnit layout.

Input: the Automaton and `Facts` (hamodel/gen/kernel_kunit_paths.py), from the
kernel-C view.  Output: a `Kunit` view for templates/kernel-c/kunit*.j2:

- the `rv_<m>_ops` table `<m>.c` fills under CONFIG_RV_MONITORS_KUNIT_TEST
  (declared in `<m>_kunit.h`): `mon` (RV_MON_OPS_INIT(), or the monitor's own
  set-up), one sender per model event (a small function in `<m>.c` that calls
  the da_handle_*() kind the handlers use, so a case needs no tracepoint and
  no inverse of the binding), `reset`, `state`, pointers to the module
  parameters that bound clocks, and for a monitor started by markers its
  start, stop, residency and binding-file parser;
- the cases of `<m>_kunit.c` (kernel_kunit_paths.py), which
  kernel/trace/rv/rv_monitors_test.c includes; `monitors_test_lines` says
  which lines a maintainer adds there, `patch_monitors_test` adds them.
"""

from __future__ import annotations

from dataclasses import dataclass

from hamodel.gen import kernel_kunit_bounds as bounds
from hamodel.gen import kernel_kunit_paths as paths
from hamodel.gen.kernel_kunit_bounds import TINY_NS, Knob
from hamodel.gen.kernel_kunit_paths import (  # noqa: F401 (the view's types, from one place)
    NOT_MONITORING,
    Case,
    Facts,
    Scenario,
    Step,
)
from hamodel.gen.kernel_objects import Objects, ParseCase
from hamodel.model import Automaton, Number

# The pid of a case's first mock task, the next ones counting up: distinct pids, none
# 0 (the idle task's, and the deadline container's id of CPU 0's server).
FIRST_PID = 1001

# --- the ops table -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sender:
    """An ops member that sends one model event the way the handlers send it."""

    event: str  # model event
    member: str  # send_<event>
    function: str  # the static function in <m>.c
    call: str  # its da_handle_*() call, a C statement
    kind: str  # event | start_event | start_run_event


@dataclass(frozen=True, slots=True)
class StartValue:
    """A parameter of the marker's start: the C of a long and a tiny value (the
    long one a variable of the case), and its limits."""

    c_name: str
    long: str
    tiny: str
    least: int | None
    greatest: int | None


@dataclass(frozen=True, slots=True)
class Kunit:
    name: str
    upper: str
    struct: str  # rv_<m>_ops
    first_pid: int
    per_object: bool  # senders take a task
    implicit_cpu: bool  # per-CPU: cases stay on one CPU
    senders: tuple[Sender, ...]
    knobs: tuple[Knob, ...]
    reset: tuple[str, ...]  # body of <m>_kunit_reset()
    state: tuple[str, ...]  # body of <m>_kunit_state()
    own_setup: bool
    objects: Objects | None
    start_values: tuple[StartValue, ...]
    initial: str
    refused_at_start: str | None  # an event the initial state refuses (start_stop)
    literal_ns: int | None  # the largest literal ns bound (uptime check)
    cases: tuple[Case, ...]
    parse_cases: tuple[ParseCase, ...]

    @property
    def case_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.cases)

    @property
    def waits(self) -> tuple[bool, ...]:
        """Which wait helpers the cases use: (ns, jiffies)."""
        steps = [s for c in self.cases for sc in c.scenarios for s in sc.here if s.kind == "wait"]
        return (any(not s.jiffies for s in steps), any(s.jiffies for s in steps))


def monitors_test_lines(k: Kunit) -> tuple[str, tuple[str, ...]]:
    """What a maintainer adds to kernel/trace/rv/rv_monitors_test.c: the #include of
    the monitor's cases (beside the others) and its KUNIT_CASE() entries."""
    include = f'#include "monitors/{k.name}/{k.name}_kunit.c"'
    return include, tuple(f"KUNIT_CASE({c})," for c in k.case_names)


def patch_monitors_test(text: str, k: Kunit) -> str:
    """rv_monitors_test.c with the monitor's lines added (monitors_test_lines)."""
    include, cases = monitors_test_lines(k)
    return add_monitors_test_lines(text, include, cases)


def add_monitors_test_lines(text: str, include: str, cases: tuple[str, ...]) -> str:
    """The include after the last monitor's include, the cases before the terminating
    `{}` of rv_mon_test_cases[]; a line already there (the kernel's own sco, opid, ...
    of the same name) stays once, so adding twice changes nothing.  ValueError when
    the file has neither place."""
    lines = text.split("\n")
    includes = [i for i, line in enumerate(lines) if line.startswith('#include "monitors/')]
    try:
        first = lines.index("static struct kunit_case rv_mon_test_cases[] = {")
        end = lines.index("\t{}", first)
    except ValueError:
        end = None
    if not includes or end is None:
        raise ValueError("no monitor #include lines or no rv_mon_test_cases[] ending in `{}`")
    if include not in lines:
        lines.insert(includes[-1] + 1, include)
        end += 1
    for case in cases:
        if f"\t{case}" not in lines:
            lines.insert(end, f"\t{case}")
            end += 1
    return "\n".join(lines)


# --- building the view ----------------------------------------------------------------


def kunit(a: Automaton, f: Facts) -> Kunit:
    m = f.name
    per_object = f.monitor_type in ("per_task", "per_obj")
    senders = tuple(_sender(a, f, e.name) for e in a.events)
    knobs = bounds.knobs(a, f.module_params, f.binding)
    cases = paths.cases(a, f, knobs)
    start_values = []
    for p in f.objects.params if f.objects else ():
        lo = p.least if p.least is not None else 1
        hi = p.greatest if p.greatest is not None else 2**64 - 1
        long = f"clamp_t(u64, ktime_get_ns() / 2, {lo}ull, {hi}ull)"
        start_values.append(StartValue(p.c_name, long, f"{max(lo, TINY_NS)}ull", p.least,
                                       p.greatest))
    allowed = {e.event for e in a.edges if e.src == a.initial.name}
    refused = [e.name for e in a.events if e.name not in allowed]
    literal = [v.value for v in bounds.bounds(a)
               if isinstance(v, Number) and not bounds.jiffy_value(a, v)]
    return Kunit(
        name=m, upper=m.upper(), struct=f"rv_{m}_ops", first_pid=FIRST_PID,
        per_object=per_object,
        implicit_cpu=f.monitor_type == "per_cpu", senders=senders, knobs=knobs,
        reset=_reset_body(f), state=_state_body(f), own_setup=f.own_setup,
        objects=f.objects, start_values=tuple(start_values), initial=a.initial.name,
        refused_at_start=refused[0] if refused else None,
        literal_ns=max(literal) if literal else None, cases=cases,
        parse_cases=f.objects.parse_cases if f.objects and f.objects.uprobe else ())


def _target_args(f: Facts, task: str = "task") -> str:
    """The da_handle_*() object arguments for the monitor of a mock task."""
    if f.monitor_type == "per_task":
        return f"{task}, "
    if f.monitor_type == "per_obj":
        if f.dl_entities:
            return f"EXPAND_ID_TASK({task}), "
        if f.objects:
            return f"{task}->pid, NULL, "
        return f"{task}->pid, {task}, "
    return ""


def _sender(a: Automaton, f: Facts, event: str) -> Sender:
    kind = f.kinds[event]
    function = f"da_handle_{kind}"
    if kind == "start_event" and f.start_helper:
        function = f"{f.name}_handle_start_event"
    call = f"{function}({_target_args(f)}{event}{f.suffix});"
    return Sender(event, f"send_{event}", f"{f.name}_kunit_send_{event}", call, kind)


def _reset_body(f: Facts) -> tuple[str, ...]:
    if f.monitor_type == "per_task":
        return ("da_reset(task);",)
    if f.monitor_type == "per_obj":
        if f.dl_entities:
            # the deadline container makes storage at fork and policy changes: a
            # mock task gets it here
            return ("da_create_or_get(EXPAND_ID_TASK(task));", "da_reset(EXPAND_ID_TASK(task));")
        return (f"da_reset({_target_args(f).removesuffix(', ')});",)
    if f.monitor_type == "per_cpu":
        return ("guard(migrate)();", "da_monitor_reset(da_get_monitor());")
    return ("da_monitor_reset(da_get_monitor());",)


def _state_body(f: Facts) -> tuple[str, ...]:
    out = ["struct da_monitor *da_mon;", ""]
    if f.monitor_type == "per_obj":
        out += ["guard(rcu)();", f"da_mon = da_get_monitor({_target_args(f).removesuffix(', ')});",
                "if (!da_mon || !da_monitoring(da_mon))"]
    else:
        if f.monitor_type == "per_cpu":
            out.insert(0, "guard(migrate)();")
        out += [f"da_mon = da_get_monitor({'task' if f.monitor_type == 'per_task' else ''});",
                "if (!da_monitoring(da_mon))"]
    return (*out, f'\treturn "{NOT_MONITORING}";',
            "return model_get_state_name(READ_ONCE(da_mon->curr_state));")


