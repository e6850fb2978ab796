"""Where the dialect's missing precedence changes what a formula means.

rvgen reads `not A and B` as `not (A and B)` and `A and B or C` as
`A and (B or C)`.  A reader used to C, Spin or textbook LTL expects unary
operators to bind tightest, then `until`, `and`, `or`, `imply`.  This module
parses the same tokens that second way (`conventional`) and names the
smallest part where the two trees differ; build.py turns it into a warning.
Chains of one associative operator (`A and B and C`) mean the same either way
and are not reported.

Input: the tokens of one definition (parse.py).  Output: None, or the two
readings of the first part that differs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hamodel.ltl.formula import Atom, Binary, Const, Formula, Op, Unary
from hamodel.ltl.parse import LtlToken
from hamodel.source import Span

# Conventional binding power of binary operators (higher binds tighter) and
# whether a chain groups to the right.
_BINARY = {
    "IMPLY": (1, Op.IMPLY, True),
    "OR": (2, Op.OR, False),
    "AND": (3, Op.AND, False),
    "UNTIL": (4, Op.UNTIL, True),
}
_UNARY = {"ALWAYS": Op.ALWAYS, "EVENTUALLY": Op.EVENTUALLY, "NEXT": Op.NEXT, "NOT": Op.NOT}


@dataclass(frozen=True, slots=True)
class Misreading:
    written: Formula  # rvgen's reading of the part (spans into the file)
    expected: Formula  # the conventional reading of the same tokens
    span: Span  # the operator whose scope differs


def _join(a: Span, b: Span) -> Span:
    return Span(a.file, a.line, a.col, b.end_line, b.end_col)


class _Pratt:
    def __init__(self, tokens: Sequence[LtlToken]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> LtlToken | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> LtlToken:
        tok = self.tokens[self.pos]
        self.pos += 1
        return tok

    def expr(self, min_power: int = 0) -> Formula:
        left = self.prefix()
        while (tok := self.peek()) is not None and tok.kind in _BINARY:
            power, op, right_assoc = _BINARY[tok.kind]
            if power < min_power:
                break
            self.take()
            right = self.expr(power if right_assoc else power + 1)
            left = Binary(op, left, right, _join(left.span, right.span), tok.span)
        return left

    def prefix(self) -> Formula:
        tok = self.take()
        if tok.kind in _UNARY:
            child = self.prefix()
            return Unary(_UNARY[tok.kind], child, _join(tok.span, child.span), tok.span)
        if tok.kind == "LPAR":
            inner = self.expr()
            close = self.take()
            return _respan(inner, _join(tok.span, close.span))
        if tok.kind in ("TRUE", "FALSE"):
            return Const(tok.kind == "TRUE", tok.span)
        return Atom(tok.text, tok.span)


def _respan(f: Formula, span: Span) -> Formula:
    if isinstance(f, Atom):
        return Atom(f.name, span)
    if isinstance(f, Const):
        return Const(f.value, span)
    if isinstance(f, Unary):
        return Unary(f.op, f.child, span, f.op_span)
    return Binary(f.op, f.left, f.right, span, f.op_span)


def conventional(tokens: Sequence[LtlToken]) -> Formula:
    """The tokens read with the usual precedence (they already parsed rvgen's way)."""
    return _Pratt(tokens).expr()


def _flat(f: Formula) -> tuple:
    """A key that is equal for two trees that differ only in how a chain of one
    associative operator (and, or) is grouped."""
    if isinstance(f, Atom):
        return ("atom", f.name)
    if isinstance(f, Const):
        return ("const", f.value)
    if isinstance(f, Unary):
        return (f.op, _flat(f.child))
    if f.op in (Op.AND, Op.OR):
        return (f.op, *(_flat(p) for p in _chain(f, f.op)))
    return (f.op, _flat(f.left), _flat(f.right))


def _chain(f: Formula, op: Op) -> list[Formula]:
    out: list[Formula] = []
    stack = [f]
    while stack:
        g = stack.pop()
        if isinstance(g, Binary) and g.op is op:
            stack += [g.right, g.left]
        else:
            out.append(g)
    return out


def misreading(written: Formula, tokens: Sequence[LtlToken]) -> Misreading | None:
    """The first part of `written` whose meaning depends on precedence, or None."""
    return _first_difference(written, conventional(tokens))


def _first_difference(a: Formula, b: Formula) -> Misreading | None:
    if _flat(a) == _flat(b):
        return None
    if isinstance(a, Unary) and isinstance(b, Unary) and a.op is b.op:
        return _first_difference(a.child, b.child)
    if isinstance(a, Binary) and isinstance(b, Binary) and a.op is b.op:
        if a.op in (Op.AND, Op.OR):
            pa, pb = _chain(a, a.op), _chain(b, b.op)
            if len(pa) == len(pb):
                for x, y in zip(pa, pb, strict=True):
                    found = _first_difference(x, y)
                    if found:
                        return found
        else:
            return _first_difference(a.left, b.left) or _first_difference(a.right, b.right)
    span = a.op_span if isinstance(a, Unary | Binary) and a.op_span else a.span
    return Misreading(a, b, span)
