"""Shared paths: the project's models and the read-only corpus in ../shared/."""

from __future__ import annotations

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


@pytest.fixture(scope="session")
def shared_models() -> Path:
    if not MODELS.is_dir():
        pytest.fail(f"the shared corpus is missing: expected {MODELS}")
    return MODELS


# --- kernel source trees (hamodel check --kernel-tree, gen -a) ---------------------

LINUX_SOURCE = Path("/usr/src/linux-source-6.12.tar.xz")
# Only what RV needs: unpacking these from the 150 MB archive takes ~13 s, once a session.
RV_PATHS = ("tools/verification/*", "kernel/trace/rv/*")
SHARED_KERNEL = SHARED / "kernel"


@pytest.fixture(scope="session")
def linux_612(tmp_path_factory) -> Path:
    """Debian's linux-source-6.12, RV parts only (read-only: copy it to change it)."""
    import subprocess

    if not LINUX_SOURCE.is_file():
        pytest.skip(f"Debian's linux-source-6.12 is not installed ({LINUX_SOURCE};"
                    " .ci/setup installs it)")
    dest = tmp_path_factory.mktemp("linux-612")
    subprocess.run(
        ["tar", "-xJf", str(LINUX_SOURCE), "-C", str(dest), "--wildcards",
         *(f"linux-source-6.12/{p}" for p in RV_PATHS)],
        check=True,
    )
    return dest / "linux-source-6.12"


def overlay_newest_rv(tree: Path) -> None:
    """Put the newest RV files of ../shared over a 6.12 tree: the upstream models, the
    RV Makefile/Kconfig/rv_trace.h, and the in-tree monitors the newest Makefile builds
    (the kit's newer copies over ../shared/kernel/monitors/; tss and sncid, removed
    upstream, are left out as upstream left them)."""
    import shutil

    models = tree / "tools/verification/models"
    shutil.rmtree(models)
    shutil.copytree(MODELS / "upstream", models)
    rv = tree / "kernel/trace/rv"
    framework = SHARED_KERNEL / "rv-framework/kernel/trace/rv"
    for name in ("Makefile", "Kconfig", "rv_trace.h"):
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
        pytest.skip(f"the shared corpus is absent ({SHARED}): no newest RV files to overlay")
    dest = tmp_path_factory.mktemp("newest-rv") / "linux"
    shutil.copytree(linux_612, dest)
    overlay_newest_rv(dest)
    return dest
