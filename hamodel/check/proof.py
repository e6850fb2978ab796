"""Proofs for every parameter value: Automaton -> Horn clauses -> Spacer -> re-checked invariant.

The zone explorer works on concrete parameter values, and params.py lifts its
universal verdicts to all values only for monotone parameters.  For the rest,
this module states the kernel's semantics as constrained Horn clauses with the
parameters as unknowns and asks Z3's Spacer engine whether a state (or an
edge's guard) is reachable.  "Unreachable" comes with one inductive invariant
per state, which is then checked again, clause by clause, with a plain SMT
solver: the proof does not rest on trusting Spacer.

Encoding (the same rules as zones.py and semantics.py): per state a predicate
over the clock values, a "set" flag per clock (an unset clock's value is the
time since the timer was last armed) and the parameters; a delay clause bounded
by the state's invariant; one clause per edge with the guard (a comparison on
an unset clock passes), the negated guards of earlier edges for the same event,
resets, re-arming, and the invariant of the destination at entry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import z3

from hamodel.check.constraints import ENV_MAX
from hamodel.model import And, Automaton, Cmp, Guard, Invariant, Not, Number, Or, Value

Pred = Callable[[str, list], z3.BoolRef]


@dataclass(frozen=True, slots=True)
class Proof:
    """An inductive invariant per state, re-checked; `invariants` are readable texts."""

    invariants: tuple[tuple[str, str], ...]


class _Clauses:
    def __init__(self, a: Automaton, fixed: Mapping[str, int]) -> None:
        self.a = a
        self.clocks = [c.name for c in a.clocks]
        self.params = sorted({p.name for p in a.parameters})
        self.fixed = fixed
        self.cv = [z3.Int(f"{c}") for c in self.clocks]
        self.fv = [z3.Bool(f"{c}_set") for c in self.clocks]
        self.pv = [z3.Int(p) for p in self.params]
        self.sorts = (
            [z3.IntSort()] * len(self.clocks) + [z3.BoolSort()] * len(self.clocks)
            + [z3.IntSort()] * len(self.params)
        )
        self.siblings: dict[tuple[str, str], list[int]] = {}
        for k, e in enumerate(a.edges):
            self.siblings.setdefault((e.src, e.event), []).append(k)

    def args(self, c: list, f: list) -> list:
        return list(c) + list(f) + list(self.pv)

    def value(self, v: Value) -> z3.ArithRef:
        if isinstance(v, Number):
            return z3.IntVal(v.value)
        base = self.pv[self.params.index(v.name)]
        return base * (v.unit.scale if v.unit else 1)

    def guard(self, g: Guard | None, c: list, f: list, env: dict) -> z3.BoolRef:
        if g is None:
            return z3.BoolVal(True)
        if isinstance(g, And):
            return z3.And(self.guard(g.left, c, f, env), self.guard(g.right, c, f, env))
        if isinstance(g, Or):
            return z3.Or(self.guard(g.left, c, f, env), self.guard(g.right, c, f, env))
        if isinstance(g, Not):
            return z3.Not(self.guard(g.operand, c, f, env))
        return self.cmp(g, c, f, env)

    def cmp(self, cmp: Cmp, c: list, f: list, env: dict) -> z3.BoolRef:
        right = self.value(cmp.value)
        if cmp.env in self.clocks:
            i = self.clocks.index(cmp.env)
            return z3.Or(z3.Not(f[i]), _op(cmp.op, c[i], right))
        if cmp.env not in env:
            env[cmp.env] = z3.Int(f"env_{cmp.env}")
        return _op(cmp.op, env[cmp.env], right)

    def inv(self, inv: Invariant | None, c: list) -> z3.BoolRef:
        if inv is None:
            return z3.BoolVal(True)
        i = self.clocks.index(inv.clock)
        bound = self.value(inv.bound)
        return c[i] < bound if inv.strict else c[i] <= bound

    def base(self) -> z3.BoolRef:
        fixed = [p == self.fixed[n] for n, p in zip(self.params, self.pv, strict=True)
                 if n in self.fixed]
        return z3.And([p >= 1 for p in self.pv] + fixed)

    def clauses(self, pred: Pred, goal: tuple[str, object]) -> list[z3.BoolRef]:
        """Each clause as a quantifier-free implication (variables implicitly universal)."""
        a = self.a
        out = []
        init = a.initial
        started = {r.env for r in a.init_resets}
        c0 = [z3.IntVal(0)] * len(self.clocks)
        f0 = [z3.BoolVal(n in started) for n in self.clocks]
        out.append(z3.Implies(z3.And(self.base(), self.inv(init.invariant, c0)),
                              pred(init.name, self.args(c0, f0))))
        d = z3.Int("delay")
        for s in a.states:
            later = [x + d for x in self.cv]
            out.append(z3.Implies(
                z3.And(pred(s.name, self.args(self.cv, self.fv)), d >= 0,
                       self.inv(s.invariant, later)),
                pred(s.name, self.args(later, self.fv)),
            ))
        for k, e in enumerate(a.edges):
            env: dict = {}
            fire = [self.guard(e.guard, self.cv, self.fv, env)]
            for j in self.siblings[(e.src, e.event)]:
                if j == k:
                    break
                fire.append(z3.Not(self.guard(a.edges[j].guard, self.cv, self.fv, env)))
            ranges = [z3.And(v >= 0, v <= ENV_MAX) for v in env.values()]
            plain = e.src == e.dst and not e.resets
            resets = set(e.reset_envs)
            c2 = []
            for n, x, f in zip(self.clocks, self.cv, self.fv, strict=True):
                if n in resets:
                    c2.append(z3.IntVal(0))
                elif plain:
                    c2.append(x)
                else:  # re-arming: an unset clock counts from now
                    c2.append(z3.If(f, x, z3.IntVal(0)))
            f2 = [z3.BoolVal(True) if n in resets else f
                  for n, f in zip(self.clocks, self.fv, strict=True)]
            dst_inv = a.state(e.dst).invariant
            out.append(z3.Implies(
                z3.And([pred(e.src, self.args(self.cv, self.fv)), *fire, *ranges,
                        self.inv(dst_inv, c2)]),
                pred(e.dst, self.args(c2, f2)),
            ))
        kind, what = goal
        here = self.args(self.cv, self.fv)
        if kind == "state":
            out.append(z3.Implies(pred(str(what), here), z3.BoolVal(False)))
        else:
            e = a.edges[int(what)]  # type: ignore[arg-type]
            env = {}
            g = self.guard(e.guard, self.cv, self.fv, env)
            ranges = [z3.And(v >= 0, v <= ENV_MAX) for v in env.values()]
            out.append(z3.Implies(z3.And([pred(e.src, here), g, *ranges]), z3.BoolVal(False)))
        return out

    def variables(self) -> list:
        return list(self.cv) + list(self.fv) + list(self.pv) + [z3.Int("delay")]


def _op(op: str, left, right) -> z3.BoolRef:
    return {
        "==": left == right, "!=": left != right, "<": left < right,
        "<=": left <= right, ">": left > right, ">=": left >= right,
    }[op]


def prove(
    a: Automaton,
    goal: tuple[str, object],
    fixed: Mapping[str, int],
    timeout_s: float = 10.0,
) -> Proof | None:
    """Proof that goal ("state", name) / ("edge", index) is unreachable for every
    positive value of the free parameters; None when it is reachable or unknown."""
    try:
        return _prove(a, goal, fixed, timeout_s)
    except z3.Z3Exception:
        return None  # no verdict, as for "unknown"


def _prove(
    a: Automaton,
    goal: tuple[str, object],
    fixed: Mapping[str, int],
    timeout_s: float = 10.0,
) -> Proof | None:
    """Proof that goal ("state", name) / ("edge", index) is unreachable for every
    positive value of the free parameters; None when it is reachable or unknown."""
    cl = _Clauses(a, fixed)
    preds = {s.name: z3.Function(f"R_{s.name}", *cl.sorts, z3.BoolSort()) for s in a.states}

    def apply(name: str, args: list) -> z3.BoolRef:
        return preds[name](*args)

    solver = z3.SolverFor("HORN")
    solver.set("timeout", max(1, int(timeout_s * 1000)))
    env_vars = [z3.Int(f"env_{e.name}") for e in a.envs if not e.stored]
    qvars = cl.variables() + env_vars
    for clause in cl.clauses(apply, goal):
        solver.add(z3.ForAll(qvars, clause))
    if solver.check() != z3.sat:  # unsat: reachable; unknown: no verdict
        return None
    model = solver.model()
    # Each predicate's interpretation as a formula over placeholder arguments;
    # whatever Spacer returned (or left out) is only trusted after the re-check.
    formals = [z3.Const(f"arg_{i}", sort) for i, sort in enumerate(cl.sorts)]
    interp = {
        name: model.eval(p(*formals)) if model[p] is not None else z3.BoolVal(False)
        for name, p in preds.items()
    }

    def by_invariant(name: str, args: list) -> z3.BoolRef:
        return z3.substitute(interp[name], *zip(formals, args, strict=True))

    # Re-check: every clause holds with the invariants in place of the predicates.
    for clause in cl.clauses(by_invariant, goal):
        check = z3.Solver()
        check.set("timeout", max(1, int(timeout_s * 1000)))
        check.add(z3.Not(clause))
        if check.check() != z3.unsat:
            return None
    texts = []
    for s in a.states:
        text = str(z3.simplify(by_invariant(s.name, cl.args(cl.cv, cl.fv))))
        texts.append((s.name, " ".join(text.split())))
    return Proof(tuple(texts))
