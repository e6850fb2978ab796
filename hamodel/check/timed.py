"""Timed checks: Automaton + options -> [Finding], each backed by the zone graph.

Symbolic bounds: a parameter only ever used as an upper bound (`clk < P`,
invariants) or only as a lower bound (`clk > P`) on edges without siblings is
*monotone*: raising an upper (lowering a lower) parameter keeps every run's
moves valid.  So exploring once with upper parameters unbounded and lower ones
at 1 ("permissive") finds everything that happens for SOME positive value,
and what it does not find happens for NO value.  A second exploration with
the opposite extremes ("restrictive") tells what happens already at the
smallest values (params.py).  With a non-monotone parameter, "unreachable"
and "dead" need a re-checked Spacer proof (proof.py).

The same instant: when an event and the timer's callback fall on the same
nanosecond, which runs first is a race in the kernel.  Unless `--tie` names
one order, both are analysed; a finding that holds under one order only is a
warning that says so (never an error, never "proved").
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field

from hamodel import diagnostics as dg
from hamodel.check import codes
from hamodel.check import queries as queries_
from hamodel.check.findings import Checker, Failures, Finding, Pending
from hamodel.check.params import configurations, parameter_uses
from hamodel.check.timing import platform_timer
from hamodel.check.witness import Goal, concretize, confirms
from hamodel.check.zones import ZoneGraph, explore
from hamodel.diagnostics import Severity
from hamodel.model import Automaton
from hamodel.semantics import DEFAULT_HZ, Platform, Tie, Timer

__all__ = ["Finding", "Options", "QueryAnswers", "check_timed"]

IMPLICIT_TYPES = ("global", "per_cpu")


@dataclass(frozen=True, slots=True)
class Options:
    params: Mapping[str, int] = field(default_factory=dict)
    timeout_s: float = 30.0
    reach: tuple[str, ...] = ()
    violate: bool = False
    hz: int = DEFAULT_HZ
    timer: Timer | None = None  # None: the kind hamodel's kernel-C generator chooses
    tie: Tie | None = None  # None: both orders, as the kernel's race allows
    latency_ns: int = 0
    monitor_type: str | None = None  # when known (--type): global/per_cpu get HA127


@dataclass
class QueryAnswers:
    """--reach / --violate answers: True when the asked thing can happen."""

    answers: dict[str, bool] = field(default_factory=dict)


def _order_text(tie: Tie) -> str:
    return {Tie.EVENT_FIRST: "the event runs before the timer's callback",
            Tie.TIMER_FIRST: "the timer's callback runs before the event"}[tie]


def _one_order(f: Finding, tie: Tie, other: Tie) -> Finding:
    """A finding of one same-instant order only: a warning that says so."""
    d = f.diagnostic
    message = d.message.replace(" (proved)", "")
    message += (f" [only when {_order_text(tie)} at the same nanosecond; with --tie"
                f" {other.value} it does not happen]")
    severity = Severity.WARNING if d.severity is Severity.ERROR else d.severity
    return Finding(dataclasses.replace(d, message=message, severity=severity), f.witness)


def _merge(runs: list[tuple[Tie, list[Pending]]]) -> list[Finding]:
    out: list[Finding] = []
    if len(runs) == 1:
        for p in runs[0][1]:
            out += p.make()
        return out
    (tie_a, pend_a), (tie_b, pend_b) = runs
    keys_a, keys_b = {p.key for p in pend_a}, {p.key for p in pend_b}
    for p in pend_a:
        made = p.make()
        out += made if p.key in keys_b else [_one_order(f, tie_a, tie_b) for f in made]
    for p in pend_b:
        if p.key not in keys_a:
            out += [_one_order(f, tie_b, tie_a) for f in p.make()]
    return out


def check_timed(a: Automaton, options: Options) -> tuple[list[Finding], QueryAnswers]:
    """Explore the zone graph(s) and turn what they show into findings.

    Raises zones.ExplorationLimit, timing.Unsupported or witness.SolverUnknown.
    """
    findings: list[Finding] = []
    answers = QueryAnswers()
    configs, not_monotone = configurations(a, options.params)
    for p in not_monotone:
        span = next((q.span for q in a.parameters if q.name == p), None)
        findings.append(Finding(dg.warning(
            codes.PARAM_NOT_MONOTONE,
            f"parameter {p!r} is used both as an upper and a lower bound (or with ==, !=, or"
            " on competing edges): verdicts that must hold for all of its values are made"
            " only when a Spacer proof is found (unreachable states, dead guards); fix it"
            " with --param for the others",
            span,
        )))
    monotone = {p: use != {"lower"} for p, use in parameter_uses(a).items()
                if p not in options.params and p not in not_monotone}
    universal = not not_monotone
    has_timer = any(s.invariant for s in a.states)
    orders = [options.tie] if options.tie else (
        [Tie.EVENT_FIRST, Tie.TIMER_FIRST] if has_timer else [Tie.EVENT_FIRST])
    failures = Failures()
    runs: list[tuple[Tie, list[Pending]]] = []
    queries: dict[str, list[tuple[Tie, bool, object]]] = {}
    inexact: list[tuple[str, str]] = []
    for tie in orders:
        base = Platform(hz=options.hz, timer=options.timer, tie=tie,
                        latency_ns=options.latency_ns)
        platform = dataclasses.replace(base, timer=platform_timer(a, base))
        graphs: list[tuple[str, ZoneGraph]] = [
            (name, explore(a, params, platform, budget_s=options.timeout_s))
            for name, params in configs
        ]
        for _, g in graphs:
            inexact += [r for r in g.timing.inexact if r not in inexact]
        checker = Checker(a, dict(options.params), platform, options.timeout_s, monotone,
                          failures)
        runs.append((tie, checker.run(graphs, universal)))
        for state in options.reach:
            queries.setdefault(f"reach {state}", []).append(
                (tie, *queries_.reach_query(checker, graphs, state, universal)))
        if options.violate:
            queries.setdefault("violate", []).append(
                (tie, *queries_.violate_query(checker, graphs, universal)))
    if options.monitor_type in IMPLICIT_TYPES and a.clocks:
        findings += _implicit_monitor(a, options, runs[0][0])
    findings += _merge(runs)
    for name, per_order in queries.items():
        findings += _answer(name, per_order, answers)
    findings += failures.findings
    if inexact:
        dropped = (f"; {failures.count} finding(s) the windows suggest had no witness the"
                   " semantics replays and are not reported" if failures.count else "")
        first = a.state(inexact[0][0])
        findings.append(Finding(dg.warning(
            codes.TIMER_NOT_EXACT,
            "the timer's firing instant depends on absolute time here ("
            + "; ".join(f"{s}: {why}" for s, why in inexact) + "): the analysis lets it fire"
            " anywhere in that window, so verdicts that something never happens still hold,"
            " and every other finding is shown only with a witness the semantics replays"
            + dropped,
            first.invariant.span if first.invariant else first.span,
        )))
    return findings, answers


def _answer(name: str, per_order: list, answers: QueryAnswers) -> list[Finding]:
    """A query's answer: yes when some order says yes (the kernel's race allows it)."""
    yes = [(tie, make) for tie, ok, make in per_order if ok]
    answers.answers[name] = bool(yes)
    if not yes:
        return per_order[0][2]()
    tie, make = yes[0]
    made = make()
    if len(yes) < len(per_order):
        made = [dataclasses.replace(f, diagnostic=dataclasses.replace(
            f.diagnostic, message=f.diagnostic.message
            + f" [only when {_order_text(tie)} at the same nanosecond]")) for f in made]
    return made


def _implicit_monitor(a: Automaton, options: Options, tie: Tie) -> list[Finding]:
    """HA127: the framework stores global and per-CPU monitors as struct da_monitor."""
    base = Platform(hz=options.hz, timer=options.timer, tie=tie, latency_ns=options.latency_ns)
    platform = dataclasses.replace(base, timer=platform_timer(a, base))
    w = concretize(a, (), Goal("reach", a.initial.name), {p.name: 1 for p in a.parameters}
                   | dict(options.params), platform, timeout_s=options.timeout_s)
    if w is not None and not confirms(a, w):
        w = None
    return [Finding(dg.error(
        codes.IMPLICIT_MONITOR_CLOCKS,
        f"a {options.monitor_type} monitor with clocks: the framework stores global and"
        " per-CPU monitors as struct da_monitor, so every start (ha_monitor_init_env)"
        " writes the clock storage and the timer past the monitor's memory (framework"
        " behaviour; hamodel gen refuses it, HA023)",
        a.clocks[0].span), w)]
