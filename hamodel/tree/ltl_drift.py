"""A kernel tree's LTL spec and the in-tree `<m>.h` made from it -> a Report.

The spec is checked as `hamodel check X.ltl` checks it; then the header of
kernel/trace/rv/monitors/<m>/ (rvgen's layout for include/rv/ltl_monitor.h,
read by hamodel/ltl/header.py) is compared with the spec's automaton, for
what the kernel would do differently, never for bytes or state numbers:

- HA213 `drift-ltl-atoms`: an atom the spec has and `enum ltl_atom` lacks,
  or the other way round (nothing else is compared then);
- HA214 `drift-ltl-atom-names` (warning): an `ltl_atom_str()` name that is
  not the one rvgen gives the atom, so the trace names it otherwise;
- HA215 `drift-ltl-automaton`: no renaming of the header's states gives the
  spec's automaton.  An error with the shortest run (the atoms at each
  update) after which one of the two reports a violation and the other does
  not (hamodel/ltl/compare.py); a warning when they report alike on every
  run, as a header whose states were merged or split by hand would.

Every finding sits in the header, at the line that differs, with a note at
the spec's line.
"""

from __future__ import annotations

import dataclasses
import re

from hamodel import diagnostics as dg
from hamodel.check import Options, Report
from hamodel.check.timed import Finding
from hamodel.diagnostics import Diagnostic, Note
from hamodel.load import SOURCES
from hamodel.ltl.buchi import BuchiTooLarge, build_buchi
from hamodel.ltl.check import atom_span
from hamodel.ltl.cli import check_loaded
from hamodel.ltl.compare import Difference, TooLarge, atoms_of, first_difference
from hamodel.ltl.formula import LtlSpec
from hamodel.ltl.header import (
    HeaderError,
    Table,
    graph_of_buchi,
    graph_of_table,
    isomorphism,
    parse_header,
)
from hamodel.ltl.load import load_ltl_text
from hamodel.ltl.names import abbreviations
from hamodel.source import SourceText, Span
from hamodel.tree import codes
from hamodel.tree.layout import KernelTree, Monitor

_NAMES = re.compile(r"names\[\]\s*=\s*\{(.*?)\};", re.S)
_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')


def examine_ltl(tree: KernelTree, rel: str, monitor: Monitor | None, options: Options) -> Report:
    shown = tree.show(rel)
    try:
        text = tree.path(rel).read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return Report(shown, (Finding(dg.error(dg.IO_ERROR, f"{shown}: {exc}", None)),))
    spec, diags = load_ltl_text(text, shown)
    report, _ = check_loaded(shown, tree.path(rel), spec, diags, options.violate)
    if spec is None or monitor is None:
        return report
    path = tree.path(monitor.file(".h"))
    if not path.is_file():
        return report
    header_name = tree.show(monitor.file(".h"))
    header = path.read_text(encoding="utf-8", errors="replace")
    SOURCES[header_name] = SourceText(header_name, header)
    drift = header_drift(spec, header, header_name)
    findings = list(report.findings) + [Finding(d) for d in drift]
    findings.sort(key=lambda f: dg.sort_key(f.diagnostic))
    return Report(report.file, tuple(findings), report.incomplete, report.queries)


class _Places:
    """Spans of the header's lines, found by what they say."""

    def __init__(self, name: str, text: str) -> None:
        self.name = name
        self.text = text

    def at(self, offset: int, width: int) -> Span:
        line = self.text.count("\n", 0, offset) + 1
        col = offset - (self.text.rfind("\n", 0, offset) + 1) + 1
        return Span.point(self.name, line, col, max(width, 1))

    def find(self, pattern: str, start: int = 0) -> Span:
        m = re.compile(pattern).search(self.text, start)
        return self.at(m.start(), len(m.group(0))) if m else Span.point(self.name, 1, 1)


