"""Command-line glue for `hamodel run`: arguments -> RunConfig -> exit status."""

from __future__ import annotations

import argparse

from hamodel.bpf.runner import RunConfig
from hamodel.bpf.runner import run as run_monitor


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "run",
        help="run a model as an eBPF monitor on a live program (root)",
        description=(
            "Generate, build, load and attach the model's eBPF monitor; print one line "
            "per violated window and a summary on Ctrl-C or after --duration."
        ),
    )
    p.add_argument("model", metavar="MODEL_OR_DIR", help="a .dot model or a generated ebpf dir")
    p.add_argument("--binary", required=True, help="the ELF program to probe")
    p.add_argument(
        "--start",
        action="append",
        required=True,
        metavar="SYM|0xOFF",
        help="where a window starts (repeat for more windows)",
    )
    p.add_argument(
        "--stop",
        action="append",
        required=True,
        metavar="SYM|0xOFF",
        help="where the window ends (one per --start)",
    )
    p.add_argument(
        "--budget",
        action="append",
        default=[],
        help="the window's budget, e.g. 5ms (one, or one per --start), for a model with a"
        " budget parameter (tlob's BUDGET_NS)",
    )
    p.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a model parameter for every window, e.g. LIMIT_NS=2ms (repeatable)",
    )
    p.add_argument("--pid", type=int, default=-1, help="only this process (default: all)")
    p.add_argument("--format", choices=("text", "jsonl"), default="text")
    p.add_argument("--duration", type=float, default=None, metavar="S", help="stop after S s")
    p.add_argument(
        "--max-tasks",
        type=int,
        default=1024,
        help="tasks inside a window at once that get a timer (default 1024)",
    )
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    return run_monitor(
        RunConfig(
            model=args.model,
            binary=args.binary,
            starts=tuple(args.start),
            stops=tuple(args.stop),
            budgets=tuple(args.budget),
            pid=args.pid,
            fmt=args.format,
            duration=args.duration,
            max_tasks=args.max_tasks,
            params=tuple(args.param),
        )
    )
