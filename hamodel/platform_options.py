"""The command-line options that choose a `semantics.Platform`, one spelling for all
commands that need one (check; replay and gen can add the same).

`--timer wheel|hrtimer`: the monitor's HA_TIMER_TYPE (default: the kind hamodel's
kernel-C generator chooses, `semantics.timer_kind`); `--tie event-first|timer-first`:
which runs first when an event and a timer callback fall on the same nanosecond;
`--timer-latency NS`: how long after its expiry a timer callback runs (`50us`).
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass

from hamodel.semantics import Tie, Timer

MAX_LATENCY_NS = (1 << 63) - 1  # a ktime_t
_DURATION = re.compile(r"([0-9]+)(ns|us|ms|s)?")
_SCALE = {"ns": 1, "us": 1_000, "ms": 1_000_000, "s": 1_000_000_000}


@dataclass(frozen=True, slots=True)
class PlatformChoice:
    timer: Timer | None
    tie: Tie | None
    latency_ns: int


def add_platform_options(p: argparse.ArgumentParser, tie_default: str | None) -> None:
    p.add_argument("--timer", choices=("wheel", "hrtimer"),
                   help="the monitor's timer (HA_TIMER_TYPE); default: the one hamodel gen"
                        " chooses (wheel when every invariant is on a jiffy clock)")
    tie_help = ("which runs first when an event and a timer callback fall on the same"
                " nanosecond")
    tie_help += f" (default: {tie_default})" if tie_default else " (default: both, a race)"
    p.add_argument("--tie", choices=("event-first", "timer-first"), help=tie_help)
    p.add_argument("--timer-latency", default="0", metavar="NS",
                   help="how long after its expiry a timer callback runs, an integer with"
                        " an optional ns, us, ms or s (default 0)")


def platform_choice(args: argparse.Namespace) -> PlatformChoice | str:
    """The choice, or a usage error to print."""
    m = _DURATION.fullmatch(args.timer_latency)
    latency = int(m[1]) * _SCALE[m[2] or "ns"] if m else -1
    if not 0 <= latency <= MAX_LATENCY_NS:
        return (f"--timer-latency {args.timer_latency!r}: expected an integer below 2^63 ns,"
                " optionally with ns, us, ms or s")
    timer = Timer(args.timer) if args.timer else None
    tie = Tie(args.tie) if args.tie else None
    return PlatformChoice(timer, tie, latency)
