"""Where RV lives in a kernel source tree, and which parts a patch touched.

Input: a directory (and optionally a git revision); output: the model files,
the monitor folders and the RV build files, as paths both absolute (to read)
and as the user should see them (to report).
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

MODELS_DIR = "tools/verification/models"
RV_DIR = "kernel/trace/rv"
MONITORS_DIR = f"{RV_DIR}/monitors"
BUILD_FILES = (f"{RV_DIR}/Makefile", f"{RV_DIR}/Kconfig", f"{RV_DIR}/rv_trace.h")


class TreeError(ValueError):
    """DIR is not a kernel tree, or git cannot answer --changed-since: exit 2, one line."""


@dataclass(frozen=True, slots=True)
class KernelTree:
    root: Path  # as given, to read files
    shown: str  # as given, to name files in findings

    def path(self, rel: str) -> Path:
        return self.root / rel

    def show(self, rel: str) -> str:
        return os.path.normpath(os.path.join(self.shown, rel))


@dataclass(frozen=True, slots=True)
class Monitor:
    """A folder kernel/trace/rv/monitors/<name>/ and the files rvgen puts there."""

    name: str
    rel: str  # the folder, relative to the tree

    def file(self, suffix: str) -> str:
        """`.h` -> kernel/trace/rv/monitors/<m>/<m>.h (relative to the tree)."""
        return f"{self.rel}/{self.name}{suffix}"


def open_tree(directory: str) -> KernelTree:
    root = Path(directory)
    if not (root / RV_DIR).is_dir():
        raise TreeError(f"{directory}: not a kernel source tree with RV ({RV_DIR}/ is missing)")
    return KernelTree(root, directory)


def models(tree: KernelTree, suffixes: tuple[str, ...]) -> list[str]:
    """Every model file under tools/verification/models/ (any depth), sorted, relative."""
    base = tree.path(MODELS_DIR)
    if not base.is_dir():
        return []
    found = [p for p in base.rglob("*") if p.is_file() and p.suffix in suffixes]
    return sorted(p.relative_to(tree.root).as_posix() for p in found)


def monitors(tree: KernelTree) -> list[Monitor]:
    """Every folder under kernel/trace/rv/monitors/ that holds its `<name>.c`."""
    base = tree.path(MONITORS_DIR)
    if not base.is_dir():
        return []
    out = []
    for d in sorted(base.iterdir()):
        if d.is_dir() and (d / f"{d.name}.c").is_file():
            out.append(Monitor(d.name, f"{MONITORS_DIR}/{d.name}"))
    return out


def model_name(rel: str) -> str:
    """tools/verification/models/sched/sco.dot -> sco: the monitor it describes."""
    return Path(rel).name.split(".")[0]


def changed_files(tree: KernelTree, rev: str) -> set[str]:
    """Files (relative to the tree) that differ from `rev`: committed, staged, unstaged
    or new and not ignored."""
    if rev.startswith("-"):
        raise TreeError(f"--changed-since {rev!r}: not a revision")

    def git(*args: str) -> list[str]:
        try:
            done = subprocess.run(("git", "-C", str(tree.root), *args), capture_output=True,
                                  text=True, check=False, timeout=120)
        except FileNotFoundError:
            raise TreeError("--changed-since needs git, which is not installed") from None
        except subprocess.TimeoutExpired:
            raise TreeError("--changed-since: git did not answer within 120 s") from None
        if done.returncode != 0:
            why = (done.stderr.strip().splitlines() or ["git failed"])[-1]
            raise TreeError(f"--changed-since {rev}: {why}")
        return [line for line in done.stdout.splitlines() if line]

    git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    changed = git("diff", "--relative", "--name-only", "--no-renames", rev, "--")
    changed += git("ls-files", "--others", "--exclude-standard")
    return set(changed)
