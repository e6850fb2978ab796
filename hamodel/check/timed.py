"""Timed checks: Automaton + options -> [Finding], each backed by the zone graph.

Symbolic bounds: a parameter only ever used as an upper bound (`clk < P`,
invariants) or only as a lower bound (`clk > P`) on edges without siblings is
*monotone*: raising an upper (lowering a lower) parameter keeps every run
valid.  So exploring once with upper parameters unbounded and lower ones at 1
("permissive") finds everything that happens for SOME positive value, and
what it does not find happens for NO value.  A second exploration with the
opposite extremes ("restrictive") tells what happens already at the smallest
values (params.py).  Every finding carries a Z3-chosen concrete valuation in
its witness, replayed through semantics.Monitor, and says for which parameter
values its event sequence works (smt.py).  With a non-monotone parameter,
"unreachable" and "dead" need a re-checked Spacer proof (proof.py).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field

from hamodel import diagnostics as dg
from hamodel.check import codes
from hamodel.check.constraints import INFINITE
from hamodel.check.params import configurations, parameter_uses
from hamodel.check.proof import Proof, prove
from hamodel.check.smt import parameter_region
from hamodel.check.wellformed import reachable_untimed
from hamodel.check.witness import Goal, Witness, concretize, confirms
from hamodel.check.zones import Hit, Step, ZoneGraph, explore
from hamodel.diagnostics import Diagnostic, Note, Severity
from hamodel.model import Automaton, Number, Symbol, comparisons
from hamodel.semantics import DEFAULT_HZ


@dataclass(frozen=True, slots=True)
class Finding:
    diagnostic: Diagnostic
    witness: Witness | None = None


@dataclass(frozen=True, slots=True)
class Options:
    params: Mapping[str, int] = field(default_factory=dict)
    timeout_s: float = 30.0
    reach: tuple[str, ...] = ()
    violate: bool = False
    hz: int = DEFAULT_HZ


@dataclass
class QueryAnswers:
    """--reach / --violate answers: True when the asked thing can happen."""

    answers: dict[str, bool] = field(default_factory=dict)


# --- the checks -----------------------------------------------------------------


class _Checker:
    def __init__(self, a: Automaton, options: Options) -> None:
        self.a = a
        self.o = options
        self.findings: list[Finding] = []
        self.queries = QueryAnswers()
        # free monotone parameter -> True for an upper bound, False for a lower one
        self.monotone: dict[str, bool] = {}
        # witness -> what the parameter region of its event sequence is
        self.scopes: dict[Witness, str] = {}

    def witness(self, g: ZoneGraph, steps: tuple[Step, ...], goal: Goal) -> Witness | None:
        w = concretize(self.a, steps, goal, g.params, self.o.hz, self.o.timeout_s)
        if w is not None and any(v == INFINITE or k not in self.o.params
                                 for k, v in g.params.items()):
            region = parameter_region(self.a, steps, goal, self.o.params, self.o.timeout_s)
            if region is not None:
                self.scopes[w] = (
                    "; this holds for every positive value of the parameters"
                    if region.every_positive
                    else f"; this event sequence needs {region.condition}"
                )
        if w is None or not confirms(self.a, w, self.o.hz):
            self.add(dg.warning(
                codes.WITNESS_FAILED,
                f"internal: no confirmed witness for {goal.kind} {goal.state}"
                f" ({'no integer solution' if w is None else 'semantics.py disagrees'})",
                self.a.state(goal.state).span,
            ))
            return None
        return w

    def add(self, d: Diagnostic, w: Witness | None = None, scoped: bool = True) -> None:
        """Record a finding; `scoped`: say which parameter values its witness needs."""
        scope = self.scopes.get(w, "") if w is not None and scoped else ""
        if scope and d.code != codes.PARAM_DEPENDENT:
            d = dataclasses.replace(d, message=d.message + scope)
        self.findings.append(Finding(d, w))

    def hit_witness(self, g: ZoneGraph, kind: str, hit: Hit) -> Witness | None:
        node = g.nodes[hit.node]
        steps = g.path(hit.node)
        if kind == "entry":
            assert hit.edge is not None and hit.event is not None
            edge = self.a.edges[hit.edge]
            return self.witness(
                g, steps + (Step(hit.event, hit.edge),), Goal("entry", edge.dst, edge=hit.edge)
            )
        if kind == "reach":
            return self.witness(g, steps, Goal("reach", node.state))
        return self.witness(g, steps, Goal(kind, node.state, hit.event))

    def run(self, graphs: list[tuple[str, ZoneGraph]], universal: bool) -> None:
        first = graphs[0][1]
        self._reachability(graphs, universal)
        self._determinism(graphs)
        if universal:
            self._dead_guards(first)
            self._disjoint(first)
        else:
            self._proved(graphs)
        self._vacuous(graphs)
        self._entry(graphs)
        self._unset_invariants(first)
        self._timelocks(graphs, universal)
        for state in self.o.reach:
            self._query_reach(graphs, state, universal)
        if self.o.violate:
            self._query_violate(graphs, universal)

    def _threshold(self, state: str, g: ZoneGraph) -> str:
        """The exact parameter range of reachability, when one monotone parameter is free.

        Reachability is monotone in such a parameter, so a search over exact
        explorations finds the boundary value.
        """
        free = [p for p, v in g.params.items() if p not in self.o.params]
        fallback = "only for some parameter values, not with each at its smallest"
        if len(free) != 1 or self.monotone.get(free[0]) is None:
            return fallback
        p = free[0]
        upper = self.monotone[p]

        def reaches(v: int) -> bool:
            params = dict(g.params)
            params[p] = v
            return state in explore(self.a, params, budget_s=self.o.timeout_s).reached

        # Upper-bound parameter: reachable exactly for v >= v*; lower: for v <= v*.
        # Invariant of the search: reaches(good) and not reaches(bad).
        good, bad = (None, 1) if upper else (1, None)
        probe = 2
        while (good if upper else bad) is None:
            if probe > 2**62:
                return fallback
            if reaches(probe) == upper:
                if upper:
                    good = probe
                else:
                    bad = probe
            elif upper:
                bad = probe
            else:
                good = probe
            probe *= 2
        assert good is not None and bad is not None
        while abs(good - bad) > 1:
            mid = (good + bad) // 2
            if reaches(mid):
                good = mid
            else:
                bad = mid
        if upper:
            return f"iff {p} >= {good} (exact: reachability only grows with {p})"
        return f"iff {p} <= {good} (exact: reachability only shrinks as {p} grows)"

    # reachability under timing
    def _reachability(self, graphs: list[tuple[str, ZoneGraph]], universal: bool) -> None:
        untimed = reachable_untimed(self.a)
        g = graphs[0][1]
        for s in self.a.states:
            if s.name not in untimed:
                continue
            if s.name not in g.reached and universal:
                self.add(dg.warning(
                    codes.TIMED_UNREACHABLE,
                    f"state {s.name!r} has a path of events from {self.a.initial.name!r},"
                    " but no timing satisfies the guards and invariants along any of them"
                    + (" (edges are tried in order: an earlier edge for the same event may"
                       " always win)" if _has_siblings(self.a) else "")
                    + _for_all(graphs),
                    s.span,
                ))
            elif s.name in g.reached and len(graphs) > 1 and s.name not in graphs[1][1].reached:
                w = self.hit_witness(g, "reach", g.reached[s.name])
                self.add(dg.Diagnostic(
                    Severity.INFO,
                    codes.PARAM_DEPENDENT,
                    f"state {s.name!r} is reachable {self._threshold(s.name, g)}",
                    s.span,
                ), w)

    def _determinism(self, graphs: list[tuple[str, ZoneGraph]]) -> None:
        done: set[tuple[int, int]] = set()
        for _, g in graphs:
            for (k1, k2), hit in sorted(g.overlap.items()):
                if (k1, k2) in done:
                    continue
                done.add((k1, k2))
                e1, e2 = self.a.edges[k1], self.a.edges[k2]
                node = g.nodes[hit.node]
                w = self.witness(
                    g, g.path(hit.node), Goal("overlap", node.state, e1.event, k1, k2)
                )
                at = f" (e.g. at {w.valuation(self.a)})" if w and w.valuation(self.a) else ""
                self.add(dg.Diagnostic(
                    Severity.ERROR,
                    codes.NONDETERMINISTIC,
                    f"event {e1.event!r} in state {e1.src!r} enables two edges at once"
                    f" (to {e1.dst!r} and to {e2.dst!r}){at}; the kernel keeps one per"
                    f" (state, event), so which one runs is not the model's choice",
                    e2.span,
                    (Note(f"the other edge, to {e1.dst!r}", e1.span),),
                ), w)

    def _proved(self, graphs: list[tuple[str, ZoneGraph]]) -> None:
        """Universal verdicts for non-monotone parameters, by re-checked Spacer proofs."""
        a = self.a
        untimed = reachable_untimed(a)
        for s in a.states:
            if s.name not in untimed or any(s.name in g.reached for _, g in graphs):
                continue
            proof = prove(a, ("state", s.name), self.o.params, self.o.timeout_s)
            if proof is not None:
                self.add(dg.warning(
                    codes.TIMED_UNREACHABLE,
                    f"state {s.name!r} has a path of events from {a.initial.name!r}, but no"
                    " timing follows it, for every positive value of the parameters (proved)",
                    s.span,
                    *_proof_notes(proof),
                ))
        for k, e in enumerate(a.edges):
            if not any(e.src in g.reached for _, g in graphs):
                continue
            if any(k in g.guard_holds for _, g in graphs):
                continue
            proof = prove(a, ("edge", k), self.o.params, self.o.timeout_s)
            if proof is not None:
                w = next(
                    (self.hit_witness(g, "guard", g.guard_violation[(e.src, e.event)])
                     for _, g in graphs if (e.src, e.event) in g.guard_violation),
                    None,
                )
                self.add(dg.error(
                    codes.DEAD_GUARD,
                    f"the guard of {e.src} -{e.event}-> {e.dst} never holds where the edge"
                    " starts, for every positive value of the parameters (proved)",
                    e.span,
                    *_proof_notes(proof),
                ), w, scoped=False)

    def _for_all(self, g: ZoneGraph) -> str:
        """The scope of a universal verdict drawn from a (permissive) graph."""
        free = any(p not in self.o.params for p in g.params)
        return " (for every positive value of the parameters)" if free else ""

    def _disjoint(self, g: ZoneGraph) -> None:
        """Answer the build's nondeterministic-edge warning when the zones prove it moot."""
        groups: dict[tuple[str, str], list[int]] = {}
        for k, e in enumerate(self.a.edges):
            groups.setdefault((e.src, e.event), []).append(k)
        for (src, event), ks in groups.items():
            if len(ks) < 2 or src not in g.reached:
                continue
            if any((k1, k2) in g.overlap for k1 in ks for k2 in ks):
                continue
            last = self.a.edges[ks[-1]]
            self.add(Diagnostic(
                Severity.NOTE,
                codes.DISJOINT,
                f"the {len(ks)} edges for event {event!r} from {src!r} never compete: no"
                " reachable clock and env value enables two of them"
                + self._for_all(g),
                last.span,
            ))

    def _dead_guards(self, g: ZoneGraph) -> None:
        for k, e in enumerate(self.a.edges):
            if e.src not in g.reached or k in g.taken:
                continue
            failing = g.guard_violation.get((e.src, e.event))
            if failing is not None and k not in g.guard_holds:
                # Show the event failing where the edge starts (a guard violation).
                w = self.hit_witness(g, "guard", failing)
            else:
                w = self.hit_witness(g, "reach", g.reached[e.src])
            if k in g.guard_holds:
                rivals = sorted(pair for pair in g.overlap if pair[1] == k)
                if rivals:
                    # Show an instant where both hold: the earlier edge is the one taken.
                    hit = g.overlap[rivals[0]]
                    goal = Goal("overlap", e.src, e.event, rivals[0][0], k)
                    w = self.witness(g, g.path(hit.node), goal)
                self.add(dg.warning(
                    codes.SHADOWED_EDGE,
                    f"edge {e.src} -{e.event}-> {e.dst} is never taken: wherever its guard"
                    " holds, an earlier edge for the same event holds too"
                    + self._for_all(g),
                    e.span,
                ), w, scoped=False)
                continue
            self.add(dg.error(
                codes.DEAD_GUARD,
                f"the guard of {e.src} -{e.event}-> {e.dst} never holds: not for any clock"
                f" value reachable in {e.src!r} and any env value{self._for_all(g)}",
                e.span,
            ), w, scoped=False)

    def _vacuous(self, graphs: list[tuple[str, ZoneGraph]]) -> None:
        for k, e in enumerate(self.a.edges):
            if e.guard is None:
                continue
            if any(isinstance(c.value, Symbol) and c.value.name not in self.o.params
                   for c in comparisons(e.guard)):
                continue
            if not all(e.src in g.reached for _, g in graphs):
                continue
            if any(k in g.guard_fails for _, g in graphs):
                continue
            g = graphs[0][1]
            read = {c.env for c in comparisons(e.guard)}
            unset_everywhere = all(
                read & g.nodes[n].unset for n in g.by_state.get(e.src, [])
            )
            why = (
                ": it reads a clock that is unset whenever the edge can fire, and the kernel"
                " lets every comparison on an unset clock pass"
                if unset_everywhere
                else ""
            )
            self.add(dg.warning(
                codes.VACUOUS_GUARD,
                f"the guard of {e.src} -{e.event}-> {e.dst} holds for every reachable clock"
                f" and env value{why}",
                e.guard.span or e.span,
            ))

    def _entry(self, graphs: list[tuple[str, ZoneGraph]]) -> None:
        done: set[int] = set()
        for _, g in graphs:
            for k, hit in sorted(g.entry_violation.items()):
                if k in done:
                    continue
                done.add(k)
                e = self.a.edges[k]
                dst = self.a.state(e.dst)
                w = self.hit_witness(g, "entry", hit)
                inv = dst.invariant
                assert inv is not None
                at = f" (e.g. {w.valuation(self.a)})" if w and w.valuation(self.a) else ""
                self.add(dg.warning(
                    codes.ENTRY_VIOLATION,
                    f"edge {e.src} -{e.event}-> {e.dst} can enter {e.dst!r} when its invariant"
                    f" `{inv.clock} {inv.op} {_text(inv.bound)}` is already false{at}: the"
                    " timer fires at the entry instant",
                    e.span,
                    Note(f"the invariant of {e.dst!r}", inv.span or dst.span),
                ), w)

    def _unset_invariants(self, g: ZoneGraph) -> None:
        for s in self.a.states:
            inv = s.invariant
            if inv is None:
                continue
            nodes = [n for n in g.by_state.get(s.name, []) if inv.clock in g.nodes[n].unset]
            if not nodes:
                continue
            w = self.hit_witness(g, "reach", Hit(nodes[0]))
            self.add(dg.warning(
                codes.UNSET_CLOCK_INVARIANT,
                f"state {s.name!r} can be entered with clock {inv.clock!r} never reset: the"
                " kernel then arms the timer with passed = 0, so the bound counts from entering"
                f" {s.name!r}, and guards on {inv.clock!r} pass until it is reset",
                inv.span or s.span,
            ), w)

    def _timelocks(self, graphs: list[tuple[str, ZoneGraph]], universal: bool) -> None:
        a = self.a
        if _by_design(a):
            hits = [(g, g.invariant_violation[a.initial.name]) for _, g in graphs
                    if a.initial.name in g.invariant_violation]
            inv = a.initial.invariant
            if hits and inv is not None:
                w = self.hit_witness(hits[0][0], "invariant", hits[0][1])
                self.add(dg.Diagnostic(
                    Severity.INFO,
                    codes.BY_DESIGN,
                    f"every state has the invariant `{inv.clock} {inv.op} {_text(inv.bound)}`,"
                    f" the start resets {inv.clock!r} and no edge does: every run ends in a"
                    f" violation {_text(inv.bound)} after the start, unless the object is"
                    " stopped first",
                    inv.span or a.initial.span,
                ), w)
        if not universal:
            return
        # "Inevitable" is a claim about every run: it is made from the graph with
        # the most escapes (parameters given, or permissive), see params.py.
        g = graphs[0][1]
        for s in a.states:
            if s.name not in g.invariant_violation:
                continue
            if any(
                e.src == s.name and (e.dst != s.name or e.resets) and k in g.taken
                for k, e in enumerate(a.edges)
            ):
                continue
            w = self.hit_witness(g, "invariant", g.invariant_violation[s.name])
            inv = s.invariant
            assert inv is not None
            self.add(dg.error(
                codes.TIMELOCK,
                f"violation is inevitable after {_text(inv.bound)} in {s.name!r}: no edge"
                f" that leaves it or resets {inv.clock!r} can ever be taken there",
                s.span,
            ), w)

    def _query_reach(
        self, graphs: list[tuple[str, ZoneGraph]], state: str, universal: bool
    ) -> None:
        try:
            target = self.a.state(state)
        except KeyError:
            self.add(dg.error(codes.QUERY_REACH, f"--reach: no state {state!r}", None))
            self.queries.answers[f"reach {state}"] = False
            return
        for _, g in graphs:
            if state in g.reached:
                w = self.hit_witness(g, "reach", g.reached[state])
                self.add(dg.Diagnostic(
                    Severity.INFO, codes.QUERY_REACH, f"state {state!r} is reachable",
                    target.span,
                ), w)
                self.queries.answers[f"reach {state}"] = True
                return
        # The zone graph is the proof; a re-checked inductive invariant is a
        # certificate that needs no trust in the explorer.
        proof = prove(self.a, ("state", state), self.o.params, self.o.timeout_s)
        if universal or proof is not None:
            message = f"state {state!r} is not reachable"
        else:
            message = (
                f"state {state!r} is not reachable with the parameter values analysed, and"
                " no proof for every value was found (a parameter is not monotone: give"
                " --param)"
            )
        self.add(dg.Diagnostic(
            Severity.INFO, codes.QUERY_REACH, message, target.span,
            tuple(_proof_notes(proof)) if proof else (),
        ))
        self.queries.answers[f"reach {state}"] = False

    def _query_violate(self, graphs: list[tuple[str, ZoneGraph]], universal: bool) -> None:
        best: tuple[int, str, Hit, ZoneGraph] | None = None
        for _, g in graphs:
            for kind, hit in g.violation_hits():
                depth = g.nodes[hit.node].depth + (0 if kind == "invariant" else 1)
                if best is None or depth < best[0]:
                    best = (depth, kind, hit, g)
        if best is None:
            self.add(dg.Diagnostic(
                Severity.INFO, codes.QUERY_VIOLATE,
                "no violation can be reported" + (
                    "" if universal else
                    " with the parameter values analysed (a parameter is not monotone:"
                    " give --param for a verdict)"
                ),
                None,
            ))
            self.queries.answers["violate"] = False
            return
        _, kind, hit, g = best
        w = self.hit_witness(g, kind, hit)
        state = g.nodes[hit.node].state
        what = {
            "invalid_event": f"event {hit.event!r} has no edge in {state!r}",
            "guard": f"no guard of event {hit.event!r} holds in {state!r}",
            "invariant": f"the invariant of {state!r} expires",
            "entry": "an edge enters a state whose invariant is already false",
        }[kind]
        self.add(dg.Diagnostic(
            Severity.INFO, codes.QUERY_VIOLATE, f"a violation can be reported: {what}",
            self.a.state(state).span,
        ), w)
        self.queries.answers["violate"] = True


