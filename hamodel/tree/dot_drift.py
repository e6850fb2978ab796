"""Drift between a `.dot` model and the in-tree monitor made from it: Automaton +
`<m>.h` (+ `<m>.c` for a hybrid automaton) -> Diagnostics.

Meaning is compared, not bytes: states and events as sets of names, the
transition function cell by cell by name, envs and which of them are clocks,
initial and final states; for a hybrid automaton each invariant, guard, reset,
the clocks' units and the timer type.  Every finding sits in the in-tree file
at the offending item and carries a note at the model's line.
"""

from __future__ import annotations

from collections.abc import Iterable

from hamodel import diagnostics as dg
from hamodel.diagnostics import Diagnostic, Note
from hamodel.fmt import guard_text, invariant_text, value_text
from hamodel.model import (
    And,
    Automaton,
    ClockKind,
    Cmp,
    Edge,
    Guard,
    Invariant,
    Not,
    Number,
    Or,
    Value,
    comparisons,
)
from hamodel.source import Span
from hamodel.tree import codes
from hamodel.tree.cconstraints import MonitorC
from hamodel.tree.cheader import HeaderTables, Item

INVALID = "INVALID_STATE"
TIMERS = ("HA_TIMER_WHEEL", "HA_TIMER_HRTIMER")


def header_drift(a: Automaton, h: HeaderTables) -> list[Diagnostic]:
    """The tables of `<m>.h` against the model."""
    out: list[Diagnostic] = []
    model_file = a.file
    where_model = a.initial.span or Span(model_file, 1, 1, 1, 1)
    out += _names_match("state", [s.name for s in a.states], h.states, codes.DRIFT_STATES,
                        {s.name: s.span for s in a.states}, where_model, h.path)
    out += _names_match("event", [e.name for e in a.events], h.events, codes.DRIFT_EVENTS,
                        {e.name: e.span for e in a.events}, where_model, h.path)
    if a.envs or h.envs:
        out += _names_match("env", [e.name for e in a.envs], h.envs, codes.DRIFT_ENVS,
                            {e.name: e.span for e in a.envs}, where_model, h.path)
        header_stored = {i.text for i in h.envs[:h.stored_envs]}
        for env in a.envs:
            item = next((i for i in h.envs if i.text == env.name), None)
            if item is None or env.stored == (env.name in header_stored):
                continue
            message = (
                f"the model resets {env.name} (a clock), but the header lists it after"
                " env_max_stored (a read-only value)" if env.stored else
                f"the header stores {env.name} (before env_max_stored), but the model never"
                " resets it (a read-only value)")
            out.append(dg.error(
                codes.DRIFT_ENVS, message,
                item.span, Note(f"the model's {env.name}", env.span)))
    if out:
        # A state or event the two sides do not share shifts every index after it:
        # the names and the table would each repeat that one mistake.
        return out
    spans = {s.name: s.span for s in a.states} | {e.name: e.span for e in a.events}
    spans |= {e.name: e.span for e in a.envs}
    out += _spelling("state_names", h.states, h.state_names, spans)
    out += _spelling("event_names", h.events, h.event_names, spans)
    if h.envs:
        out += _spelling("env_names", h.envs, h.env_names, spans)
    out += _table(a, h)
    if h.initial is not None and h.initial.text != a.initial.name:
        out.append(dg.error(
            codes.DRIFT_INITIAL_FINAL,
            f"the header's initial state is {h.initial.text}, the model's is {a.initial.name}",
            h.initial.span, Note(f"the model's initial state {a.initial.name}", a.initial.span)))
    if len(h.finals) == len(h.states):
        model_final = {s.name: s for s in a.states}
        for item, flag in zip(h.states, h.finals, strict=True):
            s = model_final.get(item.text)
            if s is None or (flag.text not in ("0", "1")):
                continue
            if (flag.text == "1") != s.final:
                marked = "final" if flag.text == "1" else "not final"
                out.append(dg.error(
                    codes.DRIFT_INITIAL_FINAL,
                    f"final_states marks {item.text} {marked},"
                    f" the model {'does' if s.final else 'does not'} make it final",
                    flag.span, Note(f"the model's state {s.name}", s.span)))
    elif h.finals:
        out.append(dg.error(
            codes.DRIFT_INITIAL_FINAL,
            f"final_states has {len(h.finals)} flags for {len(h.states)} states",
            h.finals[0].span))
    return out


def _names_match(what: str, model: list[str], header: tuple[Item, ...], code: str,
                 spans: dict[str, Span | None], where_model: Span, path: str) -> list[Diagnostic]:
    out = []
    have = {i.text for i in header}
    enum_span = header[0].span if header else Span(path, 1, 1, 1, 1)
    for name in model:
        if name not in have:
            out.append(dg.error(
                code, f"the model has the {what} {name}, the header's enum does not",
                enum_span, Note(f"the model's {what} {name}", spans.get(name) or where_model)))
    wanted = set(model)
    for item in header:
        if item.text not in wanted:
            out.append(dg.error(
                code, f"the header has the {what} {item.text}, the model does not",
                item.span, Note(f"the model's {what}s: {', '.join(model) or 'none'}",
                                where_model)))
    return out


