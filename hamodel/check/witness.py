"""Concrete timed traces: a zone-graph path -> Witness (integer ns, env values).

The zone explorer finds *which* table cells lead somewhere; this module finds
*when*.  With every parameter concrete the path's exact zones give the
earliest run (concrete.py); with free parameters, or for the small-uptime
goal, Z3 does (encoding.py, Optimize: the earliest finish, then the smallest
parameters).  Every witness is then replayed through `hamodel.semantics`
(confirm.py), which fills in the timer's instant and the clock values and says
whether the verdict is reached; a witness that does not reproduce its verdict
is never reported.  tests/test_check_framework.py replays them on the verbatim
kernel framework as well.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import z3

from hamodel.check.cells import Table, table
from hamodel.check.concrete import ZoneRuns, zone_witness
from hamodel.check.confirm import Replays, confirms, judge, replay, run_witness
from hamodel.check.constraints import INFINITE
from hamodel.check.encoding import PathEncoder, SolverUnknown
from hamodel.check.goals import Goal, TimedEvent, Witness
from hamodel.check.timing import DEFAULT_UPTIME_NS, Timing, timing
from hamodel.check.zones import Mode, Step, ZoneGraph
from hamodel.model import Automaton, Number, comparisons
from hamodel.semantics import Platform

__all__ = ["Goal", "GraphWitnesses", "PathEncoder", "SolverUnknown", "TimedEvent", "Witness",
           "concretize", "concretize_run", "confirms", "replay"]


def concretize(
    automaton: Automaton,
    steps: Sequence[Step],
    goal: Goal,
    params: Mapping[str, int],
    platform: Platform,
    start_mode: Mode = Mode.ARMED,
    timeout_s: float = 10.0,
    tab: Table | None = None,
    tm: Timing | None = None,
    solver: bool = False,
) -> Witness | None:
    """The earliest integer-timed trace along `steps` that reaches `goal`, or None
    (see concretize_run)."""
    found = concretize_run(automaton, steps, goal, params, platform, start_mode, timeout_s,
                           tab, tm, solver)
    return None if found is None else found[0]


def concretize_run(
    automaton: Automaton,
    steps: Sequence[Step],
    goal: Goal,
    params: Mapping[str, int],
    platform: Platform,
    start_mode: Mode = Mode.ARMED,
    timeout_s: float = 10.0,
    tab: Table | None = None,
    tm: Timing | None = None,
    solver: bool = False,
) -> tuple[Witness, bool] | None:
    """The earliest integer-timed trace along `steps` that reaches `goal`, or None;
    with it, whether its replay from the monitor's start routine confirms it.

    `platform` must name its timer kind; `tab` and `tm` may be given when known
    (the table, and the timing of `params` on `platform`).  With every parameter
    concrete the zones give the run (concrete.py); free parameters, the
    small-uptime goal, or `solver` ask Z3.  The result is replayed through
    hamodel.semantics to fill in the timer's instant and the clock values.
    """
    assert platform.timer is not None
    small = goal.kind == "wrap"
    concrete = all(params.get(p.name, INFINITE) != INFINITE for p in automaton.parameters)
    if concrete and not small and not solver:
        found = _from_zones(automaton, steps, goal, params, platform, start_mode, tab, tm)
        if found is not None:
            return found
    enc = PathEncoder(automaton, params, platform, small_uptime=small, tab=tab, tm=tm)
    opt = z3.Optimize()
    opt.set("timeout", max(1, int(timeout_s * 1000)))
    last = enc.encode(opt, steps, goal, start_mode)
    opt.minimize(last)
    for p in enc.param_vars.values():
        opt.minimize(p)
    answer = opt.check()
    if answer == z3.unknown:
        raise SolverUnknown(opt.reason_unknown())
    if answer == z3.unsat:
        return None
    model = opt.model()
    scale = enc.tm.scale

    def val(x: z3.ArithRef) -> int:
        return model.eval(x, model_completion=True).as_long()

    events = tuple(
        TimedEvent(val(t) * scale, e, tuple((k, val(v)) for k, v in env))
        for t, e, env in enc.trace
    )
    chosen = {k: val(v) for k, v in enc.param_vars.items()}
    chosen.update({k: v for k, v in params.items() if v != INFINITE})
    for p in automaton.parameters:
        chosen.setdefault(p.name, 1)  # not read along the path: any value will do
    if small:
        assert enc.uptime is not None
        uptime = val(enc.uptime)
    else:
        uptime = _uptime(automaton, chosen, scale, enc.tm.tick_ns)
    w = Witness(goal, tuple(sorted(chosen.items())), events, platform, uptime)
    return _complete(automaton, w, run_witness(automaton, w, "start"))


def _from_zones(a: Automaton, steps: Sequence[Step], goal: Goal, params: Mapping[str, int],
                platform: Platform, start_mode: Mode, tab: Table | None,
                tm: Timing | None) -> tuple[Witness, bool] | None:
    """The witness by concrete.zone_witness, with every env an event's edges read."""
    tab = tab or table(a)
    tm = tm or timing(a, platform, params)
    events = zone_witness(a, steps, goal, params, start_mode, tab, tm)
    if events is None:
        return None
    w = Witness(goal, tuple(sorted(params.items())), events, platform,
                _uptime(a, params, tm.scale, tm.tick_ns))
    return _complete(a, w, run_witness(a, w, "start"))


