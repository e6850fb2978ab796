"""Structural checks on the untimed graph and the bounds: Automaton -> [Diagnostic].

The build stage already reports untimed unreachability, units and the
MAX_HA_ENV_LEN limit; these are the graph and bound checks it leaves to us.
"""

from __future__ import annotations

from hamodel import diagnostics as dg
from hamodel.check import codes
from hamodel.diagnostics import Diagnostic, Note, Severity
from hamodel.model import Automaton, ClockKind, Number, comparisons


def check_structure(a: Automaton) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    reachable = reachable_untimed(a)
    finals = {s.name for s in a.final_states}
    can_finish = _backward(a, finals)
    leaves = {e.src for e in a.edges}
    for s in a.states:
        if s.name not in reachable:
            continue  # the build's unreachable-state warning covers it
        if not s.final and s.name not in leaves:
            out.append(dg.warning(
                codes.DEAD_END,
                f"state {s.name!r} is not final and has no outgoing edge: once there, every"
                " event is a violation and the monitor never leaves",
                s.span,
            ))
        elif finals and s.name not in can_finish:
            out.append(dg.warning(
                codes.NO_FINAL,
                f"no final state can be reached from state {s.name!r}",
                s.span,
            ))
    out += _unused_clocks(a)
    out += _bounds(a)
    out += _joined(a)
    return out


def reachable_untimed(a: Automaton) -> set[str]:
    return closure({a.initial.name}, [(e.src, e.dst) for e in a.edges])


def _backward(a: Automaton, targets: set[str]) -> set[str]:
    return closure(targets, [(e.dst, e.src) for e in a.edges])


def closure(start: set[str], arcs: list[tuple[str, str]]) -> set[str]:
    """Every node reachable from `start` over the (from, to) arcs (each arc once)."""
    after: dict[str, list[str]] = {}
    for src, dst in arcs:
        after.setdefault(src, []).append(dst)
    seen = set(start)
    todo = list(start)
    while todo:
        for nxt in after.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def _unused_clocks(a: Automaton) -> list[Diagnostic]:
    read = {c.env for e in a.edges for c in comparisons(e.guard)}
    read |= {s.invariant.clock for s in a.states if s.invariant}
    return [
        dg.warning(
            codes.UNUSED_CLOCK,
            f"clock {c.name!r} is reset but never compared: it costs a stored env slot"
            " (the kernel has MAX_HA_ENV_LEN = 1) for nothing",
            c.span,
        )
        for c in a.clocks
        if c.name not in read
    ]


def _bounds(a: Automaton) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    clocks = {c.name for c in a.clocks}
    for s in a.states:
        inv = s.invariant
        if inv is None:
            continue
        if isinstance(inv.bound, Number) and (
            inv.bound.value < 0 or (inv.strict and inv.bound.value == 0)
        ):
            out.append(dg.error(
                codes.BOUND_NOT_POSITIVE,
                f"invariant of {s.name!r} is false at once ({inv.clock} {inv.op}"
                f" {inv.bound.value}): the timer fires as the state is entered",
                inv.bound.span or inv.span or s.span,
            ))
        if not inv.strict:
            jiffy = any(c.name == inv.clock and c.clock_kind is ClockKind.JIFFIES
                        for c in a.clocks)
            effect = (
                "for a jiffy clock it checks `<` (time_after64), so an event at the bound"
                " is reported although the model allows it" if jiffy else
                "for an ns clock the hrtimer fires at the bound, where the model still"
                " holds"
            )
            out.append(Diagnostic(
                Severity.WARNING,
                codes.NON_STRICT_INVARIANT,
                f"invariant `{inv.clock} <= ...` of {s.name!r}: the framework does not read"
                f" `<` or `<=` (rvgen writes both the same way); {effect}",
                inv.span or s.span,
                (Note("see include/rv/ha_monitor.h, ha_check_invariant_ns/_jiffy"),),
            ))
    for e in a.edges:
        for c in comparisons(e.guard):
            if c.env in clocks and isinstance(c.value, Number) and (
                c.value.value < 0 or (c.op == "<" and c.value.value == 0)
            ):
                out.append(dg.warning(
                    codes.BOUND_NOT_POSITIVE,
                    f"`{c.env} {c.op} {c.value.value}` compares a clock with a bound below"
                    " the smallest clock value 0",
                    c.span or e.span,
                ))
    return out


def _joined(a: Automaton) -> list[Diagnostic]:
    """The answer to the build's nondeterministic-edge warning where the kernel's table
    makes it moot: edges for one (state, event) that all go to one state, with the
    same resets, become one table cell with their guards joined by ||."""
    groups: dict[tuple[str, str], list] = {}
    for e in a.edges:
        groups.setdefault((e.src, e.event), []).append(e)
    out: list[Diagnostic] = []
    for (src, event), edges in groups.items():
        if len(edges) < 2:
            continue
        if len({e.dst for e in edges}) > 1 or len({e.reset_envs for e in edges}) > 1:
            continue  # HA111
        out.append(Diagnostic(
            Severity.NOTE,
            codes.JOINED,
            f"the {len(edges)} edges for event {event!r} from {src!r} all go to"
            f" {edges[0].dst!r} with the same resets: the kernel's table joins their guards"
            " with ||, so the model is deterministic here",
            edges[-1].span,
        ))
    return out
