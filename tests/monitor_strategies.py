"""Hypothesis strategies for monitor differential tests: random automata, timed calls.

It complements tests/strategies.py (the model builder's): times here advance in
steps of a few ns or jiffies of a tiny tick, and bounds are a few of them, so
timers fire between and exactly at calls, and several objects' timers fall due
at the same instant; a call may also be placed at the next timer's instant (one
ns before, at, or after it).  Calls happen at absolute uptimes: right after
boot (the kernel's checks wrap while the uptime is below a bound) or much later.
Every monitor entry point (advance, start_event, start_run_event, reset) is
drawn, and a parameter may be missing, so refusals are compared too.

`automata()` draws small but complete hybrid automata (clocks in ns or jiffies,
read-only envs, symbolic and numeric bounds, some past a timer wheel level,
guards as trees, resets, invariants, self-loops, nondeterministic edges);
`timed_calls(a, tick)` draws what a kernel would feed a monitor of that
automaton; `platforms()` the kernel's circumstances (`hamodel.semantics.Platform`).
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

from hamodel.model import (
    COMPARISONS,
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
    TimeUnit,
)
from hamodel.semantics import Platform, Tie, Timer

# HZ: ticks of 4 and 10 ms, and of 1, 5 and 10 ns (jiffy clocks move between close calls)
HZ_CHOICES = (250, 100, 1_000_000_000, 200_000_000, 100_000_000)
LONG_UPTIME = 1 << 42  # about 73 minutes after boot: no bound here makes a check wrap
# Bounds at the edges of the timer wheel's levels (63, 504 jiffies) and of u64.
WIDE_NUMBERS = (62, 63, 64, 70, 503, 504, 520)
HUGE_NUMBERS = ((1 << 32) - 1, 1 << 32, (1 << 63) - 1, 1 << 63, (1 << 64) - 1)


@st.composite
def automata(draw, max_states: int = 4, max_events: int = 3, max_envs: int = 2) -> Automaton:
    n_states = draw(st.integers(1, max_states))
    states = [f"s{i}" for i in range(n_states)]
    events = [f"e{i}" for i in range(draw(st.integers(1, max_events)))]
    clock_kinds = draw(st.lists(st.sampled_from(ClockKind), max_size=2))
    clocks = [f"c{i}" for i in range(len(clock_kinds))]
    envs = [f"v{i}" for i in range(draw(st.integers(0, max_envs)))]
    params = [f"P{i}" for i in range(draw(st.integers(0, 2)))]

    def value():
        number = st.one_of(st.integers(0, 12), st.integers(0, 12), st.sampled_from(WIDE_NUMBERS),
                           st.sampled_from(HUGE_NUMBERS)).map(lambda n: Number(n, None))
        if not params:
            return number
        symbol = st.sampled_from(params).map(lambda p: Symbol(p, call=True))
        return st.one_of(number, symbol)

    def cmp():
        return st.builds(
            Cmp, st.sampled_from(clocks + envs), st.sampled_from(COMPARISONS), value()
        )

    guards = st.recursive(
        cmp() if clocks or envs else st.nothing(),
        lambda inner: st.one_of(
            st.builds(And, inner, inner), st.builds(Or, inner, inner), st.builds(Not, inner)
        ),
        max_leaves=3,
    )
    resets = st.lists(st.sampled_from(clocks), unique=True, max_size=2) if clocks else st.just([])

    edges = []
    for src in states:
        for event in events:
            for dst in sorted(draw(st.lists(st.sampled_from(states), max_size=2))):
                guard = draw(st.none() | guards) if clocks or envs else None
                reset = tuple(Reset(c) for c in draw(resets))
                edges.append(Edge(src, dst, event, guard, reset))
    edges.sort(key=lambda e: (e.src, e.event, e.dst))

    # States draw their invariants from a small pool, so that an edge often joins two
    # states with the same invariant (the generated monitor keeps the timer there).
    pool: list = [None]
    if clocks:
        invariant = st.builds(
            Invariant, st.sampled_from(clocks), st.sampled_from(("<", "<=")), value()
        )
        pool += draw(st.lists(invariant, min_size=1, max_size=2))
    state_records = [
        State(name, i == 0, draw(st.booleans()), draw(st.sampled_from(pool)))
        for i, name in enumerate(states)
    ]

    def unit(kind):
        return TimeUnit.JIFFIES if kind is ClockKind.JIFFIES else TimeUnit.NS

    return Automaton(
        name="random",
        states=tuple(state_records),
        events=tuple(Event(e) for e in events),
        envs=tuple(Env(c, True, k) for c, k in zip(clocks, clock_kinds, strict=True))
        + tuple(Env(v, False, None) for v in envs),
        parameters=tuple(Parameter(p, Symbol(p, True).kind, None) for p in params),
        edges=tuple(edges),
        init_resets=tuple(Reset(c) for c in draw(resets)),
    )


@dataclass(frozen=True)
class Call:
    """One call on a monitor: `op` is start | stop | event | start_event | start_run_event
    | reset | advance; `dt` is the time step before it, or, when `at_deadline` is set,
    the call comes that many ns after the next timer's instant (if one is armed and
    not past), or when `at_tick` is set, that many ns after the next jiffy begins, or
    when `at_limit` is (anchor, offset), that many ns after an instant where the
    invariant check of the object's state changes (test_gen_python.limits)."""

    op: str
    obj: int
    dt: int
    event: str = ""
    env: tuple[tuple[str, int], ...] = ()
    params: tuple[tuple[str, int], ...] | None = None
    at_deadline: int | None = None
    at_tick: int | None = None
    at_limit: tuple[int, int] | None = None


