"""Findings about framework behaviours that look like bugs (docs/semantics.md, last section).

The semantics says what the kernel does; these checks report a model that runs
into such a behaviour, each with a witness: a state entered with its invariant
already false (HA115: the hrtimer never fires), an ns invariant on an unset
clock (HA116: nothing armed at the start, or the bound counting from the
entry), an unset jiffy clock that fails every check (HA126), and the ns check
that wraps while the uptime is below the bound (HA125).  Functions of a
findings.Checker, split out of it for size.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hamodel import diagnostics as dg
from hamodel.check import codes
from hamodel.check.goals import Goal
from hamodel.check.texts import bound_text
from hamodel.check.timing import Timing
from hamodel.check.witness import concretize
from hamodel.check.zones import Hit, Mode, Node, ZoneGraph
from hamodel.diagnostics import Diagnostic, Note, Severity
from hamodel.model import ClockKind
from hamodel.semantics import Timer

if TYPE_CHECKING:
    from hamodel.check.findings import Checker, Finding, Graphs


def expired_entries(c: Checker, graphs: Graphs) -> None:
    done: set[int] = set()
    for _, g in graphs:
        for k, hit in sorted(g.expired_entry.items()):
            if k in done:
                continue
            done.add(k)
            c.add(("invariant-false-on-entry", k),
                     lambda g=g, k=k, hit=hit: expired(c, g, k, hit))

def expired(c: Checker, g: ZoneGraph, k: int, hit: Hit) -> list[Finding]:
    e = c.a.edges[k]
    dst = c.states[e.dst]
    inv = dst.invariant
    assert inv is not None
    w = c.at(g, hit, Goal("entry", e.dst))
    at = f" (e.g. {w.valuation(c.a)})" if w and w.valuation(c.a) else ""
    reading = "clk < B" if g.timing.unit is ClockKind.JIFFIES else "clk <= B"
    return [c.finding(dg.warning(
        codes.ENTRY_VIOLATION,
        f"edge {e.src} -{e.event}-> {e.dst} can enter {e.dst!r} when its invariant"
        f" `{inv.clock} {inv.op} {bound_text(inv.bound)}` is already false for the framework"
        f" ({reading}){at}: the move is traced and the state is reached, then"
        f" {expired_timer(g.timing)}; every event there fails the invariant check and"
        " is reported under its own name",
        e.span, Note(f"the invariant of {e.dst!r}", inv.span or dst.span)), w)]

def unset_clocks(c: Checker, g: ZoneGraph) -> None:
    for s in c.a.states:
        inv = s.invariant
        if inv is None:
            continue
        nodes = [g.nodes[n] for n in g.by_state.get(s.name, [])
                 if inv.clock in g.nodes[n].unset]
        if not nodes:
            continue
        if g.timing.unit is ClockKind.JIFFIES:
            unset_jiffy(c, g, s, nodes)
            continue
        unarmed = [n for n in nodes if n.mode is Mode.NONE]
        c.add(("invariant-on-unset-clock", s.name),
                 lambda s=s, nodes=nodes, unarmed=unarmed: unset_ns(c, g, s, nodes,
                                                                    unarmed))

def unset_ns(c: Checker, g: ZoneGraph, s, nodes: list[Node], unarmed: list[Node]) -> list:
    inv = s.invariant
    node = unarmed[0] if unarmed else nodes[0]
    w = c.at(g, Hit(node.id), Goal("reach", s.name, unset=node.unset,
                                       armed=node.mode is not Mode.NONE))
    if unarmed:
        what = (f"monitoring starts in {s.name!r} with {inv.clock!r} unset and nothing"
                " armed: a start runs no model code, so the invariant is not enforced"
                f" until an event re-arms the timer (this assumes a start that processes"
                " no event: the monitor's start routine or a start event; a start-run"
                " event is processed at once)")
    else:
        what = (f"state {s.name!r} can be entered with clock {inv.clock!r} never reset:"
                " the timer is armed with passed = 0, so the bound counts from the entry"
                f" (and each re-arming), not from a reset, and guards reading"
                f" {inv.clock!r} pass until it is reset")
    return [c.finding(dg.warning(codes.UNSET_CLOCK_INVARIANT, what,
                                    inv.span or s.span), w)]

def unset_jiffy(c: Checker, g: ZoneGraph, s, nodes: list[Node]) -> None:
    inv = s.invariant
    late = [(n, ev.name) for n in nodes for ev in c.a.events
            if (s.name, ev.name) in c.tab.cells]
    if not late:
        return

    def make() -> list[Finding]:
        node, event = late[0]
        w = c.at(g, Hit(node.id), Goal("late", s.name, event))
        return [c.finding(dg.warning(
            codes.UNSET_JIFFY_CLOCK,
            f"state {s.name!r} can be entered with its jiffy clock {inv.clock!r} unset:"
            " the framework's check time_after64(U64_MAX, jiffies - B) is false then, so"
            f" every event in {s.name!r} is reported as a violation until the clock is"
            " reset (framework behaviour)", inv.span or s.span), w)]

    c.add(("unset-jiffy-clock", s.name), make)

def small_uptime(c: Checker, g: ZoneGraph) -> None:
    if g.timing.unit is not ClockKind.NS:
        return
    candidates = []
    for s in c.a.states:
        inv = s.invariant
        if inv is None:
            continue
        events = [ev.name for ev in c.a.events if (s.name, ev.name) in c.tab.cells]
        nodes = [g.nodes[n] for n in g.by_state.get(s.name, [])
                 if g.nodes[n].mode is Mode.ARMED and inv.clock not in g.nodes[n].unset]
        if events and nodes:
            candidates.append((s, nodes[0], events[0]))
    if not candidates:
        return

    def make() -> list[Finding]:
        for s, node, event in candidates:
            # No solution is an answer here (a path longer than the bound).
            goal = Goal("wrap", s.name, event)
            w = concretize(c.a, g.path(node.id), goal, g.params, c.platform,
                           g.nodes[0].mode, c.timeout_s, c.tab, g.timing)
            if w is None:
                continue
            w = c.witness(g, g.path(node.id), goal)  # confirmed, or HA124
            if w is None:
                return []
            inv = s.invariant
            others = [c[0].name for c in candidates if c[0] is not s]
            notes = (Note("also in " + ", ".join(repr(o) for o in others)),) if others else ()
            return [c.finding(Diagnostic(
                Severity.INFO, codes.SMALL_UPTIME,
                f"a monitor started less than `{bound_text(inv.bound)}` after boot reports"
                f" every event in {s.name!r} once {inv.clock!r} is set:"
                " ha_check_invariant_ns computes now - B in u64, which wraps while the"
                " uptime is below B (framework behaviour; the witness's uptime is the"
                " start's)", inv.span or s.span, notes), w, scoped=False)]
        return []

    c.add(("small-uptime-wrap",), make)



def expired_timer(tm: Timing) -> str:
    if tm.unit is ClockKind.NS and tm.timer is Timer.HRTIMER:
        return ("the hrtimer, armed for a negative time, never fires (ktime_add_safe"
                " saturates)")
    if tm.unit is ClockKind.JIFFIES and tm.timer is Timer.WHEEL:
        return "the wheel timer, already due, fires at the next jiffy"
    if tm.unit is ClockKind.JIFFIES:
        return ("the hrtimer fires at once when the clock is at the bound, else after"
                " jiffies_to_nsecs() of a negative number, which wraps its unsigned int")
    return "the wheel timer fires after nsecs_to_jiffies() of a negative number"
