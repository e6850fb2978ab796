"""The parts of a binding only the kernel-C target follows: parameter values, env
readers, what per_obj objects are (docs/binding.md, "What only kernel C follows").

Input: the TOML tables `[parameters]`, `[env]` and `[monitor] objects`, read by
hamodel.binding's reader (which this mixes into).  Output: Definition and
EnvReader records whose every name and value is an identifier, a number or one
of a few fixed forms, so that a binding can put no other C into a monitor.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hamodel import tracepoints
from hamodel.build import is_c_identifier

if TYPE_CHECKING:
    from hamodel.binding import EventBinding

TIMERS = ("wheel", "hrtimer")  # HA_TIMER_WHEEL, HA_TIMER_HRTIMER


@dataclass(frozen=True, slots=True)
class Definition:
    """The value kernel C gives a model parameter that no start marker sets, or an
    extra module parameter (`extra`) other definitions use.

    `terms` are summed: numbers, kernel constants (`TICK_NSEC`), module parameter
    names and `target.FIELD` (a member of a per_obj monitor's target).
    """

    name: str
    terms: tuple[int | str, ...]
    extra: bool = False


@dataclass(frozen=True, slots=True)
class EnvReader:
    """How kernel C reads a read-only env: `kind` is `call` (`name()`), `call_target`
    (`name(target)`), `field` (`target.name`) or `builtin` (see BUILTIN_READERS)."""

    env: str
    kind: str
    name: str
    negate: bool = False


# Readers whose C is more than a call; kernel C defines them (hamodel/gen/kernel_c.py).
BUILTIN_READERS = ("preempt_disabled",)


_KERNEL_CONSTANT = re.compile(r"[A-Z][A-Z0-9_]*\Z")
_READER = re.compile(r"(!?)([A-Za-z_][A-Za-z0-9_]*)\((target)?\)\Z")


def _env_reader(env: str, text: str) -> EnvReader | None:
    """Parse one [env] value; None when it is none of the accepted forms."""
    if text in BUILTIN_READERS:
        return EnvReader(env, "builtin", text)
    if text.startswith("target."):
        field = text.removeprefix("target.")
        return EnvReader(env, "field", field) if is_c_identifier(field) else None
    m = _READER.match(text)
    if m is None or not is_c_identifier(m[2]):
        return None
    return EnvReader(env, "call_target" if m[3] else "call", m[2], bool(m[1]))



class KernelReader:
    """Reads the kernel-C tables; hamodel.binding._Reader supplies `a` (the model),
    `err` and `get`."""

    def objects(self, monitor: dict, mtype: str, parent: str | None,
                events: list[EventBinding]) -> str:
        """[monitor] objects: tasks (the default) or deadline entities, which are named
        with the helpers of the deadline container."""
        kind = self.get(monitor, "objects", str, "task", "monitor")
        if kind not in tracepoints.OBJECT_KINDS:
            self.err(f"objects = {kind!r} (expected one of"
                     f" {', '.join(tracepoints.OBJECT_KINDS)})", kind, "monitor")
            return "task"
        if kind == "dl_entity" and (mtype != "per_obj" or parent != "deadline"):
            self.err('objects = "dl_entity" takes a per_obj monitor in the deadline container'
                     ' (type = "per_obj", parent = "deadline"), whose helpers name them',
                     "objects", "monitor")
        for e in events:
            if kind == "task" and e.object in tracepoints.BY_NAME[e.tracepoint].objects:
                self.err(f"event {e.event!r}: {e.object!r} is a deadline entity:"
                         ' [monitor] objects = "dl_entity"', e.object)
        return kind

    def parameters(self, raw: dict, started: set[str], mtype: str) -> tuple[Definition, ...]:
        """[parameters]: NAME = value or [terms]; model parameters first, in model order."""
        kinds = {p.name: p.kind.value for p in self.a.parameters}
        extra = {n for n in raw if n not in kinds}
        out: list[Definition] = []
        for name in [p.name for p in self.a.parameters if p.name in raw] + sorted(extra):
            value = raw[name]
            kind = kinds.get(name, "parameter")
            if name in started:
                self.err(f"parameter {name!r} is set by the start marker, per object", name,
                         "parameters")
                continue
            if name in extra and not (is_c_identifier(name) and name.islower()):
                self.err(f"{name!r} is no parameter of the model; an extra module parameter"
                         " needs a lower-case C identifier", name, "parameters")
                continue
            terms = value if isinstance(value, list) else [value]
            if kind in ("constant", "parameter") and len(terms) != 1:
                self.err(f"parameter {name!r} takes one value (a number or a kernel constant)",
                         name, "parameters")
                continue
            good = [self.term(name, t, kinds, extra, mtype) for t in terms]
            if terms and None not in good:
                out.append(Definition(name, tuple(good), name in extra))  # type: ignore[arg-type]
            elif not terms:
                self.err(f"parameter {name!r}: an empty list", name, "parameters")
        return tuple(out)

    def term(self, name: str, term: object, kinds: dict[str, str], extra: set[str],
             mtype: str) -> int | str | None:
        if isinstance(term, int) and not isinstance(term, bool) and 0 <= term < 2**64:
            return term
        if isinstance(term, str):
            if _KERNEL_CONSTANT.match(term):
                return term
            if is_c_identifier(term) and (kinds.get(term) == "parameter" or term in extra):
                return term
            field = term.removeprefix("target.")
            if field != term and is_c_identifier(field):
                if mtype != "per_obj":
                    self.err(f"parameter {name!r}: {term!r} reads the target of a per_obj"
                             " monitor", term, "parameters")
                    return None
                return term
        self.err(f"parameter {name!r}: {term!r} is not a number in 0 .. 2^64-1, a kernel"
                 " constant (CAPITALS), a module parameter or target.FIELD", str(term),
                 "parameters")
        return None

    def envs(self, raw: dict, mtype: str) -> tuple[EnvReader, ...]:
        """[env]: how kernel C reads each read-only env, in model order."""
        readonly = [e.name for e in self.a.envs if not e.stored]
        for name in raw:
            if name not in readonly:
                self.err(f"env {name!r} is no read-only env of the model (clocks are"
                         " stored, not read)", name, "env")
        out: list[EnvReader] = []
        for name in readonly:
            text = raw.get(name)
            if text is None:
                continue
            reader = _env_reader(name, text) if isinstance(text, str) else None
            if reader is None:
                self.err(f"env {name!r}: {text!r} is not a reader: expected name(),"
                         " !name(), name(target), !name(target), target.FIELD or one of"
                         f" {', '.join(BUILTIN_READERS)}", str(text), "env")
            elif reader.kind in ("call_target", "field") and mtype != "per_obj":
                self.err(f"env {name!r}: {text!r} reads the target of a per_obj monitor",
                         text, "env")
            else:
                out.append(reader)
        return tuple(out)
