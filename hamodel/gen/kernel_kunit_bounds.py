"""The bounds of a model a generated KUnit case decides: which, and how.

Input: the Automaton, the module parameters `<m>.c` defines and the binding's
definitions.  Output: the bounds (invariants, and guards on the clock) and the
`Knob`s: module parameters that bound a clock, which the cases set through
pointers in the ops table, long (a case never reaches them) or tiny (a case
overruns them).

Long is half the uptime for an ns bound (the framework's ns check wraps
while the uptime is below a bound, docs/semantics.md) and 10 s of jiffies
for a jiffy bound (the jiffy check never wraps).
"""

from __future__ import annotations

from dataclasses import dataclass

from hamodel.binding import Binding
from hamodel.model import Automaton, ClockKind, Symbol, Value, comparisons

# A bound that must not expire: half the uptime (below it, so the framework's
# ns check cannot wrap), or this many jiffies (a jiffy check never wraps).
LONG_JIFFIES = "10 * HZ"
# A bound that must expire: the smallest a parameter takes.
TINY_NS = 1000
TINY_JIFFIES = 1
# Literal bounds a case may wait out (a longer one gets no overrun case).
MAX_WAIT_NS = 20_000_000
MAX_WAIT_JIFFIES = 5
@dataclass(frozen=True, slots=True)
class Knob:
    """A module parameter the cases set through a pointer in the ops table: `long`
    and `tiny` are the C of the values they give it."""

    name: str
    jiffies: bool
    long: str
    tiny: str


def bounds(a: Automaton) -> list[Value]:
    out = [s.invariant.bound for s in a.states if s.invariant]
    out += [c.value for e in a.edges for c in comparisons(e.guard) if a.env(c.env).stored]
    return out


def jiffy_value(a: Automaton, v: Value) -> bool:
    """Whether a bound counts jiffies (compared with a jiffy clock)."""
    for s in a.states:
        if s.invariant and s.invariant.bound == v:
            return a.env(s.invariant.clock).clock_kind is ClockKind.JIFFIES
    for e in a.edges:
        for c in comparisons(e.guard):
            if c.value == v:
                return a.env(c.env).clock_kind is ClockKind.JIFFIES
    return False


def knobs(a: Automaton, module_params: tuple[str, ...], binding: Binding | None
          ) -> tuple[Knob, ...]:
    """Module parameters that bound a clock, directly or as a term of a definition."""
    out: dict[str, Knob] = {}
    for v in bounds(a):
        if not isinstance(v, Symbol):
            continue
        jiffies = jiffy_value(a, v)
        scale = v.unit.scale if v.unit else 1
        for name in knob_terms(v, module_params, binding):
            if jiffies:
                knob = Knob(name, True, LONG_JIFFIES, str(TINY_JIFFIES))
            else:
                divided = f" / {scale}" if scale > 1 else ""
                knob = Knob(name, False, f"ktime_get_ns() / 2{divided}",
                            str(max(TINY_NS // scale, 1)))
            out.setdefault(name, knob)
    return tuple(out[n] for n in module_params if n in out)


def knob_terms(v: Symbol, module_params: tuple[str, ...], binding: Binding | None
               ) -> tuple[str, ...]:
    """The module parameters a bound is, or sums."""
    if v.name in module_params:
        return (v.name,)
    if binding is None:
        return ()
    for d in binding.parameters:
        if d.name == v.name:
            return tuple(t for t in d.terms if isinstance(t, str) and t in module_params)
    return ()
