"""The framework's invariant checks and timers in the checker's integer time.

Input: an Automaton, a `semantics.Platform` and a parameter valuation.  Output:
per state with an invariant a `StateTiming`: the largest clock value at which
an event passes the framework's check, when the timer armed in the state
fires, and the last clock value at which an event still runs before it.

The checker's time unit is the model's clock kind: ns for ns clocks, jiffies
for jiffy clocks (events then sit on jiffy boundaries, which is where the
timer wheel fires).  A clock value `c` of a state's invariant clock is the
time since its reset, or, while that clock is unset, the time since the
timer was armed (`ha_invariant_passed_*` returns 0 for an unset clock, so
the timer counts from the arming).  Each rule names the code it follows
(include/rv/ha_monitor.h, kernel/time/timer.c); hamodel.semantics computes the
same sums on u64 values.

Exact cases: ns clocks on an hrtimer; jiffy clocks on the timer wheel while
every relative expiry stays below 63 jiffies (level 0 of the wheel); jiffy
clocks on an hrtimer while `jiffies_to_nsecs` does not wrap.  Otherwise the
firing instant depends on where in absolute time the timer was armed (the
wheel's coarser levels, the phase of an ns expiry inside its jiffy): then
`exact` is False, the timer may fire anywhere in [fire_lo, fire_hi] and the
checker says so (HA128) instead of choosing an instant.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from hamodel.check.constraints import INFINITE, resolve
from hamodel.model import Automaton, ClockKind
from hamodel.semantics import (
    LVL_CLK_SHIFT,
    LVL_SIZE,
    NSEC_PER_SEC,
    USEC_PER_SEC,
    Platform,
    Tie,
    Timer,
    tick_nsec,
    timer_kind,
)
from hamodel.source import Span

# The uptime at which witnesses start monitoring: one hour after boot, long past
# every bound the corpus uses, so no check wraps (HA125 is the exception).
DEFAULT_UPTIME_NS = 3_600 * NSEC_PER_SEC


class Unsupported(ValueError):
    """A model the checker cannot analyse exactly (said in the message, at `span`)."""

    def __init__(self, message: str, span: Span | None = None) -> None:
        super().__init__(message)
        self.span = span


@dataclass(frozen=True, slots=True)
class StateTiming:
    """How the framework enforces one state's invariant `clock < bound`.

    Values are in the checker's unit; None stands for "no such limit" (a
    parameter the analysis lets grow without bound).
    """

    clock: str
    bound: int | None
    # an event passes ha_check_invariant_* iff the (set) clock is <= pass_max;
    # arming with the clock above it gives a timer that never helps (EXPIRED)
    pass_max: int | None
    unset_passes: bool  # ns: U64_MAX >= anything; jiffy: time_after64 fails
    fire_lo: int | None  # the timer's callback runs at clock value fire_lo..fire_hi
    fire_hi: int | None
    event_max: int | None  # the largest clock value at which an event runs first
    exact: bool
    expired_fires: bool  # whether a timer armed on an expired invariant ever fires
    # armed with the clock exactly at the bound, the timer is due at once and runs
    # before any event at that instant (a jiffy clock on an hrtimer, timer first)
    expired_now: bool = False


@dataclass(frozen=True, slots=True)
class Timing:
    """The whole model's timing on one platform for one parameter valuation."""

    unit: ClockKind
    timer: Timer
    platform: Platform
    tick_ns: int
    states: Mapping[str, StateTiming]
    inexact: tuple[tuple[str, str], ...]  # (state, why its firing instant is a window)

    @property
    def scale(self) -> int:
        """ns per checker unit."""
        return self.tick_ns if self.unit is ClockKind.JIFFIES else 1

    @property
    def event_first(self) -> bool:
        return self.platform.tie is Tie.EVENT_FIRST


def clock_kind(a: Automaton) -> ClockKind:
    """The one time base of the model's clocks (the checker needs a single one)."""
    kinds = [c for c in a.clocks if c.clock_kind is not None]
    if any(c.clock_kind is not kinds[0].clock_kind for c in kinds):
        other = next(c for c in kinds if c.clock_kind is not kinds[0].clock_kind)
        raise Unsupported(f"clocks of both ns and jiffies in one model ({kinds[0].name},"
                          f" {other.name})", other.span)
    return kinds[0].clock_kind if kinds else ClockKind.NS


def platform_timer(a: Automaton, platform: Platform) -> Timer:
    return platform.timer or timer_kind(a)


def timing(a: Automaton, platform: Platform, params: Mapping[str, int]) -> Timing:
    unit = clock_kind(a)
    clocks = {c.name for c in a.clocks}
    timer = platform_timer(a, platform)
    tick = tick_nsec(platform.hz)
    states: dict[str, StateTiming] = {}
    reasons: list[tuple[str, str]] = []
    # states with the same clock and bound share one (immutable) timing: a large
    # model has many states and few distinct bounds
    same: dict[tuple[str, int | None], tuple[StateTiming, str]] = {}
    for s in a.states:
        inv = s.invariant
        if inv is None:
            continue
        if inv.clock not in clocks:
            raise Unsupported(f"invariant of {s.name} is on {inv.clock}, which is not a clock",
                              inv.span or s.span)
        b = resolve(inv.bound, params)
        bound = None if b == INFINITE else b
        done = same.get((inv.clock, bound))
        if done is None:
            done = same[(inv.clock, bound)] = _state_timing(inv.clock, bound, unit, timer,
                                                            platform, tick)
        st, why = done
        states[s.name] = st
        if why:
            reasons.append((s.name, why))
    return Timing(unit, timer, platform, tick, states, tuple(reasons))


