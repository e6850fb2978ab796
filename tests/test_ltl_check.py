"""`hamodel check X.ltl`: each finding where the spec says, and the kernel's specs judged."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import MODELS, ROOT

from hamodel.ltl.buchi import build_buchi
from hamodel.ltl.check import check_spec
from hamodel.ltl.cli import check_file
from hamodel.ltl.load import load_ltl, load_ltl_text
from hamodel.ltl.sat import Witness, first_violation

CASES = ROOT / "tests" / "ltl" / "check"
UPSTREAM = MODELS / "upstream-ltl"
needs_shared = pytest.mark.skipif(not UPSTREAM.is_dir(), reason="../shared is not here")


def markers(path: Path) -> set[tuple[int, str, str]]:
    out = set()
    for number, line in enumerate(path.read_text().split("\n"), 1):
        if "#" in line:
            for kind, code in re.findall(r"\b([EW]):\s*([a-z0-9-]+)", line.split("#", 1)[1]):
                out.add((number, "error" if kind == "E" else "warning", code))
    return out


@pytest.mark.parametrize("path", sorted(CASES.glob("*.ltl")), ids=lambda p: p.name)
def test_findings_are_where_the_spec_says(path):
    report, readable = check_file(str(path), violate=False)
    assert readable
    found = {(f.diagnostic.span.line, f.diagnostic.severity.value, f.diagnostic.code)
             for f in report.findings if f.diagnostic.severity.value in ("error", "warning")}
    assert found == markers(path), [f.diagnostic.message for f in report.findings]


@needs_shared
@pytest.mark.parametrize("name", ["rtapp/pagefault.ltl", "rtapp/sleep.ltl", "rtapp/wakeup.ltl"])
def test_the_kernels_rtapp_specs_are_clean_and_can_report(name):
    spec, _ = load_ltl(UPSTREAM / name)
    result = check_spec(spec, violate=True)
    assert [f.diagnostic.code for f in result.findings] == ["query-violate"]
    assert result.can_report is True and not result.incomplete


@needs_shared
def test_rvgens_own_test_spec_can_never_report():
    spec, _ = load_ltl(UPSTREAM / "rvgen-tests" / "test_ltl.ltl")
    result = check_spec(spec)
    assert [f.diagnostic.code for f in result.findings] == ["ltl-never-reports"]
    assert result.can_report is False


def test_the_violation_witness_is_shortest_and_replays():
    from hamodel.ltl.monitor import LtlMonitor

    spec, _ = load_ltl_text("RULE = always (A imply next next not B)\n", "w.ltl")
    b = build_buchi(spec)
    w = first_violation(b)
    assert isinstance(w, Witness) and len(w.steps) == 3  # A at the start, then any, then B
    violations = []
    mon = LtlMonitor(b, on_violation=violations.append)
    for i, values in enumerate(w.steps):
        full = {a: values.get(a, False) for a in b.atoms}
        for atom in b.atoms[:-1]:
            mon.set(0, atom, full[atom])
        mon.update(0, b.atoms[-1], full[b.atoms[-1]])
        assert bool(violations) == (i == len(w.steps) - 1)


def test_a_monitor_that_cannot_start_is_not_searched():
    spec, _ = load_ltl_text("RULE = false\n", "f.ltl")
    result = check_spec(spec)
    assert result.can_report is False
    assert {f.diagnostic.code for f in result.findings} == {"ltl-never-starts",
                                                             "ltl-unsatisfiable"}


def test_every_ltl_code_is_documented():
    from hamodel.diagnostics import CODES

    docs = (ROOT / "docs" / "ltl.md").read_text()
    ltl = [(slug, info) for slug, info in CODES.items() if info.number.startswith("HA3")]
    assert len(ltl) >= 20
    for slug, info in ltl:
        assert f"| {info.number} | `{slug}` |" in docs, slug