def _spelling(field: str, enum: tuple[Item, ...], names: tuple[Item, ...],
              model: dict[str, Span | None]) -> list[Diagnostic]:
    """`.<field>[i]` must be the name of enum constant i: the kernel prints it."""
    out = []
    for i, (constant, name) in enumerate(zip(enum, names, strict=False)):
        if constant.text != name.text:
            out.append(dg.error(
                codes.DRIFT_NAMES,
                f".{field}[{i}] is \"{name.text}\" but enum constant {i} is {constant.text}:"
                " the kernel would report one under the other's name",
                name.span, Note(f"enum constant {i}", constant.span),
                Note(f"the model's {constant.text}", model.get(constant.text))))
    if names and len(names) != len(enum):
        out.append(dg.error(
            codes.DRIFT_NAMES, f".{field} has {len(names)} names for {len(enum)} enum constants",
            names[0].span))
    return out


def _table(a: Automaton, h: HeaderTables) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    if len(h.function) != len(h.states) or any(len(r) != len(h.events) for r in h.function):
        shape = ", ".join(str(len(r)) for r in h.function)
        return [dg.error(
            codes.DRIFT_TABLE,
            f".function has {len(h.function)} rows ({shape} cells) for {len(h.states)} states"
            f" and {len(h.events)} events", h.function_span or h.states[0].span)]
    model_states = {s.name: s for s in a.states}
    model_events = {e.name for e in a.events}
    edges = _groups(a)
    for state, row in zip(h.states, h.function, strict=True):
        if state.text not in model_states:
            continue
        for event, cell in zip(h.events, row, strict=True):
            if event.text not in model_events:
                continue
            group = edges.get((state.text, event.text), ())
            want = group[0].dst if group else INVALID
            if cell.text == want:
                continue
            have = "no transition" if cell.text == INVALID else f"-> {cell.text}"
            said = "no transition" if want == INVALID else f"-> {want}"
            note = (Note(f"the model's edge {state.text} -{event.text}-> {want}", group[0].span)
                    if group else Note(f"the model's state {state.text} (no {event.text} edge)",
                                       model_states[state.text].span))
            out.append(dg.error(
                codes.DRIFT_TABLE,
                f"the header's table has {state.text} x {event.text} {have}, the model says"
                f" {said}", cell.span, note))
    return out


def _groups(a: Automaton) -> dict[tuple[str, str], tuple[Edge, ...]]:
    """Edges per (state, event) in kernel order: the first one's target is the table's."""
    groups: dict[tuple[str, str], tuple[Edge, ...]] = {}
    for e in a.edges:
        groups[(e.src, e.event)] = groups.get((e.src, e.event), ()) + (e,)
    return groups


# --- hybrid automata: <m>.c ------------------------------------------------------------


def constraint_drift(a: Automaton, c: MonitorC) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    first = Span(c.path, 1, 1, 1, 1)
    for what, span in c.unread:
        out.append(dg.warning(codes.UNREAD_MONITOR, f"not compared with the model: {what}", span))
    invariants = {s.name: s.invariant for s in a.states if s.invariant is not None}
    # the timer
    if invariants and (c.timer is None or c.timer[0] not in TIMERS):
        state = next(s for s in a.states if s.invariant is not None)
        have = f"defines HA_TIMER_TYPE {c.timer[0]}" if c.timer else "defines no HA_TIMER_TYPE"
        out.append(dg.error(
            codes.DRIFT_TIMER,
            f"the model has invariants but the monitor {have}: no timer fires when one"
            " ends", c.timer[1] if c.timer else (c.include or first),
            Note(f"the invariant of {state.name}", state.invariant.span if state.invariant
                 else state.span)))
    elif not invariants and c.timer is not None and c.timer[0] in TIMERS:
        out.append(dg.warning(
            codes.DRIFT_TIMER,
            f"HA_TIMER_TYPE is {c.timer[0]} but the model has no invariant to time",
            c.timer[1], Note("the model", a.initial.span)))
    # the clocks' units
    kinds = {e.name: e for e in a.envs if e.stored}
    for env, kind, span in c.clock_kinds:
        model = kinds.get(env)
        if model is None or model.clock_kind is None:
            continue
        want = "jiffy" if model.clock_kind is ClockKind.JIFFIES else "ns"
        if kind != want:
            out.append(dg.error(
                codes.DRIFT_CLOCK_KIND,
                f"ha_get_env() reads {env} with ha_get_clk_{kind}, but the model's {env} counts"
                f" {model.clock_kind.value}", span,
                Note(f"the model's {env}", model.span)))
    if c.invariants is not None:
        out += _invariants(a, invariants, c)
    if c.guards is not None:
        out += _guards(a, c)
    return out