@st.composite
def uptimes(draw, tick: int = 1) -> int:
    """When the first call comes, in ns since boot."""
    return draw(st.one_of(st.integers(0, 30), st.sampled_from((tick - 1, tick, 64 * tick)),
                          st.just(LONG_UPTIME), st.just(LONG_UPTIME)))


@st.composite
def timed_calls(draw, a: Automaton, max_calls: int = 40, tick: int = 1) -> list[Call]:
    events = [e.name for e in a.events]
    envs = [e.name for e in a.envs if not e.stored]
    params = [p.name for p in a.parameters]
    ops = st.sampled_from(
        ["event"] * 6 + ["start", "stop", "start_event", "start_run_event", "advance", "reset"]
    )
    dts = st.one_of(st.just(0), st.just(0), st.integers(0, 6), st.integers(0, 40),
                    st.sampled_from((tick - 1, tick, tick + 1, 8 * tick)))
    deadlines = st.one_of(st.none(), st.none(), st.none(), st.sampled_from((-1, 0, 0, 1)),
                          st.integers(-6, 1))
    ticks = st.one_of(st.none(), st.none(), st.none(), st.none(), st.sampled_from((-1, 0, 1)))
    limits = st.one_of(st.none(), st.none(), st.none(), st.tuples(st.integers(0, 1),
                                                                  st.integers(-1, 1)))
    calls = [Call("start", 0, 0)]  # most interesting runs begin with a monitored object
    for _ in range(draw(st.integers(1, max_calls))):
        op = draw(ops)
        env: tuple[tuple[str, int], ...] = ()
        call_params = None
        if op == "start" and params and draw(st.booleans()):
            call_params = tuple((p, draw(st.integers(0, 12))) for p in params)
        if op in ("event", "start_event", "start_run_event"):
            env = tuple((v, draw(st.integers(0, 3))) for v in envs)
        calls.append(
            Call(op, draw(st.integers(0, 2)), draw(dts), draw(st.sampled_from(events)), env,
                 call_params, draw(deadlines), draw(ticks), draw(limits))
        )
    return calls


def default_params(a: Automaton, value: int = 7) -> dict[str, int]:
    return {p.name: value + i for i, p in enumerate(a.parameters)}


@st.composite
def platforms(draw, hz: int) -> Platform:
    """The kernel around the monitor: timer kind, same-instant order, callback latency."""
    tick = (1_000_000_000 + hz // 2) // hz
    return Platform(
        hz=hz,
        timer=draw(st.sampled_from((None, Timer.WHEEL, Timer.HRTIMER))),
        tie=draw(st.sampled_from(Tie)),
        latency_ns=draw(st.sampled_from((0, 0, 1, 3, tick))),
        wheel_clk_ahead=draw(st.booleans()),
    )
