"""Automaton -> a standalone Python reference monitor (one module, stdlib only).

The generated module is what `hamodel replay` runs and what the kernel-C and
eBPF monitors are compared against, so it must agree with hamodel/semantics.py
on every input (tests/test_gen_python.py checks that with hypothesis).

This module builds the *view*: ordered tuples of already-printed Python
expressions (guards, invariant bounds).  templates/python/monitor.py.j2 only
loops and places them.  Names from the model never become Python identifiers
in the output: states, events and clocks are numbered, and every name appears
only inside a string literal printed by `repr`.
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
    Not,
    Number,
    Or,
    Symbol,
    Value,
)

TEMPLATE = "monitor.py.j2"
SAFE_NAME_PUNCTUATION = "._-+ ,()[]@#%=~"  # besides letters and digits, in a cited file name


@dataclass(frozen=True, slots=True)
class EdgeView:
    """One way out of a (state, event) pair, in the model's canonical order."""

    guard: int | None  # index into ModuleView.guards
    dst: int
    resets: tuple[int, ...]  # clock indices reset at the event instant
    rearm: bool  # False when the timer cannot change: a plain self-loop, or no invariants
    keep: int  # a clock whose being set means the deadline stays (same invariant), or -1
    cite: str  # model.dot:LINE of the label line


@dataclass(frozen=True, slots=True)
class GuardView:
    expr: str  # a Python expression over inst, t, env, tick
    text: str  # the guard as the model wrote it, for the comment
    cite: str


@dataclass(frozen=True, slots=True)
class InvariantView:
    clock: int
    bound: str  # Python expression over p (the params) for the bound
    plus: int  # 1 for `<=` (fires one unit after the bound), 0 for `<`
    jiffy: bool
    text: str


@dataclass(frozen=True, slots=True)
class ModuleView:
    model: str
    source: str
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
    table: tuple[tuple[tuple[str, tuple[EdgeView, ...]], ...], ...]  # per state: (event, edges)


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

    guards: list[GuardView] = []
    table = []
    for state in a.states:
        row = []
        for event in a.events:
            edges = []
            for edge in a.edges_from(state.name, event.name):
                guard_index = None
                if edge.guard is not None:
                    guard_index = len(guards)
                    guards.append(
                        GuardView(
                            python_guard(edge.guard, clock_index, jiffy),
                            guard_text(edge.guard),
                            cite(edge.span),
                        )
                    )
                edges.append(
                    EdgeView(
                        guard=guard_index,
                        dst=state_index[edge.dst],
                        resets=tuple(clock_index[r.env] for r in edge.resets),
                        rearm=_may_rearm(a, edge),
                        keep=_kept_clock(a, edge, clock_index),
                        cite=cite(edge.span),
                    )
                )
            if edges:
                row.append((event.name, tuple(edges)))
        table.append(tuple(row))

    invariants = []
    for state in a.states:
        inv = state.invariant
        if inv is None:
            invariants.append(None)
            continue
        i = clock_index[inv.clock]
        invariants.append(
            InvariantView(
                clock=i,
                bound=python_value(inv.bound),
                plus=0 if inv.strict else 1,
                jiffy=jiffy[i],
                text=f"{inv.clock} {inv.op} {value_text(inv.bound)}",
            )
        )

    return ModuleView(
        model=a.name,
        source=source,
        states=tuple(s.name for s in a.states),
        final_states=tuple(s.name for s in a.final_states),
        events=tuple(e.name for e in a.events),
        clocks=clocks,
        jiffy=jiffy,
        clock_units=tuple("jiffies" if j else "ns" for j in jiffy),
        envs=tuple(e.name for e in a.envs if not e.stored),
        parameters=tuple(p.name for p in a.parameters),
        invariants=tuple(invariants),
        init_resets=tuple(clock_index[r.env] for r in a.init_resets),
        guards=tuple(guards),
        table=tuple(table),
    )


def _may_rearm(a: Automaton, edge: Edge) -> bool:
    """Whether taking the edge can change the timer (semantics.py `_take` / `_arm`)."""
    if edge.src == edge.dst and not edge.resets:
        return False  # a plain self-loop keeps the running timer
    return a.state(edge.src).invariant is not None or a.state(edge.dst).invariant is not None


def _kept_clock(a: Automaton, edge: Edge, clock_index: Mapping[str, int]) -> int:
    """The clock whose being set makes re-arming a no-op, or -1.

    With the same invariant before and after and its clock neither reset nor
    unset, `_arm` computes reset + bound again: the deadline already armed.
    """
    src, dst = a.state(edge.src).invariant, a.state(edge.dst).invariant
    if src is None or src != dst or src.clock in edge.reset_envs:
        return -1
    return clock_index[src.clock]


# --- expressions ----------------------------------------------------------------
#
# Guards become Python expressions over `inst` (the object's record: `.resets`
# per clock, `.params`), `t` (ns), `env` (the event's read-only values) and
# `tick` (ns per jiffy).  `and`/`or` short-circuit as semantics.py's guard_holds
# does, so a missing env or parameter raises exactly when the oracle's would.


def python_value(value: Value) -> str:
    if isinstance(value, Number):
        return repr(value.value)
    scale = value.unit.scale if value.unit else 1
    read = f"inst.params[{value.name!r}]"
    return read if scale == 1 else f"{read} * {scale}"


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
        now = "t // tick" if jiffy[i] else "t"
        # A comparison reading an unset clock holds (rvgen's env-invalid escape).
        return f"(inst.resets[{i}] is None or {now} - inst.resets[{i}] {cmp.op} {bound})"
    return f"(int(env[{cmp.env!r}]) {cmp.op} {bound})"


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
