"""Faults injected into the file system under `hamodel gen`, `fmt` and `draw`: a full
disk on the n-th write, a refused rename, a refused hard link, a signal between two
files.  After each, the output folder is byte for byte what it was, or the complete
new set; no temporary file or folder is left; the error names the file and why.

The OS layer is replaced through monkeypatch (hamodel/output.py calls every
file-system function through `os`).  Two tests do the same for real, as root: a
16 KiB tmpfs that fills up, and an immutable file (`chattr +i`).
"""

from __future__ import annotations

import errno
import io
import os
import shutil
import signal
import subprocess
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from hamodel import cli, signals

ROOT = Path(__file__).resolve().parent.parent
TLOB = str(ROOT / "models" / "tlob.dot")
TARGETS = ("kernel-c", "ebpf", "python")


def gen(out: Path, target: str = "kernel-c", *extra: str) -> tuple[int, str, str]:
    o, e = io.StringIO(), io.StringIO()
    with redirect_stdout(o), redirect_stderr(e):
        code = cli.main(["gen", "--target", target, TLOB, "-o", str(out), *extra])
    return code, o.getvalue(), e.getvalue()


def snapshot(folder: Path) -> dict[str, tuple[bytes, int] | str]:
    """Everything under `folder`, hidden entries included: path -> (bytes, mode)."""
    tree: dict[str, tuple[bytes, int] | str] = {}
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder).as_posix()
        tree[rel] = "folder" if p.is_dir() else (p.read_bytes(), p.stat().st_mode & 0o7777)
    return tree


class Faults:
    """Counts calls of one `os` function and makes the n-th raise (or act)."""

    def __init__(self, monkeypatch, name: str, nth: int, action) -> None:
        self.calls = 0
        real = getattr(os, name)

        def wrapper(*args, **kwargs):
            self.calls += 1
            if self.calls == nth:
                return action(real, *args, **kwargs)
            return real(*args, **kwargs)

        monkeypatch.setattr(os, name, wrapper)


def fail_with(code: int):
    def action(real, *args, **kwargs):
        raise OSError(code, os.strerror(code))
    return action


def count_calls(monkeypatch, name: str, tmp_path: Path, target: str,
                over: Path | None = None) -> int:
    """How often a successful gen of `target` calls os.<name>: into a fresh folder, or
    over a copy of the folder `over`."""
    folder = tmp_path / "count"
    if over is not None:
        shutil.copytree(over, folder)
    with monkeypatch.context() as m:
        counter = Faults(m, name, 0, None)
        assert gen(folder, target, *(() if over is None else ("-D", "new")))[0] == 0
    shutil.rmtree(folder)
    return counter.calls


def new_set(tmp_path: Path, target: str, *extra: str) -> dict:
    assert gen(tmp_path / "reference", target, *extra)[0] == 0
    tree = snapshot(tmp_path / "reference")
    shutil.rmtree(tmp_path / "reference")
    return tree


@pytest.fixture
def with_old_set(tmp_path):
    """An output folder holding last run's set (-D old) and a file of the user's own."""
    out = tmp_path / "out"
    assert gen(out, "kernel-c", "-D", "old")[0] == 0
    (out / "README.user").write_text("mine\n")
    os.chmod(out / "tlob.c", 0o640)
    return out


def assert_whole(parent: Path, before: dict, after_new: dict, out: Path) -> str:
    """`out` is as before or the complete new set; nothing else appeared in `parent`."""
    now = snapshot(out) if out.exists() else None
    leftovers = [p.name for p in parent.iterdir() if p.name.startswith(".")]
    assert leftovers == [], leftovers
    if now == before:
        return "old"
    assert now == after_new, "a mix of old and new files"
    return "new"


# --- a full disk on every write in turn --------------------------------------------


@pytest.mark.parametrize("target", TARGETS)
def test_a_full_disk_on_any_write_leaves_no_new_folder(tmp_path, monkeypatch, target):
    writes = count_calls(monkeypatch, "write", tmp_path, target)
    assert writes >= 1
    for nth in range(1, writes + 1):
        with monkeypatch.context() as m:
            Faults(m, "write", nth, fail_with(errno.ENOSPC))
            code, out, err = gen(tmp_path / "out", target)
        assert code == 2 and out == ""
        assert not (tmp_path / "out").exists()
        assert [p.name for p in tmp_path.iterdir()] == []
        assert "No space left on device (nothing was changed)" in err
        assert str(tmp_path / "out") + "/" in err  # names the file


