"""Guards, bounds and invariants as kernel C expressions, printed from the model's trees.

Input: `hamodel.model` values (Guard trees, Number/Symbol bounds, Invariants).
Output: C text for include/rv/ha_monitor.h's helpers, plus the split points a
template may break a long expression at.

Everything is decided on the tree, never on rendered text: whether a
comparison reads a stored clock is a look-up of its `env` (rvgen asks
`env in rule` of the printed C, so `clk` matches `myclkx`).  Precedence comes
from the node kinds; `&&` inside `||` is parenthesised as gcc -Wparentheses
asks.  Every integer literal carries `ull`, in checks and timer calls alike.
"""

from __future__ import annotations

from dataclasses import dataclass

from hamodel.model import (
    And,
    Cmp,
    Guard,
    Invariant,
    Not,
    Number,
    Or,
    Symbol,
    Value,
    comparisons,
)

# Binding strength, loosest first; a child looser than its parent gets parentheses.
_OR, _AND, _UNARY, _ATOM = 1, 2, 3, 4


@dataclass(frozen=True, slots=True)
class CNames:
    """How model names are spelt in C for one monitor."""

    suffix: str  # "_<monitor>"
    stored: frozenset[str]  # clocks: envs with storage, which may be unset
    clock_order: tuple[str, ...] = ()  # the clocks in env order (the escapes' order)

    def env(self, name: str) -> str:
        return f"{name}{self.suffix}"


def literal(value: int) -> str:
    """An unsigned 64-bit literal; the model's integers are never negative."""
    return f"{value}ull"


def value_c(value: Value) -> str:
    """A bound in the clock's base unit (ns, or jiffies), as C.

    A symbol keeps rvgen's spelling (`NAME()` -> `NAME(ha_mon)`); a unit written
    after it scales it (`LIMIT ms` -> `LIMIT * 1000000ull`) instead of being
    dropped or pasted a million times.
    """
    if isinstance(value, Number):
        return literal(value.value)
    text = value.name + ("(ha_mon)" if value.call else "")
    if value.unit is not None and value.unit.scale != 1:
        return f"{text} * {literal(value.unit.scale)}"
    return text


def value_precedence(value: Value) -> int:
    """`X * 1000ull` binds tighter than any comparison but looser than a call."""
    if isinstance(value, Symbol) and value.unit is not None and value.unit.scale != 1:
        return _UNARY
    return _ATOM


def expiry_c(inv: Invariant) -> str:
    """The bound of `inv` as ha_check_invariant_*() and ha_start_timer_*() take it.

    `<` and `<=` give the same C, as rvgen writes them: the framework decides
    how a bound is compared (non-strictly for ns clocks, strictly for jiffy
    clocks: docs/semantics.md).
    """
    return value_c(inv.bound)


@dataclass(frozen=True, slots=True)
class _Printed:
    """An expression as segments: joined by a space they read as one line.

    A template may instead put each segment on its own line; every segment but
    the last ends with its `&&` or `||`.
    """

    segments: tuple[str, ...]
    precedence: int

    def wrapped(self) -> _Printed:
        first = ("(" + self.segments[0],)
        last = self.segments[1:]
        if last:
            return _Printed(first + last[:-1] + (last[-1] + ")",), _ATOM)
        return _Printed((first[0] + ")",), _ATOM)


def _join(left: _Printed, op: str, right: _Printed, precedence: int) -> _Printed:
    segments = left.segments[:-1] + (f"{left.segments[-1]} {op}",) + right.segments
    return _Printed(segments, precedence)


def _cmp(cmp: Cmp, names: CNames) -> _Printed:
    read = f"ha_get_env(ha_mon, {names.env(cmp.env)}, time_ns)"
    return _Printed((f"{read} {cmp.op} {value_c(cmp.value)}",), _UNARY)


def _print(guard: Guard, names: CNames) -> _Printed:
    if isinstance(guard, Cmp):
        return _cmp(guard, names)
    if isinstance(guard, Not):
        inner = _print(guard.operand, names).wrapped()
        return _Printed(("!" + inner.segments[0],) + inner.segments[1:], _UNARY)
    if isinstance(guard, And):
        left, right = _print(guard.left, names), _print(guard.right, names)
        left = left.wrapped() if left.precedence < _AND else left
        right = right.wrapped() if right.precedence < _AND else right
        return _join(left, "&&", right, _AND)
    if isinstance(guard, Or):
        left, right = _print(guard.left, names), _print(guard.right, names)
        # `a || b && c` is legal C, but gcc -Wparentheses and readers want the group.
        left = left.wrapped() if left.precedence == _AND else left
        right = right.wrapped() if right.precedence == _AND else right
        return _join(left, "||", right, _OR)
    raise TypeError(f"not a guard node: {guard!r}")


def guard_segments(guard: Guard, names: CNames) -> tuple[str, ...]:
    """The guard as C, split after each `&&`/`||` (see `_Printed`).

    Every clock the guard reads that is unset (not reset since monitoring
    started) makes the whole guard hold, as rvgen writes it: one
    `ha_monitor_env_invalid(...) ||` per clock, in env order, before the guard.
    """
    printed = _print(guard, names)
    read = {c.env for c in comparisons(guard)}
    escapes = tuple(f"ha_monitor_env_invalid(ha_mon, {names.env(env)}) ||"
                    for env in names.clock_order if env in read)
    if not escapes:
        return printed.segments
    if printed.precedence < _UNARY:
        printed = printed.wrapped()
    return escapes + printed.segments


def guard_c(guard: Guard, names: CNames) -> str:
    """The guard as one line of C."""
    return " ".join(guard_segments(guard, names))


def any_of(guards: tuple[Guard, ...]) -> Guard:
    """The disjunction of several guards of edges that share source, event and target."""
    result = guards[0]
    for g in guards[1:]:
        result = Or(result, g)
    return result

