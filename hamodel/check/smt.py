"""Parameter constraints with Z3: a witness path -> the parameter values it works for.

The zone graph is explored for concrete (or extreme) parameter values; a
witness then fixes one valuation.  This module asks the stronger question for
the same event sequence: for WHICH positive values of the free parameters is
there a timing (and env values) that follows it to the verdict?  It encodes
the path as witness.py does, existentially quantifies the times and env
values, and eliminates them (Z3's `qe` tactic, exact for linear integer
arithmetic).  When the result is implied by "every parameter >= 1", the
finding holds for every positive value, which the report then says.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import z3

from hamodel.check.witness import Goal, PathEncoder, SolverUnknown
from hamodel.check.zones import Mode, Step
from hamodel.model import Automaton
from hamodel.semantics import Platform


class _Collector:
    """Stands in for a solver during encoding: keeps the constraints."""

    def __init__(self) -> None:
        self.constraints: list[z3.BoolRef] = []

    def add(self, *cs: z3.BoolRef) -> None:
        self.constraints.extend(cs)


@dataclass(frozen=True, slots=True)
class Region:
    """The free parameters' values for which a path reaches its verdict."""

    every_positive: bool
    condition: str  # readable, e.g. "LIMIT_NS >= 3000002"


def parameter_region(
    a: Automaton,
    steps: Sequence[Step],
    goal: Goal,
    params: Mapping[str, int],
    platform: Platform,
    start_mode: Mode = Mode.ARMED,
    timeout_s: float = 10.0,
) -> Region | None:
    """None when the path has no free parameter."""
    enc = PathEncoder(a, params, platform, small_uptime=goal.kind == "wrap")
    col = _Collector()
    enc.encode(col, steps, goal, start_mode)
    if not enc.param_vars:
        return None
    body = z3.And(col.constraints)
    keep = {str(v) for v in enc.param_vars.values()}
    bound = [v for v in _variables(body) if str(v) not in keep]
    formula = z3.Exists(bound, body) if bound else body
    tactic = z3.TryFor(z3.Then(z3.Tactic("qe"), z3.Tactic("ctx-solver-simplify")),
                       max(1, int(timeout_s * 1000)))
    try:
        goals = tactic(formula)
    except z3.Z3Exception as exc:
        raise SolverUnknown(f"quantifier elimination: {exc}") from exc
    region = z3.Or([z3.And(list(g)) for g in goals]) if len(goals) else z3.BoolVal(False)
    positive = z3.And([p >= 1 for p in enc.param_vars.values()])
    s = z3.Solver()
    s.set("timeout", max(1, int(timeout_s * 1000)))
    s.add(positive, z3.Not(region))
    answer = s.check()
    if answer == z3.unknown:
        raise SolverUnknown(s.reason_unknown())
    if answer == z3.unsat:
        return Region(True, "every positive value")
    return Region(False, _readable(region, positive, timeout_s))


def _readable(region: z3.BoolRef, positive: z3.BoolRef, timeout_s: float) -> str:
    """The region without the parts that positivity already implies."""
    simplify = z3.TryFor(z3.Tactic("ctx-solver-simplify"), max(1, int(timeout_s * 1000)))
    goal = z3.Goal()
    goal.add(region)
    parts: list[z3.BoolRef] = []
    for sub in simplify(goal):
        parts += list(sub)
    kept = []
    for part in parts:
        s = z3.Solver()
        s.add(positive, z3.Not(part))
        if s.check() != z3.unsat:
            kept.append(part)
    text = " and ".join(str(z3.simplify(k)) for k in kept) or "every positive value"
    return " ".join(text.replace("param_", "").split())


def _variables(e: z3.ExprRef) -> list[z3.ExprRef]:
    seen: dict[str, z3.ExprRef] = {}
    todo = [e]
    while todo:
        x = todo.pop()
        if z3.is_const(x) and x.decl().kind() == z3.Z3_OP_UNINTERPRETED:
            seen.setdefault(str(x), x)
        else:
            todo.extend(x.children())
    return [seen[k] for k in sorted(seen)]
