"""Automaton -> a standalone Python reference monitor (one module, stdlib only).

The generated module is what `hamodel replay` runs and what the kernel-C and
eBPF monitors are compared against, so it must agree with hamodel/semantics.py
on every input, on every `Platform` choice (tests/test_gen_python.py checks
that with hypothesis).

This module builds the *view*: ordered tuples of already-printed Python
expressions (guards, invariant bounds) and the decisions rvgen's code makes
once per (state, event) cell: which edge the kernel's table keeps, the
guards joined for it, which clocks the unset-clock escape reads, and what
ha_setup_invariants() does with the timer.  templates/python/monitor.py.j2
only loops and places them.  Names from the model never become Python
identifiers in the output: states, events and clocks are numbered, and every
name appears only inside a string literal printed by `repr`.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from hamodel import diagnostics as dg
from hamodel import gen
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
    Symbol,
    Value,
    comparisons,
)
from hamodel.semantics import Semantics, timer_kind

TEMPLATE = "monitor.py.j2"
SAFE_NAME_PUNCTUATION = "._-+ ,()[]@#%=~"  # besides letters and digits, in a cited file name
U64 = 1 << 64

# What ha_setup_invariants() does with the timer when a cell's event is taken.
KEEP, ARM, CANCEL = 0, 1, 2


@dataclass(frozen=True, slots=True)
class CellView:
    """The kernel's one transition for a (state, event) pair, with rvgen's constraint."""

    guard: int | None  # index into ModuleView.guards (the same-destination edges OR-ed)
    dst: int
    resets: tuple[int, ...]  # clock indices reset at the event instant (the first edge's)
    timer: int  # KEEP, ARM or CANCEL
    # On an hrtimer, re-arming gives the deadline already armed: the same ns invariant
    # before and after, its clock not reset (checked set at run time).
    same_deadline: bool
    cite: str  # model.dot:LINE of the first edge's label line


@dataclass(frozen=True, slots=True)
class GuardView:
    expr: str  # a Python expression over inst, t, j (jiffies at t) and env
    text: str  # the guard as the model wrote it, for the comment
    cite: str


@dataclass(frozen=True, slots=True)
class InvariantView:
    clock: int
    bound: str  # Python expression over p (the params): the bound as a u64
    jiffy: bool
    text: str
    cite: str


@dataclass(frozen=True, slots=True)
class ModuleView:
    model: str
    source: str
    timer: str  # the timer kind hamodel's kernel-C generator chooses: none, wheel, hrtimer
    states: tuple[str, ...]
    final_states: tuple[str, ...]
    events: tuple[str, ...]
    clocks: tuple[str, ...]
    jiffy: tuple[bool, ...]
    clock_units: tuple[str, ...]  # "ns" or "jiffies", per clock
    envs: tuple[str, ...]  # read-only envs, supplied with events
    parameters: tuple[str, ...]
    invariants: tuple[InvariantView | None, ...]  # per state
    init_resets: tuple[int, ...]
    guards: tuple[GuardView, ...]
    table: tuple[tuple[tuple[str, CellView], ...], ...]  # per state: (event, cell)


def module_name(automaton: Automaton) -> str:
    return f"{automaton.name}_monitor"


PYTHON_OPTION = dg.register("HA050", "python-option", "drop -t, -p and -D for --target python")


def generate(automaton: Automaton, options: object = None) -> dict[str, str]:
    """The generated files, relative path -> text.

    The Python monitor keeps one instance per object whatever the kernel monitor
    type, and has no container or description: -t, -p and -D are refused rather
    than silently ignored.
    """
    unused = [flag for flag, attr in (("-t", "monitor_type"), ("-p", "parent"),
                                      ("-D", "description"))
              if getattr(options, attr, None) is not None]
    if unused:
        message = f"--target python takes no {', '.join(unused)} (it has one instance per object)"
        raise gen.GenError([dg.error(PYTHON_OPTION, message, None)])
    return {f"{module_name(automaton)}.py": render(build_view(automaton))}


def render(view: ModuleView) -> str:
    return gen.render("python", TEMPLATE, v=view, py=repr)


def build_view(a: Automaton) -> ModuleView:
    clocks = tuple(c.name for c in a.clocks)
    clock_index = {name: i for i, name in enumerate(clocks)}
    jiffy = tuple(c.clock_kind is ClockKind.JIFFIES for c in a.clocks)
    state_index = {s.name: i for i, s in enumerate(a.states)}
    # Cite the file by its base name: the output must not depend on where the model
    # lives.  It lands in the module docstring and in comments, so only characters
    # that mean nothing there are kept: a backslash (`\N`), a quote (`"""`) or a
    # line break in a file name would end or break the string.
    source = "".join(c if c.isalnum() or c in SAFE_NAME_PUNCTUATION else "?"
                     for c in Path(a.file or f"{a.name}.dot").name)

    def cite(span: object) -> str:
        line = getattr(span, "line", None)
        return f"{source}:{line}" if line else source

    invariants = tuple(
        None if s.invariant is None else InvariantView(
            clock=clock_index[s.invariant.clock],
            bound=python_value(s.invariant.bound, "p"),
            jiffy=jiffy[clock_index[s.invariant.clock]],
            text=f"{s.invariant.clock} {s.invariant.op} {value_text(s.invariant.bound)}",
            cite=cite(s.invariant.span or s.span),
        )
        for s in a.states
    )
    loop_events = Semantics(a).self_loop_reset_events

    guards: list[GuardView] = []
    table = []
    for state in a.states:
        row = []
        for event in a.events:
            edges = a.edges_from(state.name, event.name)
            if not edges:
                continue
            # da_monitor.h keeps one next state per (state, event): the first edge's in
            # the model's order; the edges to it share it, their guards OR-ed.
            first = edges[0]
            same = [e for e in edges if e.dst == first.dst]
            guard_index = None
            if all(e.guard is not None for e in same):
                guard_index = len(guards)
                guards.append(_guard_view(same, clock_index, jiffy, cite))
            src_inv, dst_inv = state.invariant, a.state(first.dst).invariant
            row.append((event.name, CellView(
                guard=guard_index,
                dst=state_index[first.dst],
                resets=tuple(clock_index[r.env] for r in first.resets),
                timer=_timer_action(first, src_inv, dst_inv, loop_events),
                same_deadline=_same_deadline(first, src_inv, dst_inv, clock_index, jiffy),
                cite=cite(first.span),
            )))
        table.append(tuple(row))

    return ModuleView(
        model=a.name,
        source=source,
        timer=timer_kind(a).value,
        states=tuple(s.name for s in a.states),
        final_states=tuple(s.name for s in a.final_states),
        events=tuple(e.name for e in a.events),
        clocks=clocks,
        jiffy=jiffy,
        clock_units=tuple("jiffies" if j else "ns" for j in jiffy),
        envs=tuple(e.name for e in a.envs if not e.stored),
        parameters=tuple(p.name for p in a.parameters),
        invariants=invariants,
        init_resets=tuple(clock_index[r.env] for r in a.init_resets),
        guards=tuple(guards),
        table=tuple(table),
    )


def _guard_view(edges: list[Edge], clock_index: Mapping[str, int], jiffy: tuple[bool, ...],
                cite) -> GuardView:
    """The guards of the edges a cell keeps, OR-ed in the model's order, behind rvgen's
    escape: a clock the guard reads that is unset makes the whole guard hold."""
    joined = edges[0].guard
    for e in edges[1:]:
        joined = Or(joined, e.guard)  # type: ignore[arg-type]
    read = {c.env for c in comparisons(joined)}
    escapes = [f"inst.store[{i}] == U64_MAX" for name, i in clock_index.items() if name in read]
    expr = python_guard(joined, clock_index, jiffy)  # type: ignore[arg-type]
    return GuardView(
        " or ".join([*escapes, expr]),
        " || ".join(guard_text(e.guard) for e in edges),  # type: ignore[arg-type]
        ", ".join(dict.fromkeys(cite(e.span) for e in edges)),
    )


def _timer_action(edge: Edge, src: Invariant | None, dst: Invariant | None,
                  loop_events: frozenset[str]) -> int:
    """ha_setup_invariants(): a self-loop keeps the timer unless its event resets a clock
    on some self-loop of the model; entering an invariant arms; leaving one cancels."""
    if edge.src == edge.dst and edge.event not in loop_events:
        return KEEP
    if dst is not None:
        return ARM
    return CANCEL if src is not None else KEEP


def _same_deadline(edge: Edge, src: Invariant | None, dst: Invariant | None,
                   clock_index: Mapping[str, int], jiffy: tuple[bool, ...]) -> bool:
    """Whether an hrtimer re-armed on this edge lands where the running one does.

    With the same ns invariant before and after, a set clock not reset here and the
    event found within the bound, hrtimer_start(B - passed) from now expires at
    reset + B again (or saturates again): only the arming order changes."""
    if edge.resets or src is None or dst is None:
        return False
    same = src.clock == dst.clock and python_value(src.bound, "p") == python_value(dst.bound, "p")
    return same and not jiffy[clock_index[src.clock]]


# --- expressions ----------------------------------------------------------------
#
# Guards become Python expressions over `inst` (the object's record: `.store`
# per clock, `.params`), `t` (ns since boot), `j` (jiffies at t) and `env` (the
# read-only values last supplied).  Comparisons are u64, as the generated C
# compares them; `and`/`or` short-circuit as semantics.py's guard does, so a
# missing env or parameter raises exactly when the oracle's would.


def python_value(value: Value, params: str = "inst.params") -> str:
    """The value as a u64, read from the `params` mapping when symbolic."""
    if isinstance(value, Number):
        return repr(value.value % U64)
    scale = value.unit.scale if value.unit else 1
    read = f"{params}[{value.name!r}]"
    return f"{read} % U64" if scale == 1 else f"{read} * {scale} % U64"


def python_guard(guard: Guard, clock_index: Mapping[str, int], jiffy: tuple[bool, ...]) -> str:
    if isinstance(guard, And):
        left = python_guard(guard.left, clock_index, jiffy)
        right = python_guard(guard.right, clock_index, jiffy)
        return f"({left} and {right})"
    if isinstance(guard, Or):
        left = python_guard(guard.left, clock_index, jiffy)
        right = python_guard(guard.right, clock_index, jiffy)
        return f"({left} or {right})"
    if isinstance(guard, Not):
        return f"(not {python_guard(guard.operand, clock_index, jiffy)})"
    return _python_cmp(guard, clock_index, jiffy)


def _python_cmp(cmp: Cmp, clock_index: Mapping[str, int], jiffy: tuple[bool, ...]) -> str:
    bound = python_value(cmp.value)
    if cmp.env in clock_index:
        i = clock_index[cmp.env]
        now = "j" if jiffy[i] else "t"
        # ha_get_env(): now - reset in u64 (the escape in front handles an unset clock)
        return f"((({now} - inst.store[{i}]) % U64) {cmp.op} ({bound}))"
    return f"(int(env[{cmp.env!r}]) {cmp.op} ({bound}))"


def value_text(value: Value) -> str:
    if isinstance(value, Symbol):
        return value.text
    return value.text or str(value.value)


def guard_text(guard: Guard) -> str:
    if isinstance(guard, And):
        return f"({guard_text(guard.left)} && {guard_text(guard.right)})"
    if isinstance(guard, Or):
        return f"({guard_text(guard.left)} || {guard_text(guard.right)})"
    if isinstance(guard, Not):
        return f"!{guard_text(guard.operand)}"
    return f"{guard.env} {guard.op} {value_text(guard.value)}"


# --- loading ----------------------------------------------------------------------


def load_monitor(automaton: Automaton) -> types.ModuleType:
    """Generate the monitor and import it from memory (what `hamodel replay` runs).

    The module is registered in sys.modules under a private name only while it
    executes, for dataclasses; nothing else of it leaks.
    """
    name = f"_hamodel_generated_{module_name(automaton)}"
    (text,) = generate(automaton).values()
    module = types.ModuleType(name)
    module.__file__ = f"<generated {module_name(automaton)}.py>"
    sys.modules[name] = module
    try:
        exec(compile(text, module.__file__, "exec"), module.__dict__)
    finally:
        del sys.modules[name]
    return module
