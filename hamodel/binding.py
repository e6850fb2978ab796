"""The binding: how kernel events become model events, in a TOML file beside the model.

`models/tlob.dot` is bound by `models/tlob.binding.toml`.  One binding serves
every target: the kernel-C generator writes tracepoint handlers from it, the
eBPF generator its BPF programs, and `hamodel replay` decodes ftrace text with
it.  docs/binding.md describes the format; this module reads and checks it.

Conditions compare tracepoint fields as numbers.  `prev_state` has ONE meaning
on every target, the state sched_switch reports (`reported_prev_state`): every
target computes it from the raw task state (kernel C and eBPF) or from the
letters ftrace prints (`PREV_STATE_LETTERS`, replay).
"""

from __future__ import annotations

import operator
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from hamodel import diagnostics as dg
from hamodel import tracepoints
from hamodel.binding_kernel import (
    TIMERS,
    Definition,
    EnvReader,
    KernelReader,
)
from hamodel.build import is_c_identifier
from hamodel.diagnostics import Diagnostic
from hamodel.load import read_text
from hamodel.model import COMPARISONS, Automaton
from hamodel.source import Span

BINDING_ERROR = dg.register("HA030", "binding", "see docs/binding.md for the binding format")

MONITOR_TYPES = ("global", "per_cpu", "per_task", "per_obj")
HANDLERS = ("event", "start_event", "start_run_event")  # da_handle_<handler>

# Fields of the tracepoints a binding may use (hamodel/tracepoints.py): tracefs
# names first, then the arguments only kernel C reads.
TRACEPOINTS: dict[str, tuple[str, ...]] = {tp.name: tp.fields for tp in tracepoints.TABLE}

# Symbolic values a condition may name: the single-bit states sched_switch
# reports (include/linux/sched.h).  Kernel C writes the name itself, so each is
# a kernel macro with exactly this value.
CONSTANTS: dict[str, int] = {
    "TASK_RUNNING": 0x0000,
    "TASK_INTERRUPTIBLE": 0x0001,
    "TASK_UNINTERRUPTIBLE": 0x0002,
    "__TASK_STOPPED": 0x0004,
    "__TASK_TRACED": 0x0008,
    "EXIT_DEAD": 0x0010,
    "EXIT_ZOMBIE": 0x0020,
    "TASK_PARKED": 0x0040,
    "TASK_REPORT_IDLE": 0x0080,
}

# Raw task-state bits the report folds (include/linux/sched.h).
TASK_REPORT = 0x007F  # the states user space may see, one bit each
TASK_IDLE = 0x0402  # TASK_UNINTERRUPTIBLE | TASK_NOLOAD
TASK_RTLOCK_WAIT = 0x1000  # PREEMPT_RT: blocked on a sleeping spinlock
TASK_FROZEN = 0x8000

# What ftrace prints for each reported state (include/trace/events/sched.h);
# `R+` is a preempted task, also TASK_RUNNING.
PREV_STATE_LETTERS: dict[str, int] = {
    "R": 0x0000,
    "S": 0x0001,
    "D": 0x0002,
    "T": 0x0004,
    "t": 0x0008,
    "X": 0x0010,
    "Z": 0x0020,
    "P": 0x0040,
    "I": 0x0080,  # TASK_REPORT_IDLE
}


def reported_prev_state(preempt: bool, state: int, exit_state: int = 0) -> int:
    """The `prev_state` every target compares: what sched_switch reports.

    A preempted task is TASK_RUNNING whatever its state word.  Otherwise the
    kernel folds the raw state (and exit_state) into one reported bit, the
    highest of TASK_REPORT, except that an idle wait (TASK_IDLE) is reported
    as TASK_REPORT_IDLE and an rt-lock wait or a frozen task as
    TASK_UNINTERRUPTIBLE (__task_state_index in include/linux/sched.h).
    """
    if preempt:
        return CONSTANTS["TASK_RUNNING"]
    reported = (state | exit_state) & TASK_REPORT
    if state & TASK_IDLE == TASK_IDLE:
        reported = CONSTANTS["TASK_REPORT_IDLE"]
    if state & (TASK_RTLOCK_WAIT | TASK_FROZEN):
        reported = CONSTANTS["TASK_UNINTERRUPTIBLE"]
    return 1 << (reported.bit_length() - 1) if reported else CONSTANTS["TASK_RUNNING"]


_COMPARE = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
            ">": operator.gt, ">=": operator.ge}


