"""Definitions (parse.py) -> LtlSpec: one RULE, macros expanded by copying.

The rules of meaning, as rvgen's ltl2ba.py applies them and where it fails:

- exactly one `RULE = ...`; every other definition is a macro, defined once
  (rvgen silently keeps the last of two);
- a name that is a macro is replaced by the macro's formula, recursively and
  in any order of definition; any other name is an atom (`RULE` inside a
  formula is an atom too, as in rvgen, with a warning);
- a macro that uses itself is refused (rvgen loops forever);
- each use of a macro gets its own copy of the macro's tree: rvgen puts the
  one tree at every use and negates it in place, so `not M` corrupts the other
  uses of `M`;
- warnings: a macro RULE never uses, a place where the missing precedence
  changes the meaning a reader would expect (precedence.py), a last-line
  comment without a new line (rvgen's grammar rejects it).

Output: the LtlSpec, or None with every error found.
"""

from __future__ import annotations

from collections.abc import Sequence

from hamodel import diagnostics as dg
from hamodel.diagnostics import Diagnostic, Note
from hamodel.ltl import codes
from hamodel.ltl.formula import (
    Atom,
    Binary,
    Const,
    Definition,
    Formula,
    LtlSpec,
    Op,
    Unary,
    atoms_of,
    children,
    explicit,
    walk,
)
from hamodel.ltl.parse import ParsedDefinition
from hamodel.ltl.precedence import misreading
from hamodel.source import Span

RULE = "RULE"
# Nodes of RULE once every macro is expanded.  Copies make size grow with each
# level of macros used twice; rvgen's specs have under 100 nodes.
MAX_NODES = 20_000
# Operators on one path of the expanded RULE: the Büchi construction and the
# C generator walk formulas recursively.
MAX_DEPTH = 200


def build_spec(parsed: Sequence[ParsedDefinition], name: str, file: str,
               text: str = "") -> tuple[LtlSpec | None, list[Diagnostic]]:
    diags: list[Diagnostic] = []
    first: dict[str, Definition] = {}
    for p in parsed:
        d = p.definition
        if d.name in first:
            what = "RULE" if d.name == RULE else f"macro {d.name}"
            diags.append(dg.error(
                codes.DEFINED_TWICE, f"{what} is defined twice (rvgen keeps the last silently)",
                d.span, Note("first defined here", first[d.name].span)))
        else:
            first[d.name] = d
    rule = first.get(RULE)
    if rule is None:
        diags.append(dg.error(codes.NO_RULE, "no `RULE = ...` definition in the file",
                              Span.point(file, 1, 1)))
    macros = {n: d for n, d in first.items() if n != RULE}
    diags += _cycles(macros)
    if rule is not None and not dg.has_errors(diags):
        diags += _sizes(rule, macros)
    diags += _warnings(parsed, macros, rule, file, text)
    if dg.has_errors(diags):
        return None, diags
    assert rule is not None
    expanded = expand(rule.body, macros)
    spec = LtlSpec(name, file, expanded, tuple(p.definition for p in parsed), atoms_of(expanded))
    return spec, diags


# --- macros ------------------------------------------------------------------------


def _uses(body: Formula, macros: dict[str, Definition]) -> list[Atom]:
    return [n for n in walk(body) if isinstance(n, Atom) and n.name in macros]


def _cycles(macros: dict[str, Definition]) -> list[Diagnostic]:
    """One error per macro cycle, at the use that closes it (depth-first, no recursion)."""
    diags: list[Diagnostic] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for root in macros:
        if state.get(root):
            continue
        path: list[str] = []
        stack: list[tuple[str, list[Atom]]] = [(root, _uses(macros[root].body, macros))]
        state[root] = 1
        path.append(root)
        while stack:
            name, pending = stack[-1]
            if not pending:
                stack.pop()
                path.pop()
                state[name] = 2
                continue
            use = pending.pop(0)
            if state.get(use.name) == 1:
                loop = path[path.index(use.name):] + [use.name]
                diags.append(dg.error(
                    codes.MACRO_CYCLE,
                    f"macro {use.name} uses itself: {' -> '.join(loop)}",
                    use.span, Note(f"{use.name} is defined here", macros[use.name].span)))
            elif not state.get(use.name):
                state[use.name] = 1
                path.append(use.name)
                stack.append((use.name, _uses(macros[use.name].body, macros)))
    return diags


