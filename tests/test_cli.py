"""The command line: exit codes, messages, outputs written whole or not at all."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import MODELS, ROOT

from hamodel.cli import main

TLOB = str(ROOT / "models" / "tlob.dot")


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "hamodel", *args], capture_output=True, text=True, timeout=60
    )


def test_show_text(capsys):
    assert main(["show", TLOB]) == 0
    out = capsys.readouterr().out
    assert "running (initial, final)  invariant clk_elapsed < BUDGET_NS()" in out
    assert "running  --preempt--> waiting" in out


def test_show_json_keys(capsys):
    assert main(["show", "--json", TLOB]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {"states", "events", "initial", "final", "transitions"} <= set(data)
    assert data["transitions"][0] == {
        "from": "running", "event": "preempt", "to": "waiting", "guard": None, "resets": [],
    }
    assert data["clocks"] == ["clk_elapsed"]
    assert data["invariants"]["waiting"] == "clk_elapsed < BUDGET_NS()"


def test_missing_file_and_binary_file(tmp_path):
    proc = run("show", str(tmp_path / "nope.dot"))
    assert proc.returncode == 2 and "No such file" in proc.stderr
    blob = tmp_path / "b.dot"
    blob.write_bytes(b"\x00\x01\x02")
    proc = run("show", str(blob))
    assert proc.returncode == 2 and "binary" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_bad_usage_is_exit_2():
    assert run("frobnicate").returncode == 2
    assert run("show").returncode == 2


def test_syntax_error_format(tmp_path):
    bad = tmp_path / "bad.dot"
    bad.write_text('digraph x {\n\t"a" -> [ label = "e" ];\n}\n')
    proc = run("show", str(bad))
    assert proc.returncode == 2
    first = proc.stderr.splitlines()[0]
    assert first.startswith(f"{bad}:2:9: error[HA001]: unexpected '['")
    assert "(expected" in first


def test_fmt_in_place_is_atomic_and_idempotent(tmp_path):
    model = tmp_path / "nomiss.dot"
    shutil.copy(MODELS / "upstream" / "deadline" / "nomiss.dot", model)
    assert run("fmt", "-i", str(model)).returncode == 0
    once = model.read_text()
    assert run("fmt", "-i", str(model)).returncode == 0
    assert model.read_text() == once
    assert [p.name for p in tmp_path.iterdir()] == ["nomiss.dot"]  # no temporary left


def test_fmt_of_broken_model_leaves_the_file_alone(tmp_path):
    model = tmp_path / "chain.dot"
    shutil.copy(MODELS / "rvgen-probes" / "chain.dot", model)
    before = model.read_bytes()
    assert run("fmt", "-i", str(model)).returncode == 2
    assert model.read_bytes() == before


def test_draw_svg(tmp_path):
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's `dot` is not installed (apt-get install graphviz)")
    out = tmp_path / "tlob.svg"
    proc = run("draw", TLOB, "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    svg = out.read_text()
    assert "<svg" in svg and "clk_elapsed &lt; BUDGET_NS()" in svg
    assert "reset(clk_elapsed)" in svg


def test_draw_unknown_format(tmp_path):
    proc = run("draw", TLOB, "-o", str(tmp_path / "x.bmpx"))
    assert proc.returncode == 2 and "format" in proc.stderr


def test_gen_unknown_target():
    proc = run("gen", "--target", "cobol", TLOB)
    assert proc.returncode == 2 and "unknown target 'cobol'" in proc.stderr


@pytest.mark.parametrize("where", ["adir", "afile/x.dot", "/proc/version"])
def test_unwritable_output_is_one_line_and_exit_2(tmp_path, where):
    (tmp_path / "adir").mkdir()
    (tmp_path / "afile").write_text("x")
    target = where if where.startswith("/") else str(tmp_path / where)
    proc = run("fmt", TLOB, "-o", target)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "cannot write" in proc.stderr
    proc = run("gen", "--target", "python", TLOB, "-o", str(tmp_path / "afile" / "sub"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_fmt_in_place_keeps_mode_and_follows_symlinks(tmp_path):
    model = tmp_path / "m.dot"
    shutil.copy(TLOB, model)
    model.chmod(0o600)
    link = tmp_path / "link.dot"
    link.symlink_to(model.name)
    assert run("fmt", "-i", str(link)).returncode == 0
    assert link.is_symlink()
    assert model.stat().st_mode & 0o777 == 0o600


def test_bom_and_crlf_are_the_editors(tmp_path):
    model = tmp_path / "w.dot"
    model.write_bytes(b"\xef\xbb\xbf" + Path(TLOB).read_bytes().replace(b"\n", b"\r\n"))
    proc = run("show", "--json", str(model))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["states"] == ["running", "sleeping", "waiting"]


def test_python_target_refuses_options_it_cannot_honour(tmp_path):
    proc = run("gen", "--target", "python", TLOB, "-t", "per_cpu", "-o", str(tmp_path / "o"))
    assert proc.returncode == 2 and "takes no -t" in proc.stderr
    assert not (tmp_path / "o").exists()
    assert run("gen", "--target", "python", TLOB, "-o", str(tmp_path / "p")).returncode == 0
