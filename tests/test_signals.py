"""SIGINT and SIGTERM at any moment: one line on stderr, exit 130 or 143, no traceback.

Start-up is the delicate part: importing Lark, Jinja and Z3 takes a good part of
a second.  `python -X importtime` prints a line as each import ends, so the test
knows where the program is: it sends the signal after the N-th import that ends
after hamodel/entry.py installed the handler, from the first to the last.

The streaming and live cases: tests/test_replay_stream.py (a signal ends a
stream with the summary so far), tests/test_fault_injection.py (a signal
between two generated files), tests/test_signals_live.py (`hamodel run`
detaches everything first).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from hamodel import signals

ROOT = Path(__file__).resolve().parent.parent
COMMAND = ["check", str(ROOT / "models" / "tlob.dot")]


def start(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-X", "importtime", "-m", "hamodel", *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def imports_after_the_handler(proc: subprocess.Popen, stop_after: int | None = None) -> int:
    """Read importtime lines; count those after hamodel.entry's.  With `stop_after`,
    return as soon as that many were read (the program goes on importing)."""
    seen_entry = False
    count = 0
    for line in proc.stderr:
        if not line.startswith("import time:"):
            continue
        if seen_entry:
            count += 1
            if count == stop_after:
                return count
        elif line.rstrip().endswith("| hamodel.entry"):
            seen_entry = True
    return count


@pytest.fixture(scope="module")
def import_count() -> int:
    proc = start(*COMMAND)
    count = imports_after_the_handler(proc)
    assert proc.wait(timeout=120) == 0
    assert count > 20, "expected the command line's imports after the entry point"
    return count


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
@pytest.mark.parametrize("where", [0.0, 0.25, 0.5, 0.75, 0.95])
def test_a_signal_during_start_up_ends_with_one_line(import_count, signum, where):
    proc = start(*COMMAND)
    try:
        nth = max(1, int(import_count * where))
        assert imports_after_the_handler(proc, nth) == nth
        proc.send_signal(signum)
        rest = proc.stderr.read()
        code = proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    lines = [x for x in rest.splitlines() if not x.startswith("import time:")]
    assert code == 128 + signum, rest
    assert len(lines) == 1 and "Traceback" not in rest, rest
    word = "interrupted (SIGINT)" if signum == signal.SIGINT else "stopped by SIGTERM"
    assert lines[0] in (f"hamodel: {word}", f"hamodel check: {word}"), lines


def test_a_signal_inside_a_class_being_made_still_ends_with_one_line(handlers, monkeypatch,
                                                                      capsys):
    """Found in CI: SIGINT while a dataclass was being made during a command's imports
    came out as `RuntimeError: Error calling __set_name__` (Python 3.11 wraps what that
    hook raises) and a traceback with exit 1."""
    from hamodel import cli, entry

    class Hook:
        def __set_name__(self, owner, name):
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(5)  # the handler raises in here

    def command_line(argv):
        type("Made", (), {"field": Hook()})
        return 0

    monkeypatch.setattr(cli, "main", command_line)
    assert entry.main(["show", "x.dot"]) == 130
    assert capsys.readouterr().err == "hamodel: interrupted (SIGINT)\n"


# --- the module's three modes ------------------------------------------------------


def test_a_signal_raises_at_once_then_later_ones_are_ignored(handlers):
    with pytest.raises(signals.Interrupted) as info:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)
    assert info.value.signum == signal.SIGTERM and signals.exit_status(info.value) == 143
    os.kill(os.getpid(), signal.SIGINT)  # the program is stopping: nothing more is raised
    time.sleep(0.01)


def test_deferred_records_and_raising_raises(handlers):
    with signals.deferred():
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.01)
        assert signals.pending() == signal.SIGINT
        with pytest.raises(signals.Interrupted), signals.raising():
            pass  # it came before: raised on entry, before a call could block


def test_raising_interrupts_a_blocking_call(handlers):
    threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGTERM)).start()
    with signals.deferred(), pytest.raises(signals.Interrupted), signals.raising():
        time.sleep(30)


def test_blocked_holds_a_signal_until_the_end_of_the_block(handlers):
    done = []
    with pytest.raises(signals.Interrupted):
        with signals.blocked():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
            done.append("the block ran to its end")
    assert done == ["the block ran to its end"]


def test_a_signal_just_before_blocked_leaves_nothing_blocked(handlers, monkeypatch):
    """Found in CI: a signal that arrives just before `blocked` has its Python handler
    run a few bytecodes later, possibly right after the mask call.  It must be taken
    at the end of the block, and the mask given back: a process left with SIGINT and
    SIGTERM blocked passes that mask to every program it starts."""
    real = signal.pthread_sigmask

    def mask_then_late_handler(how, sigs):
        old = real(how, sigs)
        if how == signal.SIG_BLOCK and sigs:
            signals.handler(signal.SIGTERM, None)  # the late Python-level handler
        return old

    monkeypatch.setattr(signal, "pthread_sigmask", mask_then_late_handler)
    done = []
    with pytest.raises(signals.Interrupted) as info:
        with signals.blocked():
            done.append("the block ran to its end")
    monkeypatch.undo()
    assert done == ["the block ran to its end"] and info.value.signum == signal.SIGTERM
    assert not set(signals.SIGNALS) & signal.pthread_sigmask(signal.SIG_BLOCK, [])


def test_deferred_without_the_program_handler_still_records(tmp_path):
    """cli.main called directly (tests, a host program): deferred puts the handler in
    place for its block and gives the old one back."""
    before = signal.getsignal(signal.SIGINT)
    with signals.deferred():
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.01)
        assert signals.pending() == signal.SIGINT
    assert signal.getsignal(signal.SIGINT) is before


def test_a_signal_left_from_an_earlier_call_stops_nothing_later(tmp_path):
    """Found in the full suite: a library call after an interrupted one (a host program,
    a test) must not see the old signal as a request to stop."""
    import io

    from hamodel.load import load_model
    from hamodel.replay import replay

    signals._state.pending, signals._state.raised = signal.SIGINT, True
    try:
        trace = tmp_path / "t.jsonl"
        trace.write_text('{"t": 0, "start": 1, "params": {"BUDGET_NS": 9}}\n{"t": 5, "stop": 1}\n')
        a, _ = load_model(ROOT / "models" / "tlob.dot")
        summary = replay(a, None, trace, "text", {}, io.StringIO())
        assert (summary.lines, summary.within) == (2, 1)
    finally:
        signals._state.__init__()
