"""Concrete timed traces: a zone-graph path -> Witness (integer ns, env values), and replay.

The zone explorer finds *which* edges lead somewhere; Z3 then finds *when*:
the path is encoded in linear integer arithmetic exactly as semantics.py runs
it (guards read clocks before resets, unset clocks pass, edges are tried in
order, a timer that is due fires before an event at the same instant, a plain
self-loop keeps the running timer), and Optimize picks the earliest finish.
Every witness is then replayed through `hamodel.semantics.Monitor`; a witness
that does not reproduce its verdict is never reported.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import z3

from hamodel.check.constraints import ENV_MAX, INFINITE
from hamodel.check.zones import Step, clock_kind
from hamodel.model import (
    And,
    Automaton,
    ClockKind,
    Cmp,
    Guard,
    Not,
    Number,
    Or,
    Value,
    comparisons,
)
from hamodel.semantics import (
    DEFAULT_HZ,
    Monitor,
    Moved,
    Semantics,
    Violation,
    ViolationKind,
    tick_nsec,
)

OBJ = "obj"


class SolverUnknown(RuntimeError):
    """Z3 answered unknown (usually: its timeout expired)."""


@dataclass(frozen=True, slots=True)
class TimedEvent:
    time: int  # ns since start
    event: str
    env: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True, slots=True)
class Goal:
    """What the witness shows.

    kind: "reach" (arrive in `state`), "invalid_event" | "guard" (the extra
    `event` is a violation), "invariant" (the timer fires), "entry" (the last
    edge enters a state whose invariant is already false), "overlap" (the
    last event enables both `edge` and `other`).
    """

    kind: str
    state: str
    event: str | None = None
    edge: int | None = None
    other: int | None = None


@dataclass(frozen=True, slots=True)
class Witness:
    goal: Goal
    params: tuple[tuple[str, int], ...]
    events: tuple[TimedEvent, ...]
    end: int | None = None  # ns instant the invariant timer fires (goal "invariant")
    # clock values (base units; None: unset) where the verdict is decided: at the
    # last event, after its resets for "entry"
    clocks: tuple[tuple[str, int | None], ...] = ()

    def valuation(self, automaton: Automaton) -> str:
        """`x = 2000001 ns` style text of `clocks`, or "" when there are none."""
        units = {
            c.name: "j" if c.clock_kind is ClockKind.JIFFIES else "ns" for c in automaton.clocks
        }
        parts = [
            f"{c} unset" if v is None else f"{c} = {v} {units.get(c, 'ns')}"
            for c, v in self.clocks
        ]
        env = self.events[-1].env if self.events and self.goal.kind != "entry" else ()
        parts += [f"{k} = {v}" for k, v in env]
        return ", ".join(parts)

    def lines(self) -> list[str]:
        out = []
        if self.params:
            out.append("with " + ", ".join(f"{k}={v}" for k, v in self.params))
        out.append("t=0 start")
        for ev in self.events:
            env = "".join(f" {k}={v}" for k, v in ev.env)
            out.append(f"t={ev.time} {ev.event}{env}")
        if self.end is not None:
            out.append(f"t={self.end} timer fires")
        return out

    def to_json(self) -> dict:
        return {
            "params": dict(self.params),
            "events": [
                {"time_ns": e.time, "event": e.event, "env": dict(e.env)} for e in self.events
            ],
            "timer_ns": self.end,
            "clocks": dict(self.clocks),
        }


def concretize(
    automaton: Automaton,
    steps: Sequence[Step],
    goal: Goal,
    params: Mapping[str, int],
    hz: int = DEFAULT_HZ,
    timeout_s: float = 10.0,
) -> Witness | None:
    """The earliest integer-timed trace along `steps` that reaches `goal`, or None."""
    enc = PathEncoder(automaton, params)
    opt = z3.Optimize()
    opt.set("timeout", max(1, int(timeout_s * 1000)))
    last = enc.encode(opt, steps, goal)
    opt.minimize(last)
    for p in enc.param_vars.values():
        opt.minimize(p)
    answer = opt.check()
    if answer == z3.unknown:
        raise SolverUnknown(opt.reason_unknown())
    if answer == z3.unsat:
        return None
    model = opt.model()
    scale = tick_nsec(hz) if clock_kind(automaton) is ClockKind.JIFFIES else 1

    def val(x: z3.ArithRef) -> int:
        return model.eval(x, model_completion=True).as_long()

    events = tuple(
        TimedEvent(val(t) * scale, e, tuple((k, val(v)) for k, v in env))
        for t, e, env in enc.trace
    )
    chosen = {k: val(v) for k, v in enc.param_vars.items()}
    chosen.update({k: v for k, v in params.items() if v != INFINITE})
    for p in automaton.parameters:
        # Not read along the path (an overlap's last event may still evaluate
        # an earlier edge's guard in the oracle): any positive value will do.
        chosen.setdefault(p.name, 1)
    end = val(enc.timer) * scale if enc.timer is not None else None
    clocks: tuple[tuple[str, int | None], ...] = ()
    if enc.probe is not None:
        at, resets = enc.probe
        clocks = tuple(
            (c, None if r is None else val(at - r)) for c, r in sorted(resets.items())
        )
    return Witness(goal, tuple(sorted(chosen.items())), events, end, clocks)


class PathEncoder:
    """One zone-graph path and its goal as linear integer constraints (times,
    env values, parameters), added to any object with `.add` (a solver)."""

    def __init__(self, a: Automaton, params: Mapping[str, int]) -> None:
        self.a = a
        self.clocks = frozenset(c.name for c in a.clocks)
        self.param_vars: dict[str, z3.ArithRef] = {}
        self.params = params
        self.trace: list[tuple[z3.ArithRef, str, list[tuple[str, z3.ArithRef]]]] = []
        self.timer: z3.ArithRef | None = None
        # (instant, clock resets) where the verdict is decided: for its clock values
        self.probe: tuple[z3.ArithRef, dict] | None = None
        self.n_env = 0
        self.invariants = {st.name: st.invariant for st in a.states}
        self.siblings: dict[tuple[str, str], list[int]] = {}
        for k, e in enumerate(a.edges):
            self.siblings.setdefault((e.src, e.event), []).append(k)

    def value(self, v: Value, s: z3.Optimize) -> z3.ArithRef:
        if isinstance(v, Number):
            return z3.IntVal(v.value)
        fixed = self.params.get(v.name, INFINITE)
        if fixed != INFINITE:
            base: z3.ArithRef = z3.IntVal(fixed)
        else:
            if v.name not in self.param_vars:
                p = z3.Int(f"param_{v.name}")
                s.add(p >= 1)
                self.param_vars[v.name] = p
            base = self.param_vars[v.name]
        return base * (v.unit.scale if v.unit else 1)

    def guard(self, g: Guard | None, ctx: dict, s: z3.Optimize) -> z3.BoolRef:
        if g is None:
            return z3.BoolVal(True)
        if isinstance(g, And):
            return z3.And(self.guard(g.left, ctx, s), self.guard(g.right, ctx, s))
        if isinstance(g, Or):
            return z3.Or(self.guard(g.left, ctx, s), self.guard(g.right, ctx, s))
        if isinstance(g, Not):
            return z3.Not(self.guard(g.operand, ctx, s))
        return self.cmp(g, ctx, s)

    def cmp(self, c: Cmp, ctx: dict, s: z3.Optimize) -> z3.BoolRef:
        if c.env in self.clocks:
            r = ctx["resets"][c.env]
            if r is None:
                return z3.BoolVal(True)
            left = ctx["t"] - r
        else:
            env = ctx["env"]
            if c.env not in env:
                v = z3.Int(f"env_{self.n_env}_{c.env}")
                self.n_env += 1
                s.add(v >= 0, v <= ENV_MAX)
                env[c.env] = v
            left = env[c.env]
        right = self.value(c.value, s)
        return {
            "==": left == right,
            "!=": left != right,
            "<": left < right,
            "<=": left <= right,
            ">": left > right,
            ">=": left >= right,
        }[c.op]

    def touch_envs(self, state: str, event: str, ctx: dict, s: z3.Optimize) -> None:
        """Give a value to every env any edge of (state, event) reads: the kernel
        supplies them all with the event, and semantics.py may read any of them."""
        for k in self.siblings.get((state, event), []):
            for c in comparisons(self.a.edges[k].guard):
                if c.env not in self.clocks and c.env not in ctx["env"]:
                    v = z3.Int(f"env_{self.n_env}_{c.env}")
                    self.n_env += 1
                    s.add(v >= 0, v <= ENV_MAX)
                    ctx["env"][c.env] = v

    def deadline(self, state: str, resets: dict, now: z3.ArithRef, s: z3.Optimize):
        inv = self.invariants[state]
        if inv is None:
            return None
        bound = self.value(inv.bound, s)
        r = resets[inv.clock]
        base = now if r is None else r
        return base + bound + (0 if inv.strict else 1)

    def encode(self, s: z3.Optimize, steps: Sequence[Step], goal: Goal) -> z3.ArithRef:
        a = self.a
        t0 = z3.IntVal(0)
        resets: dict = {c: None for c in sorted(self.clocks)}
        for r in a.init_resets:
            resets[r.env] = t0
        state = a.initial.name
        deadline = self.deadline(state, resets, t0, s)
        if deadline is not None and (steps or goal.kind != "invariant"):
            s.add(deadline > t0)
        prev = t0
        for i, step in enumerate(steps):
            t = z3.Int(f"t_{i}")
            s.add(t >= prev)
            if deadline is not None:
                s.add(t < deadline)
            ctx = {"t": t, "resets": resets, "env": {}}
            assert step.edge is not None
            edge = a.edges[step.edge]
            for k in self.siblings[(edge.src, edge.event)]:
                if k == step.edge:
                    break  # edges are tried in order: every earlier one must fail
                s.add(z3.Not(self.guard(a.edges[k].guard, ctx, s)))
            s.add(self.guard(edge.guard, ctx, s))
            self.touch_envs(edge.src, step.event, ctx, s)
            self.trace.append((t, step.event, sorted(ctx["env"].items())))
            resets = dict(resets)
            for r in edge.reset_envs:
                resets[r] = t
            if not (edge.src == edge.dst and not edge.resets):
                deadline = self.deadline(edge.dst, resets, t, s)
            entering_bad = goal.kind == "entry" and i == len(steps) - 1
            if deadline is not None:
                s.add(deadline <= t if entering_bad else deadline > t)
            state = edge.dst
            prev = t
        return self._finish(s, goal, state, resets, deadline, prev)

    def _finish(self, s, goal: Goal, state: str, resets: dict, deadline, prev):
        a = self.a
        if goal.kind in ("reach", "entry"):
            self.probe = (prev, resets)
            return prev
        if goal.kind == "invariant":
            assert deadline is not None
            self.timer = z3.If(deadline > prev, deadline, prev)
            return self.timer
        t = z3.Int("t_last")
        s.add(t >= prev)
        if deadline is not None:
            s.add(t < deadline)
        ctx = {"t": t, "resets": resets, "env": {}}
        edges = [a.edges[k] for k in self.siblings.get((state, goal.event or ""), [])]
        if goal.kind == "guard":
            for e in edges:
                s.add(z3.Not(self.guard(e.guard, ctx, s)))
        elif goal.kind == "overlap":
            assert goal.edge is not None and goal.other is not None
            s.add(self.guard(a.edges[goal.edge].guard, ctx, s))
            s.add(self.guard(a.edges[goal.other].guard, ctx, s))
        assert goal.event is not None
        self.touch_envs(state, goal.event, ctx, s)
        self.trace.append((t, goal.event, sorted(ctx["env"].items())))
        self.probe = (t, resets)
        return t


# --- replay through the oracle ------------------------------------------------


def replay(automaton: Automaton, w: Witness, hz: int = DEFAULT_HZ) -> list[Moved | Violation]:
    m = Monitor(automaton, params=dict(w.params), hz=hz)
    _, out = m.start(OBJ, 0)
    for ev in w.events:
        out += m.event(OBJ, ev.time, ev.event, dict(ev.env))
    if w.end is not None:
        out += m.advance(w.end)
    return out


def confirms(automaton: Automaton, w: Witness, hz: int = DEFAULT_HZ) -> bool:
    """Does the oracle, replaying the witness, reach the witness's verdict?"""
    g = w.goal
    if g.kind == "overlap":
        return _confirms_overlap(automaton, w, hz)
    out = replay(automaton, w, hz)
    moves, last = out[:-1], out[-1] if out else None
    if g.kind == "reach":
        if not w.events:
            return not out and automaton.initial.name == g.state
        return all(isinstance(o, Moved) for o in out) and out[-1].dst == g.state
    if not all(isinstance(o, Moved) for o in moves) or not isinstance(last, Violation):
        return False
    kind = {
        "invalid_event": ViolationKind.INVALID_EVENT,
        "guard": ViolationKind.GUARD,
        "invariant": ViolationKind.INVARIANT,
        "entry": ViolationKind.INVARIANT,
    }[g.kind]
    if last.kind is not kind or last.state != g.state:
        return False
    if g.kind == "entry":
        return bool(moves) and last.time == w.events[-1].time
    return g.kind == "invariant" or last.event == g.event


