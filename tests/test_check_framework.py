"""Every `hamodel check` witness, replayed on the verbatim kernel framework.

A witness is a timed run: a start (the monitor's start routine, a start event
whose event is not processed, or a start-run event of its first event), then
events at ns since boot, then, for a timer, time passing.  Each one is run
through the generated kernel C of its model compiled with the verbatim
include/rv/da_monitor.h and ha_monitor.h (tests/kshim), on the witness's
platform (timer kind, same-instant order, callback latency), from every start
it claims; the framework must print the same lines as hamodel.semantics, and
the verdict the finding states must be in those lines.  A witness the
framework does not reproduce fails the test.

Models the kernel-C generator refuses (two edges to different states for one
event, several clocks) cannot run on the framework; they are listed in
`NOT_GENERATED` with the reason, and a test keeps that list exact.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

import kshim
import pytest
from conftest import ROOT, corpus
from hypothesis import HealthCheck, assume, given, settings
from kshim import Op
from strategies import automata

from hamodel.check import Options, check_automaton
from hamodel.check.cells import table
from hamodel.check.witness import Witness, confirms
from hamodel.gen import GenError, GenOptions, kernel_c
from hamodel.load import load_model
from hamodel.model import Automaton
from hamodel.semantics import Tie, Timer

pytestmark = pytest.mark.skipif(not kshim.available(), reason=kshim.MISSING)

SEEDED = sorted((ROOT / "tests" / "check_models").glob("*.dot"))
REAL = corpus("upstream", "upstream-history", "tlob-proposal") + [ROOT / "models" / "tlob.dot"]
# The kernel-C generator refuses these (docs/kernel-c.md): nothing to run.
NOT_GENERATED = {
    "disjoint.dot": "two edges for one (state, event) go to different states",
    "overlap.dot": "two edges for one (state, event) go to different states",
    "mixed_clocks.dot": "two clocks (MAX_HA_ENV_LEN is 1), and edges to different states",
}
TIMER_MACRO = {Timer.WHEEL: "HA_TIMER_WHEEL", Timer.HRTIMER: "HA_TIMER_HRTIMER"}


def _generated(a: Automaton) -> bool:
    try:
        kernel_c.build_view(a, GenOptions(model_path=a.file or "m.dot",
                                          monitor_type="per_task"))
    except GenError:
        return False
    return True


_BUILDS: dict[tuple, kshim.Build] = {}


def _build(a: Automaton, timer: Timer | None, tmp: Path) -> kshim.Build:
    key = (a, timer)
    if key not in _BUILDS:
        macro = TIMER_MACRO.get(timer, "auto") if timer else "auto"
        _BUILDS[key] = kshim.build_model(a, tmp / f"{len(_BUILDS)}", "per_task", macro)
    return _BUILDS[key]


def ops_of(a: Automaton, w: Witness, start: str) -> list[Op]:
    """The witness as driver calls on object 1 (a per-task monitor)."""
    index = {e.name: i for i, e in enumerate(a.events)}
    readonly = [e.name for e in a.envs if not e.stored]
    seen: dict[str, int] = {}

    def env(values) -> tuple[int, ...]:
        seen.update(values)
        return tuple(seen.get(n, 0) for n in readonly)

    events = list(w.events)
    u = w.uptime
    if start == "start":
        ops = [Op(u, "begin", 1)]
    elif start == "start_event":
        ops = [Op(u, "start_event", 1, 0, env(()))]
    else:
        first = events.pop(0)
        ops = [Op(u + first.time, "start_run_event", 1, index[first.event], env(first.env))]
    ops += [Op(u + e.time, "event", 1, index[e.event], env(e.env)) for e in events]
    if w.end is not None:
        ops.append(Op(u + w.end + 1, "idle"))
    return ops


def verdict_lines(a: Automaton, w: Witness) -> tuple[str, ...]:
    """Lines one of which the framework must print for the finding's verdict."""
    g = w.goal
    m = a.name
    if g.kind in ("reach", "entry"):
        return (f" -> {g.state}",) if w.events else (f" state 1 on {g.state}",)
    if g.kind in ("holds", "only", "dropped"):
        cell = table(a).get(g.state, g.event or "")
        assert cell is not None
        moved = f"trace event_{m}: 1: {g.state} x {g.event} -> {cell.dst}"
        if g.kind != "dropped":
            return (moved,)
        return (moved, f"trace error_env_{m}: 1: event {g.event} not expected in the state"
                       f" {g.state} ")
    if g.kind == "timer":
        return (f"trace error_env_{m}: 1: event none not expected in the state {g.state} ",)
    if g.kind == "invalid_event":
        return (f"trace error_{m}: 1: event {g.event} not expected in the state {g.state}",)
    return (f"trace error_env_{m}: 1: event {g.event} not expected in the state {g.state} ",)