@dataclass(frozen=True, slots=True)
class Rule:
    """The timing of a bound B as offsets from B, valid while B <= `limit`.

    For a symbolic bound (witnesses with a free parameter) the encoding uses
    these offsets and keeps B within the limit; `limit` < 0: no exact regime.
    On the wheel the offsets are those of level 0, and at coarser levels the
    callback only comes later: an event they allow still comes before it.
    """

    pass_off: int
    fire_off: int
    event_off: int
    limit: int | None  # None: every bound


def rule(unit: ClockKind, timer: Timer, p: Platform) -> Rule:
    tick = tick_nsec(p.hz)
    first = p.tie is Tie.EVENT_FIRST
    lat = p.latency_ns
    if unit is ClockKind.NS:
        if timer is Timer.HRTIMER:
            # hrtimer_start(B - passed) relative: fires at clk == B, latency later
            return Rule(0, lat, lat if first else lat - 1, None)
        return Rule(0, 1 + lat, 1 + lat, -1)  # the wheel's phase: no exact regime
    # An expiry on a jiffy boundary (events sit on boundaries) plus the latency:
    # an event in the expiry's jiffy runs first unless the callback is due
    # exactly at that boundary and the tie goes to the timer.
    extra, frac = divmod(lat, tick)
    before = 0 if frac or first else -1
    if timer is Timer.WHEEL:
        # mod_timer(jiffies + B - passed): at level 0 (< 63 jiffies) it fires at expires + 1
        return Rule(-1, 1 + extra, 1 + extra + before, None)
    # hrtimer_start(jiffies_to_nsecs(B - passed)) from the event's ns: exact while
    # jiffies_to_usecs() neither rounds nor wraps its unsigned int
    usecs = USEC_PER_SEC // p.hz
    limit = ((1 << 32) - 1) // usecs if USEC_PER_SEC % p.hz == 0 else -1
    return Rule(-1, extra, extra + before, limit)


def _state_timing(
    clock: str, bound: int | None, unit: ClockKind, timer: Timer, p: Platform, tick: int
) -> tuple[StateTiming, str]:
    jiffy = unit is ClockKind.JIFFIES
    if bound is None:
        return StateTiming(clock, None, None, not jiffy, None, None, None, True, False), ""
    r = rule(unit, timer, p)
    pass_max = bound + r.pass_off
    expired_fires = not (unit is ClockKind.NS and timer is Timer.HRTIMER)  # ktime_add_safe
    now = jiffy and timer is Timer.HRTIMER and p.tie is Tie.TIMER_FIRST and not p.latency_ns
    level0 = not (jiffy and timer is Timer.WHEEL) or _wheel_level(bound, p) == 0
    if level0 and (r.limit is None or bound <= r.limit):
        fire = bound + r.fire_off
        return StateTiming(clock, bound, pass_max, not jiffy, fire, fire, bound + r.event_off,
                           True, expired_fires, now), ""
    if jiffy and timer is Timer.WHEEL:
        level = _wheel_level(bound, p)
        gran = 1 << (level * LVL_CLK_SHIFT)
        hi = bound + gran + p.latency_ns // tick
        why = (f"a wheel timer {bound} jiffies ahead is filed at level {level} and fires"
               f" 1 to {gran} jiffies after its expiry, depending on the absolute jiffy")
        return StateTiming(clock, bound, pass_max, False, bound + r.fire_off, hi, hi, False,
                           True), why
    if jiffy:
        why = (f"jiffies_to_nsecs({bound}) is not a whole number of jiffies or wraps its"
               " unsigned int: the hrtimer may fire at any time")
        return StateTiming(clock, bound, pass_max, False, 0, None, None, False, True), why
    # ns clock on the wheel: nsecs_to_jiffies(B - passed + TICK_NSEC - 1) jiffies from
    # the current one, then the bucket: the phase inside the jiffy decides.
    ticks = -(-bound // (NSEC_PER_SEC // p.hz))
    gran = 1 << (_wheel_level(ticks, p) * LVL_CLK_SHIFT)
    hi = bound + (gran + 1) * tick + p.latency_ns
    why = (f"an ns bound on the timer wheel fires 1 ns to {(gran + 1) * tick} ns after it,"
           " depending on where in its jiffy the timer was armed")
    return StateTiming(clock, bound, pass_max, True, bound + r.fire_off, hi, hi, False,
                       True), why


def _wheel_level(delta: int, p: Platform) -> int:
    """The wheel level (kernel/time/timer.c calc_wheel_index) of the largest delta."""
    delta -= int(p.wheel_clk_ahead)
    depth = 9 if p.hz > 100 else 8
    level = 0
    while level < depth - 1 and delta >= (LVL_SIZE - 1) << (level * LVL_CLK_SHIFT):
        level += 1
    return level