def _sizes(rule: Definition, macros: dict[str, Definition]) -> list[Diagnostic]:
    """Refuse an expansion too large or too deep, before making it (macros are acyclic)."""
    size: dict[str, int] = {}
    deep: dict[str, int] = {}

    def measure(body: Formula) -> tuple[int, int]:
        total, best = 0, 0
        stack = [(body, 0)]
        while stack:
            node, d = stack.pop()
            if isinstance(node, Atom) and node.name in macros:
                total += size[node.name]
                best = max(best, d + deep[node.name])
                continue
            total += 1
            best = max(best, d)
            stack.extend((c, d + 1) for c in children(node))
        return total, best

    for name in _topological(macros):
        size[name], deep[name] = measure(macros[name].body)
    nodes, depth = measure(rule.body)
    if nodes > MAX_NODES:
        return [dg.error(codes.TOO_BIG, f"RULE has {nodes} operators and operands once its"
                         f" macros are expanded (at most {MAX_NODES})", rule.span)]
    if depth > MAX_DEPTH:
        return [dg.error(codes.TOO_BIG, f"RULE nests {depth} operators deep once its macros"
                         f" are expanded (at most {MAX_DEPTH})", rule.span)]
    return []


def _topological(macros: dict[str, Definition]) -> list[str]:
    """Macros, each after the macros it uses (the graph is acyclic here)."""
    order: list[str] = []
    seen: set[str] = set()
    for root in macros:
        stack = [(root, False)]
        while stack:
            name, ready = stack.pop()
            if ready:
                if name not in seen:
                    seen.add(name)
                    order.append(name)
                continue
            if name in seen:
                continue
            stack.append((name, True))
            stack.extend((u.name, False) for u in _uses(macros[name].body, macros)
                         if u.name not in seen)
    return order


def expand(body: Formula, macros: dict[str, Definition]) -> Formula:
    """`body` with every macro use replaced by a fresh copy of the macro's expansion.

    Recursive: the depth is bounded by MAX_DEPTH, checked before.
    """
    if isinstance(body, Atom):
        if body.name in macros:
            return expand(macros[body.name].body, macros)
        return Atom(body.name, body.span)
    if isinstance(body, Const):
        return Const(body.value, body.span)
    if isinstance(body, Unary):
        return Unary(body.op, expand(body.child, macros), body.span, body.op_span)
    return Binary(body.op, expand(body.left, macros), expand(body.right, macros), body.span,
                  body.op_span)


# --- warnings ----------------------------------------------------------------------


def _warnings(parsed: Sequence[ParsedDefinition], macros: dict[str, Definition],
              rule: Definition | None, file: str, text: str) -> list[Diagnostic]:
    diags: list[Diagnostic] = []
    for p in parsed:
        found = misreading(p.definition.body, p.tokens)
        if found is not None:
            diags.append(dg.warning(
                codes.PRECEDENCE,
                f"this reads as `{explicit(found.written)}`, not `{explicit(found.expected)}`:"
                f" {_why(found.written)}",
                found.span))
    if rule is not None:
        used: set[str] = set()
        pending = [rule.body]
        while pending:
            for use in _uses(pending.pop(), macros):
                if use.name not in used:
                    used.add(use.name)
                    pending.append(macros[use.name].body)
        for name, d in macros.items():
            if name not in used:
                diags.append(dg.warning(codes.UNUSED_MACRO,
                                        f"macro {name} is not used by RULE", d.span))
    for p in parsed:
        for node in walk(p.definition.body):
            if isinstance(node, Atom) and node.name == RULE:
                diags.append(dg.warning(
                    codes.RULE_AS_ATOM,
                    "`RULE` inside a formula is an atom named RULE, not the rule", node.span))
    last = text.rstrip("\n").rsplit("\n", 1)[-1] if text else ""
    if text and not text.endswith("\n") and "#" in last:
        line = text.count("\n") + 1
        col = last.index("#") + 1
        diags.append(dg.warning(
            codes.RVGEN_REJECTS,
            "comment on the last line without a new line: rvgen's grammar rejects the file",
            Span.point(file, line, col)))
    return diags


def _why(written: Formula) -> str:
    if isinstance(written, Unary):
        return (f"`{written.op.value}` takes everything to its right"
                " (the dialect has no precedence)")
    if isinstance(written, Binary) and written.op is not Op.RELEASE:
        return "binary operators group to the right (the dialect has no precedence)"
    return "the dialect has no precedence"