class GraphWitnesses:
    """Witnesses along the paths of one zone graph whose parameters are all given.

    The runs (concrete.ZoneRuns) and their replays (confirm.Replays) share
    common prefixes: a finding costs the events where its witness differs from
    the witnesses built before it, not its whole path.  The witnesses are the
    ones concretize_run builds for the same path and goal.
    """

    def __init__(self, a: Automaton, g: ZoneGraph, platform: Platform, tab: Table) -> None:
        self.a, self.g, self.platform = a, g, platform
        self.runs = ZoneRuns(a, g.params, g.nodes[0].mode, tab, g.timing)
        self.params = tuple(sorted(g.params.items()))
        self.uptime = _uptime(a, g.params, g.timing.scale, g.timing.tick_ns)
        self.replays = Replays(a, g.params, platform, self.uptime)

    def at(self, node_id: int, goal: Goal) -> tuple[Witness, bool] | None:
        """The witness of `goal` at the end of the node's path, and whether its replay
        confirms it; None when the zones give no run (the caller asks Z3)."""
        prefix = self.runs.at(self.g.nodes, node_id)
        found = None if prefix is None else self.runs.run(prefix, goal)
        if found is None:
            return None
        chain, extra = found
        events = chain.events() if chain is not None else ()
        if extra is not None:
            events += (extra,)
            before_last = chain
        else:
            before_last = chain.parent if chain is not None else None
        w = Witness(goal, self.params, events, self.platform, self.uptime)
        return _complete(self.a, w, self.replays.run(w, before_last))


_BOUNDS: dict[int, tuple[Automaton, int, tuple[tuple[str, int], ...]]] = {}


def _bounds(a: Automaton) -> tuple[int, tuple[tuple[str, int], ...]]:
    """The largest number the model compares a clock or env with, and its symbolic
    bounds (parameter, unit scale): computed once per model."""
    cached = _BOUNDS.get(id(a))
    if cached is None or cached[0] is not a:
        values = [s.invariant.bound for s in a.states if s.invariant] + [
            c.value for e in a.edges for c in comparisons(e.guard)]
        numbers = max((v.value for v in values if isinstance(v, Number)), default=0)
        symbols = sorted({(v.name, v.unit.scale if v.unit else 1) for v in values
                          if not isinstance(v, Number)})
        if len(_BOUNDS) > 256:
            _BOUNDS.clear()
        cached = _BOUNDS[id(a)] = (a, numbers, tuple(symbols))
    return cached[1], cached[2]


def _uptime(a: Automaton, params: Mapping[str, int], scale: int, tick: int) -> int:
    """An uptime past every bound (no check wraps), on a jiffy boundary."""
    numbers, symbols = _bounds(a)
    biggest = max([numbers * scale] + [params.get(name, 0) * unit * scale
                                       for name, unit in symbols])
    up = max(DEFAULT_UPTIME_NS, 2 * biggest)
    return -(-up // tick) * tick


def _complete(a: Automaton, w: Witness, run) -> tuple[Witness, bool]:
    """Fill in the timer's instant and the clock values from the replay from the start
    routine, and say whether that replay confirms the witness."""
    end = None if run.deadline is None else run.deadline - w.uptime
    clocks: tuple[tuple[str, int | None], ...] = ()
    obj = run.after if w.goal.kind in ("reach", "entry") else run.before
    if obj is not None and w.goal.kind != "timer":
        at = w.uptime + (w.events[-1].time if w.events else 0)
        sem = run.monitor.sem
        clocks = tuple((c, sem.clock_value(obj, c, at)) for c in sem.clock_names)
    done = Witness(w.goal, w.params, w.events, w.platform, w.uptime,
                   end if w.goal.kind == "timer" else None, clocks)
    return done, judge(a, done, run)
