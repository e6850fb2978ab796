"""The binding of an LTL spec: which kernel events set which atoms, in a TOML file beside it.

`models/pagefault.ltl` is bound by `models/pagefault.binding.toml`:

    [monitor]
    description = "real-time tasks raise no page faults"

    [atoms.RT]
    fetch = "rt_or_dl_task"        # read from the task before every step

    [atoms.PAGEFAULT]
    init = false                   # value at ltl_task_init ...
    new_tasks_only = true          # ... only for tasks forked while the monitor runs

    [[event]]
    tracepoint = ["page_fault_kernel", "page_fault_user"]
    handler = "page_fault"         # handle_page_fault (default: handle_<tracepoint>)
    task = "common_pid"            # whose monitor: the task that hit the tracepoint
    atom = "PAGEFAULT"
    action = "pulse"               # update | pulse | set (ltl_atom_update / _pulse / _set)
    value = true
    when = { field = "error_code", op = "&", value = 4 }    # optional, all must hold

The kernel-C generator writes `ltl_atoms_init`, `ltl_atoms_fetch` and the
tracepoint handlers from it; `hamodel check` says which atoms nothing sets;
replay takes the atom setup from it.  docs/ltl.md describes the format.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from hamodel import diagnostics as dg
from hamodel.binding import LocatedTables, binding_path, toml_error
from hamodel.build import is_c_identifier
from hamodel.diagnostics import Diagnostic
from hamodel.load import read_text
from hamodel.ltl import codes
from hamodel.ltl.formula import LtlSpec
from hamodel.ltl.monitor import AtomSetup
from hamodel.source import Span

ACTIONS = ("update", "pulse", "set")
OPS = ("==", "!=", "<", "<=", ">", ">=", "&")

# Task properties ltl_atoms_fetch can read (the C is the kernel-C generator's).
FETCH = ("rt_or_dl_task", "user_thread", "kernel_thread")


@dataclass(frozen=True, slots=True)
class TracepointFields:
    """What a binding may name of a tracepoint: the fields naming a task (`task = ...`),
    the numeric fields a condition may read, and which prototype it has."""

    tasks: tuple[str, ...]
    fields: tuple[str, ...]
    prototype: str  # tracepoints with one prototype may share a handler


TRACEPOINTS: dict[str, TracepointFields] = {
    "page_fault_user": TracepointFields(("common_pid",), ("address", "error_code"), "page_fault"),
    "page_fault_kernel": TracepointFields(("common_pid",), ("address", "error_code"),
                                          "page_fault"),
    "sched_switch": TracepointFields(("prev_pid", "next_pid", "common_pid"),
                                     ("prev_prio", "next_prio"), "sched_switch"),
    "sched_waking": TracepointFields(("pid", "common_pid"), ("prio",), "task"),
    "sched_wakeup": TracepointFields(("pid", "common_pid"), ("prio",), "task"),
    "sched_wakeup_new": TracepointFields(("pid", "common_pid"), ("prio",), "task"),
    "contention_begin": TracepointFields(("common_pid",), ("flags",), "contention_begin"),
    "contention_end": TracepointFields(("common_pid",), ("ret",), "contention_end"),
}


@dataclass(frozen=True, slots=True)
class Condition:
    field: str
    op: str
    value: int

    def holds(self, actual: int) -> bool:
        if self.op == "&":
            return bool(actual & self.value)
        return {
            "==": actual == self.value, "!=": actual != self.value,
            "<": actual < self.value, "<=": actual <= self.value,
            ">": actual > self.value, ">=": actual >= self.value,
        }[self.op]


@dataclass(frozen=True, slots=True)
class AtomEvent:
    """When one of `tracepoints` fires and every condition holds, `action` the
    atom of the task named by `task` to `value`."""

    tracepoints: tuple[str, ...]
    handler: str  # C: handle_<handler>
    task: str
    atom: str
    action: str
    value: bool
    when: tuple[Condition, ...]
    span: Span | None = None


@dataclass(frozen=True, slots=True)
class AtomBinding:
    atom: str
    init: bool | None = None
    new_tasks_only: bool = False
    fetch: str | None = None


@dataclass(frozen=True, slots=True)
class LtlBinding:
    file: str
    description: str
    atoms: tuple[AtomBinding, ...]  # in the spec's atom order, only those the file sets up
    events: tuple[AtomEvent, ...]

    def setup(self) -> Mapping[str, AtomSetup]:
        """The atom setup the reference monitor needs (monitor.py)."""
        return {a.atom: AtomSetup(a.init, a.new_tasks_only, a.fetch is not None)
                for a in self.atoms}

    def handlers(self) -> tuple[str, ...]:
        """Handler names, in first-use order."""
        return tuple(dict.fromkeys(e.handler for e in self.events))

    def for_handler(self, handler: str) -> tuple[AtomEvent, ...]:
        return tuple(e for e in self.events if e.handler == handler)

    def known(self, atom: str) -> bool:
        """Whether anything sets the atom: an init value, a fetch or an event."""
        a = next((b for b in self.atoms if b.atom == atom), None)
        return (a is not None and (a.init is not None or a.fetch is not None)) or any(
            e.atom == atom for e in self.events)


def find_ltl_binding(spec_path: str | Path, spec: LtlSpec
                     ) -> tuple[LtlBinding | None, list[Diagnostic]]:
    path = binding_path(spec_path)
    if not path.exists():
        return None, []
    return load_ltl_binding(path, spec)


def load_ltl_binding(path: str | Path, spec: LtlSpec
                     ) -> tuple[LtlBinding | None, list[Diagnostic]]:
    name = str(path)
    source, diags = read_text(path)  # size, encoding and NUL bytes located, as for automata
    if source is None:
        return None, diags
    text = source.text
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return None, [dg.error(codes.LTL_BINDING, *toml_error(exc, name, text))]
    reader = _Reader(name, text, spec)
    binding = reader.binding(data)
    if dg.has_errors(reader.diags):
        return None, reader.diags
    return binding, reader.diags


class _Reader(LocatedTables):
    """Checks each value's type before use; errors located as for a model's binding."""

    HEADER = re.compile(r"\s*\[(\[?)\s*([A-Za-z0-9_.\"]+)")  # [atoms.RT], [atoms."RT"]

    def __init__(self, file: str, text: str, spec: LtlSpec) -> None:
        super().__init__(file, text)
        self.spec = spec
        self.diags: list[Diagnostic] = []

    def err(self, message: str, needle: str, section: str | None) -> None:
        self.diags.append(dg.error(codes.LTL_BINDING, message, self.where(needle, section)))

    def get(self, table: dict, key: str, kinds: tuple[type, ...], default: object,
            section: str | None) -> object:
        if key not in table:
            return default
        value = table[key]
        if isinstance(value, bool) and bool not in kinds or not isinstance(value, kinds):
            names = " or ".join({str: "a string", bool: "true or false", int: "a number",
                                 dict: "a table", list: "a list"}[k] for k in kinds)
            self.err(f"{key} = {value!r}: expected {names}", key, section)
            return default
        return value

    def binding(self, data: dict) -> LtlBinding:
        known = {"monitor", "atoms", "event"}
        for key in sorted(set(data) - known):
            self.err(f"unknown table [{key}] (expected [monitor], [atoms.NAME], [[event]])",
                     key, None)
        monitor = self.get(data, "monitor", (dict,), {}, "monitor")
        mtype = self.get(monitor, "type", (str,), "per_task", "monitor")
        if mtype != "per_task":
            self.err(f"monitor type {mtype!r}: LTL monitors are per task (ltl_monitor.h)",
                     str(mtype), "monitor")
        description = self.get(monitor, "description", (str,), "", "monitor")
        for key in sorted(set(monitor) - {"type", "description"}):
            self.err(f"unknown key {key!r} in [monitor]", key, "monitor")
        atoms = self.atoms(self.get(data, "atoms", (dict,), {}, None))
        events = []
        for i, raw in enumerate(self.get(data, "event", (list,), [], None)):
            if not isinstance(raw, dict):
                self.err(f"event #{i + 1} is {raw!r}: expected an [[event]] table", "event", None)
            elif (e := self.event(i, raw)) is not None:
                events.append(e)
        return LtlBinding(self.file, str(description), atoms, tuple(events))

    def atoms(self, raw: dict) -> tuple[AtomBinding, ...]:
        out = []
        for atom in raw:
            section = f"atoms.{atom}"
            table = raw[atom]
            if atom not in self.spec.atoms:
                self.err(f"[atoms.{atom}]: {atom} is no atom of the spec (its atoms:"
                         f" {', '.join(self.spec.atoms)})", atom, section)
                continue
            if not isinstance(table, dict):
                self.err(f"atoms.{atom} = {table!r}: expected a table", atom, None)
                continue
            for key in sorted(set(table) - {"init", "new_tasks_only", "fetch"}):
                self.err(f"unknown key {key!r} for atom {atom} (expected init, new_tasks_only,"
                         " fetch)", key, section)
            init = self.get(table, "init", (bool,), None, section)
            only_new = self.get(table, "new_tasks_only", (bool,), False, section)
            fetch = self.get(table, "fetch", (str,), None, section)
            if fetch is not None and fetch not in FETCH:
                self.err(f"fetch = {fetch!r}: not a task property hamodel knows (expected one of"
                         f" {', '.join(FETCH)})", str(fetch), section)
                fetch = None
            if fetch is not None and init is not None:
                self.err(f"atom {atom}: give either an init value or a fetch, not both",
                         "fetch", section)
            if only_new and init is None:
                self.err(f"atom {atom}: new_tasks_only needs an init value", "new_tasks_only",
                         section)
            out.append(AtomBinding(atom, init, bool(only_new), fetch))
        order = {a: i for i, a in enumerate(self.spec.atoms)}
        return tuple(sorted(out, key=lambda a: order[a.atom]))

    def event(self, i: int, raw: dict) -> AtomEvent | None:
        section = f"event#{i}"
        keys = {"tracepoint", "handler", "task", "atom", "action", "value", "when"}
        for key in sorted(set(raw) - keys):
            self.err(f"unknown key {key!r} in [[event]] #{i + 1}", key, section)
        tps = raw.get("tracepoint")
        tps = [tps] if isinstance(tps, str) else tps
        if not isinstance(tps, list) or not tps or not all(isinstance(t, str) for t in tps):
            self.err(f"[[event]] #{i + 1}: tracepoint must be a name or a list of names",
                     "tracepoint", section)
            return None
        ok = True
        for tp in tps:
            if tp not in TRACEPOINTS:
                self.err(f"unknown tracepoint {tp!r} (expected one of"
                         f" {', '.join(TRACEPOINTS)})", tp, section)
                return None
        shapes = {TRACEPOINTS[tp].prototype for tp in tps}
        if len(shapes) > 1:
            self.err(f"[[event]] #{i + 1}: {', '.join(tps)} have different prototypes and"
                     " cannot share one handler", "tracepoint", section)
            return None
        handler = self.get(raw, "handler", (str,), tps[0], section)
        if not is_c_identifier(str(handler)):
            self.err(f"handler {handler!r} is not a C identifier", str(handler), section)
            ok = False
        info = TRACEPOINTS[tps[0]]
        task = self.get(raw, "task", (str,), "common_pid", section)
        if task not in info.tasks:
            self.err(f"task {task!r}: {tps[0]} names tasks by {', '.join(info.tasks)}",
                     str(task), section)
            ok = False
        atom = self.get(raw, "atom", (str,), "", section)
        if atom not in self.spec.atoms:
            self.err(f"[[event]] #{i + 1}: {atom!r} is no atom of the spec (its atoms:"
                     f" {', '.join(self.spec.atoms)})", str(atom) or "atom", section)
            ok = False
        action = self.get(raw, "action", (str,), "update", section)
        if action not in ACTIONS:
            self.err(f"action {action!r} (expected one of {', '.join(ACTIONS)})", str(action),
                     section)
            ok = False
        value = self.get(raw, "value", (bool,), None, section)
        if value is None:
            self.err(f"[[event]] #{i + 1}: value = true or false is missing", "atom", section)
            ok = False
        when = raw.get("when", [])
        when = [when] if isinstance(when, dict) else when
        conditions = []
        if not isinstance(when, list):
            self.err("when: expected a condition table or a list of them", "when", section)
            ok = False
            when = []
        for c in when:
            cond = self.condition(c, info, tps[0], section)
            if cond is None:
                ok = False
            else:
                conditions.append(cond)
        if not ok:
            return None
        return AtomEvent(tuple(tps), str(handler), str(task), str(atom), str(action),
                         bool(value), tuple(conditions), self.where("tracepoint", section))

    def condition(self, raw: object, info: TracepointFields, tp: str,
                  section: str) -> Condition | None:
        if not isinstance(raw, dict) or set(raw) - {"field", "op", "value"}:
            self.err("a condition is { field = ..., op = ..., value = ... }", "when", section)
            return None
        field = raw.get("field")
        op = raw.get("op", "==")
        value = raw.get("value")
        if field not in info.fields:
            self.err(f"condition on {field!r}: {tp} has the numeric fields"
                     f" {', '.join(info.fields)}", str(field), section)
            return None
        if op not in OPS:
            self.err(f"operator {op!r} (expected one of {' '.join(OPS)})", str(op), section)
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**64:
            self.err(f"condition value {value!r}: expected a number in 0 .. 2^64-1", "value",
                     section)
            return None
        return Condition(str(field), str(op), value)
