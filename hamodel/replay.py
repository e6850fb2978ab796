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

Memory grows with the objects being monitored, never with the length of the
trace: the trace is read line by line.

Exit: 0 no violation, 1 violations, 2 bad input, 3 the trace has gaps (its
answer is incomplete; violations found are still printed).
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TextIO

from hamodel.binding import Binding
from hamodel.gen.python import load_monitor
from hamodel.model import Automaton
from hamodel.replay_report import Invocation, Overrun, Reporter, Summary
from hamodel.timeline import Timeline
from hamodel.trace import bind
from hamodel.trace.ftrace import Gap, TraceFormatError, line_time, scan
from hamodel.trace.jsonl import JsonlError, read_jsonl

EXIT_OK, EXIT_VIOLATIONS, EXIT_BAD_INPUT, EXIT_GAPS = 0, 1, 2, 3
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
    """Input replay cannot use; `line` is the trace line (0: not about a line)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


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
        unknown = sorted(set(params) - self.parameters)
        if unknown:
            raise ReplayError(line, f"{unknown[0]} is no parameter of the model (expected one "
                                    f"of: {', '.join(sorted(self.parameters)) or 'none'})")
        for name, value in sorted(params.items()):
            if not 0 <= value < U64_LIMIT:
                raise ReplayError(line, f"parameter {name}={value} is out of range "
                                        "(0..2^64-1: a u64 in the kernel)")
        self._call(line, self.advance, t)  # a timer due now ends the old invocation
        if obj not in self.live:
            self.invocations[obj] = Invocation(t, line, args)
            self.summary.invocations += 1
        self._call(line, self.monitor.start, obj, t + self.shift, params)
        self._refresh()
        self._sync(obj, t)

    def stop(self, line: int, t: int, obj: object) -> None:
        self.line = line
        result = self._call(line, self.monitor.stop, obj, t + self.shift)
        self._refresh()
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
                                        "are the monitor's own, not read from the trace)")
        if handler == "event":
            if obj not in self.live:
                # Ignored by the monitor anyway; dropped here on every input path, so
                # the ranking of simultaneous timers does not depend on the trace format.
                if event not in self.events:
                    raise ReplayError(line, f"unknown event {event!r}")
                return
            try:
                self.monitor.event(obj, t + self.shift, event, env)
            except self.error as exc:
                raise ReplayError(line, str(exc)) from None
            if self.timeline is not None:
                self._sync(obj, t)
            return
        self._call(line, self.advance, t)
        if obj not in self.live:
            self.invocations[obj] = Invocation(t, line, {})
            self.summary.invocations += 1
        self._call(line, getattr(self.monitor, handler), obj, t + self.shift, event, env)
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

    def _call(self, line: int, method, *args):
        try:
            return method(*args)
        except self.error as exc:
            raise ReplayError(line, str(exc)) from None

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
        """Recompute `tokens` (bind.Sink) after the set of monitored objects changed."""
        if len(self.live) > 8 or not all(isinstance(o, int) for o in self.live):
            self.tokens = None
        else:
            self.tokens = tuple(f"={o}" for o in self.live)

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


# --- reading ------------------------------------------------------------------------


def detect_format(path: Path) -> str:
    with path.open(encoding="utf-8-sig", errors="replace") as f:
        for text in itertools.islice(f, 64):
            stripped = text.strip()
            if stripped and not stripped.startswith("//"):
                return "jsonl" if stripped.startswith("{") else "ftrace"
    return "ftrace"


def read_chunks(f: IO[str], progress: bool, size: int) -> Iterator[list[str]]:
    """The file's lines a megabyte at a time; a progress bar on stderr if asked (tqdm)."""
    bar = None
    if progress:
        try:
            from tqdm import tqdm
        except ImportError:  # no bar rather than no replay
            tqdm = None
        if tqdm is not None:
            bar = tqdm(total=size, unit="B", unit_scale=True, desc="replay", file=sys.stderr,
                       leave=False, dynamic_ncols=True)
    try:
        while True:
            chunk = f.readlines(1 << 20)
            if not chunk:
                break
            if bar is not None:
                bar.update(sum(map(len, chunk)))
            yield chunk
    finally:
        if bar is not None:
            bar.close()


def first_event_time(lines: Iterable[str]) -> tuple[int | None, Iterator[str]]:
    """The timestamp of the first event line of kernel trace text (None if it has none
    or the line is malformed: scan reports that), and the same lines again."""
    lines = iter(lines)
    seen: list[str] = []
    first = None
    for number, text in enumerate(lines, 1):
        seen.append(text)
        colon = text.find(": ")
        if colon < 0 or text[0] == "#":
            continue
        try:
            first = line_time(text, colon, number)
        except TraceFormatError:
            pass
        break
    return first, itertools.chain(seen, lines)


