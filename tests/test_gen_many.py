"""`hamodel gen` of several models in one process: each monitor in DIR/NAME (`--into`),
the same files as one model at a time, and all folders written as one whole.

Every model is generated before anything is written, so a model that cannot be
generated leaves every folder as it was; the folders are then swapped in
together (hamodel/output.py `write_trees`), so a failed write or rename in any
of them, or a signal, leaves all of them as they were or all complete.
"""

from __future__ import annotations

import errno
import io
import os
import shutil
import signal
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
from conftest import ROOT
from test_fault_injection import Faults, fail_with, snapshot

from hamodel import cli, signals

TLOB = ROOT / "models" / "tlob.dot"
TWO_CLOCKS = ROOT / "tests" / "programs" / "ebpf_two_clocks.dot"


def gen(*args: str | Path) -> tuple[int, str, str]:
    o, e = io.StringIO(), io.StringIO()
    with redirect_stdout(o), redirect_stderr(e):
        code = cli.main(["gen", *map(str, args)])
    return code, o.getvalue(), e.getvalue()


@pytest.fixture
def two_models(tmp_path) -> tuple[Path, Path]:
    """tlob and a copy of it under another name (both can be kernel C), with bindings."""
    folder = tmp_path / "models"
    folder.mkdir()
    for stem in ("tlob", "other"):
        shutil.copy(TLOB, folder / f"{stem}.dot")
        shutil.copy(TLOB.with_suffix(".binding.toml"), folder / f"{stem}.binding.toml")
    return folder / "tlob.dot", folder / "other.dot"


@pytest.mark.parametrize("target", ["kernel-c", "ebpf", "python"])
def test_each_monitor_is_what_a_run_of_its_own_writes(tmp_path, two_models, target):
    code, out, err = gen("--target", target, *two_models, "--into", tmp_path / "all")
    assert (code, err) == (0, "")
    for model in two_models:
        alone = tmp_path / f"alone-{model.stem}"
        code, single, _ = gen("--target", target, model, "-o", alone)
        assert code == 0
        assert snapshot(tmp_path / "all" / model.stem) == snapshot(alone)
        # the run's report of this model: the same lines, its own folder named
        assert single.replace(str(alone), str(tmp_path / "all" / model.stem)) in out
    assert sorted(p.name for p in (tmp_path / "all").iterdir()) == ["other", "tlob"]


def test_several_kinds_of_models_in_one_run(tmp_path):
    """A hybrid automaton and one with two clocks, for the Python target."""
    code, out, err = gen("--target", "python", TLOB, TWO_CLOCKS, "--into", tmp_path)
    assert code == 0, err
    assert (tmp_path / "tlob" / "tlob_monitor.py").is_file()
    assert (tmp_path / "ebpf_two_clocks" / "ebpf_two_clocks_monitor.py").is_file()


