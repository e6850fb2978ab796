"""The text of an LTL monitor's trace events, as include/rv/ltl_monitor.h prints them.

`ltl_trace_event()` prints `event_<m>` through the `event_ltl_monitor_id`
class of kernel/trace/rv/rv_trace.h:

    <comm>[<pid>]: (<states>) x (<atoms>) -> (<next>)

the states as the kernel's `%*pbl` list of ranges (`0-2,5`) in a 32-byte
buffer, the atoms that hold by their `ltl_atom_str()` names, joined by commas
in a 64-byte `seq_buf`; text that does not fit is cut (the newest sleep
monitor's 15 names take 106 characters).  `ltl_illegal_state()` prints
`error_<m>` (`<comm>[<pid>]: violation detected`) and reacts with
`rv: <m>: <comm>[<pid>]: violation detected`.

Rendering is what the tests compare the kernel's own output with; parsing is
what `hamodel replay` reads a recorded trace with.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

STATES_BUFFER = 32  # char states[32], next[32] in ltl_trace_event()
ATOMS_BUFFER = 64  # DECLARE_SEQ_BUF(atoms, 64)


def bitmap_list(bits: Iterable[int]) -> str:
    """`%*pbl` of the set bits: runs of two or more as `first-last`."""
    ordered = sorted(set(bits))
    parts: list[str] = []
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        parts.append(str(ordered[i]) if i == j else f"{ordered[i]}-{ordered[j]}")
        i = j + 1
    return ",".join(parts)


def _fit(text: str, buffer: int) -> str:
    """What a C buffer of `buffer` bytes keeps of `text` (one byte for the NUL)."""
    return text[: buffer - 1]


def event_text(monitor: str, comm: str, pid: int, states: Iterable[int],
               names: Iterable[str], nxt: Iterable[int]) -> str:
    """`event_<m>: ...` for a step from `states` to `nxt` with atoms `names` true (in the
    order of `enum ltl_atom`)."""
    return (f"event_{monitor}: {comm}[{pid}]: ({_fit(bitmap_list(states), STATES_BUFFER)}) x"
            f" ({_fit(','.join(names), ATOMS_BUFFER)}) ->"
            f" ({_fit(bitmap_list(nxt), STATES_BUFFER)})")


def error_text(monitor: str, comm: str, pid: int) -> str:
    return f"error_{monitor}: {comm}[{pid}]: violation detected"


def react_text(monitor: str, comm: str, pid: int) -> str:
    return f"rv: {monitor}: {comm}[{pid}]: violation detected"


# --- reading ------------------------------------------------------------------------------

EVENT = re.compile(r"\bevent_(?P<monitor>\w+): (?P<comm>.*)\[(?P<pid>-?\d+)\]:"
                   r" \((?P<states>[0-9,\-]*)\) x \((?P<atoms>[a-z0-9_,]*)\)"
                   r" -> \((?P<next>[0-9,\-]*)\)\s*$")
ERROR = re.compile(r"\berror_(?P<monitor>\w+): (?P<comm>.*)\[(?P<pid>-?\d+)\]:"
                   r" violation detected\s*$")


class ListError(ValueError):
    """A state list that is no `%*pbl` text."""


def parse_bitmap_list(text: str) -> tuple[int, ...]:
    """`0-2,5` -> (0, 1, 2, 5)."""
    out: list[int] = []
    for part in text.split(",") if text else ():
        first, dash, last = part.partition("-")
        if not first.isdigit() or (dash and not last.isdigit()):
            raise ListError(f"({text}) is not a list of states such as (0-2,5)")
        low, high = int(first), int(last or first)
        if high < low or high >= 1 << 16:
            raise ListError(f"({text}) is not a list of states such as (0-2,5)")
        out += range(low, high + 1)
    return tuple(out)


@dataclass(frozen=True, slots=True)
class EventLine:
    """One `event_<m>` line read back.  `cut`: a field filled its buffer, so its end may
    be missing (the last name may be a prefix, later names and states left out)."""

    monitor: str
    pid: int
    states: str
    atoms: tuple[str, ...]
    next: str
    atoms_cut: bool
    states_cut: bool
    atoms_at: int  # where the atom names start on the line (from 0)


def read_event(text: str) -> EventLine | None:
    m = EVENT.search(text)
    if m is None:
        return None
    atoms = m["atoms"]
    full = STATES_BUFFER - 1
    return EventLine(m["monitor"], int(m["pid"]), m["states"],
                     tuple(a for a in atoms.split(",") if a), m["next"],
                     len(atoms) >= ATOMS_BUFFER - 1,
                     len(m["states"]) >= full or len(m["next"]) >= full, m.start("atoms"))


def read_error(text: str) -> tuple[str, int] | None:
    m = ERROR.search(text)
    return None if m is None else (m["monitor"], int(m["pid"]))