def replay_ftrace(engine: Engine, binding: Binding, lines: Iterable[str]) -> Summary:
    handlers = bind.handlers(binding, engine)
    if engine.uptime is not None:
        first, lines = first_event_time(lines)
        engine.place(first, None)
    try:
        count, last = scan(lines, handlers, engine.gap, bind.skippable(binding), engine)
        end = None
        if last:
            colon = last.find(": ")
            end = line_time(last, colon, count)
    except TraceFormatError as exc:
        raise ReplayError(exc.line, exc.message) from None
    engine.summary.lines = count
    return engine.finish(end)


def replay_jsonl(engine: Engine, lines: Iterable[str]) -> Summary:
    end = None
    count = 0
    try:
        for rec in read_jsonl(lines):
            count = rec.line
            if end is None:
                engine.place(rec.time, DEFAULT_UPTIME)
            elif rec.time < end:
                raise ReplayError(rec.line, f"time went back from {end} to {rec.time}")
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
        raise ReplayError(exc.line, exc.message) from None
    except engine.error as exc:
        raise ReplayError(count, str(exc)) from None
    engine.summary.lines = count
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
        out[name] = int(m[1]) * UNITS[m[2] or "ns"]
        if out[name] >= U64_LIMIT:
            raise ReplayError(0, f"--param {item!r}: VALUE must be below 2^64 ns "
                                 "(a u64 in the kernel)")
    return out


def replay(automaton: Automaton, binding: Binding | None, trace: Path, fmt: str,
           params: dict[str, int], out: TextIO, trace_format: str = "auto",
           hz: int | None = None, platform: Platform | None = None,
           timeline: Timeline | None = None) -> Summary:
    kind = detect_format(trace) if trace_format == "auto" else trace_format
    engine = Engine(automaton, params, hz, Reporter(out, fmt), platform, timeline)
    size = trace.stat().st_size
    progress = sys.stderr.isatty() and size > (32 << 20)
    # utf-8-sig: a byte order mark some editors write is not part of the first line.
    with trace.open(encoding="utf-8-sig", newline="\n") as f:
        lines = itertools.chain.from_iterable(read_chunks(f, progress, size))
        if kind == "jsonl":
            return replay_jsonl(engine, lines)
        if binding is None:
            raise ReplayError(0, f"{automaton.name} has no binding: kernel trace text needs one "
                                 "(MODEL.binding.toml beside the model, or --binding FILE)")
        kernel_only = binding.kernel_only()
        if kernel_only:
            raise ReplayError(0, f"the binding uses what only the kernel-C target follows"
                                 f" ({kernel_only[0]}): trace text cannot show it")
        return replay_ftrace(engine, binding, lines)


def exit_code(s: Summary) -> int:
    if s.gaps:
        return EXIT_GAPS
    return EXIT_VIOLATIONS if s.violation_count else EXIT_OK


# --- command line -------------------------------------------------------------------


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "replay", help="replay a recorded trace (JSON lines or ftrace text) through the model")
    p.add_argument("model", metavar="MODEL", help="the .dot model")
    p.add_argument("trace", metavar="TRACE",
                   help="JSON lines, tracefs `trace` text or `trace-cmd report -N -t` output")
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
    p.add_argument("-n", "--name", help="monitor name (default: the file's stem)")
    p.add_argument("--plot", metavar="FILE.svg|png",
                   help="also draw each object's states over time, the armed invariant's"
                   " deadline and each violation")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from hamodel import cli
    from hamodel import diagnostics as dg
    from hamodel.binding import find_binding, load_binding

    a = cli.load_or_report(args.model, args.name)
    if a is None:
        return EXIT_BAD_INPUT
    binding, diags = load_binding(args.binding, a) if args.binding else find_binding(args.model, a)
    cli.print_diagnostics(diags)
    if dg.has_errors(diags):
        return EXIT_BAD_INPUT
    trace = Path(args.trace)
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
    try:
        params = parse_params(args.param, a)
        platform = Platform(
            hz=args.hz, timer=args.timer, tie=args.tie,
            latency_ns=parse_ns("--timer-latency", args.timer_latency, 1 << 63),
            uptime=None if args.uptime is None else parse_ns("--uptime", args.uptime, 1 << 63))
        if not trace.is_file():
            raise ReplayError(0, f"{trace}: no such file")
        summary = replay(a, binding, trace, args.format, params, sys.stdout,
                         args.trace_format, args.hz, platform, timeline)
    except ReplayError as exc:
        sys.stdout.flush()
        where = f"{trace}:{exc.line}: " if exc.line else ""
        print(f"hamodel replay: {where}{exc.message}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except UnicodeDecodeError as exc:
        print(f"hamodel replay: {trace}: not a text trace (byte {exc.start} is not UTF-8; "
              "convert a trace.dat with `trace-cmd report -N -t`)", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:
        raise  # the reader of stdout went away: cli.main ends quietly
    except OSError as exc:
        print(f"hamodel replay: {trace}: {exc.strerror or exc}", file=sys.stderr)
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
    return exit_code(summary)
