"""`hamodel replay X.ltl TRACE`: atom updates per task through the reference monitor.

Two inputs, read through hamodel/trace/stream.py as the automaton replay
reads them (a file, `-`, a FIFO or tracefs `trace_pipe`, in bounded chunks,
lines of at most 65536 characters; a last line without its newline is a gap):

- JSON lines (the portable format), one call of ltl_monitor.h per line:

      {"t": 1000, "task": 42, "init": "fork"}          ltl_task_init(task, true)
      {"t": 1000, "task": 42, "init": "enable"}        ltl_task_init(task, false)
      {"t": 1200, "task": 42, "fetch": {"RT": true}}   what ltl_atoms_fetch reads from now on
      {"t": 1500, "task": 42, "update": "PAGEFAULT", "value": true}
      {"t": 1500, "task": 42, "pulse": "PAGEFAULT", "value": true}
      {"t": 1600, "task": 42, "set": "PAGEFAULT", "value": false}
      {"t": 1700, "lost": 12}                          a gap: every task is forgotten

  `t` (ns, optional) never decreases; `task` is an integer or a string.  A
  task seen without an init was running when the monitor was enabled
  (`init: enable`).  The binding beside the spec says which atoms ltl_atoms_init
  sets and which ltl_atoms_fetch reads; a fetched atom needs a `fetch` value
  before the task's first update.

- the kernel's own trace of an LTL monitor (tracefs text): `event_<m>` lines
  `comm[pid]: (states) x (atoms) -> (next)` and `error_<m>` lines
  (hamodel/ltl/events.py).  Each step the kernel took is recomputed from the
  same states and atoms with the reference tables, and every `error_<m>` must
  follow a step to no state.  A list the kernel cut at the end of its buffer
  is checked against every way it could go on; a state list cut so is not
  checked (counted as unchecked).  A kernel monitor made by `hamodel gen`
  numbers states as hamodel does; for an rvgen one the numbers may differ
  and are then reported as disagreements.

Output: one line (text) or object (jsonl) per violation, disagreement and
gap, then a summary.  Exit: 0 none, 1 violations or disagreements, 2 bad
input (`TRACE:LINE:COL`, the line and a caret), 3 gaps, 130 / 143 a stream
stopped by SIGINT / SIGTERM (after the summary of what was read).
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from hamodel import signals
from hamodel.ltl import codes
from hamodel.ltl.binding import LtlBinding
from hamodel.ltl.buchi import Buchi
from hamodel.ltl.events import ListError, parse_bitmap_list, read_error, read_event
from hamodel.ltl.formula import LtlSpec
from hamodel.ltl.monitor import LtlMonitor, MonitorError, Violation
from hamodel.ltl.names import abbreviations
from hamodel.replay import CUT_LINE, ReplayError, detect_format, print_located
from hamodel.trace.stream import Cut, TraceInput, TraceInputError

EXIT_OK, EXIT_FOUND, EXIT_BAD_INPUT, EXIT_GAPS = 0, 1, 2, 3
_KINDS = ("init", "fetch", "update", "pulse", "set", "lost")
_KEYS = {"t", "task", "value", *_KINDS}
_LOST_MARK = "LOST "
_LOST = re.compile(r"\[LOST \d+ EVENTS\]")
# A cut atom list leaves the atoms after it open; past this many, the step is not checked.
MAX_OPEN_ATOMS = 16


def _error(line: int, message: str, needle: str | None = None, col: int = 0) -> ReplayError:
    return ReplayError(line, message, col=col, needle=needle, code=codes.LTL_BAD_TRACE)


@dataclass
class Summary:
    lines: int = 0
    tasks: set = field(default_factory=set)
    steps: int = 0
    violations: int = 0
    disagreements: int = 0
    gaps: int = 0
    unchecked: int = 0  # kernel steps whose state lists the kernel cut


class Report:
    def __init__(self, out: TextIO, fmt: str, buchi: Buchi) -> None:
        self.out = out
        self.fmt = fmt
        self.short = dict(zip(buchi.atoms, abbreviations(buchi.atoms), strict=True))

    def violation(self, line: int, t: int | None, v: Violation) -> None:
        states = ",".join(f"S{s}" for s in v.states)
        atoms = ",".join(v.atoms)
        if self.fmt == "jsonl":
            self._json({"violation": {"line": line, "t": t, "task": v.task,
                                      "states": [f"S{s}" for s in v.states],
                                      "atoms": list(v.atoms)}})
        else:
            when = f" t={t}" if t is not None else ""
            self._write(f"line {line}{when}: task {v.task}: violation: no state follows"
                        f" ({states}) when ({atoms}) hold")

    def disagreement(self, line: int, message: str) -> None:
        if self.fmt == "jsonl":
            self._json({"disagreement": {"line": line, "message": message}})
        else:
            self._write(f"line {line}: kernel and reference disagree: {message}")

    def gap(self, line: int, forgotten: int, why: str = "events were lost") -> None:
        if self.fmt == "jsonl":
            self._json({"gap": {"line": line, "forgotten": forgotten, "why": why}})
        else:
            self._write(f"line {line}: {why}; {forgotten} task(s) forgotten")

    def summary(self, s: Summary) -> None:
        if self.fmt == "jsonl":
            self._json({"summary": {"lines": s.lines, "tasks": len(s.tasks), "steps": s.steps,
                                    "violations": s.violations,
                                    "disagreements": s.disagreements, "gaps": s.gaps,
                                    "unchecked": s.unchecked}})
        else:
            unchecked = f", {s.unchecked} unchecked" if s.unchecked else ""
            self._write(f"replay: {s.lines} lines, {len(s.tasks)} tasks, {s.steps} steps,"
                        f" {s.violations} violations, {s.disagreements} disagreements,"
                        f" {s.gaps} gaps{unchecked}")

    def _json(self, obj: dict) -> None:
        self._write(json.dumps(obj, sort_keys=True))

    def _write(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()  # a live trace: each finding as it is found


# --- JSON lines ------------------------------------------------------------------------------


def _record(line: int, text: str) -> dict | None:
    stripped = text.strip()
    if not stripped or stripped.startswith("//"):
        return None
    try:
        rec = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _error(line, f"not JSON: {exc.msg}", col=exc.colno) from None
    except ValueError:  # an integer longer than int() reads (sys.get_int_max_str_digits)
        digits = re.search(rf"\d{{{sys.get_int_max_str_digits() + 1},}}", text)
        raise _error(line, "a number on this line is too long",
                     col=digits.start() + 1 if digits else 0) from None
    except RecursionError:
        raise _error(line, "nested too deep for a trace record", "[" * 64) from None
    if not isinstance(rec, dict):
        raise _error(line, "expected a JSON object per line")
    unknown = sorted(set(rec) - _KEYS)
    if unknown:
        raise _error(line, f"unknown key {unknown[0]!r} (expected t, task, value and one of"
                           f" {', '.join(_KINDS)})", json.dumps(unknown[0]))
    kinds = [k for k in _KINDS if k in rec]
    if len(kinds) != 1:
        raise _error(line, f"expected exactly one of {', '.join(_KINDS)}",
                     json.dumps(kinds[1]) if kinds else None)
    t = rec.get("t")
    if t is not None and (isinstance(t, bool) or not isinstance(t, int) or t < 0):
        raise _error(line, f"t = {t!r}: expected a time in ns (an integer >= 0)", '"t"')
    return rec


def replay_jsonl(spec: LtlSpec, buchi: Buchi, binding: LtlBinding | None,
                 lines: Iterable[str], report: Report) -> Summary:
    s = Summary()
    setup = binding.setup() if binding else {}
    fetched = {a for a, how in setup.items() if how.fetched}
    line_no = 0
    now: list[int | None] = [None]

    def on_violation(v: Violation) -> None:
        s.violations += 1
        report.violation(line_no, now[0], v)

    monitor = LtlMonitor(buchi, setup, on_violation=on_violation)
    told: dict[object, set[str]] = {}
    last_t = None
    for line_no, text in enumerate(lines, 1):
        s.lines = line_no
        rec = _record(line_no, text)
        if rec is None:
            continue
        t = rec.get("t")
        if t is not None:
            if last_t is not None and t < last_t:
                raise _error(line_no, f"time went back from {last_t} to {t}", '"t"')
            last_t = now[0] = t
        if "lost" in rec:
            s.gaps += 1
            report.gap(line_no, len(monitor.tasks))
            monitor.tasks.clear()
            told.clear()
            continue
        task = rec.get("task")
        if isinstance(task, bool) or not isinstance(task, int | str):
            raise _error(line_no, f"task = {task!r}: expected an integer or a string",
                         '"task"' if "task" in rec else None)
        s.tasks.add(task)
        _call(monitor, rec, task, told, fetched, line_no)
    s.steps = monitor.steps
    return s


def _call(monitor: LtlMonitor, rec: dict, task: object, told: dict[object, set[str]],
          fetched: set[str], line: int) -> None:
    if "init" in rec:
        how = rec["init"]
        if how not in ("fork", "enable"):
            raise _error(line, f"init = {how!r}: expected \"fork\" (a task created while"
                               " the monitor runs) or \"enable\" (one that ran before)",
                         '"init"')
        monitor.task_init(task, creation=how == "fork", props=monitor.tasks.get(task).props
                          if task in monitor.tasks else None)
        return
    if "fetch" in rec:
        props = rec["fetch"]
        if not isinstance(props, dict) or not all(isinstance(v, bool) for v in props.values()):
            raise _error(line, "fetch: expected an object of atom: true/false", '"fetch"')
        wrong = sorted(set(props) - fetched)
        if wrong:
            raise _error(line, f"fetch: {wrong[0]} is not an atom the binding fetches"
                               f" (fetched: {', '.join(sorted(fetched)) or 'none'})",
                         json.dumps(wrong[0]))
        monitor.fetch_values(task, props)
        told.setdefault(task, set()).update(props)
        return
    kind = next(k for k in ("update", "pulse", "set") if k in rec)
    atom, value = rec[kind], rec.get("value")
    if not isinstance(atom, str) or not isinstance(value, bool):
        raise _error(line, f"{kind}: expected an atom name and \"value\": true or false",
                     f'"{kind}"')
    if atom not in monitor.bit:
        raise _error(line, f"{atom} is no atom of the spec (its atoms:"
                           f" {', '.join(monitor.atoms)})", json.dumps(atom))
    if kind != "set":
        missing = sorted(fetched - told.get(task, set()))
        if missing:
            raise _error(line, f"task {task}: {missing[0]} is fetched from the task;"
                               " give its value with a fetch record before the update",
                         f'"{kind}"')
    try:
        getattr(monitor, kind)(task, atom, value)
    except MonitorError as exc:  # a backstop: the atom was checked above
        raise _error(line, str(exc), json.dumps(atom)) from None


# --- the kernel's event_<m> / error_<m> lines -------------------------------------------------


class _Kernel:
    """Recomputes each step of the kernel's trace of one monitor with the reference tables."""

    def __init__(self, spec: LtlSpec, buchi: Buchi, report: Report, s: Summary) -> None:
        self.spec, self.buchi, self.report, self.s = spec, buchi, report, s
        self.monitor = LtlMonitor(buchi)
        self.names = abbreviations(buchi.atoms)
        self.index = {short: i for i, short in enumerate(self.names)}
        # task -> (line, states, atoms) of a step to no state, awaiting its error line
        self.pending: dict[int, tuple[int, tuple[int, ...], tuple[str, ...]]] = {}

    def line(self, number: int, text: str) -> None:
        if _LOST_MARK in text and _lost(text):
            self.s.gaps += 1
            self.report.gap(number, len(self.pending))
            self.pending.clear()
            return
        event = read_event(text)
        if event is not None and event.monitor == self.spec.name:
            self.step(number, text, event)
            return
        error = read_error(text)
        if error is not None and error[0] == self.spec.name:
            self.violation_line(number, error[1])

    def step(self, number: int, text: str, event) -> None:
        m = self.spec.name
        task = event.pid
        self.s.tasks.add(task)
        self.s.steps += 1
        if task in self.pending:
            self.s.disagreements += 1
            self.report.disagreement(self.pending.pop(task)[0], f"task {task}: no error_{m}"
                                     " after a step to no state")
        states = _states(number, event.states, f" ({event.states}) x ")
        nxt = _states(number, event.next, f" -> ({event.next})")
        if event.states_cut:  # the list may go on past what the kernel printed
            self.s.unchecked += 1
            if not event.next:
                self.pending[task] = (number, states, ())
            return
        certain, choices = self._atoms(number, text, event)
        if any(x >= len(self.buchi.states) for x in states + nxt):
            self.s.disagreements += 1
            self.report.disagreement(number, f"state numbers {event.states} -> {event.next}"
                                     f" (the reference has {len(self.buchi.states)} states)")
            return
        mask = sum(1 << x for x in states)
        got = sum(1 << x for x in nxt)
        if choices is None:
            self.s.unchecked += 1
        elif not any(self.monitor.successors(mask, atoms) == got for atoms in choices):
            self.s.disagreements += 1
            expected = self.monitor.successors(mask, certain)
            want = ",".join(str(i) for i in range(len(self.buchi.states)) if expected >> i & 1)
            self.report.disagreement(number, f"task {task}: ({event.states}) x"
                                     f" ({','.join(event.atoms)}) -> ({event.next}); the"
                                     f" reference gives ({want})")
        if not got:
            self.pending[task] = (number, states, tuple(
                a for i, a in enumerate(self.buchi.atoms) if certain >> i & 1))

    def _atoms(self, number: int, text: str, event) -> tuple[int, list[int] | None]:
        """The atoms the line says hold (a mask), and every mask the kernel's atoms may
        have been: one, or for a cut list each way it goes on (None: too many)."""
        names = list(event.atoms)
        tail = names.pop() if event.atoms_cut and names else None
        certain = 0
        last = -1
        at = event.atoms_at  # where each name starts on the line
        for short in names:
            i = self.index.get(short)
            if i is None:
                raise _error(number, f"atom {short!r} is not one of {self.spec.name}'s"
                                     f" ({', '.join(sorted(self.index))})", col=at + 1)
            certain |= 1 << i
            last = i
            at += len(short) + 1
        if tail is None:
            return certain, [certain]
        # the last name may be cut: any later atom whose name starts with it, then any
        # values for the atoms after that one
        choices: list[int] = []
        n = len(self.names)
        for j in range(last + 1, n):
            if self.names[j].startswith(tail):
                open_atoms = n - j - 1
                if open_atoms > MAX_OPEN_ATOMS:
                    return certain, None
                base = certain | 1 << j
                choices += [base | rest << (j + 1) for rest in range(1 << open_atoms)]
        if not choices:
            raise _error(number, f"atom {tail!r} is no start of a name of"
                                 f" {self.spec.name}'s atoms after the ones before it",
                         col=at + 1)
        return certain, choices

    def violation_line(self, number: int, task: int) -> None:
        m = self.spec.name
        self.s.violations += 1
        step = self.pending.pop(task, None)
        if step is None:
            self.s.disagreements += 1
            self.report.disagreement(number, f"task {task}: error_{m} without a step to no"
                                     " state before it")
        else:
            self.report.violation(number, None, Violation(task, step[1], step[2]))

    def finish(self) -> None:
        for task, (line, _states, _atoms) in sorted(self.pending.items()):
            if line != self.s.lines:  # the trace may end right after the step
                self.s.disagreements += 1
                self.report.disagreement(line, f"task {task}: no error_{self.spec.name}"
                                         " after a step to no state")


