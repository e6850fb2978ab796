"""`hamodel run`: model (or generated dir) + binary + windows -> live violation reports.

Steps: resolve the probe points (elf.py), generate and compile the monitor
(gen/ebpf.py, toolchain.py), load it, fill the per-window parameters, attach
the tp_btf programs and one start/stop uprobe pair per window (libbpf.py),
then print each report until Ctrl-C, SIGTERM or --duration, and a summary.
Leaving, in every case, destroys every link and closes the object (all maps).
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import struct
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TextIO

from hamodel import signals
from hamodel.bpf import elf, toolchain
from hamodel.bpf.libbpf import BpfError, BpfObject, Uprobe
from hamodel.bpf.records import Meta, MetaError, Report, decode, format_ns, json_line, text_line

MIN_BUDGET_NS = 1_000  # 1 us: below this, the uprobe itself costs more than the budget
MAX_BUDGET_NS = 3_600 * 1_000_000_000  # 1 h
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(ns|us|ms|s)?\Z")
_SCALE = {"ns": 1, "us": 1_000, "ms": 1_000_000, "s": 1_000_000_000, None: 1}


class UsageError(ValueError):
    """Bad input: one line, exit status 2; or, for a model or binding that does not
    load, its diagnostics as rendered (`located`: FILE:LINE:COL, the line, a caret)."""

    def __init__(self, message: str, located: str = "") -> None:
        super().__init__(message)
        self.located = located


@dataclass(frozen=True, slots=True)
class Window:
    """One start/stop pair and its budget; its index is the uprobes' cookie."""

    start: elf.ProbePoint
    stop: elf.ProbePoint
    budget_ns: int | None  # None: no --budget (a model without a budget parameter)

    @property
    def label(self) -> str:
        span = f"{self.start.spec}..{self.stop.spec}"
        return span if self.budget_ns is None else f"{span} budget {format_ns(self.budget_ns)}"


@dataclass(frozen=True, slots=True)
class RunConfig:
    model: str
    binary: str
    starts: tuple[str, ...]
    stops: tuple[str, ...]
    budgets: tuple[str, ...]
    pid: int = -1
    fmt: str = "text"
    duration: float | None = None
    max_tasks: int = 1024
    params: tuple[str, ...] = ()  # --param NAME=VALUE, for every window


def parse_budget(text: str) -> int:
    m = _DURATION.match(text.strip())
    if not m:
        raise UsageError(f"budget {text!r}: expected a number with ns, us, ms or s")
    # Decimal, not float: exact for any length of digits (a float overflows to inf).
    ns = int((Decimal(m.group(1)) * _SCALE[m.group(2)]).to_integral_value())
    if not MIN_BUDGET_NS <= ns <= MAX_BUDGET_NS:
        raise UsageError(f"budget {text!r} out of range (1us .. 1h)")
    return ns


def windows(cfg: RunConfig) -> tuple[Window, ...]:
    if not cfg.starts or len(cfg.starts) != len(cfg.stops):
        raise UsageError("give --start and --stop in pairs (one --budget for each pair)")
    budgets: tuple[str | None, ...] = cfg.budgets or (None,)
    if len(budgets) == 1:
        budgets = budgets * len(cfg.starts)
    if len(budgets) != len(cfg.starts):
        raise UsageError("give one --budget, or one for each --start/--stop pair")
    try:
        return tuple(
            Window(elf.resolve(cfg.binary, a), elf.resolve(cfg.binary, b),
                   None if t is None else parse_budget(t))
            for a, b, t in zip(cfg.starts, cfg.stops, budgets, strict=True)
        )
    except elf.ElfError as exc:
        raise UsageError(str(exc)) from None


def check_host() -> None:
    if os.geteuid() != 0:
        raise UsageError("hamodel run needs root (it loads BPF programs)")
    if not Path("/sys/kernel/btf/vmlinux").exists():
        raise UsageError("BPF unavailable: this kernel exposes no BTF (/sys/kernel/btf/vmlinux)")
    try:
        ctypes.CDLL("libbpf.so.1")
    except OSError:
        raise UsageError("libbpf.so.1 not found (install the libbpf1 package)") from None


