"""`hamodel replay X.ltl TRACE`: atom updates per task through the reference monitor.

Two inputs:

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
  `comm[pid]: (states) x (atoms) -> (next)` and `error_<m>` lines.  Each step
  the kernel took is recomputed from the same states and atoms with the
  reference tables, and every `error_<m>` must follow a step to no state.  A
  kernel monitor made by `hamodel gen` numbers states as hamodel does; for an
  rvgen one the numbers may differ and are then reported as disagreements.

Output: one line (text) or object (jsonl) per violation or disagreement, then
a summary.  Exit: 0 none, 1 violations or disagreements, 2 bad input, 3 gaps.
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from hamodel.ltl.binding import LtlBinding
from hamodel.ltl.buchi import Buchi
from hamodel.ltl.formula import LtlSpec
from hamodel.ltl.monitor import LtlMonitor, MonitorError, Violation
from hamodel.ltl.names import abbreviations

EXIT_OK, EXIT_FOUND, EXIT_BAD_INPUT, EXIT_GAPS = 0, 1, 2, 3
_KINDS = ("init", "fetch", "update", "pulse", "set", "lost")
_KEYS = {"t", "task", "value", *_KINDS}


class ReplayError(ValueError):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


@dataclass
class Summary:
    lines: int = 0
    tasks: set = field(default_factory=set)
    steps: int = 0
    violations: int = 0
    disagreements: int = 0
    gaps: int = 0


class _Report:
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
            self.out.write(f"line {line}{when}: task {v.task}: violation: no state follows"
                           f" ({states}) when ({atoms}) hold\n")

    def disagreement(self, line: int, message: str) -> None:
        if self.fmt == "jsonl":
            self._json({"disagreement": {"line": line, "message": message}})
        else:
            self.out.write(f"line {line}: kernel and reference disagree: {message}\n")

    def gap(self, line: int, forgotten: int) -> None:
        if self.fmt == "jsonl":
            self._json({"gap": {"line": line, "forgotten": forgotten}})
        else:
            self.out.write(f"line {line}: events were lost; {forgotten} task(s) forgotten\n")

    def summary(self, s: Summary) -> None:
        if self.fmt == "jsonl":
            self._json({"summary": {"lines": s.lines, "tasks": len(s.tasks), "steps": s.steps,
                                    "violations": s.violations,
                                    "disagreements": s.disagreements, "gaps": s.gaps}})
        else:
            self.out.write(f"replay: {s.lines} lines, {len(s.tasks)} tasks, {s.steps} steps,"
                           f" {s.violations} violations, {s.disagreements} disagreements,"
                           f" {s.gaps} gaps\n")

    def _json(self, obj: dict) -> None:
        self.out.write(json.dumps(obj, sort_keys=True) + "\n")


# --- JSON lines ------------------------------------------------------------------------------


def _record(line: int, text: str) -> dict | None:
    stripped = text.strip()
    if not stripped or stripped.startswith("//"):
        return None
    try:
        rec = json.loads(stripped)
    except (json.JSONDecodeError, RecursionError, ValueError) as exc:
        raise ReplayError(line, f"not a JSON object: {exc}") from None
    if not isinstance(rec, dict):
        raise ReplayError(line, "expected a JSON object per line")
    unknown = sorted(set(rec) - _KEYS)
    if unknown:
        raise ReplayError(line, f"unknown key {unknown[0]!r} (expected t, task, value and one"
                                f" of {', '.join(_KINDS)})")
    kinds = [k for k in _KINDS if k in rec]
    if len(kinds) != 1:
        raise ReplayError(line, f"expected exactly one of {', '.join(_KINDS)}")
    t = rec.get("t")
    if t is not None and (isinstance(t, bool) or not isinstance(t, int) or t < 0):
        raise ReplayError(line, f"t = {t!r}: expected a time in ns (an integer >= 0)")
    return rec


def replay_jsonl(spec: LtlSpec, buchi: Buchi, binding: LtlBinding | None,
                 lines: Iterable[str], report: _Report) -> Summary:
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
                raise ReplayError(line_no, f"time went back from {last_t} to {t}")
            last_t = now[0] = t
        if "lost" in rec:
            s.gaps += 1
            report.gap(line_no, len(monitor.tasks))
            monitor.tasks.clear()
            told.clear()
            continue
        task = rec.get("task")
        if isinstance(task, bool) or not isinstance(task, int | str):
            raise ReplayError(line_no, f"task = {task!r}: expected an integer or a string")
        s.tasks.add(task)
        try:
            _call(monitor, rec, task, told, fetched, line_no)
        except MonitorError as exc:
            raise ReplayError(line_no, str(exc)) from None
    s.steps = monitor.steps
    report.summary(s)
    return s


def _call(monitor: LtlMonitor, rec: dict, task: object, told: dict[object, set[str]],
          fetched: set[str], line: int) -> None:
    if "init" in rec:
        how = rec["init"]
        if how not in ("fork", "enable"):
            raise ReplayError(line, f"init = {how!r}: expected \"fork\" (a task created while"
                                    " the monitor runs) or \"enable\" (one that ran before)")
        monitor.task_init(task, creation=how == "fork", props=monitor.tasks.get(task).props
                          if task in monitor.tasks else None)
        return
    if "fetch" in rec:
        props = rec["fetch"]
        if not isinstance(props, dict) or not all(isinstance(v, bool) for v in props.values()):
            raise ReplayError(line, "fetch: expected an object of atom: true/false")
        wrong = sorted(set(props) - fetched)
        if wrong:
            raise ReplayError(line, f"fetch: {wrong[0]} is not an atom the binding fetches"
                                    f" (fetched: {', '.join(sorted(fetched)) or 'none'})")
        monitor.fetch_values(task, props)
        told.setdefault(task, set()).update(props)
        return
    kind = next(k for k in ("update", "pulse", "set") if k in rec)
    atom, value = rec[kind], rec.get("value")
    if not isinstance(atom, str) or not isinstance(value, bool):
        raise ReplayError(line, f"{kind}: expected an atom name and \"value\": true or false")
    if atom not in monitor.bit:
        raise ReplayError(line, f"{atom} is no atom of the spec (its atoms:"
                                f" {', '.join(monitor.atoms)})")
    if kind != "set":
        missing = sorted(fetched - told.get(task, set()))
        if missing:
            raise ReplayError(line, f"task {task}: {missing[0]} is fetched from the task;"
                                    " give its value with a fetch record before the update")
    getattr(monitor, kind)(task, atom, value)


# --- the kernel's event_<m> / error_<m> lines -------------------------------------------------

_EVENT = re.compile(r"\bevent_(\w+): (.*)\[(-?\d+)\]: \(([0-9,\-]*)\) x \(([a-z0-9_,]*)\)"
                    r" -> \(([0-9,\-]*)\)\s*$")
_ERROR = re.compile(r"\berror_(\w+): (.*)\[(-?\d+)\]: violation detected\s*$")
_LOST = re.compile(r"^CPU:?\d+ \[LOST (\d+) EVENTS\]|\[LOST (\d+) EVENTS\]")


def _bitmap_list(text: str) -> tuple[int, ...]:
    """The kernel's `%*pbl` (e.g. `0-2,5`) as state numbers."""
    out: list[int] = []
    for part in filter(None, text.split(",")):
        first, _, last = part.partition("-")
        out += range(int(first), int(last or first) + 1)
    return tuple(out)