@dataclass(frozen=True, slots=True)
class Condition:
    """`field op value`; `text` is the value as written (a constant's name or a number)."""

    field: str
    op: str
    value: int
    text: str
    boolean: bool = False  # a true/false field: value 1 or 0, op == or !=

    def holds(self, actual: int) -> bool:
        return _COMPARE[self.op](actual, self.value)


@dataclass(frozen=True, slots=True)
class EventBinding:
    """Model event `event` happens to the object named by `object` when `tracepoint`
    fires and every condition holds."""

    event: str
    tracepoint: str
    object: str
    when: tuple[Condition, ...]
    handler: str = "event"
    # the event is also not sent when every one of these holds (none: no exception)
    unless: tuple[Condition, ...] = ()

    def matches(self, fields: dict[str, int]) -> bool:
        if self.unless and all(c.holds(fields[c.field]) for c in self.unless):
            return False
        return all(c.holds(fields[c.field]) for c in self.when)


@dataclass(frozen=True, slots=True)
class Marker:
    """A point in a user program (uprobe, trace_marker word, ioctl) that starts or stops
    monitoring; `params` maps model parameters to the marker's arguments."""

    name: str
    object: str
    params: tuple[tuple[str, str], ...] = ()
    # model parameter -> (least, greatest) value a start accepts (kernel: -ERANGE outside)
    limits: tuple[tuple[str, int, int], ...] = ()
    # model parameter -> the word users write for it (tracefs binding line, C names)
    names: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Binding:
    monitor_type: str
    description: str
    start: Marker | None
    stop: Marker | None
    events: tuple[EventBinding, ...]
    exit_tracepoint: str | None  # cleans up a task's monitor when it exits
    file: str
    # states whose time since the start is accounted (in this order); empty: none
    residency: tuple[str, ...] = ()
    slots: int = 64  # monitors preallocated for the start marker
    parent: str | None = None  # the container monitor (kernel C)
    timer: str | None = None  # HA timer kind (TIMERS); None: the generator's rule
    parameters: tuple[Definition, ...] = ()
    envs: tuple[EnvReader, ...] = ()
    objects: str = "task"  # what a per_obj monitor's objects are (tracepoints.OBJECT_KINDS)

    def kernel_only(self) -> tuple[str, ...]:
        """What in this binding only the kernel-C target follows (replay and eBPF
        refuse such a binding), one phrase each."""
        out: list[str] = []
        for e in self.events:
            tp = tracepoints.BY_NAME[e.tracepoint]
            if tp.kernel_only:
                out.append(f"event {e.event!r}: tracepoint {e.tracepoint}")
            names = [e.object] + [c.field for c in e.when + e.unless]
            for name in dict.fromkeys(names):
                if name in tp.kernel or name in tp.objects:
                    out.append(f"event {e.event!r}: field {name!r} of {e.tracepoint}")
            for c in e.when + e.unless:
                if c.text in tracepoints.KERNEL_CONSTANTS:
                    out.append(f"event {e.event!r}: constant {c.text}")
            if e.unless:
                out.append(f"event {e.event!r}: unless")
        return tuple(dict.fromkeys(out))

    @property
    def tracepoints(self) -> tuple[str, ...]:
        """The tracepoints the events need, in first-use order."""
        seen: dict[str, None] = {}
        for e in self.events:
            seen.setdefault(e.tracepoint, None)
        return tuple(seen)

    def for_tracepoint(self, tracepoint: str) -> tuple[EventBinding, ...]:
        return tuple(e for e in self.events if e.tracepoint == tracepoint)


def binding_path(model_path: str | Path) -> Path:
    """`models/tlob.dot` -> `models/tlob.binding.toml`."""
    p = Path(model_path)
    return p.with_name(p.name.split(".")[0] + ".binding.toml")


def find_binding(
    model_path: str | Path, automaton: Automaton
) -> tuple[Binding | None, list[Diagnostic]]:
    """The binding beside a model, or (None, []) when it has none."""
    path = binding_path(model_path)
    if not path.exists():
        return None, []
    return load_binding(path, automaton)


def load_binding(path: str | Path, automaton: Automaton) -> tuple[Binding | None, list[Diagnostic]]:
    name = str(path)
    source, diags = read_text(path)
    if source is None:
        return None, diags
    text = source.text
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return None, [dg.error(BINDING_ERROR, *toml_error(exc, name, text))]
    reader = _Reader(name, text, automaton)
    binding = reader.binding(data)
    if dg.has_errors(reader.diags):
        return None, reader.diags
    return binding, reader.diags


