"""SIGINT and SIGTERM -> an orderly stop: one line on stderr, exit 130 or 143.

The `hamodel` program installs `handler` before it imports anything heavy
(hamodel/entry.py), so a signal that arrives while Lark, Jinja or Z3 are still
being imported ends the program the same way as one that arrives later.  The
handler raises `Interrupted`, a KeyboardInterrupt, so `finally` blocks and
context managers run (generated files are rolled back, BPF links destroyed).

Code that must not be torn in the middle of a step (replay feeding the
monitor, `hamodel run` attaching programs) runs inside `deferred()`: there a
signal is only recorded, the code asks `stop_requested()` at a safe point, and wraps
each call that may block for long (reading a pipe, sleeping) in `raising()`.
Only the first signal counts; later ones arrive while the program is already
stopping and are ignored, so they cannot interrupt the clean-up.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

SIGNALS = (signal.SIGINT, signal.SIGTERM)
NAMES = {signal.SIGINT: "SIGINT", signal.SIGTERM: "SIGTERM"}


class Interrupted(KeyboardInterrupt):
    """The program was asked to stop by `signum`."""

    def __init__(self, signum: int) -> None:
        super().__init__(NAMES.get(signum, f"signal {signum}"))
        self.signum = signum


class _State:
    def __init__(self) -> None:
        self.pending: int | None = None  # the first signal received
        self.raised = False  # Interrupted has been raised once already
        self.defer = 0  # depth of deferred() blocks
        self.installed = False


_state = _State()


def handler(signum: int, frame: object) -> None:
    """The handler for SIGINT and SIGTERM (installed by `install`)."""
    if _state.pending is None:
        _state.pending = signum
    if _state.defer or _state.raised:
        return
    _state.raised = True
    raise Interrupted(signum)


def install() -> None:
    """Route SIGINT and SIGTERM to `handler`; a fresh start (nothing pending)."""
    _state.pending, _state.raised, _state.defer = None, False, 0
    for s in SIGNALS:
        signal.signal(s, handler)
    _state.installed = True


def pending() -> int | None:
    """The signal received so far, or None: inside `deferred`, the one it recorded."""
    return _state.pending


def stop_requested() -> int | None:
    """Inside `deferred`: the signal that asks the block to stop, or None.  Outside it
    always None (a signal there has already been raised)."""
    return _state.pending if _state.defer else None


def _signum(exc: BaseException | None) -> int:
    """The signal behind `exc` (a bare KeyboardInterrupt is Python's own SIGINT), or
    without `exc` the one `deferred` recorded."""
    if exc is not None:
        return getattr(exc, "signum", signal.SIGINT)
    return _state.pending or signal.SIGINT


def exit_status(exc: BaseException | None = None) -> int:
    """128 + the signal number, as a shell reports a program the signal ended."""
    return 128 + int(_signum(exc))


def describe(exc: BaseException | None = None) -> str:
    """`interrupted (SIGINT)` or `stopped by SIGTERM`, for the one line printed."""
    signum = _signum(exc)
    if signum == signal.SIGINT:
        return "interrupted (SIGINT)"
    return f"stopped by {NAMES.get(signum, f'signal {signum}')}"


@contextmanager
def deferred() -> Iterator[None]:
    """Within the block a signal is recorded, not raised; ask `pending()`.

    Works whether or not `install` ran (a test calling cli.main directly): the
    handler is put in place for the block and the previous one restored.
    """
    restore: dict[int, object] = {}
    if not _state.defer:  # a signal before the block was raised then: start afresh
        _state.pending, _state.raised = None, False
    _state.defer += 1
    try:
        if not _state.installed and threading.current_thread() is threading.main_thread():
            for s in SIGNALS:
                restore[s] = signal.signal(s, handler)
        yield
    finally:
        _state.defer -= 1
        for s, old in restore.items():
            signal.signal(s, old)  # type: ignore[arg-type]


@contextmanager
def raising() -> Iterator[None]:
    """Inside `deferred`, around a call that may block: a signal raises `Interrupted`
    there (and at once, if one came before the call)."""
    if _state.defer and _state.pending is not None:
        raise Interrupted(_state.pending)
    saved = _state.defer
    _state.defer = 0
    try:
        yield
    finally:
        _state.defer = saved


@contextmanager
def blocked() -> Iterator[None]:
    """No signal is acted on within the block: one that comes is taken at its end, and
    `Interrupted` raised there (unless an outer `deferred` block defers it further).
    For the few renames that must all happen or all be undone, and for removing
    temporary files, which a signal must not leave half done."""
    main = threading.current_thread() is threading.main_thread()
    if not _state.installed and not _state.defer:  # a library call: nothing is pending
        _state.pending, _state.raised = None, False
    before = _state.pending
    # Deferred before the mask changes: a signal that came just before the block runs
    # its Python handler a few steps later, possibly right after the mask call, and
    # must only be recorded there.  Raised at that point it would leave SIGINT and
    # SIGTERM blocked for good, in this process and in every child it starts.
    _state.defer += 1
    old = None
    try:
        if main:
            old = signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)
        yield
    finally:
        if old is not None:
            # Take a waiting signal here, still blocked: once unblocked, Python would
            # run the handler a few steps later, wherever the program then is.
            for s in sorted(signal.sigpending() & set(SIGNALS)):
                signal.sigtimedwait([s], 0)
                if _state.pending is None:
                    _state.pending = s
            signal.pthread_sigmask(signal.SIG_SETMASK, old)
        _state.defer -= 1
    if before is None and _state.pending is not None and not _state.defer and not _state.raised:
        _state.raised = True
        raise Interrupted(_state.pending)
