"""Model readers by file suffix: each turns one model file (and the in-tree monitor
of the same name, if any) into a Report of check findings and drift findings.

`.dot` is read here, `.ltl` (the LTL specifications) in ltl_drift.py.  Another
kind of model joins by adding an entry to KINDS: a function with the same
signature as `examine_dot`; the tree command needs no other change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from hamodel import diagnostics as dg
from hamodel.check import Options, Report, check_automaton
from hamodel.check.timed import Finding
from hamodel.diagnostics import Diagnostic
from hamodel.load import SOURCES, load_text
from hamodel.source import SourceText
from hamodel.tree import codes
from hamodel.tree.cconstraints import read_monitor_c
from hamodel.tree.cheader import HeaderError, read_header
from hamodel.tree.ctokens import CFile, tokenize
from hamodel.tree.dot_drift import constraint_drift, header_drift
from hamodel.tree.layout import KernelTree, Monitor
from hamodel.tree.ltl_drift import examine_ltl

# (tree, model path relative to the tree, its monitor or None, check options) -> Report
Examine = Callable[[KernelTree, str, Monitor | None, Options], Report]


def read_c(tree: KernelTree, rel: str) -> CFile | None:
    """A C file of the tree, tokenized and kept for quoting; None when absent."""
    path = tree.path(rel)
    if not path.is_file():
        return None
    text = path.read_text(encoding="utf-8", errors="replace")
    shown = tree.show(rel)
    SOURCES[shown] = SourceText(shown, text)
    return tokenize(shown, text)


def examine_dot(tree: KernelTree, rel: str, monitor: Monitor | None, options: Options) -> Report:
    shown = tree.show(rel)
    try:
        raw = tree.path(rel).read_bytes()
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return Report(shown, (Finding(dg.error(dg.IO_ERROR, f"{shown}: {exc}", None)),))
    automaton, diags = load_text(text, shown)
    if automaton is None:
        return Report(shown, tuple(Finding(d) for d in diags))
    mine = replace(
        options,
        params={k: v for k, v in options.params.items()
                if k in {p.name for p in automaton.parameters}},
        reach=tuple(r for r in options.reach if r in {s.name for s in automaton.states}),
    )
    report = check_automaton(automaton, mine, diags)
    if monitor is None:
        return report
    drift: list[Diagnostic] = []
    header = read_c(tree, monitor.file(".h"))
    if header is not None:
        try:
            drift += header_drift(automaton, read_header(header, monitor.name))
        except HeaderError as exc:
            drift.append(dg.warning(codes.UNREAD_MONITOR,
                                    f"the tables were not compared with the model: {exc}",
                                    exc.span))
    source = read_c(tree, monitor.file(".c"))
    if source is not None and automaton.is_hybrid:
        drift += constraint_drift(automaton, read_monitor_c(source, monitor.name))
    findings = list(report.findings) + [Finding(d) for d in drift]
    findings.sort(key=lambda f: dg.sort_key(f.diagnostic))
    return Report(report.file, tuple(findings), report.incomplete, report.queries)


KINDS: dict[str, Examine] = {
    ".dot": examine_dot,
    ".ltl": examine_ltl,
}
