"""The `hamodel` command: the only module that prints or exits.

Exit codes shared by all subcommands: 0 success, 1 the model or trace was
judged and found wanting (check errors, violations), 2 input the tool cannot
read as a model or bad usage, 3 an incomplete answer (solver timeout, gaps in
a trace), 130 and 143 stopped by SIGINT and SIGTERM (hamodel/signals.py).
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Sequence

from hamodel import __version__, signals
from hamodel import diagnostics as dg
from hamodel.binding import find_binding, load_binding
from hamodel.diagnostics import Diagnostic
from hamodel.fmt import edge_line_text, format_dot, guard_text, invariant_text
from hamodel.load import SOURCES, load_model
from hamodel.model import Automaton
from hamodel.output import OutputError, write_atomic, write_tree

EXIT_OK, EXIT_FOUND, EXIT_BAD_INPUT, EXIT_INCOMPLETE = 0, 1, 2, 3

# Subcommands kept in their own modules: each has add_parser(subparsers) and
# run(args) -> int, and sets `func` through set_defaults.
PLUGINS: tuple[str, ...] = (
    "hamodel.bpf.cli",
    "hamodel.replay",
    "hamodel.check.command",
    "hamodel.export.command",
    "hamodel.tree.rvgen_cli",
)


SHOWN_PER_CODE = 20  # diagnostics of one code and severity printed; the rest are counted


def print_diagnostics(diags: Sequence[Diagnostic], stream=None) -> None:
    """Render each diagnostic; past SHOWN_PER_CODE of one kind, one line counts the rest
    (a flood of repeated statements must not become a flood of text)."""
    stream = stream or sys.stderr
    seen: dict[tuple[str, str], int] = {}
    for d in diags:
        kind = (d.code, d.severity.value)
        seen[kind] = seen.get(kind, 0) + 1
        if seen[kind] <= SHOWN_PER_CODE:
            print(dg.render_text(d, SOURCES), file=stream)
    for (code, severity), count in seen.items():
        if count > SHOWN_PER_CODE:
            print(f"hamodel: {count - SHOWN_PER_CODE} more {severity}s [{code}] not shown",
                  file=stream)


def load_or_report(path: str, name: str | None = None) -> Automaton | None:
    """Load a model, print its diagnostics; None when it has errors."""
    automaton, diags = load_model(path, name)
    print_diagnostics(diags)
    return automaton


# --- show -------------------------------------------------------------------------


def model_json(a: Automaton) -> dict:
    return {
        "name": a.name,
        "file": a.file,
        "states": [s.name for s in a.states],
        "initial": a.initial.name,
        "final": [s.name for s in a.final_states],
        "events": [e.name for e in a.events],
        "envs": [
            {
                "name": e.name,
                "clock": e.stored,
                "unit": e.clock_kind.value if e.clock_kind else None,
            }
            for e in a.envs
        ],
        "clocks": [c.name for c in a.clocks],
        "parameters": [
            {
                "name": p.name,
                "kind": p.kind.value,
                "unit": p.clock_kind.value if p.clock_kind else None,
            }
            for p in a.parameters
        ],
        "invariants": {s.name: invariant_text(s.invariant) for s in a.states if s.invariant},
        "init_resets": [r.env for r in a.init_resets],
        "transitions": [
            {
                "from": e.src,
                "event": e.event,
                "to": e.dst,
                "guard": guard_text(e.guard) if e.guard else None,
                "resets": list(e.reset_envs),
            }
            for e in a.edges
        ],
    }


def show_text(a: Automaton) -> str:
    kind = "hybrid automaton" if a.is_hybrid else "deterministic automaton"
    lines = [
        f"{a.name} ({a.file}): {kind}, {len(a.states)} states, {len(a.events)} events,"
        f" {len(a.clocks)} clock{'s' if len(a.clocks) != 1 else ''}",
        "states:",
    ]
    for s in a.states:
        tags = [t for t, on in (("initial", s.initial), ("final", s.final)) if on]
        inv = f"  invariant {invariant_text(s.invariant)}" if s.invariant else ""
        lines.append(f"  {s.name}{' (' + ', '.join(tags) + ')' if tags else ''}{inv}")
    lines.append("events: " + " ".join(e.name for e in a.events))
    for e in a.envs:
        what = "clock" if e.stored else "env value (read-only)"
        unit = f", {e.clock_kind.value}" if e.clock_kind else ""
        lines.append(f"{what}: {e.name}{unit}")
    for p in a.parameters:
        unit = f", {p.clock_kind.value}" if p.clock_kind else ""
        lines.append(f"parameter: {p.name} ({p.kind.value}{unit})")
    if a.init_resets:
        lines.append("on start: " + ";".join(f"reset({r.env})" for r in a.init_resets))
    lines.append("transitions:")
    width = max((len(e.src) for e in a.edges), default=0)
    for e in a.edges:
        extra = edge_line_text(e)[len(e.event):]
        lines.append(f"  {e.src:<{width}} --{e.event}{extra}--> {e.dst}")
    return "\n".join(lines) + "\n"


def _ltl_cli(path: str):
    """hamodel/ltl/cli.py when `path` is an LTL spec (`*.ltl`), else None."""
    from hamodel.ltl.load import is_ltl

    if not is_ltl(path):
        return None
    from hamodel.ltl import cli as ltl_cli

    return ltl_cli


def cmd_show(args: argparse.Namespace) -> int:
    if ltl := _ltl_cli(args.model):
        return ltl.show(args)
    a = load_or_report(args.model, args.name)
    if a is None:
        return EXIT_BAD_INPUT
    if args.json:
        print(json.dumps(model_json(a), indent=2))
    else:
        print(show_text(a), end="")
    return EXIT_OK


# --- fmt and draw --------------------------------------------------------------------


def cmd_fmt(args: argparse.Namespace) -> int:
    if _ltl_cli(args.model):
        print("hamodel fmt: formats .dot models; an .ltl spec is kept as written",
              file=sys.stderr)
        return EXIT_BAD_INPUT
    a = load_or_report(args.model, args.name)
    if a is None:
        return EXIT_BAD_INPUT
    text = format_dot(a)
    if args.in_place:
        write_atomic(args.model, text)
    elif args.output:
        write_atomic(args.output, text)
    else:
        sys.stdout.write(text)
    return EXIT_OK


def cmd_draw(args: argparse.Namespace) -> int:
    from hamodel.draw import FORMATS, render

    fmt = args.format or args.output.rsplit(".", 1)[-1].lower()
    if fmt not in FORMATS:
        print(f"hamodel draw: cannot tell the format of {args.output!r}"
              f" (expected one of {', '.join(FORMATS)})", file=sys.stderr)
        return EXIT_BAD_INPUT
    if ltl := _ltl_cli(args.model):
        return ltl.draw(args, fmt)
    a = load_or_report(args.model, args.name)
    if a is None:
        return EXIT_BAD_INPUT
    try:
        data = render(a, fmt)
    except Exception as exc:  # graphviz.ExecutableNotFound, CalledProcessError
        print(f"hamodel draw: graphviz failed: {exc} (is Debian's graphviz installed?)",
              file=sys.stderr)
        return EXIT_BAD_INPUT
    write_atomic(args.output, data)
    return EXIT_OK


# --- gen ---------------------------------------------------------------------------


def cmd_gen(args: argparse.Namespace) -> int:
    from hamodel.gen import TARGETS, GenError, GenOptions, target_module
    from hamodel.tree import rvgen_cli

    if args.target not in TARGETS:
        known = ", ".join(sorted(TARGETS)) or "none"
        print(f"hamodel gen: unknown target {args.target!r} (expected one of: {known})",
              file=sys.stderr)
        return EXIT_BAD_INPUT
    problem = rvgen_cli.check_usage(args)
    path = rvgen_cli.model_path(args) if problem is None else None
    if problem is not None or path is None:
        if problem:
            print(f"hamodel gen: {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if ltl := _ltl_cli(path):
        args.model = path
        return ltl.gen(args)
    a = load_or_report(path, args.name)
    if a is None:
        return EXIT_BAD_INPUT
    problem = rvgen_cli.check_class(args, a)
    if problem is not None:
        print(f"hamodel gen: {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.no_binding:
        binding, diags = None, []
    elif args.binding:
        binding, diags = load_binding(args.binding, a)
    else:
        binding, diags = find_binding(path, a)
    print_diagnostics(diags)
    if dg.has_errors(diags):
        return EXIT_BAD_INPUT
    options = GenOptions(
        model_path=path,
        binding=binding,
        monitor_type=args.type,
        name=args.name,
        parent=args.parent,
        description=args.description,
    )
    try:
        files = target_module(args.target).generate(a, options)
    except GenError as err:
        print_diagnostics(err.diagnostics)
        return EXIT_BAD_INPUT
    notes = getattr(target_module(args.target), "notes", lambda *_: ())  # what is left to write
    if args.target == "kernel-c":
        from hamodel.gen import kernel_kunit
        from hamodel.gen.kernel_c import build_view

        view = build_view(a, options)
        status = rvgen_cli.write_kernel_monitor(
            args, view.name, files, view.class_type, view.parent,
            kunit=kernel_kunit.monitors_test_lines(view.kunit))
        sys.stdout.writelines(f"{n}\n" for n in notes(a, options))
        return status
    out = args.output or a.name
    write_tree(out, files)
    for rel in sorted(files):
        print(f"wrote {out.rstrip('/')}/{rel}")
    sys.stdout.writelines(f"{n}\n" for n in notes(a, options))
    return EXIT_OK


# --- the parser --------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hamodel",
        description="Parse, check and generate Linux RV (hybrid) automaton monitors.",
    )
    parser.add_argument("--version", action="version", version=f"hamodel {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    def model_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("model", metavar="MODEL", help="the .dot model (or .ltl spec)")
        p.add_argument("-n", "--name", help="monitor name (default: the file's stem)")

    p = sub.add_parser("show", help="print states, events, clocks, guards and the table")
    model_args(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("fmt", help="re-emit the model in the kernel's canonical DOT layout")
    model_args(p)
    group = p.add_mutually_exclusive_group()
    group.add_argument("-o", "--output", help="write here instead of stdout")
    group.add_argument("-i", "--in-place", action="store_true", help="rewrite MODEL")
    p.set_defaults(func=cmd_fmt)

    p = sub.add_parser("draw", help="draw the automaton with graphviz")
    model_args(p)
    p.add_argument("-o", "--output", required=True, help="FILE.svg, FILE.png, FILE.pdf")
    p.add_argument("--format", help="override the format implied by the file name")
    p.set_defaults(func=cmd_draw)

    p = sub.add_parser("gen", help="generate a monitor (kernel C, eBPF or Python)")
    p.add_argument("model", metavar="MODEL", nargs="?", help="the .dot model (or -s SPEC)")
    p.add_argument("-n", "--name", "--model_name", dest="name",
                   help="monitor name (default: the file's stem)")
    p.add_argument("--target", required=True, help="what to generate")
    p.add_argument("-o", "--output", help="output folder (default: ./NAME)")
    p.add_argument("-t", "--type", "--monitor_type", dest="type",
                   help="monitor type: global, per_cpu, per_task, per_obj")
    p.add_argument("-p", "--parent", help="parent container monitor")
    p.add_argument("-D", "--description", help="monitor description")
    from hamodel.tree.rvgen_cli import add_gen_flags

    add_gen_flags(p)
    bind = p.add_mutually_exclusive_group()
    bind.add_argument("--binding", help="binding file (default: MODEL's .binding.toml)")
    bind.add_argument("--no-binding", action="store_true", help="ignore any binding")
    p.set_defaults(func=cmd_gen)

    for module in PLUGINS:
        importlib.import_module(module).add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt as exc:  # SIGINT, or SIGTERM through hamodel.signals
        print(f"hamodel {args.command}: {signals.describe(exc)}", file=sys.stderr)
        return signals.exit_status(exc)
    except BrokenPipeError:
        return EXIT_OK
    except OutputError as exc:  # an output that cannot be written: a usage problem
        unchanged = exc.note or "nothing was changed"
        print(f"hamodel {args.command}: cannot write {exc.path}: {exc.reason} ({unchanged})",
              file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as exc:
        where = f" {exc.filename}" if exc.filename else ""
        print(f"hamodel {args.command}: cannot write{where}: {exc.strerror or exc}",
              file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
