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
  event has a handler and is not `skippable` (compared by name length and
  first and last letter, then exactly), and lines that contain `=<id>` of a
  monitored object (`Monitored.tokens`: the `=` signs of the block, then their
  digits).  Each goes through the same test and the same handler as in
  LineScan, in line order.  A handler may change the monitored objects; the
  lines of a new token after it are added then.

Nothing here decides anything about a line: it only avoids looking at lines
LineScan would look at and drop.  tests/test_replay_blocks.py replays traces
both ways, line by line and in blocks of every size, and compares every call.
"""

from __future__ import annotations

import heapq

import numpy as np

from hamodel.trace.ftrace import LineScan
from hamodel.trace.stream import Block

NEWLINE, SPACE, HASH, COLON, EQUALS = (ord(c) for c in "\n #:=")
MAX_WIDTH = 32  # a timestamp wider than this goes through LineScan
_OFFSETS = [np.arange(-w, 0) for w in range(MAX_WIDTH + 1)]


def _name_key(length, first, last):
    """A number per event name from its length and first and last letters."""
    return (length << 16) | (first << 8) | last


class BlockScan:
    """Feeds blocks to LineScan's handlers, doing LineScan's per-line work in numpy."""

    def __init__(self, lines: LineScan) -> None:
        self.lines = lines
        skippable = lines.skippable
        self.always = {name for name in lines.handlers if name not in skippable}
        self.always_keys = self._keys(self.always)
        self.skippable_keys = self._keys(skippable & set(lines.handlers))

    @staticmethod
    def _keys(names) -> np.ndarray:
        return np.array(sorted(_name_key(len(b), b[0], b[-1]) for b in
                               (n.encode() for n in names if n.isascii() and n)), np.int64)

    def block(self, block: Block) -> None:
        if block.data is None or not self._fast(block):
            self.lines.lines(block.first, block.text_lines())

    def _fast(self, block: Block) -> bool:
        """Take the block when every line is an event line in time order; False (and
        nothing done) when LineScan must read it."""
        scan = self.lines
        width = scan.width
        if not 0 < width <= MAX_WIDTH or not scan.stamp.isascii():
            return False
        data, nl = block.data, block.newlines
        a = np.frombuffer(data, np.uint8)
        colons = np.flatnonzero(a == COLON)
        spaced = colons[a[colons + 1] == SPACE]  # the last byte is a newline: in range
        starts = np.empty_like(nl)
        starts[0] = 0
        starts[1:] = nl[:-1] + 1
        first_spaced = np.searchsorted(spaced, starts)
        if first_spaced[-1] >= len(spaced):
            return False
        colon = spaced[first_spaced]  # the first ": " at or after each line's start
        if (colon >= nl).any() or (a[starts] == HASH).any():
            return False  # a line without ": " (blank, a gap marker, ...) or a comment
        after = np.searchsorted(colons, colon + 2)
        if after[-1] >= len(colons):
            return False
        end = colons[after]  # the ":" that ends the event name
        # LineScan's own test: the `width` characters before the colon, after a space
        # (a line too short for them finds the newline before it, or the block's last
        # byte, a newline too), compare as text with the last stamp.
        if (end >= nl).any() or (a[colon - width - 1] != SPACE).any():
            return False
        text = a[colon[:, None] + _OFFSETS[width]].view(f"S{width}").ravel()
        if text[0] < scan.stamp.encode() or (text[1:] < text[:-1]).any():
            return False
        self._matter(block, a, nl, colon, end)
        count = len(nl)
        scan.number = block.first + count - 1
        scan.stamp = text[-1].decode()
        scan.last_number = scan.number
        scan.last = data[int(starts[-1]):int(nl[-1])].decode()
        return True

    def _matter(self, block: Block, a: np.ndarray, nl: np.ndarray, colon: np.ndarray,
                end: np.ndarray) -> None:
        """Run the handlers of the lines that can matter, in line order."""
        scan = self.lines
        monitored = scan.monitored
        key = _name_key(end - colon - 2, a[colon + 2].astype(np.int64),
                        a[end - 1].astype(np.int64))
        rows = np.flatnonzero(np.isin(key, self.always_keys)).tolist() \
            if len(self.always_keys) else []
        tokens = monitored.tokens if monitored is not None and scan.skippable else ()
        equals = None
        searched: set[str] = set()
        every_skippable = False  # the lines of every skippable event are in `rows`
        if tokens is None:
            rows += np.flatnonzero(np.isin(key, self.skippable_keys)).tolist()
            every_skippable = True
        else:
            equals = np.flatnonzero(a == EQUALS) if tokens else None
            for token in tokens:
                rows += _rows_of(token, a, nl, equals)
                searched.add(token)
        if not rows:
            return
        heapq.heapify(rows)
        data = block.data
        first = block.first
        ends = nl.tolist()
        get = scan.handlers.get
        skippable = scan.skippable
        done = -1
        while rows:
            row = heapq.heappop(rows)
            if row <= done:
                continue
            done = row
            start = ends[row - 1] + 1 if row else 0
            text = data[start:ends[row]].decode()  # type: ignore[index]
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
            before = monitored.tokens if monitored is not None else None
            handler(first + row, text, c, e)
            now = monitored.tokens if monitored is not None else None
            if now is before or not skippable:
                continue
            # The monitored objects changed: lines after this one that name a new one.
            if now is None:
                if not every_skippable:
                    every_skippable = True
                    for later in np.flatnonzero(np.isin(key, self.skippable_keys)).tolist():
                        if later > row:
                            heapq.heappush(rows, later)
                continue
            for token in now:
                if token in searched:
                    continue
                searched.add(token)
                if equals is None:
                    equals = np.flatnonzero(a == EQUALS)
                for later in _rows_of(token, a, nl, equals):
                    if later > row:
                        heapq.heappush(rows, later)


def _rows_of(token: str, a: np.ndarray, nl: np.ndarray, equals: np.ndarray) -> list[int]:
    """The lines (indexes in the block) that contain `token`, `=` and digits."""
    raw = token.encode()
    if not raw.startswith(b"=") or not raw.isascii():
        return list(range(len(nl)))  # any other token: every line is a candidate
    at = equals[equals <= len(a) - len(raw)]
    for k in range(1, len(raw)):
        at = at[a[at + k] == raw[k]]
        if not len(at):
            return []
    return np.unique(np.searchsorted(nl, at)).tolist()
