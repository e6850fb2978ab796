"""Questions about a Büchi automaton (buchi.py) that `hamodel check` asks of an LTL spec.

- `solve`: atom values under which some labels hold and others fail
  (propositional, by case splits on the atoms the undecided labels read);
- `nonempty`: whether any infinite word has an accepting run, i.e. whether the
  formula is satisfiable (generalized Büchi acceptance, states whose label
  can never hold left out);
- `first_violation`: the shortest sequence of atom values after which the
  kernel's monitor (ltl_monitor.h: no acceptance, a violation when no state
  follows) reports, found by a breadth-first search over sets of states.

All three are exact; the search gives up (returns `Unknown`) past a budget of
explored sets.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from hamodel.ltl.buchi import Buchi, Node

Label = tuple[int, ...]  # uids of propositional nodes, all of which must hold
Values = dict[str, bool]


def _value(nodes: tuple[Node, ...], uid: int, values: Values) -> bool | None:
    """Three-valued: None while an atom it needs has no value yet."""
    n = nodes[uid]
    if n.kind == "atom":
        return values.get(n.name)
    if n.kind == "not":
        v = values.get(n.name)
        return None if v is None else not v
    if n.kind == "const":
        return n.value
    left = _value(nodes, n.left, values)
    if n.kind == "and":
        if left is False:
            return False
        right = _value(nodes, n.right, values)
        return False if right is False else (True if left and right else None)
    if left is True:
        return True
    right = _value(nodes, n.right, values)
    return True if right is True else (False if left is False and right is False else None)


def _label_value(nodes: tuple[Node, ...], label: Label, values: Values) -> bool | None:
    result: bool | None = True
    for u in label:
        v = _value(nodes, u, values)
        if v is False:
            return False
        if v is None:
            result = None
    return result


def _atoms_of(nodes: tuple[Node, ...], uid: int) -> list[str]:
    out, stack = [], [uid]
    while stack:
        n = nodes[stack.pop()]
        if n.kind in ("atom", "not"):
            out.append(n.name)
        elif n.kind in ("and", "or"):
            stack += [n.right, n.left]
    return out


def solve(nodes: tuple[Node, ...], hold: Sequence[Label], fail: Sequence[Label]) -> Values | None:
    """Atom values under which every label of `hold` holds and every label of `fail`
    fails, or None when there are none.  Atoms no label reads are left out."""
    stack: list[Values] = [{}]
    while stack:
        values = stack.pop()
        undecided: Label | None = None
        dead = False
        for label, want in [(x, True) for x in hold] + [(x, False) for x in fail]:
            v = _label_value(nodes, label, values)
            if v is None:
                undecided = undecided or label
            elif v is not want:
                dead = True
                break
        if dead:
            continue
        if undecided is None:
            return values
        atom = next(a for u in undecided for a in _atoms_of(nodes, u) if a not in values)
        # False is tried first, so witnesses name few atoms that hold
        stack.append({**values, atom: True})
        stack.append({**values, atom: False})
    return None


def can_enter(b: Buchi, state: int) -> bool:
    return solve(b.nodes, [b.states[state].label], []) is not None


# --- satisfiability ---------------------------------------------------------------------


def nonempty(b: Buchi) -> bool:
    """Whether some infinite sequence of atom values satisfies the formula."""
    live = [can_enter(b, s.index) for s in b.states]
    start = [i for i in b.initial if live[i]]
    reach = set(start)
    todo = list(start)
    while todo:
        s = todo.pop()
        for t in b.states[s].successors:
            if live[t] and t not in reach:
                reach.add(t)
                todo.append(t)
    edges = {s: [t for t in b.states[s].successors if t in reach] for s in reach}
    accepting = [set(a) for a in b.acceptance]
    for component in strongly_connected(sorted(reach), edges):
        cyclic = len(component) > 1 or component[0] in edges[component[0]]
        if cyclic and all(any(s in acc for s in component) for acc in accepting):
            return True
    return False


def strongly_connected(nodes: Sequence[int], edges: dict[int, list[int]]) -> list[list[int]]:
    """Tarjan's algorithm with an explicit stack."""
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    on_stack: set[int] = set()
    stack: list[int] = []
    out: list[list[int]] = []
    for root in nodes:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            v, i = work.pop()
            if i == 0:
                index[v] = low[v] = len(index)
                stack.append(v)
                on_stack.add(v)
            succ = edges[v]
            if i < len(succ):
                work.append((v, i + 1))
                w = succ[i]
                if w not in index:
                    work.append((w, 0))
                elif w in on_stack:
                    low[v] = min(low[v], index[w])
                continue
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                out.append(comp)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[v])
    return out


# --- what the kernel's monitor can report -------------------------------------------------


@dataclass(frozen=True, slots=True)
class Unknown:
    """The search stopped at its budget."""

    explored: int


@dataclass(frozen=True, slots=True)
class Witness:
    """Atom values at the start and at each step after it; the last step has no successor."""

    steps: tuple[Values, ...]


class _OutOfBudget(Exception):
    pass


def _regions(nodes: tuple[Node, ...], labels: Sequence[Label], budget: list[int]
             ) -> list[tuple[frozenset[int], Values]]:
    """Every satisfiable choice of which labels hold, with atom values for it.

    `budget[0]` counts down the solver calls left; at zero the search stops."""
    out: list[tuple[frozenset[int], Values]] = []
    stack: list[tuple[int, frozenset[int], tuple[int, ...]]] = [(0, frozenset(), ())]
    while stack:
        i, held, failed = stack.pop()
        hold = [labels[k] for k in held]
        fail = [labels[k] for k in failed]
        budget[0] -= 1
        if budget[0] < 0:
            raise _OutOfBudget
        values = solve(nodes, hold, fail)
        if values is None:
            continue
        if i == len(labels):
            out.append((held, values))
            continue
        stack.append((i + 1, held, failed + (i,)))
        stack.append((i + 1, held | {i}, failed))
    return out


def first_violation(b: Buchi, budget: int = 4096, solver_calls: int = 20_000
                    ) -> Witness | Unknown | None:
    """The shortest atom values after which the kernel reports, or None if it never can.

    Gives up (Unknown) after `budget` sets of states or `solver_calls` calls of solve."""
    calls = [solver_calls]
    seen: set[frozenset[int]] = set()
    try:
        return _search(b, budget, calls, seen)
    except _OutOfBudget:
        return Unknown(len(seen))


def _search(b: Buchi, budget: int, calls: list[int], seen: set[frozenset[int]]
            ) -> Witness | Unknown | None:
    start_labels = [b.states[s].label for s in b.initial]
    queue: deque[tuple[frozenset[int], tuple[Values, ...]]] = deque()
    for held, values in _regions(b.nodes, start_labels, calls):
        states = frozenset(b.initial[k] for k in held)
        if states and states not in seen:
            seen.add(states)
            queue.append((states, (values,)))
    while queue:
        states, path = queue.popleft()
        targets = sorted({t for s in states for t in b.states[s].successors})
        none = solve(b.nodes, [], [b.states[t].label for t in targets])
        if none is not None:
            return Witness(path + (none,))
        for held, values in _regions(b.nodes, [b.states[t].label for t in targets], calls):
            nxt = frozenset(targets[k] for k in held)
            if nxt not in seen:
                if len(seen) >= budget:
                    return Unknown(len(seen))
                seen.add(nxt)
                queue.append((nxt, path + (values,)))
    return None
