"""The reference LTL monitor: include/rv/ltl_monitor.h's runtime rules in Python.

Input: a Büchi automaton (buchi.py) and how each task's atoms are set up.
Output: the steps and violations the kernel's monitor would trace for the same
calls (`event_<m>` / `error_<m>`).  Each method names the ltl_monitor.h
function it follows:

- `task_init` (ltl_task_init): no state, every atom unknown, then the
  monitor's `ltl_atoms_init` values and `ltl_atoms_fetch`;
- `set` (ltl_atom_set): the atom's value, no step;
- `update` (ltl_atom_update): set, fetch, then either try to start (when no
  state is active: only once every atom is known, and only the initial states
  whose label holds; none holding leaves the monitor unstarted) or one step;
- `pulse` (ltl_atom_pulse): update to `value`, then set to `not value` and
  one more step (no fetch in between);
- a step (ltl_validate) moves every active state to its successors whose
  label holds; no successor at all is a violation, which leaves no state
  active, so the next update starts the monitor again.

The start itself is never checked and never traced.  Transitions depend only
on (active states, atom values), both bitmasks, so steps are memoized.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from hamodel.ltl.buchi import Buchi, Node

Task = object  # a task id: an int pid or a name


@dataclass(frozen=True, slots=True)
class Step:
    """One `event_<m>` line: active states, the atoms that hold, and the next states."""

    task: Task
    states: tuple[int, ...]
    atoms: tuple[str, ...]
    next: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Violation:
    """One `error_<m>` line (and a reaction): no state can follow `states` under `atoms`."""

    task: Task
    states: tuple[int, ...]
    atoms: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AtomSetup:
    """How the monitor's C sets up one atom (from the binding, hamodel/ltl/binding.py)."""

    init: bool | None = None  # value ltl_atoms_init gives it, None: left unknown
    init_new_tasks_only: bool = False  # only when task_creation is true
    fetched: bool = False  # ltl_atoms_fetch reads it from the task before every update


class MonitorError(ValueError):
    """A call the monitor cannot take (an unknown atom)."""


@dataclass
class _TaskState:
    states: int = 0  # bitmask of Büchi states; 0: not started, or just violated
    atoms: int = 0
    unknown: int = 0
    props: dict[str, bool] = field(default_factory=dict)  # what a fetch reads from the task


def compile_labels(b: Buchi) -> tuple[Callable[[int], bool], ...]:
    """Each state's label as a function of the atoms bitmask (bit i: atom i)."""
    bit = {a: i for i, a in enumerate(b.atoms)}

    def test(n: Node) -> Callable[[int], bool]:
        if n.kind == "atom":
            i = bit[n.name]
            return lambda m: bool(m >> i & 1)
        if n.kind == "not":
            i = bit[n.name]
            return lambda m: not m >> i & 1
        if n.kind == "const":
            value = n.value
            return lambda m: value
        left, right = test(b.nodes[n.left]), test(b.nodes[n.right])
        if n.kind == "and":
            return lambda m: left(m) and right(m)
        return lambda m: left(m) or right(m)

    out = []
    for s in b.states:
        parts = tuple(test(b.nodes[u]) for u in s.label)
        out.append(lambda m, parts=parts: all(p(m) for p in parts))
    return tuple(out)


