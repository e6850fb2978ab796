"""Two LTL monitors over the same atoms -> the shortest run one reports and the other not.

Input: two automata as truth tables (header.Graph: the spec's, and the one a
kernel tree's `<m>.h` encodes).  Output: the atom values at each update of
the shortest run after which exactly one of the two monitors reports a
violation, under ltl_monitor.h's rules (the first update starts the monitor
without a check, a step leaving no state reports and the next update starts
again), or None when they report alike on every run: then they differ at
most in how their states are numbered or split, which no verdict shows.

Valuations are grouped first: two valuations that every label of both
automata treats alike lead to the same steps, so one of each group is
enough (the groups come from splitting the set of all valuations by each
label in turn, with the truth tables as Python ints).  The search is a
breadth-first walk over pairs of state sets, at most `limit` of them.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from hamodel.ltl.header import Graph

LIMIT = 100_000


@dataclass(frozen=True, slots=True)
class Difference:
    """The run: one valuation per update (bit i: atom i holds); `first` reports after it."""

    run: tuple[int, ...]
    first: bool  # True: the first automaton reports, the second does not


@dataclass(frozen=True, slots=True)
class TooLarge:
    """The search stopped after `pairs` pairs of state sets without an answer."""

    pairs: int


def valuation_groups(a: Graph, b: Graph) -> list[int]:
    """One valuation of each group that every label of `a` and `b` treats alike."""
    full = (1 << (1 << len(a.atoms))) - 1
    groups = [full]
    starts = tuple(g.starts(s) for g in (a, b) for s in g.initial)
    for label in a.label + b.label + starts:
        split = []
        for g in groups:
            split += [part for part in (g & label, g & ~label & full) if part]
        groups = split
    return sorted((g & -g).bit_length() - 1 for g in groups)


def _update(g: Graph, states: frozenset[int], v: int) -> tuple[frozenset[int], bool]:
    """The states after one update with valuation `v`, and whether it reports."""
    if not states:  # ltl_attempt_start: the initial states whose label holds, no check
        return frozenset(s for s in g.initial if g.starts(s) >> v & 1), False
    nxt = frozenset(t for s in states for t in g.successors[s] if g.label[t] >> v & 1)
    return nxt, not nxt


def first_difference(a: Graph, b: Graph, limit: int = LIMIT
                     ) -> Difference | TooLarge | None:
    if a.atoms != b.atoms:
        raise ValueError("the automata read different atoms")
    values = valuation_groups(a, b)
    start = (frozenset(), frozenset())
    seen = {start}
    queue: deque[tuple[tuple[frozenset[int], frozenset[int]], tuple[int, ...]]] = deque(
        [(start, ())])
    while queue:
        (sa, sb), run = queue.popleft()
        for v in values:
            na, ra = _update(a, sa, v)
            nb, rb = _update(b, sb, v)
            if ra != rb:
                return Difference(run + (v,), ra)
            if (na, nb) not in seen:
                if len(seen) >= limit:
                    return TooLarge(len(seen))
                seen.add((na, nb))
                queue.append(((na, nb), run + (v,)))
    return None


def atoms_of(g: Graph, v: int) -> tuple[str, ...]:
    """The atoms that hold in valuation `v`."""
    return tuple(x for i, x in enumerate(g.atoms) if v >> i & 1)