def _states(number: int, text: str, needle: str) -> tuple[int, ...]:
    try:
        return parse_bitmap_list(text)
    except ListError as exc:
        raise _error(number, str(exc), needle) from None


def _lost(text: str) -> bool:
    """`CPU:1 [LOST 12 EVENTS]` (tracefs), `CPU 1 [LOST 12 EVENTS]` (trace-cmd)."""
    return _LOST.search(text) is not None


def replay_ftrace(spec: LtlSpec, buchi: Buchi, lines: Iterable[str], report: Report
                  ) -> Summary:
    s = Summary()
    kernel = _Kernel(spec, buchi, report, s)
    for number, text in enumerate(lines, 1):
        s.lines = number
        kernel.line(number, text)
    kernel.finish()
    return s


# --- command --------------------------------------------------------------------------------


def _telling(text: str) -> bool:
    stripped = text.strip()
    return bool(stripped) and not stripped.startswith("//")


def _whole_json(cut: Cut | None) -> bool:
    """A JSON line needs no newline to be whole: it is whole when it parses."""
    if cut is None:
        return False
    try:
        return isinstance(json.loads(cut.text), dict)
    except (ValueError, RecursionError):
        return False


def replay(spec: LtlSpec, buchi: Buchi, binding: LtlBinding | None,
           trace: TraceInput | str | Path, fmt: str, out: TextIO,
           trace_format: str = "auto") -> Summary:
    """Replay a trace (opened, or a path); a signal ends it early (`trace.stopped`) with
    the summary of what was read.  A last line without its newline is a gap."""
    if not isinstance(trace, TraceInput):
        with TraceInput.open(str(trace)) as opened:
            return replay(spec, buchi, binding, opened, fmt, out, trace_format)
    kind = detect_format(trace.peek(_telling)) if trace_format == "auto" else trace_format
    report = Report(out, fmt, buchi)
    lines = itertools.chain.from_iterable(trace.chunks())
    whole: list[Cut] = []

    def and_a_whole_last_line() -> Iterator[str]:
        yield from lines
        if kind == "jsonl" and _whole_json(trace.cut):
            whole.append(trace.cut)  # type: ignore[arg-type]
            yield trace.cut.text  # type: ignore[union-attr]

    if kind == "jsonl":
        s = replay_jsonl(spec, buchi, binding, and_a_whole_last_line(), report)
    else:
        s = replay_ftrace(spec, buchi, lines, report)
    if trace.cut is not None and not whole:
        s.gaps += 1
        report.gap(trace.cut.line, 0, CUT_LINE)
    report.summary(s)
    return s