def header_drift(spec: LtlSpec, text: str, name: str) -> list[Diagnostic]:
    """What the kernel would do with the header `text` (named `name`) that the spec says
    otherwise."""
    places = _Places(name, text)
    try:
        table = parse_header(text)
    except HeaderError as exc:
        return [dg.warning(codes.UNREAD_MONITOR, f"the tables were not compared with the"
                           f" spec: {exc}", Span.point(name, 1, 1))]
    rule = spec.definition("RULE")
    at_rule = Note("the spec's RULE", rule.span if rule else None)
    short = name.rsplit("/", 1)[-1]
    out = _atoms(spec, table, places, short, at_rule)
    if out:
        return out
    out += _names(spec, table, places, short)
    return out + _automaton(spec, table, places, short, at_rule)


def _atoms(spec: LtlSpec, table: Table, places: _Places, short: str, at_rule: Note
           ) -> list[Diagnostic]:
    out = []
    enum = places.find(r"enum ltl_atom\s*\{")
    for atom in spec.atoms:
        if atom not in table.atoms:
            out.append(dg.error(codes.DRIFT_LTL_ATOMS, f"the spec has the atom {atom},"
                                f" enum ltl_atom of {short} does not", enum,
                                Note(f"{atom} in the spec", atom_span(spec, atom))))
    for atom in table.atoms:
        if atom not in spec.atoms:
            out.append(dg.error(codes.DRIFT_LTL_ATOMS, f"enum ltl_atom has LTL_{atom}, the spec"
                                f" has no atom {atom}", places.find(rf"\bLTL_{atom}\b"),
                                at_rule))
    return out


def _names(spec: LtlSpec, table: Table, places: _Places, short: str) -> list[Diagnostic]:
    m = _NAMES.search(places.text)
    if m is None:
        return []
    strings = list(_STRING.finditer(places.text, m.start(1), m.end(1)))
    if len(strings) != len(table.atoms):
        return []
    out = []
    for atom, want, got in zip(table.atoms, abbreviations(table.atoms), strings, strict=True):
        if got.group(1) != want:
            note = Note(f"{atom} in the spec", atom_span(spec, atom))
            out.append(dg.warning(codes.DRIFT_LTL_ATOM_NAMES,
                                  f"ltl_atom_str(LTL_{atom}) is \"{got.group(1)}\" in {short};"
                                  f" rvgen names it \"{want}\", which the trace would print",
                                  places.at(got.start(), len(got.group(0))), note))
    return out


def _run(atoms: list[tuple[str, ...]]) -> str:
    return ", then ".join("(" + ", ".join(a) + ")" for a in atoms)


def _automaton(spec: LtlSpec, table: Table, places: _Places, short: str, at_rule: Note
               ) -> list[Diagnostic]:
    where = places.find(r"ltl_possible_next_states\(")
    try:
        mine = graph_of_buchi(build_buchi(spec))
        # the header's own enum order names the same atoms: evaluate in the spec's order
        theirs = graph_of_table(dataclasses.replace(table, atoms=spec.atoms))
    except (HeaderError, BuchiTooLarge, KeyError, IndexError, AttributeError,
            AssertionError) as exc:
        return [dg.warning(codes.UNREAD_MONITOR, f"the automaton of {short} was not compared"
                           f" with the spec: {exc or type(exc).__name__}", where)]
    if isomorphism(mine, theirs) is not None:
        return []
    found = first_difference(mine, theirs)
    if isinstance(found, TooLarge):
        return [dg.warning(codes.UNREAD_MONITOR, f"the automaton of {short} is not the spec's;"
                           f" whether it reports otherwise was not decided ({found.pairs} pairs"
                           " of state sets searched)", where, at_rule)]
    if isinstance(found, Difference):
        run = _run([atoms_of(mine, v) for v in found.run])
        who, other = ("the spec's monitor", short) if found.first else (short,
                                                                         "the spec's monitor")
        return [dg.error(codes.DRIFT_LTL_AUTOMATON, f"after the updates {run} (the first one"
                         f" starts the monitor), {who} reports a violation and {other} does"
                         " not", where, at_rule)]
    return [dg.warning(codes.DRIFT_LTL_AUTOMATON, f"the automaton of {short} is not the spec's"
                       " (no renaming of its states gives it), though both report after the"
                       " same updates", where, at_rule)]
