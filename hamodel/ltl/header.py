"""An LTL monitor's `<m>.h` (rvgen's or hamodel's) -> its Büchi tables; automata compared.

`parse_header` reads the layout both rvgen and `hamodel gen` write:
`enum ltl_atom`, `bool x = test_bit(LTL_X, mon->atoms);`,
`bool valN = a && b;` / `||` / `!a` (each function's own), `ltl_start()`'s
`if (cond) __set_bit(Sk, ...)` and the `case Sk:` blocks of
`ltl_possible_next_states()`.  Conditions become truth tables over the atoms
(Python ints, one bit per valuation), so two tables compare exactly whatever
their intermediate names; `isomorphism` finds the renaming of states between
two automata, if there is one.

`matches(spec, text)` answers whether a kernel tree's `<m>.h` is the monitor
of its `.ltl` spec; `hamodel check --kernel-tree` (hamodel/tree/ltl_drift.py)
says more: which atoms or names differ, and a run that tells the two apart
(compare.py).  Specs of more than MAX_ATOMS atoms are not compared (2^atoms
valuations).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hamodel.ltl.buchi import Buchi, build_buchi
from hamodel.ltl.formula import LtlSpec

MAX_ATOMS = 24


class HeaderError(ValueError):
    """The text is not an LTL monitor header in the expected layout."""


@dataclass(frozen=True)
class Table:
    atoms: tuple[str, ...]
    start: dict[int, str]  # state -> condition (C)
    next: dict[int, dict[int, str]]  # state -> successor -> condition (C)
    values: dict[str, str]  # local bool of ltl_possible_next_states() -> C expression
    start_values: dict[str, str] | None = None  # ltl_start()'s locals; None: `values`


_ENUM = re.compile(r"enum ltl_atom \{(.*?)\};", re.S)
_BOOL = re.compile(r"bool (\w+) = (.*?);", re.S)
_SET = re.compile(r"if \((.*?)\)\s*__set_bit\(S(\d+), (?:mon->states|next)\);", re.S)


def parse_header(text: str) -> Table:
    enum = _ENUM.search(text)
    if enum is None or "ltl_start(" not in text or "switch (state)" not in text:
        raise HeaderError("no enum ltl_atom, ltl_start() or ltl_possible_next_states()")
    atoms = tuple(a.strip().removeprefix("LTL_") for a in enum.group(1).split(",")
                  if a.strip() and a.strip() != "LTL_NUM_ATOM")
    start_body = text[text.index("ltl_start("):text.index("ltl_possible_next_states(")]
    next_body = text[text.index("ltl_possible_next_states("):]
    start = {int(s): " ".join(c.split()) for c, s in _SET.findall(start_body)}
    trans: dict[int, dict[int, str]] = {}
    body = text[text.index("switch (state)"):]
    for case in re.split(r"\bcase S", body)[1:]:
        src = int(re.match(r"(\d+):", case).group(1))
        trans[src] = {int(s): " ".join(c.split()) for c, s in _SET.findall(case)}
    # each function has its own locals: a hand edit may make them differ
    return Table(atoms, start, trans, _locals(next_body), _locals(start_body))


def _locals(body: str) -> dict[str, str]:
    return {m.group(1): " ".join(m.group(2).split()) for m in _BOOL.finditer(body)}


def truth_tables(atoms: tuple[str, ...]) -> dict[str, int]:
    """The truth table of each atom: bit v is set when the atom holds in valuation v."""
    full = 1 << (1 << len(atoms))
    out = {}
    for i, a in enumerate(atoms):
        block = (1 << (1 << i)) - 1  # 2^i ones, then 2^i zeros, repeated
        pattern = 0
        period = 1 << (i + 1)
        for start in range(1 << i, 1 << len(atoms), period):
            pattern |= block << start
        out[a] = pattern % full
    return out


def evaluate(expr: str, values: dict[str, str], env: dict[str, int], full: int) -> int:
    """Truth table of a C condition over a function's locals (`values`)."""
    tokens = re.findall(r"\|\||&&|!|\(|\)|\w+", expr)
    pos = 0

    def value(name: str) -> int:
        if name == "true":
            return full
        if name == "false":
            return 0
        if name not in env:
            m = re.fullmatch(r"test_bit\(LTL_(\w+), mon->atoms\)", values[name])
            env[name] = env[m.group(1)] if m else evaluate(values[name], values, env, full)
        return env[name]

    def disj() -> int:
        nonlocal pos
        acc = conj()
        while pos < len(tokens) and tokens[pos] == "||":
            pos += 1
            acc |= conj()
        return acc

    def conj() -> int:
        nonlocal pos
        acc = unary()
        while pos < len(tokens) and tokens[pos] == "&&":
            pos += 1
            acc &= unary()
        return acc

    def unary() -> int:
        nonlocal pos
        tok = tokens[pos]
        pos += 1
        if tok == "!":
            return full ^ unary()
        if tok == "(":
            inner = disj()
            pos += 1
            return inner
        return value(tok)

    return disj()