def test_a_full_disk_on_any_write_leaves_the_old_set(tmp_path, monkeypatch, with_old_set):
    before = snapshot(with_old_set)
    writes = count_calls(monkeypatch, "write", tmp_path, "kernel-c", with_old_set)
    for nth in range(1, writes + 1):
        with monkeypatch.context() as m:
            Faults(m, "write", nth, fail_with(errno.ENOSPC))
            code, _, err = gen(with_old_set, "kernel-c", "-D", "new")
        assert code == 2
        assert snapshot(with_old_set) == before, nth
        assert [p.name for p in tmp_path.iterdir()] == ["out"]
        assert err.startswith(f"hamodel gen: cannot write {with_old_set}/")


# --- a rename refused at every step: the old set comes back -------------------------


@pytest.mark.parametrize("call", ["replace", "rename"])
def test_a_refused_rename_at_any_step_restores_the_old_set(tmp_path, monkeypatch,
                                                           with_old_set, call):
    before = snapshot(with_old_set)
    expected = dict(new_set(tmp_path, "kernel-c", "-D", "new"))
    expected["README.user"] = before["README.user"]
    expected["tlob.c"] = (expected["tlob.c"][0], 0o640)  # a replaced file keeps its mode
    renames = count_calls(monkeypatch, call, tmp_path, "kernel-c", with_old_set) + 2
    outcomes = set()
    for nth in range(1, renames + 1):
        shutil.rmtree(with_old_set)
        assert gen(with_old_set, "kernel-c", "-D", "old")[0] == 0
        (with_old_set / "README.user").write_text("mine\n")
        os.chmod(with_old_set / "tlob.c", 0o640)
        with monkeypatch.context() as m:
            Faults(m, call, nth, fail_with(errno.EPERM))
            code, _, err = gen(with_old_set, "kernel-c", "-D", "new")
        outcome = assert_whole(tmp_path, before, expected, with_old_set)
        outcomes.add(outcome)
        assert (code == 0) == (outcome == "new"), err
        if code:
            assert "Operation not permitted (nothing was changed)" in err
    assert outcomes == ({"old", "new"} if call == "replace" else {"new"})  # rename: new folders


def test_a_rename_refused_into_a_new_folder_leaves_nothing(tmp_path, monkeypatch):
    with monkeypatch.context() as m:
        Faults(m, "rename", 1, fail_with(errno.EACCES))
        code, _, err = gen(tmp_path / "deep" / "er" / "out")
    assert code == 2 and "Permission denied" in err
    assert list(tmp_path.iterdir()) == []  # the parents made for it are gone too


def test_when_putting_back_fails_too_the_old_files_are_kept_and_named(tmp_path, monkeypatch,
                                                                      with_old_set):
    before = snapshot(with_old_set)
    with monkeypatch.context() as m:
        real = os.replace
        calls = []

        def replace(src, dst, *args, **kwargs):
            calls.append(dst)
            if len(calls) >= 3:  # the third file, and every undo after it
                raise OSError(errno.EIO, os.strerror(errno.EIO))
            return real(src, dst, *args, **kwargs)

        m.setattr(os, "replace", replace)
        code, _, err = gen(with_old_set, "kernel-c", "-D", "new")
    assert code == 2 and "could not be put back: the old ones are in" in err
    kept = next(p for p in tmp_path.iterdir() if ".kept-" in p.name)
    for rel in kept.iterdir():
        assert rel.read_bytes() == before[rel.name][0]


def test_a_file_system_without_hard_links_still_swaps_whole(tmp_path, monkeypatch,
                                                            with_old_set):
    with monkeypatch.context() as m:
        Faults(m, "link", 1, fail_with(errno.EPERM))
        code, _, err = gen(with_old_set, "kernel-c", "-D", "new")
    assert (code, err) == (0, "")
    assert b"new" in (with_old_set / "Kconfig").read_bytes()


