"""Text -> DotGraph (DOT statements with positions), and label strings -> label records.

This stage knows syntax only: which statements there are, in which order, with
which attributes, where.  Whether a node is a state, whether a label is allowed
there, what a bound is worth: build.py decides.  Every lark error becomes a
Diagnostic; nothing here raises on bad input.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from hamodel import diagnostics as dg
from hamodel import lalr
from hamodel.model import (
    And,
    Cmp,
    Guard,
    Invariant,
    Not,
    Number,
    Or,
    Reset,
    Symbol,
    TimeUnit,
    Value,
)
from hamodel.source import Span

# --- DOT records ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Text:
    """A DOT id with escapes undone; `where` maps each character back to the file."""

    value: str
    span: Span
    where: tuple[tuple[int, int], ...] = field(default=(), compare=False, repr=False)
    quoted: bool = False

    def span_of(self, start: int, end: int) -> Span:
        """The file span of value[start:end] (falls back to the whole id)."""
        if not self.where:
            if self.quoted or start >= len(self.value):
                return self.span
            # An unquoted id has no escapes: its characters sit side by side.
            line, col = self.span.line, self.span.col
            return Span(self.span.file, line, col + start, line, col + max(end, start + 1))
        if start >= len(self.where):
            return self.span
        line, col = self.where[start]
        last = max(start, min(end, len(self.where)) - 1)
        end_line, end_col = self.where[last]
        return Span(self.span.file, line, col, end_line, end_col + 1)


@dataclass(frozen=True, slots=True)
class Attr:
    key: Text
    value: Text


@dataclass(frozen=True, slots=True)
class NodeStmt:
    name: Text
    attrs: tuple[Attr, ...]  # written on the statement
    defaults: tuple[Attr, ...]  # `node [...]` in force where it stands, outermost first
    span: Span
    in_group: bool  # inside `{ ... }` (the kernel's `{node [shape = ...] "x"}`)


@dataclass(frozen=True, slots=True)
class EdgeStmt:
    ends: tuple[Text | None, ...]  # None: a subgraph used as an endpoint
    end_spans: tuple[Span, ...]
    ops: tuple[Text, ...]
    attrs: tuple[Attr, ...]
    defaults: tuple[Attr, ...]  # `edge [...]` in force
    span: Span


@dataclass(frozen=True, slots=True)
class DotGraph:
    kind: Text  # "digraph" or "graph", as written
    name: Text | None
    strict: bool
    nodes: tuple[NodeStmt, ...]
    edges: tuple[EdgeStmt, ...]
    graph_attrs: tuple[Attr, ...]
    file: str


# --- label records -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StateLabel:
    name: str
    name_span: Span
    invariant: Invariant | None


@dataclass(frozen=True, slots=True)
class EdgeLine:
    event: str
    event_span: Span
    guards: tuple[Guard, ...]  # more than one is an error, judged in build
    resets: tuple[Reset, ...]
    span: Span


# --- parsers ---------------------------------------------------------------------------


def _dot_parser() -> Lark:
    return lalr.parser("hadot")


def _label_parser() -> Lark:
    return lalr.parser("label")


_FRIENDLY = {
    "QUOTED": "a quoted string",
    "ID": "a name",
    "NAME": "a name",
    "NUMERAL": "a number",
    "NUMBER": "a number",
    "EDGEOP": "'->'",
    "LBRACE": "'{'",
    "RBRACE": "'}'",
    "LSQB": "'['",
    "RSQB": "']'",
    "LPAR": "'('",
    "RPAR": "')'",
    "SEMICOLON": "';'",
    "COMMA": "','",
    "EQUAL": "'='",
    "COLON": "':'",
    "DIGRAPH": "'digraph'",
    "GRAPH": "'graph'",
    "NODE": "'node'",
    "EDGE": "'edge'",
    "SUBGRAPH": "'subgraph'",
    "STRICT": "'strict'",
    "HTML": "an HTML string",
    "CMP_OP": "a comparison (== != < <= > >=)",
    "INV_OP": "'<' or '<='",
    "UNIT": "a unit (ns us ms s j)",
    "CALL": "'()'",
    "RESET": "'reset'",
    "_NL": "a new line",
    "_OR": "'||'",
    "_AND": "'&&'",
    "BANG": "'!'",
    "$END": "the end",
}


def _expected(names: set[str] | frozenset[str]) -> str:
    shown = sorted({_FRIENDLY.get(n, n) for n in names})
    if not shown:
        return ""
    if len(shown) > 6:
        shown = shown[:6] + ["..."]
    return " (expected " + ", ".join(shown) + ")"


def _describe(err: UnexpectedInput, text: str) -> tuple[str, int]:
    """A message for a lark error and the offset it points at."""
    if isinstance(err, UnexpectedToken):
        tok = err.token
        if tok.type == "$END":
            return "unexpected end of input" + _expected(err.expected), len(text)
        shown = str(tok).replace("\n", "\\n")
        return f"unexpected {shown!r}" + _expected(err.expected), tok.start_pos or 0
    if isinstance(err, UnexpectedCharacters):
        ch = text[err.pos_in_stream] if err.pos_in_stream < len(text) else ""
        return f"unexpected character {ch!r}" + _expected(err.allowed or set()), err.pos_in_stream
    if isinstance(err, UnexpectedEOF):
        return "unexpected end of input" + _expected(set(err.expected)), len(text)
    return str(err), 0


def _line_col(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    col = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, col


def parse_dot(text: str, file: str) -> tuple[DotGraph | None, list[dg.Diagnostic]]:
    try:
        tree = _dot_parser().parse(text)
    except UnexpectedInput as err:
        message, offset = _describe(err, text)
        line, col = _line_col(text, offset)
        return None, [dg.error(dg.SYNTAX, message, Span.point(file, line, col))]
    builder = _DotBuilder(file)
    graph = builder.graph(tree.children[0])
    if builder.diags:
        return None, builder.diags
    return graph, []


MAX_GUARD_DEPTH = 64  # operators on one path of a guard, `a || b || c` counting 3
MAX_NESTING = 64  # `{ }` blocks inside each other


class _DotBuilder:
    """Walks the DOT parse tree, keeping `node [...]`/`edge [...]` defaults per scope."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.diags: list[dg.Diagnostic] = []
        self.depth = 0
        self.nodes: list[NodeStmt] = []
        self.edges: list[EdgeStmt] = []
        self.graph_attrs: list[Attr] = []

    def graph(self, tree: Tree) -> DotGraph:
        strict, kind, name, body = tree.children
        self._stmts(body, (), (), in_group=False)
        return DotGraph(
            kind=self._token_text(kind),
            name=self._id(name) if name is not None else None,
            strict=strict is not None,
            nodes=tuple(self.nodes),
            edges=tuple(self.edges),
            graph_attrs=tuple(self.graph_attrs),
            file=self.file,
        )

    def _stmts(
        self,
        body: Tree,
        node_defaults: tuple[Attr, ...],
        edge_defaults: tuple[Attr, ...],
        in_group: bool,
    ) -> None:
        for stmt in body.children:
            if not isinstance(stmt, Tree):
                continue
            kind = stmt.data
            if kind == "attr_stmt":
                target, attr_list = stmt.children
                attrs = self._attrs(attr_list)
                which = str(target).lower()
                if which == "node":
                    node_defaults = node_defaults + attrs
                elif which == "edge":
                    edge_defaults = edge_defaults + attrs
                else:
                    self.graph_attrs.extend(attrs)
            elif kind == "graph_attr":
                key, value = stmt.children
                self.graph_attrs.append(Attr(self._id(key), self._id(value)))
            elif kind == "node_stmt":
                node_id, attr_list = stmt.children
                name = self._id(node_id.children[0])
                self.nodes.append(
                    NodeStmt(
                        name=name,
                        attrs=self._attrs(attr_list),
                        defaults=node_defaults,
                        span=self._span(stmt),
                        in_group=in_group,
                    )
                )
            elif kind == "edge_stmt":
                self._edge(stmt, node_defaults, edge_defaults, in_group)
            elif kind == "subgraph":
                self._subgraph(stmt, node_defaults, edge_defaults)

    def _subgraph(
        self, tree: Tree, node_defaults: tuple[Attr, ...], edge_defaults: tuple[Attr, ...]
    ) -> None:
        if self.depth >= MAX_NESTING:
            if not self.diags:
                self.diags.append(dg.error(
                    dg.SYNTAX,
                    f"blocks nested more than {MAX_NESTING} deep (expected flatter groups)",
                    self._span(tree),
                ))
            return
        self.depth += 1
        self._stmts(tree.children[-1], node_defaults, edge_defaults, in_group=True)
        self.depth -= 1

    def _edge(
        self,
        stmt: Tree,
        node_defaults: tuple[Attr, ...],
        edge_defaults: tuple[Attr, ...],
        in_group: bool,
    ) -> None:
        ends: list[Text | None] = []
        spans: list[Span] = []
        ops: list[Text] = []
        attrs: tuple[Attr, ...] = ()
        for child in stmt.children:
            if isinstance(child, Token) and child.type == "EDGEOP":
                ops.append(self._token_text(child))
            elif isinstance(child, Tree) and child.data == "node_id":
                ends.append(self._id(child.children[0]))
                spans.append(self._span(child))
            elif isinstance(child, Tree) and child.data == "subgraph":
                # Nodes declared inside still count as declared; the edge is refused later.
                self._subgraph(child, node_defaults, edge_defaults)
                ends.append(None)
                spans.append(self._span(child))
            elif isinstance(child, Tree) and child.data == "attr_list":
                attrs = self._attrs(child)
        self.edges.append(
            EdgeStmt(tuple(ends), tuple(spans), tuple(ops), attrs, edge_defaults, self._span(stmt))
        )

    def _attrs(self, attr_list: Tree | None) -> tuple[Attr, ...]:
        if attr_list is None:
            return ()
        out: list[Attr] = []
        for a_list in attr_list.children:
            if a_list is None:
                continue
            for attr in a_list.children:
                if isinstance(attr, Tree) and attr.data == "attr":
                    out.append(Attr(self._id(attr.children[0]), self._id(attr.children[1])))
        return tuple(out)

    def _span(self, tree: Tree) -> Span:
        m = tree.meta
        return Span(self.file, m.line, m.column, m.end_line, m.end_column)

    def _token_text(self, tok: Token) -> Text:
        span = Span(self.file, tok.line, tok.column, tok.end_line, tok.end_column)
        return Text(str(tok), span)

    def _id(self, tree: Tree) -> Text:
        tok = tree.children[0]
        if tok.type != "QUOTED":
            return self._token_text(tok)
        return _unquote(tok, self.file)


