"""The framework's semantics as a TChecker timed automaton: Automaton -> `System` -> text.

TChecker (github.com/ticktac-project/tchecker) checks reachability in timed
automata where guards and invariants *block*.  The kernel's framework never
blocks: an event with no table cell, a failing invariant check, a false guard
and a firing timer are violations.  So the translation makes each of those a
move into a violation location, and encodes what `hamodel.check.zones`
explores, one TChecker location per (state, timer mode):

- `S.none`, `S.armed`, `S.expired`: state S with nothing armed (monitoring
  started there and no event armed the timer yet), with its timer armed, or
  armed while the invariant was already false (time does not pass there:
  urgent; the next event fails the check);
- `S.invalid_event`, `S.guard`, `S.late`, `S.timer`: the violation reported
  in S (no cell, a false guard, the check at an event, the callback);
- per clock a bounded int `set_<clock>`: 0 while the clock is unset (the
  kernel's U64_MAX), 1 after its first reset.  A guard reading an unset clock
  holds (the whole-guard escape); an unset invariant clock counts from the
  arming, so arming resets it.

Times are integers in the checker's unit (ns, or jiffies for a jiffy-clock
model), constraints are closed (`x < c` is `x <= c - 1`), and the timing of
the checks and the callback is `hamodel.check.timing` for one platform and one
same-instant order.  Closed constraints make TChecker's dense time reach what
integer time reaches.  Read-only envs are chosen afresh at each event, so a
guard disjunct needs only some value that satisfies it: the env literals are
solved here and dropped.  What is not encoded: u64 arithmetic (the ns check's
wrap at a small uptime, HA125), and parameters without a value.

This module builds the system as data (`System`); `render` prints it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from hamodel.check.cells import Cell, table
from hamodel.check.constraints import Dnf, clock_lits, dnf, env_solution
from hamodel.check.timing import StateTiming, Timing, timing
from hamodel.model import Automaton, ClockKind
from hamodel.semantics import Platform

# identifiers TChecker's lexers read as keywords (declarations, then statements)
KEYWORDS = frozenset({
    "clock", "edge", "event", "int", "location", "process", "sync", "system",
    "if", "then", "else", "end", "while", "do", "local", "nop",
})
# the largest clock constant of a TChecker built with its default 32-bit integers
# (tchecker::dbm::MAX_VALUE = (INT32_MAX >> 1) - 1)
MAX_CONSTANT = (2**31 - 1 >> 1) - 1

MODES = ("none", "armed", "expired")
VIOLATIONS = ("invalid_event", "guard", "late", "timer")


class ExportError(ValueError):
    """A model this translation cannot express (said in the message, at `span`)."""

    def __init__(self, message: str, span=None) -> None:
        super().__init__(message)
        self.span = span


@dataclass(frozen=True, slots=True)
class Location:
    name: str
    labels: tuple[str, ...]
    invariant: tuple[str, ...] = ()  # a conjunction of atoms
    initial: bool = False
    urgent: bool = False


@dataclass(frozen=True, slots=True)
class Edge:
    src: str
    dst: str
    event: str
    provided: tuple[str, ...]  # a conjunction of atoms
    do: tuple[str, ...]  # statements in order


@dataclass(frozen=True, slots=True)
class System:
    name: str
    process: str
    header: tuple[str, ...]  # comment lines
    events: tuple[str, ...]
    clocks: tuple[str, ...]
    ints: tuple[tuple[str, int], ...]  # 0..1 flags with their initial value
    locations: tuple[Location, ...]
    edges: tuple[Edge, ...]


class _Names:
    """TChecker identifiers, never two alike: a wanted name, or with a suffix when it
    is a keyword or taken."""

    def __init__(self) -> None:
        self.taken: set[str] = set()

    def fresh(self, wanted: str) -> str:
        name, n = wanted, 1
        while name in KEYWORDS or name in self.taken:
            n += 1
            name = f"{wanted}_{n}"
        self.taken.add(name)
        return name


@dataclass(frozen=True, slots=True)
class Cond:
    """A conjunction: clocks set (True) or unset (False), and clock bounds."""

    flags: tuple[tuple[str, bool], ...] = ()
    lows: tuple[tuple[str, int], ...] = ()  # clock >= bound
    highs: tuple[tuple[str, int], ...] = ()  # clock <= bound

    def __and__(self, other: Cond) -> Cond | None:
        """Both, or None when they contradict each other."""
        flags = dict(self.flags)
        for c, v in other.flags:
            if flags.setdefault(c, v) != v:
                return None
        lows, highs = dict(self.lows), dict(self.highs)
        for c, b in other.lows:
            lows[c] = max(lows.get(c, b), b)
        for c, b in other.highs:
            highs[c] = min(highs.get(c, b), b)
        if any(b > highs.get(c, b) for c, b in lows.items()):
            return None
        return Cond(tuple(sorted(flags.items())), tuple(sorted(lows.items())),
                    tuple(sorted(highs.items())))


TRUE = Cond()


def _all(*conds: Cond | None) -> Cond | None:
    out: Cond | None = TRUE
    for c in conds:
        out = None if out is None or c is None else out & c
    return out


def translate(a: Automaton, params: Mapping[str, int], platform: Platform) -> System:
    """The TChecker system of `a` on `platform` (its timer kind and same-instant
    order fixed) with every parameter given.  Raises ExportError, or
    timing.Unsupported for a model mixing ns and jiffy clocks."""
    missing = [p.name for p in a.parameters if p.name not in params]
    if missing:
        raise ExportError("give a value to every parameter: --param "
                          + " --param ".join(f"{p}=VALUE" for p in missing))
    tm = timing(a, platform, params)
    _check_constants(a, params, tm)
    return _Translation(a, params, tm).system()


def _check_constants(a: Automaton, params: Mapping[str, int], tm: Timing) -> None:
    """Every constant must fit TChecker's clock bounds."""
    for s in a.states:
        st = tm.states.get(s.name)
        if st is None:
            continue
        used = [v for v in (st.pass_max, st.fire_lo, st.fire_hi, st.event_max) if v is not None]
        if used and max(used) + 2 > MAX_CONSTANT:
            raise ExportError(
                f"the invariant of {s.name!r} needs clock constants up to {max(used) + 2}"
                f" {_unit(tm)}, above TChecker's limit {MAX_CONSTANT}", s.invariant.span
                if s.invariant else s.span)
    clocks = frozenset(c.name for c in a.clocks)
    for e in a.edges:
        for conj in _dnf(e.guard, clocks, params, False) + _dnf(e.guard, clocks, params, True):
            for lit in clock_lits(conj):
                if abs(lit.bound) > MAX_CONSTANT:
                    raise ExportError(
                        f"the guard of {e.src} -{e.event}-> {e.dst} compares {lit.clock!r} with"
                        f" {lit.bound} {_unit(tm)}, above TChecker's limit {MAX_CONSTANT}",
                        e.guard.span if e.guard and e.guard.span else e.span)


