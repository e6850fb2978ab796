"""Fuzzing the command line with token mutations of the corpus: models, bindings and
traces with tokens deleted, repeated, swapped, replaced by other tokens of the
corpus or by hostile ones (NUL, bytes that are not UTF-8, huge numbers, deep
brackets, a line separator, quotes and backslashes).

Every run must end with an exit status in {0, 1, 2, 3}, no traceback (an exception
out of cli.main fails the test with it), and within TIME_LIMIT_S.  CI runs
FUZZ_EXAMPLES examples per test; `HAMODEL_FUZZ_EXAMPLES=2000 python3 -m pytest
tests/test_fuzz.py` runs more.
"""

from __future__ import annotations

import io
import os
import re
import signal
import tempfile
import time
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hamodel import cli

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
FUZZ_EXAMPLES = int(os.environ.get("HAMODEL_FUZZ_EXAMPLES", "40"))
TIME_LIMIT_S = 60  # per run, generous for a shared machine; a hang is minutes, not this

MODELS = sorted([*(ROOT / "models").glob("*.dot"), *(ROOT / "tests").rglob("*.dot"),
                 *(SHARED / "models" / "upstream").rglob("*.dot"),
                 *(SHARED / "models" / "rvgen-probes").glob("*.dot")])
BINDINGS = sorted((ROOT / "models").glob("*.binding.toml"))
TRACES = sorted([*(SHARED / "traces").glob("*.txt")])
JSONL = ('{"t": 0, "start": 7, "params": {"BUDGET_NS": 1000}}\n'
         '{"t": 100, "event": "sleep", "obj": 7}\n{"t": 300, "event": "wakeup", "obj": 7}\n'
         '{"t": 350, "event": "switch_in", "obj": 7, "env": {"x": 1}}\n{"t": 500, "lost": 3}\n'
         '{"t": 900, "stop": 7}\n')
KERNEL_TEXT = (
    "# tracer: nop\n"
    "  marker-100 [000] DBZff 1.000000: tlob_start: (0x5) id=0 budget_ns=2000000\n"
    "  marker-100 [000] d..2. 1.000300: sched_switch: prev_comm=m prev_pid=100 prev_prio=120 "
    "prev_state=S ==> next_comm=x next_pid=7 next_prio=120\n"
    "  x-7 [000] d..2. 1.004000: sched_wakeup: comm=m pid=100 prio=120 target_cpu=000\n"
    "CPU:1 [LOST 3 EVENTS]\n"
    "  x-7 [000] d..2. 1.004100: sched_switch: prev_comm=x prev_pid=7 prev_prio=120 "
    "prev_state=R+ ==> next_comm=m next_pid=100 next_prio=120\n"
    "  marker-100 [000] DBZff 1.004200: tlob_stop: (0x5) id=0\n"
)
TOKEN = re.compile(r'\s+|"(?:[^"\\\n]|\\.)*"|[A-Za-z_][A-Za-z0-9_]*|\d+(?:\.\d+)?|->|--|==|'
                   r"!=|<=|>=|&&|\|\||.", re.S)
HOSTILE = ["\x00", "\udcff", "9" * 40, "-1", "99999999999999999999999ms", "[" * 200, "{" * 80,
           "\u2028", "\\", '"', "\n", "//", "/*", "*/", "é", "²", "reset(", "()", "&&", "||",
           "__init_", "digraph", "->", "=", ";", ":", "::", "0x", "1.0000000001", "R+|S",
           "tlob_start", "sched_switch", "prev_pid=", "budget_ns=", "CPU:0 [LOST", "\t" * 9,
           "a" * 300]


