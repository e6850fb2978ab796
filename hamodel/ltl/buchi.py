"""LtlSpec -> Büchi automaton, by the tableau of Gerth, Peled, Vardi and Wolper (1995),
built the way rvgen's ltl2ba.py builds it, so that the kernel tables agree.

The formula is first put in negation normal form (`normalize`): `imply`,
`always` and `eventually` are rewritten (`a imply b` = `not a or b`,
`always f` = `false release f`, `eventually f` = `true until f`) and negations
are pushed down to the atoms.  Every node of the normalized tree is one
*occurrence* with its own number: two occurrences of an atom are two
formulas for the tableau, as rvgen's object identities are.

A tableau node holds `new` (still to process), `old` (processed) and `next`
(what the successor must satisfy).  Processing one formula of `new`:

- an atom, a negated atom, `true`, and any `and`/`or` without a temporal
  operator inside: moved to `old` as one label (rvgen keeps propositional
  parts whole instead of splitting them; `false` drops the node);
- `and`: both sides into `new`; `or`: two nodes, one per side;
- `a until b`: a node with `a` and the until again in `next`, and one with `b`;
- `a release b`: a node with `b` and the release again in `next`, and one
  with `a` and `b`;
- `next a`: `a` into `next`.

A node with nothing new is a state; a state with the same `old` and `next`
as an existing one is merged into it.  The successors of a state are the
states made from its `next`; a state's label (its `old` without temporal
formulas) must hold when the automaton *enters* it.  Like rvgen, no
contradiction between labels is pruned (a state whose label cannot hold is
simply never entered) and no acceptance condition reaches the kernel:
`acceptance` is computed for hamodel's own analysis only (check.py).

Formulas are processed smallest occurrence number first and states are
numbered in the order they are made, so the output is the same under any
PYTHONHASHSEED.  rvgen pops Python sets, so its numbering varies; its automaton
is the same up to renaming (tests/test_ltl_buchi.py compares both).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hamodel.ltl.formula import Atom, Const, Formula, LtlSpec, Op, Unary

# The tableau can grow exponentially with the formula; the kernel takes 32
# states.  Construction stops with BuchiTooLarge past this many states.
MAX_STATES = 4096


class BuchiTooLarge(ValueError):
    """The construction passed MAX_STATES states."""


# --- normal form ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Node:
    """One occurrence in the normalized formula.

    kind: "atom" (name), "not" (a negated atom: name), "const" (value),
    "and", "or", "until", "release" (left, right: uids), "next" (left: uid).
    `temporal`: the node or a node below it is until, release or next.
    """

    uid: int
    kind: str
    name: str = ""
    value: bool = False
    left: int = -1
    right: int = -1
    temporal: bool = False


class _Normalizer:
    """Builds Node records, numbering them in the order they are made."""

    def __init__(self) -> None:
        self.nodes: list[Node] = []

    def make(self, kind: str, **kw) -> int:
        temporal = kind in ("until", "release", "next") or any(
            self.nodes[kw[k]].temporal for k in ("left", "right") if k in kw)
        uid = len(self.nodes)
        self.nodes.append(Node(uid, kind, temporal=temporal, **kw))
        return uid

    def pos(self, f: Formula) -> int:
        if isinstance(f, Atom):
            return self.make("atom", name=f.name)
        if isinstance(f, Const):
            return self.make("const", value=f.value)
        if isinstance(f, Unary):
            if f.op is Op.NOT:
                return self.neg(f.child)
            if f.op is Op.NEXT:
                return self.make("next", left=self.pos(f.child))
            if f.op is Op.ALWAYS:
                return self.make("release", left=self.make("const", value=False),
                                 right=self.pos(f.child))
            return self.make("until", left=self.make("const", value=True),
                             right=self.pos(f.child))
        if f.op is Op.IMPLY:
            return self.make("or", left=self.neg(f.left), right=self.pos(f.right))
        kind = {Op.AND: "and", Op.OR: "or", Op.UNTIL: "until", Op.RELEASE: "release"}[f.op]
        return self.make(kind, left=self.pos(f.left), right=self.pos(f.right))

    def neg(self, f: Formula) -> int:
        """The normal form of `not f`."""
        if isinstance(f, Atom):
            return self.make("not", name=f.name)
        if isinstance(f, Const):
            return self.make("const", value=not f.value)
        if isinstance(f, Unary):
            if f.op is Op.NOT:
                return self.pos(f.child)
            if f.op is Op.NEXT:
                return self.make("next", left=self.neg(f.child))
            if f.op is Op.ALWAYS:  # eventually not f
                return self.make("until", left=self.make("const", value=True),
                                 right=self.neg(f.child))
            return self.make("release", left=self.make("const", value=False),
                             right=self.neg(f.child))
        if f.op is Op.IMPLY:  # a and not b
            return self.make("and", left=self.pos(f.left), right=self.neg(f.right))
        kind = {Op.AND: "or", Op.OR: "and", Op.UNTIL: "release", Op.RELEASE: "until"}[f.op]
        return self.make(kind, left=self.neg(f.left), right=self.neg(f.right))


def normalize(f: Formula) -> tuple[tuple[Node, ...], int]:
    """The occurrences of `f` in negation normal form, and the root's uid."""
    n = _Normalizer()
    root = n.pos(f)
    return tuple(n.nodes), root


