"""Kernel trace text a block at a time -> the handlers of the lines that can matter.

`ftrace.LineScan` looks at every line in Python: a few hundred nanoseconds a
line, which on a real trace (most lines about tasks nobody monitors, or of
events no binding names) is most of replay's time.  This module takes whole
blocks of ASCII text (hamodel/trace/stream.py `Block`) and does the per-line
work in numpy, a pass over the bytes at a time:

- every line is checked as LineScan checks it: it is an event line (not a
  comment, a `: ` and a `:` after it) and its timestamp, compared as text at
  the width of the last one, is no earlier than the one before.  When any line
  of the block is something else (a comment, a gap marker, a timestamp that
  changes width or goes back, ...) the block is handed to LineScan whole, so
  every such line is read, reported or refused exactly as before;
- the lines that can matter are found without visiting the others: lines whose
  event has a handler and is not `skippable` (the 8 bytes after the `: `
  against each name, then the name exactly), and lines that contain `=<id>` of
  a monitored object (`Monitored.tokens`: the token's first 4 bytes as words,
  then the rest) whose event may be handled (for a skippable one, 16 bytes
  after the `: `).  Each goes through the same test and the same handler as in
  LineScan, in line order.  A handler may change the monitored objects; the
  lines of a new token after it are added then.

Nothing here decides anything about a line: it only avoids looking at lines
LineScan would look at and drop.  tests/test_replay_blocks.py replays traces
both ways, line by line and in blocks of every size, and compares every call.
"""

from __future__ import annotations

import numpy as np

from hamodel.trace.ftrace import LineScan
from hamodel.trace.stream import Block

SPACE, HASH, COLON, EQUALS = (ord(c) for c in " #:=")
MAX_WIDTH = 16  # a timestamp wider than this goes through LineScan


def _windows(data: bytes, dtype: str) -> np.ndarray:
    """The bytes of `data` read as `dtype` at every offset (windows that overlap):
    element i holds data[i : i + itemsize]."""
    size = np.dtype(dtype).itemsize
    return np.ndarray((len(data) - size + 1,), dtype, data, 0, (1,))


Pattern = tuple[np.uint64, np.uint64, np.uint64 | None, np.uint64]


def _name_pattern(name: bytes, words: int) -> Pattern:
    """(shift, value, shift2, value2): the 8 bytes after an event line's `: `, read
    big-endian and shifted right by `shift`, equal `value`, and with two `words` the
    8 after those, shifted by `shift2` (else None), equal `value2`, when the event is
    `name` (a longer name: when it starts like it).  Two words tell sched_wakeup from
    sched_waking: a monitored task has about as many lines of each."""
    head = (name + b":")[:8 * words]
    first, second = head[:8], head[8:]
    return (np.uint64(8 * (8 - len(first))), np.uint64(int.from_bytes(first, "big")),
            np.uint64(8 * (8 - len(second))) if second else None,
            np.uint64(int.from_bytes(second, "big")))


