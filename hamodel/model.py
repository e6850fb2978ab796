"""The typed automaton model: what build.py makes of a DotGraph.

Everything here is frozen and ordered (tuples, never sets), so two builds of the
same file compare equal and every consumer iterates in the kernel's order.
`span` fields are excluded from comparison: a model re-parsed from `hamodel fmt`
output equals the original even though every position moved.

Vocabulary follows Documentation/trace/rv/: a *state* may carry an *invariant*
on a *clock*; an *edge* is labelled with an *event*, an optional *guard* over
*envs* and *resets* of clocks.  An env that is reset anywhere is a clock (the
kernel "stores" it); other envs are read-only values supplied at each event.
Symbolic bounds (`BUDGET_NS()`, `threshold_jiffies`) are *parameters*.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from hamodel.source import Span


class TimeUnit(enum.Enum):
    """A unit as written after a number; `scale` converts to the clock's base unit."""

    NS = "ns"
    US = "us"
    MS = "ms"
    S = "s"
    JIFFIES = "j"

    @property
    def scale(self) -> int:
        return _SCALE[self]

    @property
    def is_jiffies(self) -> bool:
        return self is TimeUnit.JIFFIES


_SCALE = {
    TimeUnit.NS: 1,
    TimeUnit.US: 1_000,
    TimeUnit.MS: 1_000_000,
    TimeUnit.S: 1_000_000_000,
    TimeUnit.JIFFIES: 1,
}


class ClockKind(enum.Enum):
    """How a clock counts: the kernel's `ha_get_clk_ns` or `ha_get_clk_jiffy`."""

    NS = "ns"
    JIFFIES = "jiffies"


class SymbolKind(enum.Enum):
    """rvgen's four spellings of a symbolic value (automata.py `constraint_rule`)."""

    MACRO = "macro"  # UPPER()   - a macro taking the monitor, e.g. DEADLINE_NS(ha_mon)
    CONSTANT = "constant"  # UPPER     - a #define
    FUNCTION = "function"  # lower()   - a function of the monitor
    PARAMETER = "parameter"  # lower     - a module parameter


# --- values -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Number:
    """An integer constant in base units: ns for ns/us/ms/s, jiffies for j, else as is."""

    value: int
    unit: TimeUnit | None
    text: str = field(default="", compare=False)  # as written, e.g. "1.5ms"
    span: Span | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Symbol:
    """A symbolic value, resolved at run time; `unit` only when written after it."""

    name: str
    call: bool  # written with "()"
    unit: TimeUnit | None = None
    span: Span | None = field(default=None, compare=False)

    @property
    def kind(self) -> SymbolKind:
        upper = self.name == self.name.upper()
        if upper:
            return SymbolKind.MACRO if self.call else SymbolKind.CONSTANT
        return SymbolKind.FUNCTION if self.call else SymbolKind.PARAMETER

    @property
    def text(self) -> str:
        base = self.name + ("()" if self.call else "")
        return f"{base} {self.unit.value}" if self.unit else base


Value = Number | Symbol


# --- guards -------------------------------------------------------------------

COMPARISONS = ("==", "!=", "<", "<=", ">", ">=")


@dataclass(frozen=True, slots=True)
class Cmp:
    """`env OP value`."""

    env: str
    op: str
    value: Value
    span: Span | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class And:
    left: Guard
    right: Guard
    span: Span | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Or:
    left: Guard
    right: Guard
    span: Span | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Not:
    operand: Guard
    span: Span | None = field(default=None, compare=False)


Guard = Cmp | And | Or | Not


def comparisons(guard: Guard | None) -> tuple[Cmp, ...]:
    """Every comparison in a guard, left to right."""
    if guard is None:
        return ()
    if isinstance(guard, Cmp):
        return (guard,)
    if isinstance(guard, Not):
        return comparisons(guard.operand)
    return comparisons(guard.left) + comparisons(guard.right)


# --- automaton parts ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Invariant:
    """`clock < bound` or `clock <= bound` on a state, enforced by a timer."""

    clock: str
    op: str  # "<" or "<="
    bound: Value
    span: Span | None = field(default=None, compare=False)

    @property
    def strict(self) -> bool:
        return self.op == "<"


@dataclass(frozen=True, slots=True)
class Reset:
    env: str
    span: Span | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class State:
    name: str
    initial: bool
    final: bool
    invariant: Invariant | None = None
    span: Span | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Event:
    name: str
    span: Span | None = field(default=None, compare=False)  # first use


@dataclass(frozen=True, slots=True)
class Env:
    """An environment variable: a clock when `stored` (reset somewhere), else read-only."""

    name: str
    stored: bool
    clock_kind: ClockKind | None  # None: never compared with a unit (see diagnostics)
    span: Span | None = field(default=None, compare=False)  # first use

    @property
    def is_clock(self) -> bool:
        return self.stored


@dataclass(frozen=True, slots=True)
class Parameter:
    """A symbolic bound; `clock_kind` is the unit it is compared in, if known."""

    name: str
    kind: SymbolKind
    clock_kind: ClockKind | None
    span: Span | None = field(default=None, compare=False)  # first use


@dataclass(frozen=True, slots=True)
class Edge:
    """One transition: a single event of one label line of one edge statement."""

    src: str
    dst: str
    event: str
    guard: Guard | None = None
    resets: tuple[Reset, ...] = ()
    span: Span | None = field(default=None, compare=False)  # the label line

    @property
    def reset_envs(self) -> tuple[str, ...]:
        return tuple(r.env for r in self.resets)


@dataclass(frozen=True, slots=True)
class Automaton:
    """A whole model, in the kernel's order.

    states: initial first, then sorted by name; events: sorted by name;
    envs: stored (clocks) first sorted, then read-only sorted; edges: sorted by
    (source state, event, destination state) in that order, so that even a
    nondeterministic model has one canonical edge order.
    """

    name: str
    states: tuple[State, ...]
    events: tuple[Event, ...]
    envs: tuple[Env, ...]
    parameters: tuple[Parameter, ...]
    edges: tuple[Edge, ...]
    init_resets: tuple[Reset, ...] = ()  # `reset(clk)` on the __init_X -> X arrow
    file: str = field(default="", compare=False)

    # --- look-ups (cheap, derived; nothing here is stored twice) ---

    @property
    def initial(self) -> State:
        return self.states[0]

    @property
    def final_states(self) -> tuple[State, ...]:
        return tuple(s for s in self.states if s.final)

    @property
    def clocks(self) -> tuple[Env, ...]:
        return tuple(e for e in self.envs if e.stored)

    @property
    def is_hybrid(self) -> bool:
        return bool(self.envs)

    def state(self, name: str) -> State:
        for s in self.states:
            if s.name == name:
                return s
        raise KeyError(name)

    def env(self, name: str) -> Env:
        for e in self.envs:
            if e.name == name:
                return e
        raise KeyError(name)

    def state_index(self, name: str) -> int:
        return [s.name for s in self.states].index(name)

    def event_index(self, name: str) -> int:
        return [e.name for e in self.events].index(name)

    def edges_from(self, state: str, event: str | None = None) -> tuple[Edge, ...]:
        return tuple(
            e for e in self.edges if e.src == state and (event is None or e.event == event)
        )
