"""hamodel run without a kernel: probe resolution, budgets and one-line errors (exit 2)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import struct
import subprocess
import sys

import pytest
from conftest import ROOT

from hamodel.bpf import elf, runner
from hamodel.bpf.runner import RunConfig, UsageError, parse_budget
from hamodel.signals import Interrupted

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


def test_budget_with_more_digits_than_a_float_holds_is_out_of_range(target):
    huge = "9" * 400 + "s"
    with pytest.raises(UsageError, match="out of range"):
        parse_budget(huge)
    assert parse_budget("0.0015s") == 1_500_000
    done = run_cli("generated/tlob/ebpf", "--binary", str(target), "--start", "nop_start",
                   "--stop", "nop_stop", "--budget", huge)
    assert done.returncode == 2 and "out of range" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


def _symtab_header(data: bytes) -> int:
    """The file offset of the .symtab section header of a 64-bit ELF file."""
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    for i in range(shnum):
        at = shoff + i * shentsize
        if struct.unpack_from("<I", data, at + 4)[0] == elf.SHT_SYMTAB:
            return at
    raise AssertionError("the test program has no .symtab")


@pytest.mark.parametrize(
    ("field", "fmt", "value", "why"),
    [
        (0x18, "<Q", 10**12, "symbol table outside the file"),  # sh_offset
        (0x20, "<Q", 1 << 40, "symbol table outside the file"),  # sh_size
        (0x28, "<I", 0xFFFF, "linked to no section"),  # sh_link
        (0x38, "<Q", 1, "symbol table outside the file"),  # sh_entsize below Elf64_Sym
    ],
)
def test_corrupt_symbol_tables_are_not_valid_elf(target, tmp_path, field, fmt, value, why):
    data = bytearray(target.read_bytes())
    struct.pack_into(fmt, data, _symtab_header(data) + field, value)
    bad = tmp_path / "corrupt"
    bad.write_bytes(bytes(data))
    with pytest.raises(elf.ElfError, match=f"not a valid ELF file \\(.*{why}"):
        elf.resolve(str(bad), "nop_start")
    done = run_cli("generated/tlob/ebpf", "--binary", str(bad), "--start", "nop_start",
                   "--stop", "nop_stop", "--budget", "5ms")
    assert done.returncode == 2 and "not a valid ELF file" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


def test_symbol_names_outside_the_string_table_are_not_valid_elf(target, tmp_path):
    data = bytearray(target.read_bytes())
    header = _symtab_header(data)
    symtab, = struct.unpack_from("<Q", data, header + 0x18)
    struct.pack_into("<I", data, symtab + 24, 0xFFFFFFF0)  # the second symbol's st_name
    bad = tmp_path / "corrupt"
    bad.write_bytes(bytes(data))
    with pytest.raises(elf.ElfError, match="symbol name outside its string table"):
        elf.resolve(str(bad), "nop_start")


def test_binary_that_is_not_a_regular_file_is_refused_unread(target, tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for path in (str(tmp_path), str(fifo), "/dev/zero"):
        with pytest.raises(elf.ElfError, match="not a regular file"):
            elf.resolve(path, "main")
    done = run_cli("generated/tlob/ebpf", "--binary", "/dev/zero", "--start", "a",
                   "--stop", "b", "--budget", "5ms")
    assert done.returncode == 2
    assert done.stderr == "hamodel run: /dev/zero: not a regular file\n"


def test_binary_larger_than_the_cap_is_refused(target, monkeypatch):
    monkeypatch.setattr(elf, "MAX_ELF_BYTES", 100)
    with pytest.raises(elf.ElfError, match="larger than"):
        elf.resolve(str(target), "nop_start")


@pytest.mark.parametrize(
    ("meta", "why"),
    [
        ("{}", "no 'maps'"),
        ("nope", "not JSON"),
        ("[1, 2]", "wrong type"),
        ("\xff", "not UTF-8"),
        ("generated-maps-without-timers", "no 'timers'"),
        ("generated-states-as-number", "wrong type"),
    ],
)
def test_bad_meta_json_is_one_line_exit_2(target, tmp_path, meta, why):
    good = json.loads((ROOT / "generated" / "tlob" / "ebpf" / "tlob.meta.json").read_text())
    if meta == "generated-maps-without-timers":
        del good["maps"]["timers"]
        raw = json.dumps(good).encode()
    elif meta == "generated-states-as-number":
        good["states"] = 3
        raw = json.dumps(good).encode()
    else:
        raw = meta.encode("latin-1")
    (tmp_path / "x.bpf.c").write_text("")
    (tmp_path / "x.meta.json").write_bytes(raw)
    done = run_cli(str(tmp_path), "--binary", str(target), "--start", "nop_start",
                   "--stop", "nop_stop", "--budget", "5ms")
    assert done.returncode == 2, done.stderr
    assert why in done.stderr and "x.meta.json" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


def _exit_status_paragraph() -> str:
    text = (ROOT / "docs" / "ebpf.md").read_text()
    start = text.index("Exit status:")
    return " ".join(text[start : text.index("\n\n", start)].split())


@pytest.mark.skipif(shutil.which("clang") is None, reason="clang not installed")
def test_generated_c_that_clang_rejects_exits_1_as_documented(target, tmp_path):
    generated = ROOT / "generated" / "tlob" / "ebpf"
    shutil.copy(generated / "tlob.meta.json", tmp_path / "tlob.meta.json")
    (tmp_path / "tlob.bpf.c").write_text("this is not C;\n")
    done = run_cli(str(tmp_path), "--binary", str(target), "--start", "nop_start",
                   "--stop", "nop_stop", "--budget", "5ms")
    assert done.returncode == 1
    assert done.stderr.startswith("hamodel run: clang failed on") and "error:" in done.stderr
    assert "1 when the monitor cannot be built or loaded: clang rejects" in _exit_status_paragraph()


@pytest.mark.parametrize("signum,status,line", [
    (signal.SIGINT, 130, "hamodel run: interrupted (SIGINT)\n"),
    (signal.SIGTERM, 143, "hamodel run: stopped by SIGTERM\n"),
])
def test_a_signal_before_attaching_exits_as_documented(target, monkeypatch, capsys, signum,
                                                      status, line):
    def interrupted(model, workdir):
        raise Interrupted(signum)

    monkeypatch.setattr(runner, "check_host", lambda: None)  # root or not, the same path
    monkeypatch.setattr(runner, "monitor_sources", interrupted)
    cfg = RunConfig("generated/tlob/ebpf", str(target), ("nop_start",), ("nop_stop",), ("5ms",))
    assert runner.run(cfg) == status
    assert capsys.readouterr().err == line
    assert "130 after Ctrl-C (SIGINT) and 143 after SIGTERM, at any moment" in (
        _exit_status_paragraph())
