"""DotGraph -> Automaton: the rules of the extended DOT dialect, and the kernel's order.

Nothing is dropped and nothing is left to hash order:
* a state is declared by node statements; the first shape given to it decides
  whether it is final (`doublecircle`/`ellipse`), as the kernel models expect when
  they declare a state twice; if no state is final, the initial state is (rvgen);
* a state has at most one label (a second, different one is an error);
* every label line of every edge statement becomes an Edge; a second statement
  between the same two states adds its events (with a warning);
* two edges for one (state, event) are both kept and flagged as nondeterministic;
* names must be C identifiers, no C keywords, and must not collide once the
  generators add their `_<monitor>` suffixes.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

from hamodel import diagnostics as dg
from hamodel.diagnostics import Diagnostic, Note
from hamodel.model import (
    Automaton,
    ClockKind,
    Cmp,
    Edge,
    Env,
    Event,
    Guard,
    Invariant,
    Number,
    Parameter,
    Reset,
    State,
    Symbol,
    comparisons,
)
from hamodel.parse import (
    Attr,
    DotGraph,
    EdgeStmt,
    NodeStmt,
    Text,
    parse_edge_label,
    parse_init_label,
    parse_state_label,
)
from hamodel.source import Span

UNREACHABLE = dg.register("HA024", "unreachable-state", "add an edge into the state, or drop it")
BARE_BOUND = dg.register(
    "HA025", "bare-bound-beside-unit", "write the unit you mean on this bound too: 10ms, 10us, 10j"
)

INIT_MARKER = "__init_"
FINAL_SHAPES = ("doublecircle", "ellipse")
MAX_HA_ENV_LEN = 1  # include/rv/ha_monitor.h: stored envs per monitor

C_KEYWORDS = frozenset(
    """auto break case char const continue default do double else enum extern float for goto
    if inline int long register restrict return short signed sizeof static struct switch
    typedef union unsigned void volatile while _Alignas _Alignof _Atomic _Bool _Complex
    _Generic _Imaginary _Noreturn _Static_assert _Thread_local bool true false asm typeof
    alignas alignof constexpr nullptr static_assert thread_local""".split()
)
# Names the generators emit next to the model's own (`state_max_<m>`, ...);
# `none` is what the kernel prints as the event of a timer violation.
RESERVED = frozenset({"state_max", "event_max", "env_max", "env_max_stored", "none"})
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def is_c_identifier(name: str) -> bool:
    return bool(_IDENT.match(name)) and name not in C_KEYWORDS


@dataclass
class _Node:
    name: Text
    statements: list[NodeStmt] = field(default_factory=list)


def build(graph: DotGraph, name: str) -> tuple[Automaton | None, list[Diagnostic]]:
    """Judge a DotGraph and make the Automaton; None when any error was found."""
    b = _Builder(graph)
    automaton = b.run(name)
    diags = sorted(b.diags, key=dg.sort_key)
    if dg.has_errors(diags):
        return None, diags
    return automaton, diags


class _Builder:
    def __init__(self, graph: DotGraph) -> None:
        self.g = graph
        self.diags: list[Diagnostic] = []

    def err(self, code: str, message: str, span: Span | None, *notes: Note) -> None:
        self.diags.append(dg.error(code, message, span, *notes))

    def warn(self, code: str, message: str, span: Span | None, *notes: Note) -> None:
        self.diags.append(dg.warning(code, message, span, *notes))

    # --- the whole job ---

    def run(self, name: str) -> Automaton | None:
        g = self.g
        if g.kind.value.lower() != "digraph":
            self.err(dg.NOT_DIGRAPH, "an automaton is a `digraph`, not a `graph`", g.kind.span)
        nodes = self._nodes()
        markers = [n for n in nodes.values() if n.name.value.startswith(INIT_MARKER)]
        states = {k: n for k, n in nodes.items() if not k.startswith(INIT_MARKER)}
        initial = self._initial(markers, states)
        labels = {k: self._state_label(n) for k, n in states.items()}
        edges, init_resets, used = self._edges(nodes, initial)
        self._bare_nodes(states, used)
        if initial is None or self._has_errors():
            return None
        finals = {k for k, n in states.items() if self._first_shape(n) in FINAL_SHAPES}
        if not finals:
            finals = {initial}
        order = [initial] + sorted(k for k in states if k != initial)
        state_objs = tuple(
            State(k, k == initial, k in finals, labels[k], states[k].statements[0].span)
            for k in order
        )
        event_names = sorted({e.event for e in edges})
        first_use = {}
        for e in edges:
            first_use.setdefault(e.event, e.span)
        events = tuple(Event(n, first_use[n]) for n in event_names)
        idx_s = {s: i for i, s in enumerate(order)}
        idx_e = {e: i for i, e in enumerate(event_names)}
        edges = sorted(edges, key=lambda e: (idx_s[e.src], idx_e[e.event], idx_s[e.dst]))
        envs, params = self._envs(state_objs, edges, init_resets)
        automaton = Automaton(
            name=name,
            states=state_objs,
            events=events,
            envs=envs,
            parameters=params,
            edges=tuple(edges),
            init_resets=init_resets,
            file=g.file,
        )
        self._names(automaton, nodes)
        self._nondeterminism(automaton)
        self._reachability(automaton)
        return None if self._has_errors() else automaton

    def _has_errors(self) -> bool:
        return dg.has_errors(self.diags)

    # --- nodes and states ---

    def _nodes(self) -> dict[str, _Node]:
        nodes: dict[str, _Node] = {}
        for stmt in self.g.nodes:
            node = nodes.setdefault(stmt.name.value, _Node(stmt.name))
            node.statements.append(stmt)
        return nodes

    @staticmethod
    def _attr(stmt: NodeStmt | EdgeStmt, key: str, defaults: bool = True) -> Attr | None:
        for a in reversed(stmt.attrs):
            if a.key.value == key:
                return a
        if defaults:
            for a in reversed(stmt.defaults):
                if a.key.value == key:
                    return a
        return None

    def _first_shape(self, node: _Node) -> str | None:
        for stmt in node.statements:
            shape = self._attr(stmt, "shape")
            if shape is not None:
                return shape.value.value
        return None

    def _initial(self, markers: list[_Node], states: dict[str, _Node]) -> str | None:
        if not markers:
            self.err(
                dg.INIT_MARKER,
                "no initial state: declare a node `__init_X` and an arrow `__init_X -> X`",
                self.g.kind.span,
            )
            return None
        first = markers[0]
        for extra in markers[1:]:
            self.err(
                dg.INIT_MARKER,
                f"second initial-state marker {extra.name.value!r}: a model has one initial state",
                extra.statements[0].span,
                Note(f"first marker {first.name.value!r} here", first.statements[0].span),
            )
        target = first.name.value[len(INIT_MARKER):]
        if target not in states:
            self.err(
                dg.INIT_MARKER,
                f"marker {first.name.value!r} names state {target!r}, which is not declared",
                first.statements[0].span,
            )
            return None
        return target

    def _state_label(self, node: _Node) -> Invariant | None:
        labelled = [(s, a) for s in node.statements if (a := self._attr(s, "label", False))]
        if not labelled:
            return None
        first_stmt, first = labelled[0]
        for _stmt, other in labelled[1:]:
            if other.value.value != first.value.value:
                self.err(
                    dg.LABEL_TWICE,
                    f"state {node.name.value!r} is labelled twice, differently",
                    other.value.span,
                    Note("first label here", first.value.span),
                )
        label, diags = parse_state_label(first.value)
        self.diags.extend(diags)
        if label is None:
            return None
        if label.name != node.name.value:
            self.err(
                dg.LABEL_NAME,
                f"the label of state {node.name.value!r} names {label.name!r}"
                f" (expected {node.name.value!r} as its first line)",
                label.name_span,
            )
        return label.invariant

    def _bare_nodes(self, states: dict[str, _Node], used: set[str]) -> None:
        for key, node in states.items():
            bare = all(not s.attrs and not s.defaults and not s.in_group for s in node.statements)
            if bare and key not in used:
                self.err(
                    dg.BARE_NODE,
                    f"bare node {key!r}: no shape, no label and no edges, it is not a state",
                    node.statements[0].span,
                )

    # --- edges ---

    def _edges(
        self, nodes: dict[str, _Node], initial: str | None
    ) -> tuple[list[Edge], tuple[Reset, ...], set[str]]:
        edges: list[Edge] = []
        init_resets: tuple[Reset, ...] = ()
        init_arrow: EdgeStmt | None = None
        seen_pairs: dict[tuple[str, str], EdgeStmt] = {}
        used: set[str] = set()
        for stmt in self.g.edges:
            ends = self._edge_ends(stmt, nodes)
            if ends is None:
                continue
            src, dst = ends
            used.update(ends)
            label = self._attr(stmt, "label")
            if src.startswith(INIT_MARKER) or dst.startswith(INIT_MARKER):
                if dst.startswith(INIT_MARKER) or dst != src[len(INIT_MARKER):]:
                    self.err(
                        dg.INIT_MARKER,
                        f"the only edge of marker {src if src.startswith(INIT_MARKER) else dst!r}"
                        f" is the arrow to its state",
                        stmt.span,
                    )
                    continue
                if init_arrow is not None:
                    self.err(
                        dg.INIT_MARKER,
                        "second initial arrow",
                        stmt.span,
                        Note("first one here", init_arrow.span),
                    )
                    continue
                init_arrow = stmt
                if label is not None and label.value.value:
                    resets, diags = parse_init_label(label.value)
                    self.diags.extend(diags)
                    init_resets = resets or ()
                continue
            if label is None or not label.value.value.strip():
                self.err(
                    dg.UNLABELLED_EDGE,
                    f"edge {src} -> {dst} has no label (expected its events)",
                    stmt.span,
                )
                continue
            previous = seen_pairs.get((src, dst))
            if previous is not None:
                self.warn(
                    dg.REPEATED_EDGE,
                    f"second edge statement {src} -> {dst}: its events are added to the first's"
                    " (rvgen drops them)",
                    stmt.span,
                    Note("first statement here", previous.span),
                )
            else:
                seen_pairs[(src, dst)] = stmt
            lines, diags = parse_edge_label(label.value)
            self.diags.extend(diags)
            for line in lines or ():
                if len(line.guards) > 1:
                    self.err(
                        dg.LABEL_SYNTAX,
                        f"event {line.event!r} has {len(line.guards)} guards"
                        " (expected one: join them with &&)",
                        line.span,
                    )
                    continue
                guard: Guard | None = line.guards[0] if line.guards else None
                edges.append(Edge(src, dst, line.event, guard, line.resets, line.span))
        if initial is not None and init_arrow is None:
            self.err(
                dg.INIT_MARKER,
                f"no arrow `{INIT_MARKER}{initial} -> {initial}`",
                nodes[INIT_MARKER + initial].statements[0].span,
            )
        return edges, init_resets, used

    def _edge_ends(self, stmt: EdgeStmt, nodes: dict[str, _Node]) -> tuple[str, str] | None:
        for op in stmt.ops:
            if op.value != "->":
                self.err(dg.NOT_DIGRAPH, "`--` in a digraph (expected `->`)", op.span)
                return None
        if len(stmt.ends) > 2:
            self.err(
                dg.EDGE_CHAIN,
                "edge chain: an edge statement joins exactly two states",
                stmt.ops[1].span,
            )
            return None
        names: list[str] = []
        for end, span in zip(stmt.ends, stmt.end_spans, strict=True):
            if end is None:
                self.err(dg.SYNTAX, "a subgraph as an edge end (expected a state)", span)
                return None
            if end.value not in nodes:
                self.err(
                    dg.UNDECLARED_NODE,
                    f"edge names {end.value!r}, which no node statement declares",
                    end.span,
                )
                return None
            names.append(end.value)
        return names[0], names[1]

    # --- envs, clocks and parameters ---

    def _envs(
        self, states: tuple[State, ...], edges: list[Edge], init_resets: tuple[Reset, ...]
    ) -> tuple[tuple[Env, ...], tuple[Parameter, ...]]:
        first_use: dict[str, Span | None] = {}
        stored: set[str] = set()
        uses: dict[str, list[tuple[Cmp | Invariant, ClockKind | None]]] = defaultdict(list)
        symbols: list[Symbol] = []
        for r in init_resets + tuple(r for e in edges for r in e.resets):
            first_use.setdefault(r.env, r.span)
            stored.add(r.env)
        compared: list[Cmp | Invariant] = [s.invariant for s in states if s.invariant]
        compared += [c for e in edges for c in comparisons(e.guard)]
        for c in compared:
            env = c.env if isinstance(c, Cmp) else c.clock
            first_use.setdefault(env, c.span)
            value = c.value if isinstance(c, Cmp) else c.bound
            uses[env].append((c, _unit_kind(value)))
            if isinstance(value, Symbol):
                symbols.append(value)
                if value.unit is not None:
                    self.warn(
                        dg.UNIT_AFTER_SYMBOL,
                        f"unit after a symbol: {value.name} is read in {value.unit.value}, so the"
                        f" bound is {value.name} * {value.unit.scale}"
                        f" {'jiffies' if value.unit.is_jiffies else 'ns'} (rvgen drops the unit)",
                        value.span,
                    )
        for s in states:
            if s.invariant and s.invariant.clock not in stored:
                self.err(
                    dg.INVARIANT_NOT_CLOCK,
                    f"invariant on {s.invariant.clock!r}, which is never reset: only a clock"
                    " can have an invariant (a timer enforces it)",
                    s.invariant.span,
                )
        kinds: dict[str, ClockKind | None] = {}
        for env in first_use:
            kinds[env] = self._clock_kind(env, env in stored, uses.get(env, []))
        envs = tuple(
            Env(n, n in stored, kinds[n] if n in stored else None, first_use[n])
            for n in sorted(stored) + sorted(set(first_use) - stored)
        )
        if len(stored) > MAX_HA_ENV_LEN:
            names = ", ".join(sorted(stored))
            self.warn(
                dg.KERNEL_LIMIT,
                f"{len(stored)} clocks are reset ({names}): the kernel stores at most"
                f" MAX_HA_ENV_LEN = {MAX_HA_ENV_LEN}; kernel C cannot be generated for this model",
                first_use[sorted(stored)[1]],
            )
        return envs, self._parameters(symbols, uses)

    def _clock_kind(
        self, env: str, stored: bool, uses: list[tuple[Cmp | Invariant, ClockKind | None]]
    ) -> ClockKind | None:
        known = [(c, k) for c, k in uses if k is not None]
        if not stored:
            for c, _ in known:
                self.warn(
                    dg.UNIT_ON_VALUE,
                    f"{env!r} is never reset, so it is a value read at the event, not a clock;"
                    " its unit means nothing",
                    c.span,
                )
            return None
        if not known:
            if uses:
                self.warn(
                    dg.NO_UNIT,
                    f"clock {env!r} is compared without a unit: hamodel reads the bound as ns"
                    " (rvgen then generates no clock code at all)",
                    uses[0][0].span,
                )
            return None
        first_cmp, kind = known[0]
        base = "jiffies" if kind is ClockKind.JIFFIES else "ns"
        for c, k in uses:
            value = c.value if isinstance(c, Cmp) else c.bound
            if k is None and isinstance(value, Number):
                # `clk < 10` beside `clk < 50ms` reads as 10 ns: almost never what was meant.
                self.warn(
                    BARE_BOUND,
                    f"bound {value.text or value.value} has no unit, but clock {env!r} is"
                    f" compared with {_bound_text(first_cmp)} elsewhere: it is read as"
                    f" {value.value} {base}",
                    value.span or c.span,
                    Note(f"a bound of {env!r} with a unit", _bound_span(first_cmp)),
                )
        for c, other in known[1:]:
            if other is not kind:
                self.err(
                    dg.CONFLICTING_UNITS,
                    f"clock {env!r} is compared in {other.value} here but in {kind.value} before",
                    c.span,
                    Note("first comparison here", first_cmp.span),
                )
                break
        return kind

    def _parameters(
        self, symbols: list[Symbol], uses: dict[str, list[tuple[Cmp | Invariant, ClockKind | None]]]
    ) -> tuple[Parameter, ...]:
        by_name: dict[str, Symbol] = {}
        for s in symbols:
            first = by_name.setdefault(s.name, s)
            if first.call != s.call:
                self.err(
                    dg.SHAPE_CONFLICT,
                    f"{s.name} is written with and without '()': one parameter, one spelling",
                    s.span,
                    Note("other spelling here", first.span),
                )
        kind_of: dict[str, ClockKind | None] = {}
        for env_uses in uses.values():
            env_kind = next((k for _, k in env_uses if k), None)
            for c, _ in env_uses:
                value = c.value if isinstance(c, Cmp) else c.bound
                if isinstance(value, Symbol):
                    kind_of.setdefault(value.name, env_kind)
        return tuple(
            Parameter(n, by_name[n].kind, kind_of.get(n), by_name[n].span) for n in sorted(by_name)
        )

    # --- names ---

    def _names(self, a: Automaton, nodes: dict[str, _Node]) -> None:
        if not is_c_identifier(a.name) or a.name in RESERVED:
            self.err(
                dg.BAD_NAME,
                f"monitor name {a.name!r} is not a C identifier (rename the file or pass -n)",
                None,
            )
        owners: dict[str, tuple[str, Span | None]] = {}
        named = [("state", s.name, s.span) for s in a.states]
        named += [("event", e.name, e.span) for e in a.events]
        named += [("env", e.name, e.span) for e in a.envs]
        for what, name, span in named:
            if what == "state" and name in nodes:
                span = nodes[name].name.span
            if not is_c_identifier(name):
                why = "a C keyword" if name in C_KEYWORDS else "not a C identifier"
                self.err(dg.BAD_NAME, f"{what} name {name!r} is {why}", span)
            elif name in RESERVED:
                self.err(dg.BAD_NAME, f"{what} name {name!r} is reserved for generated code", span)
            elif name in owners:
                other, other_span = owners[name]
                self.err(
                    dg.NAME_CLASH,
                    f"{what} {name!r} has the name of {other} {name!r}"
                    " (both become the C enum constant"
                    f" {name}_{a.name})",
                    span,
                    Note(f"the {other} is here", other_span),
                )
            else:
                owners[name] = (what, span)
        for p in a.parameters:
            if p.name in C_KEYWORDS:
                self.err(dg.BAD_NAME, f"parameter name {p.name!r} is a C keyword", p.span)

    # --- whole-model warnings ---

    def _nondeterminism(self, a: Automaton) -> None:
        groups: dict[tuple[str, str], list[Edge]] = defaultdict(list)
        for e in a.edges:
            groups[(e.src, e.event)].append(e)
        for (src, event), group in groups.items():
            if len(group) < 2:
                continue
            first = group[0]
            for other in group[1:]:
                self.warn(
                    dg.NONDETERMINISTIC,
                    f"event {event!r} has two edges from {src!r}: to {first.dst!r} and to"
                    f" {other.dst!r}; the kernel's table keeps one next state per (state,"
                    " event), the first edge's, and joins the guards of edges to it",
                    other.span,
                    Note(f"edge {src} -> {first.dst} here", first.span),
                )

    def _reachability(self, a: Automaton) -> None:
        successors: dict[str, set[str]] = defaultdict(set)
        for e in a.edges:
            successors[e.src].add(e.dst)
        reached = {a.initial.name}
        frontier = [a.initial.name]
        while frontier:
            for dst in successors[frontier.pop()] - reached:
                reached.add(dst)
                frontier.append(dst)
        for s in a.states:
            if s.name not in reached:
                self.warn(
                    UNREACHABLE,
                    f"state {s.name!r} cannot be reached from {a.initial.name!r}"
                    " by any sequence of events",
                    s.span,
                )


def _bound_text(c: Cmp | Invariant) -> str:
    value = c.value if isinstance(c, Cmp) else c.bound
    return value.text if isinstance(value, Symbol) or value.text else str(value.value)


def _bound_span(c: Cmp | Invariant) -> Span | None:
    value = c.value if isinstance(c, Cmp) else c.bound
    return value.span or c.span


def _unit_kind(value: Number | Symbol) -> ClockKind | None:
    """The clock kind a bound implies: its unit, or rvgen's `_ns`/`_jiffies` name suffix."""
    unit = value.unit
    if unit is not None:
        return ClockKind.JIFFIES if unit.is_jiffies else ClockKind.NS
    if isinstance(value, Symbol):
        lowered = value.name.lower()
        if lowered.endswith("_ns"):
            return ClockKind.NS
        if lowered.endswith("_jiffies"):
            return ClockKind.JIFFIES
    return None
