"""Reading `.ltl` specs: rvgen's grouping, located errors, warnings, macros copied."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import MODELS, ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.lark import from_lark
from ltl_strategies import formulas

from hamodel import lalr
from hamodel.ltl.formula import Atom, Binary, Op, Unary, explicit, text, walk
from hamodel.ltl.load import load_ltl, load_ltl_text

DIAGNOSTICS = ROOT / "tests" / "ltl" / "diagnostics"
UPSTREAM = sorted((MODELS / "upstream-ltl").rglob("*.ltl*")) + sorted(
    (MODELS / "upstream" / "rtapp").glob("*.ltl"))
MARKER = re.compile(r"#\s*([EW]):\s*([a-z0-9-]+)")


def rule_of(source: str):
    spec, diags = load_ltl_text(source, "t.ltl")
    assert spec is not None, [d.message for d in diags]
    return spec.rule


@pytest.mark.skipif(not UPSTREAM, reason="../shared/models/upstream-ltl is not here")
@pytest.mark.parametrize("path", UPSTREAM, ids=lambda p: p.name)
def test_upstream_specs_load_or_fail_as_rvgen_does(path):
    spec, diags = load_ltl(path)
    if path.name == "test_invalid.ltl":  # rvgen's negative test: "No terminal matches 'i'"
        assert spec is None
        assert [(d.code, d.span.line, d.span.col) for d in diags] == [("ltl-syntax", 1, 10)]
        assert "'invalid'" in diags[0].message
        return
    assert spec is not None, [d.message for d in diags]
    assert not [d for d in diags if d.is_error]
    # the kernel's specs are written with parentheses wherever grouping matters
    assert not [d for d in diags if d.code == "ltl-precedence"], [d.message for d in diags]


@pytest.mark.skipif(not UPSTREAM, reason="../shared/models/upstream-ltl is not here")
def test_newest_sleep_spec_reads_as_its_kernel_header_says():
    spec, _ = load_ltl(MODELS / "upstream-ltl" / "rtapp" / "sleep.ltl")
    assert len(spec.atoms) == 15 and "USER_THREAD" in spec.atoms
    assert spec.atoms == tuple(sorted(spec.atoms))
    assert explicit(spec.rule).startswith("always ((RT and (SLEEP and USER_THREAD)) imply")


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("A and B or C", "A and (B or C)"),
        ("A or B and C", "A or (B and C)"),
        ("not A and B", "not (A and B)"),
        ("not KILLED and not CRASHED", "not (KILLED and (not CRASHED))"),
        ("always A imply B", "always (A imply B)"),
        ("A until B until C", "A until (B until C)"),
        ("(A imply B) imply C", "(A imply B) imply C"),
        ("next not A or eventually B", "next (not (A or (eventually B)))"),
        ("((A))", "A"),
    ],
)
def test_binary_operators_group_right_and_unary_ones_take_the_rest(source, expected):
    assert explicit(rule_of(f"RULE = {source}\n")) == expected


def test_definitions_need_no_separator_and_may_come_in_any_order():
    rule = rule_of("RULE = always M M = N or C N = A and B")
    assert explicit(rule) == "always ((A and B) or C)"


def test_each_use_of_a_macro_is_its_own_copy():
    spec, _ = load_ltl_text("RULE = M and not M\nM = A and B\n", "t.ltl")
    left, right = spec.rule.left, spec.rule.right.child
    assert left == right and left is not right  # equal trees, separate objects
    assert explicit(spec.rule) == "(A and B) and (not (A and B))"
    ids = [id(n) for n in walk(spec.rule)]
    assert len(ids) == len(set(ids))


def test_spans_point_into_the_macro_definition():
    spec, _ = load_ltl_text("RULE = always M\nM = A imply B\n", "t.ltl")
    imply = spec.rule.child
    assert isinstance(imply, Binary) and imply.op is Op.IMPLY
    assert (imply.op_span.line, imply.op_span.col) == (2, 7)


def expected_markers(path: Path) -> set[tuple[int, str, str]]:
    out = set()
    for number, line in enumerate(path.read_text().split("\n"), 1):
        for kind, code in MARKER.findall(line):
            out.add((number, "error" if kind == "E" else "warning", code))
    return out


@pytest.mark.parametrize("path", sorted(DIAGNOSTICS.glob("*.ltl")), ids=lambda p: p.name)
def test_diagnostics_are_located_where_the_file_says(path):
    spec, diags = load_ltl(path)
    found = {(d.span.line, d.severity.value, d.code) for d in diags}
    assert found == expected_markers(path), [f"{d.span}: {d.message}" for d in diags]
    assert (spec is None) == any(d.is_error for d in diags)


@settings(max_examples=200, deadline=None)
@given(formulas())
def test_text_parses_back_to_the_same_formula(f):
    assert rule_of(f"RULE = {text(f)}\n") == f


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(from_lark(lalr.build("ltl"), start="start"))  # the grammar itself: tables carry none
def test_any_text_of_the_grammar_gives_a_spec_or_diagnostics(source):
    spec, diags = load_ltl_text(source, "gen.ltl")
    assert (spec is None) == any(d.is_error for d in diags)
    for d in diags:
        assert d.span is None or d.span.line >= 1


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="RULE=ABC_ ()#\n\tandorimplyuntilnotalwaysnexteventuallytruefalse",
               max_size=80))
def test_any_text_gives_a_spec_or_diagnostics(source):
    spec, diags = load_ltl_text(source, "junk.ltl")  # must not raise
    assert (spec is None) == any(d.is_error for d in diags)


def test_deep_nesting_is_refused_with_a_location():
    spec, diags = load_ltl_text("RULE = " + "not " * 5000 + "A\n", "deep.ltl")
    assert spec is None and diags[0].code == "ltl-too-big"
    spec, diags = load_ltl_text("RULE = " + "(" * 5000 + "A" + ")" * 5000 + "\n", "deep.ltl")
    assert spec is None and diags[0].code == "ltl-too-big"


def test_exponential_macro_sharing_is_refused_before_expanding():
    lines = ["RULE = M0"] + [f"M{i} = M{i + 1} and M{i + 1}" for i in range(40)] + ["M40 = A"]
    spec, diags = load_ltl_text("\n".join(lines) + "\n", "wide.ltl")
    assert spec is None and [d.code for d in diags] == ["ltl-too-big"]
    assert diags[0].span.line == 1


def test_the_unary_operator_node_spans_its_operand():
    rule = rule_of("RULE = not A and B\n")
    assert isinstance(rule, Unary) and rule.span.col == 8 and rule.span.end_col == 19
    assert isinstance(rule.child.left, Atom)
