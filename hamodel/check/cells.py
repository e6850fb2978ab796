"""The kernel's transition table: Automaton -> one `Cell` per (state, event).

da_monitor.h keeps one next state per (state, event) and the generated
ha_verify_guards one guard and one set of resets: the first edge in the
model's canonical order gives the next state and the resets, the guards of
the edges to that same state are joined by `||`, and an edge to another state
is not in the table at all.  The guard's unset-clock escape covers the whole
joined guard, one `ha_monitor_env_invalid(c) ||` per clock it reads.
hamodel.semantics builds the same table (tests/test_check_zones.py compares).
"""

from __future__ import annotations

from dataclasses import dataclass

from hamodel.model import Automaton, Guard, Or, comparisons


@dataclass(frozen=True, slots=True)
class Cell:
    src: str
    event: str
    dst: str
    guard: Guard | None  # the joined guard; None: always holds
    resets: tuple[str, ...]  # clocks, the first edge's
    reads: frozenset[str]  # clocks the joined guard reads: any unset one makes it hold
    edges: tuple[int, ...]  # indices of the edges that make the cell (first first)
    dropped: tuple[int, ...]  # edges for (src, event) to another state: never taken

    @property
    def first(self) -> int:
        return self.edges[0]

    @property
    def key(self) -> tuple[str, str]:
        return (self.src, self.event)


@dataclass(frozen=True, slots=True)
class Table:
    cells: dict[tuple[str, str], Cell]
    # rvgen's self_loop_reset_events: a self-loop of these events re-arms the timer
    rearm_events: frozenset[str]

    def get(self, state: str, event: str) -> Cell | None:
        return self.cells.get((state, event))

    def cell_of_edge(self, k: int, a: Automaton) -> Cell:
        e = a.edges[k]
        return self.cells[(e.src, e.event)]

    def rearms(self, cell: Cell) -> bool:
        """Whether taking the cell runs ha_setup_invariants' arming (or cancelling)."""
        return cell.dst != cell.src or cell.event in self.rearm_events


_TABLES: dict[int, tuple[Automaton, Table]] = {}


def table(a: Automaton) -> Table:
    """The kernel's table of `a` (built once per model: every stage of a check reads it)."""
    cached = _TABLES.get(id(a))
    if cached is None or cached[0] is not a:
        if len(_TABLES) > 256:
            _TABLES.clear()
        cached = _TABLES[id(a)] = (a, _build(a))
    return cached[1]


def _build(a: Automaton) -> Table:
    clocks = {c.name for c in a.clocks}
    groups: dict[tuple[str, str], list[int]] = {}
    for k, e in enumerate(a.edges):
        groups.setdefault((e.src, e.event), []).append(k)
    cells: dict[tuple[str, str], Cell] = {}
    for (src, event), ks in groups.items():
        first = a.edges[ks[0]]
        same = tuple(k for k in ks if a.edges[k].dst == first.dst)
        guard: Guard | None = None
        if all(a.edges[k].guard is not None for k in same):
            guard = a.edges[same[0]].guard
            for k in same[1:]:
                guard = Or(guard, a.edges[k].guard)  # type: ignore[arg-type]
        reads = frozenset(c.env for c in comparisons(guard) if c.env in clocks)
        cells[(src, event)] = Cell(
            src, event, first.dst, guard, first.reset_envs, reads, same,
            tuple(k for k in ks if k not in same),
        )
    rearm = frozenset(e.event for e in a.edges if e.src == e.dst and e.resets)
    return Table(cells, rearm)


def edge_reads(a: Automaton, k: int) -> frozenset[str]:
    """The clocks one edge's own guard reads (its escape, were it alone in the table)."""
    clocks = {c.name for c in a.clocks}
    return frozenset(c.env for c in comparisons(a.edges[k].guard) if c.env in clocks)


def escapes_of(a: Automaton, cell: Cell, k: int) -> frozenset[str]:
    """The clocks whose being unset makes edge k's guard count as holding: the cell's
    (the kernel's escape), and the edge's own where the cell has no guard to read."""
    return cell.reads | edge_reads(a, k)


_READS: dict[int, tuple[Automaton, dict[tuple[str, str], list[str]]]] = {}


def env_reads(a: Automaton) -> dict[tuple[str, str], list[str]]:
    """Per (state, event): the read-only envs its edges' guards read (cached per model)."""
    cached = _READS.get(id(a))
    if cached is None or cached[0] is not a:
        clocks = {c.name for c in a.clocks}
        reads: dict[tuple[str, str], list[str]] = {}
        for e in a.edges:
            names = reads.setdefault((e.src, e.event), [])
            names += [c.env for c in comparisons(e.guard)
                      if c.env not in clocks and c.env not in names]
        if len(_READS) > 256:
            _READS.clear()
        cached = _READS[id(a)] = (a, reads)
    return cached[1]
