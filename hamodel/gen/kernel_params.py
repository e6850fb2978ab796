"""Model parameters and read-only envs in kernel C: from the binding, else XXX skeletons.

Input: the Automaton, its Binding (or None), the monitor type and the objects of
a monitor started by markers (whose parameters each start sets).  Output:
ParamDef records (one definition each in `<m>.c`) and Getter records (one
branch each of ha_get_env()).  Every name and value reaching C here was
checked by hamodel.binding (identifiers, numbers, `target.FIELD`), so a
binding cannot put other C into the monitor.
"""

from __future__ import annotations

from dataclasses import dataclass

from hamodel.binding import Binding
from hamodel.binding_kernel import Definition, EnvReader
from hamodel.gen.kernel_objects import Objects
from hamodel.model import Automaton, Env


class ParamsProblem(ValueError):
    """A [parameters] or [env] entry kernel C cannot write for this monitor."""


@dataclass(frozen=True, slots=True)
class ParamDef:
    """One parameter definition in `<m>.c`: `value` is its C, None for an XXX skeleton."""

    kind: str  # macro | constant | function | parameter (hamodel.model.SymbolKind)
    name: str
    value: str | None

    @property
    def takes_monitor(self) -> bool:
        return self.kind in ("macro", "function")

    @property
    def number(self) -> bool:
        """A module parameter whose value is a plain number (its initializer needs no
        parentheses)."""
        return self.value is not None and self.value.isdigit()


@dataclass(frozen=True, slots=True)
class Getter:
    env: str  # enum name
    body: str  # the statement after `if (env == X)`, with its `;`


# The C of each builtin reader (hamodel.binding.BUILTIN_READERS).
BUILTINS = {
    # preemption is off when the count says so; a kernel without preemption never
    # preempts, which is the same as always off
    "preempt_disabled": "!IS_ENABLED(CONFIG_PREEMPTION) || (preempt_count() & PREEMPT_MASK) > 0",
}


def definitions(a: Automaton, binding: Binding | None, monitor_type: str,
                objects: Objects | None) -> tuple[ParamDef, ...]:
    """Extra module parameters first (the others may use them), then the model's
    parameters in model order, leaving out those a start marker sets."""
    given = {d.name: d for d in binding.parameters} if binding else {}
    set_by_start = {q.model for q in objects.params} if objects else set()
    out = [ParamDef("parameter", d.name, _value(d, monitor_type)) for d in given.values()
           if d.extra]
    for p in a.parameters:
        if p.name in set_by_start:
            continue
        d = given.get(p.name)
        out.append(ParamDef(p.kind.value, p.name, _value(d, monitor_type) if d else None))
    return tuple(out)


def _value(d: Definition, monitor_type: str) -> str:
    parts = []
    for term in d.terms:
        if isinstance(term, int):
            parts.append(str(term) if term < 2**31 else f"{term}ull")
        elif term.startswith("target."):
            if monitor_type != "per_obj":
                raise ParamsProblem(f"parameter {d.name!r}: {term} needs a per_obj monitor")
            parts.append(f"ha_get_target(ha_mon)->{term.removeprefix('target.')}")
        else:
            parts.append(term)
    return " + ".join(parts)


def getter(env: Env, jiffy: bool, suffix: str, binding: Binding | None) -> Getter:
    """ha_get_env()'s branch for one env: a clock's helper, the binding's reader, or XXX."""
    if env.stored:
        body = ("return ha_get_clk_jiffy(ha_mon, env);" if jiffy
                else "return ha_get_clk_ns(ha_mon, env, time_ns);")
        return Getter(env.name + suffix, body)
    readers = {r.env: r for r in binding.envs} if binding else {}
    reader = readers.get(env.name)
    if reader is None:
        return Getter(env.name + suffix, f"return /* XXX: read {env.name} here */;")
    return Getter(env.name + suffix, f"return {reader_c(reader)};")


def reader_c(r: EnvReader) -> str:
    if r.kind == "builtin":
        return BUILTINS[r.name]
    if r.kind == "field":
        return f"ha_get_target(ha_mon)->{r.name}"
    args = "ha_get_target(ha_mon)" if r.kind == "call_target" else ""
    return f"{'!' if r.negate else ''}{r.name}({args})"
