"""An in-tree `<m>.h` -> the automaton tables it declares, each item with its line.

rvgen writes these headers (da_monitor.h / ha_monitor.h read them): the enums
`states_<m>`, `events_<m>`, `envs_<m>` and one `struct automaton_<m>` value
with `.state_names`, `.event_names`, `.env_names`, `.function`,
`.initial_state` and `.final_states`.  Kernel developers hand-edit padding and
trailing commas and older generators wrote `= 0` on the first enumerator, so
this reads tokens, not bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

from hamodel.source import Span
from hamodel.tree.ctokens import CFile, Token, matching


@dataclass(frozen=True, slots=True)
class Item:
    """A name (enum constant, string without quotes, table cell) and where it is."""

    text: str
    span: Span


@dataclass(frozen=True, slots=True)
class HeaderTables:
    path: str
    states: tuple[Item, ...]  # enumerators of states_<m>, without the suffix or state_max
    events: tuple[Item, ...]
    envs: tuple[Item, ...]  # empty for a DA header
    stored_envs: int  # how many of `envs` are clocks (env_max_stored_<m>)
    state_names: tuple[Item, ...]
    event_names: tuple[Item, ...]
    env_names: tuple[Item, ...]
    function: tuple[tuple[Item, ...], ...]  # rows of cells: a state (no suffix) or INVALID_STATE
    function_span: Span | None
    initial: Item | None
    finals: tuple[Item, ...]  # "0"/"1" per state


class HeaderError(ValueError):
    """The header lacks a table the generator always writes; `span` says where we looked."""

    def __init__(self, message: str, span: Span) -> None:
        super().__init__(message)
        self.span = span


def _span(path: str, t: Token) -> Span:
    return Span(path, t.line, t.col, t.line, t.end_col)


def _enum(cfile: CFile, tag: str) -> tuple[list[tuple[Token, Token | None]], Token] | None:
    """Enumerators of `enum tag { ... }` as (name, first token of its `= value` or None)."""
    toks = cfile.tokens
    for i in range(len(toks) - 2):
        if toks[i].text == "enum" and toks[i + 1].text == tag and toks[i + 2].text == "{":
            end = matching(toks, i + 2)
            out: list[tuple[Token, Token | None]] = []
            k = i + 3
            while 0 < k < end:
                name = toks[k]
                value = None
                j = k + 1
                if toks[j].text == "=":
                    value = toks[j + 1]
                    while j < end and toks[j].text != ",":
                        j += 1
                if name.kind == "ident":
                    out.append((name, value))
                k = j + 1 if toks[j].text == "," else j
                if k >= end:
                    break
            return out, toks[i + 1]
    return None


def _designator(cfile: CFile, field: str, start: int) -> int:
    """The index of the token after `.field =`, searching from `start`; -1 when absent."""
    toks = cfile.tokens
    for i in range(start, len(toks) - 2):
        if toks[i].text == "." and toks[i + 1].text == field and toks[i + 2].text == "=":
            return i + 3
    return -1


def _list(cfile: CFile, open_at: int) -> list[Token]:
    """The tokens between `{` at open_at and its `}`, commas dropped (a flat list)."""
    toks = cfile.tokens
    end = matching(toks, open_at)
    return [t for t in toks[open_at + 1:end] if t.text != ","]


def read_header(cfile: CFile, monitor: str) -> HeaderTables:
    path = cfile.path
    suffix = f"_{monitor}"
    first = Span(path, 1, 1, 1, 1)

    def names(tag: str, sentinel: str, required: bool = True) -> tuple[list[Item], int]:
        found = _enum(cfile, f"{tag}{suffix}")
        if found is None:
            if required:
                raise HeaderError(f"no `enum {tag}{suffix}` in {path}", first)
            return [], 0
        items: list[Item] = []
        stored = -1
        plain = [(n, v) for n, v in found[0]]
        members = [n.text for n, _ in plain]
        for name, value in plain:
            if name.text == f"{sentinel}{suffix}":
                continue
            if name.text == f"env_max_stored{suffix}":
                if value is not None and value.text in members:
                    stored = members.index(value.text)
                continue
            items.append(Item(name.text.removesuffix(suffix), _span(path, name)))
        if stored < 0 or stored > len(items):
            stored = len(items)
        return items, stored

    states, _ = names("states", "state_max")
    events, _ = names("events", "event_max")
    envs, stored = names("envs", "env_max", required=False)

    toks = cfile.tokens
    start = 0
    for i in range(len(toks) - 1):
        if toks[i].text == "automaton" + suffix and toks[i + 1].text == "=":
            start = i
            break

    def strings(field: str) -> tuple[Item, ...]:
        at = _designator(cfile, field, start)
        if at < 0 or toks[at].text != "{":
            return ()
        return tuple(Item(t.text[1:-1], _span(path, t)) for t in _list(cfile, at)
                     if t.kind == "string")

    at = _designator(cfile, "function", start)
    if at < 0 or toks[at].text != "{":
        raise HeaderError(f"no `.function` table in {path}", first)
    end = matching(toks, at)
    rows: list[tuple[Item, ...]] = []
    k = at + 1
    while k < end:
        if toks[k].text == "{":
            close = matching(toks, k)
            rows.append(tuple(
                Item(t.text.removesuffix(suffix), _span(path, t))
                for t in toks[k + 1:close] if t.kind == "ident"
            ))
            k = close
        k += 1
    initial = None
    at_init = _designator(cfile, "initial_state", start)
    if at_init >= 0:
        t = toks[at_init]
        initial = Item(t.text.removesuffix(suffix), _span(path, t))
    finals: tuple[Item, ...] = ()
    at_fin = _designator(cfile, "final_states", start)
    if at_fin >= 0 and toks[at_fin].text == "{":
        finals = tuple(Item(t.text, _span(path, t)) for t in _list(cfile, at_fin))
    return HeaderTables(
        path=path,
        states=tuple(states),
        events=tuple(events),
        envs=tuple(envs),
        stored_envs=stored,
        state_names=strings("state_names"),
        event_names=strings("event_names"),
        env_names=strings("env_names"),
        function=tuple(rows),
        function_span=_span(path, toks[at]),
        initial=initial,
        finals=finals,
    )
