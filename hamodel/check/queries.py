"""`--reach` and `--violate`: the zone graphs of one platform -> an answer and its finding.

Functions of a findings.Checker, split out of it for size.  Each returns
whether the asked thing can happen and a function that builds the finding
(with its witness), called only for the answer that is kept.
"""

from __future__ import annotations

from collections.abc import Callable

from hamodel.check import codes
from hamodel.check.findings import Checker, Finding, Graphs
from hamodel.check.goals import Goal
from hamodel.check.proof import prove
from hamodel.check.texts import proof_notes
from hamodel.check.zones import Hit, ZoneGraph
from hamodel.diagnostics import Diagnostic, Severity


def reach_query(c: Checker, graphs: Graphs, state: str, universal: bool
                ) -> tuple[bool, Callable[[], list[Finding]]]:
    target = c.states[state]
    for _, g in graphs:
        if state in g.reached:
            hit = g.reached[state]

            def yes(g=g, hit=hit) -> list[Finding]:
                w = c.at(g, hit, Goal("reach", state))
                return [c.finding(Diagnostic(
                    Severity.INFO, codes.QUERY_REACH, f"state {state!r} is reachable",
                    target.span), w)]

            return True, yes

    def no() -> list[Finding]:
        # The zone graph is the proof; a re-checked inductive invariant is a
        # certificate that needs no trust in the explorer.
        proof = prove(c.a, ("state", state), c.fixed, c.platform, c.timeout_s)
        if universal or proof is not None:
            message = f"state {state!r} is not reachable"
        else:
            message = (
                f"state {state!r} is not reachable with the parameter values analysed,"
                " and no proof for every value was found (a parameter is not monotone:"
                " give --param)")
        return [Finding(Diagnostic(
            Severity.INFO, codes.QUERY_REACH, message, target.span,
            tuple(proof_notes(proof)) if proof else ()))]

    return False, no

def violate_query(c: Checker, graphs: Graphs, universal: bool
                  ) -> tuple[bool, Callable[[], list[Finding]]]:
    best: tuple[int, str, Hit, ZoneGraph] | None = None
    for _, g in graphs:
        for kind, hit in g.violation_hits():
            depth = g.nodes[hit.node].depth + (0 if kind == "timer" else 1)
            if best is None or depth < best[0]:
                best = (depth, kind, hit, g)
    if best is None:
        def none() -> list[Finding]:
            return [Finding(Diagnostic(
                Severity.INFO, codes.QUERY_VIOLATE,
                "no violation can be reported" + (
                    "" if universal else
                    " with the parameter values analysed (a parameter is not monotone:"
                    " give --param for a verdict)"), None))]

        return False, none
    _, kind, hit, g = best

    def some() -> list[Finding]:
        state = g.nodes[hit.node].state
        w = c.at(g, hit, Goal(kind, state, hit.event))
        what = {
            "invalid_event": f"event {hit.event!r} has no edge in {state!r}",
            "guard": f"no guard of event {hit.event!r} holds in {state!r}",
            "late": f"event {hit.event!r} fails the invariant check of {state!r}",
            "timer": f"the timer of {state!r} fires",
        }[kind]
        return [c.finding(Diagnostic(
            Severity.INFO, codes.QUERY_VIOLATE, f"a violation can be reported: {what}",
            c.states[state].span), w)]

    return True, some