def _invariants(a: Automaton, invariants: dict[str, Invariant], c: MonitorC) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    states = {s.name: s for s in a.states}
    checked = {i.state: i for i in c.invariants or ()}
    started = {t.state: t for t in c.starts or ()}
    for name, inv in invariants.items():
        got = checked.get(name)
        if got is None:
            out.append(dg.error(
                codes.DRIFT_INVARIANT,
                f"ha_verify_invariants() does not check {name}'s invariant"
                f" `{invariant_text(inv)}`", _function_span(c),
                Note(f"the model's invariant of {name}", inv.span)))
        elif not _same_invariant(inv, got.clock, got.bound, got.strict):
            start = started.get(name)
            both = start is not None and (start.clock, start.bound, start.strict) == (
                got.clock, got.bound, got.strict)
            out.append(_invariant_mismatch(
                inv, name, got.clock, got.bound, got.strict, got.span,
                f"checks (and {_line(start.span)} arms its timer for)" if both else "checks"))
        elif got.kind != _kind(a, inv.clock):
            out.append(dg.error(
                codes.DRIFT_CLOCK_KIND,
                f"{name}'s invariant is checked with ha_check_invariant_{got.kind}, but the"
                f" model's {inv.clock} counts {_unit(a, inv.clock)}", got.span,
                Note(f"the model's invariant of {name}", inv.span)))
        start = started.get(name)
        if (start is not None and got is not None
                and (start.clock, start.bound, start.strict) == (got.clock, got.bound, got.strict)
                and not _same_invariant(inv, got.clock, got.bound, got.strict)):
            continue  # one edit of the model: the check above says it, with both lines
        if c.starts is not None and start is None:
            out.append(dg.error(
                codes.DRIFT_INVARIANT,
                f"ha_setup_invariants() arms no timer on entering {name}, whose invariant is"
                f" `{invariant_text(inv)}`: its end is only noticed at the next event",
                _function_span(c), Note(f"the model's invariant of {name}", inv.span)))
        elif start is not None and not _same_invariant(inv, start.clock, start.bound,
                                                      start.strict):
            out.append(_invariant_mismatch(inv, name, start.clock, start.bound, start.strict,
                                           start.span, "arms its timer for"))
    for name, got in checked.items():
        if name not in invariants and name in states:
            out.append(dg.error(
                codes.DRIFT_INVARIANT,
                f"ha_verify_invariants() checks `{_inv_text(got.clock, got.bound, got.strict)}`"
                f" in {name}, which has no invariant in the model", got.span,
                Note(f"the model's state {name}", states[name].span)))
    return out


def _function_span(c: MonitorC) -> Span:
    for inv in c.invariants or ():
        return inv.span
    return Span(c.path, 1, 1, 1, 1)


def _invariant_mismatch(inv: Invariant, state: str, clock: str, bound: Value, strict: bool,
                        span: Span, verb: str) -> Diagnostic:
    model = invariant_text(inv)
    line = f"{span.file.rsplit('/', 1)[-1]}:{span.line}"
    return dg.error(
        codes.DRIFT_INVARIANT,
        f"model says `{model}` in {state}, {line} {verb} `{_inv_text(clock, bound, strict)}`",
        span, Note(f"the model's invariant of {state}", inv.span))


def _line(span: Span) -> str:
    return f"{span.file.rsplit('/', 1)[-1]}:{span.line}"


def _inv_text(clock: str, bound: Value, strict: bool) -> str:
    return f"{clock} {'<' if strict else '<='} {_c_value_text(bound)}"


def _c_value_text(v: Value) -> str:
    if isinstance(v, Number):
        return str(v.value)
    return value_text(v)


def _kind(a: Automaton, clock: str) -> str:
    env = next((e for e in a.envs if e.name == clock), None)
    return "jiffy" if env and env.clock_kind is ClockKind.JIFFIES else "ns"


def _unit(a: Automaton, clock: str) -> str:
    return "jiffies" if _kind(a, clock) == "jiffy" else "ns"


def _value_key(v: Value, plus: int = 0) -> tuple:
    if isinstance(v, Number):
        return ("num", v.value + plus)
    scale = v.unit.scale if v.unit is not None else 1
    return ("sym", v.name, v.call, scale, plus)


def _same_invariant(inv: Invariant, clock: str, bound: Value, strict: bool) -> bool:
    """The C bound is the model's, `<` or `<=` alike: rvgen writes both the same and
    the framework decides how a bound compares (docs/semantics.md); a `B + 1` in the
    C is the bound B + 1."""
    model = _value_key(inv.bound, 0)
    return clock == inv.clock and model == _value_key(bound, 0 if strict else 1)


