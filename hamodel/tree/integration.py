"""Is each monitor wired into kernel/trace/rv/?  Makefile, Kconfig, rv_trace.h -> Diagnostics.

A monitor folder builds only when the Makefile names its object, shows up in
menuconfig only when the RV Kconfig sources its Kconfig (or, in kernels before
6.15, defines `config RV_MON_<M>` inline), and traces only when rv_trace.h
includes its `<m>_trace.h` under the event class its Kconfig selects.  The
reverse is checked too: a line naming a monitor whose files are missing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hamodel import diagnostics as dg
from hamodel.diagnostics import Diagnostic, Note
from hamodel.source import Span
from hamodel.tree import codes
from hamodel.tree.layout import RV_DIR, KernelTree, Monitor

_OBJ = re.compile(r"obj-\$\(CONFIG_RV_MON_(\w+)\)\s*\+=\s*monitors/(\w+)/(\w+)\.o")
_SOURCE = re.compile(r'source\s+"kernel/trace/rv/monitors/(\w+)/Kconfig"')
_CONFIG = re.compile(r"^(?:menu)?config\s+RV_MON_(\w+)\s*$")
_INCLUDE = re.compile(r"#include\s+<monitors/(\w+)/(\w+)_trace\.h>")
_CLASS_MARKER = re.compile(r"//\s*Add new monitors based on CONFIG_(\w+) here")
_SELECT = re.compile(r"^\s*select\s+((?:DA|HA|LTL)_MON_EVENTS_\w+)\s*$", re.M)
MARKER = "# Add new monitors here"


@dataclass(frozen=True, slots=True)
class Reference:
    name: str  # the monitor folder named
    span: Span
    section: str | None = None  # rv_trace.h: the CONFIG_* class the include sits under


@dataclass(frozen=True, slots=True)
class BuildFile:
    rel: str
    shown: str
    lines: tuple[str, ...]

    def span(self, line: int, col: int, width: int) -> Span:
        return Span(self.shown, line, col, line, col + width)

    def marker_span(self, marker: str) -> Span:
        for i, text in enumerate(self.lines, 1):
            if text.strip() == marker:
                return self.span(i, 1, len(text))
        return self.span(1, 1, 1)


def read_build_file(tree: KernelTree, name: str, sources: dict) -> BuildFile | None:
    """kernel/trace/rv/<name>, registered in `sources` for quoting; None when absent."""
    from hamodel.source import SourceText

    rel = f"{RV_DIR}/{name}"
    path = tree.path(rel)
    if not path.is_file():
        return None
    text = path.read_text(encoding="utf-8", errors="replace")
    shown = tree.show(rel)
    sources[shown] = SourceText(shown, text)
    return BuildFile(rel, shown, tuple(text.split("\n")))


def makefile_refs(f: BuildFile) -> list[Reference]:
    out = []
    for i, line in enumerate(f.lines, 1):
        if line.lstrip().startswith("#"):
            continue
        m = _OBJ.search(line)
        if m:
            out.append(Reference(m.group(2), f.span(i, m.start() + 1, m.end() - m.start())))
    return out


def kconfig_refs(f: BuildFile) -> tuple[list[Reference], set[str]]:
    """Sourced monitor Kconfigs, and the RV_MON_* configs defined inline (old kernels)."""
    sourced, inline = [], set()
    for i, line in enumerate(f.lines, 1):
        if line.lstrip().startswith("#"):
            continue
        m = _SOURCE.search(line)
        if m:
            sourced.append(Reference(m.group(1), f.span(i, m.start() + 1, m.end() - m.start())))
        m = _CONFIG.match(line.strip())
        if m:
            inline.add(m.group(1).lower())
    return sourced, inline


def trace_refs(f: BuildFile) -> list[Reference]:
    """Each `#include <monitors/m/m_trace.h>` with the class marker that follows it."""
    out = []
    pending: list[tuple[str, Span]] = []
    for i, line in enumerate(f.lines, 1):
        m = _INCLUDE.search(line)
        if m and not line.lstrip().startswith("//"):
            pending.append((m.group(1), f.span(i, m.start() + 1, m.end() - m.start())))
            continue
        m = _CLASS_MARKER.search(line)
        if m:
            out += [Reference(name, span, m.group(1)) for name, span in pending]
            pending = []
    out += [Reference(name, span, None) for name, span in pending]
    return out


def selected_class(tree: KernelTree, monitor: Monitor) -> str | None:
    """The tracepoint class (DA_MON_EVENTS_ID, ...) the monitor's Kconfig selects."""
    path = tree.path(f"{monitor.rel}/Kconfig")
    if not path.is_file():
        return None
    m = _SELECT.search(path.read_text(encoding="utf-8", errors="replace"))
    return m.group(1) if m else None