def _unquote(tok: Token, file: str) -> Text:
    """Undo DOT's escapes (`\\"` and backslash-newline); other backslashes stay, as in Graphviz."""
    raw = str(tok)
    chars: list[str] = []
    where: list[tuple[int, int]] = []
    line, col = tok.line, tok.column + 1  # position of raw[1]
    i = 1
    while i < len(raw) - 1:
        c = raw[i]
        if c == "\\" and i + 1 < len(raw) - 1 and raw[i + 1] in "\"\n":
            if raw[i + 1] == '"':
                chars.append('"')
                where.append((line, col + 1))
                col += 2
            else:
                line, col = line + 1, 1
            i += 2
            continue
        chars.append(c)
        where.append((line, col))
        if c == "\n":
            line, col = line + 1, 1
        else:
            col += 1
        i += 1
    span = Span(file, tok.line, tok.column, tok.end_line, tok.end_column)
    return Text("".join(chars), span, tuple(where), quoted=True)


# --- labels -------------------------------------------------------------------------


def parse_state_label(text: Text) -> tuple[StateLabel | None, list[dg.Diagnostic]]:
    tree, diags = _parse_label(text, "state_label")
    if tree is None:
        return None, diags
    walker = _LabelWalker(text, diags)
    name = tree.children[0]
    invariant = walker.invariant(tree.children[1]) if len(tree.children) > 1 else None
    label = StateLabel(str(name), walker.token_span(name), invariant)
    return (label if not diags else None), diags


