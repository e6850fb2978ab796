"""Replaying witnesses through hamodel.semantics: Witness -> does it reach its verdict?

The oracle is `semantics.Monitor` on the witness's platform, started as the
witness says (the monitor's start routine, a start event whose event is not
processed, or a start-run event of its first event).  A fresh Monitor is a
deep copy of a pristine one that shares its Semantics, whose construction
costs more than a whole replay; `Replays` shares the replay of common prefixes
between the witnesses of one zone graph.
"""

from __future__ import annotations

import copy
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from hamodel.check.cells import edge_reads, escapes_of, table
from hamodel.check.goals import Witness
from hamodel.model import And, Automaton, ClockKind, Guard, Not, Or
from hamodel.semantics import (
    U64,
    U64_MAX,
    Monitor,
    Moved,
    Platform,
    Semantics,
    Violation,
    ViolationKind,
)

OBJ = "obj"
SNAPSHOT_EVERY = 16  # Replays keeps the oracle's state on every 16th event of a chain
SNAPSHOTS = 128  # ... and on the last prefixes asked for, at most this many


_TEMPLATES: dict[tuple, tuple[Automaton, Monitor]] = {}


def _monitor(a: Automaton, params: Mapping[str, int], platform: Platform) -> Monitor:
    """A fresh Monitor: a deep copy of a pristine one that shares its Semantics (whose
    construction costs more than a whole witness's replay)."""
    key = (id(a), tuple(sorted(params.items())), platform)
    cached = _TEMPLATES.get(key)
    if cached is None or cached[0] is not a:
        if len(_TEMPLATES) > 256:
            _TEMPLATES.clear()
        cached = (a, Monitor(a, params=dict(params), platform=platform))
        _TEMPLATES[key] = cached
    template = cached[1]
    shared = {id(x): x for x in (template.sem, template.automaton, template.params,
                                 template.platform)}
    return copy.deepcopy(template, shared)


@dataclass
class _Run:
    monitor: Monitor
    prefix_ok: bool  # each event before the last moved the object, nothing else was traced
    outcomes: list  # from the last event on: the timers due by then, the event, the callback
    before: object  # the object state before the last event (timers due by then run)
    after: object  # ... after the last event
    deadline: int | None  # when the armed timer fired (goal "timer")


def run_witness(a: Automaton, w: Witness, start: str) -> _Run:
    m = _monitor(a, dict(w.params), w.platform)
    u = w.uptime
    events = list(w.events)
    out: list = []
    before = None
    if start == "start":
        _, out = m.start(OBJ, u)
    elif start == "start_event":
        out = m.start_event(OBJ, u, a.events[0].name)
    else:
        first = events.pop(0)
        if not events:
            before = m.sem.start(u, dict(w.params))
        out = m.start_run_event(OBJ, u, first.event, dict(first.env))
    tail_from = 0 if start == "start_run_event" and not events else len(out)
    for i, ev in enumerate(events):
        if i == len(events) - 1:
            tail_from = len(out)
            out += m.advance(u + ev.time)
            before = m.object_state(OBJ)
        out += m.event(OBJ, u + ev.time, ev.event, dict(ev.env))
    prefix = out[:tail_from]
    ok = len(prefix) == max(len(w.events) - 1, 0) and all(isinstance(o, Moved) for o in prefix)
    return _finish(w, m, ok, out[tail_from:], before)


def _finish(w: Witness, m: Monitor, prefix_ok: bool, tail: list, before) -> _Run:
    after = m.object_state(OBJ)
    deadline = None
    if w.goal.kind == "timer":
        deadline = m.next_deadline()
        if deadline is not None:
            tail += m.advance(deadline + 1)  # past it: callbacks due by then have run
    return _Run(m, prefix_ok, tail, before, after, deadline)


