"""One mistake, one finding: Findings -> Findings with consequences folded into their cause.

Two edges for one (state, event) that go to different states set off the
build's HA014 and HA111 (the later edge is not in the kernel's table), and when
that edge was the only way into its target, the target is never reached.
HA111 is the root cause: it stays, says why the table keeps the edge it keeps,
and carries the unreachable target as a note; the build's HA014 for the same
pair only restates it and goes.
"""

from __future__ import annotations

from dataclasses import replace

from hamodel import diagnostics as dg
from hamodel.check import codes
from hamodel.check.cells import table
from hamodel.check.findings import Finding
from hamodel.check.wellformed import closure
from hamodel.diagnostics import Note
from hamodel.model import Automaton, Edge
from hamodel.source import Span


def fold_consequences(a: Automaton, findings: list[Finding]) -> list[Finding]:
    roots = [f for f in findings if f.diagnostic.code == codes.NOT_IN_TABLE]
    if not roots:
        return findings
    edge_at: dict[Span, Edge] = {e.span: e for e in a.edges if e.span is not None}
    order = {s.name: i for i, s in enumerate(a.states)}
    kept = _reachable(a)
    dropped: set[int] = set()
    replaced: dict[int, Finding] = {}
    for root in roots:
        d = root.diagnostic
        later = edge_at.get(d.span) if d.span else None
        other = d.notes[0].span if d.notes else None
        earlier = edge_at.get(other) if other else None
        if later is None or earlier is None:
            continue
        for f in findings:  # the build's HA014 for the same pair: the same fact
            if f.diagnostic.code == dg.NONDETERMINISTIC and f.diagnostic.span == d.span:
                dropped.add(id(f))
        notes = list(d.notes)
        if later.dst != earlier.dst and later.dst not in kept:
            state = a.state(later.dst)
            notes.append(Note(f"so state {later.dst!r} is never reached", state.span))
        why = ""
        if order[earlier.dst] < order[later.dst]:
            ranks = " < ".join(s.name for s in a.states)
            why = (f"; {earlier.dst!r} is first because the edges of one state and event"
                   " are ordered by the kernel's enum order of their targets (initial state"
                   f" first, then by name: {ranks})")
        replaced[id(root)] = replace(
            root, diagnostic=replace(d, message=d.message + why, notes=tuple(notes)))
    return [replaced.get(id(f), f) for f in findings if id(f) not in dropped]


def _reachable(a: Automaton) -> set[str]:
    """States the kernel's table can reach from the initial one."""
    return closure({a.initial.name}, [(c.src, c.dst) for c in table(a).cells.values()])
