"""`hamodel check`: Automaton -> Report (diagnostics with witnesses).

codes.py       the HA1xx registry                 params.py          parameter analysis
wellformed.py  untimed graph and bounds           zones.py / dbm.py  exact zone graph
cells.py       the kernel's transition table      timing.py          checks, timers per platform
constraints.py guards as closed integer literals  concrete.py        witnesses from the zones
goals.py       witnesses as data                  encoding.py        Z3 encoding of a path
witness.py     path -> confirmed witness          confirm.py         replay through semantics
findings.py    findings of one platform           behaviours.py      framework behaviours
queries.py     --reach / --violate                smt.py / proof.py  Z3 regions, Spacer proofs
timed.py       orders, parameters, merging        rootcause.py       consequences under their cause
report.py      text / JSON / SARIF 2.1.0          command.py         the CLI subcommand
plans.py       per-cell plans for the explorer    gcpause.py         no cyclic GC during a check
"""

from __future__ import annotations

from dataclasses import dataclass

from hamodel import diagnostics as dg
from hamodel.check import codes
from hamodel.check.findings import Finding, table_diagnostics
from hamodel.check.gcpause import collection_paused
from hamodel.check.timed import Options, QueryAnswers, check_timed
from hamodel.check.timing import Unsupported
from hamodel.check.wellformed import check_structure
from hamodel.check.witness import SolverUnknown
from hamodel.check.zones import ExplorationLimit
from hamodel.diagnostics import Diagnostic, Severity
from hamodel.model import Automaton

__all__ = ["Finding", "Options", "Report", "check_automaton"]


@dataclass(frozen=True, slots=True)
class Report:
    file: str
    findings: tuple[Finding, ...]
    incomplete: bool = False
    queries: tuple[tuple[str, bool], ...] = ()

    @property
    def has_errors(self) -> bool:
        return any(f.diagnostic.is_error for f in self.findings)


def check_automaton(
    a: Automaton, options: Options, build_diags: list[Diagnostic] | None = None
) -> Report:
    with collection_paused():
        return _check(a, options, build_diags)


def _check(a: Automaton, options: Options, build_diags: list[Diagnostic] | None) -> Report:
    findings = [Finding(d) for d in build_diags or []]
    findings += [Finding(d) for d in check_structure(a)]
    incomplete = False
    answers = QueryAnswers()
    try:
        timed, answers = check_timed(a, options)
        findings += timed
    except Unsupported as exc:
        findings.append(Finding(Diagnostic(
            Severity.WARNING, codes.NOT_ANALYSED, f"timed analysis skipped: {exc}", exc.span
        )))
        findings += [Finding(d) for _, d in table_diagnostics(a)]  # HA111 needs no zones
    except (ExplorationLimit, SolverUnknown) as exc:
        incomplete = True
        findings.append(Finding(dg.error(
            codes.INCOMPLETE,
            f"timed analysis did not finish within --timeout {options.timeout_s:g}s: {exc}",
            None,
        )))
    findings.sort(key=lambda f: dg.sort_key(f.diagnostic))
    from hamodel.check.rootcause import fold_consequences

    findings = fold_consequences(a, findings)
    return Report(a.file, tuple(findings), incomplete, tuple(sorted(answers.answers.items())))
