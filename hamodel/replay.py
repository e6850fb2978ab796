"""`hamodel replay MODEL TRACE`: run a recorded trace through the model's Python monitor.

Input: a model, its binding (for kernel trace text) and a trace (JSON lines,
tracefs text or `trace-cmd report -N -t`); output: one line (text) or one JSON
object (jsonl) per violation, per overrun (a violated invocation that stops)
and per gap, then a summary.  The monitor is the generated module
(hamodel/gen/python.py), imported from memory, so replay runs exactly the code
that `hamodel gen --target python` writes.

The monitor runs on the kernel's clock, ns since boot, because the
framework's checks depend on the uptime (they wrap while it is below a
bound).  Kernel trace text carries it; JSON lines are relative, so their
first line is placed at DEFAULT_UPTIME unless `--uptime` says otherwise.
Findings are reported in the trace's own times.  The timer kind, the order of
an event and a timer at the same ns and the callback latency are the
`Platform` choices of hamodel.semantics (docs/replay.md).

Memory grows with the objects being monitored (and the ids the monitor has
seen), never with the length of the trace or of a line: hamodel/trace/stream.py
reads files, pipes and tracefs's trace_pipe alike, in bounded chunks.

Exit: 0 no violation, 1 violations, 2 bad input, 3 the trace has gaps or a cut
last line (its answer is incomplete; violations found are still printed), 130 /
143 a stream stopped by SIGINT / SIGTERM (after the summary of what was read).
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from hamodel import diagnostics as dg
from hamodel import signals
from hamodel.binding import Binding
from hamodel.gen.python import load_monitor
from hamodel.model import Automaton
from hamodel.replay_report import Invocation, Overrun, Reporter, Summary
from hamodel.source import Excerpt, Span
from hamodel.timeline import Timeline
from hamodel.trace import bind
from hamodel.trace.ftrace import Gap, LineScan, TraceFormatError, line_time
from hamodel.trace.jsonl import JsonlError, read_jsonl
from hamodel.trace.stream import MAX_LINE, Block, Cut, TraceInput, TraceInputError

EXIT_OK, EXIT_VIOLATIONS, EXIT_BAD_INPUT, EXIT_GAPS = 0, 1, 2, 3
BAD_TRACE = dg.register("HA073", "bad-trace-line", "docs/replay.md describes the trace formats")
TRACE_NOT_UTF8 = dg.register(
    "HA074", "trace-not-utf8",
    "trace text is UTF-8; a trace.dat is binary: convert it with `trace-cmd report -N -t`")
TRACE_LINE_TOO_LONG = dg.register(
    "HA075", "trace-line-too-long",
    f"a trace line is at most {MAX_LINE} characters: is this file a trace?")
INPUT_CODES = {"not-utf8": TRACE_NOT_UTF8, "too-long": TRACE_LINE_TOO_LONG}
UNITS = {"ns": 1, "us": 1_000, "ms": 1_000_000, "s": 1_000_000_000}
PARAM_VALUE_RE = re.compile(r"([0-9]+)(ns|us|ms|s)?")  # ASCII digits only: not `²`
U64_LIMIT = 1 << 64  # parameters and envs are u64 in the kernel
HZ_RANGE = range(1, 100_001)
# Where a JSON-lines trace's first line is placed, in ns since boot: 4400 s (about
# 2^42 ns), past any bound the kernel accepts for tlob (1 h), so no check wraps; whole
# seconds, so the trace's 0 falls on a jiffy boundary at HZ 100, 250 and 1000.
DEFAULT_UPTIME = 4_400 * 1_000_000_000
TIMERS = ("wheel", "hrtimer")
TIES = ("event-first", "timer-first")


@dataclass(frozen=True, slots=True)
class Platform:
    """The kernel around the monitor (hamodel.semantics.Platform, as replay names it).

    None for `timer`: the kind the monitor's generator chooses; None for
    `uptime`: the trace's own times (kernel text) or DEFAULT_UPTIME (JSON lines).
    """

    hz: int | None = None
    timer: str | None = None
    tie: str = "event-first"
    latency_ns: int = 0
    uptime: int | None = None


class ReplayError(ValueError):
    """Input replay cannot use; `line` is the trace line (0: not about a line), `col`
    the column (0: unknown) or `needle` text to find on the line, `text` the line
    itself when the reader may no longer have it."""

    def __init__(self, line: int, message: str, col: int = 0, needle: str | None = None,
                 text: str | None = None, code: str = "") -> None:
        super().__init__(message)
        self.line = line
        self.message = message
        self.col = col
        self.needle = needle
        self.text = text
        self.code = code or BAD_TRACE


class Engine:
    """Feeds calls to the generated monitor and reports what it finds (bind.Sink)."""

    def __init__(self, automaton: Automaton, params: dict[str, int], hz: int | None,
                 report: Reporter, platform: Platform | None = None,
                 timeline: Timeline | None = None) -> None:
        module = load_monitor(automaton)
        self.error = module.MonitorError
        platform = platform or Platform(hz=hz)
        kwargs: dict = {"tie": platform.tie, "latency_ns": platform.latency_ns}
        if hz is not None or platform.hz is not None:
            kwargs["hz"] = hz if hz is not None else platform.hz
        if platform.timer is not None:
            kwargs["timer"] = platform.timer
        self.monitor = module.Monitor(params, on_violation=self._violation, **kwargs)
        self.never = module.KTIME_SATURATED
        self.uptime = platform.uptime
        # kernel time = trace time + shift; set by place() before the first call
        self.shift = 0
        self.live = self.monitor.live
        self.events = frozenset(module.EVENTS)
        self.parameters = frozenset(module.PARAMETERS)
        self.envs = frozenset(module.ENVS)
        self.tokens: tuple[str, ...] | None = ()
        self._tokens_for: dict[tuple, tuple[str, ...]] = {}  # objects -> their tokens
        self.report = report
        report.units = dict(zip(module.CLOCKS, module.CLOCK_UNITS, strict=True))
        self.summary = Summary()
        self.invocations: dict[object, Invocation] = {}
        self.line = 0
        self.timeline = timeline  # --plot: every state interval, kept for the picture

    def place(self, first: int | None, default: int | None) -> None:
        """Put the trace's first time `first` at the uptime asked for, or at `default`
        (None: the trace's times are the uptime already)."""
        uptime = self.uptime if self.uptime is not None else default
        if first is not None and uptime is not None:
            self.shift = uptime - first

    # --- calls (bind.Sink) ---

    def advance(self, t: int) -> None:
        self.monitor.advance(t + self.shift)

    def start(self, line: int, t: int, obj: object, params: dict[str, int],
              args: dict[str, str]) -> None:
        self.line = line
        if not self.parameters.issuperset(params):
            unknown = sorted(set(params) - self.parameters)
            raise ReplayError(line, f"{unknown[0]} is no parameter of the model (expected one "
                                    f"of: {', '.join(sorted(self.parameters)) or 'none'})",
                              needle=unknown[0])
        if not all(0 <= value < U64_LIMIT for value in params.values()):
            name, value = next((n, v) for n, v in sorted(params.items())
                               if not 0 <= v < U64_LIMIT)
            raise ReplayError(line, f"parameter {name}={value} is out of range "
                                    "(0..2^64-1: a u64 in the kernel)", needle=str(value))
        monitor = self.monitor
        now = t + self.shift
        try:
            monitor.advance(now)  # a timer due now ends the old invocation
            if obj not in self.live:
                self.invocations[obj] = Invocation(t, line, args)
                self.summary.invocations += 1
            monitor.start(obj, now, params)
        except self.error as exc:
            raise _refused(line, exc) from None
        self._refresh()
        if self.timeline is not None:
            self._sync(obj, t)

    def stop(self, line: int, t: int, obj: object) -> None:
        self.line = line
        try:
            result = self.monitor.stop(obj, t + self.shift)
        except self.error as exc:
            raise _refused(line, exc) from None
        self._refresh()
        if self.timeline is not None:
            self._sync(obj, t)
        inv = self.invocations.pop(obj, None)
        if inv is None:
            return
        if result == "stopped":
            self.summary.within += 1
        elif result == "violated" and inv.violation is not None and inv.kind == "invariant":
            # the invariant ran out: found by its timer or by an event before the timer
            overrun = Overrun(obj, t - inv.violation, inv.start, inv.line, inv.args)
            if self.summary.worst is None or overrun.ns > self.summary.worst.ns:
                self.summary.worst = overrun
            self.report.overrun(overrun, t, line)

    def exited(self, line: int, t: int, obj: object) -> None:
        if obj in self.invocations:
            self.line = line
            self._call(line, self.monitor.stop, obj, t + self.shift)
            self._refresh()
            self._sync(obj, t)
            self.invocations.pop(obj)
            self.summary.exited += 1

    def event(self, line: int, t: int, obj: object, event: str, handler: str,
              env: dict[str, int] | None = None) -> None:
        self.line = line
        if env:
            unknown = sorted(set(env) - self.envs)
            if unknown:
                raise ReplayError(line, f"{unknown[0]} is no env of the model (expected one of: "
                                        f"{', '.join(sorted(self.envs)) or 'none'}; clocks "
                                        "are the monitor's own, not read from the trace)",
                                  needle=unknown[0])
        if handler == "event":
            if obj not in self.live:
                # Ignored by the monitor anyway; dropped here on every input path, so
                # the ranking of simultaneous timers does not depend on the trace format.
                if event not in self.events:
                    raise ReplayError(line, f"unknown event {event!r}", needle=event)
                return
            try:
                self.monitor.event(obj, t + self.shift, event, env)
            except self.error as exc:
                raise ReplayError(line, str(exc), needle=event) from None
            if self.timeline is not None:
                self._sync(obj, t)
            return
        self._call(line, self.advance, t)
        if obj not in self.live:
            self.invocations[obj] = Invocation(t, line, {})
            self.summary.invocations += 1
        self._call(line, getattr(self.monitor, handler), obj, t + self.shift, event, env,
                   needle=event)
        self._refresh()
        self._sync(obj, t)

    def gap(self, gap: Gap) -> None:
        """Events are missing: forget every object being monitored (no guessing)."""
        self.summary.gaps += 1
        self.summary.lost += gap.lost or 0
        abandoned = [obj for obj in self.invocations if obj in self.live]
        for obj in abandoned:
            self.monitor.stop(obj, self.monitor.now)
            self._sync(obj, self.monitor.now - self.shift)
            del self.invocations[obj]
        self._refresh()
        self.summary.abandoned += len(abandoned)
        self.report.gap(gap, abandoned)

    def finish(self, end: int | None) -> Summary:
        """The trace ended at `end` (ns): fire the timers due by then, count the rest."""
        s = self.summary
        if end is not None and end + self.shift >= self.monitor.now:
            self.advance(end)
        s.end = end
        s.unfinished = sum(1 for obj in self.invocations if obj in self.live)
        s.violated_unstopped = sum(1 for obj in self.invocations if obj not in self.live)
        if self.timeline is not None:
            self.timeline.finish(end)
        self.report.summary(s)
        return s

    # --- internals ---

    def _call(self, line: int, method, *args, needle: str | None = None):
        try:
            return method(*args)
        except self.error as exc:
            raise _refused(line, exc, needle) from None

    def _sync(self, obj: object, t: int) -> None:
        """--plot: the object's state and armed deadline after a call (timeline.py)."""
        if self.timeline is None:
            return
        inst = self.live.get(obj)
        if inst is None:
            self.timeline.leave(obj, t)
        else:
            fire_at = inst.fire_at  # the callback, on the kernel's clock (saturated: never)
            deadline = (None if fire_at is None or fire_at >= self.never
                        else fire_at - self.monitor.latency_ns - self.shift)
            self.timeline.enter(obj, t, self.monitor.state_of(obj), deadline)

    def _refresh(self) -> None:
        """Recompute `tokens` (bind.Sink) after the set of monitored objects changed.

        The same objects give the same tuple object back, so blocks.py sees at once
        that no token is new; objects that are not exact ints are never looked up
        (True == 1, but their tokens differ)."""
        live = self.live
        if len(live) > 8:
            self.tokens = None
            return
        objects = tuple(live)
        for o in objects:
            if type(o) is not int:
                break
        else:  # exact ints: their tokens may be looked up
            tokens = self._tokens_for.get(objects)
            if tokens is None:
                if len(self._tokens_for) >= 256:
                    self._tokens_for.clear()
                tokens = self._tokens_for[objects] = tuple(f"={o}" for o in objects)
            self.tokens = tokens
            return
        if all(isinstance(o, int) for o in objects):
            self.tokens = tuple(f"={o}" for o in objects)
        else:
            self.tokens = None

    def _violation(self, v) -> None:
        self._refresh()  # the monitor has just stopped monitoring v.obj
        if self.shift:
            v = dataclasses.replace(v, time=v.time - self.shift)  # back to the trace's time
        inv = self.invocations.get(v.obj)
        if inv is not None:
            inv.violation, inv.kind = v.time, v.kind
        self.summary.violations[v.kind] = self.summary.violations.get(v.kind, 0) + 1
        if self.timeline is not None:
            self.timeline.violation(v.obj, v.time, v.state, v.kind)
        self.report.violation(v, inv, self.line)


def _refused(line: int, exc: Exception, needle: str | None = None) -> ReplayError:
    """The monitor's refusal of a call (its MonitorError), about trace line `line`: one
    place for the start, the stop and the other calls, which the start's tests reach."""
    return ReplayError(line, str(exc), needle=needle)


# --- reading ---

CUT_LINE = "the last line is cut: it has no newline (was the trace still being written?)"


def _telling(text: str) -> bool:
    """Whether a line tells the format: it is not blank and not a `//` comment."""
    stripped = text.strip()
    return bool(stripped) and not stripped.startswith("//")


def detect_format(first_lines: Iterable[str]) -> str:
    """JSON lines when the first line that tells opens an object."""
    for text in first_lines:
        if _telling(text):
            return "jsonl" if text.strip().startswith("{") else "ftrace"
    return "ftrace"


def first_event_time(lines: Iterable[str]) -> tuple[int | None, Iterator[str]]:
    """The timestamp of the first event line of kernel trace text (None if it has none
    or the line is malformed: scan reports that), and the same lines again."""
    lines = iter(lines)
    seen: list[str] = []
    first = None
    for number, text in enumerate(lines, 1):
        seen.append(text)
        found, first = _event_time(text, number)
        if found:
            break
    return first, itertools.chain(seen, lines)


def _event_time(text: str, number: int) -> tuple[bool, int | None]:
    """Whether `text` is an event line, and its time (None when it does not read)."""
    colon = text.find(": ")
    if colon < 0 or text[0] == "#":
        return False, None
    try:
        return True, line_time(text, colon, number)
    except TraceFormatError:
        return True, None


def _first_block_time(blocks: Iterable[Block]) -> tuple[int | None, Iterator[Block]]:
    """first_event_time for blocks: the time, and the same blocks again."""
    blocks = iter(blocks)
    seen: list[Block] = []
    first = None
    for block in blocks:
        seen.append(block)
        found = False
        for number, text in enumerate(block.text_lines(), block.first):
            found, first = _event_time(text, number)
            if found:
                break
        if found:
            break
    return first, itertools.chain(seen, blocks)


def replay_ftrace(engine: Engine, binding: Binding, lines: Iterable[str],
                  cut: Callable[[], Cut | None] = lambda: None) -> Summary:
    """`cut` is asked once the lines are read: the last line, if it had no newline."""
    if engine.uptime is not None:
        first, lines = first_event_time(lines)
        engine.place(first, None)
    return _kernel_text(engine, binding, cut, lambda scan: scan.lines(1, lines))


def replay_blocks(engine: Engine, binding: Binding, blocks: Iterable[Block],
                  cut: Callable[[], Cut | None] = lambda: None) -> Summary:
    """replay_ftrace of text read in blocks (TraceInput.blocks): the same calls, with
    the lines that cannot matter skipped a block at a time (hamodel/trace/blocks.py)."""
    from hamodel.trace.blocks import BlockScan  # noqa: PLC0415 (numpy: kernel text only)

    if engine.uptime is not None:
        first, blocks = _first_block_time(blocks)
        engine.place(first, None)

    def read(scan: LineScan) -> None:
        scanner = BlockScan(scan)
        for block in blocks:
            scanner.block(block)

    return _kernel_text(engine, binding, cut, read)


def _kernel_text(engine: Engine, binding: Binding, cut: Callable[[], Cut | None],
                 read: Callable[[LineScan], None]) -> Summary:
    scan = LineScan(bind.handlers(binding, engine), engine.gap, bind.skippable(binding),
                    engine)
    try:
        read(scan)
    except TraceFormatError as exc:
        raise ReplayError(exc.line, exc.message, exc.col, exc.needle) from None
    return _scanned(engine, scan, cut)


def _scanned(engine: Engine, scan: LineScan, cut: Callable[[], Cut | None]) -> Summary:
    end = None
    last, last_number = scan.last, scan.last_number
    if last:  # its timestamp was compared as text, maybe never parsed
        try:
            end = line_time(last, last.find(": "), last_number)
        except TraceFormatError as exc:
            raise ReplayError(exc.line, exc.message, exc.col, exc.needle, last) from None
    engine.summary.lines = scan.number
    return _end(engine, end, cut())


def replay_jsonl(engine: Engine, lines: Iterable[str],
                 cut: Callable[[], Cut | None] = lambda: None) -> Summary:
    end = None
    count = 0
    try:
        for rec in read_jsonl(lines):
            count = rec.line
            if end is None:
                engine.place(rec.time, DEFAULT_UPTIME)
            elif rec.time < end:
                raise ReplayError(rec.line, f"time went back from {end} to {rec.time}",
                                  needle='"t"')
            end = rec.time
            if rec.kind == "event":
                engine.event(rec.line, rec.time, rec.obj, rec.event, rec.handler, dict(rec.values))
            elif rec.kind == "start":
                engine.start(rec.line, rec.time, rec.obj, dict(rec.values), {})
            elif rec.kind == "stop":
                engine.stop(rec.line, rec.time, rec.obj)
            else:
                engine.advance(rec.time)
                engine.gap(Gap(rec.line, None, rec.lost, "the trace says events were lost"))
    except JsonlError as exc:
        raise ReplayError(exc.line, exc.message, exc.col, exc.needle) from None
    except engine.error as exc:
        raise ReplayError(count, str(exc)) from None
    engine.summary.lines = count
    return _end(engine, end, cut())


def _end(engine: Engine, end: int | None, cut: Cut | None) -> Summary:
    """Finish at `end`; a cut last line is a gap after it: what it said is unknown."""
    if cut is not None:
        if end is not None and end >= engine.monitor.now:
            engine.monitor.advance(end)
        engine.gap(Gap(cut.line, None, None, CUT_LINE))
    return engine.finish(end)


def parse_ns(option: str, text: str, limit: int = U64_LIMIT) -> int:
    """`--uptime 2s`, `--timer-latency 50us`: an integer with an optional unit -> ns."""
    m = PARAM_VALUE_RE.fullmatch(text)
    if m is None:
        raise ReplayError(0, f"{option} {text!r}: expected an integer, optionally with "
                             "ns, us, ms or s")
    value = int(m[1]) * UNITS[m[2] or "ns"]
    if value >= limit:
        raise ReplayError(0, f"{option} {text!r}: must be below 2^{limit.bit_length() - 1} ns")
    return value


def _complete_json(cut: Cut | None) -> bool:
    """A JSON line needs no newline to be whole: it is whole when it parses."""
    if cut is None:
        return False
    try:
        return isinstance(json.loads(cut.text), dict)
    except (ValueError, RecursionError):
        return False


def parse_params(items: list[str], automaton: Automaton) -> dict[str, int]:
    """`--param NAME=VALUE` (VALUE an integer, optionally with ns/us/ms/s) -> {NAME: int}."""
    known = {p.name for p in automaton.parameters}
    out: dict[str, int] = {}
    for item in items:
        name, eq, value = item.partition("=")
        if not eq or name not in known:
            expected = ", ".join(sorted(known)) or "none"
            raise ReplayError(0, f"--param {item!r}: expected NAME=VALUE with NAME one of "
                                 f"{expected}")
        m = PARAM_VALUE_RE.fullmatch(value)
        if m is None:
            raise ReplayError(0, f"--param {item!r}: VALUE is an integer, optionally with "
                                 "ns, us, ms or s")
        if name in out:
            raise ReplayError(0, f"--param {item!r}: {name} is given twice")
        out[name] = int(m[1]) * UNITS[m[2] or "ns"]
        if out[name] >= U64_LIMIT:
            raise ReplayError(0, f"--param {item!r}: VALUE must be below 2^64 ns "
                                 "(a u64 in the kernel)")
    return out


def replay(automaton: Automaton, binding: Binding | None, trace: TraceInput | str | Path,
           fmt: str, params: dict[str, int], out: TextIO, trace_format: str = "auto",
           hz: int | None = None, platform: Platform | None = None,
           timeline: Timeline | None = None) -> Summary:
    """Replay a trace (opened, or a path); a signal ends it early (`trace.stopped`) with
    the summary of what was read."""
    if not isinstance(trace, TraceInput):
        with TraceInput.open(str(trace)) as opened:
            return replay(automaton, binding, opened, fmt, params, out, trace_format, hz,
                          platform, timeline)
    kind = detect_format(trace.peek(_telling)) if trace_format == "auto" else trace_format
    # Each finding is flushed when the trace is a stream (a pipe, trace_pipe, --follow):
    # it reaches a reader as it is found; a file's findings are written as usual.
    flush = not trace.regular or trace.follow
    engine = Engine(automaton, params, hz, Reporter(out, fmt, flush=flush), platform, timeline)
    if kind == "jsonl":
        lines = itertools.chain.from_iterable(trace.chunks())
        whole: list[Cut] = []

        def and_a_whole_last_line() -> Iterator[str]:
            yield from lines
            if _complete_json(trace.cut):
                whole.append(trace.cut)  # type: ignore[arg-type]
                yield trace.cut.text  # type: ignore[union-attr]

        return replay_jsonl(engine, and_a_whole_last_line(),
                            lambda: None if whole else trace.cut)
    if binding is None:
        raise ReplayError(0, f"{automaton.name} has no binding: kernel trace text needs one "
                             "(MODEL.binding.toml beside the model, or --binding FILE)")
    kernel_only = binding.kernel_only()
    if kernel_only:
        raise ReplayError(0, f"the binding uses what only the kernel-C target follows"
                             f" ({kernel_only[0]}): trace text cannot show it")
    return replay_blocks(engine, binding, trace.blocks(), lambda: trace.cut)


def exit_code(s: Summary) -> int:
    if s.gaps:
        return EXIT_GAPS
    return EXIT_VIOLATIONS if s.violation_count else EXIT_OK


# --- command line -------------------------------------------------------------------


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "replay", help="replay a recorded trace (JSON lines or ftrace text) through the model")
    p.add_argument("model", metavar="MODEL", help="the .dot model (or .ltl spec)")
    p.add_argument("trace", metavar="TRACE",
                   help="JSON lines, tracefs `trace` text or `trace-cmd report -N -t` output; "
                        "`-`, a FIFO or tracefs `trace_pipe` are read as they come")
    p.add_argument("--format", choices=("text", "jsonl"), default="text", help="output format")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="default for a model parameter, e.g. BUDGET_NS=2ms")
    p.add_argument("--binding", help="binding file (default: MODEL's .binding.toml)")
    p.add_argument("--trace-format", choices=("auto", "jsonl", "ftrace"), default="auto")
    p.add_argument("--hz", type=int, help="kernel HZ for jiffy clocks, 1..100000 (default 250)")
    p.add_argument("--timer", choices=TIMERS,
                   help="the monitor's HA_TIMER_TYPE (default: the one hamodel's kernel-C "
                        "generator chooses for the model)")
    p.add_argument("--tie", choices=TIES, default="event-first",
                   help="which runs first when an event and a timer fall on the same ns "
                        "(default: event-first, as the framework's check at the event reads)")
    p.add_argument("--timer-latency", metavar="NS", default="0",
                   help="how long after its expiry a timer callback runs (default 0)")
    p.add_argument("--uptime", metavar="NS",
                   help="ns since boot at the trace's first line (default: kernel text "
                        "carries it; JSON lines start at 4400s)")
    p.add_argument("--follow", action="store_true",
                   help="at the end of a file, wait for more lines (until Ctrl-C)")
    p.add_argument("-n", "--name", help="monitor name (default: the file's stem)")
    p.add_argument("--plot", metavar="FILE.svg|png",
                   help="also draw each object's states over time, the armed invariant's"
                   " deadline and each violation")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from hamodel import cli
    from hamodel.binding import find_binding, load_binding
    from hamodel.ltl.load import is_ltl

    if is_ltl(args.model):  # atom updates through the LTL reference monitor
        from hamodel.ltl.replay import run as replay_ltl

        return replay_ltl(args)
    a = cli.load_or_report(args.model, args.name)
    if a is None:
        return EXIT_BAD_INPUT
    binding, diags = load_binding(args.binding, a) if args.binding else find_binding(args.model, a)
    cli.print_diagnostics(diags)
    if dg.has_errors(diags):
        return EXIT_BAD_INPUT
    if args.hz is not None and args.hz not in HZ_RANGE:
        print(f"hamodel replay: --hz must be in {HZ_RANGE.start}..{HZ_RANGE.stop - 1}",
              file=sys.stderr)
        return EXIT_BAD_INPUT
    timeline = None
    if args.plot:
        from hamodel.plot import PlotError, plot_format

        try:
            plot_format(args.plot)
        except PlotError as exc:
            print(f"hamodel replay: {exc}", file=sys.stderr)
            return EXIT_BAD_INPUT
        timeline = Timeline(a.name, tuple(s.name for s in a.states))
    trace: TraceInput | None = None
    try:
        params = parse_params(args.param, a)
        platform = Platform(
            hz=args.hz, timer=args.timer, tie=args.tie,
            latency_ns=parse_ns("--timer-latency", args.timer_latency, 1 << 63),
            uptime=None if args.uptime is None else parse_ns("--uptime", args.uptime, 1 << 63))
        # A signal stops reading at a line boundary (never inside a monitor call);
        # what was read so far is finished and summed up.
        with signals.deferred():
            trace = TraceInput.open(args.trace, args.follow, sys.stderr.isatty())
            with trace:
                summary = replay(a, binding, trace, args.format, params, sys.stdout,
                                 args.trace_format, args.hz, platform, timeline)
    except (ReplayError, TraceInputError) as exc:
        sys.stdout.flush()
        print_located(exc, trace)
        return EXIT_BAD_INPUT
    except BrokenPipeError:
        raise  # the reader of stdout went away: cli.main ends quietly
    except OSError as exc:
        print(f"hamodel replay: {args.trace}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if timeline is not None:
        from hamodel.output import write_atomic
        from hamodel.plot import PlotError, plot_format, render

        try:
            write_atomic(args.plot, render(timeline, plot_format(args.plot),
                                           f"{a.name}: {trace.name}"))
        except PlotError as exc:
            print(f"hamodel replay: {exc}", file=sys.stderr)
            return EXIT_BAD_INPUT
    if trace.stopped is not None:
        print(f"hamodel replay: {signals.describe(trace.stopped)} after line {trace.count}; "
              "the summary covers the lines read", file=sys.stderr)
        return signals.exit_status(trace.stopped)
    return exit_code(summary)


def print_located(exc: ReplayError | TraceInputError, trace: TraceInput | None) -> None:
    """`TRACE:LINE:COL: error[HA04x]: ...`, the line and a caret; one line when the error
    is about no line (an option, a file that cannot be opened)."""
    if not exc.line or trace is None:
        print(f"hamodel replay: {exc.message}", file=sys.stderr)
        return
    text = exc.text if exc.text is not None else trace.line(exc.line)
    col = exc.col
    needle = getattr(exc, "needle", None)
    if not col and needle and text is not None and needle in text:
        col = text.index(needle) + 1
    if not col:
        col = 1 if text is None else len(text) - len(text.lstrip()) + 1
    width = len(needle) if needle and text is not None and needle in text else 1
    code = INPUT_CODES.get(getattr(exc, "kind", ""), getattr(exc, "code", BAD_TRACE))
    span = Span.point(trace.name, exc.line, col, width)
    sources = {} if text is None else {trace.name: Excerpt(trace.name, ((exc.line, text),))}
    print(dg.render_text(dg.error(code, exc.message, span), sources), file=sys.stderr)
