"""The shape every error of hamodel has on stderr, checked in one place.

    FILE:LINE:COL: error[HA0nn]: what is wrong
        the line, quoted
        ^~~~ under COL
      = help: what to do

`errors(stderr)` parses every diagnostic of a stderr text and asserts that
shape; given the file's text (or its lines), it also asserts that the quoted
line is that line of the file and that the caret stands under COL.  A quoted
line longer than hamodel's window is shown cut, with `...` at the cut ends.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from hamodel.diagnostics import QUOTE_WIDTH as WINDOW

UNPRINTABLE = {c: "\ufffd" for c in [*range(0x20), 0x7F] if c != 0x09}

HEADLINE = re.compile(
    r"^(?P<file>.+?):(?P<line>\d+):(?P<col>\d+): (?P<severity>error|warning)"
    r"\[(?P<code>HA\d{3})\]: (?P<message>.+)$"
)


NOTE = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<col>\d+): note: (?P<message>.+)$")


@dataclass(frozen=True)
class Located:
    file: str
    line: int
    col: int
    severity: str
    code: str
    message: str
    quoted: str
    caret: int  # index of `^` in the quoted text as shown


def errors(stderr: str, source: str | bytes | Path | None = None) -> list[Located]:
    """Every error and warning on stderr, each checked for its shape (and against the
    source's text when given)."""
    lines = stderr.splitlines()
    found: list[Located] = []
    i = 0
    while i < len(lines):
        m = HEADLINE.match(lines[i])
        if m is None:
            i += 1
            continue
        assert i + 2 < len(lines), f"no quoted line and caret after: {lines[i]!r}\n{stderr}"
        quote, caret = lines[i + 1], lines[i + 2]
        assert quote.startswith("    "), f"the line is not quoted: {quote!r}\n{stderr}"
        assert caret.lstrip(" \t").startswith("^"), f"no caret: {caret!r}\n{stderr}"
        assert set(caret[4:].replace("^", "").replace("~", "").replace("\t", "")) <= {" "}
        at = caret.index("^") - 4
        found.append(Located(m["file"], int(m["line"]), int(m["col"]), m["severity"],
                             m["code"], m["message"], quote[4:], at))
        i += 3
    if source is not None:
        for e in found:
            check_against(e, source)
    return found


def check_against(e: Located, source: str | bytes | Path) -> None:
    """The quoted line is line LINE of the source, the caret under column COL."""
    if isinstance(source, Path):
        source = source.read_bytes()
    if isinstance(source, bytes):
        source = source.decode("utf-8", errors="replace")
    text = source.removeprefix("\ufeff").split("\n")[e.line - 1] if e.line else ""
    text = text.removesuffix("\r").translate(UNPRINTABLE)
    shown = e.quoted
    if len(text) > WINDOW:  # hamodel shows the part around the caret
        first = 3 if shown.startswith("...") else 0
        inner = shown[first:len(shown) - 3 if shown.endswith("...") else len(shown)]
        start = e.col - 1 - (e.caret - first)  # where the shown part begins on the line
        assert 0 <= start and text[start:start + len(inner)] == inner, (
            f"quoted {inner!r} with the caret at {e.col} is not line {e.line}: {text[:200]!r}")
        return
    assert shown == text, f"line {e.line} is {text!r}, quoted {shown!r}"
    assert e.caret == e.col - 1, f"caret at {e.caret + 1}, column {e.col}: {e}"


def one_error(stderr: str, source: str | bytes | Path | None = None, *words: str) -> Located:
    """Exactly one diagnostic, an error, with these words in its message (or help)."""
    found = errors(stderr, source)
    assert len(found) == 1 and found[0].severity == "error", stderr
    assert "Traceback" not in stderr, stderr
    for word in words:
        assert word in stderr, stderr
    return found[0]


def refusal(stderr: str) -> Located | None:
    """A refusal is one located error (checked against its file when that is on disk), or
    one line when it is about no line of a file (an option, a file that is missing)."""
    assert "Traceback" not in stderr, stderr
    if not HEADLINE.match(stderr.split("\n", 1)[0]):
        assert stderr.count("\n") == 1, stderr
        return None
    (e,) = errors(stderr)
    if Path(e.file).is_file():
        check_against(e, Path(e.file))
    assert e.severity == "error", stderr
    return e
