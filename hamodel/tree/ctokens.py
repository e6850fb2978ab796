"""C source text -> tokens with positions; preprocessor lines kept apart.

Just enough of C's lexical rules to read the files rvgen writes and kernel
developers edit (`<m>.h`, `<m>.c`): identifiers, numbers, strings and
characters, punctuators; comments are dropped, line continuations joined.  No
macro is expanded: the readers look for the generator's shapes by name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TOKEN = re.compile(
    r"""
    (?P<ws>[ \t\f\v\r]+|\\\n)
  | (?P<nl>\n)
  | (?P<comment>//[^\n]*|/\*.*?\*/)
  | (?P<string>"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*')
  | (?P<number>(?:0[xX][0-9a-fA-F]+|[0-9]+)[uUlL]*)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<punct>\|\||&&|==|!=|<=|>=|->|<<|>>|\+\+|--|[-+*/%<>=!~^&|?:;,.(){}\[\]\#])
    """,
    re.S | re.X,
)


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # "ident" | "number" | "string" | "punct"
    text: str
    line: int
    col: int

    @property
    def end_col(self) -> int:
        return self.col + len(self.text)


@dataclass(frozen=True, slots=True)
class Directive:
    """A preprocessor line: `#define NAME rest`, `#include <x>`; `words` split on blanks."""

    words: tuple[str, ...]
    line: int
    col: int


@dataclass(frozen=True, slots=True)
class CFile:
    path: str
    text: str
    tokens: tuple[Token, ...]
    directives: tuple[Directive, ...]

    def line_text(self, line: int) -> str:
        lines = self.text.split("\n")
        return lines[line - 1] if 1 <= line <= len(lines) else ""

    def define(self, name: str) -> Directive | None:
        """The last `#define name ...` of the file (the one in force after it)."""
        found = None
        for d in self.directives:
            if len(d.words) >= 2 and d.words[0] == "define" and d.words[1] == name:
                found = d
        return found


def tokenize(path: str, text: str) -> CFile:
    """Tokens outside preprocessor lines, and the preprocessor lines themselves.

    Characters C does not know (a stray `@`, non-ASCII in code) are skipped:
    the readers report what they cannot find rather than where lexing stopped.
    """
    tokens: list[Token] = []
    directives: list[Directive] = []
    line, line_start, pos = 1, 0, 0
    at_line_start = True
    directive: list[str] | None = None
    directive_at = (0, 0)
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            pos += 1
            continue
        kind = m.lastgroup
        value = m.group()
        col = m.start() - line_start + 1
        if kind == "nl":
            if directive is not None:
                directives.append(Directive(tuple(directive), *directive_at))
                directive = None
            at_line_start = True
        elif kind in ("ws", "comment"):
            pass
        elif directive is not None:
            directive.append(value)
        elif at_line_start and value == "#":
            directive = []
            directive_at = (line, col)
        else:
            tokens.append(Token(kind or "punct", value, line, col))
            at_line_start = False
        newlines = value.count("\n")
        if newlines:
            line += newlines
            line_start = m.start() + value.rfind("\n") + 1
        pos = m.end()
    if directive is not None:
        directives.append(Directive(tuple(directive), *directive_at))
    return CFile(path, text, tuple(tokens), tuple(directives))


def matching(tokens: tuple[Token, ...], open_at: int) -> int:
    """The index of the bracket closing the one at `open_at`, or -1."""
    pairs = {"(": ")", "{": "}", "[": "]"}
    opener = tokens[open_at].text
    closer = pairs[opener]
    depth = 0
    for i in range(open_at, len(tokens)):
        t = tokens[i].text
        if t == opener:
            depth += 1
        elif t == closer:
            depth -= 1
            if depth == 0:
                return i
    return -1


def function_body(cfile: CFile, name: str) -> tuple[int, int] | None:
    """(first, last) token indices inside the braces of the definition of `name`."""
    toks = cfile.tokens
    for i, t in enumerate(toks):
        if t.text != name or i + 1 >= len(toks) or toks[i + 1].text != "(":
            continue
        close = matching(toks, i + 1)
        if close < 0 or close + 1 >= len(toks) or toks[close + 1].text != "{":
            continue  # a call or a declaration, not the definition
        end = matching(toks, close + 1)
        if end > 0:
            return close + 2, end
    return None
