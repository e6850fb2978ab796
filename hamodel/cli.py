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
import os
import signal
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

from hamodel import __version__, signals

if TYPE_CHECKING:  # the modules behind these are imported by the commands that use them
    from hamodel.diagnostics import Diagnostic
    from hamodel.model import Automaton

EXIT_OK, EXIT_FOUND, EXIT_BAD_INPUT, EXIT_INCOMPLETE = 0, 1, 2, 3

# Subcommands kept in their own modules (command -> module, the help line of
# `hamodel --help`): each module has add_parser(subparsers), which registers
# the command with this same help line, and sets `func` through set_defaults.
# Only the module of the command being run is imported: `hamodel --help` and
# the other commands do not pay for Z3, Jinja or libbpf's bindings.
# tests/test_cli.py checks that each help line here is the module's own.
PLUGIN_COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("hamodel.bpf.cli", "run a model as an eBPF monitor on a live program (root)"),
    "replay": ("hamodel.replay",
               "replay a recorded trace (JSON lines or ftrace text) through the model"),
    "check": ("hamodel.check.command",
              "verify models: structure, determinism, timed reachability (Z3, zones)"),
    "export": ("hamodel.export.command",
               "write the model for another tool (TChecker), with the kernel's semantics"),
    "container": ("hamodel.tree.rvgen_cli", "generate a container monitor (rvgen container)"),
}
PLUGINS: tuple[str, ...] = tuple(dict.fromkeys(m for m, _ in PLUGIN_COMMANDS.values()))


SHOWN_PER_CODE = 20  # diagnostics of one code and severity printed; the rest are counted


def print_diagnostics(diags: Sequence[Diagnostic], stream=None) -> None:
    """Render each diagnostic; past SHOWN_PER_CODE of one kind, one line counts the rest
    (a flood of repeated statements must not become a flood of text)."""
    from hamodel import diagnostics as dg
    from hamodel.load import SOURCES

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
    from hamodel.load import load_model

    automaton, diags = load_model(path, name)
    print_diagnostics(diags)
    return automaton


# --- show -------------------------------------------------------------------------


def model_json(a: Automaton) -> dict:
    from hamodel.fmt import guard_text, invariant_text

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
    from hamodel.fmt import edge_line_text, invariant_text

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
    from hamodel.fmt import format_dot
    from hamodel.output import write_atomic

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
    from hamodel.output import write_atomic

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


class Planned(NamedTuple):
    """One model's generated files, before anything is written."""

    path: str
    name: str  # the monitor's name: its folder, unless -o says otherwise
    files: dict[str, str]
    notes: tuple[str, ...]  # what is left for the user to write
    # kernel-c: (trace class, parent, its lines in rv_monitors_test.c)
    kernel: tuple[str | None, str | None, tuple[str, tuple[str, ...]] | None] | None


