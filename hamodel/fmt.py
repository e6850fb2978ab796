"""Automaton -> DOT text in the kernel's canonical layout (`hamodel fmt`).

The layout is the one of tools/verification/models/*.dot: graph settings, one
`{node [shape = ...]}` group per state (initial marker first), the initial
arrow, then per state its label and its outgoing edges, and the rank block.
Parsing the output gives back an equal Automaton (tested).  The helpers that
print labels are shared with `hamodel show`.
"""

from __future__ import annotations

from hamodel.model import And, Automaton, Cmp, Edge, Guard, Invariant, Not, Number, Or, Value

_PRECEDENCE = {Or: 0, And: 1, Not: 2, Cmp: 3}


def value_text(value: Value) -> str:
    if isinstance(value, Number):
        if value.text:
            return value.text
        if value.unit is None:
            return str(value.value)
        scale = value.unit.scale
        if value.value % scale == 0:
            return f"{value.value // scale}{value.unit.value}"
        return f"{value.value}ns"
    return value.text


def guard_text(guard: Guard) -> str:
    """C-like text with the fewest parentheses that parse back to the same tree."""
    if isinstance(guard, Cmp):
        return f"{guard.env} {guard.op} {value_text(guard.value)}"
    if isinstance(guard, Not):
        inner = guard_text(guard.operand)
        return f"!({inner})"  # always bracketed: `!a == 1` would read oddly to a C reader
    op = "&&" if isinstance(guard, And) else "||"
    mine = _PRECEDENCE[type(guard)]
    left = guard_text(guard.left)
    if _PRECEDENCE[type(guard.left)] < mine:
        left = f"({left})"
    right = guard_text(guard.right)
    if _PRECEDENCE[type(guard.right)] <= mine:
        right = f"({right})"
    return f"{left} {op} {right}"


def invariant_text(inv: Invariant) -> str:
    return f"{inv.clock} {inv.op} {value_text(inv.bound)}"


def edge_line_text(edge: Edge) -> str:
    parts = [edge.event]
    if edge.guard is not None:
        parts.append(guard_text(edge.guard))
    parts += [f"reset({r.env})" for r in edge.resets]
    return ";".join(parts)


def _q(text: str) -> str:
    return '"' + text.replace('"', '\\"') + '"'


def format_dot(a: Automaton) -> str:
    init = "__init_" + a.initial.name
    out = ["digraph state_automaton {", "\tcenter = true;", '\tsize = "7,11";']
    out.append(f'\t{{node [shape = plaintext, style=invis, label=""] {_q(init)}}};')
    for s in a.states:
        shape = "doublecircle" if s.final else "circle"
        out.append(f"\t{{node [shape = {shape}] {_q(s.name)}}};")
    arrow = f"\t{_q(init)} -> {_q(a.initial.name)}"
    if a.init_resets:
        resets = ";".join(f"reset({r.env})" for r in a.init_resets)
        arrow += f" [ label = {_q(resets)} ]"
    out.append(arrow + ";")
    outgoing: dict[str, dict[str, list[Edge]]] = {s.name: {} for s in a.states}
    for e in a.edges:
        outgoing[e.src].setdefault(e.dst, []).append(e)
    for s in a.states:
        label = s.name + (f"\\n{invariant_text(s.invariant)}" if s.invariant else "")
        color = ", color = green3" if s.initial else ""
        out.append(f"\t{_q(s.name)} [label = {_q(label)}{color}];")
        for dst, edges in sorted(outgoing[s.name].items()):  # by destination, as upstream
            label = "\\n".join(edge_line_text(e) for e in edges)
            out.append(f"\t{_q(s.name)} -> {_q(dst)} [ label = {_q(label)} ];")
    out += ["\t{ rank = min ;", f"\t\t{_q(init)};", f"\t\t{_q(a.initial.name)};", "\t}", "}"]
    return "\n".join(out) + "\n"
