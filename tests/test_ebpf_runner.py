"""hamodel run without a kernel: probe resolution, budgets and one-line errors (exit 2)."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
from conftest import ROOT

from hamodel.bpf import elf, runner
from hamodel.bpf.runner import RunConfig, UsageError, parse_budget

TARGET_C = ROOT / "tests" / "programs" / "ebpf_target.c"


@pytest.fixture(scope="session")
def target(tmp_path_factory):
    cc = shutil.which("gcc") or shutil.which("cc") or shutil.which("clang")
    if cc is None:
        pytest.skip("no C compiler to build tests/programs/ebpf_target.c")
    out = tmp_path_factory.mktemp("prog") / "ebpf_target"
    subprocess.run([cc, "-O2", "-pthread", "-o", str(out), str(TARGET_C)], check=True)
    return out


def test_symbols_resolve_to_nop_first_instructions(target):
    start = elf.resolve(str(target), "nop_start")
    stop = elf.resolve(str(target), "nop_stop")
    assert start.offset != stop.offset
    assert start.first_byte == 0x90 and not start.bare_ret  # x86-64 nop
    assert elf.resolve(str(target), hex(start.offset)).offset == start.offset


def test_unknown_symbol_and_non_elf_are_one_line(target, tmp_path):
    with pytest.raises(elf.ElfError, match="no function symbol 'nope'"):
        elf.resolve(str(target), "nope")
    text = tmp_path / "x.sh"
    text.write_text("#!/bin/sh\n")
    with pytest.raises(elf.ElfError, match="not an ELF file"):
        elf.resolve(str(text), "main")
    with pytest.raises(elf.ElfError, match="No such file"):
        elf.resolve(str(tmp_path / "missing"), "main")


@pytest.mark.parametrize(
    ("text", "ns"),
    [("5ms", 5_000_000), ("1us", 1_000), ("1.5ms", 1_500_000), ("3600s", 3_600_000_000_000)],
)
def test_budgets(text, ns):
    assert parse_budget(text) == ns


@pytest.mark.parametrize("text", ["0ms", "999ns", "3601s", "5 parsecs", "-1ms", ""])
def test_budget_out_of_range_or_malformed(text):
    with pytest.raises(UsageError):
        parse_budget(text)


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "hamodel", "run", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--start", "nope", "--stop", "nop_stop", "--budget", "5ms"], "no function symbol"),
        (["--start", "nop_start", "--stop", "nop_stop", "--budget", "7200s"], "out of range"),
        (["--start", "nop_start", "--stop", "nop_stop", "--budget", "5ms", "--budget", "1ms",
          "--budget", "2ms"], "one --budget"),
    ],
)
def test_bad_input_exits_2_with_one_line(target, args, message):
    done = run_cli("generated/tlob/ebpf", "--binary", str(target), *args)
    assert done.returncode == 2
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr


def test_non_elf_binary_exits_2():
    done = run_cli(
        "generated/tlob/ebpf", "--binary", str(ROOT / "tests" / "programs" / "ebpf_target.c"),
        "--start", "a", "--stop", "b", "--budget", "5ms",
    )
    assert done.returncode == 2 and "not an ELF file" in done.stderr


def test_model_errors_are_located(target, tmp_path):
    bad = tmp_path / "bad.dot"
    bad.write_text("digraph {\n  a -> \n}\n")
    done = run_cli(str(bad), "--binary", str(target), "--start", "nop_start",
                   "--stop", "nop_stop", "--budget", "5ms")
    assert done.returncode == 2
    assert f"{bad}:" in done.stderr and "Traceback" not in done.stderr


def test_not_root_is_one_line_exit_2(target, monkeypatch, capsys):
    monkeypatch.setattr(runner.os, "geteuid", lambda: 1000)
    cfg = RunConfig("generated/tlob/ebpf", str(target), ("nop_start",), ("nop_stop",), ("5ms",))
    assert runner.run(cfg) == 2
    err = capsys.readouterr().err
    assert err == "hamodel run: hamodel run needs root (it loads BPF programs)\n"


def test_unknown_pid_exits_2(target):
    done = run_cli("generated/tlob/ebpf", "--binary", str(target), "--start", "nop_start",
                   "--stop", "nop_stop", "--budget", "5ms", "--pid", "999999999")
    assert done.returncode == 2 and "no such process" in done.stderr
