"""Findings of one platform: ZoneGraphs -> pending findings, each with its witness.

`Checker.run` turns the zone graphs of one platform (one same-instant order)
into `Pending` findings: a key saying what the finding is about (so timed.py
can tell whether the other order has it too) and a function that builds the
diagnostic with its witness, called only for the findings that are kept.
Every positive verdict is shown with a witness that hamodel.semantics
replays; verdicts that something never happens come from the exact zone
graph (or a re-checked Spacer proof) and need none.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field

from hamodel import diagnostics as dg
from hamodel.check import behaviours, codes
from hamodel.check.cells import table
from hamodel.check.constraints import INFINITE
from hamodel.check.proof import prove
from hamodel.check.smt import parameter_region
from hamodel.check.texts import bound_text, proof_notes
from hamodel.check.wellformed import closure
from hamodel.check.witness import Goal, GraphWitnesses, Witness, concretize_run
from hamodel.check.zones import Hit, Mode, Step, ZoneGraph, explore
from hamodel.diagnostics import Diagnostic, Note, Severity
from hamodel.model import Automaton, Symbol, comparisons
from hamodel.semantics import Platform


@dataclass(frozen=True, slots=True)
class Finding:
    diagnostic: Diagnostic
    witness: Witness | None = None


@dataclass(frozen=True, slots=True)
class Pending:
    key: tuple
    make: Callable[[], list[Finding]]


@dataclass
class Failures:
    """Witnesses that did not replay: HA124, or counted under HA128 when inexact."""

    count: int = 0
    findings: list[Finding] = field(default_factory=list)


Graphs = list[tuple[str, ZoneGraph]]


class Checker:
    def __init__(self, a: Automaton, fixed: dict[str, int], platform: Platform,
                 timeout_s: float, monotone: dict[str, bool], failures: Failures) -> None:
        self.a = a
        self.fixed = fixed
        self.platform = platform  # with the timer kind fixed
        self.timeout_s = timeout_s
        self.monotone = monotone  # free monotone parameter -> True for an upper bound
        self.failures = failures
        self.tab = table(a)
        self.states = {s.name: s for s in a.states}
        self.pending: list[Pending] = []
        self.scopes: dict[Witness, str] = {}
        self.shared: dict[int, tuple[ZoneGraph, GraphWitnesses]] = {}  # per graph

    # --- witnesses ---

    def witness(self, g: ZoneGraph, steps: tuple[Step, ...] | None, goal: Goal,
                node: int | None = None) -> Witness | None:
        """The confirmed witness of `goal` along `steps`, or along the path of `node`
        (then the witnesses of one graph share their common prefixes)."""
        found = None
        shared = node is not None and goal.kind != "wrap" and all(
            v != INFINITE for v in g.params.values())
        if shared:
            key = id(g)
            if key not in self.shared:
                self.shared[key] = (g, GraphWitnesses(self.a, g, self.platform, self.tab))
            found = self.shared[key][1].at(node, goal)

        def steps_of() -> tuple[Step, ...]:  # only the solver needs the path spelt out
            if steps is not None:
                return steps
            assert node is not None
            return g.path(node)

        if found is None:
            found = concretize_run(self.a, steps_of(), goal, g.params, self.platform,
                                   g.nodes[0].mode, self.timeout_s, self.tab, g.timing,
                                   solver=shared)
        w, confirmed = found if found is not None else (None, False)
        if w is not None and any(v == INFINITE or k not in self.fixed
                                 for k, v in g.params.items()):
            region = parameter_region(self.a, steps_of(), goal, self.fixed, self.platform,
                                      g.nodes[0].mode, self.timeout_s)
            if region is not None:
                self.scopes[w] = (
                    "; this holds for every positive value of the parameters"
                    if region.every_positive
                    else f"; this event sequence needs {region.condition}"
                )
        # Replayed from the start routine; the other starts give the same run by the
        # semantics' definition (a start processes no event), and the tests
        # replay each witness from all of them.
        if w is None or not confirmed:
            self.failures.count += 1
            if g.timing.inexact:
                return None  # HA128 says the window may promise more than there is
            self.failures.findings.append(Finding(dg.warning(
                codes.WITNESS_FAILED,
                f"internal: no confirmed witness for {goal.kind} {goal.state}"
                f" ({'no integer solution' if w is None else 'semantics.py disagrees'})",
                self.states[goal.state].span,
            )))
            return None
        return w

    def at(self, g: ZoneGraph, hit: Hit, goal: Goal) -> Witness | None:
        return self.witness(g, None, goal, hit.node)

    def finding(self, d: Diagnostic, w: Witness | None, scoped: bool = True) -> Finding:
        """A finding; `scoped`: say which parameter values its witness needs."""
        # (a witness hashes its whole event sequence: look it up only when some has a scope)
        scope = self.scopes.get(w, "") if w is not None and scoped and self.scopes else ""
        if scope and d.code != codes.PARAM_DEPENDENT:
            d = dataclasses.replace(d, message=d.message + scope)
        return Finding(d, w)

    def add(self, key: tuple, make: Callable[[], list[Finding]]) -> None:
        self.pending.append(Pending(key, make))

    # --- the checks ---

    def run(self, graphs: Graphs, universal: bool) -> list[Pending]:
        first = graphs[0][1]
        self._reachability(graphs, universal)
        self._not_in_table(first)
        if universal:
            self._dead_guards(first)
        else:
            self._proved(graphs)
        self._vacuous(graphs)
        behaviours.expired_entries(self, graphs)
        behaviours.unset_clocks(self, first)
        behaviours.small_uptime(self, first)
        self._timelocks(graphs, universal)
        return self.pending

    def _for_all(self, g: ZoneGraph) -> str:
        """The scope of a universal verdict drawn from a (permissive) graph."""
        free = any(p not in self.fixed for p in g.params)
        return " (for every positive value of the parameters)" if free else ""

    # reachability under timing
    def _reachability(self, graphs: Graphs, universal: bool) -> None:
        untimed = _reachable(self.a, None)
        in_table = _reachable(self.a, self.tab)
        g = graphs[0][1]
        for s in self.a.states:
            if s.name not in untimed or s.name in g.reached:
                if (s.name in g.reached and len(graphs) > 1
                        and s.name not in graphs[1][1].reached):
                    self._parameter_dependent(g, s.name)
                continue
            if not universal:
                continue
            if s.name not in in_table:
                continue  # only edges the table drops lead there: HA111 says so

            def make(s=s) -> list[Finding]:
                return [Finding(dg.warning(
                    codes.TIMED_UNREACHABLE,
                    f"state {s.name!r} has a path of events from {self.a.initial.name!r},"
                    " but no timing satisfies the framework's checks and guards along any"
                    f" of them{self._for_all(g)}", s.span))]

            self.add(("timed-unreachable", s.name), make)

    def _parameter_dependent(self, g: ZoneGraph, state: str) -> None:
        def make() -> list[Finding]:
            w = self.at(g, g.reached[state], Goal("reach", state))
            return [self.finding(Diagnostic(
                Severity.INFO, codes.PARAM_DEPENDENT,
                f"state {state!r} is reachable {self._threshold(state, g)}",
                self.states[state].span), w)]

        self.add(("parameter-dependent", state), make)

    def _threshold(self, state: str, g: ZoneGraph) -> str:
        """The exact parameter range of reachability, when one monotone parameter is free.

        Reachability is monotone in such a parameter, so a search over exact
        explorations finds the boundary value.
        """
        free = [p for p in g.params if p not in self.fixed]
        fallback = "only for some parameter values, not with each at its smallest"
        if len(free) != 1 or self.monotone.get(free[0]) is None:
            return fallback
        p = free[0]
        upper = self.monotone[p]

        def reaches(v: int) -> bool:
            params = dict(g.params)
            params[p] = v
            graph = explore(self.a, params, self.platform, budget_s=self.timeout_s)
            return state in graph.reached

        # Upper-bound parameter: reachable exactly for v >= v*; lower: for v <= v*.
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

    def _not_in_table(self, g: ZoneGraph) -> None:
        a = self.a
        for k, d in table_diagnostics(a):
            e = a.edges[k]
            dropped = d.message.startswith("edge ")

            def make(e=e, k=k, d=d, dropped=dropped) -> list[Finding]:
                if dropped:
                    hit = g.dropped_holds.get(k)
                    goal = Goal("dropped", e.src, e.event, k)
                else:
                    hit = g.only.get(k) or g.guard_holds.get(k)
                    goal = Goal("holds", e.src, e.event, k)
                return [self.finding(d, self.at(g, hit, goal) if hit else None)]

            self.add(("edge-not-in-table", k), make)

    def _dead_guards(self, g: ZoneGraph) -> None:
        a = self.a
        for cell in self.tab.cells.values():
            for k in cell.edges:
                e = a.edges[k]
                if k not in g.evaluated:
                    continue  # the check never passes there: HA115 / HA126 say why
                if k not in g.guard_holds:
                    self.add(("dead-guard", k), lambda e=e, k=k: self._dead(g, e, k))
                elif len(cell.edges) > 1 and k not in g.only and k in g.evaluated_set:
                    self.add(("shadowed-edge", k), lambda e=e, k=k: self._shadowed(g, e, k))

    def _dead(self, g: ZoneGraph, e, k: int) -> list[Finding]:
        failing = g.guard_violation.get((e.src, e.event))
        w = (self.at(g, failing, Goal("guard", e.src, e.event)) if failing
             else self.at(g, g.evaluated[k], Goal("reach", e.src)))
        return [self.finding(dg.error(
            codes.DEAD_GUARD,
            f"the guard of {e.src} -{e.event}-> {e.dst} never holds: not for any clock"
            f" value reachable in {e.src!r} where the framework's check passes, and any env"
            f" value{self._for_all(g)}", e.span), w, scoped=False)]

    def _shadowed(self, g: ZoneGraph, e, k: int) -> list[Finding]:
        w = self.at(g, g.guard_holds[k], Goal("holds", e.src, e.event, k))
        return [self.finding(dg.warning(
            codes.SHADOWED_EDGE,
            f"edge {e.src} -{e.event}-> {e.dst} is never needed: wherever its guard holds,"
            f" the guard of another edge to {e.dst!r} for the same event holds too (the"
            f" kernel joins them with ||){self._for_all(g)}", e.span), w, scoped=False)]

    def _proved(self, graphs: Graphs) -> None:
        """Universal verdicts for non-monotone parameters, by re-checked Spacer proofs."""
        a = self.a
        untimed = _reachable(a, None)
        for s in a.states:
            if s.name not in untimed or any(s.name in g.reached for _, g in graphs):
                continue

            def make_state(s=s) -> list[Finding]:
                proof = prove(a, ("state", s.name), self.fixed, self.platform, self.timeout_s)
                if proof is None:
                    return []
                return [Finding(dg.warning(
                    codes.TIMED_UNREACHABLE,
                    f"state {s.name!r} has a path of events from {a.initial.name!r}, but no"
                    " timing follows it, for every positive value of the parameters (proved)",
                    s.span, *proof_notes(proof)))]

            self.add(("timed-unreachable", s.name), make_state)
        for cell in self.tab.cells.values():
            for k in cell.edges:
                e = a.edges[k]
                if not any(k in g.evaluated for _, g in graphs):
                    continue
                if any(k in g.guard_holds for _, g in graphs):
                    continue

                def make_edge(e=e, k=k) -> list[Finding]:
                    proof = prove(a, ("edge", k), self.fixed, self.platform, self.timeout_s)
                    if proof is None:
                        return []
                    w = next((self.at(g, g.guard_violation[(e.src, e.event)],
                                      Goal("guard", e.src, e.event))
                              for _, g in graphs if (e.src, e.event) in g.guard_violation),
                             None)
                    return [self.finding(dg.error(
                        codes.DEAD_GUARD,
                        f"the guard of {e.src} -{e.event}-> {e.dst} never holds where the"
                        " edge starts, for every positive value of the parameters (proved)",
                        e.span, *proof_notes(proof)), w, scoped=False)]

                self.add(("dead-guard", k), make_edge)

    def _vacuous(self, graphs: Graphs) -> None:
        for cell in self.tab.cells.values():
            for k in cell.edges:
                e = self.a.edges[k]
                if e.guard is None:
                    continue
                if any(isinstance(c.value, Symbol) and c.value.name not in self.fixed
                       for c in comparisons(e.guard)):
                    continue
                if not all(k in g.evaluated for _, g in graphs):
                    continue
                if any(k in g.guard_fails for _, g in graphs):
                    continue
                escaped = not any(k in g.evaluated_set for _, g in graphs)
                why = (": it reads a clock that is unset whenever the edge can fire, and the"
                       " kernel lets the whole guard pass then" if escaped else "")

                def make(e=e, why=why) -> list[Finding]:
                    assert e.guard is not None
                    return [Finding(dg.warning(
                        codes.VACUOUS_GUARD,
                        f"the guard of {e.src} -{e.event}-> {e.dst} holds for every reachable"
                        f" clock and env value where the framework's check passes{why}",
                        e.guard.span or e.span))]

                self.add(("vacuous-guard", k), make)

    def _timelocks(self, graphs: Graphs, universal: bool) -> None:
        a = self.a
        if _by_design(a):
            hits = [(g, g.timer[a.initial.name]) for _, g in graphs if a.initial.name in g.timer]
            inv = a.initial.invariant
            if hits and inv is not None:
                g0, hit = hits[0]

                def make_design() -> list[Finding]:
                    w = self.at(g0, hit, Goal("timer", a.initial.name))
                    return [self.finding(Diagnostic(
                        Severity.INFO, codes.BY_DESIGN,
                        f"every state has the invariant `{inv.clock} {inv.op}"
                        f" {bound_text(inv.bound)}`, the start resets {inv.clock!r} and no edge"
                        f" does: every run ends in a violation {bound_text(inv.bound)} after the"
                        " start (by any start: the generated start paths apply the reset),"
                        " unless the object is stopped first", inv.span or a.initial.span), w)]

                self.add(("violation-by-design",), make_design)
        if not universal:
            return
        # "Inevitable" is a claim about every run: it is made from the graph with
        # the most escapes (parameters given, or permissive), see params.py.
        g = graphs[0][1]
        for s in a.states:
            if s.name not in g.timer or s.name in g.timer_escape:
                continue
            armed = [n for n in g.by_state.get(s.name, []) if g.nodes[n].mode is Mode.ARMED]
            if not armed:
                continue
            inv = s.invariant
            assert inv is not None

            def make(s=s, inv=inv, node=armed[0]) -> list[Finding]:
                w = self.at(g, Hit(node), Goal("timer", s.name))
                return [self.finding(dg.error(
                    codes.TIMELOCK,
                    f"violation is inevitable after {bound_text(inv.bound)} in {s.name!r} once its"
                    f" timer is armed: no event there can leave it or move its deadline",
                    s.span), w)]

            self.add(("inevitable-violation", s.name), make)

def table_diagnostics(a: Automaton) -> list[tuple[int, Diagnostic]]:
    """HA111 per edge the kernel's table leaves out (its next state or its resets)."""
    out: list[tuple[int, Diagnostic]] = []
    for cell in table(a).cells.values():
        first = a.edges[cell.first]
        for k in cell.dropped:
            e = a.edges[k]
            what = ("; where its guard holds, the kernel goes to"
                    f" {first.dst!r} or reports a violation" if e.guard else "")
            out.append((k, dg.error(
                codes.NOT_IN_TABLE,
                f"edge {e.src} -{e.event}-> {e.dst} is not in the kernel's table: it keeps"
                f" one next state per (state, event), here {first.dst!r} (the first edge),"
                f" so this edge is never taken{what}",
                e.span, Note(f"the edge to {first.dst!r}", first.span))))
        for k in cell.edges[1:]:
            e = a.edges[k]
            if e.reset_envs != first.reset_envs:
                out.append((k, dg.error(
                    codes.NOT_IN_TABLE,
                    f"the resets of edge {e.src} -{e.event}-> {e.dst} are not in the kernel's"
                    " table: one set of resets per (state, event), the first edge's, applies"
                    " also when only this edge's guard holds",
                    e.span, Note("the first edge", first.span))))
    return sorted(out, key=lambda kd: kd[0])


def _reachable(a: Automaton, tab) -> set[str]:
    """States reachable from the initial one over the edges (tab None) or the table."""
    arcs = ([(c.src, c.dst) for c in tab.cells.values()] if tab is not None
            else [(e.src, e.dst) for e in a.edges])
    return closure({a.initial.name}, arcs)


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
