"""Guards and invariants as closed integer constraints: Automaton parts -> literals in DNF.

Time is integer (ns, or jiffies for a jiffy-clock model), so every strict bound
becomes a non-strict one: `x < c` is `x <= c - 1`, `x > c` is `x >= c + 1`.
The resulting automaton is *closed*, which is what makes the zone explorer
exact for integer time (digitization: a closed timed automaton reaches the
same locations with integer and with dense time).

The kernel's unset-clock escape (`ha_monitor_env_invalid(c) || (guard)`) covers
the whole guard, so it is not applied here but by the caller, per table cell
(cells.py).  A symbolic bound may be "unbounded" (`INFINITE`): the parameter
analysis asks what happens when an upper-bound parameter is arbitrarily large.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from hamodel.model import And, Cmp, Guard, Not, Number, Or, Value

INFINITE = -1  # sentinel parameter value: "larger than any clock value"
ENV_MAX = 2**64 - 1  # read-only envs are u64 in the kernel


@dataclass(frozen=True, slots=True)
class ClockLit:
    """`clock <= bound` (upper) or `clock >= bound` (not upper)."""

    clock: str
    upper: bool
    bound: int


@dataclass(frozen=True, slots=True)
class EnvLit:
    """`env op value` on a read-only env, op in <=, >=, ==, !=."""

    env: str
    op: str
    value: int


Lit = ClockLit | EnvLit
Conj = tuple[Lit, ...]
Dnf = tuple[Conj, ...]  # () is FALSE, ((),) is TRUE

TRUE: Dnf = ((),)
FALSE: Dnf = ()

_NEGATE = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "=="}


class MissingParameter(ValueError):
    """A symbolic bound with no value in the valuation used for this analysis."""


def resolve(value: Value, params: Mapping[str, int]) -> int:
    """A bound in base units, or INFINITE."""
    if isinstance(value, Number):
        return value.value
    if value.name not in params:
        raise MissingParameter(value.name)
    v = params[value.name]
    if v == INFINITE:
        return INFINITE
    return v * (value.unit.scale if value.unit else 1)


def dnf(
    guard: Guard | None,
    clocks: frozenset[str],
    params: Mapping[str, int],
    negate: bool = False,
) -> Dnf:
    """The guard (or its negation) as a disjunction of conjunctions of literals."""
    if guard is None:
        return FALSE if negate else TRUE
    if isinstance(guard, Not):
        return dnf(guard.operand, clocks, params, not negate)
    if isinstance(guard, And | Or):
        left = dnf(guard.left, clocks, params, negate)
        right = dnf(guard.right, clocks, params, negate)
        conjunctive = isinstance(guard, And) != negate
        return conjoin(left, right) if conjunctive else left + right
    return _cmp(guard, clocks, params, negate)


def conjoin(left: Dnf, right: Dnf) -> Dnf:
    return tuple(a + b for a in left for b in right)


def _cmp(cmp: Cmp, clocks: frozenset[str], params: Mapping[str, int], negate: bool) -> Dnf:
    is_clock = cmp.env in clocks
    op = _NEGATE[cmp.op] if negate else cmp.op
    c = resolve(cmp.value, params)
    if c == INFINITE:
        return TRUE if op in ("<", "<=", "!=") else FALSE
    if not is_clock:
        if op == "<":
            return ((EnvLit(cmp.env, "<=", c - 1),),)
        if op == ">":
            return ((EnvLit(cmp.env, ">=", c + 1),),)
        return ((EnvLit(cmp.env, op, c),),)
    x = cmp.env
    if op == "<":
        return ((ClockLit(x, True, c - 1),),)
    if op == "<=":
        return ((ClockLit(x, True, c),),)
    if op == ">":
        return ((ClockLit(x, False, c + 1),),)
    if op == ">=":
        return ((ClockLit(x, False, c),),)
    if op == "==":
        return ((ClockLit(x, True, c), ClockLit(x, False, c)),)
    return ((ClockLit(x, True, c - 1),), (ClockLit(x, False, c + 1),))  # !=


def env_solution(conj: Conj) -> dict[str, int] | None:
    """Smallest u64 value per env satisfying the env literals of a conjunction, or None."""
    lo: dict[str, int] = {}
    hi: dict[str, int] = {}
    excluded: dict[str, set[int]] = {}
    for lit in conj:
        if not isinstance(lit, EnvLit):
            continue
        e = lit.env
        lo.setdefault(e, 0)
        hi.setdefault(e, ENV_MAX)
        excluded.setdefault(e, set())
        if lit.op in ("<=", "=="):
            hi[e] = min(hi[e], lit.value)
        if lit.op in (">=", "=="):
            lo[e] = max(lo[e], lit.value)
        if lit.op == "!=":
            excluded[e].add(lit.value)
    values: dict[str, int] = {}
    for e in sorted(lo):
        v = lo[e]
        while v in excluded[e]:
            v += 1
        if v > hi[e]:
            return None
        values[e] = v
    return values


def clock_lits(conj: Conj) -> tuple[ClockLit, ...]:
    return tuple(lit for lit in conj if isinstance(lit, ClockLit))
