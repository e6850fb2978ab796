"""hamodel's portable trace format, JSON lines -> records, streaming.

One JSON object per line (blank lines and lines starting with `//` are skipped):

    {"t": 1000, "start": 42, "params": {"BUDGET_NS": 2000000}}
    {"t": 301000, "event": "sleep", "obj": 42}
    {"t": 350000, "event": "switch_in", "obj": 42, "env": {"is_defer": 0}}
    {"t": 400000, "stop": 42}
    {"t": 500000, "lost": 12}

`t` is integer ns, never decreasing; objects are integers or strings;
params and env values are integers in 0..2^64-1 (u64 in the kernel); env
names are the model's envs, not its clocks (replay checks them against the
model); `event` may carry `"handler": "start_event" | "start_run_event"` (the
kernel's da_handle_start_event / da_handle_start_run_event; default: a plain
da_handle_event); `lost` marks a gap (that many events missing, or null).
Any other shape is refused with the line number and what is wrong.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

U64_LIMIT = 1 << 64
HANDLERS = ("event", "start_event", "start_run_event")


class JsonlError(ValueError):
    """A line that is no trace record; `col` (from 1) or `needle` says where on it."""

    def __init__(self, line: int, message: str, col: int = 0, needle: str | None = None
                 ) -> None:
        super().__init__(message)
        self.line = line
        self.message = message
        self.col = col
        self.needle = needle


@dataclass(frozen=True, slots=True)
class Record:
    """One line: kind is start | stop | event | lost."""

    line: int
    kind: str
    time: int
    obj: int | str | None = None
    event: str = ""
    handler: str = "event"
    values: tuple[tuple[str, int], ...] = ()  # env of an event, params of a start
    lost: int | None = None


def read_jsonl(lines: Iterable[str]) -> Iterator[Record]:
    for number, text in enumerate(lines, 1):
        stripped = text.strip()
        if not stripped or stripped.startswith("//"):
            continue
        try:
            item = json.loads(stripped)
        except json.JSONDecodeError as exc:
            indent = len(text) - len(text.lstrip())
            raise JsonlError(number, f"not JSON: {exc.msg}", col=indent + exc.colno) from None
        except ValueError:  # an integer longer than int() reads (sys.int_info)
            digits = re.search(rf"\d{{{sys.get_int_max_str_digits() + 1},}}", text)
            raise JsonlError(number, "a number on this line is too long",
                             col=digits.start() + 1 if digits else 0) from None
        except RecursionError:
            raise JsonlError(number, "nested too deep for a trace record",
                             needle="[" * 64) from None
        yield record(item, number)


def record(item: object, number: int) -> Record:
    if not isinstance(item, dict):
        raise JsonlError(number, "each line must be a JSON object")
    t = item.get("t")
    if not _is_int(t) or t < 0:
        raise JsonlError(number, f'"t" must be a non-negative integer (ns), not {t!r}',
                         needle='"t"')
    kinds = [k for k in ("start", "stop", "event", "lost") if k in item]
    if len(kinds) != 1:
        raise JsonlError(number, 'give exactly one of "start", "stop", "event", "lost"')
    kind = kinds[0]
    allowed = {"t", kind} | {"start": {"params"}, "event": {"obj", "env", "handler"}}.get(
        kind, set()
    )
    extra = sorted(set(item) - allowed)
    if extra:
        raise JsonlError(number, f"unexpected key {extra[0]!r} in a {kind} line",
                         needle=json.dumps(extra[0]))
    if kind == "lost":
        lost = item["lost"]
        if lost is not None and (not _is_int(lost) or lost < 0):
            raise JsonlError(number, f'"lost" must be a count or null, not {lost!r}',
                             needle='"lost"')
        return Record(number, "lost", t, lost=lost)
    if kind == "event":
        name = item["event"]
        if not isinstance(name, str):
            raise JsonlError(number, f'"event" must be a string, not {name!r}',
                             needle='"event"')
        if "obj" not in item:
            raise JsonlError(number, 'an event line needs "obj"', needle='"event"')
        handler = item.get("handler", "event")
        if handler not in HANDLERS:
            raise JsonlError(number, f'"handler" must be one of {", ".join(HANDLERS)}',
                             needle='"handler"')
        return Record(number, "event", t, _obj(item["obj"], number), name, handler,
                      _values(item.get("env", {}), "env", number))
    return Record(number, kind, t, _obj(item[kind], number),
                  values=_values(item.get("params", {}), "params", number))


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _obj(value: object, number: int) -> int | str:
    if _is_int(value) or isinstance(value, str):
        return value  # type: ignore[return-value]
    raise JsonlError(number, f"an object id is an integer or a string, not {value!r}",
                     needle=json.dumps(value))


def _values(raw: object, what: str, number: int) -> tuple[tuple[str, int], ...]:
    if not isinstance(raw, dict):
        raise JsonlError(number, f'"{what}" must be an object of integers', needle=f'"{what}"')
    for name, value in raw.items():
        if not _is_int(value):
            raise JsonlError(number, f'"{what}" value {name!r} must be an integer, not {value!r}',
                             needle=json.dumps(name))
        if not 0 <= value < U64_LIMIT:
            raise JsonlError(number, f'"{what}" value {name!r} must be in 0..2^64-1 '
                                     f"(a u64 in the kernel), not {value}",
                             needle=json.dumps(name))
    return tuple(sorted(raw.items()))
