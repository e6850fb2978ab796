"""The `hamodel check` subcommand: argv -> reports on stdout -> exit code.

Exit: 0 no errors; 1 errors found, or a --reach/--violate answer is "no";
2 unreadable model or bad usage; 3 the analysis did not finish (--timeout).
"""

from __future__ import annotations

import argparse
import math
import re
import sys

from hamodel.check import Options, Report, check_automaton
from hamodel.check.codes import INCOMPLETE
from hamodel.check.report import render_json, render_sarif, render_text
from hamodel.diagnostics import has_errors
from hamodel.load import SOURCES, load_model
from hamodel.ltl.load import is_ltl
from hamodel.platform_options import add_platform_options, platform_choice

MONITOR_TYPES = ("global", "per_cpu", "per_task", "per_obj")

EXIT_OK, EXIT_FOUND, EXIT_BAD_INPUT, EXIT_INCOMPLETE = 0, 1, 2, 3

_PARAM = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=([0-9]+)$")


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "check",
        help="verify models: structure, determinism, timed reachability (Z3, zones)",
        description="Check models against the kernel's timed semantics; every timed verdict"
        " comes with a concrete trace replayed by hamodel.semantics.",
    )
    p.add_argument("models", nargs="*", metavar="MODEL", help="the .dot models and .ltl specs")
    p.add_argument("--kernel-tree", metavar="DIR",
                   help="check a kernel source tree: every model under tools/verification/models/,"
                   " its drift from the in-tree monitor, and the monitors' Makefile, Kconfig and"
                   " rv_trace.h lines (docs/kernel-tree.md)")
    p.add_argument("--changed-since", metavar="REV",
                   help="with --kernel-tree: only what differs from git revision REV")
    p.add_argument("--reach", action="append", default=[], metavar="STATE",
                   help="is STATE reachable? (shortest witness; repeatable)")
    p.add_argument("--violate", action="store_true",
                   help="can the monitor report a violation? (shortest witness)")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="fix a symbolic bound to a positive integer in its unit (repeatable)")
    p.add_argument("--format", choices=("text", "json", "sarif"), default="text")
    p.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS",
                   help="time budget per model for exploration and each solver query")
    p.add_argument("--hz", type=int, default=250, help="kernel HZ for jiffy clocks")
    add_platform_options(p, tie_default=None)
    p.add_argument("-t", "--type", choices=MONITOR_TYPES,
                   help="the monitor type it will be generated as (as gen -t): global and"
                        " per_cpu monitors with clocks are reported (HA127)")
    p.set_defaults(func=run)


def _params(items: list[str]) -> dict[str, int] | str:
    out: dict[str, int] = {}
    for item in items:
        m = _PARAM.match(item)
        if not m or int(m.group(2)) < 1:
            return f"--param {item!r}: expected NAME=VALUE with a positive integer VALUE"
        if m.group(1) in out:
            return f"--param {item!r}: {m.group(1)} is given twice"
        out[m.group(1)] = int(m.group(2))
    return out


def _internal_error(path: str, diags: list, exc: Exception) -> Report:
    from hamodel.check.timed import Finding
    from hamodel.diagnostics import error

    message = (
        f"internal error in the checker ({type(exc).__name__}: {exc}); the analysis is"
        " incomplete, please report it with the model"
    )
    findings = tuple(Finding(d) for d in diags) + (Finding(error(INCOMPLETE, message, None)),)
    return Report(path, findings, incomplete=True)


def run(args: argparse.Namespace) -> int:
    params = _params(args.param)
    if isinstance(params, str):
        print(f"hamodel check: {params}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if not (math.isfinite(args.timeout) and 0 < args.timeout <= 86_400) or not (
            0 < args.hz <= 100_000):
        print("hamodel check: --timeout must be a number of seconds in (0, 86400],"
              " --hz an integer in 1..100000", file=sys.stderr)
        return EXIT_BAD_INPUT
    choice = platform_choice(args)
    if isinstance(choice, str):
        print(f"hamodel check: {choice}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.kernel_tree is not None or args.changed_since is not None:
        return _run_tree(args, params)
    if not args.models:
        print("hamodel check: give MODEL... or --kernel-tree DIR", file=sys.stderr)
        return EXIT_BAD_INPUT
    reports: list[Report] = []
    unreadable = False
    known_params: set[str] = set()
    known_states: set[str] = set()
    for path in args.models:
        if is_ltl(path):  # an LTL spec: hamodel/ltl/check.py; --violate applies to it too
            from hamodel.ltl.cli import check_file

            report, readable = check_file(path, args.violate)
            reports.append(report)
            unreadable |= not readable
            continue
        a, diags = load_model(path)
        if a is None:
            unreadable = True
            from hamodel.check.timed import Finding

            reports.append(Report(path, tuple(Finding(d) for d in diags)))
            continue
        known_params |= {p.name for p in a.parameters}
        states = {s.name for s in a.states}
        known_states |= states
        mine = {k: v for k, v in params.items() if k in {p.name for p in a.parameters}}
        # A --reach state is asked of the models that have it.
        reach = tuple(r for r in args.reach if r in states)
        options = Options(mine, args.timeout, reach, args.violate, args.hz, choice.timer,
                          choice.tie, choice.latency_ns, args.type)
        try:
            reports.append(check_automaton(a, options, diags))
        except Exception as exc:  # a checker bug must still end in a clear message
            reports.append(_internal_error(path, diags, exc))
    unknown = sorted(set(params) - known_params)
    if unknown and not unreadable:
        print(f"hamodel check: --param {unknown[0]}: no model has this parameter",
              file=sys.stderr)
        return EXIT_BAD_INPUT
    missing = [r for r in args.reach if r not in known_states]
    if missing and not unreadable:
        print(f"hamodel check: --reach {missing[0]}: no model has this state", file=sys.stderr)
        return EXIT_BAD_INPUT
    _write(args.format, reports)
    if unreadable:
        return EXIT_BAD_INPUT
    return _status(reports)


def _write(fmt: str, reports: list[Report]) -> None:
    if fmt == "json":
        sys.stdout.write(render_json(reports))
    elif fmt == "sarif":
        sys.stdout.write(render_sarif(reports))
    else:
        sys.stdout.write(render_text(reports, SOURCES))


def _run_tree(args: argparse.Namespace, params: dict[str, int]) -> int:
    """`--kernel-tree DIR`: model findings are the tree's findings (exit 1), not bad input."""
    from hamodel.tree.command import check_tree, note_skipped
    from hamodel.tree.layout import TreeError

    if args.kernel_tree is None:
        print("hamodel check: --changed-since needs --kernel-tree DIR", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.models:
        print("hamodel check: --kernel-tree DIR takes no MODEL arguments", file=sys.stderr)
        return EXIT_BAD_INPUT
    options = Options(params, args.timeout, tuple(args.reach), args.violate, args.hz)
    try:
        result = check_tree(args.kernel_tree, options, args.changed_since)
    except TreeError as exc:
        print(f"hamodel check: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    _write(args.format, list(result.reports))
    note_skipped(result)
    return _status(list(result.reports))


def _status(reports: list[Report]) -> int:
    if any(r.incomplete for r in reports):
        return EXIT_INCOMPLETE
    if any(has_errors(f.diagnostic for f in r.findings) for r in reports):
        return EXIT_FOUND
    if any(not answer for r in reports for _, answer in r.queries):
        return EXIT_FOUND
    return EXIT_OK
