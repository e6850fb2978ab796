"""grammar/*.lark -> Lark LALR parsers, loaded from tables made at build time.

Building the LALR automaton of a grammar takes Lark tens of milliseconds, and
every command that reads a model needs two of them: paid at each start, that
was most of `hamodel show`.  So `python -m hamodel.gen.regenerate` writes each
parser's tables once, as Python data, into hamodel/lalr_tables/<grammar>.py,
and `parser` loads them (a few milliseconds) when they were made from this
grammar text with these options by this Lark version; otherwise it builds the
parser from the grammar, which is slower and never wrong.
tests/test_lalr.py fails when a table module no longer matches its grammar
and checks that both ways parse alike.

Input: a grammar's name (its file in grammar/); output: a `lark.Lark`.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import os
import subprocess
import sys
from pathlib import Path

from lark import Lark
from lark import __version__ as LARK_VERSION

# The parsers hamodel uses: grammar file stem -> Lark options.
GRAMMARS: dict[str, dict[str, object]] = {
    "hadot": {"parser": "lalr", "propagate_positions": True},
    "label": {"parser": "lalr", "propagate_positions": True,
              "start": ["state_label", "edge_label", "init_label"]},
    "ltl": {"parser": "lalr", "lexer": "basic", "propagate_positions": True},
}
TABLES_PACKAGE = "hamodel.lalr_tables"


def grammar_dir() -> Path:
    """hamodel/grammar when installed (pyproject.toml puts it there); in a source
    checkout or an editable install, grammar/ beside the package."""
    package = Path(__file__).resolve().parent
    installed = package / "grammar"
    return installed if installed.is_dir() else package.parent / "grammar"


def grammar_key(name: str) -> str:
    """What a table module must have been made from: the grammar text and options."""
    text = (grammar_dir() / f"{name}.lark").read_bytes()
    options = repr(sorted(GRAMMARS[name].items())).encode()
    return hashlib.sha256(text + b"\0" + options).hexdigest()


class GrammarUnreadable(OSError):
    """A grammar file of hamodel itself is missing or unreadable: a broken checkout or
    installation, not a problem of the user's input."""

    doing = "read its own grammar"


def build(name: str) -> Lark:
    """The parser built from the grammar file (what the tables stand for)."""
    path = grammar_dir() / f"{name}.lark"
    try:
        return Lark.open(str(path), **GRAMMARS[name])
    except OSError as exc:
        raise GrammarUnreadable(exc.errno, exc.strerror, exc.filename or str(path)) from exc


@functools.cache
def parser(name: str) -> Lark:
    """The parser of grammar `name`: from its tables when they are current, else built."""
    try:
        tables = loaded_tables(name)
        if tables is not None:
            return Lark.load({"data": tables.DATA, "memo": tables.MEMO})
    except Exception:  # noqa: BLE001 (a damaged table module: the grammar still holds)
        pass
    return build(name)


def loaded_tables(name: str):
    """The table module of `name` when it matches the grammar and this Lark, else None
    (a module that cannot be imported or lacks its keys raises)."""
    try:
        tables = importlib.import_module(f"{TABLES_PACKAGE}.{name}")
    except ModuleNotFoundError:
        return None
    if tables.GRAMMAR_KEY != grammar_key(name) or tables.LARK_VERSION != LARK_VERSION:
        return None
    return tables


# --- making the tables (python -m hamodel.gen.regenerate) -------------------------------


def table_module_text(name: str) -> str:
    """The source of hamodel/lalr_tables/<name>.py.

    Lark numbers its LALR states in the order it walks sets, which follows the
    string hash: the tables are made in a child process with a fixed
    PYTHONHASHSEED, so the text is the same at every regeneration."""
    root = Path(__file__).resolve().parent.parent
    env = dict(os.environ, PYTHONHASHSEED="0", PYTHONPATH=str(root))
    done = subprocess.run([sys.executable, "-m", "hamodel.lalr", name], env=env,
                          capture_output=True, text=True, check=True)
    return done.stdout


def _serialized(name: str) -> str:
    import pprint  # noqa: PLC0415 (only when the tables are made)

    from lark.grammar import Rule  # noqa: PLC0415
    from lark.lexer import TerminalDef  # noqa: PLC0415

    data, memo = build(name).memo_serialize([TerminalDef, Rule])
    data["parser"]["parser"] = _canonical_table(data["parser"]["parser"])
    return (
        f'"""LALR tables of grammar/{name}.lark for Lark {LARK_VERSION} (hamodel/lalr.py).\n\n'
        'Made by `python -m hamodel.gen.regenerate`; do not edit.\n"""\n\n'
        f"GRAMMAR_KEY = {grammar_key(name)!r}\n"
        f"LARK_VERSION = {LARK_VERSION!r}\n"
        f"DATA = {pprint.pformat(data, width=100)}\n"
        f"MEMO = {pprint.pformat(memo, width=100)}\n"
    )


def _canonical_table(table: dict) -> dict:
    """The serialized LALR table with its states numbered in breadth-first order from
    the start states and its tokens by name: Lark numbers both in the order it met
    them, which changes from run to run."""
    names = table["tokens"]  # index -> token name
    states = table["states"]  # state -> {token index: (0 shift | 1 reduce, argument)}

    def by_name(actions: dict) -> list:
        return sorted(actions.items(), key=lambda item: names[item[0]])

    order: dict[int, int] = {}
    queue = [table["start_states"][start] for start in sorted(table["start_states"])]
    for state in queue:
        order.setdefault(state, len(order))
    for state in queue:  # grows while it is walked
        for _, (action, arg) in by_name(states[state]):
            if action == 0 and arg not in order:
                order[arg] = len(order)
                queue.append(arg)
    for state in sorted(states):  # none is unreachable in an LALR table; kept if one were
        order.setdefault(state, len(order))
    token = {name: i for i, name in enumerate(sorted(set(names.values())))}
    return {
        "tokens": {i: name for name, i in token.items()},
        "states": {
            order[state]: {token[names[t]]: (action, order[arg] if action == 0 else arg)
                           for t, (action, arg) in by_name(states[state])}
            for state in sorted(states, key=order.__getitem__)
        },
        "start_states": {k: order[v] for k, v in table["start_states"].items()},
        "end_states": {k: order[v] for k, v in table["end_states"].items()},
    }


if __name__ == "__main__":
    if os.environ.get("PYTHONHASHSEED") != "0":
        raise SystemExit("run through table_module_text (a fixed PYTHONHASHSEED)")
    sys.stdout.write(_serialized(sys.argv[1]))