# --- a signal between two files ----------------------------------------------------


@pytest.mark.parametrize("call,signum", [("fsync", signal.SIGTERM), ("write", signal.SIGINT),
                                         ("replace", signal.SIGTERM),
                                         ("link", signal.SIGINT)])
def test_a_signal_between_files_leaves_old_or_new(tmp_path, monkeypatch, with_old_set,
                                                  handlers, call, signum):
    before = snapshot(with_old_set)
    expected = dict(new_set(tmp_path, "kernel-c", "-D", "new"))
    expected["README.user"] = before["README.user"]
    expected["tlob.c"] = (expected["tlob.c"][0], 0o640)
    calls = count_calls(monkeypatch, call, tmp_path, "kernel-c", with_old_set)
    assert calls >= 5  # one per file at least
    seen = set()
    for nth in range(1, calls + 1):
        shutil.rmtree(with_old_set)
        assert gen(with_old_set, "kernel-c", "-D", "old")[0] == 0
        (with_old_set / "README.user").write_text("mine\n")
        os.chmod(with_old_set / "tlob.c", 0o640)

        def deliver(real, *args, **kwargs):
            result = real(*args, **kwargs)
            os.kill(os.getpid(), signum)  # arrives between this file and the next
            return result

        signals.install()
        with monkeypatch.context() as m:
            Faults(m, call, nth, deliver)
            code, _, err = gen(with_old_set, "kernel-c", "-D", "new")
        assert code == 128 + signum, err
        assert err.count("\n") == 1 and "Traceback" not in err
        seen.add(assert_whole(tmp_path, before, expected, with_old_set))
    # A signal while the files are written stops it all; one during the swap waits for
    # its end (the set is new, the exit status still 130/143).
    assert seen == {"new"} if call == "replace" else "old" in seen, seen


# --- single files: fmt -o and draw --------------------------------------------------


def test_fmt_output_on_a_full_disk_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "out.dot"
    target.write_text("old\n")
    with monkeypatch.context() as m:
        Faults(m, "write", 1, fail_with(errno.ENOSPC))
        o, e = io.StringIO(), io.StringIO()
        with redirect_stdout(o), redirect_stderr(e):
            code = cli.main(["fmt", TLOB, "-o", str(target)])
    assert code == 2
    assert e.getvalue() == (f"hamodel fmt: cannot write {target}: No space left on device "
                            "(nothing was changed)\n")
    assert [p.name for p in tmp_path.iterdir()] == ["out.dot"]
    assert target.read_text() == "old\n"


# --- the same for real, as root ----------------------------------------------------


@pytest.fixture
def small_tmpfs(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", str(mnt)],
                          capture_output=True, text=True)
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs: {done.stderr.strip()}")
    yield mnt
    subprocess.run(["umount", str(mnt)], check=False)


def test_a_really_full_tmpfs_gets_nothing(small_tmpfs):
    code, out, err = gen(small_tmpfs / "out", "kernel-c", "-t", "per_task")
    assert code == 2 and out == ""
    assert "No space left on device (nothing was changed)" in err
    assert list(small_tmpfs.iterdir()) == []


def test_an_immutable_file_keeps_the_whole_old_set(tmp_path):
    if os.geteuid() != 0 or shutil.which("chattr") is None:
        pytest.skip("chattr +i needs root and e2fsprogs")
    out = tmp_path / "out"
    assert gen(out, "kernel-c", "-D", "old")[0] == 0
    before = snapshot(out)
    locked = out / "tlob_trace.h"
    if subprocess.run(["chattr", "+i", str(locked)], capture_output=True).returncode:
        pytest.skip("this file system has no immutable flag")
    try:
        code, _, err = gen(out, "kernel-c", "-D", "new")
        assert code == 2
        assert err == (f"hamodel gen: cannot write {locked}: Operation not permitted "
                       "(nothing was changed)\n")
        assert snapshot(out) == before
        assert [p.name for p in tmp_path.iterdir()] == ["out"]
    finally:
        subprocess.run(["chattr", "-i", str(locked)], check=False)
