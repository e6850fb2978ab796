"""Monitor reports (bytes from the ring buffer) -> `Report`, and their text/JSON lines.

The layout comes from `<m>.meta.json`, written by hamodel/gen/ebpf.py beside
the BPF C, so the decoder never guesses at the record the program writes.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path

UNSET = (1 << 64) - 1


class MetaError(ValueError):
    """A `<m>.meta.json` that cannot be read back; the message says why (one line)."""


@dataclass(frozen=True, slots=True)
class Meta:
    model: str
    states: tuple[str, ...]
    events: tuple[str, ...]
    clocks: tuple[str, ...]
    params: tuple[str, ...]
    fields: tuple[str, ...]
    comm_bytes: int
    kinds: tuple[str, ...]
    detectors: tuple[str, ...]
    counters: tuple[str, ...]
    maps: dict[str, str]
    start_program: str
    stop_program: str
    tracepoint_programs: tuple[str, ...]
    max_bindings: int

    @property
    def record_format(self) -> str:
        return "<" + "Q" * len(self.fields) + f"{self.comm_bytes}s"

    @staticmethod
    def read(path: Path) -> Meta:
        """The file's Meta; MetaError (one line) when it is unreadable or not the generator's."""
        try:
            return Meta._from_json(json.loads(path.read_text(encoding="utf-8")))
        except OSError as exc:
            raise MetaError(f"cannot read: {exc.strerror or exc}") from None
        except json.JSONDecodeError as exc:
            raise MetaError(f"not JSON (line {exc.lineno} column {exc.colno}: {exc.msg})") from None
        except UnicodeDecodeError:
            raise MetaError("not UTF-8 text") from None
        except KeyError as exc:
            raise MetaError(f"not a monitor description: no {exc.args[0]!r}") from None
        except (TypeError, ValueError, AttributeError):
            raise MetaError("not a monitor description: a field has the wrong type") from None

    @staticmethod
    def _from_json(d: dict) -> Meta:
        maps = d["maps"]
        if not isinstance(maps, dict):
            raise TypeError("maps")
        for name in _MAPS_USED:
            _name(maps[name])
        counters = _names(d["counters"])
        for name in _COUNTERS_USED:
            if name not in counters:
                raise KeyError(f"counters.{name}")
        return Meta(
            model=_name(d["model"]),
            states=_names(d["states"]),
            events=_names(d["events"]),
            clocks=_names(d["clocks"]),
            params=_names(d["params"]),
            fields=_names(d["record"]["u64"]),
            comm_bytes=_count(d["record"]["comm_bytes"]),
            kinds=_names(d["kinds"]),
            detectors=_names(d["detectors"]),
            counters=counters,
            maps=dict(maps),
            start_program=_name(d["programs"]["start"]),
            stop_program=_name(d["programs"]["stop"]),
            tracepoint_programs=_names(d["programs"]["tracepoints"]),
            max_bindings=_count(d["max_bindings"]),
        )


# What the runner looks up by name: a meta.json without them is not the generator's.
_MAPS_USED = ("timers", "bindings", "reports", "counters")
_COUNTERS_USED = (
    "started", "stopped", "violations", "exited_in_window", "already_monitoring",
    "no_timer_slot", "report_dropped",
)


def _name(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError("expected a string")
    return value


def _names(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise TypeError("expected a list")
    return tuple(_name(v) for v in value)


def _count(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 1 << 16:
        raise ValueError("expected a small count")
    return value


@dataclass(frozen=True, slots=True)
class Report:
    """One violated invocation, as the monitor saw it (times in ns, monotonic clock)."""

    kind: str
    detected_by: str
    tid: int
    tgid: int
    comm: str
    binding: int
    seq: int
    state: str
    event: str | None
    start_ns: int
    time_ns: int
    detect_ns: int
    params: tuple[tuple[str, int], ...]
    clocks: tuple[tuple[str, int | None], ...]
    residency: tuple[tuple[str, int], ...]

    @property
    def dominant(self) -> str:
        return max(self.residency, key=lambda kv: kv[1])[0]


def decode(meta: Meta, raw: bytes) -> Report:
    size = struct.calcsize(meta.record_format)
    values = struct.unpack(meta.record_format, raw[:size])
    by_name = dict(zip(meta.fields, values[:-1], strict=True))
    comm = values[-1].split(b"\0", 1)[0].decode(errors="replace")

    def prefixed(prefix: str) -> list[tuple[str, int]]:
        return [(f.split(":", 1)[1], v) for f, v in by_name.items() if f.startswith(prefix)]

    event = by_name["event"]
    return Report(
        kind=meta.kinds[by_name["kind"]],
        detected_by=meta.detectors[by_name["detected_by"]],
        tid=by_name["tid"],
        tgid=by_name["tgid"],
        comm=comm,
        binding=by_name["binding"],
        seq=by_name["seq"],
        state=meta.states[by_name["state"]],
        event=None if event == UNSET else meta.events[event],
        start_ns=by_name["start_ns"],
        time_ns=by_name["time_ns"],
        detect_ns=by_name["detect_ns"],
        params=tuple(prefixed("param:")),
        clocks=tuple((c, None if v == UNSET else v) for c, v in prefixed("clock:")),
        residency=tuple(prefixed("residency:")),
    )


def format_ns(ns: int) -> str:
    if ns >= 1_000_000_000:
        return f"{ns / 1e9:.3f}s"
    if ns >= 1_000_000:
        return f"{ns / 1e6:.3f}ms"
    if ns >= 1_000:
        return f"{ns / 1e3:.1f}us"
    return f"{ns}ns"


def text_line(meta: Meta, r: Report, label: str) -> str:
    what = {
        "invariant": "invariant" if r.event is None else f"invariant (at event {r.event})",
        "invalid_event": f"event {r.event} (no edge)",
    }[r.kind]
    total = sum(v for _, v in r.residency) or 1
    parts = " ".join(f"{s}={format_ns(v)}({100 * v // total}%)" for s, v in r.residency)
    late = r.detect_ns - r.time_ns
    return (
        f"{meta.model}: tid {r.tid} ({r.comm}) {label}: {what} violated in {r.state} "
        f"after {format_ns(r.time_ns - r.start_ns)}, noticed by {r.detected_by} "
        f"{format_ns(late)} later; {parts}; dominant {r.dominant}"
    )


def json_line(meta: Meta, r: Report, label: str) -> str:
    return json.dumps(
        {
            "type": "violation",
            "model": meta.model,
            "binding": r.binding,
            "window": label,
            "kind": r.kind,
            "detected_by": r.detected_by,
            "tid": r.tid,
            "tgid": r.tgid,
            "comm": r.comm,
            "seq": r.seq,
            "state": r.state,
            "event": r.event,
            "start_ns": r.start_ns,
            "time_ns": r.time_ns,
            "detect_ns": r.detect_ns,
            "params": dict(r.params),
            "clocks": dict(r.clocks),
            "residency_ns": dict(r.residency),
            "dominant": r.dominant,
        },
        sort_keys=True,
    )