def replay_ftrace(spec: LtlSpec, buchi: Buchi, lines: Iterable[str], report: _Report
                  ) -> Summary:
    s = Summary()
    monitor = LtlMonitor(buchi)
    by_short = {short: atom for atom, short in
                zip(buchi.atoms, abbreviations(buchi.atoms), strict=True)}
    bit = {a: i for i, a in enumerate(buchi.atoms)}
    # task -> (line, states, atoms) of a step to no state, awaiting its error line
    pending: dict[int, tuple[int, tuple[int, ...], tuple[str, ...]]] = {}
    for line_no, text in enumerate(lines, 1):
        s.lines = line_no
        if _LOST.search(text):
            s.gaps += 1
            report.gap(line_no, len(pending))
            pending.clear()
            continue
        m = _EVENT.search(text)
        if m and m.group(1) == spec.name:
            task = int(m.group(3))
            s.tasks.add(task)
            s.steps += 1
            if task in pending:
                s.disagreements += 1
                report.disagreement(pending.pop(task)[0], f"task {task}: no error_{spec.name}"
                                    " after a step to no state")
            states, nxt = _bitmap_list(m.group(4)), _bitmap_list(m.group(6))
            atoms = 0
            for short in filter(None, m.group(5).split(",")):
                if short not in by_short:
                    raise ReplayError(line_no, f"atom {short!r} is not one of {spec.name}'s"
                                               f" ({', '.join(sorted(by_short))})")
                atoms |= 1 << bit[by_short[short]]
            if any(x >= len(buchi.states) for x in states + nxt):
                s.disagreements += 1
                report.disagreement(line_no, f"state numbers {m.group(4)} -> {m.group(6)}"
                                    f" (the reference has {len(buchi.states)} states)")
                continue
            mask = sum(1 << x for x in states)
            expected = monitor.successors(mask, atoms)
            got = sum(1 << x for x in nxt)
            if expected != got:
                s.disagreements += 1
                want = ",".join(str(i) for i in range(len(buchi.states)) if expected >> i & 1)
                report.disagreement(line_no, f"task {task}: ({m.group(4)}) x ({m.group(5)})"
                                    f" -> ({m.group(6)}); the reference gives ({want})")
            if not got:
                pending[task] = (line_no, states,
                                 tuple(a for a in buchi.atoms if atoms >> bit[a] & 1))
            continue
        m = _ERROR.search(text)
        if m and m.group(1) == spec.name:
            task = int(m.group(3))
            s.violations += 1
            step = pending.pop(task, None)
            if step is None:
                s.disagreements += 1
                report.disagreement(line_no, f"task {task}: error_{spec.name} without a step"
                                    " to no state before it")
            else:
                report.violation(line_no, None, Violation(task, step[1], step[2]))
    for task, (line, _states, _atoms) in sorted(pending.items()):
        if line != s.lines:  # the trace may end right after the step
            s.disagreements += 1
            report.disagreement(line, f"task {task}: no error_{spec.name} after a step to"
                                " no state")
    report.summary(s)
    return s


