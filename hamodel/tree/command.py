"""`hamodel check --kernel-tree DIR [--changed-since REV]`: a kernel tree -> Reports.

One process checks every model under tools/verification/models/ as `hamodel
check` does, compares each with the in-tree monitor of the same name
(kinds.py), and checks how every monitor is wired into kernel/trace/rv/
(integration.py).  With --changed-since only what the patch touches is
looked at: a model whose file or monitor folder changed, and the wiring of
those monitors (of all of them when Makefile, Kconfig or rv_trace.h changed).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

from hamodel.check import Options, Report
from hamodel.check.timed import Finding
from hamodel.load import SOURCES
from hamodel.tree import layout
from hamodel.tree.integration import check_integration
from hamodel.tree.kinds import KINDS
from hamodel.tree.layout import BUILD_FILES, MONITORS_DIR


@dataclass(frozen=True, slots=True)
class TreeResult:
    reports: tuple[Report, ...]
    skipped: tuple[str, ...] = ()  # model files no reader handles yet
    models: int = 0  # models examined
    monitors: tuple[str, ...] = field(default=())  # monitors compared with their model


def check_tree(directory: str, options: Options, changed_since: str | None = None) -> TreeResult:
    """Raises layout.TreeError for a DIR that is not a kernel tree or a bad REV.

    `options.params` and `options.reach` apply to the models that have them."""
    tree = layout.open_tree(directory)
    changed = layout.changed_files(tree, changed_since) if changed_since else None
    monitors = {m.name: m for m in layout.monitors(tree)}
    all_models = layout.models(tree, (".dot", ".ltl"))
    reports: list[Report] = []
    skipped: list[str] = []
    compared: list[str] = []
    examined = 0
    for rel in all_models:
        name = layout.model_name(rel)
        monitor = monitors.get(name)
        if changed is not None and not _touched(rel, name, changed):
            continue
        examine = KINDS.get("." + rel.rsplit(".", 1)[-1])
        if examine is None:
            skipped.append(tree.show(rel))
            continue
        examined += 1
        if monitor is not None:
            compared.append(name)
        try:
            reports.append(examine(tree, rel, monitor, options))
        except Exception as exc:  # a reader bug must still end in a clear, located message
            reports.append(_internal_error(tree.show(rel), exc))
    selected = None
    build_changed = False
    if changed is not None:
        selected = {n for n in monitors if any(f.startswith(f"{MONITORS_DIR}/{n}/")
                                              for f in changed)}
        build_changed = any(f in changed for f in BUILD_FILES)
    wiring = check_integration(tree, list(monitors.values()), selected, build_changed, SOURCES)
    for shown in sorted(wiring):
        findings = tuple(Finding(d) for d in wiring[shown])
        reports.append(Report(shown, findings))
    return TreeResult(tuple(reports), tuple(skipped), examined, tuple(compared))


def _internal_error(shown: str, exc: Exception) -> Report:
    from hamodel.check.codes import INCOMPLETE
    from hamodel.diagnostics import error

    message = (f"internal error while checking {shown} ({type(exc).__name__}: {exc}); this"
               " model is not checked, please report it with the model and its monitor")
    return Report(shown, (Finding(error(INCOMPLETE, message, None)),), incomplete=True)


def _touched(rel: str, name: str, changed: set[str]) -> bool:
    return rel in changed or any(f.startswith(f"{MONITORS_DIR}/{name}/") for f in changed)


def note_skipped(result: TreeResult) -> None:
    """Say on stderr what was not read (the reports on stdout stay the tool's findings)."""
    if result.skipped:
        print(f"hamodel check: not read (no reader for this kind of model yet):"
              f" {', '.join(result.skipped)}", file=sys.stderr)
