"""Read-only envs a generated KUnit case can set, and guards evaluated as a case sees them.

Input: the binding's env readers (hamodel.binding_kernel.EnvReader).  Output:
`Driver`s (how a case gives an env a value: a section that disables
interrupts or preemption, or a field of the mock object) and a three-valued
evaluation of guards: True, False, or None when the case cannot know (an env
it cannot set, a clock compared with a bound it does not decide).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hamodel.binding import Binding
from hamodel.binding_kernel import EnvReader
from hamodel.model import And, Automaton, Cmp, Guard, Not, Number, Or, Value


@dataclass(frozen=True, slots=True)
class Driver:
    """How a case gives a read-only env its `inside` value: it sends the event inside
    scoped_guard(`wrap`), or sets `field` of the mock object first.  `bare` is the
    value otherwise (None: the configuration decides)."""

    inside: int
    bare: int | None
    wrap: str | None = None
    field: str | None = None


# Readers whose value a section of code decides: (guard, value outside, value inside).
_WRAPS = {
    ("call", "irqs_disabled"): ("irqsave", 0, 1),
    # with preemption compiled out the count says nothing (kernel_params.BUILTINS)
    ("builtin", "preempt_disabled"): ("preempt", None, 1),
}


def drivers(a: Automaton, binding: Binding | None, monitor_type: str, objects: bool,
            dl_entities: bool) -> dict[str, Driver]:
    """The read-only envs of `a` a case can set, by name.  A field of the target is one
    only for a per_obj monitor whose mock object is the target (a task, or its
    deadline entity): a target the monitor makes itself (`objects`) is out of reach."""
    readers: dict[str, EnvReader] = {r.env: r for r in binding.envs} if binding else {}
    out = {}
    for env in a.envs:
        r = readers.get(env.name)
        if env.stored or r is None:
            continue
        wrap = _WRAPS.get((r.kind, r.name))
        if wrap is not None:
            name, bare, inside = wrap
            if r.negate:
                bare, inside = (None if bare is None else 1 - bare), 1 - inside
            out[env.name] = Driver(inside, bare, wrap=name)
        elif r.kind == "field" and monitor_type == "per_obj" and not objects:
            # a mock object's fields are 0 until a case sets one (and clears it after)
            field = f"dl.{r.name}" if dl_entities else r.name
            out[env.name] = Driver(1, 0, field=field)
    return out


def evaluate(g: Guard, clock: str | None, settable: Callable[[Value], bool],
             env: dict[str, int]) -> bool | None:
    """The guard in a case, the clock set a few us ago: True, False, or None when the
    case cannot know.  `settable` says whether a case decides a bound (sets it long);
    `env` holds the read-only envs a case sets."""
    if isinstance(g, Not):
        inner = evaluate(g.operand, clock, settable, env)
        return None if inner is None else not inner
    if isinstance(g, (And, Or)):
        left = evaluate(g.left, clock, settable, env)
        right = evaluate(g.right, clock, settable, env)
        if isinstance(g, And):
            if left is False or right is False:
                return False
            return None if left is None or right is None else True
        if left is True or right is True:
            return True
        return None if left is None or right is None else False
    return _compare(g, clock, settable, env)


def _compare(c: Cmp, clock: str | None, settable: Callable[[Value], bool],
             env: dict[str, int]) -> bool | None:
    if c.env == clock:
        # a set clock reads a few us in a case: below a bound the case sets long
        if not settable(c.value):
            return None
        return {"<": True, "<=": True, ">": False, ">=": False}.get(c.op)
    if c.env not in env or not isinstance(c.value, Number):
        return None
    value, bound = env[c.env], c.value.value
    return {"==": value == bound, "!=": value != bound, "<": value < bound,
            "<=": value <= bound, ">": value > bound, ">=": value >= bound}[c.op]
