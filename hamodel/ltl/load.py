"""`.ltl` file -> LtlSpec: read, parse, build; the entry point of every LTL command."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from hamodel import diagnostics as dg
from hamodel.load import SOURCES, default_name, read_text
from hamodel.source import SourceText

if TYPE_CHECKING:  # the LTL stages are imported by the commands that read a spec
    from hamodel.diagnostics import Diagnostic
    from hamodel.ltl.formula import LtlSpec

SUFFIX = ".ltl"


def is_ltl(path: str | Path) -> bool:
    """True for a spec in the LTL dialect, by its suffix as rvgen's `-c ltl` users name
    them: `x.ltl`, and also a kept version such as `x.ltl@00f0dadd` or `x.ltl.orig`."""
    return any(s.startswith(SUFFIX) for s in Path(path).suffixes)


def load_ltl_text(text: str, file: str, name: str | None = None
                  ) -> tuple[LtlSpec | None, list[Diagnostic]]:
    from hamodel.ltl.build import build_spec
    from hamodel.ltl.parse import parse_ltl

    text = text.removeprefix("\ufeff").replace("\r\n", "\n")
    SOURCES[file] = SourceText(file, text)
    try:
        parsed, diags = parse_ltl(text, file)
        if parsed is None:
            return None, diags
        return build_spec(parsed, name or default_name(file), file, text)
    except RecursionError:  # backstop: parse and build bound the nesting first
        return None, [dg.error(dg.SYNTAX, f"{file}: the formula is nested too deeply", None)]


def load_ltl(path: str | Path, name: str | None = None
             ) -> tuple[LtlSpec | None, list[Diagnostic]]:
    """Read and build a spec; the LtlSpec is None when any error was found."""
    source, diags = read_text(path)
    if source is None:
        return None, diags
    return load_ltl_text(source.text, source.name, name)