class Replays:
    """Replays from the monitor's start routine that share their common prefixes.

    The witnesses of one zone graph (one platform, one parameter valuation, one
    uptime) are chains of concrete.RunNode; the oracle's state after a node is
    kept on the node, so each event of a shared prefix is replayed once and a
    witness costs its own last events only.
    """

    def __init__(self, a: Automaton, params: Mapping[str, int], platform: Platform,
                 uptime: int) -> None:
        self.a, self.params, self.platform, self.uptime = a, dict(params), platform, uptime
        self._start: tuple[Monitor, bool] | None = None
        self._kept: deque = deque()  # the nodes that hold a state, oldest first

    def _after(self, node) -> tuple[Monitor, bool]:
        """The oracle after the chain that ends at `node` (None: just started), and
        whether every event of it moved the object.  Shared: fork before use.

        The state is kept on the asked node and on every SNAPSHOT_EVERY-th node of
        the way there: a later witness replays at most that many events of a
        prefix it shares, and the copies stay few."""
        asked = node
        todo = []
        while node is not None and node.snapshot is None:
            todo.append(node)
            node = node.parent
        if node is not None:
            m, ok = node.snapshot
        else:
            if self._start is None:
                first = _monitor(self.a, self.params, self.platform)
                _, out = first.start(OBJ, self.uptime)
                self._start = (first, not out)
            m, ok = self._start
        working = False  # whether m is this call's own copy
        for i, node in enumerate(reversed(todo), 1):
            if ok:
                if not working:
                    m, working = m.fork(), True
                ev = node.event
                out = m.event(OBJ, self.uptime + ev.time, ev.event, dict(ev.env))
                ok = len(out) == 1 and isinstance(out[0], Moved)
            if i % SNAPSHOT_EVERY == 0:
                node.snapshot = (m.fork() if working and node is not asked else m, ok)
            elif node is asked:
                self._keep(node, m, ok)  # the last one: nothing changes m after it
        return m, ok

    def _keep(self, node, m: Monitor, ok: bool) -> None:
        """Keep the state at a witness's prefix; past SNAPSHOTS of those, forget the
        oldest.  (The states on every SNAPSHOT_EVERY-th event stay: from any node
        a replay resumes within that many events.)"""
        node.snapshot = (m, ok)
        self._kept.append(node)
        if len(self._kept) > SNAPSHOTS:
            self._kept.popleft().snapshot = None

    def run(self, w: Witness, prefix) -> _Run:
        """Replay `w`, whose events before the last are the chain ending at `prefix`."""
        m, ok = self._after(prefix)
        m = m.fork()
        tail: list = []
        before = None
        if w.events:
            ev = w.events[-1]
            tail += m.advance(self.uptime + ev.time)
            before = m.object_state(OBJ)
            tail += m.event(OBJ, self.uptime + ev.time, ev.event, dict(ev.env))
        return _finish(w, m, ok, tail, before)


def replay(automaton: Automaton, w: Witness, start: str = "start") -> list[Moved | Violation]:
    """What the oracle traces from the witness's last event on."""
    return run_witness(automaton, w, start).outcomes


def confirms(automaton: Automaton, w: Witness, starts: Sequence[str] | None = None) -> bool:
    """Does the oracle, replaying the witness from each start it allows (or those
    given), reach its verdict?"""
    return all(_confirms(automaton, w, start) for start in starts or w.start_kinds())


def _confirms(a: Automaton, w: Witness, start: str) -> bool:
    return judge(a, w, run_witness(a, w, start))


