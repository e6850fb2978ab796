"""hamodel/ltl/compare.py: the shortest run after which one of two monitors reports and the
other does not, checked by running both reference monitors (hamodel.ltl.monitor) on it,
and on random runs when it says there is none."""

from __future__ import annotations

from hypothesis import assume, given, settings
from hypothesis import strategies as st
from ltl_strategies import formulas

from hamodel.ltl.buchi import build_buchi
from hamodel.ltl.compare import Difference, TooLarge, first_difference
from hamodel.ltl.formula import text
from hamodel.ltl.header import graph_of_buchi, isomorphism
from hamodel.ltl.load import load_ltl_text
from hamodel.ltl.monitor import LtlMonitor

ATOMS = ("A", "B")


def _buchi(f):
    spec, _ = load_ltl_text(f"RULE = {text(f)}\n", "r.ltl", "r")
    return None if spec is None else build_buchi(spec)


def _reports(buchi, run: list[int]) -> list[bool]:
    """Whether each update of `run` (one valuation each) reports, on the reference."""
    seen: list[int] = []
    mon = LtlMonitor(buchi, on_violation=lambda v: seen.append(1))
    out = []
    for v in run:
        before = len(seen)
        for i, atom in enumerate(buchi.atoms[1:], 1):
            mon.set(0, atom, bool(v >> i & 1))
        mon.update(0, buchi.atoms[0], bool(v & 1))
        out.append(len(seen) > before)
    return out


@settings(max_examples=150, deadline=None)
@given(formulas(ATOMS, max_leaves=5), formulas(ATOMS, max_leaves=5),
       st.lists(st.lists(st.integers(0, 3), max_size=6), max_size=8))
def test_the_difference_is_real_and_the_first(f, g, runs):
    a, b = _buchi(f), _buchi(g)
    assume(a is not None and b is not None and a.atoms == b.atoms and a.atoms)
    ga, gb = graph_of_buchi(a), graph_of_buchi(b)
    found = first_difference(ga, gb)
    assert not isinstance(found, TooLarge)
    if isomorphism(ga, gb) is not None:
        assert found is None
    if isinstance(found, Difference):
        ra, rb = _reports(a, list(found.run)), _reports(b, list(found.run))
        assert ra[:-1] == rb[:-1] and ra[-1] == found.first and rb[-1] != found.first
        shorter = [r for r in runs if len(r) < len(found.run)]
        assert all(_reports(a, r) == _reports(b, r) for r in shorter)
    else:
        assert all(_reports(a, r) == _reports(b, r) for r in runs)


def test_a_search_too_large_says_so():
    a = _buchi_text("always (A imply next B)")
    b = _buchi_text("always (A imply next (B or A))")
    assert isinstance(first_difference(graph_of_buchi(a), graph_of_buchi(b), limit=1), TooLarge)


def _buchi_text(rule: str):
    spec, _ = load_ltl_text(f"RULE = {rule}\n", "r.ltl", "r")
    return build_buchi(spec)
