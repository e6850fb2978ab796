"""Binding + kernel trace text -> monitor calls: the ftrace side of `hamodel replay`.

The binding (models/<m>.binding.toml, docs/binding.md) says which tracepoint
is which model event, for which object, under which conditions on the
tracepoint's fields; which marker starts and stops monitoring.  Markers are
read from uprobe events named like the marker (`p:grp/tlob_start BIN:OFF
budget_ns=%si`, printed `tlob_start: (0x...) id=0 budget_ns=2000000`) or from
trace_marker lines (`tracing_mark_write: tlob_start budget_ns=2000000`, or
`print: tracing_mark_write: tlob_start ...` as trace-cmd shows them).
`common_pid` is the pid in the line's TASK-PID column.

Calls go to a `Sink` (hamodel/replay.py's engine).  An ordinary event for an
object that is not being monitored changes nothing in the monitor, so it is
dropped before its timestamp or conditions are even parsed: that is what keeps
replay fast on traces where the monitored tasks are a few among many: while
few objects are monitored, scan drops a line of a `skippable` tracepoint that
does not contain `=<id>` of one of them after a substring search.
"""

from __future__ import annotations

import re
from collections.abc import Container
from dataclasses import dataclass
from typing import Protocol

from hamodel.binding import _COMPARE, Binding, EventBinding, Marker
from hamodel.trace.ftrace import (
    FIELD_FORMATS,
    Handler,
    TraceFormatError,
    event_fields,
    head_pid_time,
    line_field,
    line_time,
    parse_fields,
    parse_head,
    task_state,
)

TRACE_MARKER = "tracing_mark_write"


class Sink(Protocol):
    live: Container  # objects being monitored now
    # "=<id>" of every monitored object, when they are few: a line that contains none of
    # them cannot concern a monitored object.  None: no such shortcut.
    tokens: tuple[str, ...] | None

    def start(self, line: int, t: int, obj: object, params: dict[str, int],
              args: dict[str, str]) -> None: ...

    def stop(self, line: int, t: int, obj: object) -> None: ...

    def exited(self, line: int, t: int, obj: object) -> None: ...

    def event(self, line: int, t: int, obj: object, event: str, handler: str) -> None: ...


@dataclass(frozen=True, slots=True)
class _Group:
    """The bindings of one tracepoint that name the same object field."""

    object_field: str
    bindings: tuple[EventBinding, ...]
    only_live: bool  # every binding is a plain da_handle_event


def skippable(binding: Binding) -> frozenset[str]:
    """Tracepoints whose lines only matter for objects already being monitored (every
    binding is a plain da_handle_event naming a pid field): scan may drop their lines
    that mention no monitored pid (Sink.tokens)."""
    return frozenset(
        tp for tp in binding.tracepoints
        if all(b.handler == "event" and b.object != "common_pid"
               for b in binding.for_tracepoint(tp))
        and tp != binding.exit_tracepoint
    )


def handlers(binding: Binding, sink: Sink) -> dict[str, Handler]:
    """The scan handlers (event name -> function) for this binding."""
    out: dict[str, Handler] = {}
    for tp in binding.tracepoints:
        out[tp] = _tracepoint_handler(tp, binding.for_tracepoint(tp), sink)
    markers = {m.name: (m, kind) for m, kind in ((binding.start, "start"),
                                                 (binding.stop, "stop")) if m is not None}
    for name, (marker, kind) in markers.items():
        out[name] = _uprobe_handler(marker, kind, sink)
    if markers:
        out[TRACE_MARKER] = out["print"] = _trace_marker_handler(markers, sink)
    if binding.exit_tracepoint and binding.exit_tracepoint not in out:
        out[binding.exit_tracepoint] = _exit_handler(binding.exit_tracepoint, sink)
    return out


def _tracepoint_handler(tp: str, bindings: tuple[EventBinding, ...], sink: Sink) -> Handler:
    by_field: dict[str, list[EventBinding]] = {}
    for b in bindings:
        by_field.setdefault(b.object, []).append(b)
    groups = tuple(
        _Group(f, tuple(bs), all(b.handler == "event" for b in bs)) for f, bs in by_field.items()
    )
    pattern = FIELD_FORMATS.get(tp)
    readable = {"common_pid", *pattern.groupindex} if pattern is not None else set()
    if pattern is not None and all(
        g.object_field in readable and all(c.field in readable for b in g.bindings
                                           for c in b.when)
        for g in groups
    ):
        return _format_handler(tp, pattern, groups, sink)
    if any(g.object_field == "common_pid" for g in groups):
        return _general_handler(groups, sink)
    # The hot path of replay, so the object field is found inline: " prev_pid=" after the
    # event name, up to the next space.
    fast = tuple((" " + g.object_field + "=", len(g.object_field) + 2, g.only_live, g)
                 for g in groups)
    live = sink.live

    def handle(number: int, text: str, colon: int, end: int) -> None:
        t = None
        for key, width, only_live, group in fast:
            at = text.find(key, end) + width
            if at < width:
                _object(text, colon, end, group.object_field, number)  # raises: no such field
            stop = text.find(" ", at)
            try:
                obj = int(text[at:stop] if stop > 0 else text[at:])
            except ValueError:
                obj = _object(text, colon, end, group.object_field, number)  # raises
            if only_live and obj not in live:
                continue
            if t is None:
                t = line_time(text, colon, number)
            for b in group.bindings:
                if all(c.holds(_numeric(text, end, c.field, number)) for c in b.when):
                    sink.event(number, t, obj, b.event, b.handler)

    return handle


