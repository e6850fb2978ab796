"""The commands on `.ltl` specs: output, exit codes, and no traceback on any input."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest
from conftest import MODELS, ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hamodel.cli import main

PAGEFAULT = str(ROOT / "models" / "pagefault.ltl")
SPECS = sorted((MODELS / "upstream-ltl").rglob("*.ltl*")) + [Path(PAGEFAULT)]


def test_show(capsys):
    assert main(["show", PAGEFAULT]) == 0
    out = capsys.readouterr().out
    assert "pagefault" in out and "S0 (initial): not RT or not PAGEFAULT -> S0" in out
    assert main(["show", PAGEFAULT, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["atoms"] == [{"name": "PAGEFAULT", "trace": "pa"}, {"name": "RT", "trace": "rt"}]
    assert doc["states"] == [{"name": "S0", "initial": True, "label": "not RT or not PAGEFAULT",
                              "successors": ["S0"]}]


@pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz is not installed")
def test_draw(tmp_path):
    out = tmp_path / "p.svg"
    assert main(["draw", PAGEFAULT, "-o", str(out)]) == 0
    assert out.read_text().lstrip().startswith(("<?xml", "<svg"))
    assert main(["draw", PAGEFAULT, "-o", str(tmp_path / "p.dot")]) == 0
    assert "S0" in (tmp_path / "p.dot").read_text()


def test_check_formats_and_exit_codes(capsys):
    assert main(["check", PAGEFAULT]) == 0
    assert "0 error(s), 0 warning(s)" in capsys.readouterr().out
    assert main(["check", PAGEFAULT, "--violate", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["files"][0]["queries"] == {"violate": True}
    assert main(["check", PAGEFAULT, "--format", "sarif"]) == 0
    assert json.loads(capsys.readouterr().out)["version"] == "2.1.0"
    bad = ROOT / "tests" / "ltl" / "check" / "unsat.ltl"
    assert main(["check", str(bad)]) == 1
    broken = ROOT / "tests" / "ltl" / "diagnostics" / "words.ltl"
    assert main(["check", str(broken)]) == 2
    out = capsys.readouterr().out
    assert "words.ltl:1:16: error[HA301]" in out


def test_fmt_is_refused(capsys):
    assert main(["fmt", PAGEFAULT]) == 2
    assert "kept as written" in capsys.readouterr().err


def test_a_missing_file_is_bad_input(capsys):
    assert main(["check", "/nonexistent/x.ltl"]) == 2
    assert main(["gen", "--target", "kernel-c", "/nonexistent/x.ltl"]) == 2
    assert "No such file" in capsys.readouterr().err


@pytest.mark.skipif(len(SPECS) < 2, reason="../shared/models/upstream-ltl is not here")
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_specs_get_an_answer_never_a_traceback(data):
    path = data.draw(st.sampled_from(SPECS))
    raw = bytearray(path.read_bytes())
    for _ in range(data.draw(st.integers(1, 4))):
        op = data.draw(st.sampled_from(("flip", "delete", "insert", "dup")))
        pos = data.draw(st.integers(0, max(0, len(raw) - 1)))
        if op == "flip" and raw:
            raw[pos] = data.draw(st.sampled_from(b"()#=\n AaZz_01notandorimplyuntil"))
        elif op == "delete" and raw:
            del raw[pos:pos + data.draw(st.integers(1, 12))]
        elif op == "insert":
            raw[pos:pos] = data.draw(st.binary(max_size=6))
        else:
            raw[pos:pos] = raw[pos:pos + data.draw(st.integers(1, 30))]
    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "mut.ltl"
        spec.write_bytes(bytes(raw))
        assert main(["check", str(spec)]) in (0, 1, 2, 3)
        assert main(["gen", "--target", "kernel-c", str(spec), "-o", str(Path(tmp) / "o")]) \
            in (0, 2)
        assert main(["show", str(spec), "--json"]) in (0, 2)
