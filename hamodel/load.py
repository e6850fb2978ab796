"""File -> Automaton: read, parse, build; the one entry point the commands use."""

from __future__ import annotations

import re
from pathlib import Path

from hamodel import diagnostics as dg
from hamodel.build import build
from hamodel.diagnostics import Diagnostic
from hamodel.model import Automaton
from hamodel.parse import parse_dot
from hamodel.source import SourceText

# Source texts of every file loaded, so diagnostics can quote the offending line.
SOURCES: dict[str, SourceText] = {}


def default_name(path: str | Path) -> str:
    """The monitor name rvgen would take (the file's stem), made a C identifier.

    `tlob-v2.dot` becomes `tlob_v2`; build.py still refuses a name that is not
    an identifier after this (a stem starting with a digit).
    """
    return re.sub(r"[^A-Za-z0-9_]", "_", Path(path).name.split(".")[0])


def read_source(path: str | Path) -> tuple[SourceText | None, list[Diagnostic]]:
    name = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        return None, [dg.error(dg.IO_ERROR, f"{name}: {exc.strerror or exc}", None)]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, [dg.error(dg.IO_ERROR, f"{name}: not UTF-8 text (byte {exc.start})", None)]
    if "\x00" in text:
        return None, [dg.error(dg.IO_ERROR, f"{name}: binary file (NUL byte)", None)]
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
        return None, [dg.error(dg.SYNTAX, f"{file}: the model is nested too deeply", None)]


def load_model(
    path: str | Path, name: str | None = None
) -> tuple[Automaton | None, list[Diagnostic]]:
    """Read and build a model; the Automaton is None when any error was found."""
    source, diags = read_source(path)
    if source is None:
        return None, diags
    return load_text(source.text, source.name, name)
