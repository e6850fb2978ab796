"""The `hamodel export` subcommand: argv -> a model in another tool's language -> exit code.

Exit: 0 written; 2 a model that cannot be read, built or expressed, or bad usage.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from hamodel import diagnostics as dg
from hamodel.check.command import _params
from hamodel.check.timing import Unsupported, platform_timer
from hamodel.diagnostics import Diagnostic, Severity
from hamodel.load import SOURCES, load_model
from hamodel.ltl.load import is_ltl
from hamodel.output import write_atomic
from hamodel.platform_options import add_platform_options, platform_choice
from hamodel.semantics import Platform, Tie

EXIT_OK, EXIT_BAD_INPUT = 0, 2


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "export",
        help="write the model for another tool (TChecker), with the kernel's semantics",
        description="Write the model as another tool's input, encoding what the kernel's RV"
        " framework does with it (docs/check.md, TChecker export).",
    )
    p.add_argument("model", metavar="MODEL", help="the .dot model")
    p.add_argument("--format", choices=("tchecker",), required=True,
                   help="tchecker: a timed automaton for tck-reach (one process)")
    p.add_argument("-o", "--output", metavar="FILE", help="write here (default: stdout)")
    p.add_argument("-n", "--name", help="monitor name (default: the file's stem)")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="the value of a symbolic bound in its unit (every parameter needs one)")
    p.add_argument("--hz", type=int, default=250, help="kernel HZ for jiffy clocks")
    add_platform_options(p, tie_default="event-first")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from hamodel.export.tchecker import ExportError, render, translate

    params = _params(args.param)
    choice = platform_choice(args)
    problem = params if isinstance(params, str) else choice if isinstance(choice, str) else (
        None if 0 < args.hz <= 100_000 else "--hz must be an integer in 1..100000")
    if problem is not None:
        print(f"hamodel export: {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT
    assert not isinstance(params, str) and not isinstance(choice, str)
    if is_ltl(args.model) and not Path(args.model).is_dir():
        print(f"hamodel export: {args.model} is an LTL spec; --format tchecker takes a"
              " .dot automaton", file=sys.stderr)
        return EXIT_BAD_INPUT
    a, diags = load_model(args.model, args.name)
    for d in diags:
        print(dg.render_text(d, SOURCES), file=sys.stderr)
    if a is None:
        return EXIT_BAD_INPUT
    unknown = sorted(set(params) - {p.name for p in a.parameters})
    if unknown:
        print(f"hamodel export: --param {unknown[0]}: the model has no such parameter",
              file=sys.stderr)
        return EXIT_BAD_INPUT
    base = Platform(hz=args.hz, timer=choice.timer, tie=choice.tie or Tie.EVENT_FIRST,
                    latency_ns=choice.latency_ns)
    platform = dataclasses.replace(base, timer=platform_timer(a, base))
    try:
        text = render(translate(a, params, platform))
    except (ExportError, Unsupported) as exc:
        if exc.span is None:
            print(f"hamodel export: {exc}", file=sys.stderr)
        else:
            from hamodel.export import codes

            code = (codes.CONSTANT_TOO_LARGE if isinstance(exc, ExportError)
                    else codes.NOT_EXPORTABLE)
            print(dg.render_text(Diagnostic(Severity.ERROR, code, str(exc), exc.span),
                                 SOURCES), file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.output:
        write_atomic(args.output, text)
    else:
        sys.stdout.write(text)
    return EXIT_OK