def _automaton_options(args: argparse.Namespace) -> str | None:
    """The first option of `hamodel replay` that only an automaton takes, if given."""
    given = [("--param", bool(args.param)), ("--hz", args.hz is not None),
             ("--timer", getattr(args, "timer", None) is not None),
             ("--tie", getattr(args, "tie", "event-first") != "event-first"),
             ("--timer-latency", str(getattr(args, "timer_latency", "0")) != "0"),
             ("--uptime", getattr(args, "uptime", None) is not None),
             ("--plot", getattr(args, "plot", None) is not None)]
    return next((name for name, used in given if used), None)


def run(args: argparse.Namespace) -> int:
    from hamodel.ltl.cli import binding_or_report, buchi_or_report, load_or_report

    option = _automaton_options(args)
    if option:
        print(f"hamodel replay: {option} is for automata; an LTL spec has no parameters,"
              " clocks or timers", file=sys.stderr)
        return EXIT_BAD_INPUT
    spec = load_or_report(args.model, args.name)
    buchi = buchi_or_report(spec) if spec else None
    if buchi is None:
        return EXIT_BAD_INPUT
    binding, ok = binding_or_report(args, spec)
    if not ok:
        return EXIT_BAD_INPUT
    trace: TraceInput | None = None
    try:
        # A signal stops reading at a line boundary; what was read is summed up.
        with signals.deferred():
            trace = TraceInput.open(args.trace, getattr(args, "follow", False),
                                    sys.stderr.isatty())
            with trace:
                s = replay(spec, buchi, binding, trace, args.format, sys.stdout,
                           args.trace_format)
    except (ReplayError, TraceInputError) as exc:
        sys.stdout.flush()
        print_located(exc, trace)
        return EXIT_BAD_INPUT
    except BrokenPipeError:
        raise  # the reader of stdout went away: cli.main ends quietly
    except OSError as exc:
        print(f"hamodel replay: {args.trace}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if trace.stopped is not None:
        print(f"hamodel replay: {signals.describe(trace.stopped)} after line {trace.count};"
              " the summary covers the lines read", file=sys.stderr)
        return signals.exit_status(trace.stopped)
    if s.gaps:
        return EXIT_GAPS
    return EXIT_FOUND if s.violations or s.disagreements else EXIT_OK