def _check_pid(pid: int) -> None:
    if pid <= 0:
        raise UsageError(f"--pid {pid}: expected a process id")
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        raise UsageError(f"--pid {pid}: no such process") from None
    except PermissionError:
        pass


def monitor_sources(model: str, workdir: Path) -> tuple[Path, Meta]:
    """A generated directory as is, or a model generated into `workdir` now."""
    path = Path(model)
    if path.is_dir():
        sources = sorted(path.glob("*.bpf.c"))
        if len(sources) != 1:
            raise UsageError(f"{model}: expected one generated *.bpf.c, found {len(sources)}")
        meta_path = sources[0].with_name(sources[0].name[: -len(".bpf.c")] + ".meta.json")
        if not meta_path.exists():
            raise UsageError(f"{meta_path}: missing (regenerate with hamodel gen --target ebpf)")
        return sources[0], _read_meta(meta_path)
    from hamodel.binding import find_binding  # noqa: PLC0415 (only this path parses)
    from hamodel.diagnostics import has_errors  # noqa: PLC0415
    from hamodel.gen import GenError, GenOptions  # noqa: PLC0415
    from hamodel.gen.ebpf import generate  # noqa: PLC0415
    from hamodel.load import load_model  # noqa: PLC0415

    automaton, diags = load_model(path)
    if automaton is None or has_errors(diags):
        raise UsageError(f"cannot load {model}", _located(diags))
    binding, bdiags = find_binding(path, automaton)
    if has_errors(bdiags):
        raise UsageError(f"cannot load the binding of {model}", _located(bdiags))
    try:
        files = generate(automaton, GenOptions(model_path=str(path), binding=binding))
    except GenError as exc:
        raise UsageError(f"{model}: {exc}") from None
    for name, text in files.items():
        (workdir / name).write_text(text)
    source = workdir / f"{automaton.name}.bpf.c"
    return source, _read_meta(workdir / f"{automaton.name}.meta.json")


def _located(diags: list) -> str:
    """The errors among `diags`, each with its place, line and caret."""
    from hamodel.diagnostics import render_text  # noqa: PLC0415
    from hamodel.source import SOURCES  # noqa: PLC0415

    return "\n".join(render_text(d, SOURCES) for d in diags if d.is_error)


def _read_meta(path: Path) -> Meta:
    try:
        return Meta.read(path)
    except MetaError as exc:
        raise UsageError(f"{path}: {exc} (regenerate with hamodel gen --target ebpf)") from None


def budget_params(names: tuple[str, ...]) -> tuple[str, ...]:
    """The parameters --budget sets: those named as a budget (tlob's BUDGET_NS)."""
    return tuple(n for n in names if n.lower().startswith("budget"))


def parse_params(items: tuple[str, ...], names: tuple[str, ...], model: str) -> dict[str, int]:
    """`--param NAME=VALUE` (VALUE in ns, or with us/ms/s) for the model's parameters."""
    out: dict[str, int] = {}
    for item in items:
        name, eq, value = item.partition("=")
        if not eq or name not in names:
            known = ", ".join(names) or "none"
            raise UsageError(f"--param {item!r}: expected NAME=VALUE with NAME a parameter of"
                             f" {model} ({known})")
        m = _DURATION.match(value.strip())
        if not m:
            raise UsageError(f"--param {item!r}: VALUE is a number with ns, us, ms or s")
        ns = int((Decimal(m.group(1)) * _SCALE[m.group(2)]).to_integral_value())
        if not 0 < ns < 1 << 64:
            raise UsageError(f"--param {item!r}: VALUE out of range (1ns .. 2^64-1 ns)")
        if name in out:
            raise UsageError(f"--param {item!r}: {name} is given twice")
        out[name] = ns
    return out


