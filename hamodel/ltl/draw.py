"""Büchi automaton -> a picture (`hamodel draw X.ltl`), through the graphviz package.

States are `S0`, `S1`, ... as the generated `<m>.h` numbers them, each with
the label that must hold to enter it; initial states get an arrow from a
point.  A state whose label can never hold is drawn dashed (rvgen keeps such
states; the kernel never enters them).
"""

from __future__ import annotations

import graphviz

from hamodel.ltl.buchi import Buchi, label_text
from hamodel.ltl.sat import can_enter


def to_graphviz(b: Buchi) -> graphviz.Digraph:
    g = graphviz.Digraph(b.name, graph_attr={"rankdir": "LR"}, node_attr={"fontsize": "11"})
    g.node("__init", label="", shape="point")
    for s in b.states:
        style = "solid" if can_enter(b, s.index) else "dashed"
        g.node(f"S{s.index}", label=f"S{s.index}\n{label_text(b, s.index)}", shape="box",
               style=f"rounded,{style}")
    for s in b.states:
        if s.initial:
            g.edge("__init", f"S{s.index}")
        for t in s.successors:
            g.edge(f"S{s.index}", f"S{t}")
    return g


def render(b: Buchi, fmt: str) -> bytes:
    """The picture's bytes; raises graphviz.ExecutableNotFound without `dot`."""
    g = to_graphviz(b)
    if fmt == "dot":
        return g.source.encode()
    return g.pipe(format=fmt)
