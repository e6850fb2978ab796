"""`hamodel check`: Automaton -> Report (diagnostics with witnesses).

codes.py       the HA1xx registry                 params.py          parameter analysis
wellformed.py  untimed graph and bounds           zones.py / dbm.py  exact zone graph
constraints.py guards as closed integer literals  witness.py         Z3 timing + replay
timed.py       findings from the zone graph       smt.py             Z3 parameter regions
report.py      text / JSON / SARIF 2.1.0          command.py         the CLI subcommand
rootcause.py   consequences folded into their cause
"""

from __future__ import annotations

from dataclasses import dataclass

from hamodel import diagnostics as dg
from hamodel.check import codes
from hamodel.check.timed import Finding, Options, QueryAnswers, check_timed
from hamodel.check.wellformed import check_structure
from hamodel.check.witness import SolverUnknown
from hamodel.check.zones import ExplorationLimit, Unsupported
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
    findings = [Finding(d) for d in build_diags or []]
    findings += [Finding(d) for d in check_structure(a)]
    incomplete = False
    answers = QueryAnswers()
    try:
        timed, answers = check_timed(a, options)
        findings += timed
    except Unsupported as exc:
        findings.append(Finding(Diagnostic(
            Severity.WARNING, codes.NOT_ANALYSED, f"timed analysis skipped: {exc}", None
        )))
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
