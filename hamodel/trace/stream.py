"""A trace input -> its lines, in bounded memory: a file, `-`, a FIFO, a character
device, or tracefs's `trace_pipe` (also `instances/NAME/trace_pipe`).

Everything is read the same way, with read(2) a chunk at a time: on a file that
gives whole chunks, on a pipe or `trace_pipe` whatever has arrived, so a line
reaches the monitor as soon as its newline does.  Lines come out a chunk at a
time (`chunks`: lists of str without their newline, which the caller chains;
`blocks`: a chunk of ASCII text kept as bytes, with the places of its newlines,
for hamodel/trace/blocks.py), and the last chunks are kept so an error can
quote its line.

Bounds: a line longer than MAX_LINE characters is refused as soon as it is
that long, without reading the rest of it; memory holds at most one chunk and
one partial line.  A last line with no newline is not given out: it may be cut
(a trace still being written, a copy that stopped short); the reader keeps it
in `cut` for the caller to report.

With `follow`, the end of a regular file is not the end of the trace: the
reader waits for more, as `tail -f` does, until a signal stops it.  A signal
(hamodel/signals.py) ends reading quietly at a line boundary and is kept in
`stopped`, so the caller can finish and print what it found so far.
"""

from __future__ import annotations

import os
import stat
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from hamodel import signals

MAX_LINE = 1 << 16  # characters in one trace line (tracefs prints at most a page per event)
CHUNK = 1 << 16  # read(2) size: small enough that splitting it stays in the CPU cache
# read(2) size for `blocks`: bytes are not split into str lines, and the whole-block
# passes of hamodel/trace/blocks.py cost less per byte on fewer, larger blocks.
BLOCK = 1 << 18
FOLLOW_POLL_S = 0.2
PROGRESS_BYTES = 32 << 20  # a progress bar (tqdm) for files bigger than this, on a terminal
BOM = b"\xef\xbb\xbf"


class TraceInputError(ValueError):
    """Input that is no trace text: a line too long, bytes that are not UTF-8, a file
    that cannot be read.  `line` 0: about the input as a whole."""

    def __init__(self, line: int, message: str, col: int = 1, text: str | None = None,
                 kind: str = "bad-line") -> None:
        super().__init__(message)
        self.line = line
        self.col = col
        self.message = message
        self.text = text
        self.kind = kind  # bad-line | not-utf8 | too-long | unreadable


@dataclass(frozen=True, slots=True)
class Cut:
    """The last line, without its newline: `line` is its number."""

    line: int
    text: str


class Block:
    """Complete lines numbered from `first`: ASCII text as bytes (`data`, each line
    ending in a newline, none longer than MAX_LINE) with the offsets of its newlines
    (`newlines`, a numpy array); or, for any other text, its lines decoded (`lines`)."""

    __slots__ = ("first", "data", "newlines", "lines")

    def __init__(self, first: int, data: bytes | None = None, newlines=None,
                 lines: list[str] | None = None) -> None:
        self.first = first
        self.data = data
        self.newlines = newlines
        self.lines = lines

    @property
    def count(self) -> int:
        return len(self.newlines) if self.lines is None else len(self.lines)

    def text_lines(self) -> list[str]:
        """The lines as str, without their newlines."""
        if self.lines is None:
            return self.data[:-1].decode("ascii").split("\n")  # type: ignore[index]
        return self.lines

    def line(self, number: int) -> str | None:
        i = number - self.first
        if not 0 <= i < self.count:
            return None
        if self.lines is not None:
            return self.lines[i]
        start = int(self.newlines[i - 1]) + 1 if i else 0
        return self.data[start:int(self.newlines[i])].decode("ascii")  # type: ignore[index]


