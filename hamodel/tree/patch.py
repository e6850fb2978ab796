"""Wiring a new monitor into kernel/trace/rv/ (`gen -a`, `container -a`): texts -> texts.

rvgen's workflow adds three lines by hand or with `-a`: the object to the
Makefile, the monitor's Kconfig to the RV Kconfig, and its `<m>_trace.h` to
rv_trace.h, each above a marker comment the kernel keeps for this; a kernel
with the in-tree RV KUnit suite also gets the monitor's `<m>_kunit.c` include
and cases in rv_monitors_test.c (hamodel.gen.kernel_kunit says where).  Here each
edit is a pure function of the file's text: the line goes above the first
line that is exactly the marker, nothing changes when the line is already
there (so running twice is harmless), and a missing marker is an error
naming the file and the line to add by hand, never a silent no-op.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hamodel.gen.kernel_kunit import add_monitors_test_lines
from hamodel.tree.layout import RV_DIR

MAKEFILE_MARKER = "# Add new monitors here"
MONITORS_TEST = "rv_monitors_test.c"


class PatchError(ValueError):
    """The tree cannot be patched as asked (one line; nothing was written)."""


@dataclass(frozen=True, slots=True)
class Wiring:
    """What a monitor needs in kernel/trace/rv/: its name, its container, the tracepoint
    class its Kconfig selects (None: a container, which traces nothing itself)."""

    name: str
    parent: str | None
    trace_class: str | None
    container: bool = False
    # its KUnit lines in rv_monitors_test.c: the #include and the KUNIT_CASE() entries
    kunit: tuple[str, tuple[str, ...]] | None = None

    @property
    def makefile_line(self) -> str:
        return f"obj-$(CONFIG_RV_MON_{self.name.upper()}) += monitors/{self.name}/{self.name}.o"

    @property
    def kconfig_line(self) -> str:
        return f'source "kernel/trace/rv/monitors/{self.name}/Kconfig"'

    @property
    def trace_line(self) -> str:
        return f"#include <monitors/{self.name}/{self.name}_trace.h>"

    @property
    def kconfig_marker(self) -> str:
        """A nested monitor stays beside its container's others, as in the kernel's Kconfig."""
        return kconfig_marker(self.parent)

    @property
    def trace_marker(self) -> str:
        return f"// Add new monitors based on CONFIG_{self.trace_class} here"


def kconfig_marker(container: str | None) -> str:
    return f"# Add new {container} monitors here" if container else MAKEFILE_MARKER


@dataclass(frozen=True, slots=True)
class Edit:
    rel: str  # relative to the tree
    before: str
    after: str

    @property
    def changed(self) -> bool:
        return self.before != self.after


def insert_above(text: str, marker: str, lines: list[str], file: str,
                 key: str | None = None) -> str:
    """`lines` above the first line that is `marker`; those already present are skipped
    (or all of them when the line `key` is present)."""
    rows = text.split("\n")
    present = {r.strip() for r in rows}
    if key is not None:
        missing = [] if key in present else lines
    else:
        missing = [line for line in lines if line.strip() not in present]
    if not missing:
        return text
    for i, row in enumerate(rows):
        if row.strip() == marker:
            return "\n".join(rows[:i] + missing + rows[i:])
    raise PatchError(f"{file}: no line `{marker}` to add `{missing[0].strip()}` above"
                     " (add it by hand where the other monitors are)")


def wiring_edits(root: Path, w: Wiring) -> list[Edit]:
    """The edits of Makefile, Kconfig and rv_trace.h; PatchError before any is written."""
    edits = []

    def read(name: str) -> tuple[str, str]:
        rel = f"{RV_DIR}/{name}"
        try:
            return rel, (root / rel).read_text(encoding="utf-8")
        except OSError as exc:
            raise PatchError(f"{root / rel}: {exc.strerror or exc}") from None

    rel, text = read("Makefile")
    edits.append(Edit(rel, text, insert_above(text, MAKEFILE_MARKER, [w.makefile_line], rel)))
    rel, text = read("Kconfig")
    lines = [w.kconfig_line]
    if w.container:
        # the container's own marker, where its nested monitors will go (blank line after)
        lines += [kconfig_marker(w.name), ""]
    after = insert_above(text, w.kconfig_marker, lines[:1], rel)
    if w.container:
        after = insert_above(after, MAKEFILE_MARKER, lines[1:], rel, key=lines[1])
    edits.append(Edit(rel, text, after))
    if w.trace_class is not None:
        rel, text = read("rv_trace.h")
        edits.append(Edit(rel, text, insert_above(text, w.trace_marker, [w.trace_line], rel)))
    # a kernel older than the in-tree RV KUnit suite has no such file: nothing to add
    if w.kunit is not None and (root / RV_DIR / MONITORS_TEST).is_file():
        rel, text = read(MONITORS_TEST)
        try:
            edits.append(Edit(rel, text, add_monitors_test_lines(text, *w.kunit)))
        except ValueError as exc:
            raise PatchError(f"{rel}: {exc} (add `{w.kunit[0]}` and its cases by hand)"
                             ) from None
    return edits


def find_tree(explicit: str | None, cwd: Path) -> Path:
    """The kernel tree to patch: --kernel-tree, else the current directory, else `../..`
    (where rvgen looks when run from tools/verification/)."""
    if explicit is not None:
        root = Path(explicit)
        if not (root / RV_DIR).is_dir():
            raise PatchError(f"--kernel-tree {explicit}: no {RV_DIR}/ there")
        return root
    for candidate in (cwd, cwd / ".." / ".."):
        if (candidate / RV_DIR).is_dir():
            return candidate
    raise PatchError(f"-a: no {RV_DIR}/ in the current directory or in ../.. (run from the"
                     " kernel tree or tools/verification/, or pass --kernel-tree DIR)")


def checklist(w: Wiring, out_dir: str, patched: list[Edit] | None, monitor_dir: str) -> list[str]:
    """What is left to do by hand; with `patched`, what -a did instead."""
    if patched is not None:
        lines = []
        for e in patched:
            verb = "patched" if e.changed else "already wired, unchanged:"
            lines.append(f"  - {verb} {e.rel} (review the change)" if e.changed
                         else f"  - {verb} {e.rel}")
        lines.append(f"  - the monitor's files are in {monitor_dir}/")
        return ["checklist (done by -a):", *lines]
    steps = [
        "checklist (or run again with -a to make these edits):",
        f"  - {RV_DIR}/Makefile, above `{MAKEFILE_MARKER}`:",
        f"        {w.makefile_line}",
        f"  - {RV_DIR}/Kconfig, above `{w.kconfig_marker}`:",
        f"        {w.kconfig_line}",
    ]
    if w.container:
        steps += ["    and below it the marker its nested monitors go above:",
                  f"        {kconfig_marker(w.name)}"]
    if w.trace_class is not None:
        steps += [f"  - {RV_DIR}/rv_trace.h, above `{w.trace_marker}`:",
                  f"        {w.trace_line}"]
    if w.kunit is not None:
        include, cases = w.kunit
        steps += [f"  - {RV_DIR}/{MONITORS_TEST} (the KUnit suite), beside the other monitors:",
                  f"        {include}",
                  "    and in rv_mon_test_cases[]:",
                  *(f"        {case}" for case in cases)]
    steps.append(f"  - copy {out_dir.rstrip('/')}/ to {RV_DIR}/monitors/{w.name}/")
    return steps