def parse_edge_label(text: Text) -> tuple[tuple[EdgeLine, ...] | None, list[dg.Diagnostic]]:
    tree, diags = _parse_label(text, "edge_label")
    if tree is None:
        return None, diags
    walker = _LabelWalker(text, diags)
    lines = tuple(walker.edge_line(line) for line in tree.children)
    return (lines if not diags else None), diags


def parse_init_label(text: Text) -> tuple[tuple[Reset, ...] | None, list[dg.Diagnostic]]:
    tree, diags = _parse_label(text, "init_label")
    if tree is None:
        return None, diags
    walker = _LabelWalker(text, diags)
    return tuple(walker.reset(r) for r in tree.children if r is not None), diags


def _parse_label(text: Text, start: str) -> tuple[Tree | None, list[dg.Diagnostic]]:
    try:
        return _label_parser().parse(text.value, start=start), []
    except UnexpectedInput as err:
        message, offset = _describe(err, text.value)
        what = {"state_label": "state", "edge_label": "edge", "init_label": "init arrow"}[start]
        span = text.span_of(offset, offset + 1)
        if offset >= len(text.value):  # at the end: point at the closing quote
            span = Span(span.file, text.span.end_line, text.span.end_col - 1,
                        text.span.end_line, text.span.end_col)
        return None, [dg.error(dg.LABEL_SYNTAX, f"in {what} label: {message}", span)]


