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


def test_output_onto_a_fifo_or_device_writes_into_it_and_leaves_the_node(tmp_path):
    """Found in review: the atomic rename put a plain file in place of a FIFO or a
    device node (as root, of /dev/full itself)."""
    import os
    import stat
    import threading

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    got: list[bytes] = []
    # a daemon: if the FIFO were replaced, its reader would wait for a writer forever
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    proc = run("fmt", TLOB, "-o", str(fifo))
    assert fifo.is_fifo(), "the FIFO was replaced by a plain file"
    reader.join(timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert got == [run("fmt", TLOB).stdout.encode()]
    # A node of its own, never the machine's /dev/full: a regression would replace it.
    full = tmp_path / "full"
    try:
        os.mknod(full, 0o666 | stat.S_IFCHR, os.makedev(1, 7))
    except PermissionError:
        return  # not root: the FIFO above is the case that needs no privilege
    proc = run("fmt", TLOB, "-o", str(full))  # every write fails with ENOSPC
    assert proc.returncode == 2 and "No space left" in proc.stderr, proc.stderr
    assert full.is_char_device()


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


def test_a_model_over_the_size_limit_is_refused_before_parsing(tmp_path):
    """docs/model.md, Limits: 256 KiB; the caret stands where the limit falls."""
    from located import one_error

    from hamodel.load import MAX_FILE_BYTES

    line = '\t"running" -> "waiting" [ label = "preempt" ];\n'
    text = (ROOT / "models" / "tlob.dot").read_text()
    flood = text[: text.rindex("}")] + line * (MAX_FILE_BYTES // len(line) + 1) + "}\n"
    (tmp_path / "flood.dot").write_text(flood)
    proc = run("show", str(tmp_path / "flood.dot"))
    assert proc.returncode == 2
    e = one_error(proc.stderr, flood, "larger than 256 KiB")
    # the caret is on byte MAX_FILE_BYTES (from 0), the first one past the limit
    assert len("\n".join(flood.split("\n")[: e.line - 1])) + e.col == MAX_FILE_BYTES


def test_a_flood_of_repeated_edges_under_the_limit_is_diagnosed_and_summed_up(tmp_path):
    """Each repeated statement is one warning (found with a dict: linear); the first
    twenty of a kind are shown and the rest counted."""
    line = '\t"running" -> "waiting" [ label = "preempt" ];\n'
    text = (ROOT / "models" / "tlob.dot").read_text()
    (tmp_path / "flood.dot").write_text(text[: text.rindex("}")] + line * 1000 + "}\n")
    proc = run("show", str(tmp_path / "flood.dot"))
    assert proc.returncode == 0
    assert proc.stderr.count("warning[HA015]") == 20
    assert "hamodel: 980 more warnings [repeated-edge-statement] not shown" in proc.stderr


def test_binary_and_non_utf8_models_are_located_with_the_right_help(tmp_path):
    from located import one_error

    data = b'digraph x {\n\t"a\xe9b" -> "c";\n}\n'
    (tmp_path / "m.dot").write_bytes(data)
    proc = run("show", str(tmp_path / "m.dot"))
    e = one_error(proc.stderr, data, "not UTF-8 text (byte 0xe9)", "save the file as UTF-8")
    assert (proc.returncode, e.line, e.col, e.code) == (2, 2, 4, "HA070")
    assert "check the path and permissions" not in proc.stderr
    data = b'digraph x {\n\t"ab" -> "c\x00";\n}\n'
    (tmp_path / "m.dot").write_bytes(data)
    proc = run("show", str(tmp_path / "m.dot"))
    e = one_error(proc.stderr, data, "NUL byte")
    assert (proc.returncode, e.line, e.col, e.code) == (2, 2, 12, "HA071")


# --- start-up: a command imports what it uses ----------------------------------------


def test_each_listed_help_line_is_the_commands_own():
    """`hamodel --help` lists plugin commands from cli.PLUGIN_COMMANDS without importing
    them: each line must be the one the module registers."""
    from hamodel.cli import PLUGIN_COMMANDS, build_parser

    listed = {a.dest: a.help for a in build_parser()._subparsers._group_actions[0]._choices_actions}
    for name in PLUGIN_COMMANDS:
        parser = build_parser(name)
        own = {a.dest: a.help for a in parser._subparsers._group_actions[0]._choices_actions}
        assert own[name] == listed[name], name
    assert list(listed) == ["show", "fmt", "draw", "gen", *PLUGIN_COMMANDS]


HEAVY = ("lark", "z3", "jinja2", "graphviz", "matplotlib", "numpy", "hamodel.model",
         "hamodel.check", "hamodel.replay", "hamodel.bpf.runner")


def imported_by(*argv: str) -> set[str]:
    """The modules of HEAVY that `hamodel ARGV` has imported when it ends."""
    code = ("import sys, io, contextlib\n"
            "from hamodel.entry import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    try:\n"
            f"        main({list(argv)!r})\n"
            "    except SystemExit:\n"
            "        pass\n"
            f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=True)
    return set(done.stdout.split())


def test_help_imports_no_heavy_module():
    assert imported_by("--help") == set()
    assert imported_by("check", "--help") >= {"hamodel.check"}  # its own, to list its flags


def test_show_imports_the_parser_but_not_z3_jinja_or_graphviz():
    assert imported_by("show", TLOB) == {"lark", "hamodel.model"}


def test_a_reader_that_goes_away_is_not_told_there_were_no_findings(tmp_path):
    """Found in review: `hamodel replay ... | head -1` ended with 0, so a pipeline with
    pipefail read "no findings" from a run full of them.  The status is a SIGPIPE
    death's, as a C program's would be, with nothing on stderr."""
    trace = tmp_path / "t.jsonl"
    with trace.open("w") as f:
        for job in range(20000):  # every job overruns its 9 ns: a finding each
            f.write(f'{{"t": {job * 100}, "start": 1, "params": {{"BUDGET_NS": 9}}}}\n'
                    f'{{"t": {job * 100 + 50}, "stop": 1}}\n')
    proc = subprocess.Popen([sys.executable, "-m", "hamodel", "replay", TLOB, str(trace)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout.readline()
    proc.stdout.close()
    code = proc.wait(timeout=120)
    err = proc.stderr.read().decode()
    assert code == 128 + 13 and "Traceback" not in err and "Exception" not in err, err
