"""The C and trace names of LTL atoms, and why an atom's name cannot be used in C.

An atom `X` becomes the enum constant `LTL_X` and, inside `ltl_start()` and
`ltl_possible_next_states()`, the local `bool x`; the trace prints it by the
abbreviation `ltl_atom_str()` returns.  The abbreviation is a fact of the
interface (it is what `event_<m>` lines show), so it is computed exactly as
rvgen's ltl2k.py does: the part an atom shares with another atom and the rest
are each shortened to the first two letters of every `_`-separated word,
leaving out `is`, `by`, `or` and `and`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from hamodel.build import C_KEYWORDS

SKIPPED_WORDS = frozenset({"is", "by", "or", "and"})

# Names the generated functions already use next to the atoms' locals
# (include/rv/ltl_monitor.h's parameters and the helpers they call), and
# object-like macros of kernel headers that would replace a local's name.
GENERATED_LOCALS = frozenset({"mon", "task", "state", "next"})
KERNEL_NAMES = frozenset({
    "current", "jiffies", "noinline", "notrace", "test_bit", "static_assert", "bool",
})
_VALUE = re.compile(r"val[0-9]+\Z")


def _shorten(part: str) -> str:
    words = [w for w in part.lower().split("_") if w not in SKIPPED_WORDS]
    return "_".join(w[:2] for w in words)


def abbreviations(atoms: Sequence[str]) -> tuple[str, ...]:
    """The names `ltl_atom_str()` gives the atoms (sorted, as enum ltl_atom)."""
    out = []
    for atom in atoms:
        shared = 0
        for length in range(len(atom), -1, -1):
            if sum(other.startswith(atom[:length]) for other in atoms) > 1:
                shared = length
                break
        out.append(_shorten(atom[:shared]) + _shorten(atom[shared:]))
    return tuple(out)


def c_problem(atom: str) -> str | None:
    """Why the atom's C names (`LTL_X`, `bool x`) cannot be generated, or None."""
    local = atom.lower()
    if local in C_KEYWORDS:
        return f"its C local `{local}` is a C keyword"
    if local in GENERATED_LOCALS:
        return f"its C local `{local}` is a parameter of the generated functions"
    if local in KERNEL_NAMES:
        return f"its C local `{local}` is a kernel macro or helper"
    if _VALUE.match(local):
        return f"its C local `{local}` is the name of a generated intermediate value"
    if local.startswith("__") or atom.startswith("_"):
        return f"its C local `{local}` would start with `_`, which C reserves"
    if atom == "NUM_ATOM":
        return "`LTL_NUM_ATOM` is the enum's count"
    return None