def _confirms_overlap(automaton: Automaton, w: Witness, hz: int) -> bool:
    """Monitor moves on every event, and at the last one both guards hold.

    The guards are evaluated by semantics.Semantics on the object state the same
    events produce (stepped alongside, and checked to agree with Monitor).
    """
    g = w.goal
    assert g.edge is not None and g.other is not None
    # Every event moves; the last may enter a state whose invariant is already
    # false (a further finding of its own), so outcomes after it do not matter.
    out = replay(automaton, w, hz)[: len(w.events)]
    if len(out) != len(w.events) or not all(isinstance(o, Moved) for o in out):
        return False
    sem = Semantics(automaton, hz)
    obj = sem.start(0, dict(w.params))
    for ev, moved in zip(w.events[:-1], out[:-1], strict=True):
        if obj.deadline is not None and obj.deadline <= ev.time:
            return False
        new, outcome = sem.step(obj, ev.time, ev.event, dict(ev.env))
        if new is None or outcome != dataclasses.replace(moved, obj=None):
            return False
        obj = new
    last = w.events[-1]
    if obj.state != g.state or (obj.deadline is not None and obj.deadline <= last.time):
        return False
    env = dict(last.env)
    return all(
        sem.guard_holds(automaton.edges[k].guard, obj, last.time, env) for k in (g.edge, g.other)
    )