class LtlMonitor:
    """Per-task monitors of one spec, as ltl_monitor.h keeps them in task_struct."""

    def __init__(
        self,
        buchi: Buchi,
        setup: Mapping[str, AtomSetup] | None = None,
        on_step: Callable[[Step], None] | None = None,
        on_violation: Callable[[Violation], None] | None = None,
    ) -> None:
        self.buchi = buchi
        self.atoms = buchi.atoms
        self.bit = {a: i for i, a in enumerate(buchi.atoms)}
        self.setup = dict(setup or {})
        unknown = sorted(set(self.setup) - set(self.atoms))
        if unknown:
            raise MonitorError(f"{unknown[0]} is no atom of {buchi.name}")
        self.fetched = tuple(a for a in self.atoms if self.setup.get(a, AtomSetup()).fetched)
        self.labels = compile_labels(buchi)
        self.initial = tuple(s.index for s in buchi.states if s.initial)
        self.edges = tuple(s.successors for s in buchi.states)
        self.all_atoms = (1 << len(self.atoms)) - 1
        self.on_step = on_step
        self.on_violation = on_violation
        self.tasks: dict[Task, _TaskState] = {}
        self.steps = 0  # ltl_validate steps taken, over all tasks
        self._steps: dict[tuple[int, int], int] = {}

    # --- ltl_monitor.h -------------------------------------------------------------

    def task_init(self, task: Task, creation: bool, props: Mapping[str, bool] | None = None
                  ) -> None:
        """ltl_task_init: at the monitor's enable (creation false) or a task's fork."""
        t = _TaskState(unknown=self.all_atoms, props=dict(props or {}))
        self.tasks[task] = t
        for atom, how in self.setup.items():
            if how.init is not None and (creation or not how.init_new_tasks_only):
                self._set(t, atom, how.init)
        self._fetch(t)

    def set(self, task: Task, atom: str, value: bool) -> None:
        """ltl_atom_set: record the value, take no step."""
        self._set(self._task(task), atom, value)

    def update(self, task: Task, atom: str, value: bool) -> None:
        """ltl_atom_update."""
        t = self._task(task)
        self._set(t, atom, value)
        self._fetch(t)
        if not t.states:
            if not t.unknown:  # ltl_attempt_start
                t.states = self._start(t.atoms)
            return
        self._validate(task, t)

    def pulse(self, task: Task, atom: str, value: bool) -> None:
        """ltl_atom_pulse: update to `value`, then back to `not value` with one more step."""
        self.update(task, atom, value)
        t = self.tasks[task]
        self._set(t, atom, not value)
        self._validate(task, t)

    def fetch_values(self, task: Task, props: Mapping[str, bool]) -> None:
        """What ltl_atoms_fetch reads from the task from now on (its priority, its flags)."""
        self._task(task).props.update(props)

    # --- reading -----------------------------------------------------------------

    def states(self, task: Task) -> tuple[int, ...]:
        t = self.tasks.get(task)
        return _bits(t.states) if t else ()

    def started(self, task: Task) -> bool:
        t = self.tasks.get(task)
        return bool(t and t.states)

    def atom_values(self, task: Task) -> dict[str, bool | None]:
        t = self._task(task)
        return {a: None if t.unknown >> i & 1 else bool(t.atoms >> i & 1)
                for i, a in enumerate(self.atoms)}

    def successors(self, states: int, atoms: int) -> int:
        """The states that may follow `states` (bitmask) when `atoms` hold (ltl_validate)."""
        key = (states, atoms)
        found = self._steps.get(key)
        if found is None:
            found = 0
            for s in _bits(states):
                for n in self.edges[s]:
                    if not found >> n & 1 and self.labels[n](atoms):
                        found |= 1 << n
            if len(self._steps) > 1 << 16:
                self._steps.clear()
            self._steps[key] = found
        return found

    # --- internals -----------------------------------------------------------------

    def _task(self, task: Task) -> _TaskState:
        t = self.tasks.get(task)
        if t is None:  # a task that ran before the monitor was enabled
            self.task_init(task, creation=False)
            t = self.tasks[task]
        return t

    def _set(self, t: _TaskState, atom: str, value: bool) -> None:
        i = self.bit.get(atom)
        if i is None:
            raise MonitorError(f"{atom} is no atom of {self.buchi.name}"
                               f" (its atoms: {', '.join(self.atoms)})")
        t.unknown &= ~(1 << i)
        t.atoms = t.atoms | 1 << i if value else t.atoms & ~(1 << i)

    def _fetch(self, t: _TaskState) -> None:
        for atom in self.fetched:
            if atom in t.props:
                self._set(t, atom, t.props[atom])

    def _start(self, atoms: int) -> int:
        started = 0
        for s in self.initial:
            if self.labels[s](atoms):
                started |= 1 << s
        return started

    def _validate(self, task: Task, t: _TaskState) -> None:
        if not t.states:
            return
        nxt = self.successors(t.states, t.atoms)
        self.steps += 1
        if self.on_step is not None:
            self.on_step(Step(task, _bits(t.states), self._true(t.atoms), _bits(nxt)))
        before = t.states
        t.states = nxt
        if not nxt and self.on_violation is not None:
            self.on_violation(Violation(task, _bits(before), self._true(t.atoms)))

    def _true(self, atoms: int) -> tuple[str, ...]:
        return tuple(a for i, a in enumerate(self.atoms) if atoms >> i & 1)


def _bits(mask: int) -> tuple[int, ...]:
    out = []
    i = 0
    while mask:
        if mask & 1:
            out.append(i)
        mask >>= 1
        i += 1
    return tuple(out)
