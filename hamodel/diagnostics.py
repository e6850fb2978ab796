"""Diagnostics as data: located, coded, collected by each stage and rendered once.

Every problem hamodel finds in a model is a `Diagnostic`.  Stages return lists
of them instead of raising, so a user sees all problems of a file at once; only
cli.py prints them.  Codes are stable: tests, JSON and SARIF use them.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from hamodel.source import Excerpt, SourceText, Span

Sources = Mapping[str, SourceText | Excerpt]


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"
    NOTE = "note"


@dataclass(frozen=True, slots=True)
class CodeInfo:
    number: str
    slug: str
    hint: str


# The registry of build-stage codes (HA0xx).  `hamodel check` adds HA1xx.
CODES: dict[str, CodeInfo] = {}


def register(number: str, slug: str, hint: str) -> str:
    """Record a code once; returns the slug, which is what diagnostics carry."""
    if slug in CODES and CODES[slug].number != number:
        raise ValueError(f"code {slug} registered twice")
    CODES[slug] = CodeInfo(number, slug, hint)
    return slug


SYNTAX = register("HA001", "syntax", "fix the DOT syntax at the caret")
IO_ERROR = register("HA002", "unreadable-file", "check the path and permissions")
LABEL_SYNTAX = register("HA003", "label-syntax", "see docs/model.md for the label language")
NOT_DIGRAPH = register("HA004", "not-digraph", "write `digraph name { ... }` with `->` edges")
EDGE_CHAIN = register("HA005", "edge-chain", "write one edge statement per pair of states")
UNDECLARED_NODE = register("HA006", "undeclared-node", "declare the state with a node statement")
UNLABELLED_EDGE = register("HA007", "unlabelled-edge", "give the edge a label naming its events")
LABEL_TWICE = register("HA008", "label-twice", "keep one label for the state")
LABEL_NAME = register("HA009", "label-names-other-state", "the label's first line is the name")
INIT_MARKER = register("HA010", "init-marker", "use exactly one `__init_X` node and arrow")
BAD_NAME = register("HA011", "bad-name", "use a C identifier that is not a C keyword")
NAME_CLASH = register("HA012", "name-clash", "rename one of the two")
BARE_NODE = register("HA013", "bare-node", "give the state a shape group and a label, or drop it")
NONDETERMINISTIC = register(
    "HA014", "nondeterministic-edge", "make the guards disjoint, or run `hamodel check`"
)
REPEATED_EDGE = register("HA015", "repeated-edge-statement", "merge the labels into one statement")
BAD_VALUE = register("HA016", "bad-value", "write an integer, optionally with ns/us/ms/s/j")
INVARIANT_NOT_CLOCK = register(
    "HA017", "invariant-not-clock", "reset the variable somewhere to make it a clock"
)
NO_UNIT = register("HA018", "clock-without-unit", "write the bound with a unit: 100ns, 5ms, 3j")
CONFLICTING_UNITS = register("HA019", "conflicting-units", "compare each clock in one kind of unit")
UNIT_AFTER_SYMBOL = register(
    "HA020", "unit-after-symbol", "put the unit in the symbol's name (LIMIT_NS) instead"
)
SHAPE_CONFLICT = register("HA021", "kind-clash", "use one spelling for each parameter")
UNIT_ON_VALUE = register("HA022", "unit-on-value", "drop the unit: this env is not a clock")
KERNEL_LIMIT = register("HA023", "kernel-limit", "the kernel API cannot express this model")
NOT_UTF8 = register("HA070", "not-utf8", "save the file as UTF-8 text")
NUL_BYTE = register("HA071", "nul-byte", "a text file has no NUL bytes: is this the right file?")
TOO_LARGE = register(
    "HA072", "file-too-large", "a model or binding is at most 256 KiB (docs/model.md, Limits)"
)


@dataclass(frozen=True, slots=True)
class Note:
    message: str
    span: Span | None = None


@dataclass(frozen=True, slots=True)
class Diagnostic:
    severity: Severity
    code: str
    message: str
    span: Span | None = None
    notes: tuple[Note, ...] = field(default=())

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    @property
    def number(self) -> str:
        info = CODES.get(self.code)
        return info.number if info else self.code


def error(code: str, message: str, span: Span | None, *notes: Note) -> Diagnostic:
    return Diagnostic(Severity.ERROR, code, message, span, notes)


def warning(code: str, message: str, span: Span | None, *notes: Note) -> Diagnostic:
    return Diagnostic(Severity.WARNING, code, message, span, notes)


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.is_error for d in diagnostics)


def sort_key(d: Diagnostic) -> tuple:
    s = d.span
    return (s.file, s.line, s.col, d.code) if s else ("", 0, 0, d.code)


# --- rendering ------------------------------------------------------------------


def render_text(d: Diagnostic, sources: Sources | None = None) -> str:
    """`FILE:LINE:COL: error[HA005]: message`, the offending line and a caret."""
    lines = [_headline(d.span, f"{d.severity.value}[{d.number}]", d.message)]
    lines += _quote(d.span, sources)
    for note in d.notes:
        lines.append(_headline(note.span, "note", note.message))
        lines += _quote(note.span, sources)
    info = CODES.get(d.code)
    if info and d.is_error:
        lines.append(f"  = help: {info.hint}")
    return "\n".join(lines)


def _headline(span: Span | None, kind: str, message: str) -> str:
    where = f"{span}: " if span else ""
    return f"{where}{kind}: {message}"


QUOTE_WIDTH = 120  # characters of a long line shown around the caret
# Control characters of a quoted line (a task name may hold an escape sequence) are
# shown as U+FFFD, one for one, so they cannot drive the terminal and columns stay.
_UNPRINTABLE = {c: "\ufffd" for c in [*range(0x20), 0x7F] if c != 0x09}


def _quote(span: Span | None, sources: Sources | None) -> list[str]:
    if span is None or not sources or span.file not in sources:
        return []
    text = sources[span.file].line(span.line)
    if text is None:
        return []
    width = span.end_col - span.col if span.end_line == span.line else len(text) - span.col + 1
    col = span.col
    if len(text) > QUOTE_WIDTH:  # show the part around the caret, marked as cut
        first = max(0, min(col - 1 - QUOTE_WIDTH // 2, len(text) - QUOTE_WIDTH))
        last = first + QUOTE_WIDTH
        text = ("..." if first else "") + text[first:last] + ("..." if last < len(text) else "")
        col = col - first + (3 if first else 0)
        width = min(width, QUOTE_WIDTH)
    text = text.translate(_UNPRINTABLE)
    prefix = "".join(c if c == "\t" else " " for c in text[: col - 1])
    return [f"    {text}", f"    {prefix}^{'~' * max(0, width - 1)}"]


def to_json(d: Diagnostic) -> dict:
    def where(span: Span | None) -> dict | None:
        if span is None:
            return None
        return {
            "file": span.file,
            "line": span.line,
            "col": span.col,
            "end_line": span.end_line,
            "end_col": span.end_col,
        }

    return {
        "severity": d.severity.value,
        "code": d.number,
        "name": d.code,
        "message": d.message,
        "location": where(d.span),
        "notes": [{"message": n.message, "location": where(n.span)} for n in d.notes],
    }


def dumps(diagnostics: Iterable[Diagnostic]) -> str:
    return json.dumps([to_json(d) for d in diagnostics], indent=2)
