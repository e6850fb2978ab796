"""The typed LTL model: what hamodel/ltl/build.py makes of a `.ltl` file.

The counterpart of hamodel/model.py's Automaton for the kernel's third
monitor class (include/rv/ltl_monitor.h).  A formula is a tree of frozen
records; `span` fields point at the text they came from and are excluded from
comparison, so two formulas are equal when they mean the same tree.

The dialect's operators are those of rvgen's ltl2ba.py: `always`,
`eventually`, `next`, `not` (unary) and `until`, `and`, `or`, `imply`
(binary), over upper-case atoms and `true`/`false`.  `release` never appears
in a spec: it is the dual of `until` that the Büchi construction
(hamodel/ltl/buchi.py) needs once negations are pushed inward.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass, field

from hamodel.source import Span


class Op(enum.Enum):
    ALWAYS = "always"
    EVENTUALLY = "eventually"
    NEXT = "next"
    NOT = "not"
    UNTIL = "until"
    AND = "and"
    OR = "or"
    IMPLY = "imply"
    RELEASE = "release"

    @property
    def temporal(self) -> bool:
        return self in _TEMPORAL


_TEMPORAL = frozenset({Op.ALWAYS, Op.EVENTUALLY, Op.NEXT, Op.UNTIL, Op.RELEASE})
UNARY_OPS = frozenset({Op.ALWAYS, Op.EVENTUALLY, Op.NEXT, Op.NOT})
BINARY_OPS = frozenset({Op.UNTIL, Op.AND, Op.OR, Op.IMPLY, Op.RELEASE})


@dataclass(frozen=True, slots=True)
class Atom:
    """An atomic proposition: one bit of `struct ltl_monitor`'s `atoms`."""

    name: str
    span: Span | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Const:
    value: bool
    span: Span | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Unary:
    op: Op
    child: Formula
    span: Span | None = field(default=None, compare=False)  # operator to end of operand
    op_span: Span | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Binary:
    op: Op
    left: Formula
    right: Formula
    span: Span | None = field(default=None, compare=False)
    op_span: Span | None = field(default=None, compare=False)


Formula = Atom | Const | Unary | Binary


@dataclass(frozen=True, slots=True)
class Definition:
    """`NAME = formula` as written: the RULE or a macro, before any expansion."""

    name: str
    body: Formula
    span: Span | None = field(default=None, compare=False)  # the name before `=`


@dataclass(frozen=True, slots=True)
class LtlSpec:
    """A checked `.ltl` file: its RULE with every macro expanded by copying."""

    name: str  # the monitor's name (MONITOR_NAME)
    file: str
    rule: Formula
    definitions: tuple[Definition, ...]  # file order
    atoms: tuple[str, ...]  # sorted, as rvgen numbers them (enum ltl_atom)

    def definition(self, name: str) -> Definition | None:
        return next((d for d in self.definitions if d.name == name), None)


def children(f: Formula) -> tuple[Formula, ...]:
    if isinstance(f, Unary):
        return (f.child,)
    if isinstance(f, Binary):
        return (f.left, f.right)
    return ()


def walk(f: Formula) -> Iterator[Formula]:
    """Every node, parents before children, left before right (no recursion)."""
    stack = [f]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(children(node)))


def atoms_of(f: Formula) -> tuple[str, ...]:
    return tuple(sorted({n.name for n in walk(f) if isinstance(n, Atom)}))


def is_temporal(f: Formula) -> bool:
    return any(isinstance(n, Unary | Binary) and n.op.temporal for n in walk(f))


def depth(f: Formula) -> int:
    """Operators on the longest path from the root (no recursion)."""
    best = 0
    stack = [(f, 0)]
    while stack:
        node, d = stack.pop()
        best = max(best, d)
        stack.extend((c, d + 1) for c in children(node))
    return best


# --- text ------------------------------------------------------------------------


def text(f: Formula) -> str:
    """The formula in the dialect, parenthesised only where rvgen's reading needs it.

    A binary operator's left operand is parenthesised unless it is an atom or a
    constant; everything else reads as written, so the text parses back to
    the same tree.
    """
    if isinstance(f, Atom):
        return f.name
    if isinstance(f, Const):
        return "true" if f.value else "false"
    if isinstance(f, Unary):
        return f"{f.op.value} {text(f.child)}"
    left = text(f.left)
    if isinstance(f.left, Unary | Binary):
        left = f"({left})"
    return f"{left} {f.op.value} {text(f.right)}"


def explicit(f: Formula) -> str:
    """The formula with every compound operand parenthesised: unambiguous to anyone."""
    if isinstance(f, Atom | Const):
        return text(f)

    def part(g: Formula) -> str:
        return explicit(g) if isinstance(g, Atom | Const) else f"({explicit(g)})"

    if isinstance(f, Unary):
        return f"{f.op.value} {part(f.child)}"
    return f"{part(f.left)} {f.op.value} {part(f.right)}"
