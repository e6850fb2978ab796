"""A zone-graph path and its goal as linear integer constraints for Z3.

The path's table cells are encoded as the framework runs them: the invariant
check at each event (hamodel.check.timing), the joined guard with its
whole-guard escape, resets, the timer kept, armed or cancelled, and an event
only while the timer's callback has not run.  witness.py minimises the last
instant (Optimize); smt.py eliminates the times to get a parameter region.
Used for free parameters and the small-uptime goal; concrete.py builds the
other witnesses from the zones.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import z3

from hamodel.check.cells import Table, edge_reads, env_reads, escapes_of, table
from hamodel.check.constraints import ENV_MAX, INFINITE
from hamodel.check.goals import Goal
from hamodel.check.timing import Timing, rule, timing
from hamodel.check.zones import Mode, Step
from hamodel.model import And, Automaton, ClockKind, Cmp, Guard, Not, Number, Or, Value
from hamodel.semantics import Platform


class SolverUnknown(RuntimeError):
    """Z3 answered unknown (usually: its timeout expired)."""


@dataclass
class _Timer:
    """What ha_setup_invariants left: mode, the instant its clock counts from, and
    the clock value at the arming (for an expired one)."""

    mode: Mode
    base: z3.ArithRef | None = None
    at_arming: z3.ArithRef | None = None


class PathEncoder:
    """One zone-graph path and its goal as linear integer constraints (times,
    env values, parameters), added to any object with `.add` (a solver)."""

    def __init__(self, a: Automaton, params: Mapping[str, int], platform: Platform,
                 small_uptime: bool = False, tab: Table | None = None,
                 tm: Timing | None = None) -> None:
        self.a = a
        self.tab: Table = tab or table(a)
        free = {p.name: INFINITE for p in a.parameters}
        self.tm: Timing = tm or timing(a, platform, free | dict(params))
        self.rule = rule(self.tm.unit, self.tm.timer, platform)
        self.jiffy = self.tm.unit is ClockKind.JIFFIES
        self.clocks = frozenset(c.name for c in a.clocks)
        self.param_vars: dict[str, z3.ArithRef] = {}
        self.params = params
        self.trace: list[tuple[z3.ArithRef, str, list[tuple[str, z3.ArithRef]]]] = []
        self.n_env = 0
        self.invariants = {st.name: st.invariant for st in a.states}
        # ns since boot at the start, when the goal is the small-uptime wrap
        self.uptime: z3.ArithRef | None = z3.Int("uptime") if small_uptime else None
        self._limited: set[str] = set()

    # --- values ---

    def value(self, v: Value, s) -> z3.ArithRef:
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

    def _symbolic(self, state: str) -> bool:
        inv = self.invariants[state]
        assert inv is not None
        return not isinstance(inv.bound, Number) and self.params.get(
            inv.bound.name, INFINITE) == INFINITE

    def _bound(self, state: str, s) -> z3.ArithRef:
        inv = self.invariants[state]
        assert inv is not None
        b = self.value(inv.bound, s)
        if self._symbolic(state) and state not in self._limited:
            self._limited.add(state)
            if self.rule.limit is not None and self.rule.limit >= 0:
                s.add(b <= self.rule.limit)  # the regime where the offsets are exact
        return b

    def pass_max(self, state: str, s) -> z3.ArithRef | None:
        if self._symbolic(state):
            return self._bound(state, s) + self.rule.pass_off
        v = self.tm.states[state].pass_max
        return None if v is None else z3.IntVal(v)

    def event_max(self, state: str, s) -> z3.ArithRef | None:
        """The last clock value at which an event comes before the callback: the rule's
        offset where it holds (on the wheel, at every level: the callback is never
        earlier than at level 0), else the window's end (left to the replay)."""
        if self._symbolic(state):
            if self.rule.limit is not None and self.rule.limit < 0:
                return None  # no exact regime: left to the replay
            return self._bound(state, s) + self.rule.event_off
        st = self.tm.states[state]
        if st.bound is not None and (self.rule.limit is None or st.bound <= self.rule.limit):
            return z3.IntVal(st.bound + self.rule.event_off)
        return None if st.event_max is None else z3.IntVal(st.event_max)

    def fire_at(self, state: str, s) -> z3.ArithRef | None:
        if self._symbolic(state):
            return self._bound(state, s) + self.rule.fire_off
        v = self.tm.states[state].fire_lo
        return None if v is None else z3.IntVal(v)

    # --- guards ---

    def guard(self, g: Guard | None, ctx: dict, s) -> z3.BoolRef:
        if g is None:
            return z3.BoolVal(True)
        if isinstance(g, And):
            return z3.And(self.guard(g.left, ctx, s), self.guard(g.right, ctx, s))
        if isinstance(g, Or):
            return z3.Or(self.guard(g.left, ctx, s), self.guard(g.right, ctx, s))
        if isinstance(g, Not):
            return z3.Not(self.guard(g.operand, ctx, s))
        return self.cmp(g, ctx, s)

    def cmp(self, c: Cmp, ctx: dict, s) -> z3.BoolRef:
        if c.env in self.clocks:
            r = ctx["resets"][c.env]
            assert r is not None, "a guard reading an unset clock is escaped whole"
            left = ctx["t"] - r
        else:
            left = self._env(c.env, ctx, s)
        right = self.value(c.value, s)
        return {
            "==": left == right,
            "!=": left != right,
            "<": left < right,
            "<=": left <= right,
            ">": left > right,
            ">=": left >= right,
        }[c.op]

    def _env(self, name: str, ctx: dict, s) -> z3.ArithRef:
        env = ctx["env"]
        if name not in env:
            v = z3.Int(f"env_{self.n_env}_{name}")
            self.n_env += 1
            s.add(v >= 0, v <= ENV_MAX)
            env[name] = v
        return env[name]

    def holds(self, guard: Guard | None, reads: frozenset[str], ctx: dict, s) -> z3.BoolRef:
        """The kernel's reading of a guard: an unset clock in `reads` makes it hold."""
        if any(ctx["resets"][c] is None for c in reads):
            return z3.BoolVal(True)
        return self.guard(guard, ctx, s)

    def touch_envs(self, state: str, event: str, ctx: dict, s) -> None:
        """A value for every read-only env an edge of (state, event) reads: the kernel
        supplies them with the event, and the oracle may read any of them."""
        for name in env_reads(self.a).get((state, event), ()):
            self._env(name, ctx, s)

    # --- the framework's checks and timer ---

    def before_timer(self, s, t, state: str, timer: _Timer) -> None:
        """The event comes before the timer's callback."""
        if timer.mode is Mode.ARMED:
            em = self.event_max(state, s)
            if em is not None:
                s.add(t <= timer.base + em)
        elif timer.mode is Mode.EXPIRED:
            st = self.tm.states.get(state)
            if st is not None and st.expired_now:
                pm = self.pass_max(state, s)
                assert pm is not None and timer.at_arming is not None
                s.add(timer.at_arming >= pm + 2)

    def check(self, s, t, state: str, resets: dict, timer: _Timer, passes: bool) -> None:
        """ha_verify_invariants at an event: make it pass or fail."""
        inv = self.invariants[state]
        if inv is None:
            assert passes
            return
        if timer.mode is Mode.EXPIRED:
            assert not passes
            return
        r = resets[inv.clock]
        if r is None:
            return  # static: ns passes, jiffy fails (the path agrees)
        c = t - r
        pm = self.pass_max(state, s)
        if self.uptime is not None:
            # ns check store >= now - B in u64: it wraps while the uptime is below B
            awake = self.uptime + t >= self._bound(state, s)
            ok = z3.And(awake, c <= pm) if pm is not None else awake
            s.add(ok if passes else z3.Not(ok))
            return
        if pm is None:
            assert passes
            return
        s.add(c <= pm if passes else c >= pm + 1)

    def arm(self, s, t, dst: str, resets: dict, mode: Mode) -> _Timer:
        """ha_setup_invariants entering `dst`: the mode the zone path says."""
        inv = self.invariants[dst]
        if inv is None:
            return _Timer(Mode.NONE)
        r = resets[inv.clock]
        if r is None:
            return _Timer(mode, t, z3.IntVal(0))  # passed = 0: counts from now
        c = t - r
        pm = self.pass_max(dst, s)
        if mode is Mode.ARMED and pm is not None:
            s.add(c <= pm)
        elif mode is Mode.EXPIRED:
            assert pm is not None
            s.add(c >= pm + 1)
        return _Timer(mode, r, c)

    # --- the path ---

    def encode(self, s, steps: Sequence[Step], goal: Goal, start_mode: Mode) -> z3.ArithRef:
        a = self.a
        t0 = z3.IntVal(0)
        if self.uptime is not None:
            s.add(self.uptime >= 0)
        resets: dict = {c: None for c in sorted(self.clocks)}
        for r in a.init_resets:
            resets[r.env] = t0
        state = a.initial.name
        timer = _Timer(Mode.NONE)
        if a.init_resets and self.invariants[state] is not None:
            timer = self.arm(s, t0, state, resets, start_mode)
        prev = t0
        for i, step in enumerate(steps):
            t = z3.Int(f"t_{i}")
            s.add(t >= prev)
            cell = self.tab.cell_of_edge(step.edge, a)
            self.before_timer(s, t, state, timer)
            self.check(s, t, state, resets, timer, True)
            ctx = {"t": t, "resets": resets, "env": {}}
            s.add(self.holds(cell.guard, cell.reads, ctx, s))
            self.touch_envs(state, step.event, ctx, s)
            self.trace.append((t, step.event, sorted(ctx["env"].items())))
            resets = dict(resets)
            for r in cell.resets:
                resets[r] = t
            if self.tab.rearms(cell):
                timer = self.arm(s, t, cell.dst, resets, step.mode)
            state = cell.dst
            prev = t
        return self._finish(s, goal, state, resets, timer, prev)

    def _finish(self, s, goal: Goal, state: str, resets: dict, timer: _Timer, prev):
        a = self.a
        if goal.kind in ("reach", "entry"):
            return prev
        if goal.kind == "timer":
            fire = self.fire_at(state, s) if timer.mode is Mode.ARMED else None
            if fire is None:
                return prev
            assert timer.base is not None
            return timer.base + fire
        t = z3.Int("t_last")
        s.add(t >= prev)
        if timer.mode is Mode.EXPIRED:
            s.add(t <= prev)  # at the entry instant: before any late callback
        self.before_timer(s, t, state, timer)
        ctx = {"t": t, "resets": resets, "env": {}}
        cell = self.tab.get(state, goal.event or "")
        kind = goal.kind
        if kind != "invalid_event":
            assert cell is not None
            self.check(s, t, state, resets, timer, kind not in ("late", "wrap"))
        if kind == "wrap":
            inv = self.invariants[state]
            assert inv is not None and self.uptime is not None
            s.add(self.uptime + t < self._bound(state, s))
        elif kind == "guard":
            assert cell is not None
            s.add(z3.Not(self.holds(cell.guard, cell.reads, ctx, s)))
        elif kind in ("holds", "only"):
            assert cell is not None and goal.edge is not None
            s.add(self.holds(a.edges[goal.edge].guard, escapes_of(a, cell, goal.edge), ctx, s))
            if kind == "only":
                for j in cell.edges:
                    if j != goal.edge:
                        s.add(z3.Not(self.holds(a.edges[j].guard, escapes_of(a, cell, j),
                                                ctx, s)))
        elif kind == "dropped":
            assert goal.edge is not None
            s.add(self.holds(a.edges[goal.edge].guard, edge_reads(a, goal.edge), ctx, s))
        assert goal.event is not None
        self.touch_envs(state, goal.event, ctx, s)
        self.trace.append((t, goal.event, sorted(ctx["env"].items())))
        if self.uptime is not None:
            return self.uptime + t
        return t