# --- the automaton --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class State:
    index: int
    label: tuple[int, ...]  # uids of the propositional nodes that must hold to enter
    initial: bool
    successors: tuple[int, ...]  # state indices, ascending


@dataclass(frozen=True, slots=True)
class Buchi:
    name: str
    atoms: tuple[str, ...]  # sorted: enum ltl_atom
    nodes: tuple[Node, ...]  # the normalized formula, by uid
    root: int
    states: tuple[State, ...]
    # Generalized Büchi acceptance (one set of states per `until`): a run is a
    # model of the formula iff it visits each set infinitely often.  Not in the
    # kernel tables; hamodel's satisfiability checks use it.
    acceptance: tuple[tuple[int, ...], ...] = field(default=())

    @property
    def initial(self) -> tuple[int, ...]:
        return tuple(s.index for s in self.states if s.initial)

    def label_nodes(self) -> tuple[int, ...]:
        """Every propositional node some label uses, ascending."""
        return tuple(sorted({u for s in self.states for u in s.label}))


@dataclass(slots=True)
class _Pending:
    incoming: set[int]  # state indices; -1 is "before the start"
    new: set[int]
    old: frozenset[int]
    next: frozenset[int]
    serial: int = 0  # when the node was made: states are numbered by it, as rvgen does


def build_buchi(spec: LtlSpec) -> Buchi:
    return buchi_of(spec.rule, spec.name, spec.atoms)


def buchi_of(formula: Formula, name: str = "ltl", atoms: tuple[str, ...] | None = None) -> Buchi:
    nodes, root = normalize(formula)
    if atoms is None:
        atoms = tuple(sorted({n.name for n in nodes if n.kind in ("atom", "not")}))
    tableau = _Tableau(nodes)
    tableau.run(root)
    # rvgen numbers states by when their tableau node was made, not when it closed
    order = sorted(range(len(tableau.states)), key=lambda i: tableau.serials[i])
    rank = {old_index: new_index for new_index, old_index in enumerate(order)}
    states = []
    for i in order:
        old, _nxt, incoming = tableau.states[i]
        states.append(State(
            rank[i], tuple(sorted(u for u in old if not nodes[u].temporal)), -1 in incoming,
            tuple(sorted(rank[t] for t in tableau.successors[i]))))
    acceptance = tuple(
        tuple(rank[i] for i in order
              if n.uid not in tableau.states[i][0] or n.right in tableau.states[i][0])
        for n in nodes if n.kind == "until"
    )
    return Buchi(name, atoms, nodes, root, tuple(states), acceptance)