def cmd_gen(args: argparse.Namespace) -> int:
    from hamodel.gen import TARGETS
    from hamodel.tree import rvgen_cli

    if args.target not in TARGETS:
        known = ", ".join(sorted(TARGETS)) or "none"
        print(f"hamodel gen: unknown target {args.target!r} (expected one of: {known})",
              file=sys.stderr)
        return EXIT_BAD_INPUT
    problem = rvgen_cli.check_usage(args) or _several_models_usage(args)
    paths = rvgen_cli.model_paths(args) if problem is None else None
    if problem is not None or paths is None:
        if problem:
            print(f"hamodel gen: {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT
    # Every model is generated before anything is written: one that fails leaves
    # every output as it was.
    planned = [_plan(args, path) for path in paths]
    if any(p is None for p in planned):
        return EXIT_BAD_INPUT
    ready = [p for p in planned if p is not None]
    if args.auto_patch:
        return _patch_each(args, ready)
    outs = [_output_folder(args, p) for p in ready]
    clash = _first_clash(outs)
    if clash is not None:
        print(f"hamodel gen: two monitors would be written to {clash}: give them different "
              "names (-n for one model)", file=sys.stderr)
        return EXIT_BAD_INPUT
    from hamodel.output import write_trees

    write_trees({out: p.files for out, p in zip(outs, ready, strict=True)})
    for out, p in zip(outs, ready, strict=True):
        for rel in sorted(p.files):
            print(f"wrote {out.rstrip('/')}/{rel}")
        if p.kernel is not None:
            print("\n".join(rvgen_cli.kernel_checklist(p.name, *p.kernel, out)))
        sys.stdout.writelines(f"{n}\n" for n in p.notes)
    return EXIT_OK


def _several_models_usage(args: argparse.Namespace) -> str | None:
    """Options that name one monitor, given with several models; binding options that
    contradict each other."""
    if args.binding_dir and (args.binding or args.no_binding):
        flag = "--binding" if args.binding else "--no-binding"
        return f"{flag} and --binding-dir both say where bindings come from: give one"
    for folder in args.binding_dir:
        if not os.path.isdir(folder):  # a mistyped folder would mean bindings silently missed
            return f"--binding-dir {folder}: not a folder"
    if len(args.models) < 2:
        return None
    for given, flag in ((args.output, "-o"), (args.name, "-n"), (args.binding, "--binding")):
        if given:
            hint = " (use --into DIR: each monitor in DIR/NAME)" if flag == "-o" else ""
            return f"{flag} is about one monitor, and {len(args.models)} models were given{hint}"
    return None


def _output_folder(args: argparse.Namespace, p: Planned) -> str:
    if args.output:
        return args.output
    if args.into:
        return f"{args.into.rstrip('/') or '/'}/{p.name}".replace("//", "/")
    return p.name


def _first_clash(outs: list[str]) -> str | None:
    seen: set[str] = set()
    for out in outs:
        where = os.path.abspath(out)
        if where in seen:
            return out
        seen.add(where)
    return None


def _plan(args: argparse.Namespace, path: str) -> Planned | None:
    """Generate one model's files (printing its diagnostics); None when it cannot be."""
    from hamodel import diagnostics as dg
    from hamodel.binding import find_binding, load_binding
    from hamodel.gen import GenError, GenOptions, target_module
    from hamodel.tree import rvgen_cli

    given = args.binding or _binding_in_dirs(path, args.binding_dir)
    if ltl := _ltl_cli(path):
        plan = ltl.plan_gen(args, path, given)
        return None if plan is None else Planned(path, *plan, kernel=None)
    a = load_or_report(path, args.name)
    if a is None:
        return None
    problem = rvgen_cli.check_class(args, a)
    if problem is not None:
        print(f"hamodel gen: {problem}", file=sys.stderr)
        return None
    if args.no_binding:
        binding, diags = None, []
    elif given:
        binding, diags = load_binding(given, a)
    else:
        binding, diags = find_binding(path, a)
    print_diagnostics(diags)
    if dg.has_errors(diags):
        return None
    options = GenOptions(
        model_path=path,
        binding=binding,
        monitor_type=args.type,
        name=args.name,
        parent=args.parent,
        description=args.description,
    )
    module = target_module(args.target)
    try:
        files = module.generate(a, options)
    except GenError as err:
        print_diagnostics(err.diagnostics)
        return None
    notes = tuple(getattr(module, "notes", lambda *_: ())(a, options))
    if args.target != "kernel-c":
        return Planned(path, a.name, files, notes, None)
    from hamodel.gen import kernel_kunit
    from hamodel.gen.kernel_c import build_view

    view = build_view(a, options)
    kunit = kernel_kunit.monitors_test_lines(view.kunit)
    return Planned(path, view.name, files, notes, (view.class_type, view.parent, kunit))


def _binding_in_dirs(model: str, dirs: list[str]) -> str | None:
    """MODEL's binding (its NAME.binding.toml) in the first of `dirs` that has one."""
    from hamodel.binding import binding_path

    name = binding_path(model).name
    for folder in dirs:
        candidate = f"{folder.rstrip('/') or '/'}/{name}"
        if os.path.isfile(candidate):
            return candidate
    return None


def _patch_each(args: argparse.Namespace, ready: list[Planned]) -> int:
    """-a: each monitor written into the kernel tree and wired in, in turn."""
    from hamodel.output import write_tree
    from hamodel.tree import rvgen_cli

    for p in ready:
        if p.kernel is None:  # an LTL monitor: its folder, as without -a
            out = _output_folder(args, p)
            write_tree(out, p.files)
            for rel in sorted(p.files):
                print(f"wrote {out.rstrip('/')}/{rel}")
        else:
            trace_class, parent, kunit = p.kernel
            status = rvgen_cli.write_kernel_monitor(args, p.name, p.files, trace_class,
                                                    parent, kunit=kunit)
            if status != EXIT_OK:
                return status
        sys.stdout.writelines(f"{n}\n" for n in p.notes)
    return EXIT_OK


# --- the parser --------------------------------------------------------------------


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The command line with `command`'s arguments; every other command is listed by
    its name and help line only, without importing its module."""
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
    if command == "gen":
        _gen_args(p)
    for name, (module, help_line) in PLUGIN_COMMANDS.items():
        if name == command:
            before = set(sub.choices)
            importlib.import_module(module).add_parser(sub)
            if name not in sub.choices or before == set(sub.choices):
                raise RuntimeError(f"{module} registered no command {name!r}")
        elif name not in sub.choices:
            sub.add_parser(name, help=help_line, add_help=False)
    return parser


def _gen_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("models", metavar="MODEL", nargs="*",
                   help="the .dot models or .ltl specs (or -s SPEC)")
    p.add_argument("-n", "--name", "--model_name", dest="name",
                   help="monitor name (default: the file's stem)")
    p.add_argument("--target", required=True, help="what to generate")
    out = p.add_mutually_exclusive_group()
    out.add_argument("-o", "--output", help="output folder (default: ./NAME)")
    out.add_argument("--into", metavar="DIR",
                     help="write each monitor into DIR/NAME (several models in one run)")
    p.add_argument("-t", "--type", "--monitor_type", dest="type",
                   help="monitor type: global, per_cpu, per_task, per_obj")
    p.add_argument("-p", "--parent", help="parent container monitor")
    p.add_argument("-D", "--description", help="monitor description")
    from hamodel.tree.rvgen_cli import add_gen_flags

    add_gen_flags(p)
    bind = p.add_mutually_exclusive_group()
    bind.add_argument("--binding", help="binding file (default: MODEL's .binding.toml)")
    bind.add_argument("--no-binding", action="store_true", help="ignore any binding")
    p.add_argument("--binding-dir", action="append", default=[], metavar="DIR",
                   help="look for each MODEL's NAME.binding.toml in DIR first (repeatable;"
                   " else the one beside the model)")
    p.set_defaults(func=cmd_gen)


def chosen_command(argv: Sequence[str]) -> str | None:
    """The command word of `argv` (the first argument that is not an option): the
    top-level options take no value, so it is the first word without a dash."""
    for word in argv:
        if word == "--":
            return None
        if not word.startswith("-"):
            return word
    return None


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(chosen_command(argv))
    args = parser.parse_args(argv)
    from hamodel.output import OutputError

    try:
        return args.func(args)
    except KeyboardInterrupt as exc:  # SIGINT, or SIGTERM through hamodel.signals
        print(f"hamodel {args.command}: {signals.describe(exc)}", file=sys.stderr)
        return signals.exit_status(exc)
    except BrokenPipeError:
        # The reader of stdout went away (`| head`): end quietly, but not with "no
        # findings" when findings may have gone unread; a C program would have been
        # killed by SIGPIPE, and the shell's pipefail sees the same status from us.
        return 128 + signal.SIGPIPE
    except OutputError as exc:  # an output that cannot be written: a usage problem
        unchanged = exc.note or "nothing was changed"
        print(f"hamodel {args.command}: cannot write {exc.path}: {exc.reason} ({unchanged})",
              file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as exc:
        # Inputs are read and reported by the commands themselves, so an OSError that
        # gets here comes from writing, unless the exception names what it was doing.
        doing = getattr(exc, "doing", "write")
        where = f" {exc.filename}" if exc.filename else ""
        print(f"hamodel {args.command}: cannot {doing}{where}: {exc.strerror or exc}",
              file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