@dataclass(frozen=True)
class Graph:
    """An automaton as truth tables: what isomorphism is checked on."""

    atoms: tuple[str, ...]
    label: tuple[int, ...]  # per state: the valuations in which it may be entered
    initial: frozenset[int]
    successors: tuple[frozenset[int], ...]
    # per state: the valuations in which ltl_start() sets it (0 for a state it never sets);
    # the label, unless a header's ltl_start() says otherwise
    start_label: tuple[int, ...] | None = None

    def starts(self, state: int) -> int:
        return self.label[state] if self.start_label is None else self.start_label[state]


def graph_of_table(t: Table) -> Graph:
    if len(t.atoms) > MAX_ATOMS:
        raise HeaderError(f"{len(t.atoms)} atoms: more than {MAX_ATOMS} are not compared")
    full = (1 << (1 << len(t.atoms))) - 1
    atoms = truth_tables(t.atoms)
    n = len(t.next)
    env = dict(atoms)
    start_values = t.values if t.start_values is None else t.start_values
    starts = {dst: evaluate(cond, start_values, env, full) for dst, cond in t.start.items()}
    labels: dict[int, int] = {}
    env = dict(atoms)
    for src in t.next:
        for dst, cond in t.next[src].items():
            tt = evaluate(cond, t.values, env, full)
            if labels.setdefault(dst, tt) != tt:
                raise HeaderError(f"S{dst} is entered under two conditions: the automaton"
                                  " has no labels on its states")
    label = tuple(labels.get(i, starts.get(i, 0)) for i in range(n))
    start_label = tuple(starts.get(i, 0) for i in range(n))
    return Graph(t.atoms, label, frozenset(t.start), tuple(frozenset(t.next[i]) for i in range(n)),
                 None if all(start_label[i] == label[i] for i in t.start) else start_label)


def graph_of_buchi(b: Buchi) -> Graph:
    from hamodel.ltl.buchi import Node

    if len(b.atoms) > MAX_ATOMS:
        raise HeaderError(f"{len(b.atoms)} atoms: more than {MAX_ATOMS} are not compared")
    full = (1 << (1 << len(b.atoms))) - 1
    base = truth_tables(b.atoms)

    def tt(n: Node) -> int:
        if n.kind == "atom":
            return base[n.name]
        if n.kind == "not":
            return full ^ base[n.name]
        if n.kind == "const":
            return full if n.value else 0
        left, right = tt(b.nodes[n.left]), tt(b.nodes[n.right])
        return left & right if n.kind == "and" else left | right

    labels = []
    for s in b.states:
        acc = full
        for u in s.label:
            acc &= tt(b.nodes[u])
        labels.append(acc)
    return Graph(b.atoms, tuple(labels), frozenset(b.initial),
                 tuple(frozenset(s.successors) for s in b.states))


def isomorphism(a: Graph, b: Graph) -> dict[int, int] | None:
    """A renaming of a's states onto b's that keeps labels, initial states and edges."""
    if a.atoms != b.atoms or len(a.label) != len(b.label):
        return None
    n = len(a.label)

    def sig(g: Graph, i: int) -> tuple:
        start = g.starts(i) if i in g.initial else 0
        return (g.label[i], i in g.initial, start, len(g.successors[i]), i in g.successors[i])

    candidates = [[j for j in range(n) if sig(b, j) == sig(a, i)] for i in range(n)]
    mapping: dict[int, int] = {}

    def fits(i: int, j: int) -> bool:
        return all((k in a.successors[i]) == (m in b.successors[j])
                   and (i in a.successors[k]) == (j in b.successors[m])
                   for k, m in mapping.items())

    def search(i: int) -> bool:
        if i == n:
            return True
        for j in candidates[i]:
            if j in mapping.values() or not fits(i, j):
                continue
            mapping[i] = j
            if search(i + 1):
                return True
            del mapping[i]
        return False

    return dict(mapping) if search(0) else None


def matches(spec: LtlSpec, text: str) -> dict[int, int] | None:
    """The renaming of the spec's states onto the header's, or None when the header
    is not the spec's monitor (other atoms, labels or edges).  Raises HeaderError
    for a text it cannot read."""
    try:
        table = graph_of_table(parse_header(text))
    except (KeyError, IndexError, AttributeError, ValueError) as exc:
        if isinstance(exc, HeaderError):
            raise
        raise HeaderError(f"unreadable tables: {exc}") from None
    return isomorphism(graph_of_buchi(build_buchi(spec)), table)