def judge(a: Automaton, w: Witness, run: _Run) -> bool:
    """Whether a replay of the witness reached its verdict."""
    g = w.goal
    mon, before = run.monitor, run.before
    if not run.prefix_ok:
        return False
    # the last event moves the object too, unless it is the one reported
    moves_needed = 1 if w.events and g.kind in ("reach", "entry", "timer") else 0
    moves, rest = run.outcomes[:moves_needed], run.outcomes[moves_needed:]
    if len(moves) != moves_needed or not all(isinstance(o, Moved) for o in moves):
        return False
    sem = mon.sem
    if g.kind in ("reach", "entry"):
        if rest:
            return False
        obj = run.after
        if obj is None or obj.state != g.state:
            return False
        at = w.uptime + (w.events[-1].time if w.events else 0)
        if g.unset is not None and _unset(sem, obj) != g.unset:
            return False
        if g.armed is not None and (obj.fire_at is not None) != g.armed:
            return False
        if g.kind == "entry":
            return bool(w.events) and not _framework_invariant(sem, obj, at)
        return True
    if g.kind == "timer":
        return (len(rest) == 1 and isinstance(rest[0], Violation)
                and rest[0].kind is ViolationKind.INVARIANT and rest[0].event is None
                and rest[0].state == g.state)
    last_event = w.events[-1]
    if before is None or before.state != g.state:
        return False
    if g.kind in ("invalid_event", "guard", "late", "wrap"):
        kind = {"invalid_event": ViolationKind.INVALID_EVENT, "guard": ViolationKind.GUARD,
                "late": ViolationKind.INVARIANT, "wrap": ViolationKind.INVARIANT}[g.kind]
        return (len(rest) == 1 and isinstance(rest[0], Violation) and rest[0].kind is kind
                and rest[0].state == g.state and rest[0].event == g.event)
    # holds / only / dropped: the check passed and the guard is read as the goal says
    if len(rest) != 1 or (isinstance(rest[0], Violation)
                          and rest[0].kind is not ViolationKind.GUARD):
        return False
    assert g.edge is not None
    t = w.uptime + last_event.time
    env = _env_at(w)
    cell = table(a).get(g.state, last_event.event)
    assert cell is not None
    reads = edge_reads(a, g.edge) if g.kind == "dropped" else escapes_of(a, cell, g.edge)
    if not _guard_holds(sem, a.edges[g.edge].guard, reads, before, t, env):
        return False
    if g.kind == "only":
        return not any(_guard_holds(sem, a.edges[j].guard, escapes_of(a, cell, j), before, t,
                                    env) for j in cell.edges if j != g.edge)
    return True


def _env_at(w: Witness) -> dict[str, int]:
    """The env values the last event brings (what its guards read)."""
    return dict(w.events[-1].env) if w.events else {}


_INVARIANTS: dict[int, tuple[Automaton, dict]] = {}


def _invariants(a: Automaton) -> dict:
    """Per state name its invariant (looked up once per witness)."""
    cached = _INVARIANTS.get(id(a))
    if cached is None or cached[0] is not a:
        if len(_INVARIANTS) > 256:
            _INVARIANTS.clear()
        cached = _INVARIANTS[id(a)] = (a, {s.name: s.invariant for s in a.states})
    return cached[1]


def _unset(sem: Semantics, obj) -> frozenset[str]:
    return frozenset(c for c, v in zip(sem.clock_names, obj.store, strict=True)
                     if v == U64_MAX)


def _framework_invariant(sem: Semantics, obj, t: int) -> bool:
    """Whether the framework's check of the object's state holds at t (clk <= B for
    ns clocks, clk < B for jiffy clocks; the model's < or <= is not read)."""
    inv = _invariants(sem.automaton)[obj.state]
    if inv is None:
        return True
    c = sem.clock_value(obj, inv.clock, t)
    if c is None:
        return True
    b = sem.value(inv.bound, obj) % U64
    jiffy = any(x.name == inv.clock and x.clock_kind is ClockKind.JIFFIES
                for x in sem.automaton.clocks)
    return c < b if jiffy else c <= b


def _guard_holds(sem: Semantics, guard: Guard | None, reads: frozenset[str], obj, t: int,
                 env: Mapping[str, int]) -> bool:
    """A guard as the generated ha_verify_guards reads it: any unset clock it reads
    makes it hold; comparisons are u64."""
    if any(sem.clock_value(obj, c, t) is None for c in reads):
        return True
    return _eval(sem, guard, obj, t, env)


def _eval(sem: Semantics, g: Guard | None, obj, t: int, env: Mapping[str, int]) -> bool:
    if g is None:
        return True
    if isinstance(g, And):
        return _eval(sem, g.left, obj, t, env) and _eval(sem, g.right, obj, t, env)
    if isinstance(g, Or):
        return _eval(sem, g.left, obj, t, env) or _eval(sem, g.right, obj, t, env)
    if isinstance(g, Not):
        return not _eval(sem, g.operand, obj, t, env)
    left = sem.env_value(obj, g.env, t, env)
    right = sem.value(g.value, obj) % U64
    return {"==": left == right, "!=": left != right, "<": left < right,
            "<=": left <= right, ">": left > right, ">=": left >= right}[g.op]
