"""hamodel installed from a wheel, not run from its source tree: the grammar and the
templates live beside the package in the source tree, and an install that left them
out could not read a model (found by installing it: `pip install .` then `hamodel
check` said it could not read its own grammar)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

from conftest import ROOT

MAPPED = {"hamodel.grammar": "grammar", "hamodel.templates": "templates"}


def test_pyproject_lists_every_package():
    setup = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    found = {str(init.parent.relative_to(ROOT)).replace(os.sep, ".")
             for init in (ROOT / "hamodel").rglob("__init__.py")}
    assert set(setup["packages"]) == found | set(MAPPED)
    assert setup["package-dir"] == MAPPED


def _hamodel(pythonpath: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(pythonpath))
    return subprocess.run([sys.executable, "-m", "hamodel", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_a_wheel_install_checks_and_generates_as_the_source_tree_does(tmp_path):
    wheels, target, work = tmp_path / "wheels", tmp_path / "site", tmp_path / "work"
    work.mkdir()
    # Built from a copy without the checkout's build products: pip builds in the tree,
    # and a stale build/lib would go into the wheel.
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", "build", "*.egg-info", "__pycache__", "out", ".*_cache", ".hypothesis"))
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "-w", str(wheels), str(source)], check=True,
                   capture_output=True, timeout=600)
    (wheel,) = wheels.glob("hamodel-*.whl")
    packed = set(zipfile.ZipFile(wheel).namelist())
    for kind in ("grammar", "templates"):
        for path in (ROOT / kind).rglob("*"):
            if path.is_file():
                assert f"hamodel/{kind}/{path.relative_to(ROOT / kind)}" in packed, path
    subprocess.run([*pip, "install", "--no-deps", "--target", str(target), str(wheel)],
                   check=True, capture_output=True, timeout=600)
    where = _hamodel(target, work, "--version")
    assert where.returncode == 0, where.stderr
    located = subprocess.run(
        [sys.executable, "-c", "import hamodel; print(hamodel.__file__)"], cwd=work,
        env=dict(os.environ, PYTHONPATH=str(target)), capture_output=True, text=True)
    assert located.stdout.startswith(str(target)), located.stdout
    model = str(ROOT / "models" / "tlob.dot")
    for args in (("check", model), ("gen", "--target", "kernel-c", model, "-o", "{out}"),
                 ("gen", "--target", "python", model, "-o", "{out}")):
        results = []
        for path in (target, ROOT):  # installed, then the source tree
            out = work / "out"  # the same path for both: `gen` prints it
            done = _hamodel(path, work, *(a.format(out=out) for a in args))
            files = {p.relative_to(out): p.read_bytes() for p in sorted(out.rglob("*"))
                     if p.is_file()} if out.exists() else {}
            results.append((done.returncode, done.stdout, done.stderr, files))
            shutil.rmtree(out, ignore_errors=True)
        assert results[0] == results[1], args
        assert results[0][0] in (0, 1) and "cannot read" not in results[0][2]