def _format_handler(tp: str, pattern: re.Pattern[str], groups: tuple[_Group, ...],
                    sink: Sink) -> Handler:
    """A tracepoint with a comm field, read by its whole print format (FIELD_FORMATS)
    so that no task name can stand in for a pid or a state."""
    live = sink.live
    # Per group: its object field, whether only monitored objects count, and per
    # binding (event, handler, its conditions as (field, compare, value)).
    plan = tuple(
        (g.object_field, g.only_live,
         tuple((b.event, b.handler, tuple((c.field, _COMPARE[c.op], c.value) for c in b.when))
               for b in g.bindings))
        for g in groups)

    # The match of each field text seen lately: a monitored task's lines repeat their
    # fields (the same tasks switch in and out), and the pattern gives a text the same
    # match every time (it looks at nothing before the fields).
    matched: dict[str, re.Match[str]] = {}

    def handle(number: int, text: str, colon: int, end: int) -> None:
        fields = text[end + 1:]
        m = matched.get(fields)
        if m is None:
            m = pattern.match(fields)
            if m is None:
                raise TraceFormatError(number, f"the fields of this {tp} line do not follow "
                                               f"the kernel's format: {fields.strip()[:120]!r}",
                                       col=end + 2 + len(fields) - len(fields.lstrip()))
            if len(matched) >= 1024:
                matched.clear()
            matched[fields] = m
        t = None
        read: dict[str, int] = {}  # the fields conditions have read on this line
        for field, only_live, bindings in plan:
            obj = (parse_head(text[:colon], number).pid if field == "common_pid"
                   else int(m[field]))
            if only_live and obj not in live:
                continue
            if t is None:
                t = line_time(text, colon, number)
            for event, handler, conditions in bindings:
                for name, compare, value in conditions:
                    got = read.get(name)
                    if got is None:
                        got = read[name] = _format_field(m, name, text, colon, number)
                    if not compare(got, value):
                        break
                else:
                    sink.event(number, t, obj, event, handler)

    return handle


def _format_field(m: re.Match[str], name: str, text: str, colon: int, number: int) -> int:
    if name == "common_pid":
        return parse_head(text[:colon], number).pid
    return _value(name, m[name], number)


def _general_handler(groups: tuple[_Group, ...], sink: Sink) -> Handler:
    live = sink.live

    def handle(number: int, text: str, colon: int, end: int) -> None:
        t = None
        for group in groups:
            obj = _object(text, colon, end, group.object_field, number)
            if group.only_live and obj not in live:
                continue
            if t is None:
                t = line_time(text, colon, number)
            for b in group.bindings:
                if all(c.holds(_numeric(text, end, c.field, number)) for c in b.when):
                    sink.event(number, t, obj, b.event, b.handler)

    return handle


def _uprobe_handler(marker: Marker, kind: str, sink: Sink) -> Handler:
    def handle(number: int, text: str, colon: int, end: int) -> None:
        pid, t = head_pid_time(text, colon, number)
        _marker(sink, kind, marker, number, t, pid, parse_fields(text[end + 1 :]))

    return handle


def _trace_marker_handler(markers: dict[str, tuple[Marker, str]], sink: Sink) -> Handler:
    def handle(number: int, text: str, colon: int, end: int) -> None:
        words = text[end + 1 :].split()
        if words and words[0].endswith(":"):
            # trace-cmd shows the ftrace print event: `print: tracing_mark_write: text`.
            words = words[1:]
        if not words or words[0] not in markers:
            return  # some other message written to trace_marker
        marker, kind = markers[words[0]]
        pid, t = head_pid_time(text, colon, number)
        _marker(sink, kind, marker, number, t, pid, parse_fields(" ".join(words[1:])))

    return handle


def _exit_handler(tp: str, sink: Sink) -> Handler:
    def handle(number: int, text: str, colon: int, end: int) -> None:
        fields = event_fields(tp, text, end + 1, number)
        obj = _object(text, colon, end, "pid", number) if fields is None else int(fields["pid"])
        sink.exited(number, line_time(text, colon, number), obj)

    return handle


def _marker(sink: Sink, kind: str, marker: Marker, number: int, t: int, pid: int,
            args: dict[str, str]) -> None:
    if marker.object == "common_pid":
        obj: object = pid
    else:
        obj = _int(args.get(marker.object), marker.object, number)
    if kind == "stop":
        sink.stop(number, t, obj)
        return
    params = {p: _int(args.get(arg), arg, number) for p, arg in marker.params}
    sink.start(number, t, obj, params, args)


def _object(text: str, colon: int, end: int, name: str, number: int) -> int:
    if name == "common_pid":
        return parse_head(text[:colon], number).pid
    return _int(line_field(text, end, name), name, number)


def _numeric(text: str, end: int, name: str, number: int) -> int:
    if name == "common_pid":
        return parse_head(text[: text.rfind(": ", 0, end)], number).pid
    return _value(name, line_field(text, end, name), number)


def _value(name: str, value: str | None, number: int) -> int:
    if name.endswith("state") and value is not None and not value.lstrip("-").isdigit():
        return task_state(value, number)
    return _int(value, name, number)


def _int(value: str | None, name: str, number: int) -> int:
    if value is None:
        raise TraceFormatError(number, f"the event has no field {name!r}", needle=": ")
    try:
        if value[:2] in ("0x", "0X"):
            return int(value, 16)  # uprobe arguments of type x64
        return int(value)
    except ValueError:
        raise TraceFormatError(number, f"field {name}={value!r} is not a number",
                               needle=f"{name}={value}") from None