def check_integration(tree: KernelTree, monitors: list[Monitor], selected: set[str] | None,
                      build_changed: bool, sources: dict) -> dict[str, list[Diagnostic]]:
    """Findings per build file.  `selected`: the monitors to check (None: all);
    dangling lines are checked when every monitor is, or a build file changed."""
    out: dict[str, list[Diagnostic]] = {}
    makefile = read_build_file(tree, "Makefile", sources)
    kconfig = read_build_file(tree, "Kconfig", sources)
    trace_h = read_build_file(tree, "rv_trace.h", sources)
    folders = {m.name for m in monitors}
    check_all = selected is None or build_changed

    def add(f: BuildFile, d: Diagnostic) -> None:
        out.setdefault(f.shown, []).append(d)

    def owner_note(m: Monitor) -> Note:
        shown = tree.show(m.file(".c"))
        return Note(f"the monitor {m.name}", Span(shown, 1, 1, 1, 1))

    wanted = [m for m in monitors if selected is None or m.name in selected or build_changed]
    if makefile is not None:
        refs = makefile_refs(makefile)
        named = {r.name for r in refs}
        for m in wanted:
            if m.name not in named:
                add(makefile, dg.error(
                    codes.NOT_IN_MAKEFILE,
                    f"the Makefile builds no monitors/{m.name}/{m.name}.o: the monitor {m.name}"
                    " is never compiled", makefile.marker_span(MARKER), owner_note(m)))
        if check_all:
            for r in refs:
                if r.name not in folders and not tree.path(
                        f"{RV_DIR}/monitors/{r.name}").is_dir():
                    add(makefile, dg.error(
                        codes.DANGLING,
                        f"the Makefile builds monitors/{r.name}/{r.name}.o, but"
                        f" kernel/trace/rv/monitors/{r.name}/ does not exist", r.span))
    if kconfig is not None:
        sourced, inline = kconfig_refs(kconfig)
        named = {r.name for r in sourced} | inline
        for m in wanted:
            if m.name not in named:
                add(kconfig, dg.error(
                    codes.NOT_IN_KCONFIG,
                    f"the RV Kconfig does not source monitors/{m.name}/Kconfig: RV_MON_"
                    f"{m.name.upper()} cannot be enabled", kconfig.marker_span(MARKER),
                    owner_note(m)))
        if check_all:
            for r in sourced:
                if not tree.path(f"{RV_DIR}/monitors/{r.name}/Kconfig").is_file():
                    add(kconfig, dg.error(
                        codes.DANGLING,
                        f"the RV Kconfig sources kernel/trace/rv/monitors/{r.name}/Kconfig,"
                        " which does not exist (Kconfig stops there)", r.span))
    if trace_h is not None:
        refs = trace_refs(trace_h)
        by_name = {r.name: r for r in refs}
        for m in wanted:
            if not tree.path(m.file("_trace.h")).is_file():
                continue  # containers and old-API monitors trace nothing of their own
            ref = by_name.get(m.name)
            wanted_class = selected_class(tree, m)
            if ref is None:
                add(trace_h, dg.error(
                    codes.NOT_IN_RV_TRACE,
                    f"rv_trace.h does not include <monitors/{m.name}/{m.name}_trace.h>: the"
                    f" monitor's tracepoints are never defined", trace_h.span(1, 1, 1),
                    owner_note(m)))
            elif wanted_class and ref.section and ref.section != wanted_class:
                add(trace_h, dg.error(
                    codes.WRONG_TRACE_CLASS,
                    f"{m.name}_trace.h is included under CONFIG_{ref.section}, but"
                    f" monitors/{m.name}/Kconfig selects {wanted_class}", ref.span,
                    owner_note(m)))
        if check_all:
            for r in refs:
                if not tree.path(f"{RV_DIR}/monitors/{r.name}/{r.name}_trace.h").is_file():
                    add(trace_h, dg.error(
                        codes.DANGLING,
                        f"rv_trace.h includes <monitors/{r.name}/{r.name}_trace.h>, which does"
                        " not exist", r.span))
    return out
