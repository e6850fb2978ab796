"""The Büchi construction: rvgen's automaton up to renaming, LTL's meaning, one answer per seed."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import ROOT, SHARED
from hypothesis import given, settings
from hypothesis import strategies as st
from ltl_lasso import accepts, models
from ltl_strategies import formulas

from hamodel.ltl.buchi import buchi_of, build_buchi
from hamodel.ltl.formula import text
from hamodel.ltl.header import graph_of_buchi, graph_of_table, isomorphism, parse_header
from hamodel.ltl.load import load_ltl, load_ltl_text

TABLES = sorted((ROOT / "tests" / "ltl" / "rvgen_tables").glob("*.json"))
PAGEFAULT_H = SHARED / "kernel" / "rv-framework" / "kernel" / "trace" / "rv" / "monitors" \
    / "pagefault" / "pagefault.h"
UPSTREAM_LTL = SHARED / "models" / "upstream-ltl"
needs_shared = pytest.mark.skipif(not UPSTREAM_LTL.is_dir(),
                                  reason="../shared/models/upstream-ltl is not here")


def table_of_json(path):
    from hamodel.ltl.header import Table

    doc = json.loads(path.read_text())
    return doc, Table(
        tuple(doc["atoms"]),
        {int(k[1:]): v for k, v in doc["start"].items()},
        {int(k[1:]): {int(d[1:]): c for d, c in v.items()} for k, v in doc["next"].items()},
        doc["values"],
    )


@needs_shared
@pytest.mark.parametrize("path", TABLES, ids=lambda p: p.stem)
def test_automaton_is_rvgens_up_to_renaming(path):
    doc, table = table_of_json(path)
    spec, _ = load_ltl(ROOT / doc["spec"])
    mine = graph_of_buchi(build_buchi(spec))
    assert isomorphism(mine, graph_of_table(table)) is not None


@needs_shared
@pytest.mark.skipif(not PAGEFAULT_H.is_file(), reason="the in-tree pagefault.h is not here")
def test_automaton_is_the_in_tree_pagefault_header():
    spec, _ = load_ltl(UPSTREAM_LTL / "rtapp" / "pagefault.ltl")
    table = parse_header(PAGEFAULT_H.read_text())
    assert isomorphism(graph_of_buchi(build_buchi(spec)), graph_of_table(table)) == {0: 0}


@needs_shared
def test_the_state_counts_of_the_upstream_specs():
    counts = {}
    for path in sorted(UPSTREAM_LTL.rglob("*.ltl*")):
        spec, _ = load_ltl(path)
        if spec is not None:
            counts[path.name] = len(build_buchi(spec).states)
    assert counts == {
        "sleep.ltl@00f0dadd": 8, "sleep.ltl@blob-464c84b9": 8, "sleep.ltl@blob-5923e58d": 8,
        "pagefault.ltl": 1, "sleep.ltl": 8, "wakeup.ltl": 1, "test_ltl.ltl": 5,
    }


@settings(max_examples=300, deadline=None)
@given(formulas(atoms=("A", "B"), max_leaves=6), st.data())
def test_accepted_lassos_are_exactly_the_models(f, data):
    """With its acceptance sets, the automaton accepts u v^ω iff the word satisfies f."""
    b = buchi_of(f, atoms=("A", "B"))
    letter = st.frozensets(st.sampled_from(("A", "B")))
    word = data.draw(st.lists(letter, min_size=1, max_size=5))
    loop = data.draw(st.integers(0, len(word) - 1))
    assert accepts(b, word, loop) == models(f, word, loop), text(f)


@settings(max_examples=150, deadline=None)
@given(formulas(max_leaves=5), formulas(max_leaves=5), st.sampled_from(["not M", "M", "next M"]))
def test_a_macro_means_what_its_text_means_at_every_use(body, rest, use):
    """Expanding by copying gives the automaton of the text written out in full."""
    rule = f"({text(rest)}) and ({use}) or M"  # atoms of the strategy have no M
    with_macro = f"RULE = {rule}\nM = {text(body)}\n"
    written = rule.replace("M", f"({text(body)})")
    a, _ = load_ltl_text(with_macro, "m.ltl")
    b, _ = load_ltl_text(f"RULE = {written}\n", "w.ltl")
    assert isomorphism(graph_of_buchi(build_buchi(a)), graph_of_buchi(build_buchi(b))) is not None


def test_the_same_automaton_under_any_hash_seed():
    script = (
        "from hamodel.ltl.load import load_ltl_text\n"
        "from hamodel.ltl.buchi import build_buchi\n"
        "s, _ = load_ltl_text(open(0).read(), 'x.ltl')\n"
        "print(build_buchi(s))\n"
    )
    spec = ("RULE = always ((A and B and C) imply (M or N))\n"
            "M = (X or Y) and ((not S) until (P or Q or R))\nN = Z or W\n")
    outs = set()
    for seed in ("0", "1", "12345"):
        env = dict(os.environ, PYTHONHASHSEED=seed, PYTHONPATH=str(ROOT))
        run = subprocess.run([sys.executable, "-c", script], input=spec, capture_output=True,
                             text=True, env=env, check=True)
        outs.add(run.stdout)
    assert len(outs) == 1


def test_a_negated_macro_use_leaves_the_other_uses_alone():
    """rvgen shares one tree between the uses of M and negates it in place for `not M`,
    so its monitor reads the first use as `not A or not B` and reports A, B, X all
    holding; with copies, that instant satisfies the rule."""
    from hamodel.ltl.monitor import LtlMonitor

    spec, _ = load_ltl_text("RULE = always ((M and X) or not M)\nM = A or B\n", "m.ltl")
    violations = []
    mon = LtlMonitor(build_buchi(spec), on_violation=violations.append)
    for _ in range(3):
        mon.set(1, "A", True)
        mon.set(1, "B", True)
        mon.update(1, "X", True)
    assert mon.started(1) and not violations
    mon.update(1, "X", False)
    assert len(violations) == 1


@needs_shared
@pytest.mark.skipif(not PAGEFAULT_H.is_file(), reason="the in-tree pagefault.h is not here")
def test_matches_tells_a_header_of_the_spec_from_others():
    from hamodel.ltl.header import HeaderError, matches

    text = PAGEFAULT_H.read_text()
    spec, _ = load_ltl(UPSTREAM_LTL / "rtapp" / "pagefault.ltl")
    assert matches(spec, text) == {0: 0}
    other, _ = load_ltl_text("RULE = always (RT imply PAGEFAULT)\n", "o.ltl")
    assert matches(other, text) is None
    with pytest.raises(HeaderError):
        matches(spec, "int main(void) { return 0; }\n")
    with pytest.raises(HeaderError):
        matches(spec, text.replace("val1 || val3", "val1 || val9"))
