"""rvgen's command-line workflow on hamodel: `gen -a/-c/-s` and `hamodel container`.

`gen --target kernel-c` takes rvgen's flags where they mean the same thing
(docs/rvgen.md has them side by side): `-s SPEC` beside the positional model,
`-c da|ha` as a check of what the model is, `-a` to write the monitor into a
kernel tree and wire it in, and the checklist rvgen prints when not patching.
`hamodel container -n NAME` writes rvgen's container monitor.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hamodel.model import Automaton
from hamodel.output import write_atomic, write_tree
from hamodel.tree.layout import RV_DIR
from hamodel.tree.patch import PatchError, Wiring, checklist, find_tree, wiring_edits

EXIT_OK, EXIT_BAD_INPUT = 0, 2
CLASSES = ("da", "ha", "ltl")


def add_gen_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("-s", "--spec", metavar="SPEC", help="the model (rvgen's spelling of MODEL)")
    p.add_argument("-c", "--class", dest="monitor_class", metavar="da|ha",
                   help="what the model must be: da (no envs) or ha (clocks or envs)")
    p.add_argument("-a", "--auto-patch", "--auto_patch", dest="auto_patch", action="store_true",
                   help="kernel-c: write into the kernel tree's kernel/trace/rv/monitors/NAME/ and"
                   " add it to its Makefile, Kconfig and rv_trace.h")
    p.add_argument("--kernel-tree", metavar="DIR",
                   help="with -a: the kernel tree (default: the current directory, else ../..)")


def model_paths(args: argparse.Namespace) -> list[str] | None:
    """The models: MODEL... or -s SPEC (rvgen's one model); prints why not and returns
    None."""
    if args.spec and args.models and args.models != [args.spec]:
        print("hamodel gen: give the model once, as MODEL or as -s SPEC", file=sys.stderr)
        return None
    paths = list(args.models) or ([args.spec] if args.spec else [])
    if not paths:
        print("hamodel gen: which model? give MODEL (or -s SPEC)", file=sys.stderr)
        return None
    return paths


def check_usage(args: argparse.Namespace) -> str | None:
    """Flag combinations that cannot work, found before anything is read."""
    if args.monitor_class is not None and args.monitor_class not in CLASSES:
        return f"-c {args.monitor_class!r}: expected da or ha"
    if args.monitor_class == "ltl":
        return "-c ltl: hamodel reads no LTL specification yet (rvgen's ltl2k does)"
    if (args.auto_patch or args.kernel_tree) and args.target != "kernel-c":
        return "-a and --kernel-tree write a kernel monitor: use them with --target kernel-c"
    if args.kernel_tree and not args.auto_patch:
        return "--kernel-tree says where -a patches: add -a"
    if args.auto_patch and args.output:
        return "-a writes into the kernel tree (kernel/trace/rv/monitors/NAME): drop -o"
    return None


def check_class(args: argparse.Namespace, a: Automaton) -> str | None:
    if args.monitor_class == "da" and a.is_hybrid:
        envs = ", ".join(e.name for e in a.envs)
        return (f"-c da, but {a.file} is a hybrid automaton (envs: {envs}):"
                " use -c ha, or drop -c")
    if args.monitor_class == "ha" and not a.is_hybrid:
        return (f"-c ha, but {a.file} has no clock or env: it is a deterministic automaton;"
                " use -c da, or drop -c")
    return None


def kernel_checklist(name: str, trace_class: str | None, parent: str | None,
                     kunit: tuple[str, tuple[str, ...]] | None, out: str) -> list[str]:
    """What is left to wire a monitor written to `out` into a kernel tree by hand."""
    return checklist(Wiring(name, parent, trace_class, False, kunit), out, None, "")


def write_kernel_monitor(args: argparse.Namespace, name: str, files: dict[str, str],
                         trace_class: str | None, parent: str | None,
                         container: bool = False,
                         kunit: tuple[str, tuple[str, ...]] | None = None) -> int:
    """Write the files (into the tree with -a, wiring it in) and print the checklist;
    `kunit`: the monitor's lines in rv_monitors_test.c."""
    wiring = Wiring(name, parent, trace_class, container, kunit)
    if not args.auto_patch:
        out = args.output or name
        write_tree(out, files)
        for rel in sorted(files):
            print(f"wrote {out.rstrip('/')}/{rel}")
        print("\n".join(checklist(wiring, out, None, "")))
        return EXIT_OK
    try:
        root = find_tree(args.kernel_tree, Path.cwd())
        edits = wiring_edits(root, wiring)
    except PatchError as exc:
        print(f"hamodel {args.command}: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    monitor_dir = root / RV_DIR / "monitors" / name
    write_tree(monitor_dir, files)
    for rel in sorted(files):
        print(f"wrote {monitor_dir / rel}")
    for e in edits:
        if e.changed:
            write_atomic(root / e.rel, e.after)
    print("\n".join(checklist(wiring, "", edits, str(monitor_dir))))
    return EXIT_OK


# --- hamodel container ------------------------------------------------------------------


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "container", help="generate a container monitor (rvgen container)",
        description="Write rvgen's container monitor: NAME.c, NAME.h and Kconfig; monitors"
        " generated with -p NAME nest in it.")
    p.add_argument("-n", "--name", "--model_name", dest="name", required=True,
                   help="container name")
    p.add_argument("-D", "--description", help="container description")
    p.add_argument("-o", "--output", help="output folder (default: ./NAME)")
    p.add_argument("-a", "--auto-patch", "--auto_patch", dest="auto_patch", action="store_true",
                   help="write into the kernel tree and add it to Makefile and Kconfig")
    p.add_argument("--kernel-tree", metavar="DIR",
                   help="with -a: the kernel tree (default: the current directory, else ../..)")
    p.set_defaults(func=run_container)


def run_container(args: argparse.Namespace) -> int:
    from hamodel.diagnostics import render_text
    from hamodel.gen import GenError
    from hamodel.gen.container import generate_container

    if args.kernel_tree and not args.auto_patch:
        print("hamodel container: --kernel-tree says where -a patches: add -a", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.auto_patch and args.output:
        print("hamodel container: -a writes into the kernel tree: drop -o", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        files = generate_container(args.name, args.description)
    except GenError as err:
        for d in err.diagnostics:
            print(render_text(d), file=sys.stderr)
        return EXIT_BAD_INPUT
    return write_kernel_monitor(args, args.name, files, None, None, container=True)
