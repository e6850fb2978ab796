"""One mistake, one finding: Findings -> Findings with consequences folded into their cause.

Two edges for one (state, event) set off four reports: the build's HA014, the
overlap HA111, the later edge shadowed (HA113) and, when that edge was the only
way into its target, the target unreachable (HA110).  The overlap is the root
cause: it stays, says which edge wins and why, and carries the others as
notes; the findings that only restate it go.
"""

from __future__ import annotations

from dataclasses import replace

from hamodel import diagnostics as dg
from hamodel.check import codes
from hamodel.check.timed import Finding
from hamodel.diagnostics import Note
from hamodel.model import Automaton, Edge
from hamodel.source import Span


def fold_consequences(a: Automaton, findings: list[Finding]) -> list[Finding]:
    edge_at: dict[Span, Edge] = {e.span: e for e in a.edges if e.span is not None}
    order = {s.name: i for i, s in enumerate(a.states)}
    by_code: dict[str, list[Finding]] = {}
    for f in findings:
        by_code.setdefault(f.diagnostic.code, []).append(f)
    roots = by_code.get(codes.NONDETERMINISTIC, [])
    if not roots:
        return findings
    dropped: set[int] = set()
    replaced: dict[int, Finding] = {}
    for root in roots:
        d = root.diagnostic
        later = edge_at.get(d.span) if d.span else None
        other = d.notes[0].span if d.notes else None
        earlier = edge_at.get(other) if other else None
        if later is None or earlier is None:
            continue
        notes = list(d.notes)
        for f in by_code.get(dg.NONDETERMINISTIC, []):  # the build's HA014: the same fact
            if f.diagnostic.span == d.span:
                dropped.add(id(f))
        shadowed = [f for f in by_code.get(codes.SHADOWED_EDGE, [])
                    if f.diagnostic.span == later.span]
        for f in shadowed:
            dropped.add(id(f))
            notes.append(Note(f"so {_edge(later)} is never taken ({f.diagnostic.number})",
                              later.span))
        if shadowed and later.dst != earlier.dst:
            into = [e for e in a.edges if e.dst == later.dst and e.src != later.dst]
            only_way = all(e.span == later.span for e in into)
            for f in by_code.get(codes.TIMED_UNREACHABLE, []):
                state = a.state(later.dst)
                if only_way and f.diagnostic.span == state.span:
                    dropped.add(id(f))
                    notes.append(Note(f"so state {later.dst!r} cannot be reached"
                                      f" ({f.diagnostic.number})", state.span))
        ranks = " < ".join(s.name for s in a.states)
        where = ("always wins" if earlier.guard is None and later.guard is None
                 else "wins wherever both guards hold")
        wins = (f"; {_edge(earlier)} {where}: the edges of one state"
                " and event are tried in the kernel's enum order of their targets (initial"
                f" state first, then by name: {ranks}), and {earlier.dst!r} comes before"
                f" {later.dst!r}")
        if order[earlier.dst] >= order[later.dst]:
            wins = ""  # one target, or not the enum order's doing: nothing to explain
        replaced[id(root)] = replace(
            root, diagnostic=replace(d, message=d.message + wins, notes=tuple(notes)))
    return [replaced.get(id(f), f) for f in findings if id(f) not in dropped]


def _edge(e: Edge) -> str:
    return f"{e.src} -{e.event}-> {e.dst}"
