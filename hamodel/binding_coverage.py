"""Which model events a binding leaves unproduced, and which of its events the model lacks:
Automaton + bound events -> Diagnostics located at the model's `.dot` line.

Kept apart from binding.py, which reads the TOML; this judges what was read.
A model event bound by nothing and an `[[event]]` naming no model event that
differ by a typo are one mistake, reported once.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import TYPE_CHECKING

from hamodel import diagnostics as dg
from hamodel.diagnostics import Diagnostic
from hamodel.model import Automaton
from hamodel.source import Span

if TYPE_CHECKING:
    from hamodel.binding import EventBinding

BINDING_ERROR = "binding"  # HA030, registered by binding.py


def unbound_events(a: Automaton, events: list[EventBinding],
                   unknown: list[tuple[int, str, Span]], file: str,
                   named: set[str] | frozenset[str] = frozenset()) -> list[Diagnostic]:
    """Model events no handler produces, at their `.dot` line, and [[event]]s naming no
    model event; a pair of them that differ by a typo is one mistake and one error.
    Events in `named` have an [[event]] whose error was reported: not unbound."""
    out: list[Diagnostic] = []
    bound = {e.event for e in events}
    unbound = [ev for ev in a.events if ev.name not in bound and ev.name not in named]
    paired: set[str] = set()
    for i, name, span in unknown:
        match = difflib.get_close_matches(name, [ev.name for ev in unbound
                                                 if ev.name not in paired], n=1, cutoff=0.75)
        if match:
            ev = next(e for e in unbound if e.name == match[0])
            paired.add(ev.name)
            out.append(dg.error(
                BINDING_ERROR,
                f"model event {ev.name!r} is bound to no tracepoint, and [[event]] #{i + 1} of"
                f" {Path(file).name} binds {name!r}, which the model does not have: did you"
                f" mean {name!r}, as the binding spells it?",
                ev.span or Span.point(file, 1, 1),
                dg.Note(f"the [[event]] binding {name!r}", span)))
            continue
        hint = difflib.get_close_matches(name, [e.name for e in a.events], n=1, cutoff=0.6)
        out.append(dg.error(
            BINDING_ERROR,
            f"[[event]] #{i + 1}: {name!r} is no event of the model"
            + (f"; did you mean {hint[0]!r}?" if hint else ""), span))
    for ev in unbound:
        if ev.name in paired:
            continue
        hint = difflib.get_close_matches(ev.name, sorted(bound | {n for _, n, _ in unknown}),
                                         n=1, cutoff=0.75)
        out.append(dg.warning(
            BINDING_ERROR,
            f"model event {ev.name!r} is bound to no tracepoint: no handler of"
            f" {Path(file).name} produces it"
            + (f"; did you mean {hint[0]!r}?" if hint else ""),
            ev.span or Span.point(file, 1, 1)))
    return out
