"""Each rvgen probe gets the right treatment: a located error, or acceptance with a warning."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import MODELS

from hamodel.load import load_model

PROBES = MODELS / "rvgen-probes"

# file -> (code, line, col) of the error that must stop it
MALFORMED = {
    "barenode.dot": ("bare-node", 10, 2),
    "chain.dot": ("edge-chain", 10, 13),
    "invnonclock.dot": ("invariant-not-clock", 8, 19),
    "labeltwice.dot": ("label-twice", 9, 15),
    "nolabeledge.dot": ("unlabelled-edge", 10, 2),
    "twoinit.dot": ("init-marker", 7, 51),
}

# file -> warning codes that must be present (borderline: accepted, nothing dropped)
BORDERLINE = {
    "nondet.dot": {"nondeterministic-edge"},
    "dupedge.dot": {"repeated-edge-statement"},
    "unreach.dot": {"unreachable-state"},
    "twoclocks.dot": {"kernel-limit"},
    "nounit.dot": {"clock-without-unit"},
    "unitconst.dot": {"unit-after-symbol"},
    "tworesets.dot": {"kernel-limit"},
    "decimal.dot": set(),
    "comment.dot": set(),
}


def test_every_probe_is_covered():
    assert {p.name for p in PROBES.glob("*.dot")} == set(MALFORMED) | set(BORDERLINE)


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_probe_is_a_located_error(name):
    a, diags = load_model(PROBES / name)
    assert a is None
    code, line, col = MALFORMED[name]
    errors = [d for d in diags if d.is_error]
    assert [(d.code, d.span.line, d.span.col) for d in errors][:1] == [(code, line, col)]


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_probe_cli_exit_2_without_traceback(name):
    proc = subprocess.run(
        [sys.executable, "-m", "hamodel", "show", str(PROBES / name)],
        capture_output=True, text=True,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    code, line, col = MALFORMED[name]
    assert f"{name}:{line}:{col}: error[" in proc.stderr
    assert "^" in proc.stderr  # the caret under the offending text


@pytest.mark.parametrize("name", sorted(BORDERLINE))
def test_borderline_probe_is_accepted_with_warning(name):
    a, diags = load_model(PROBES / name)
    assert a is not None, [d.message for d in diags]
    assert BORDERLINE[name] <= {d.code for d in diags}


def test_dupedge_keeps_both_events():
    a, _ = load_model(PROBES / "dupedge.dot")
    assert sorted(e.event for e in a.edges_from("a")) == ["e1", "e3"]


def test_nondet_keeps_both_edges_in_canonical_order():
    a, diags = load_model(PROBES / "nondet.dot")
    assert [e.dst for e in a.edges_from("a", "e1")] == ["b", "c"]
    warning = next(d for d in diags if d.code == "nondeterministic-edge")
    assert "'b'" in warning.message and "'c'" in warning.message
    assert warning.notes and warning.notes[0].span.line == 10


def test_decimal_becomes_exact_ns():
    a, _ = load_model(PROBES / "decimal.dot")
    guard = a.edges_from("b", "e2")[0].guard
    assert guard.value.value == 1_500_000


def test_unit_after_symbol_is_kept():
    a, _ = load_model(PROBES / "unitconst.dot")
    guard = a.edges_from("b", "e2")[0].guard
    assert guard.value.name == "LIMIT" and guard.value.unit.value == "us"


def test_twoinit_names_both_markers():
    _, diags = load_model(PROBES / "twoinit.dot")
    d = next(d for d in diags if d.code == "init-marker")
    assert "__init_b" in d.message and d.notes[0].span.line == 2