def _guard_key(g: Guard) -> tuple:
    """A key equal for guards that differ only in the order of `&&`/`||` operands."""
    if isinstance(g, Cmp):
        return ("cmp", g.env, g.op, _value_key(g.value))
    if isinstance(g, Not):
        return ("not", _guard_key(g.operand))
    kind = And if isinstance(g, And) else Or
    parts: list[tuple] = []

    def flat(x: Guard) -> None:
        if isinstance(x, kind):
            flat(x.left)
            flat(x.right)
        else:
            parts.append(_guard_key(x))

    flat(g)
    return ("and" if kind is And else "or", tuple(sorted(parts, key=repr)))


def _or_all(guards: Iterable[Guard]) -> Guard:
    items = list(guards)
    out = items[0]
    for g in items[1:]:
        out = Or(out, g)
    return out


def _guards(a: Automaton, c: MonitorC) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    stored = {e.name for e in a.envs if e.stored}
    cases = {(g.state, g.event): g for g in c.guards or ()}
    groups = _groups(a)
    for (src, event), edges in groups.items():
        guards = [e.guard for e in edges]
        guard = _or_all(g for g in guards if g is not None) if all(guards) else None
        resets = edges[0].reset_envs
        if guard is None and not resets:
            continue
        case = cases.get((src, event))
        first = edges[0]
        where = f"{src} -{event}-> {first.dst}"
        if case is None:
            wants = []
            if guard is not None:
                wants.append(f"the guard `{guard_text(guard)}`")
            if resets:
                wants.append(f"reset({', '.join(resets)})")
            out.append(dg.error(
                codes.DRIFT_GUARD if guard is not None else codes.DRIFT_RESET,
                f"ha_verify_guards() has no case for {src} x {event}; the model's edge has"
                f" {' and '.join(wants)}", _guards_span(c),
                Note(f"the model's edge {where}", first.span)))
            continue
        out += _compare_case(guard, resets, case, stored, where, first.span)
    for (src, event), case in cases.items():
        edges = groups.get((src, event), ())
        if edges and any(e.guard is not None or e.resets for e in edges):
            continue
        does = []
        if case.guard is not None:
            does.append(f"checks `{guard_text(case.guard)}`")
        if case.resets:
            does.append(f"resets {', '.join(case.resets)}")
        note = (Note(f"the model's edge {src} -{event}-> {edges[0].dst}", edges[0].span)
                if edges else Note(f"the model has no {src} -{event}-> edge", a.initial.span))
        out.append(dg.error(
            codes.DRIFT_GUARD if case.guard is not None else codes.DRIFT_RESET,
            f"ha_verify_guards() {' and '.join(does) or 'has a case'} for {src} x {event},"
            " where the model has no guard or reset", case.span, note))
    return out


def _guards_span(c: MonitorC) -> Span:
    for g in c.guards or ():
        return g.span
    return Span(c.path, 1, 1, 1, 1)


def _compare_case(guard: Guard | None, resets: tuple[str, ...], case, stored: set[str],
                  where: str, model_span: Span | None) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    line = f"{case.span.file.rsplit('/', 1)[-1]}:{case.span.line}"
    note = Note(f"the model's edge {where}", model_span)
    if guard is None and case.guard is not None:
        out.append(dg.error(
            codes.DRIFT_GUARD,
            f"model has no guard on {where}, {line} checks `{guard_text(case.guard)}`",
            case.span, note))
    elif guard is not None and case.guard is None:
        out.append(dg.error(
            codes.DRIFT_GUARD,
            f"model says `{guard_text(guard)}` on {where}, {line} checks no guard",
            case.span, note))
    elif guard is not None and case.guard is not None:
        if _guard_key(guard) != _guard_key(case.guard):
            out.append(dg.error(
                codes.DRIFT_GUARD,
                f"model says `{guard_text(guard)}` on {where}, {line} checks"
                f" `{guard_text(case.guard)}`", case.span, note))
        else:
            want = {cmp.env for cmp in comparisons(guard) if cmp.env in stored}
            missing = sorted(want - case.escapes)
            if missing:
                out.append(dg.error(
                    codes.DRIFT_GUARD,
                    f"{line} compares the clock {missing[0]} without the unset-clock escape"
                    f" `ha_monitor_env_invalid(ha_mon, {missing[0]}_...) ||`: before its first"
                    " reset the guard fails, where the model's holds", case.span, note))
    if sorted(resets) != sorted(case.resets):
        have = ", ".join(case.resets) or "nothing"
        want_text = ", ".join(resets) or "nothing"
        out.append(dg.error(
            codes.DRIFT_RESET,
            f"model resets {want_text} on {where}, {line} resets {have}", case.span, note))
    return out
