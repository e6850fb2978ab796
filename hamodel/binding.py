"""The binding: how kernel events become model events, in a TOML file beside the model.

`models/tlob.dot` is bound by `models/tlob.binding.toml`.  One binding serves
every target: the kernel-C generator writes tracepoint handlers from it, the
eBPF generator its BPF programs, and `hamodel replay` decodes ftrace text with
it.  docs/binding.md describes the format; this module reads and checks it.

Conditions compare tracepoint fields *as the kernel passes them* (numbers:
`prev_state == TASK_RUNNING` is `prev_state == 0`); a reader of ftrace text
converts what it prints (`prev_state=R+`) back to that number first.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from hamodel import diagnostics as dg
from hamodel.build import is_c_identifier
from hamodel.diagnostics import Diagnostic
from hamodel.model import COMPARISONS, Automaton
from hamodel.source import Span

BINDING_ERROR = dg.register("HA030", "binding", "see docs/binding.md for the binding format")

MONITOR_TYPES = ("global", "per_cpu", "per_task", "per_obj")
HANDLERS = ("event", "start_event", "start_run_event")  # da_handle_<handler>

# Fields of the tracepoints a binding may use, as tracefs names them in
# events/sched/<tp>/format; `common_pid` is the task that emitted the event.
TRACEPOINTS: dict[str, tuple[str, ...]] = {
    "sched_switch": (
        "prev_comm", "prev_pid", "prev_prio", "prev_state",
        "next_comm", "next_pid", "next_prio", "common_pid",
    ),
    "sched_wakeup": ("comm", "pid", "prio", "target_cpu", "common_pid"),
    "sched_waking": ("comm", "pid", "prio", "target_cpu", "common_pid"),
    "sched_wakeup_new": ("comm", "pid", "prio", "target_cpu", "common_pid"),
    "sched_process_exit": ("comm", "pid", "prio", "common_pid"),
}

# Symbolic values a condition may name (include/linux/sched.h task states).
CONSTANTS: dict[str, int] = {
    "TASK_RUNNING": 0x0000,
    "TASK_INTERRUPTIBLE": 0x0001,
    "TASK_UNINTERRUPTIBLE": 0x0002,
}


@dataclass(frozen=True, slots=True)
class Condition:
    """`field op value`; `text` is the value as written (a constant's name or a number)."""

    field: str
    op: str
    value: int
    text: str

    def holds(self, actual: int) -> bool:
        return {
            "==": actual == self.value,
            "!=": actual != self.value,
            "<": actual < self.value,
            "<=": actual <= self.value,
            ">": actual > self.value,
            ">=": actual >= self.value,
        }[self.op]


@dataclass(frozen=True, slots=True)
class EventBinding:
    """Model event `event` happens to the object named by `object` when `tracepoint`
    fires and every condition holds."""

    event: str
    tracepoint: str
    object: str
    when: tuple[Condition, ...]
    handler: str = "event"

    def matches(self, fields: dict[str, int]) -> bool:
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
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [dg.error(dg.IO_ERROR, f"{name}: {exc}", None)]
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", 1) or 1
        col = getattr(exc, "colno", 1) or 1
        message = str(exc).split(" (at line")[0]
        return None, [dg.error(BINDING_ERROR, message, Span.point(name, line, col))]
    reader = _Reader(name, text, automaton)
    binding = reader.binding(data)
    if dg.has_errors(reader.diags):
        return None, reader.diags
    return binding, reader.diags


class _Reader:
    def __init__(self, file: str, text: str, automaton: Automaton) -> None:
        self.file = file
        self.lines = text.splitlines()
        self.a = automaton
        self.diags: list[Diagnostic] = []

    def where(self, needle: str) -> Span:
        """TOML keeps no positions: point at the first line that mentions the value."""
        for i, line in enumerate(self.lines, 1):
            col = line.find(needle) if needle else -1
            if col >= 0:
                return Span(self.file, i, col + 1, i, col + 1 + len(needle))
        return Span.point(self.file, 1, 1)

    def err(self, message: str, needle: str) -> None:
        self.diags.append(dg.error(BINDING_ERROR, message, self.where(needle)))

    def binding(self, data: dict) -> Binding:
        monitor = data.get("monitor", {})
        mtype = monitor.get("type", "per_task")
        if mtype not in MONITOR_TYPES:
            self.err(f"monitor type {mtype!r} (expected one of {', '.join(MONITOR_TYPES)})", mtype)
        description = str(monitor.get("description", ""))
        start = self.marker(data.get("start"), "start")
        stop = self.marker(data.get("stop"), "stop")
        events = tuple(
            e for i, raw in enumerate(data.get("event", [])) if (e := self.event(i, raw))
        )
        bound = {e.event for e in events}
        for ev in self.a.events:
            if ev.name not in bound:
                self.diags.append(
                    dg.warning(
                        BINDING_ERROR,
                        f"model event {ev.name!r} is bound to no tracepoint",
                        Span.point(self.file, 1, 1),
                    )
                )
        exit_tp = monitor.get("exit")
        if exit_tp is not None and exit_tp not in TRACEPOINTS:
            self.err(f"unknown exit tracepoint {exit_tp!r}", str(exit_tp))
        residency = self.residency(monitor.get("residency", False))
        slots = monitor.get("slots", 64)
        if isinstance(slots, bool) or not isinstance(slots, int) or not 1 <= slots <= 65536:
            self.err(f"slots = {slots!r}: expected a number of monitors, 1 to 65536", "slots")
            slots = 64
        return Binding(mtype, description, start, stop, events, exit_tp, self.file,
                       residency, slots)

    def residency(self, raw: object) -> tuple[str, ...]:
        """`residency = true` (every state, kernel order) or a list of states."""
        states = tuple(s.name for s in self.a.states)
        if raw is True:
            return states
        if raw is False:
            return ()
        if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
            self.err(f"residency = {raw!r}: expected true, false or a list of states",
                     "residency")
            return ()
        for name in raw:
            if name not in states:
                self.err(f"residency: {name!r} is no state of the model", name)
        if len(set(raw)) != len(raw):
            self.err("residency names a state twice", "residency")
        return tuple(x for x in raw if x in states)

    def marker(self, raw: dict | None, what: str) -> Marker | None:
        if raw is None:
            return None
        name = str(raw.get("marker", ""))
        if not is_c_identifier(name):
            self.err(f"{what} marker {name!r} is not an identifier", name or f"[{what}]")
        params: list[tuple[str, str]] = []
        model_params = {p.name for p in self.a.parameters}
        for param, arg in sorted(raw.get("params", {}).items()):
            if param not in model_params:
                self.err(f"{what} sets {param!r}, which is no parameter of the model", param)
            if not is_c_identifier(str(arg)):
                self.err(f"{what} argument {arg!r} is not an identifier", str(arg))
            params.append((param, str(arg)))
        obj = str(raw.get("object", "common_pid"))
        set_params = {p for p, _ in params}
        limits: list[tuple[str, int, int]] = []
        for param, pair in sorted(raw.get("limits", {}).items()):
            ok = (isinstance(pair, list) and len(pair) == 2
                  and all(isinstance(x, int) and not isinstance(x, bool) for x in pair)
                  and 0 <= pair[0] <= pair[1] < 2**64)
            if param not in set_params:
                self.err(f"{what} limits {param!r}, which the marker does not set", param)
            elif not ok:
                self.err(f"{what} limits {param!r}: expected [least, greatest] in 0 .. 2^64-1",
                         "limits")
            else:
                limits.append((param, pair[0], pair[1]))
        names: list[tuple[str, str]] = []
        for param, word in sorted(raw.get("names", {}).items()):
            if param not in set_params:
                self.err(f"{what} names {param!r}, which the marker does not set", param)
            elif not is_c_identifier(str(word)):
                self.err(f"{what} name {word!r} is not an identifier", str(word))
            else:
                names.append((param, str(word)))
        return Marker(name, obj, tuple(params), tuple(limits), tuple(names))

    def event(self, i: int, raw: dict) -> EventBinding | None:
        event = str(raw.get("event", ""))
        tp = str(raw.get("tracepoint", ""))
        obj = str(raw.get("object", "common_pid"))
        handler = str(raw.get("handler", "event"))
        ok = True
        if event not in {e.name for e in self.a.events}:
            self.err(f"[[event]] #{i + 1}: {event!r} is no event of the model", event or "event")
            ok = False
        if tp not in TRACEPOINTS:
            known = ", ".join(TRACEPOINTS)
            self.err(f"event {event!r}: unknown tracepoint {tp!r} (expected {known})", tp)
            return None
        fields = TRACEPOINTS[tp]
        if obj not in fields:
            self.err(f"event {event!r}: {tp} has no field {obj!r} (expected {fields})", obj)
            ok = False
        if handler not in HANDLERS:
            self.err(f"event {event!r}: handler {handler!r} (expected one of {HANDLERS})", handler)
            ok = False
        when = raw.get("when", [])
        if isinstance(when, dict):
            when = [when]
        conditions = []
        for c in when:
            cond = self.condition(event, tp, c)
            if cond is None:
                ok = False
            else:
                conditions.append(cond)
        return EventBinding(event, tp, obj, tuple(conditions), handler) if ok else None

    def condition(self, event: str, tp: str, raw: dict) -> Condition | None:
        field = str(raw.get("field", ""))
        op = str(raw.get("op", "=="))
        value = raw.get("value")
        if field not in TRACEPOINTS[tp] or field.endswith("comm"):
            self.err(f"event {event!r}: condition on {field!r}, no numeric field of {tp}", field)
            return None
        if op not in COMPARISONS:
            self.err(f"event {event!r}: operator {op!r} (expected one of {COMPARISONS})", op)
            return None
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            self.err(f"event {event!r}: condition value {value!r} is not a number", field)
            return None
        if isinstance(value, str):
            if value not in CONSTANTS:
                known = ", ".join(CONSTANTS)
                self.err(f"event {event!r}: unknown constant {value!r} (expected {known})", value)
                return None
            return Condition(field, op, CONSTANTS[value], value)
        return Condition(field, op, value, str(value))
