"""Proofs for every parameter value: Automaton -> Horn clauses -> Spacer -> re-checked invariant.

The zone explorer works on concrete parameter values, and params.py lifts its
universal verdicts to all values only for monotone parameters.  For the rest,
this module states what the framework does as constrained Horn clauses with
the parameters as unknowns and asks Z3's Spacer engine whether a state (or an
edge's guard) is reachable.  "Unreachable" comes with one inductive invariant
per state, which is then checked again, clause by clause, with a plain SMT
solver: the proof does not rest on trusting Spacer.

Encoding (the rules of zones.py and hamodel.semantics): per state a predicate
over the clock values, a "set" flag per clock, the timer mode (0 nothing
armed, 1 armed, 2 armed on an expired invariant) and the parameters.  An unset
invariant clock's value is the time since its timer was armed.  Clauses: the
start (the `__init` resets and the initial timer when the model has such
resets); time passing up to the last instant an event runs before the timer;
one clause per table cell: the framework's check at the event, the joined
guard with its whole-guard unset-clock escape, the first edge's resets, and
the timer kept, armed or cancelled.  Where the timer's instant is only known
to a window (timing.py) the clauses let events come at any time in it, so
"unreachable" stays a proof.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import z3

from hamodel.check.cells import Cell, escapes_of, table
from hamodel.check.constraints import ENV_MAX
from hamodel.check.timing import clock_kind, platform_timer, rule
from hamodel.model import And, Automaton, ClockKind, Cmp, Guard, Not, Number, Or, Value
from hamodel.semantics import Platform

Pred = Callable[[str, list], z3.BoolRef]
NONE, ARMED, EXPIRED = 0, 1, 2


@dataclass(frozen=True, slots=True)
class Proof:
    """An inductive invariant per state, re-checked; `invariants` are readable texts."""

    invariants: tuple[tuple[str, str], ...]


class _Clauses:
    def __init__(self, a: Automaton, fixed: Mapping[str, int], platform: Platform) -> None:
        self.a = a
        self.tab = table(a)
        unit = clock_kind(a)
        self.jiffy = unit is ClockKind.JIFFIES
        self.rule = rule(unit, platform_timer(a, platform), platform)
        self.clocks = [c.name for c in a.clocks]
        self.params = sorted({p.name for p in a.parameters})
        self.fixed = fixed
        self.cv = [z3.Int(f"{c}") for c in self.clocks]
        self.fv = [z3.Bool(f"{c}_set") for c in self.clocks]
        self.mv = z3.Int("timer_mode")
        self.pv = [z3.Int(p) for p in self.params]
        self.sorts = (
            [z3.IntSort()] * len(self.clocks) + [z3.BoolSort()] * len(self.clocks)
            + [z3.IntSort()] + [z3.IntSort()] * len(self.params)
        )

    def args(self, c: list, f: list, m) -> list:
        return list(c) + list(f) + [m] + list(self.pv)

    def value(self, v: Value) -> z3.ArithRef:
        if isinstance(v, Number):
            return z3.IntVal(v.value)
        base = self.pv[self.params.index(v.name)]
        return base * (v.unit.scale if v.unit else 1)

    def guard(self, g: Guard | None, c: list, env: dict) -> z3.BoolRef:
        if g is None:
            return z3.BoolVal(True)
        if isinstance(g, And):
            return z3.And(self.guard(g.left, c, env), self.guard(g.right, c, env))
        if isinstance(g, Or):
            return z3.Or(self.guard(g.left, c, env), self.guard(g.right, c, env))
        if isinstance(g, Not):
            return z3.Not(self.guard(g.operand, c, env))
        return self.cmp(g, c, env)

    def cmp(self, cmp: Cmp, c: list, env: dict) -> z3.BoolRef:
        right = self.value(cmp.value)
        if cmp.env in self.clocks:
            return _op(cmp.op, c[self.clocks.index(cmp.env)], right)
        if cmp.env not in env:
            env[cmp.env] = z3.Int(f"env_{cmp.env}")
        return _op(cmp.op, env[cmp.env], right)

    def holds(self, guard: Guard | None, reads, c: list, f: list, env: dict) -> z3.BoolRef:
        """A guard, escaped whole by any unset clock in `reads`."""
        escape = [z3.Not(f[self.clocks.index(x)]) for x in sorted(reads)]
        return z3.Or([*escape, self.guard(guard, c, env)])

    # --- the framework's check and timer ---

    def pass_max(self, state: str) -> z3.ArithRef | None:
        inv = self.a.state(state).invariant
        return None if inv is None else self.value(inv.bound) + self.rule.pass_off

    def passes(self, state: str, c: list, f: list) -> z3.BoolRef:
        inv = self.a.state(state).invariant
        if inv is None:
            return z3.BoolVal(True)
        i = self.clocks.index(inv.clock)
        within = c[i] <= self.pass_max(state)
        return z3.And(f[i], within) if self.jiffy else z3.Or(z3.Not(f[i]), within)

    def before_timer(self, state: str, c: list, m) -> z3.BoolRef:
        """While armed, events (and time) stop at the last instant before the callback."""
        inv = self.a.state(state).invariant
        if inv is None or (self.rule.limit is not None and self.rule.limit < 0):
            return z3.BoolVal(True)
        b = self.value(inv.bound)
        bounded = c[self.clocks.index(inv.clock)] <= b + self.rule.event_off
        if self.rule.limit is not None:
            bounded = z3.Or(b > self.rule.limit, bounded)  # past it: a window, not bounded
        return z3.Implies(m == ARMED, bounded)

    def arm(self, state: str, c: list, f: list) -> tuple[list, z3.ArithRef]:
        """ha_setup_invariants entering `state`: the clock values and the mode after."""
        inv = self.a.state(state).invariant
        if inv is None:
            return c, z3.IntVal(NONE)
        i = self.clocks.index(inv.clock)
        c2 = list(c)
        c2[i] = z3.If(f[i], c[i], z3.IntVal(0))  # passed = 0 for an unset clock
        pm = self.pass_max(state)
        return c2, z3.If(c2[i] <= pm, z3.IntVal(ARMED), z3.IntVal(EXPIRED))

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
        m0: z3.ArithRef = z3.IntVal(NONE)
        if a.init_resets:
            c0, m0 = self.arm(init.name, c0, f0)
        out.append(z3.Implies(self.base(), pred(init.name, self.args(c0, f0, m0))))
        d = z3.Int("delay")
        here = self.args(self.cv, self.fv, self.mv)
        for s in a.states:
            later = [x + d for x in self.cv]
            out.append(z3.Implies(
                z3.And(pred(s.name, here), d >= 0, self.mv != EXPIRED,
                       self.before_timer(s.name, later, self.mv)),
                pred(s.name, self.args(later, self.fv, self.mv)),
            ))
        for cell in self.tab.cells.values():
            out.append(self._cell(pred, cell))
        kind, what = goal
        if kind == "state":
            out.append(z3.Implies(pred(str(what), here), z3.BoolVal(False)))
        else:
            k = int(what)  # type: ignore[call-overload]
            cell = self.tab.cell_of_edge(k, a)
            env: dict = {}
            g = self.holds(a.edges[k].guard, escapes_of(a, cell, k), self.cv, self.fv, env)
            ranges = [z3.And(v >= 0, v <= ENV_MAX) for v in env.values()]
            out.append(z3.Implies(
                z3.And([pred(cell.src, here), self.mv != EXPIRED,
                        self.before_timer(cell.src, self.cv, self.mv),
                        self.passes(cell.src, self.cv, self.fv), g, *ranges]),
                z3.BoolVal(False)))
        return out

    def _cell(self, pred: Pred, cell: Cell) -> z3.BoolRef:
        env: dict = {}
        fire = self.holds(cell.guard, cell.reads, self.cv, self.fv, env)
        ranges = [z3.And(v >= 0, v <= ENV_MAX) for v in env.values()]
        resets = set(cell.resets)
        c2 = [z3.IntVal(0) if n in resets else x
              for n, x in zip(self.clocks, self.cv, strict=True)]
        f2 = [z3.BoolVal(True) if n in resets else f
              for n, f in zip(self.clocks, self.fv, strict=True)]
        m2: z3.ArithRef = self.mv
        if self.tab.rearms(cell):
            c2, m2 = self.arm(cell.dst, c2, f2)
        return z3.Implies(
            z3.And([pred(cell.src, self.args(self.cv, self.fv, self.mv)), self.mv != EXPIRED,
                    self.before_timer(cell.src, self.cv, self.mv),
                    self.passes(cell.src, self.cv, self.fv), fire, *ranges]),
            pred(cell.dst, self.args(c2, f2, m2)),
        )

    def variables(self) -> list:
        return list(self.cv) + list(self.fv) + [self.mv] + list(self.pv) + [z3.Int("delay")]


def _op(op: str, left, right) -> z3.BoolRef:
    return {
        "==": left == right, "!=": left != right, "<": left < right,
        "<=": left <= right, ">": left > right, ">=": left >= right,
    }[op]


def prove(
    a: Automaton,
    goal: tuple[str, object],
    fixed: Mapping[str, int],
    platform: Platform | None = None,
    timeout_s: float = 10.0,
) -> Proof | None:
    """Proof that goal ("state", name) / ("edge", index: its guard holds where the
    check passes) is unreachable for every positive value of the free
    parameters; None when it is reachable or unknown."""
    try:
        return _prove(a, goal, fixed, platform or Platform(), timeout_s)
    except z3.Z3Exception:
        return None  # no verdict, as for "unknown"


def _prove(
    a: Automaton,
    goal: tuple[str, object],
    fixed: Mapping[str, int],
    platform: Platform,
    timeout_s: float,
) -> Proof | None:
    cl = _Clauses(a, fixed, platform)
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
        text = str(z3.simplify(by_invariant(s.name, cl.args(cl.cv, cl.fv, cl.mv))))
        texts.append((s.name, " ".join(text.split())))
    return Proof(tuple(texts))