def test_without_into_each_monitor_goes_to_its_name(tmp_path, two_models, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, _ = gen("--target", "ebpf", *two_models)
    assert code == 0
    assert out.splitlines()[0] == "wrote tlob/tlob.bpf.c"
    assert (tmp_path / "other" / "other.bpf.c").is_file()


@pytest.mark.parametrize("extra,message", [
    (("-o", "x"), "-o is about one monitor, and 2 models were given (use --into DIR"),
    (("-n", "x"), "-n is about one monitor, and 2 models were given"),
    (("--binding", "x.toml"), "--binding is about one monitor, and 2 models were given"),
])
def test_options_about_one_monitor_are_refused_with_several(tmp_path, two_models, extra,
                                                            message, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = gen("--target", "kernel-c", *two_models, *extra)
    assert (code, out) == (2, "")
    assert err == f"hamodel gen: {message}\n" or err.startswith(f"hamodel gen: {message}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["models"]


def test_two_monitors_of_one_name_are_refused(tmp_path):
    code, out, err = gen("--target", "ebpf", TLOB, TLOB, "--into", tmp_path / "all")
    assert (code, out) == (2, "")
    assert err.startswith(f"hamodel gen: two monitors would be written to {tmp_path}/all/tlob")
    assert not (tmp_path / "all").exists()


def test_one_model_that_cannot_be_generated_writes_nothing(tmp_path, two_models):
    broken = two_models[1].parent / "broken.dot"
    broken.write_text("digraph broken {\n")
    code, out, err = gen("--target", "kernel-c", two_models[0], broken, two_models[1],
                         "--into", tmp_path / "all")
    assert (code, out) == (2, "")
    assert f"{broken}:2:1: error" in err
    assert not (tmp_path / "all").exists()


# --- the folders as one whole -----------------------------------------------------------


@pytest.fixture
def old_sets(tmp_path, two_models) -> Path:
    """Both folders holding last run's sets (-D old), one with a file of the user's own."""
    into = tmp_path / "all"
    assert gen("--target", "kernel-c", *two_models, "--into", into, "-D", "old")[0] == 0
    (into / "other" / "README.user").write_text("mine\n")
    return into


def states(into: Path, old: dict, new: dict) -> str:
    """'old' or 'new' when every folder is; anything else fails."""
    leftovers = [p.name for p in into.iterdir() if p.name.startswith(".")]
    assert leftovers == [], leftovers
    now = {name: snapshot(into / name) for name in ("tlob", "other")}
    if now == old:
        return "old"
    assert now == new, "a folder is a mix, or one folder is new and the other old"
    return "new"


def new_sets(tmp_path, two_models, old: dict) -> dict:
    into = tmp_path / "reference"
    assert gen("--target", "kernel-c", *two_models, "--into", into, "-D", "new")[0] == 0
    new = {name: snapshot(into / name) for name in ("tlob", "other")}
    new["other"]["README.user"] = old["other"]["README.user"]
    shutil.rmtree(into)
    return new


def redo_old(into: Path, two_models) -> None:
    shutil.rmtree(into)
    assert gen("--target", "kernel-c", *two_models, "--into", into, "-D", "old")[0] == 0
    (into / "other" / "README.user").write_text("mine\n")


def calls_of(monkeypatch, name: str, into: Path, two_models) -> int:
    with monkeypatch.context() as m:
        counter = Faults(m, name, 0, None)
        assert gen("--target", "kernel-c", *two_models, "--into", into, "-D", "new")[0] == 0
    return counter.calls


@pytest.mark.parametrize("call,code", [("write", errno.ENOSPC), ("replace", errno.EPERM),
                                       ("rename", errno.EPERM), ("link", errno.EPERM),
                                       ("mkdir", errno.EACCES), ("fsync", errno.EIO)])
def test_a_failure_at_any_step_leaves_every_folder_old_or_every_folder_new(
        tmp_path, monkeypatch, two_models, old_sets, call, code):
    old = {name: snapshot(old_sets / name) for name in ("tlob", "other")}
    new = new_sets(tmp_path, two_models, old)
    total = calls_of(monkeypatch, call, old_sets, two_models)
    seen = set()
    for nth in range(1, total + 2):
        redo_old(old_sets, two_models)
        with monkeypatch.context() as m:
            Faults(m, call, nth, fail_with(code))
            status, _, err = gen("--target", "kernel-c", *two_models, "--into", old_sets,
                                 "-D", "new")
        outcome = states(old_sets, old, new)
        seen.add(outcome)
        assert (status == 0) == (outcome == "new"), (nth, err)
        if status:
            assert "(nothing was changed)" in err and "Traceback" not in err
    assert "new" in seen


def test_a_new_folder_and_an_old_one_in_one_set(tmp_path, monkeypatch, two_models):
    """One folder exists, the other is new: a refused swap in the old one removes the
    new one again."""
    into = tmp_path / "all"
    assert gen("--target", "kernel-c", two_models[1], "--into", into, "-D", "old")[0] == 0
    before = snapshot(into)
    total = calls_of(monkeypatch, "replace", tmp_path / "count", two_models)
    shutil.rmtree(tmp_path / "count")
    for nth in range(1, total + 1):
        with monkeypatch.context() as m:
            Faults(m, "replace", nth, fail_with(errno.EPERM))
            status, _, err = gen("--target", "kernel-c", *two_models, "--into", into,
                                 "-D", "new")
        if status:
            assert snapshot(into) == before, nth
        else:
            assert (into / "tlob" / "tlob.c").is_file()
            break


@pytest.mark.parametrize("call,signum", [("write", signal.SIGINT), ("replace", signal.SIGTERM),
                                         ("rename", signal.SIGTERM)])
def test_a_signal_between_files_leaves_every_folder_old_or_new(
        tmp_path, monkeypatch, two_models, old_sets, handlers, call, signum):
    old = {name: snapshot(old_sets / name) for name in ("tlob", "other")}
    new = new_sets(tmp_path, two_models, old)
    total = calls_of(monkeypatch, call, old_sets, two_models)
    for nth in range(1, total + 1):
        redo_old(old_sets, two_models)

        def deliver(real, *args, **kwargs):
            result = real(*args, **kwargs)
            os.kill(os.getpid(), signum)
            return result

        signals.install()
        with monkeypatch.context() as m:
            Faults(m, call, nth, deliver)
            status, _, err = gen("--target", "kernel-c", *two_models, "--into", old_sets,
                                 "-D", "new")
        assert status == 128 + signum, err
        states(old_sets, old, new)


def test_a_signal_handled_late_still_lets_every_folder_be_cleaned_up(tmp_path, monkeypatch,
                                                                      handlers):
    """Found in CI: a signal that another thread of the process took during the renames
    reaches its Python handler only a little later, here as the first folder's
    temporary copies are removed; the second folder's must go too."""
    from hamodel import output

    roots = [tmp_path / "a", tmp_path / "b"]
    for root in roots:
        root.mkdir()
        (root / "f.c").write_text("old\n")
    real_finish = output._Folder.finish
    late = []

    def finish_after_the_handler(folder):
        if not late:
            late.append(folder.root)
            signals.handler(signal.SIGTERM, None)  # the handler, run late, in this thread
        real_finish(folder)

    monkeypatch.setattr(output._Folder, "finish", finish_after_the_handler)
    with pytest.raises(signals.Interrupted):
        output.write_trees({root: {"f.c": "new\n"} for root in roots})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b"]
    assert [(root / "f.c").read_text() for root in roots] == ["new\n", "new\n"]


# --- -a: each monitor into the kernel tree ----------------------------------------------


def test_auto_patch_wires_every_monitor(newest_rv_tree, tmp_path, two_models):
    import subprocess
    import sys

    tree = tmp_path / "linux"
    shutil.copytree(newest_rv_tree, tree)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-m", "hamodel", "gen", "--target", "kernel-c",
                           "-a", *map(str, two_models)], cwd=tree, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    makefile = (tree / "kernel/trace/rv/Makefile").read_text()
    for name in ("tlob", "other"):
        assert (tree / f"kernel/trace/rv/monitors/{name}/{name}.c").is_file()
        assert f"monitors/{name}/{name}.o" in makefile


# --- the kernel's own models, their bindings elsewhere ----------------------------------


def test_the_upstream_models_in_one_run_are_each_as_alone(shared_models, tmp_path):
    """The 13 models of the kernel's tools/verification/models with their bindings from
    models/upstream/ (--binding-dir): each folder is what a run of its own writes."""
    models = sorted(shared_models.glob("upstream/**/*.dot"))
    dirs = sorted({str(ROOT / "models" / p.parent.relative_to(shared_models))
                   for p in models})
    flags = [x for d in dirs for x in ("--binding-dir", d)]
    code, out, err = gen("--target", "kernel-c", *models, "--into", tmp_path / "all", *flags)
    assert code == 0, err
    assert len(models) == 13 and len(list((tmp_path / "all").iterdir())) == 13
    for model in models:
        binding = ROOT / "models" / model.relative_to(shared_models).with_suffix("")
        alone = tmp_path / "alone" / model.stem
        code, _, err = gen("--target", "kernel-c", model, "--binding",
                           f"{binding}.binding.toml", "-o", alone)
        assert code == 0, err
        assert snapshot(tmp_path / "all" / model.stem) == snapshot(alone), model.stem


@pytest.mark.parametrize("extra,message", [
    (("--binding", "b.toml", "--binding-dir", "d"), "--binding and --binding-dir both say"),
    (("--no-binding", "--binding-dir", "d"), "--no-binding and --binding-dir both say"),
    (("--binding-dir", "no/such/folder"), "--binding-dir no/such/folder: not a folder"),
])
def test_binding_options_that_contradict_or_miss_are_refused(tmp_path, extra, message):
    code, out, err = gen("--target", "ebpf", TLOB, "-o", tmp_path / "x", *extra)
    assert (code, out) == (2, "") and err.startswith(f"hamodel gen: {message}")
    assert not (tmp_path / "x").exists()


def test_a_binding_dir_is_searched_before_the_models_own_folder(tmp_path):
    """tlob's binding copied with another budget limit into a folder of bindings: the
    generated kernel C takes the copy's."""
    folder = tmp_path / "bindings"
    folder.mkdir()
    text = TLOB.with_suffix(".binding.toml").read_text()
    assert "3600000000000" in text
    (folder / "tlob.binding.toml").write_text(text.replace("3600000000000", "7000000000"))
    (tmp_path / "empty").mkdir()  # a folder without the model's binding is passed over
    code, _, err = gen("--target", "kernel-c", TLOB, "--binding-dir", folder, "--binding-dir",
                       tmp_path / "empty", "-o", tmp_path / "out")
    assert code == 0, err
    generated = "".join(p.read_text() for p in (tmp_path / "out").iterdir())
    assert "7000000000" in generated and "3600000000000" not in generated
