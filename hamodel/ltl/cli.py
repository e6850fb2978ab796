"""The `hamodel` subcommands for `.ltl` specs: show, draw, gen, check (replay: replay.py).

hamodel/cli.py, hamodel/check/command.py and hamodel/replay.py hand a path
ending in `.ltl` to these functions; they print like their automaton
counterparts and return the same exit codes (0 ok, 1 findings, 2 bad input).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from hamodel import diagnostics as dg
from hamodel.check import Report
from hamodel.check.timed import Finding
from hamodel.diagnostics import Diagnostic
from hamodel.ltl.binding import LtlBinding, find_ltl_binding, load_ltl_binding
from hamodel.ltl.buchi import Buchi, BuchiTooLarge, build_buchi, label_text
from hamodel.ltl.check import check_spec
from hamodel.ltl.formula import LtlSpec, explicit
from hamodel.ltl.load import load_ltl
from hamodel.ltl.names import abbreviations
from hamodel.output import write_atomic

EXIT_OK, EXIT_FOUND, EXIT_BAD_INPUT, EXIT_INCOMPLETE = 0, 1, 2, 3


def _print(diags) -> None:
    from hamodel.cli import print_diagnostics

    print_diagnostics(diags)


def load_or_report(path: str, name: str | None = None) -> LtlSpec | None:
    spec, diags = load_ltl(path, name)
    _print(diags)
    return spec


def buchi_or_report(spec: LtlSpec) -> Buchi | None:
    try:
        return build_buchi(spec)
    except BuchiTooLarge as exc:
        print(f"{spec.file}: RULE needs {exc}; the kernel takes 32 (run `hamodel check`)",
              file=sys.stderr)
        return None


def binding_or_report(args: argparse.Namespace, spec: LtlSpec, path: str | None = None,
                      given: str | None = None) -> tuple[LtlBinding | None, bool]:
    """The binding (`given`, --binding, or the one beside the spec at `path`, by default
    args.model); False when it has errors."""
    if getattr(args, "no_binding", False):
        return None, True
    given = given or getattr(args, "binding", None)
    binding, diags = load_ltl_binding(given, spec) if given else find_ltl_binding(
        path or args.model, spec)
    _print(diags)
    return binding, not dg.has_errors(diags)


# --- show -------------------------------------------------------------------------------


def spec_json(spec: LtlSpec, b: Buchi) -> dict:
    return {
        "name": spec.name,
        "file": spec.file,
        "class": "ltl",
        "rule": explicit(spec.rule),
        "atoms": [{"name": a, "trace": t}
                  for a, t in zip(spec.atoms, abbreviations(spec.atoms), strict=True)],
        "states": [
            {
                "name": f"S{s.index}",
                "initial": s.initial,
                "label": label_text(b, s.index),
                "successors": [f"S{t}" for t in s.successors],
            }
            for s in b.states
        ],
    }


def show(args: argparse.Namespace) -> int:
    spec = load_or_report(args.model, args.name)
    b = buchi_or_report(spec) if spec else None
    if b is None:
        return EXIT_BAD_INPUT
    if args.json:
        print(json.dumps(spec_json(spec, b), indent=2))
        return EXIT_OK
    plural = "s" if len(b.states) != 1 else ""
    lines = [
        f"{spec.name} ({spec.file}): LTL, {len(spec.atoms)} atoms, {len(b.states)} Büchi"
        f" state{plural}",
        f"rule: {explicit(spec.rule)}",
        "atoms (trace name): " + " ".join(
            f"{a} ({t})" for a, t in zip(spec.atoms, abbreviations(spec.atoms), strict=True)),
        "states (enter when -> successors):",
    ]
    for s in b.states:
        tag = " (initial)" if s.initial else ""
        succ = " ".join(f"S{t}" for t in s.successors) or "none"
        lines.append(f"  S{s.index}{tag}: {label_text(b, s.index)} -> {succ}")
    print("\n".join(lines))
    return EXIT_OK


# --- draw -------------------------------------------------------------------------------


def draw(args: argparse.Namespace, fmt: str) -> int:
    from hamodel.ltl.draw import render

    spec = load_or_report(args.model, args.name)
    b = buchi_or_report(spec) if spec else None
    if b is None:
        return EXIT_BAD_INPUT
    try:
        data = render(b, fmt)
    except Exception as exc:  # graphviz.ExecutableNotFound, CalledProcessError
        print(f"hamodel draw: graphviz failed: {exc} (is Debian's graphviz installed?)",
              file=sys.stderr)
        return EXIT_BAD_INPUT
    write_atomic(args.output, data)
    return EXIT_OK


# --- gen --------------------------------------------------------------------------------


def plan_gen(args: argparse.Namespace, path: str, binding_file: str | None = None
             ) -> tuple[str, dict[str, str], tuple[str, ...]] | None:
    """`hamodel gen` of one spec: (monitor name, files, notes), nothing written yet;
    None (reported) when it cannot be generated."""
    from hamodel.gen import GenError, kernel_c_ltl

    if args.target != "kernel-c":
        print(f"hamodel gen: target {args.target!r} does not take LTL specs (LTL monitors are"
              " generated for kernel-c; `hamodel replay` runs the Python reference)",
              file=sys.stderr)
        return None
    spec = load_or_report(path, args.name)
    if spec is None:
        return None
    binding, ok = binding_or_report(args, spec, path, binding_file)
    if not ok:
        return None
    options = kernel_c_ltl.LtlOptions(
        model_path=path, binding=binding, monitor_type=args.type, parent=args.parent,
        description=args.description)
    try:
        files = kernel_c_ltl.generate(spec, options)
    except GenError as err:
        _print(err.diagnostics)
        return None
    return spec.name, files, tuple(kernel_c_ltl.notes(spec, options))


# --- check ------------------------------------------------------------------------------


def check_file(path: str, violate: bool) -> tuple[Report, bool]:
    """The Report of one spec for `hamodel check`, and whether it could be read."""
    spec, diags = load_ltl(path)
    return check_loaded(path, path, spec, diags, violate)


def check_loaded(name: str, path: str | Path, spec: LtlSpec | None, diags: list[Diagnostic],
                 violate: bool) -> tuple[Report, bool]:
    """check_file for a spec already read (`name`: as the report names it; `path`: where
    its binding may be)."""
    if spec is None:
        return Report(name, tuple(Finding(d) for d in diags)), False
    binding, bdiags = find_ltl_binding(path, spec)
    diags = diags + bdiags
    if dg.has_errors(bdiags):
        return Report(name, tuple(Finding(d) for d in diags)), False
    result = check_spec(spec, binding, violate)
    findings = sorted([Finding(d) for d in diags] + list(result.findings),
                      key=lambda f: dg.sort_key(f.diagnostic))
    queries = (("violate", bool(result.can_report)),) if violate and \
        result.can_report is not None else ()
    return Report(name, tuple(findings), result.incomplete, queries), True