def _unit(tm: Timing) -> str:
    return "jiffies" if tm.unit is ClockKind.JIFFIES else "ns"


def _dnf(guard, clocks: frozenset[str], params: Mapping[str, int], negate: bool) -> Dnf:
    """The guard's disjuncts that some read-only env values satisfy."""
    return tuple(c for c in dnf(guard, clocks, params, negate) if env_solution(c) is not None)


class _Translation:
    def __init__(self, a: Automaton, params: Mapping[str, int], tm: Timing) -> None:
        self.a, self.params, self.tm = a, params, tm
        self.tab = table(a)
        self.clockset = frozenset(c.name for c in a.clocks)
        self.system_name = _Names().fresh(a.name)
        names = _Names()
        for s in a.states:  # states name locations and labels
            names.fresh(s.name)
        self.event = {e.name: names.fresh(e.name) for e in a.events}
        self.clock = {c.name: names.fresh(c.name) for c in a.clocks}
        for e in a.envs:
            names.fresh(e.name)
        self.process = names.fresh("monitor")
        self.timer_event = names.fresh("timer")
        started = {r.env for r in a.init_resets}
        # a clock reset at the start is never unset: it needs no flag
        self.flag = {c.name: names.fresh(f"set_{c.name}") for c in a.clocks
                     if c.name not in started}
        self.violation_label = names.fresh("violation")
        self.edges: list[Edge] = []
        self.violations: set[tuple[str, str]] = set()

    # --- conditions ---

    def is_set(self, clock: str, value: bool) -> Cond | None:
        """The clock is set (value True) or unset; None when that never happens."""
        if clock not in self.flag:
            return TRUE if value else None
        return Cond(flags=((clock, value),))

    @staticmethod
    def upper(clock: str, c: int) -> Cond:
        return Cond(highs=((clock, c),))

    @staticmethod
    def lower(clock: str, c: int) -> Cond:
        return Cond(lows=((clock, c),))

    def literals(self, conj) -> Cond | None:
        out: Cond | None = TRUE
        for lit in clock_lits(conj):
            out = _all(out, self.upper(lit.clock, lit.bound) if lit.upper
                       else self.lower(lit.clock, lit.bound))
        return out

    def atoms(self, cond: Cond) -> tuple[str, ...]:
        out = [f"{self.flag[c]}=={int(v)}" for c, v in cond.flags]
        highs = dict(cond.highs)
        for c, b in cond.lows:
            if highs.get(c) == b:
                out.append(f"{self.clock[c]}=={b}")
            elif b > 0:
                out.append(f"{self.clock[c]}>={b}")
        out += [f"{self.clock[c]}<={b}" for c, b in cond.highs if dict(cond.lows).get(c) != b]
        return tuple(out)

    def resets(self, clocks: tuple[str, ...]) -> tuple[str, ...]:
        out = tuple(f"{self.clock[c]}=0" for c in clocks)
        return out + tuple(f"{self.flag[c]}=1" for c in clocks if c in self.flag)

    def edge(self, src: str, dst: str, event: str, cond: Cond | None,
             do: tuple[str, ...] = ()) -> None:
        if cond is not None:
            self.edges.append(Edge(src, dst, event, self.atoms(cond), do))

    # --- the system ---

    def system(self) -> System:
        a = self.a
        locations: list[Location] = []
        for s in a.states:
            st = self.tm.states.get(s.name)
            for mode in MODES if st is not None else ("none",):
                locations.append(self.location(s.name, mode, st))
                self.moves(s.name, mode, st)
        order = {s.name: i for i, s in enumerate(a.states)}
        for state, kind in sorted(self.violations,
                                  key=lambda v: (order[v[0]], VIOLATIONS.index(v[1]))):
            locations.append(Location(
                f"{state}.{kind}",
                (self.violation_label, f"violation.{kind}", f"violation.{kind}.{state}")))
        return System(
            self.system_name, self.process, self.header(),
            tuple(self.event[e.name] for e in a.events) + (self.timer_event,),
            tuple(self.clock[c.name] for c in a.clocks),
            tuple((self.flag[c.name], 0) for c in a.clocks if c.name in self.flag),
            tuple(locations), tuple(self.edges))

    def header(self) -> tuple[str, ...]:
        tm, p = self.tm, self.tm.platform
        lines = [
            f"{self.a.name}: the kernel framework's semantics of the monitor, for TChecker",
            "made by: hamodel export --format tchecker (docs/check.md, TChecker export)",
            f"platform: {tm.timer.value}, {p.tie.value}, timer latency {p.latency_ns} ns,"
            f" HZ={p.hz}; time in {_unit(tm)}",
        ]
        if self.params:
            lines.append("parameters: " + ", ".join(f"{k}={v}" for k, v in sorted(
                self.params.items())))
        lines += [f"inexact: the timer of {s} fires anywhere in a window: {why}"
                  for s, why in tm.inexact]
        lines += [
            "locations: S.none S.armed S.expired per state S (its timer mode) labelled S;",
            "S.invalid_event S.guard S.late S.timer per violation, labelled"
            f" {self.violation_label}",
            "not encoded: u64 wraps (the ns check below an uptime of B, HA125)",
        ]
        return tuple(lines)

    def location(self, state: str, mode: str, st: StateTiming | None) -> Location:
        invariant: tuple[str, ...] = ()
        if mode == "armed" and st is not None and st.fire_hi is not None:
            invariant = self.atoms(self.upper(st.clock, st.fire_hi))
        initial = state == self.a.initial.name and mode == self.initial_mode(st)
        return Location(f"{state}.{mode}", (state,), invariant, initial, mode == "expired")

    def initial_mode(self, st: StateTiming | None) -> str:
        """As zones.py: the generated start path arms the timer when the model has
        `__init` resets; a start without them arms nothing."""
        if not self.a.init_resets or st is None:
            return "none"
        return "armed" if st.pass_max is None or st.pass_max >= 0 else "expired"

    def violate(self, state: str, mode: str, kind: str, event: str,
                cond: Cond | None) -> None:
        if cond is not None:
            self.violations.add((state, kind))
            self.edge(f"{state}.{mode}", f"{state}.{kind}", event, cond)

    def moves(self, state: str, mode: str, st: StateTiming | None) -> None:
        """Every move out of (state, mode): events, violations and the callback."""
        src = f"{state}.{mode}"
        when = TRUE  # an event comes before the timer's callback
        if mode == "armed" and st is not None and st.event_max is not None:
            when = self.upper(st.clock, st.event_max)
        elif mode == "expired" and st is not None and st.expired_now:
            assert st.pass_max is not None
            when = self.lower(st.clock, st.pass_max + 2)
        passes, fails = self.check(mode, st)
        for ev in self.a.events:
            name = self.event[ev.name]
            cell = self.tab.get(state, ev.name)
            if cell is None:
                self.violate(state, mode, "invalid_event", name, when)
                continue
            for f in fails:
                self.violate(state, mode, "late", name, _all(when, f))
            holds, false = self.guard(cell)
            for p in passes:
                for g in false:
                    self.violate(state, mode, "guard", name, _all(when, p, g))
                for h in holds:
                    for dst, cond, do in self.successors(cell, mode):
                        self.edge(src, dst, name, _all(when, p, h, cond), do)
        if st is not None and st.fire_lo is not None:
            if mode == "armed":
                self.violate(state, mode, "timer", self.timer_event,
                             self.lower(st.clock, st.fire_lo))
            elif mode == "expired" and st.expired_fires:
                self.violate(state, mode, "timer", self.timer_event, TRUE)

    def check(self, mode: str, st: StateTiming | None) -> tuple[list[Cond], list[Cond]]:
        """ha_verify_invariants at an event: the cases where it passes, and fails."""
        if st is None:
            return [TRUE], []
        if mode == "expired":
            return [], [TRUE]
        passes: list[Cond] = []
        fails: list[Cond] = []
        unset = self.is_set(st.clock, False)
        if unset is not None:  # ns: U64_MAX passes; jiffies: time_after64 fails
            (passes if st.unset_passes else fails).append(unset)
        is_set = self.is_set(st.clock, True)
        assert is_set is not None
        if st.pass_max is None:
            passes.append(is_set)
        else:
            passes.append(is_set & self.upper(st.clock, st.pass_max))
            fails.append(is_set & self.lower(st.clock, st.pass_max + 1))
        return [c for c in passes if c is not None], [c for c in fails if c is not None]

    def guard(self, cell: Cell) -> tuple[list[Cond], list[Cond]]:
        """ha_verify_guards: the cases where the joined guard holds (an unset clock it
        reads makes it hold), and where it fails."""
        if cell.guard is None:
            return [TRUE], []
        reads = sorted(cell.reads)
        holds = [c for c in (self.is_set(r, False) for r in reads) if c is not None]
        all_set = _all(*(self.is_set(r, True) for r in reads))
        holds += [c for conj in _dnf(cell.guard, self.clockset, self.params, False)
                  if (c := _all(all_set, self.literals(conj))) is not None]
        fails = [c for conj in _dnf(cell.guard, self.clockset, self.params, True)
                 if (c := _all(all_set, self.literals(conj))) is not None]
        return holds, fails

    def successors(self, cell: Cell, mode: str) -> list[tuple[str, Cond | None, tuple[str, ...]]]:
        """The resets, then ha_setup_invariants: (target, condition, statements)."""
        do = self.resets(cell.resets)
        if not self.tab.rearms(cell):
            return [(f"{cell.dst}.{mode}", TRUE, do)]  # a self-loop keeps the timer
        st = self.tm.states.get(cell.dst)
        if st is None:
            return [(f"{cell.dst}.none", TRUE, do)]  # cancelled, or nothing to arm
        y, bound = st.clock, st.pass_max
        at_zero = "armed" if bound is None or bound >= 0 else "expired"
        if y in cell.resets:
            return [(f"{cell.dst}.{at_zero}", TRUE, do)]
        # unset: passed = 0, the timer counts from now
        out = [(f"{cell.dst}.{at_zero}", self.is_set(y, False), do + (f"{self.clock[y]}=0",))]
        is_set = self.is_set(y, True)
        if bound is None:
            out.append((f"{cell.dst}.armed", is_set, do))
        else:
            out.append((f"{cell.dst}.armed", _all(is_set, self.upper(y, bound)), do))
            out.append((f"{cell.dst}.expired", _all(is_set, self.lower(y, bound + 1)), do))
        return out


def render(system: System) -> str:
    """The system in TChecker's file format, one declaration per line."""
    out = [f"# {line}" for line in system.header]
    out.append(f"system:{system.name}")
    out.append("")
    out += [f"event:{e}" for e in system.events]
    out += [f"clock:1:{c}" for c in system.clocks]
    out += [f"int:1:0:1:{init}:{name}" for name, init in system.ints]
    out.append("")
    out.append(f"process:{system.process}")
    for loc in system.locations:
        attrs = []
        if loc.initial:
            attrs.append("initial:")
        if loc.urgent:
            attrs.append("urgent:")
        if loc.labels:
            attrs.append("labels:" + ",".join(loc.labels))
        if loc.invariant:
            attrs.append("invariant:" + " && ".join(loc.invariant))
        out.append(f"location:{system.process}:{loc.name}{{{' : '.join(attrs)}}}")
    for e in system.edges:
        attrs = []
        if e.provided:
            attrs.append("provided:" + " && ".join(e.provided))
        if e.do:
            attrs.append("do:" + "; ".join(e.do))
        out.append(f"edge:{system.process}:{e.src}:{e.dst}:{e.event}{{{' : '.join(attrs)}}}")
    return "\n".join(out) + "\n"
