"""Source positions: where in which file a piece of the model came from.

Also the texts diagnostics quote (`SOURCES`: whole files, or a few lines of a
trace too long to keep), and `decode`, which turns a file's bytes into text or
says where the first byte that is not UTF-8 text sits.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Span:
    """A region of a source file; lines and columns count from 1, end is exclusive."""

    file: str
    line: int
    col: int
    end_line: int
    end_col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"

    @staticmethod
    def point(file: str, line: int, col: int, width: int = 1) -> Span:
        return Span(file, line, col, line, col + width)


@dataclass(frozen=True, slots=True)
class SourceText:
    """A file's name and text, kept so diagnostics can quote the offending line."""

    name: str
    text: str
    # The lines, split once: a model with thousands of diagnostics quotes thousands
    # of lines, and splitting the text for each would cost time quadratic in its size.
    lines: tuple[str, ...] = field(default=(), compare=False, repr=False)

    def __post_init__(self) -> None:
        # The parser counts "\n" only, not \f or U+2028.
        object.__setattr__(self, "lines", tuple(self.text.split("\n")))

    def line(self, number: int) -> str | None:
        """The text of line `number` (without its newline); None past the end."""
        if 1 <= number <= len(self.lines):
            return self.lines[number - 1]
        return None


@dataclass(frozen=True, slots=True)
class Excerpt:
    """Some lines of a file that is not kept whole (a trace): line number -> text."""

    name: str
    known: tuple[tuple[int, str], ...]

    def line(self, number: int) -> str | None:
        return dict(self.known).get(number)


# Texts of the files read so far, by the name diagnostics give them.
SOURCES: dict[str, SourceText | Excerpt] = {}


@dataclass(frozen=True, slots=True)
class BadText:
    """Where bytes stop being text: line and column (of characters) of the first bad
    byte, what it is, and the line shown with U+FFFD in place of undecodable bytes."""

    line: int
    col: int
    what: str
    shown: str
    nul: bool = False


def decode(raw: bytes) -> tuple[str | None, BadText | None]:
    """UTF-8 bytes -> text, or the place of the first byte that is not UTF-8 or is NUL."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, _locate(raw, exc.start, f"byte 0x{raw[exc.start]:02x}")
    nul = text.find("\x00")
    if nul >= 0:
        return None, _locate(raw, len(text[:nul].encode()), "a NUL byte", nul=True)
    return text, None


def _locate(raw: bytes, offset: int, what: str, nul: bool = False) -> BadText:
    start = raw.rfind(b"\n", 0, offset) + 1
    end = raw.find(b"\n", offset)
    line_bytes = raw[start:] if end < 0 else raw[start:end]
    shown = line_bytes.decode("utf-8", errors="replace").replace("\x00", "\ufffd")
    col = len(raw[start:offset].decode("utf-8", errors="replace")) + 1
    return BadText(raw.count(b"\n", 0, offset) + 1, col, what, shown, nul)
