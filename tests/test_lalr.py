"""hamodel/lalr.py: the parsers come from tables made at build time, and those tables
are what Lark builds from grammar/*.lark today.

A grammar edited without `python -m hamodel.gen.regenerate` makes
test_the_tables_are_made_from_the_grammars_as_they_are fail (and the program
still right: it builds the parser from the grammar then).  The tables and a
parser built now must parse alike: same trees on every model of the corpus,
same errors on broken ones (lark's `examples/advanced/python_parser.py` compares
its Earley and LALR parsers the same way).
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys

import pytest
from conftest import ROOT
from lark import Token, Tree
from lark import __version__ as lark_version
from lark.exceptions import UnexpectedInput

from hamodel import lalr
from hamodel.gen.regenerate import stale_tables

DOT_FILES = sorted(ROOT.glob("models/**/*.dot")) + sorted(ROOT.glob("tests/**/*.dot"))
LTL_FILES = sorted(ROOT.glob("models/**/*.ltl")) + sorted(ROOT.glob("tests/**/*.ltl"))


def test_the_tables_are_made_from_the_grammars_as_they_are():
    assert stale_tables() == [], "run `python -m hamodel.gen.regenerate`"


def tables_or_skip(name: str):
    module = importlib.import_module(f"{lalr.TABLES_PACKAGE}.{name}")
    if module.LARK_VERSION != lark_version:
        pytest.skip(f"tables made by Lark {module.LARK_VERSION}, {lark_version} installed: "
                    "the parser is built from the grammar")
    return module


@pytest.mark.parametrize("name", sorted(lalr.GRAMMARS))
def test_the_parser_is_loaded_from_the_tables(name):
    tables_or_skip(name)
    assert lalr.loaded_tables(name) is not None
    assert lalr.parser(name).source_path == "<deserialized>"


def shape(node):
    """A tree as nested tuples: rule names, token types and values, every position."""
    if isinstance(node, Token):
        return node.type, str(node), node.line, node.column, node.end_line, node.end_column
    if isinstance(node, Tree):
        meta = node.meta
        where = (meta.line, meta.column, meta.end_line, meta.end_column) if not meta.empty \
            else None
        return node.data, where, tuple(shape(child) for child in node.children)
    return node  # None: an optional part that is absent


def outcome(parser, text: str, start: str | None = None):
    """The tree's shape, or the error's kind, place and expected terminals."""
    try:
        return shape(parser.parse(text, start=start) if start else parser.parse(text))
    except UnexpectedInput as err:
        expected = getattr(err, "expected", None) or getattr(err, "allowed", None) or ()
        return type(err).__name__, err.line, err.column, sorted(expected)


def broken(text: str) -> list[str]:
    """The text cut short at a few places, and with a stray character put in."""
    n = len(text)
    return [text[: n * k // 5] for k in range(1, 5)] + [
        text[: n // 2] + "@" + text[n // 2:], text.replace("{", "{{", 1)]


def test_the_dot_tables_parse_as_the_grammar_does():
    tables_or_skip("hadot")
    loaded, built = lalr.parser("hadot"), lalr.build("hadot")
    assert DOT_FILES
    for path in DOT_FILES:
        text = path.read_text(errors="replace")
        for variant in [text, *broken(text)]:
            assert outcome(loaded, variant) == outcome(built, variant), path


LABELS = [
    ("state_label", "running\\nclk_elapsed < BUDGET_NS"),
    ("state_label", "waiting\\nclk <= 5ms"),
    ("edge_label", "preempt;clk < 10us;reset(clk)\\nsleep"),
    ("edge_label", "e;!(a == 1 || b != 2) && c >= thr() ms;reset(x)"),
    ("init_label", "reset(clk_elapsed);reset(y)"),
    ("edge_label", "e;a < "),
    ("state_label", "s\\nclk == 5"),
    ("edge_label", "e;;reset(x)"),
    ("init_label", "reset(1)"),
]


@pytest.mark.parametrize("start,text", LABELS)
def test_the_label_tables_parse_as_the_grammar_does(start, text):
    tables_or_skip("label")
    assert outcome(lalr.parser("label"), text, start) == outcome(lalr.build("label"), text,
                                                                 start)


def test_the_ltl_tables_parse_as_the_grammar_does():
    tables_or_skip("ltl")
    loaded, built = lalr.parser("ltl"), lalr.build("ltl")
    assert LTL_FILES
    for path in LTL_FILES:
        text = path.read_text(errors="replace")
        for variant in [text, *broken(text)]:
            assert outcome(loaded, variant) == outcome(built, variant), path


def test_the_tables_do_not_depend_on_the_run():
    """Lark numbers states in the order it meets them; the tables are renumbered, so
    two regenerations write the same bytes whatever the caller's hash seed."""
    code = ("from hamodel import lalr; import hashlib;"
            "print(hashlib.sha256(lalr.table_module_text('label').encode()).hexdigest())")
    digests = set()
    for seed in ("1", "777"):
        env = dict(os.environ, PYTHONHASHSEED=seed, PYTHONPATH=str(ROOT))
        digests.add(subprocess.run([sys.executable, "-c", code], capture_output=True,
                                   text=True, env=env, check=True).stdout)
    assert len(digests) == 1
    assert digests == {subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT))).stdout}


@pytest.mark.parametrize("damage", ["syntax", "no key", "empty memo", "raises"])
def test_a_damaged_table_module_falls_back_to_the_grammar(monkeypatch, damage):
    """Found in review: a table module cut short or edited gave a traceback; the
    grammar is still there to build the parser from."""
    import types

    name = "hadot"
    real = importlib.import_module(f"{lalr.TABLES_PACKAGE}.{name}")
    fake = types.ModuleType(real.__name__)
    fake.__dict__.update({k: getattr(real, k) for k in ("GRAMMAR_KEY", "LARK_VERSION", "DATA",
                                                        "MEMO")})

    def import_module(module_name):
        if damage == "syntax":
            raise SyntaxError("a file cut short")
        if damage == "raises":
            raise RuntimeError("a module that fails as it runs")
        return fake

    if damage == "no key":
        del fake.GRAMMAR_KEY
    if damage == "empty memo":
        fake.MEMO = {}
    monkeypatch.setattr(lalr.importlib, "import_module", import_module)
    lalr.parser.cache_clear()
    try:
        parser = lalr.parser(name)
        assert parser.source_path != "<deserialized>"
        text = (ROOT / "models" / "tlob.dot").read_text()
        assert outcome(parser, text) == outcome(lalr.build(name), text)
    finally:
        monkeypatch.undo()
        lalr.parser.cache_clear()


def test_a_missing_grammar_is_a_read_error_not_a_write_error(monkeypatch, tmp_path, capsys):
    """Found in review: with grammar/ gone (and the tables unusable, so that the grammar
    is needed) the command said it could not *write* the grammar file."""
    from hamodel import cli

    monkeypatch.setattr(lalr, "grammar_dir", lambda: tmp_path / "no-grammar")
    lalr.parser.cache_clear()
    try:
        status = cli.main(["show", str(ROOT / "models" / "tlob.dot")])
    finally:
        monkeypatch.undo()
        lalr.parser.cache_clear()
    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith(f"hamodel show: cannot read its own grammar {tmp_path}/no-grammar/")
    assert "No such file or directory" in err and "Traceback" not in err
