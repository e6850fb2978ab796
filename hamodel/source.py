"""Source positions: where in which file a piece of the model came from."""

from __future__ import annotations

from dataclasses import dataclass


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

    def line(self, number: int) -> str:
        lines = self.text.split("\n")  # the parser counts "\n" only, not \f or U+2028
        if 1 <= number <= len(lines):
            return lines[number - 1]
        return ""