# tomllib gives the place only in its message before Python 3.14: "... (at line 3, column
# 7)" or "... (at end of document)".
_TOML_PLACE = re.compile(r" \(at (?:line (\d+), column (\d+)|end of document)\)$")


def toml_error(exc: tomllib.TOMLDecodeError, name: str, text: str) -> tuple[str, Span]:
    """tomllib's message without its place, and the place as a Span (any Python)."""
    message = str(exc)
    m = _TOML_PLACE.search(message)
    if m is None:
        return message, Span.point(name, 1, 1)
    if m.group(1):
        line, col = int(m.group(1)), int(m.group(2))
    else:  # the end of the document: after its last character
        lines = text.split("\n")
        line, col = len(lines), len(lines[-1]) + 1
    return message[: m.start()], Span.point(name, line, col)


_MISSING = object()
_TYPE_NAMES = {str: "a string", int: "a number", bool: "true or false", dict: "a table",
               list: "a list"}


class LocatedTables:
    """TOML text kept as lines, so that an error about a value can be located.

    tomllib keeps no positions: a value is found by searching for its text within
    the lines of the table it came from (comments skipped).  `HEADER` matches a
    table's header line; the i-th `[[event]]` is the table `event#i`.
    """

    HEADER = re.compile(r"\s*\[(\[?)\s*([A-Za-z0-9_]+)")

    def __init__(self, file: str, text: str) -> None:
        self.file = file
        self.lines = text.split("\n")
        self.sections = self._sections()

    def _sections(self) -> dict[str, tuple[int, int]]:
        """Table name -> (first, last) line index."""
        bounds: list[tuple[str, int]] = []
        events = 0
        for i, line in enumerate(self.lines):
            m = self.HEADER.match(line)
            if m is None:
                continue
            name = m.group(2).replace('"', "")
            if m.group(1) and name == "event":
                name = f"event#{events}"
                events += 1
            bounds.append((name, i))
        out: dict[str, tuple[int, int]] = {}
        for k, (name, first) in enumerate(bounds):
            last = bounds[k + 1][1] - 1 if k + 1 < len(bounds) else len(self.lines) - 1
            out.setdefault(name, (first, last))
        return out

    def where(self, needle: str, section: str | None = None) -> Span:
        first, last = self.sections.get(section or "", (0, len(self.lines) - 1))
        for i in range(first, last + 1):
            line = self.lines[i]
            line = "" if line.lstrip().startswith("#") else line.split(" #")[0]
            col = line.find(needle) if needle else -1
            if col >= 0:
                return Span(self.file, i + 1, col + 1, i + 1, col + 1 + len(needle))
        if section in self.sections:
            return Span.point(self.file, first + 1, 1)
        return Span.point(self.file, 1, 1)


