"""Shared paths: the project's models and the read-only corpus in ../shared/."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
MODELS = SHARED / "models"

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/strategies.py


def corpus(*folders: str) -> list[Path]:
    """Every .dot under the given folders of ../shared/models (empty if shared/ is absent)."""
    found: list[Path] = []
    for folder in folders:
        found += sorted((MODELS / folder).rglob("*.dot"))
    return found


NO_SHARED = (f"needs the shared corpus ({SHARED}), which this clone does not have"
             " (the models, traces and kernel files the project tests against)")


@pytest.fixture(scope="session")
def shared_models() -> Path:
    if not MODELS.is_dir():
        pytest.skip(NO_SHARED)
    return MODELS


# --- a clone without ../shared ----------------------------------------------------------
#
# Tests read the corpus through module-level paths (SHARED, MODELS, corpus(), or
# constants made from them) and through parameters that are such paths.  Where
# ../shared is absent, every test that reaches one is skipped with the one reason
# above; tests that need nothing from it still run.

_SHARED_NAMES = {"SHARED", "MODELS", "SHARED_KERNEL", "corpus", "shared_models"}


def _under_shared(value: object, depth: int = 0) -> bool:
    if isinstance(value, (str, Path)):
        return str(SHARED) in str(value)
    if depth < 3 and isinstance(value, (list, tuple, set, frozenset)):
        return any(_under_shared(v, depth + 1) for v in value)
    if depth < 3 and isinstance(value, dict):
        return any(_under_shared(v, depth + 1) or _under_shared(k, depth + 1)
                   for k, v in value.items())
    return False


def _reaches_shared(function, seen: set | None = None) -> bool:
    """Does the function, or a function of its module it calls, name a corpus path?"""
    import types

    seen = set() if seen is None else seen
    if function in seen or not hasattr(function, "__code__"):
        return False
    seen.add(function)
    names: set[str] = set()
    stack = [function.__code__]
    while stack:
        code = stack.pop()
        names |= set(code.co_names)
        stack += [c for c in code.co_consts if isinstance(c, types.CodeType)]
    module = function.__globals__
    for name in names:
        if name in _SHARED_NAMES:
            return True
        value = module.get(name)
        if _under_shared(value):
            return True
        if (isinstance(value, types.FunctionType) and value.__module__ == function.__module__
                and _reaches_shared(value, seen)):
            return True
    return False


def pytest_collection_modifyitems(config, items):
    if SHARED.is_dir():
        return
    skip = pytest.mark.skip(reason=NO_SHARED)
    for item in items:
        function = getattr(item, "function", None)
        params = getattr(getattr(item, "callspec", None), "params", {})
        if (function is not None and _reaches_shared(function)) or _under_shared(
                list(params.values())):
            item.add_marker(skip)


# --- kernel source trees (hamodel check --kernel-tree, gen -a) ---------------------

LINUX_SOURCE = Path("/usr/src/linux-source-6.12.tar.xz")
# Only what RV needs: unpacking these from the 150 MB archive takes ~13 s, once a session.
RV_PATHS = ("tools/verification/*", "kernel/trace/rv/*")
SHARED_KERNEL = SHARED / "kernel"


@pytest.fixture(scope="session")
def linux_612(request, tmp_path_factory) -> Path:
    """Debian's linux-source-6.12, RV parts only (read-only: copy it to change it).

    Unpacked once into pytest's cache (.pytest_cache), again only when the archive
    changes; without the cache plugin, once per session."""
    import shutil
    import subprocess

    if not LINUX_SOURCE.is_file():
        pytest.skip(f"Debian's linux-source-6.12 is not installed ({LINUX_SOURCE};"
                    " .ci/setup installs it)")
    cache = getattr(request.config, "cache", None)
    base = Path(cache.mkdir("linux-612-rv")) if cache else tmp_path_factory.mktemp("linux-612")
    tree = base / "linux-source-6.12"
    stamp = base / "complete"
    info = LINUX_SOURCE.stat()
    want = f"{info.st_size} {info.st_mtime_ns}\n"
    if not stamp.is_file() or stamp.read_text() != want:
        shutil.rmtree(tree, ignore_errors=True)
        subprocess.run(
            ["tar", "-xJf", str(LINUX_SOURCE), "-C", str(base), "--wildcards",
             *(f"linux-source-6.12/{p}" for p in RV_PATHS)],
            check=True, timeout=600,
        )
        stamp.write_text(want)  # only after the whole extraction
    return tree


def overlay_newest_rv(tree: Path) -> None:
    """Put the newest RV files of ../shared over a 6.12 tree: the upstream models (the
    rtapp LTL specs in their newest version, ../shared/models/upstream-ltl), the RV
    Makefile/Kconfig/rv_trace.h/rv_monitors_test.c, and the in-tree monitors the newest
    Makefile builds
    (the kit's newer copies over ../shared/kernel/monitors/; tss and sncid, removed
    upstream, are left out as upstream left them)."""
    import shutil

    models = tree / "tools/verification/models"
    shutil.rmtree(models)
    shutil.copytree(MODELS / "upstream", models)
    for spec in sorted((MODELS / "upstream-ltl" / "rtapp").glob("*.ltl")):
        shutil.copy(spec, models / "rtapp" / spec.name)
    rv = tree / "kernel/trace/rv"
    framework = SHARED_KERNEL / "rv-framework/kernel/trace/rv"
    for name in ("Makefile", "Kconfig", "rv_trace.h", "rv_monitors_test.c"):
        shutil.copy(framework / name, rv / name)
    makefile = (rv / "Makefile").read_text()
    for source in (SHARED_KERNEL / "monitors", framework / "monitors"):
        for d in sorted(source.iterdir()):
            if d.is_dir() and f"monitors/{d.name}/{d.name}.o" in makefile:
                shutil.copytree(d, rv / "monitors" / d.name, dirs_exist_ok=True)


@pytest.fixture(scope="session")
def newest_rv_tree(linux_612, tmp_path_factory) -> Path:
    """linux-source-6.12 with the newest RV files of ../shared overlaid (read-only)."""
    import shutil

    if not SHARED_KERNEL.is_dir():
        pytest.skip(NO_SHARED)
    dest = tmp_path_factory.mktemp("newest-rv") / "linux"
    shutil.copytree(linux_612, dest)
    overlay_newest_rv(dest)
    return dest


@pytest.fixture(autouse=True)
def _signals_left_deliverable():
    """A test that leaves SIGINT or SIGTERM blocked fails itself, not the later tests:
    every program the suite starts afterwards would inherit the mask and ignore them."""
    yield
    held = {signal.SIGINT, signal.SIGTERM} & signal.pthread_sigmask(signal.SIG_BLOCK, [])
    if held:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, held)
        pytest.fail(f"the test left {sorted(s.name for s in held)} blocked")


@pytest.fixture
def handlers():
    """hamodel's signal handler, as the program installs it; pytest's back after, and
    hamodel.signals as before it: nothing installed or pending."""
    from hamodel import signals  # noqa: PLC0415 (only for the tests that ask)

    saved = {s: signal.getsignal(s) for s in signals.SIGNALS}
    signals.install()
    yield
    for s, h in saved.items():
        signal.signal(s, h)
    signals._state.__init__()