def window_values(meta: Meta, wins: tuple[Window, ...], params: tuple[str, ...]) -> list[bytes]:
    """Each window's parameter values, in the model's order; UsageError when one is unset
    or set twice, or when --budget is given to a model without a budget parameter."""
    given = parse_params(params, meta.params, meta.model)
    budgets = budget_params(meta.params)
    if any(w.budget_ns is not None for w in wins) and not budgets:
        others = (f"its parameters: {', '.join(meta.params)}; set them with --param NAME=VALUE"
                  if meta.params else "it has no parameters")
        raise UsageError(f"--budget: {meta.model} has no budget parameter ({others})")
    twice = [p for p in budgets if p in given and any(w.budget_ns is not None for w in wins)]
    if twice:
        raise UsageError(f"--budget and --param {twice[0]} set the same parameter: give one")
    out = []
    for w in wins:
        values = []
        for p in meta.params:
            if p in budgets and w.budget_ns is not None:
                values.append(w.budget_ns)
            elif p in given:
                values.append(given[p])
            else:
                how = "--budget" if p in budgets else f"--param {p}=VALUE"
                raise UsageError(f"{meta.model}'s parameter {p} has no value: give {how}")
        values = values or [0]  # the map's value has at least one slot
        out.append(struct.pack(f"<{len(values)}Q", *values))
    return out