class _Tableau:
    """The expansion, with an explicit work stack instead of recursion."""

    def __init__(self, nodes: tuple[Node, ...]) -> None:
        self.nodes = nodes
        # (old, next, incoming) of each state, in the order made
        self.states: list[tuple[frozenset[int], frozenset[int], set[int]]] = []
        self.index: dict[tuple[frozenset[int], frozenset[int]], int] = {}
        self.successors: list[set[int]] = []
        self.serials: list[int] = []
        self.made = 0

    def make(self, incoming: set[int], new: set[int], old: frozenset[int],
             nxt: frozenset[int]) -> _Pending:
        self.made += 1
        return _Pending(incoming, new, old, nxt, self.made)

    def run(self, root: int) -> None:
        stack = [self.make({-1}, {root}, frozenset(), frozenset())]
        while stack:
            node = stack.pop()
            if not node.new:
                self._close(node, stack)
                continue
            uid = min(node.new)
            node.new.discard(uid)
            # branches are pushed in reverse so that the first is expanded first
            stack.extend(reversed(self._step(node, self.nodes[uid])))

    def _close(self, node: _Pending, stack: list[_Pending]) -> None:
        key = (node.old, node.next)
        known = self.index.get(key)
        if known is not None:
            self.states[known][2].update(node.incoming)
            for src in node.incoming:
                if src >= 0:
                    self.successors[src].add(known)
            return
        if len(self.states) >= MAX_STATES:
            raise BuchiTooLarge(f"more than {MAX_STATES} automaton states")
        index = len(self.states)
        self.index[key] = index
        self.states.append((node.old, node.next, set(node.incoming)))
        self.successors.append(set())
        self.serials.append(node.serial)
        for src in node.incoming:
            if src >= 0:
                self.successors[src].add(index)
        stack.append(self.make({index}, set(node.next), frozenset(), frozenset()))

    def _step(self, node: _Pending, f: Node) -> list[_Pending]:
        old = node.old | {f.uid}
        if f.kind == "const" and not f.value:
            return []
        if f.kind in ("atom", "not", "const") or not f.temporal:
            node.old = old  # the same node goes on, as in rvgen (no new serial)
            return [node]

        def fresh(*parts: int) -> set[int]:
            return node.new | {p for p in parts if p not in node.old}

        make, inc = self.make, node.incoming
        if f.kind == "and":
            return [make(inc, fresh(f.left, f.right), old, node.next)]
        if f.kind == "or":
            return [make(inc, fresh(f.left), old, node.next),
                    make(inc, fresh(f.right), old, node.next)]
        if f.kind == "until":
            return [make(inc, fresh(f.left), old, node.next | {f.uid}),
                    make(inc, fresh(f.right), old, node.next)]
        if f.kind == "release":
            return [make(inc, fresh(f.right), old, node.next | {f.uid}),
                    make(inc, fresh(f.left, f.right), old, node.next)]
        # next
        return [make(inc, node.new, old, node.next | {f.left})]


# --- evaluation -------------------------------------------------------------------------


def holds(nodes: tuple[Node, ...], uid: int, values: dict[str, bool]) -> bool:
    """The value of a propositional node for the given atom values."""
    n = nodes[uid]
    if n.kind == "atom":
        return values[n.name]
    if n.kind == "not":
        return not values[n.name]
    if n.kind == "const":
        return n.value
    if n.kind == "and":
        return holds(nodes, n.left, values) and holds(nodes, n.right, values)
    return holds(nodes, n.left, values) or holds(nodes, n.right, values)


def enters(b: Buchi, state: int, values: dict[str, bool]) -> bool:
    """Whether the label of `state` holds: the automaton may enter it."""
    return all(holds(b.nodes, u, values) for u in b.states[state].label)


def node_text(nodes: tuple[Node, ...], uid: int) -> str:
    """A propositional node in the dialect, parenthesised where it nests."""
    n = nodes[uid]
    if n.kind == "atom":
        return n.name
    if n.kind == "not":
        return f"not {n.name}"
    if n.kind == "const":
        return "true" if n.value else "false"

    def part(u: int) -> str:
        inner = node_text(nodes, u)
        return f"({inner})" if nodes[u].kind in ("and", "or") else inner

    return f"{part(n.left)} {n.kind} {part(n.right)}"


def label_text(b: Buchi, state: int) -> str:
    """What must hold to enter the state; `true` when nothing must."""
    parts = [node_text(b.nodes, u) for u in b.states[state].label]
    parts = [p for p in parts if p != "true"] or ["true"]
    if len(parts) == 1:
        return parts[0]
    return " and ".join(f"({p})" if " " in p else p for p in parts)