class TraceInput:
    """One trace input, opened; iterate `chunks()` or `blocks()` once."""

    def __init__(self, name: str, fd: int, follow: bool = False, progress: bool = False
                 ) -> None:
        self.name = name
        self.fd = fd
        info = os.fstat(fd)
        self.regular = stat.S_ISREG(info.st_mode)
        self.size = info.st_size if self.regular else 0
        self.follow = follow and self.regular
        self.progress = progress and self.regular and self.size > PROGRESS_BYTES
        self.count = 0  # complete lines read so far
        self.offset = 0  # bytes read so far
        self.cut: Cut | None = None
        self.stopped: signals.Interrupted | KeyboardInterrupt | None = None
        self._carry = b""
        self._bom_settled = False  # the input's first bytes were looked at for a BOM
        self._ahead: list[tuple[int, list[str]]] = []  # read by `peek`, not yet given out
        self._recent: deque[Block] = deque(maxlen=3)
        self._error: TraceInputError | None = None
        self._eof = False
        self._bar = None  # tqdm's progress bar, made at the first read

    # --- opening ---

    @classmethod
    def open(cls, path: str, follow: bool = False, progress: bool = False) -> TraceInput:
        """`-` is standard input; anything else is opened for reading (which waits for a
        writer on a FIFO, so it may be interrupted)."""
        if path == "-":
            return cls("<stdin>", os.dup(sys.stdin.fileno()), follow, progress)
        try:
            with signals.raising():
                fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            raise TraceInputError(0, f"{path}: no such file", kind="unreadable") from None
        except OSError as exc:
            raise TraceInputError(0, f"{path}: {exc.strerror or exc}",
                                  kind="unreadable") from None
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            os.close(fd)
            raise TraceInputError(0, f"{path}: is a folder, not a trace", kind="unreadable")
        return cls(path, fd, follow, progress)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __enter__(self) -> TraceInput:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- reading ---

    def peek(self, enough: Callable[[str], bool], most: int = 64) -> list[str]:
        """The first lines up to the first one that is `enough`, at most `most`, read
        ahead (`chunks` still gives them out): on a stream, no more is waited for."""
        seen: list[str] = []
        while len(seen) < most and not self._eof and self._error is None:
            got = self._next()
            if got is None:
                break
            self._ahead.append(got)
            for text in got[1]:
                seen.append(text)
                if enough(text):
                    return seen
        return seen[:most]

    def chunks(self) -> Iterator[list[str]]:
        """The lines, a list at a time; raises TraceInputError after the good lines
        before the bad one."""
        while True:
            if self._ahead:
                got: tuple[int, list[str]] | None = self._ahead.pop(0)
            elif self._error is not None:
                raise self._error
            else:
                got = self._next()
            if got is None:
                if self._error is not None:
                    raise self._error
                return
            self._recent.append(Block(got[0], lines=got[1]))
            if got[1]:
                yield got[1]

    def blocks(self) -> Iterator[Block]:
        """The lines, a Block at a time (ASCII text stays bytes); raises TraceInputError
        after the good lines before the bad one."""
        while True:
            if self._ahead:
                first, lines = self._ahead.pop(0)
                got: Block | None = Block(first, lines=lines)
            elif self._error is not None:
                raise self._error
            else:
                got = self._next_block()
            if got is None:
                if self._error is not None:
                    raise self._error
                return
            self._recent.append(got)
            if got.count:
                yield got

    def line(self, number: int) -> str | None:
        """The text of a line given out lately (for quoting it in an error)."""
        if self.cut is not None and self.cut.line == number:
            return self.cut.text
        for block in self._recent:
            text = block.line(number)
            if text is not None:
                return text
        return None

    # --- internals ---

    def _next(self) -> tuple[int, list[str]] | None:
        """The next complete lines (first number, lines), or None at the end."""
        while not self._eof:
            data = self._read()
            if data is None:
                break
            first = self.count + 1
            lines = self._take(data)
            if lines or self._error is not None:
                return first, lines
        self._finish()
        return None

    def _next_block(self) -> Block | None:
        """The next complete lines as a Block, or None at the end."""
        while not self._eof:
            data = self._read(BLOCK)
            if data is None:
                break
            block = self._take_block(data)
            if block is not None:
                return block
        self._finish()
        return None

    def _read(self, size: int = CHUNK) -> bytes | None:
        """The next bytes; None at the end of the input or when a signal stopped it."""
        try:
            while True:
                if (signum := signals.stop_requested()) is not None:
                    raise signals.Interrupted(signum)
                with signals.raising():
                    data = os.read(self.fd, size)
                if data:
                    self.offset += len(data)
                    self._show_progress(len(data))
                    return data
                if not self.follow:
                    return None
                if os.fstat(self.fd).st_size < self.offset:
                    raise TraceInputError(0, f"{self.name} shrank while it was followed "
                                             "(truncated or replaced)", kind="unreadable")
                with signals.raising():
                    time.sleep(FOLLOW_POLL_S)
        except KeyboardInterrupt as exc:
            self.stopped = exc
            return None
        except OSError as exc:
            raise TraceInputError(0, f"{self.name}: {exc.strerror or exc}",
                                  kind="unreadable") from None

    def _without_bom(self, buf: bytes) -> bytes | None:
        """`buf` without an editor's byte order mark before line 1, or None (and `buf`
        carried) while the input is still shorter than one: a pipe may hand the mark
        over a byte at a time, and the verdict must not depend on that."""
        if self._bom_settled:
            return buf
        if len(buf) < len(BOM) and BOM.startswith(buf):
            self._carry = buf
            return None
        self._bom_settled = True
        return buf[len(BOM):] if buf.startswith(BOM) else buf

    def _take(self, data: bytes) -> list[str]:
        """Split `data` after the carried partial line into complete lines."""
        buf = self._without_bom(self._carry + data if self._carry else data)
        if buf is None:
            return []
        end = buf.rfind(b"\n")
        if end < 0:
            self._carry = buf
            self._check_partial()
            return []
        block, self._carry = buf[:end], buf[end + 1:]
        lines = self._decode(block)
        self._check_partial()
        return lines

    def _take_block(self, data: bytes) -> Block | None:
        """`_take` for `blocks`: ASCII text with no line over MAX_LINE stays bytes; other
        text is decoded, and refused where it should be, as `_take` does."""
        import numpy as np  # noqa: PLC0415 (replay of kernel text only)

        buf = self._without_bom(self._carry + data if self._carry else data)
        if buf is None:
            return None
        end = buf.rfind(b"\n")
        if end < 0:
            self._carry = buf
            self._check_partial()
            return None
        raw, self._carry = buf[:end + 1], buf[end + 1:]
        first = self.count + 1
        if raw.isascii():
            newlines = np.flatnonzero(np.frombuffer(raw, np.uint8) == 10)
            longest = int(newlines[0]) if len(raw) > MAX_LINE else 0
            if len(newlines) > 1 and len(raw) > MAX_LINE:
                longest = max(longest, int(np.diff(newlines).max()) - 1)
            if longest <= MAX_LINE:
                self.count += len(newlines)
                self._check_partial()
                return Block(first, raw, newlines)
        lines = self._decode(raw[:-1])
        self._check_partial()
        return Block(first, lines=lines) if lines or self._error is not None else None

    def _decode(self, block: bytes) -> list[str]:
        try:
            lines = block.decode("utf-8").split("\n")
            bad_line = None
        except UnicodeDecodeError as exc:
            good = block.rfind(b"\n", 0, exc.start) + 1
            lines = block[: good - 1].decode("utf-8").split("\n") if good else []
            rest = block[good:]
            stop = rest.find(b"\n")
            bad_line = rest if stop < 0 else rest[:stop]
        too_long = next((i for i, text in enumerate(lines) if len(text) > MAX_LINE), None)
        if too_long is not None:
            self._fail(self._too_long(self.count + too_long + 1, lines[too_long]))
            del lines[too_long:]
        elif bad_line is not None:
            self._fail(self._line_fault(self.count + len(lines) + 1, bad_line))
        self.count += len(lines)
        return lines

    def _check_partial(self) -> None:
        # 4 bytes per character at most: past this, the line is surely too long.
        if len(self._carry) > 4 * MAX_LINE and self._error is None:
            self._fail(self._line_fault(self.count + 1, self._carry, whole=False))

    def _line_fault(self, number: int, raw: bytes, whole: bool = True) -> TraceInputError:
        """The error of a line that is not UTF-8 or too long: whichever its reader meets
        first.  `raw` is the whole line or (not `whole`) its start, as far as it was
        read; either way the answer is the same: the verdict must not depend on a
        pipe's read sizes."""
        head = raw[: 4 * MAX_LINE + 1]
        bad: int | None = None
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            # A character cut by the end of what is looked at is no bad byte.
            cut_here = (not whole or len(head) < len(raw)) and exc.end == len(head)
            bad = None if cut_here and exc.reason == "unexpected end of data" else exc.start
        shown = head.decode("utf-8", errors="replace")
        if bad is not None:
            col = len(head[:bad].decode("utf-8")) + 1
            if col <= MAX_LINE + 1:  # the line is not over the limit before the byte
                return TraceInputError(number, f"not UTF-8 text (byte 0x{head[bad]:02x})", col,
                                       shown[:MAX_LINE], kind="not-utf8")
        return self._too_long(number, shown)

    def _too_long(self, number: int, text: str) -> TraceInputError:
        return TraceInputError(number, f"longer than {MAX_LINE} characters (the limit for a "
                                       "trace line)", MAX_LINE + 1, text[: MAX_LINE + 40],
                               kind="too-long")

    def _fail(self, error: TraceInputError) -> None:
        """Give out the good lines first, then raise (at the next read)."""
        if self._error is None:
            self._error = error
        self._eof = True
        self._carry = b""

    def _finish(self) -> None:
        self._eof = True
        if self._carry and self._error is None:
            text = self._carry.decode("utf-8", errors="replace")
            self.cut = Cut(self.count + 1, text[: MAX_LINE])
        self._carry = b""
        if self._bar is not None:
            self._bar.close()  # leave=False: the line is erased
            self._bar = None

    def _show_progress(self, read: int) -> None:
        if not self.progress:
            return
        if self._bar is None:
            try:
                from tqdm import tqdm  # noqa: PLC0415 (only for a big file on a terminal)
            except ImportError:  # no bar rather than no replay
                self.progress = False
                return
            self._bar = tqdm(total=self.size, unit="B", unit_scale=True, desc="replay",
                             file=sys.stderr, leave=False, dynamic_ncols=True)
        self._bar.update(read)
