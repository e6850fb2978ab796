"""`.ltl` text -> definitions (RULE and macros, unexpanded) with positions.

Syntax only, as grammar/ltl.lark reads it with rvgen's grouping: which
definitions there are, in which order, each a Formula whose macro uses are
still plain atoms.  Whether RULE exists, whether a name is defined twice,
what a macro expands to: build.py decides.  Every lark error becomes a
Diagnostic; nothing here raises on bad input.  The tokens of each definition
are kept for build.py's precedence warnings.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from hamodel import diagnostics as dg
from hamodel import lalr
from hamodel.ltl import codes
from hamodel.ltl.formula import Atom, Binary, Const, Definition, Formula, Op, Unary
from hamodel.source import Span

# Operators and parentheses on one path of a formula as written.  rvgen's own
# specs nest fewer than 10 deep; later stages walk formulas recursively.
MAX_NESTING = 200

OPERATORS = "always, eventually, next, not, until, and, or, imply"


@dataclass(frozen=True, slots=True)
class LtlToken:
    kind: str  # the grammar's terminal: NAME, AND, LPAR, ...
    text: str
    span: Span


@dataclass(frozen=True, slots=True)
class ParsedDefinition:
    definition: Definition
    tokens: tuple[LtlToken, ...]  # of the formula, after the `=`


def _parser() -> Lark:
    return lalr.parser("ltl")


_FRIENDLY = {
    "NAME": "a name",
    "WORD": "a word",
    "EQUAL": "'='",
    "LPAR": "'('",
    "RPAR": "')'",
    "TRUE": "true",
    "FALSE": "false",
    "$END": "the end",
}
_UNARY = {"ALWAYS": Op.ALWAYS, "EVENTUALLY": Op.EVENTUALLY, "NEXT": Op.NEXT, "NOT": Op.NOT}
_BINARY = {"UNTIL": Op.UNTIL, "AND": Op.AND, "OR": Op.OR, "IMPLY": Op.IMPLY}


def _expected(names: set[str] | frozenset[str]) -> str:
    shown: set[str] = set()
    for n in names:
        if n in _UNARY:
            shown.add("a unary operator (always, eventually, next, not)")
        elif n in _BINARY:
            shown.add("a binary operator (until, and, or, imply)")
        elif n != "WORD":  # never really expected: it only catches misspellings
            shown.add(_FRIENDLY.get(n, n))
    return " (expected " + ", ".join(sorted(shown)) + ")" if shown else ""


def _line_col(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    col = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, col


def _syntax_error(err: UnexpectedInput, text: str, file: str) -> dg.Diagnostic:
    if isinstance(err, UnexpectedToken):
        tok = err.token
        if tok.type == "$END":
            message, offset, width = "unexpected end of file", len(text.rstrip()), 1
        else:
            message, offset, width = f"unexpected {str(tok)!r}", tok.start_pos or 0, len(tok)
            if tok.type == "WORD":
                message += _word_advice(str(tok), operand=False)
        message += _expected(err.expected)
    elif isinstance(err, UnexpectedCharacters):
        offset, width = err.pos_in_stream, 1
        ch = text[offset] if offset < len(text) else ""
        message = f"unexpected character {ch!r}" + _expected(err.allowed or set())
    elif isinstance(err, UnexpectedEOF):
        message, offset, width = "unexpected end of file", len(text.rstrip()), 1
    else:  # pragma: no cover - lark has no other kind
        message, offset, width = str(err), 0, 1
    line, col = _line_col(text, offset)
    return dg.error(codes.LTL_SYNTAX, message, Span.point(file, line, col, width))


def _word_advice(word: str, operand: bool = True) -> str:
    """Why a word is neither an operator nor an atom, for the error message.

    `operand`: the word stands where an atom could; else where an operator must.
    """
    lower = word.lower()
    for op in ("always", "eventually", "next", "not", "until", "and", "or", "imply"):
        if word.startswith(op) and len(word) > len(op) and word[len(op)].isupper():
            return f": write a space between {op!r} and {word[len(op):]!r}"
    if lower in ("equivalent", "iff", "xor", "release", "weak"):
        return f": the dialect has no {word!r} operator (its operators: {OPERATORS})"
    if lower in ("always", "eventually", "next", "not", "until", "and", "or", "imply",
                 "true", "false"):
        return f": operators are written in lower case ({lower!r})"
    if not operand:
        return ": not an operator of the dialect"
    return (f": atoms are upper case ({word.upper()!r}) and operators lower case"
            f" ({OPERATORS})")


def parse_ltl(text: str, file: str) -> tuple[tuple[ParsedDefinition, ...] | None,
                                               list[dg.Diagnostic]]:
    """The definitions of a `.ltl` file, or None and the reasons it has none."""
    try:
        tree = _parser().parse(text)
    except UnexpectedInput as err:
        return None, [_syntax_error(err, text, file)]
    walker = _Walker(file)
    definitions = []
    tokens = [t for t in _parser().lex(text) if t.type != "COMMENT"]
    for node in tree.children:
        parsed = walker.definition(node, tokens)
        if parsed is not None:
            definitions.append(parsed)
    if walker.diags:
        return None, walker.diags
    return tuple(definitions), []


class _Walker:
    """Turns the lark tree into Formula records, without recursion."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.diags: list[dg.Diagnostic] = []

    def span(self, tree: Tree) -> Span:
        m = tree.meta
        return Span(self.file, m.line, m.column, m.end_line, m.end_column)

    def token_span(self, tok: Token) -> Span:
        return Span(self.file, tok.line, tok.column, tok.end_line, tok.end_column)

    def definition(self, node: Tree, tokens: list[Token]) -> ParsedDefinition | None:
        name, body = node.children
        if self._too_deep(body):
            return None
        formula = self.formula(body)
        start, end = body.meta.start_pos, body.meta.end_pos
        own = tuple(
            LtlToken(t.type, str(t), self.token_span(t))
            for t in tokens
            if start <= t.start_pos < end
        )
        return ParsedDefinition(Definition(str(name), formula, self.token_span(name)), own)

    def _too_deep(self, body: Tree | Token) -> bool:
        stack = [(body, 0)]
        while stack:
            node, d = stack.pop()
            if d > MAX_NESTING:
                self.diags.append(dg.error(
                    codes.TOO_BIG,
                    f"formula nested more than {MAX_NESTING} operators deep"
                    " (expected a flatter formula, or macros)",
                    self.span(node) if isinstance(node, Tree) else self.token_span(node),
                ))
                return True
            if isinstance(node, Tree):
                step = 1 if node.data in ("unary", "binary", "group") else 0
                stack.extend((c, d + step) for c in node.children)
        return False

    def formula(self, root: Tree | Token) -> Formula:
        """Post-order conversion with an explicit stack."""
        done: dict[int, Formula] = {}
        stack: list[tuple[Tree | Token, bool]] = [(root, False)]
        while stack:
            node, expanded = stack.pop()
            if isinstance(node, Tree) and not expanded:
                stack.append((node, True))
                stack.extend((c, False) for c in reversed(node.children) if isinstance(c, Tree))
                continue
            done[id(node)] = self._node(node, done)
        return done[id(root)]

    def _node(self, node: Tree | Token, done: dict[int, Formula]) -> Formula:
        if isinstance(node, Token):  # a bare NAME at the top of a definition is a Tree too
            return Atom(str(node), self.token_span(node))
        kind = node.data
        span = self.span(node)
        if kind == "atom":
            return Atom(str(node.children[0]), span)
        if kind == "constant":
            return Const(node.children[0].type == "TRUE", span)
        if kind == "word":
            word = node.children[0]
            self.diags.append(dg.error(
                codes.LTL_WORD, f"{str(word)!r} is neither an atom nor an operator"
                + _word_advice(str(word)), self.token_span(word)))
            return Atom(str(word), span)
        if kind == "group":
            return dataclasses.replace(done[id(node.children[0])], span=span)
        if kind == "unary":
            op, child = node.children
            return Unary(_UNARY[op.type], done[id(child)], span, self.token_span(op))
        left, op, right = node.children
        return Binary(_BINARY[op.type], done[id(left)], done[id(right)], span,
                      self.token_span(op))