def corpus_text(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace")


CORPUS_TOKENS = sorted({t for p in MODELS + BINDINGS for t in TOKEN.findall(corpus_text(p))
                        if not t.isspace()})


@st.composite
def mutated(draw, texts: list[str]) -> bytes:
    """One corpus text with one to four token mutations, as bytes (a lone surrogate
    becomes a byte that is not UTF-8)."""
    tokens = TOKEN.findall(draw(st.sampled_from(texts)))
    for _ in range(draw(st.integers(1, 4))):
        if not tokens:
            tokens = [""]
        i = draw(st.integers(0, len(tokens) - 1))
        kind = draw(st.sampled_from(("delete", "repeat", "swap", "corpus", "hostile")))
        if kind == "delete":
            del tokens[i]
        elif kind == "repeat":
            tokens[i:i] = [tokens[i]] * draw(st.integers(1, 50))
        elif kind == "swap" and i + 1 < len(tokens):
            tokens[i], tokens[i + 1] = tokens[i + 1], tokens[i]
        elif kind == "corpus":
            tokens[i] = draw(st.sampled_from(CORPUS_TOKENS))
        else:
            tokens.insert(i, draw(st.sampled_from(HOSTILE)))
    return "".join(tokens).encode("utf-8", errors="surrogateescape")


class TookTooLong(BaseException):  # noqa: N818 - not an error hamodel may catch
    pass


def run(argv: list[str]) -> tuple[int, str]:
    """cli.main in this process, with a wall-clock limit; (exit status, stderr)."""
    def alarm(signum, frame):
        raise TookTooLong(f"{' '.join(argv)} took more than {TIME_LIMIT_S} s")

    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, TIME_LIMIT_S)
    out, err = io.StringIO(), io.StringIO()
    started = time.monotonic()
    try:
        with redirect_stdout(out), redirect_stderr(err):
            code = cli.main(argv)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    assert time.monotonic() - started < TIME_LIMIT_S
    return code, err.getvalue()


def judged(code: int, stderr: str) -> None:
    assert code in (0, 1, 2, 3), (code, stderr)
    assert "Traceback" not in stderr, stderr


COMMANDS = [
    ("show",), ("show", "--json"), ("fmt",), ("check", "--timeout", "5"),
    ("gen", "--target", "kernel-c", "-t", "per_task"), ("gen", "--target", "ebpf"),
    ("gen", "--target", "python"),
]
MODEL_TEXTS = [corpus_text(p) for p in MODELS]


@settings(max_examples=FUZZ_EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(model=mutated(MODEL_TEXTS), command=st.sampled_from(COMMANDS))
def test_mutated_models_never_crash_hang_or_exit_oddly(model, command):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzzed.dot"
        path.write_bytes(model)
        (Path(tmp) / "fuzzed.binding.toml").write_text(corpus_text(BINDINGS[0]))
        argv = [command[0], *command[1:], str(path)]
        if command[0] == "gen":
            argv += ["-o", str(Path(tmp) / "out")]
        judged(*run(argv))


@settings(max_examples=FUZZ_EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(binding=mutated([corpus_text(p) for p in BINDINGS]),
       target=st.sampled_from(("ebpf", "kernel-c", "python")))
def test_mutated_bindings_never_crash_hang_or_exit_oddly(binding, target):
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "b.toml").write_bytes(binding)
        argv = ["gen", "--target", target, str(ROOT / "models" / "tlob.dot"), "-o",
                str(Path(tmp) / "out"), "--binding", str(Path(tmp) / "b.toml")]
        if target == "python":
            argv = ["replay", str(ROOT / "models" / "tlob.dot"), "/dev/null", "--binding",
                    str(Path(tmp) / "b.toml")]
        judged(*run(argv))


@settings(max_examples=FUZZ_EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(trace=mutated([JSONL, KERNEL_TEXT, *(corpus_text(p) for p in TRACES)]),
       fmt=st.sampled_from(("text", "jsonl")))
def test_mutated_traces_never_crash_hang_or_exit_oddly(trace, fmt):
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "t.txt").write_bytes(trace)
        judged(*run(["replay", str(ROOT / "models" / "tlob.dot"), str(Path(tmp) / "t.txt"),
                     "--format", fmt]))