class _Reader(LocatedTables, KernelReader):
    """Reads the TOML data, checking every value's type before using it."""

    def __init__(self, file: str, text: str, automaton: Automaton) -> None:
        super().__init__(file, text)
        self.a = automaton
        self.diags: list[Diagnostic] = []
        self.unknown: list[tuple[int, str, Span]] = []  # [[event]]s naming no model event

    def err(self, message: str, needle: str, section: str | None = None) -> None:
        self.diags.append(dg.error(BINDING_ERROR, message, self.where(needle, section)))

    def get(self, table: dict, key: str, kind: type, default: object, section: str) -> object:
        """table[key] if it has the right type; else an error and the default."""
        value = table.get(key, _MISSING)
        if value is _MISSING:
            return default
        if isinstance(value, bool) and kind is not bool or not isinstance(value, kind):
            self.err(f"{key} = {value!r}: expected {_TYPE_NAMES[kind]}", key, section)
            return default
        return value

    def binding(self, data: dict) -> Binding:
        monitor = self.get(data, "monitor", dict, {}, "monitor")
        mtype = self.get(monitor, "type", str, "per_task", "monitor")
        if mtype not in MONITOR_TYPES:
            self.err(f"monitor type {mtype!r} (expected one of {', '.join(MONITOR_TYPES)})",
                     mtype, "monitor")
        description = self.get(monitor, "description", str, "", "monitor")
        start = self.marker(self.get(data, "start", dict, None, "start"), "start")
        stop = self.marker(self.get(data, "stop", dict, None, "stop"), "stop")
        raw_events = self.get(data, "event", list, [], "event#0")
        events = []
        named: set[object] = set()  # events some [[event]] table names, even a wrong one
        for i, raw in enumerate(raw_events):
            if not isinstance(raw, dict):
                self.err(f"event #{i + 1} is {raw!r}: expected a [[event]] table", "event")
                continue
            named.add(raw.get("event"))
            events += self.event(i, raw)
        from hamodel.binding_coverage import unbound_events

        # An event whose only [[event]] has an error is reported there, not again as unbound.
        self.diags += unbound_events(self.a, events, self.unknown, self.file,
                                     {n for n in named if isinstance(n, str)})
        exit_tp = self.get(monitor, "exit", str, None, "monitor")
        if exit_tp is not None and exit_tp not in TRACEPOINTS:
            self.err(f"unknown exit tracepoint {exit_tp!r}", exit_tp, "monitor")
            exit_tp = None
        residency = self.residency(monitor.get("residency", False))
        slots = self.get(monitor, "slots", int, 64, "monitor")
        if not 1 <= slots <= 65536:
            self.err(f"slots = {slots!r}: expected a number of monitors, 1 to 65536", "slots",
                     "monitor")
            slots = 64
        parent = self.get(monitor, "parent", str, None, "monitor")
        if parent is not None and not is_c_identifier(parent):
            self.err(f"parent {parent!r} is not a monitor name (a C identifier)", parent,
                     "monitor")
            parent = None
        timer = self.get(monitor, "timer", str, None, "monitor")
        if timer is not None and timer not in TIMERS:
            self.err(f"timer {timer!r} (expected one of {', '.join(TIMERS)})", timer, "monitor")
            timer = None
        started = {p for m in (start,) if m is not None for p, _ in m.params}
        parameters = self.parameters(self.get(data, "parameters", dict, {}, "parameters"),
                                     started, mtype)
        envs = self.envs(self.get(data, "env", dict, {}, "env"), mtype)
        objects = self.objects(monitor, mtype, parent, events)
        return Binding(mtype, description, start, stop, tuple(events), exit_tp, self.file,
                       residency, slots, parent, timer, parameters, envs, objects)

    def residency(self, raw: object) -> tuple[str, ...]:
        """`residency = true` (every state, kernel order) or a list of states."""
        states = tuple(s.name for s in self.a.states)
        if raw is True:
            return states
        if raw is False:
            return ()
        if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
            self.err(f"residency = {raw!r}: expected true, false or a list of states",
                     "residency", "monitor")
            return ()
        for name in raw:
            if name not in states:
                self.err(f"residency: {name!r} is no state of the model", name, "monitor")
        if len(set(raw)) != len(raw):
            self.err("residency names a state twice", "residency", "monitor")
        return tuple(x for x in raw if x in states)

    def marker(self, raw: dict | None, what: str) -> Marker | None:
        if raw is None:
            return None
        name = self.get(raw, "marker", str, "", what)
        if not is_c_identifier(name):
            self.err(f"{what} marker {name!r} is not an identifier", name or what, what)
        params: list[tuple[str, str]] = []
        model_params = {p.name for p in self.a.parameters}
        for param, arg in sorted(self.get(raw, "params", dict, {}, what).items()):
            if param not in model_params:
                self.err(f"{what} sets {param!r}, which is no parameter of the model", param,
                         what)
            elif not isinstance(arg, str) or not is_c_identifier(arg):
                self.err(f"{what} argument {arg!r} is not an identifier", str(arg), what)
            else:
                params.append((param, arg))
        obj = self.get(raw, "object", str, "common_pid", what)
        if not is_c_identifier(obj):
            self.err(f"{what} object {obj!r} is not a field name", obj, what)
        set_params = {p for p, _ in params}
        limits: list[tuple[str, int, int]] = []
        for param, pair in sorted(self.get(raw, "limits", dict, {}, what).items()):
            ok = (isinstance(pair, list) and len(pair) == 2
                  and all(isinstance(x, int) and not isinstance(x, bool) for x in pair)
                  and 0 <= pair[0] <= pair[1] < 2**64)
            if param not in set_params:
                self.err(f"{what} limits {param!r}, which the marker does not set", param, what)
            elif not ok:
                self.err(f"{what} limits {param!r}: expected [least, greatest] in 0 .. 2^64-1",
                         "limits", what)
            else:
                limits.append((param, pair[0], pair[1]))
        names: list[tuple[str, str]] = []
        for param, word in sorted(self.get(raw, "names", dict, {}, what).items()):
            if param not in set_params:
                self.err(f"{what} names {param!r}, which the marker does not set", param, what)
            elif not isinstance(word, str) or not is_c_identifier(word):
                self.err(f"{what} name {word!r} is not an identifier", str(word), what)
            else:
                names.append((param, word))
        return Marker(name, obj, tuple(params), tuple(limits), tuple(names))

    def event(self, i: int, raw: dict) -> list[EventBinding]:
        """One [[event]] table: one EventBinding per tracepoint it names."""
        section = f"event#{i}"
        event = self.get(raw, "event", str, "", section)
        tps = raw.get("tracepoint", "")
        if isinstance(tps, str):
            tps = [tps]
        obj = self.get(raw, "object", str, "common_pid", section)
        handler = self.get(raw, "handler", str, "event", section)
        ok = True
        if event not in {e.name for e in self.a.events}:
            # judged in unbound_events(): it may be the other half of a misspelling
            self.unknown.append((i, event, self.where(event or "event", section)))
            ok = False
        if not isinstance(tps, list) or not tps:
            self.err(f"event {event!r}: tracepoint = {tps!r}: expected a name or a list of"
                     " names", "tracepoint", section)
            return []
        out = []
        for tp in tps:
            if tp not in TRACEPOINTS:
                known = ", ".join(TRACEPOINTS)
                self.err(f"event {event!r}: unknown tracepoint {tp!r} (expected {known})",
                         str(tp) or "tracepoint", section)
                ok = False
                continue
            objects = TRACEPOINTS[tp] + tracepoints.BY_NAME[tp].objects
            if obj not in objects:
                self.err(f"event {event!r}: {tp} has no field {obj!r} (expected"
                         f" {objects})", obj, section)
                ok = False
            if handler not in HANDLERS:
                self.err(f"event {event!r}: handler {handler!r} (expected one of {HANDLERS})",
                         handler, section)
                ok = False
            when = self.conditions(event, tp, raw, "when", section)
            unless = self.conditions(event, tp, raw, "unless", section)
            if when is None or unless is None:
                ok = False
            else:
                out.append(EventBinding(event, tp, obj, when, handler, unless))
        return out if ok else []

    def conditions(self, event: str, tp: str, raw: dict, key: str,
                   section: str) -> tuple[Condition, ...] | None:
        """`when` or `unless`: one condition table or a list of them (None: an error)."""
        items = raw.get(key, [])
        if isinstance(items, dict):
            items = [items]
        if not isinstance(items, list):
            self.err(f"{key} = {items!r}: expected a condition table or a list of them", key,
                     section)
            return None
        out = [self.condition(event, tp, c, key, section) for c in items]
        return None if None in out else tuple(out)  # type: ignore[arg-type]

    def condition(self, event: str, tp: str, raw: object, key: str,
                  section: str) -> Condition | None:
        if not isinstance(raw, dict):
            self.err(f"event {event!r}: condition {raw!r} is not a table"
                     " { field = ..., op = ..., value = ... }", key, section)
            return None
        field = self.get(raw, "field", str, "", section)
        op = self.get(raw, "op", str, "==", section)
        value = raw.get("value")
        if field not in TRACEPOINTS[tp] or field.endswith("comm"):
            self.err(f"event {event!r}: condition on {field!r}, no numeric field of {tp}",
                     field or key, section)
            return None
        if op not in COMPARISONS:
            self.err(f"event {event!r}: operator {op!r} (expected one of {COMPARISONS})", op,
                     section)
            return None
        boolean = field in tracepoints.BY_NAME[tp].booleans
        if boolean:
            if not isinstance(value, bool) or op not in ("==", "!="):
                self.err(f"event {event!r}: {field} is true or false: compare it with =="
                         " or != and a value of true or false", field, section)
                return None
            return Condition(field, op, int(value), str(value).lower(), boolean=True)
        if isinstance(value, str):
            known = CONSTANTS | tracepoints.KERNEL_CONSTANTS
            if value not in known:
                self.err(f"event {event!r}: unknown constant {value!r} (expected"
                         f" {', '.join(known)})", value, section)
                return None
            return Condition(field, op, known[value], value)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**64:
            self.err(f"event {event!r}: condition value {value!r} is not a number"
                     " in 0 .. 2^64-1", "value", section)
            return None
        return Condition(field, op, value, str(value))