def run(cfg: RunConfig, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Returns the exit status: after --duration 0 (no window violated) or 1 (one was);
    1 when clang or the kernel refused the monitor; 2 bad input; 130 and 143 stopped
    by SIGINT and SIGTERM, after detaching everything and printing the summary
    (docs/ebpf.md says the same)."""
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        wins = windows(cfg)
        for warning in start_warnings(cfg.model):
            print(f"hamodel run: warning: {warning}", file=err)
        check_host()
        if cfg.fmt not in ("text", "jsonl"):
            raise UsageError(f"format {cfg.fmt!r} (expected text or jsonl)")
        if not 1 <= cfg.max_tasks <= 1 << 20:
            raise UsageError("--max-tasks out of range (1 .. 1048576)")
        if cfg.pid != -1:
            _check_pid(cfg.pid)
        with tempfile.TemporaryDirectory(prefix="hamodel-run-") as tmp:
            source, meta = monitor_sources(cfg.model, Path(tmp))
            if len(wins) > meta.max_bindings:
                raise UsageError(f"at most {meta.max_bindings} --start/--stop pairs")
            values = window_values(meta, wins, cfg.params)
            obj_path = toolchain.compile_object(source, Path(tmp) / "monitor.bpf.o")
            return _monitor(cfg, wins, meta, values, obj_path, out, err)
    except UsageError as exc:
        print(exc.located or f"hamodel run: {exc}", file=err)
        return 2
    except toolchain.ToolchainError as exc:
        print(f"hamodel run: {exc}", file=err)
        if exc.log:
            print(exc.log, file=err, end="")
        return 2 if not exc.log else 1
    except KeyboardInterrupt as exc:
        # A signal before the monitor was loaded: nothing is in the kernel yet.
        print(f"hamodel run: {signals.describe(exc)}", file=err)
        return signals.exit_status(exc)


def _monitor(
    cfg: RunConfig,
    wins: tuple[Window, ...],
    meta: Meta,
    values: list[bytes],
    obj_path: Path,
    out: TextIO,
    err: TextIO,
) -> int:
    for w in wins:
        for p in (w.start, w.stop):
            if p.bare_ret:
                print(
                    f"hamodel run: note: {p.spec} starts with a bare `ret`: each hit costs "
                    "~15 us here (a `nop` first instruction: ~1 us)",
                    file=err,
                )
    reports: list[Report] = []
    emit: Callable[[Report], str] = (
        (lambda r: json_line(meta, r, wins[r.binding].label))
        if cfg.fmt == "jsonl"
        else (lambda r: text_line(meta, r, wins[r.binding].label))
    )

    def on_record(raw: bytes) -> None:
        r = decode(meta, raw)
        reports.append(r)
        print(emit(r), file=out, flush=True)

    # From loading on, a signal only ends the poll loop: attaching is never cut short
    # with a link half made, and leaving the `with` destroys every link and map.
    with signals.deferred():
        status, ran = _load_attach_poll(cfg, wins, meta, values, obj_path, on_record, reports,
                                        out, err)
        stopped = signals.pending()
    if ran and stopped is not None:  # the summary is out; the signal decides the status
        print(f"hamodel run: {signals.describe()}; everything detached", file=err, flush=True)
        return signals.exit_status()
    return status


def _load_attach_poll(cfg: RunConfig, wins: tuple[Window, ...], meta: Meta,
                      values: list[bytes], obj_path: Path,
                      on_record: Callable[[bytes], None], reports: list[Report],
                      out: TextIO, err: TextIO) -> tuple[int, bool]:
    """Load, attach, poll until --duration or a signal, detach: (status, whether it ran:
    status 1 is then a violated window, else a monitor the kernel refused)."""
    try:
        t0 = time.monotonic()
        with BpfObject(str(obj_path)) as obj:
            obj.set_max_entries(meta.maps["timers"], cfg.max_tasks)
            try:
                obj.load()
            except BpfError as exc:
                print(f"hamodel run: {exc}", file=err)
                print(exc.log, file=err, end="")
                return 1, False
            for i, value in enumerate(values):
                obj.update(meta.maps["bindings"], struct.pack("<I", i), value)
            for prog in meta.tracepoint_programs:
                obj.attach(prog)
            for i, w in enumerate(wins):
                obj.attach_uprobe(
                    Uprobe(meta.start_program, cfg.binary, w.start.offset, i, cfg.pid)
                )
                obj.attach_uprobe(Uprobe(meta.stop_program, cfg.binary, w.stop.offset, i, cfg.pid))
            rb = obj.ring_buffer(meta.maps["reports"], on_record)
            ready_ms = (time.monotonic() - t0) * 1e3
            print(
                f"hamodel run: {meta.model} attached to {cfg.binary} "
                f"({len(wins)} window(s), {ready_ms:.0f} ms to load and attach); Ctrl-C stops",
                file=err,
                flush=True,
            )
            deadline = None if cfg.duration is None else time.monotonic() + cfg.duration
            while signals.stop_requested() is None and (deadline is None
                                                 or time.monotonic() < deadline):
                obj.poll(rb, 100)
            obj.poll(rb, 0)  # what arrived while stopping
            counters = _counters(obj, meta)
        print(_summary(meta, counters, reports, cfg.fmt), file=out, flush=True)
        return (1 if counters.get("violations") or reports else 0), True  # replay's 1
    except BpfError as exc:
        print(f"hamodel run: {exc}", file=err)
        if exc.log:
            print(exc.log.rstrip().splitlines()[-1], file=err)
        return 1, False


def start_warnings(model: str) -> list[str]:
    """What the model and its binding say about the task at the start symbol (a model
    file only; a generated directory has neither)."""
    path = Path(model)
    if path.is_dir() or not path.is_file():
        return []
    from hamodel.binding import find_binding  # noqa: PLC0415
    from hamodel.bpf.startcheck import initial_state_warnings  # noqa: PLC0415
    from hamodel.load import load_model  # noqa: PLC0415

    automaton, _ = load_model(path)
    if automaton is None:
        return []  # monitor_sources() reports it, located
    binding, _ = find_binding(path, automaton)
    return initial_state_warnings(automaton, binding) if binding else []


def _counters(obj: BpfObject, meta: Meta) -> dict[str, int]:
    out = {}
    for i, name in enumerate(meta.counters):
        raw = obj.lookup(meta.maps["counters"], struct.pack("<I", i), 8)
        out[name] = struct.unpack("<Q", raw)[0] if raw else 0
    return out


def _summary(meta: Meta, counters: dict[str, int], reports: list[Report], fmt: str) -> str:
    by = {d: sum(1 for r in reports if r.detected_by == d) for d in meta.detectors}
    if fmt == "jsonl":
        return json.dumps(
            {"type": "summary", "model": meta.model, "counters": counters, "detected_by": by},
            sort_keys=True,
        )
    detail = ", ".join(f"{n} by {d}" for d, n in by.items())
    return (
        f"{meta.model}: {counters['started']} started, {counters['stopped']} within budget, "
        f"{counters['violations']} violated ({detail}), "
        f"{counters['exited_in_window']} exited inside a window, "
        f"{counters['already_monitoring']} nested starts ignored, "
        f"{counters['no_timer_slot']} without a timer slot (--max-tasks), "
        f"{counters['report_dropped']} reports dropped"
    )
