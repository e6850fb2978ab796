"""Hypothesis strategies: random well-formed automata and random timed inputs.

`automata()` builds Automaton values directly, in the canonical order that
build.py must produce (written again here, independently, so that a round trip
through text checks the builder's ordering too).  `timed_calls()` makes event
sequences for the semantics and the generated monitors.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

from hamodel.model import (
    And,
    Automaton,
    ClockKind,
    Cmp,
    Edge,
    Env,
    Event,
    Invariant,
    Not,
    Number,
    Or,
    Parameter,
    Reset,
    State,
    Symbol,
    SymbolKind,
    TimeUnit,
)

STATE_NAMES = ("idle", "busy", "s2", "wait_x", "zed")
EVENT_NAMES = ("ev_a", "ev_b", "go", "stop_x")
CLOCKS = ("clk", "t2")
VALUES = ("is_on",)
PARAM = "LIMIT_NS"


def numbers(unit_choices=(TimeUnit.NS, TimeUnit.US, TimeUnit.MS)) -> st.SearchStrategy[Number]:
    @st.composite
    def build(draw) -> Number:
        unit = draw(st.sampled_from(unit_choices))
        if unit is TimeUnit.MS and draw(st.booleans()):
            tenths = draw(st.integers(1, 50))
            text = f"{tenths // 10}.{tenths % 10}ms" if tenths % 10 else f"{tenths // 10}ms"
            return Number(tenths * 100_000, unit, text)
        n = draw(st.integers(1, 5000))
        return Number(n * unit.scale, unit, f"{n}{unit.value}")

    return build()


def clock_values(jiffies: bool, with_param: bool) -> st.SearchStrategy:
    if jiffies:
        return st.integers(1, 50).map(lambda n: Number(n, TimeUnit.JIFFIES, f"{n}j"))
    choices = [numbers()]
    if with_param:
        choices.append(st.just(Symbol(PARAM, True)))
    return st.one_of(*choices)


@st.composite
def guards(draw, clocks: tuple[str, ...], jiffy: frozenset[str], with_param: bool, depth=2):
    def leaf():
        options = [st.just(VALUES[0])] + [st.just(c) for c in clocks]
        env = draw(st.one_of(*options))
        if env in clocks:
            op = draw(st.sampled_from(("<", "<=", ">", ">=")))
            return Cmp(env, op, draw(clock_values(env in jiffy, with_param)))
        op = draw(st.sampled_from(("==", "!=")))
        n = draw(st.integers(0, 1))
        return Cmp(env, op, Number(n, None, str(n)))

    if depth == 0 or draw(st.integers(0, 2)) == 0:
        return leaf()
    kind = draw(st.sampled_from(("and", "or", "not")))
    if kind == "not":
        return Not(draw(guards(clocks, jiffy, with_param, depth - 1)))
    left = draw(guards(clocks, jiffy, with_param, depth - 1))
    right = draw(guards(clocks, jiffy, with_param, depth - 1))
    return (And if kind == "and" else Or)(left, right)


@st.composite
def automata(draw, max_states: int = 4, max_edges: int = 8, timed: bool = True) -> Automaton:
    n_states = draw(st.integers(1, max_states))
    names = list(STATE_NAMES[:n_states])
    initial = draw(st.sampled_from(names))
    others = sorted(n for n in names if n != initial)
    order = [initial] + others
    events = sorted(draw(st.sets(st.sampled_from(EVENT_NAMES), min_size=1)))
    clocks: tuple[str, ...] = ()
    jiffy: frozenset[str] = frozenset()
    with_param = False
    if timed:
        clocks = tuple(sorted(draw(st.sets(st.sampled_from(CLOCKS), max_size=2))))
        if clocks and draw(st.integers(0, 3)) == 0:
            jiffy = frozenset({clocks[-1]})
        with_param = bool(clocks) and draw(st.booleans())
    edges: list[Edge] = []
    for _ in range(draw(st.integers(0, max_edges))):
        src = draw(st.sampled_from(order))
        dst = draw(st.sampled_from(order))
        ev = draw(st.sampled_from(events))
        guard = None
        if timed and draw(st.booleans()):
            guard = draw(guards(clocks, jiffy, with_param))
        resets = ()
        if clocks and draw(st.booleans()):
            resets = tuple(Reset(c) for c in draw(st.lists(st.sampled_from(clocks), max_size=2)))
        edges.append(Edge(src, dst, ev, guard, resets))
    init_resets: tuple[Reset, ...] = ()
    if clocks:
        init_resets = tuple(Reset(c) for c in clocks if draw(st.booleans()))
    stored = {r.env for r in init_resets} | {r.env for e in edges for r in e.resets}
    states = []
    finals = set(draw(st.sets(st.sampled_from(order))))
    if not finals:
        finals = {initial}
    for name in order:
        inv = None
        if stored and draw(st.integers(0, 2)) == 0:
            clock = draw(st.sampled_from(sorted(stored)))
            op = draw(st.sampled_from(("<", "<=")))
            inv = Invariant(clock, op, draw(clock_values(clock in jiffy, with_param)))
        states.append(State(name, name == initial, name in finals, inv))
    # Only events that label some edge exist; the builder derives them the same way.
    used_events = sorted({e.event for e in edges})
    if not used_events:
        edges.append(Edge(initial, initial, events[0]))
        used_events = [events[0]]
    idx = {s: i for i, s in enumerate(order)}
    eidx = {e: i for i, e in enumerate(used_events)}
    edges.sort(key=lambda e: (idx[e.src], eidx[e.event], idx[e.dst]))
    return _finish(
        Automaton(
            name="rnd",
            states=tuple(states),
            events=tuple(Event(e) for e in used_events),
            envs=(),
            parameters=(),
            edges=tuple(edges),
            init_resets=init_resets,
        ),
        jiffy,
    )


def _finish(a: Automaton, jiffy: frozenset[str]) -> Automaton:
    """Derive envs and parameters as the kernel model rules say."""
    stored = {r.env for r in a.init_resets} | {r.env for e in a.edges for r in e.resets}
    compared: list = [s.invariant for s in a.states if s.invariant]
    for e in a.edges:
        stack = [e.guard] if e.guard else []
        while stack:
            g = stack.pop()
            if isinstance(g, Cmp):
                compared.append(g)
            elif isinstance(g, Not):
                stack.append(g.operand)
            else:
                stack += [g.left, g.right]
    used = {c.env if isinstance(c, Cmp) else c.clock for c in compared} | stored
    envs = tuple(
        Env(n, n in stored, (ClockKind.JIFFIES if n in jiffy else ClockKind.NS)
            if n in stored and any((c.env if isinstance(c, Cmp) else c.clock) == n
                                   for c in compared) else None)
        for n in sorted(stored) + sorted(used - stored)
    )
    has_param = any(
        isinstance(c.value if isinstance(c, Cmp) else c.bound, Symbol) for c in compared
    )
    params = (Parameter(PARAM, SymbolKind.MACRO, ClockKind.NS),) if has_param else ()
    return Automaton(a.name, a.states, a.events, envs, params, a.edges, a.init_resets)


# --- timed inputs ---------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """One input to a monitor: `kind` is start, stop, event, start_event or start_run_event."""

    time: int
    obj: int
    kind: str
    event: str | None = None
    env: tuple[tuple[str, int], ...] = ()


@st.composite
def timed_calls(draw, a: Automaton, objects: int = 2, max_calls: int = 25) -> list[Call]:
    """Non-decreasing times (often equal, to hit the ordering rules), starts first."""
    t = 0
    calls = [Call(0, obj, "start") for obj in range(objects)]
    values = [e.name for e in a.envs if not e.stored]
    for _ in range(draw(st.integers(0, max_calls))):
        step = draw(st.sampled_from((0, 1, 999, 1000, 1001, 250_000, 1_000_000, 4_000_000)))
        t += step * draw(st.integers(0, 3))
        obj = draw(st.integers(0, objects - 1))
        kind = draw(st.sampled_from(("event",) * 8 + ("start", "stop", "start_run_event")))
        if kind in ("start", "stop"):
            calls.append(Call(t, obj, kind))
            continue
        event = draw(st.sampled_from([e.name for e in a.events]))
        env = tuple((v, draw(st.integers(0, 1))) for v in values)
        calls.append(Call(t, obj, kind, event, env))
    return calls