def replay_on_framework(a: Automaton, w: Witness, tmp: Path) -> None:
    assert confirms(a, w), w
    build = _build(a, w.platform.timer if a.clocks else None, tmp)
    params = tuple(dict(w.params)[p.name] for p in a.parameters)
    for start in w.start_kinds():
        ops = ops_of(a, w, start)
        kernel = kshim.run_framework(build, ops, params, latency_ns=w.platform.latency_ns,
                                     timers_first=w.platform.tie is Tie.TIMER_FIRST)
        ours = kshim.run_semantics(build, ops, params, w.platform)
        assert kernel == ours, (start, w, kernel, ours)
        want = verdict_lines(a, w)
        assert any(x in line for line in kernel for x in want), (start, want, kernel)


@cache
def report_of(path: Path):
    a, diags = load_model(path)
    assert a is not None
    reach = tuple(s.name for s in a.states)
    return a, check_automaton(a, Options(reach=reach, violate=True, timeout_s=60), diags)


@pytest.mark.parametrize("path", SEEDED + REAL, ids=lambda p: p.stem)
def test_witnesses_replay_on_the_framework(path, tmp_path_factory):
    a, report = report_of(path)
    witnessed = [f for f in report.findings if f.witness is not None]
    if not _generated(a):
        pytest.skip(f"hamodel gen refuses {path.name}: {NOT_GENERATED[path.name]}")
    tmp = tmp_path_factory.mktemp(path.stem)
    for f in witnessed:
        replay_on_framework(a, f.witness, tmp)


def test_not_generated_list_is_exact():
    refused = set()
    for path in SEEDED + REAL:
        a, _ = load_model(path)
        if a is not None and not _generated(a):
            refused.add(path.name)
    assert refused == set(NOT_GENERATED)


@pytest.mark.parametrize("args", [
    {"tie": Tie.TIMER_FIRST},
    {"latency_ns": 3},
    {"timer": Timer.WHEEL},
    {"tie": Tie.EVENT_FIRST, "timer": Timer.HRTIMER},
])
@pytest.mark.parametrize("name", ["tie", "entry", "timelock", "unset_clock", "unset_jiffy"])
def test_platform_options_witnesses(name, args, tmp_path_factory):
    """--tie, --timer-latency and --timer: the witnesses of each choice on the framework."""
    a, diags = load_model(ROOT / "tests" / "check_models" / f"{name}.dot")
    assert a is not None
    report = check_automaton(a, Options(reach=tuple(s.name for s in a.states), violate=True,
                                        timeout_s=60, **args), diags)
    tmp = tmp_path_factory.mktemp(name)
    for f in report.findings:
        if f.witness is not None:
            for key, value in args.items():
                chosen = {"tie": f.witness.platform.tie, "timer": f.witness.platform.timer,
                          "latency_ns": f.witness.platform.latency_ns}[key]
                assert chosen == value
            replay_on_framework(a, f.witness, tmp)


EXAMPLES = int(os.environ.get("HAMODEL_DIFF_EXAMPLES", "0") or 0)


@settings(max_examples=EXAMPLES or 8, deadline=None, derandomize=not EXAMPLES,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.filter_too_much])
@given(a=automata(max_states=3, max_edges=6))
def test_random_model_witnesses_on_the_framework(a, tmp_path_factory):
    """Random models (one clock at most: MAX_HA_ENV_LEN); HAMODEL_DIFF_EXAMPLES=N runs N."""
    assume(len(a.clocks) <= 1 and _generated(a))
    report = check_automaton(a, Options(reach=tuple(s.name for s in a.states), violate=True,
                                        timeout_s=3))
    assume(not report.incomplete)
    tmp = tmp_path_factory.mktemp("rnd")
    for f in report.findings:
        if f.witness is not None:
            replay_on_framework(a, f.witness, tmp)