class BlockScan:
    """Feeds blocks to LineScan's handlers, doing LineScan's per-line work in numpy."""

    def __init__(self, lines: LineScan) -> None:
        self.lines = lines
        skippable = lines.skippable
        named = [n for n in lines.handlers if n.isascii() and n]
        # The names always handled are rare lines: their first word is test enough.
        self.always = [_name_pattern(n.encode(), 1) for n in named if n not in skippable]
        self.skippable_patterns = [_name_pattern(n.encode(), 2) for n in named
                                   if n in skippable]
        # non-ASCII names never appear in an ASCII block; an empty one: every line
        self.every_line = "" in lines.handlers

    def block(self, block: Block) -> None:
        if block.data is None or not self._fast(block):
            self.lines.lines(block.first, block.text_lines())

    def _fast(self, block: Block) -> bool:
        """Take the block when every line is an event line in time order; False (and
        nothing done) when LineScan must read it."""
        scan = self.lines
        width = scan.width
        if not 0 < width <= MAX_WIDTH or not scan.stamp.isascii() or len(block.data) < 16:
            return False
        data, nl = block.data, block.newlines
        a = np.frombuffer(data, np.uint8)
        colons = np.flatnonzero(a == COLON)
        spaced = colons[a[colons + 1] == SPACE]  # ": " (the last byte is a newline)
        starts = np.empty_like(nl)
        starts[0] = 0
        starts[1:] = nl[:-1] + 1
        first = np.searchsorted(spaced, starts)
        if first[-1] + 1 >= len(spaced):
            return False
        colon = spaced[first]  # the first ": " of each line
        # A second ": " on the same line: there is a ":" after the first (LineScan's `end`).
        if (spaced[first + 1] >= nl).any() or (a[starts] == HASH).any():
            return False  # no ": " twice (blank, a gap marker, ...), or a comment
        # LineScan's own test: the `width` characters before the colon, after a space,
        # compare as text with the last stamp (a line too short for them goes to it).
        if (colon - starts <= width).any() or (a[colon - width - 1] != SPACE).any():
            return False
        if colon[0] < 16:
            return False  # too close to the block's start to read 16 bytes before it
        # Each stamp as big-endian numbers (the 8 bytes before the colon, and the up to 8
        # before those), so comparing them compares the text.
        w8 = _windows(data, ">u8")
        low = w8[colon - 8].astype(np.uint64)
        high = w8[colon - 16].astype(np.uint64)
        keep = np.uint64((1 << 8 * max(0, width - 8)) - 1)
        high &= keep
        if width < 8:
            low &= np.uint64((1 << 8 * width) - 1)
        stamp = scan.stamp.encode()
        before = (int.from_bytes(stamp[:-8], "big"), int.from_bytes(stamp[-8:], "big"))
        if (int(high[0]), int(low[0])) < before:
            return False
        back = (high[1:] < high[:-1]) | ((high[1:] == high[:-1]) & (low[1:] < low[:-1]))
        if back.any():
            return False
        self._matter(block, a, w8, nl, colon)
        last = int(colon[-1])
        scan.number = block.first + len(nl) - 1
        scan.stamp = data[last - width:last].decode()
        scan.last_number = scan.number
        scan.last = data[int(starts[-1]):int(nl[-1])].decode()
        return True

    def _matter(self, block: Block, a: np.ndarray, w8: np.ndarray, nl: np.ndarray,
                colon: np.ndarray) -> None:
        """Run the handlers of the lines that can matter, in line order."""
        scan = self.lines
        monitored = scan.monitored
        # The 8 bytes after each line's ": ", and for a skippable name the 8 after those
        # on the lines whose first 8 matched (a word too near the block's end: the line
        # is always looked at).
        near_end = colon + 2 > len(a) - 8
        after = w8[np.minimum(colon + 2, len(w8) - 1)].astype(np.uint64)
        last_word = len(a) - 8

        matches: dict[Pattern, np.ndarray] = {}

        def match(pattern: Pattern) -> np.ndarray:
            """Per line: whether its event may be the name of `pattern` (once a block)."""
            shift, value, shift2, value2 = pattern
            found = (after >> shift if shift else after) == value
            if shift2 is not None and found.any():
                rows = np.flatnonzero(found)
                at = colon[rows] + 10
                second = w8[np.minimum(at, len(w8) - 1)].astype(np.uint64)
                found[rows[((second >> shift2) != value2) & (at <= last_word)]] = False
            matches[pattern] = found
            return found

        def named(patterns: list[Pattern]) -> np.ndarray:
            """Per line: whether its event may be one of `patterns`' names."""
            hit = near_end | self.every_line
            for pattern in patterns:
                found = matches.get(pattern)
                hit |= match(pattern) if found is None else found
            return hit

        def rows_named(patterns: list[Pattern]) -> list[int]:
            return np.flatnonzero(named(patterns)).tolist()

        # A line of an event with no handler is dropped by LineScan whatever tokens it
        # holds: token lines are kept only where some handled name may be.
        handled: np.ndarray | None = None

        def token_rows(token: str) -> list[int]:
            nonlocal handled
            if handled is None:
                handled = named(self.always + self.skippable_patterns)
            found = _rows_of(token, block.data, a, nl)
            return found[handled[found]].tolist()

        rows = rows_named(self.always) if self.always or self.every_line else []
        tokens = monitored.tokens if monitored is not None and scan.skippable else ()
        searched: set[str] = set()
        every_skippable = False  # the lines of every skippable event are in `rows`
        if tokens is None:
            rows += rows_named(self.skippable_patterns)
            every_skippable = True
        else:
            for token in tokens:
                rows += token_rows(token)
                searched.add(token)
        if not rows:
            return
        data = block.data
        first = block.first
        ends = nl.tolist()
        get = scan.handlers.get
        skippable = scan.skippable  # not empty: there is a monitor and tokens matter
        # The rows in order, each once; when the monitored objects change, the rows a
        # new token adds after the current one are merged into the rest.
        pending = sorted(set(rows))
        while pending:
            added: list[int] = []
            for at, row in enumerate(pending):
                text = data[ends[row - 1] + 1 if row else 0:ends[row]].decode()  # type: ignore[index]
                c = text.find(": ")
                e = text.find(":", c + 2)
                name = text[c + 2:e]
                if name in skippable:
                    tokens = monitored.tokens  # type: ignore[union-attr]
                    if tokens is not None:
                        for token in tokens:
                            if token in text:
                                break
                        else:
                            continue
                handler = get(name)
                if handler is None:
                    continue
                if not skippable:
                    handler(first + row, text, c, e)
                    continue
                before = monitored.tokens  # type: ignore[union-attr]
                handler(first + row, text, c, e)
                now = monitored.tokens  # type: ignore[union-attr]
                if now is before:
                    continue
                # The monitored objects changed: lines after this one that name a new one.
                if now is None:
                    if not every_skippable:
                        every_skippable = True
                        added = [r for r in rows_named(self.skippable_patterns) if r > row]
                else:
                    for token in now:
                        if token not in searched:
                            searched.add(token)
                            added += [r for r in token_rows(token) if r > row]
                if added:
                    pending = sorted(set(pending[at + 1:]).union(added))
                    break
            else:
                return


def _rows_of(token: str, data: bytes, a: np.ndarray, nl: np.ndarray) -> np.ndarray:
    """The lines (indexes in the block) that contain `token`, `=` and digits."""
    raw = token.encode()
    if not raw.startswith(b"=") or not raw.isascii():
        return np.arange(len(nl))  # any other token: every line is a candidate
    if len(raw) >= 4:
        # Where the first 4 bytes are, as 4-byte words at each of the 4 alignments: far
        # fewer hits than the block's `=` signs, so each pass costs little.
        head = int.from_bytes(raw[:4], "little")
        at = np.sort(np.concatenate([
            np.flatnonzero(np.frombuffer(data, "<u4", (len(data) - o) // 4, o) == head) * 4 + o
            for o in range(4)]))
        checked = 4
    else:
        at = np.flatnonzero(a == EQUALS)
        checked = 1
    at = at[at <= len(a) - len(raw)]
    for k in range(checked, len(raw)):
        at = at[a[at + k] == raw[k]]
        if not len(at):
            break
    return np.unique(np.searchsorted(nl, at))
