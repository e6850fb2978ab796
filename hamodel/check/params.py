"""Symbolic bounds: Automaton -> how each parameter is used, and what to explore.

A parameter only ever used as an upper bound (`clk < P`, invariants) or only as
a lower bound (`clk > P`), on edges without a sibling for the same (state,
event), is *monotone*: raising an upper (lowering a lower) parameter keeps every
run's moves valid.  So two explorations bracket all positive values:
"permissive" (upper unbounded, lower 1) and "restrictive" (upper 1, lower
unbounded).  tests/test_check_zones.py checks that bracket on random models.
"""

from __future__ import annotations

from collections.abc import Mapping

from hamodel.check.constraints import INFINITE
from hamodel.model import And, Automaton, Guard, Not, Or, Symbol


def parameter_uses(a: Automaton) -> dict[str, set[str]]:
    """Per parameter: how it bounds clocks and envs: "upper", "lower" or "other"."""
    uses: dict[str, set[str]] = {p.name: set() for p in a.parameters}
    for s in a.states:
        if s.invariant and isinstance(s.invariant.bound, Symbol):
            uses.setdefault(s.invariant.bound.name, set()).add("upper")
    siblings: dict[tuple[str, str], int] = {}
    for e in a.edges:
        siblings[(e.src, e.event)] = siblings.get((e.src, e.event), 0) + 1
    for e in a.edges:
        alone = siblings[(e.src, e.event)] == 1
        for name, use in _guard_uses(e.guard, False):
            uses.setdefault(name, set()).add(use if alone else "other")
    return uses


def _guard_uses(g: Guard | None, negated: bool) -> list[tuple[str, str]]:
    if g is None:
        return []
    if isinstance(g, Not):
        return _guard_uses(g.operand, not negated)
    if isinstance(g, And | Or):
        return _guard_uses(g.left, negated) + _guard_uses(g.right, negated)
    if not isinstance(g.value, Symbol):
        return []
    op = g.op
    if negated:
        op = {"<": ">=", "<=": ">", ">": "<=", ">=": "<"}.get(op, op)
    use = "upper" if op in ("<", "<=") else "lower" if op in (">", ">=") else "other"
    return [(g.value.name, use)]


def configurations(
    a: Automaton, fixed: Mapping[str, int]
) -> tuple[list[tuple[str, dict[str, int]]], list[str]]:
    """[(name, valuation)] to explore, and the free parameters that are not monotone."""
    uses = parameter_uses(a)
    free = [p for p in sorted(uses) if p not in fixed]
    if not free:
        return [("given", dict(fixed))], []
    permissive, restrictive = dict(fixed), dict(fixed)
    for p in free:
        upper_like = uses[p] != {"lower"}
        permissive[p] = INFINITE if upper_like else 1
        restrictive[p] = 1 if upper_like else INFINITE
    not_monotone = [p for p in free if len(uses[p]) > 1 or "other" in uses[p]]
    return [("permissive", permissive), ("restrictive", restrictive)], not_monotone