# --- command --------------------------------------------------------------------------------


def _detect(path: Path) -> str:
    with path.open(encoding="utf-8-sig", errors="replace") as f:
        for text in itertools.islice(f, 64):
            stripped = text.strip()
            if stripped and not stripped.startswith("//") and not stripped.startswith("#"):
                return "jsonl" if stripped.startswith("{") else "ftrace"
    return "jsonl"


def run(args: argparse.Namespace) -> int:
    from hamodel.ltl.cli import binding_or_report, buchi_or_report, load_or_report

    if args.param or args.hz is not None:
        print("hamodel replay: --param and --hz are for automata; an LTL spec has neither"
              " parameters nor clocks", file=sys.stderr)
        return EXIT_BAD_INPUT
    spec = load_or_report(args.model, args.name)
    buchi = buchi_or_report(spec) if spec else None
    if buchi is None:
        return EXIT_BAD_INPUT
    binding, ok = binding_or_report(args, spec)
    if not ok:
        return EXIT_BAD_INPUT
    trace = Path(args.trace)
    report = _Report(sys.stdout, args.format, buchi)
    try:
        if not trace.is_file():
            raise ReplayError(0, f"{trace}: no such file")
        kind = _detect(trace) if args.trace_format == "auto" else args.trace_format
        with trace.open(encoding="utf-8-sig", newline="\n") as f:
            if kind == "jsonl":
                s = replay_jsonl(spec, buchi, binding, f, report)
            else:
                s = replay_ftrace(spec, buchi, f, report)
    except ReplayError as exc:
        sys.stdout.flush()
        where = f"{trace}:{exc.line}: " if exc.line else ""
        print(f"hamodel replay: {where}{exc.message}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except UnicodeDecodeError as exc:
        print(f"hamodel replay: {trace}: not a text trace (byte {exc.start} is not UTF-8)",
              file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as exc:
        print(f"hamodel replay: {trace}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if s.gaps:
        return EXIT_GAPS
    return EXIT_FOUND if s.violations or s.disagreements else EXIT_OK