_UNITS = {u.value: u for u in TimeUnit}


U64_LIMIT = 2**64


def number_value(digits: str, unit: TimeUnit | None) -> int | str:
    """The exact integer a number with a unit stands for, or why there is none.

    `1.5ms` is 1500000 ns; `1.5ns`, `0.5j` and a bare `2.5` are not integers.
    Computed in integers (no rounding at any length); the kernel keeps bounds in
    a u64, so 2^64 and more are refused.
    """
    whole, _, frac = digits.partition(".")
    if not whole.isdigit() or (frac and not frac.isdigit()):
        return f"{digits!r} is not a number"
    scaled = int(whole + frac) * (unit.scale if unit else 1)
    value, rest = divmod(scaled, 10 ** len(frac))
    written = f"{digits}{unit.value if unit else ''}"
    if rest:
        base = "jiffies" if unit and unit.is_jiffies else ("ns" if unit else "units")
        return f"{written} is not a whole number of {base}"
    if value >= U64_LIMIT:
        return f"{written} does not fit the kernel's 64-bit bounds (2^64 or more)"
    return value


class _LabelWalker:
    """Turns a label parse tree into model records, mapping positions back to the file."""

    def __init__(self, text: Text, diags: list[dg.Diagnostic]) -> None:
        self.text = text
        self.diags = diags

    def token_span(self, tok: Token) -> Span:
        return self.text.span_of(tok.start_pos, tok.end_pos)

    def tree_span(self, tree: Tree) -> Span:
        return self.text.span_of(tree.meta.start_pos, tree.meta.end_pos)

    def invariant(self, tree: Tree) -> Invariant:
        clock, op, value = tree.children
        return Invariant(str(clock), str(op), self.value(value), self.tree_span(tree))

    def reset(self, tree: Tree) -> Reset:
        return Reset(str(tree.children[0]), self.tree_span(tree))

    def edge_line(self, tree: Tree) -> EdgeLine:
        event = tree.children[0]
        guards: list[Guard] = []
        resets: list[Reset] = []
        for item in tree.children[1:]:
            if isinstance(item, Tree) and item.data == "reset":
                resets.append(self.reset(item))
            else:
                guards.append(self.guard(item))
        return EdgeLine(
            str(event), self.token_span(event), tuple(guards), tuple(resets), self.tree_span(tree)
        )

    def guard(self, tree: Tree, depth: int = 0) -> Guard:
        span = self.tree_span(tree)
        if tree.data == "cmp":
            env, op, value = tree.children
            return Cmp(str(env), str(op), self.value(value), span)
        if depth + len(tree.children) > MAX_GUARD_DEPTH:
            # Every later stage walks guards recursively; a kernel guard this deep
            # would not be readable anyway.
            self.diags.append(dg.error(
                dg.LABEL_SYNTAX,
                f"guard nested or chained more than {MAX_GUARD_DEPTH} deep"
                " (expected a shorter condition)",
                span,
            ))
            return Cmp("_", "==", Number(0, None), span)
        if tree.data == "not_":
            return Not(self.guard(tree.children[0], depth + 1), span)
        combine = And if tree.data == "and_expr" else Or
        parts = [self.guard(c, depth + len(tree.children)) for c in tree.children]
        result = parts[0]
        for part in parts[1:]:  # left-associative, as C reads it
            result = combine(result, part, span)
        return result

    def value(self, tree: Tree) -> Value:
        span = self.tree_span(tree)
        if tree.data == "number":
            digits, unit_tok = tree.children
            unit = _UNITS[str(unit_tok)] if unit_tok is not None else None
            value = number_value(str(digits), unit)
            written = str(digits) + (str(unit_tok) if unit_tok is not None else "")
            if isinstance(value, str):
                self.diags.append(dg.error(dg.BAD_VALUE, value, span))
                value = 0
            return Number(value, unit, written, span)
        name, call, unit_tok = tree.children
        unit = _UNITS[str(unit_tok)] if unit_tok is not None else None
        return Symbol(str(name), call is not None, unit, span)
