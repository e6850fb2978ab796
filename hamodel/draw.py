"""Automaton -> a picture (`hamodel draw`), through the graphviz package and `dot`.

States show their invariant, edges their events with guards and resets, the
initial state gets an arrow from a point, final states are double-circled.
"""

from __future__ import annotations

import graphviz

from hamodel.fmt import edge_line_text, invariant_text
from hamodel.model import Automaton

FORMATS = ("svg", "png", "pdf", "dot")


def to_graphviz(a: Automaton) -> graphviz.Digraph:
    g = graphviz.Digraph(a.name, graph_attr={"rankdir": "LR"}, node_attr={"fontsize": "11"})
    g.node("__init", label="", shape="point")
    for s in a.states:
        label = s.name + (f"\n{invariant_text(s.invariant)}" if s.invariant else "")
        g.node(s.name, label=label, shape="doublecircle" if s.final else "circle")
    resets = ";".join(f"reset({r.env})" for r in a.init_resets)
    g.edge("__init", a.initial.name, label=resets)
    groups: dict[tuple[str, str], list[str]] = {}
    for e in a.edges:
        groups.setdefault((e.src, e.dst), []).append(edge_line_text(e))
    for (src, dst), lines in groups.items():
        g.edge(src, dst, label="\n".join(lines))
    return g


def render(a: Automaton, fmt: str) -> bytes:
    """The picture's bytes; raises graphviz.ExecutableNotFound without `dot`."""
    g = to_graphviz(a)
    if fmt == "dot":
        return g.source.encode()
    return g.pipe(format=fmt)
