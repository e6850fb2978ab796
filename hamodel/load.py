"""File -> Automaton: read, parse, build; the one entry point the commands use."""

from __future__ import annotations

import re
from pathlib import Path

from hamodel import diagnostics as dg
from hamodel.build import build
from hamodel.diagnostics import Diagnostic
from hamodel.model import Automaton
from hamodel.parse import parse_dot
from hamodel.source import SOURCES, Excerpt, SourceText, Span, decode

# Larger files are refused before they are parsed (docs/model.md, Limits): the
# biggest model of the kernel is 2 KB, and a flood of statements would otherwise
# cost seconds of parsing and thousands of diagnostics.
MAX_FILE_BYTES = 256 << 10


def default_name(path: str | Path) -> str:
    """The monitor name rvgen would take (the file's stem), made a C identifier.

    `tlob-v2.dot` becomes `tlob_v2`; build.py still refuses a name that is not
    an identifier after this (a stem starting with a digit).
    """
    return re.sub(r"[^A-Za-z0-9_]", "_", Path(path).name.split(".")[0])


def read_text(path: str | Path) -> tuple[SourceText | None, list[Diagnostic]]:
    """A model or binding file as text, registered in SOURCES; or a located error
    (unreadable, over MAX_FILE_BYTES, not UTF-8, a NUL byte)."""
    name = str(path)
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_FILE_BYTES + 1)
            if len(raw) > MAX_FILE_BYTES:  # the rest of the line the limit falls in
                raw += f.read(1 << 16).split(b"\n", 1)[0]
    except OSError as exc:
        return None, [dg.error(dg.IO_ERROR, f"{name}: {exc.strerror or exc}", None)]
    if len(raw) > MAX_FILE_BYTES:
        # The caret goes where the limit falls.
        line = raw[:MAX_FILE_BYTES].count(b"\n") + 1
        start = raw.rfind(b"\n", 0, MAX_FILE_BYTES) + 1
        end = raw.find(b"\n", MAX_FILE_BYTES)
        shown = raw[start: len(raw) if end < 0 else end].decode("utf-8", errors="replace")
        col = len(raw[start:MAX_FILE_BYTES].decode("utf-8", errors="replace")) + 1
        SOURCES[name] = Excerpt(name, ((line, shown),))
        return None, [dg.error(dg.TOO_LARGE, f"larger than {MAX_FILE_BYTES >> 10} KiB "
                                             "(the limit for a model or a binding)",
                               Span.point(name, line, col))]
    text, bad = decode(raw)
    if bad is not None:
        SOURCES[name] = Excerpt(name, ((bad.line, bad.shown),))
        if bad.nul:
            diag = dg.error(dg.NUL_BYTE, "a NUL byte: binary data, not a text file",
                            Span.point(name, bad.line, bad.col))
        else:
            diag = dg.error(dg.NOT_UTF8, f"not UTF-8 text ({bad.what})",
                            Span.point(name, bad.line, bad.col))
        return None, [diag]
    source = SourceText(name, text)
    SOURCES[name] = source
    return source, []


def load_text(
    text: str, file: str, name: str | None = None
) -> tuple[Automaton | None, list[Diagnostic]]:
    # A byte-order mark and CRLF line ends are the editor's, not the model's.
    text = text.removeprefix("\ufeff").replace("\r\n", "\n")
    SOURCES[file] = SourceText(file, text)
    try:
        graph, diags = parse_dot(text, file)
        if graph is None:
            return None, diags
        return build(graph, name or default_name(file))
    except RecursionError:  # backstop: the parser limits nesting, later stages recurse
        return None, [dg.error(dg.SYNTAX, "the model is nested too deeply",
                               Span.point(file, 1, 1))]


def load_model(
    path: str | Path, name: str | None = None
) -> tuple[Automaton | None, list[Diagnostic]]:
    """Read and build a model; the Automaton is None when any error was found."""
    source, diags = read_text(path)
    if source is None:
        return None, diags
    return load_text(source.text, source.name, name)