def _proof_notes(proof: Proof) -> list[Note]:
    return [
        Note(f"inductive invariant of {state!r} (re-checked): {text}")
        for state, text in proof.invariants
    ]


def _has_siblings(a: Automaton) -> bool:
    keys = [(e.src, e.event) for e in a.edges]
    return len(keys) != len(set(keys))


def _by_design(a: Automaton) -> bool:
    """Every state carries the same invariant and only the start resets its clock.

    (Without the reset at start the clock is unset, each entry re-arms the timer
    with `passed = 0`, and a run can dodge the bound by moving: not inevitable.)
    """
    invs = {(s.invariant.clock, s.invariant.op, s.invariant.bound) if s.invariant else None
            for s in a.states}
    if len(invs) != 1 or None in invs:
        return False
    clock = next(iter(invs))[0]
    started = clock in {r.env for r in a.init_resets}
    return started and all(clock not in e.reset_envs for e in a.edges)


def _text(v: Number | Symbol) -> str:
    if isinstance(v, Number):
        return v.text or str(v.value)
    return v.text


def _valuation(w: Witness | None) -> str:
    if w is None or not w.params:
        return "see the witness"
    return "e.g. " + ", ".join(f"{k}={v}" for k, v in w.params)


def _for_all(graphs: list[tuple[str, ZoneGraph]]) -> str:
    return " (for every positive value of the parameters)" if len(graphs) > 1 else ""




def check_timed(a: Automaton, options: Options) -> tuple[list[Finding], QueryAnswers]:
    """Explore the zone graph(s) and turn what they show into findings.

    Raises zones.ExplorationLimit or witness.SolverUnknown when the time runs out.
    """
    checker = _Checker(a, options)
    configs, not_monotone = configurations(a, options.params)
    for p in not_monotone:
        span = next((q.span for q in a.parameters if q.name == p), None)
        checker.add(dg.warning(
            codes.PARAM_NOT_MONOTONE,
            f"parameter {p!r} is used both as an upper and a lower bound (or with ==, !=, or"
            " on competing edges): verdicts that must hold for all of its values are made"
            " only when a Spacer proof is found (unreachable states, dead guards); fix it"
            " with --param for the others",
            span,
        ))
    uses = parameter_uses(a)
    for p, use in uses.items():
        if p not in options.params and p not in not_monotone:
            checker.monotone[p] = use != {"lower"}
    graphs = [
        (name, explore(a, params, budget_s=options.timeout_s)) for name, params in configs
    ]
    checker.run(graphs, universal=not not_monotone)
    return checker.findings, checker.queries
