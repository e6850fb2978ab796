"""LTL on ultimately periodic words, independent of the Büchi construction.

A lasso `u v^ω` is a list of letters (each: the atoms that hold) and the index
where the loop starts.  `models` evaluates a formula at position 0 by fixpoints
over the finitely many positions; `accepts` runs a Büchi automaton (with its
generalized acceptance) on the same lasso.  The two must agree.
"""

from __future__ import annotations

from hamodel.ltl.buchi import Buchi, enters
from hamodel.ltl.formula import Atom, Const, Formula, Op, Unary

Letter = frozenset[str]


def _succ(n: int, loop: int) -> list[int]:
    return [i + 1 if i + 1 < n else loop for i in range(n)]


def values(f: Formula, word: list[Letter], loop: int) -> list[bool]:
    n, succ = len(word), _succ(len(word), loop)
    if isinstance(f, Atom):
        return [f.name in w for w in word]
    if isinstance(f, Const):
        return [f.value] * n
    if isinstance(f, Unary):
        c = values(f.child, word, loop)
        if f.op is Op.NOT:
            return [not x for x in c]
        if f.op is Op.NEXT:
            return [c[succ[i]] for i in range(n)]
        if f.op is Op.ALWAYS:
            return _fix(lambda cur: [c[i] and cur[succ[i]] for i in range(n)], [True] * n)
        return _fix(lambda cur: [c[i] or cur[succ[i]] for i in range(n)], [False] * n)
    a, b = values(f.left, word, loop), values(f.right, word, loop)
    if f.op is Op.AND:
        return [x and y for x, y in zip(a, b, strict=True)]
    if f.op is Op.OR:
        return [x or y for x, y in zip(a, b, strict=True)]
    if f.op is Op.IMPLY:
        return [not x or y for x, y in zip(a, b, strict=True)]
    if f.op is Op.UNTIL:
        return _fix(lambda cur: [b[i] or (a[i] and cur[succ[i]]) for i in range(n)], [False] * n)
    return _fix(lambda cur: [b[i] and (a[i] or cur[succ[i]]) for i in range(n)], [True] * n)


def _fix(step, start: list[bool]) -> list[bool]:
    cur = start
    while True:
        nxt = step(cur)
        if nxt == cur:
            return cur
        cur = nxt


def models(f: Formula, word: list[Letter], loop: int) -> bool:
    return values(f, word, loop)[0]


def accepts(b: Buchi, word: list[Letter], loop: int) -> bool:
    """An accepting run of `b` on the lasso: a reachable cycle through every acceptance set."""
    succ = _succ(len(word), loop)

    def env(i: int) -> dict[str, bool]:
        return {a: a in word[i] for a in b.atoms}

    start = [(q, 0) for q in b.initial if enters(b, q, env(0))]
    edges: dict[tuple[int, int], list[tuple[int, int]]] = {}
    seen = set(start)
    stack = list(start)
    while stack:
        q, i = stack.pop()
        j = succ[i]
        out = [(r, j) for r in b.states[q].successors if enters(b, r, env(j))]
        edges[(q, i)] = out
        for s in out:
            if s not in seen:
                seen.add(s)
                stack.append(s)
    for component in _sccs(seen, edges):
        cyclic = len(component) > 1 or any(v in edges[v] for v in component)
        if cyclic and all(any(q in acc for q, _ in component) for acc in map(set, b.acceptance)):
            return True
    return False


def _sccs(nodes, edges):
    """Tarjan's strongly connected components (recursive: test sizes are small)."""
    index: dict = {}
    low: dict = {}
    stack: list = []
    on: set = set()
    out: list = []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            out.append(comp)

    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return out
