"""The dialect's rules on small inline models: each error has a place and a reason."""

from __future__ import annotations

import pytest

from hamodel.load import load_text

HEAD = (
    'digraph state_automaton {\n'
    '\t{node [shape = plaintext, style=invis, label=""] "__init_a"};\n'
    '\t{node [shape = doublecircle] "a"};\n'
    '\t{node [shape = circle] "b"};\n'
    '\t"__init_a" -> "a";\n'
)


def load(body: str, head: str = HEAD):
    return load_text(head + body + "}\n", "m.dot")


def codes(diags):
    return [(d.code, d.span.line, d.span.col) if d.span else (d.code,) for d in diags]


def test_minimal_model():
    a, diags = load('\t"a" -> "b" [ label = "go" ];\n\t"b" -> "a" [ label = "back" ];\n')
    assert diags == []
    assert [s.name for s in a.states] == ["a", "b"]
    assert [s.name for s in a.final_states] == ["a"]


def test_edge_to_undeclared_node():
    _, diags = load('\t"a" -> "x" [ label = "go" ];\n')
    assert codes(diags) == [("undeclared-node", 6, 9)]


def test_undirected_edge():
    _, diags = load('\t"a" -- "b" [ label = "go" ];\n')
    assert codes(diags)[0] == ("not-digraph", 6, 6)


def test_graph_instead_of_digraph():
    _, diags = load_text('graph g {\n\t"__init_a" -> "a";\n}\n', "m.dot")
    assert "not-digraph" in [d.code for d in diags]


def test_label_names_another_state():
    _, diags = load('\t"b" [label = "c"];\n\t"a" -> "b" [ label = "go" ];\n')
    assert codes(diags) == [("label-names-other-state", 6, 16)]


@pytest.mark.parametrize(
    "label, col",
    [
        ("go;x <", 30),  # value missing: at the closing quote
        ("go;x < 5parsecs", 32),
        ("go;reset(", 33),
        ("go;(x < 5", 33),
    ],
)
def test_label_syntax_errors_point_into_the_label(label, col):
    _, diags = load(f'\t"a" -> "b" [ label = "{label}" ];\n')
    assert diags and diags[0].code == "label-syntax"
    assert (diags[0].span.line, diags[0].span.col) == (6, col), diags[0].message
    assert "expected" in diags[0].message


def test_two_guards_on_one_event():
    _, diags = load('\t"a" -> "b" [ label = "go;x == 1;y == 2" ];\n')
    assert diags[0].code == "label-syntax" and "join them with &&" in diags[0].message


def test_c_keyword_event():
    _, diags = load('\t"a" -> "b" [ label = "int" ];\n')
    assert codes(diags) == [("bad-name", 6, 24)]


def test_state_name_not_identifier():
    head = HEAD.replace('"b"', '"b c"')
    _, diags = load('\t"a" -> "b c" [ label = "go" ];\n', head)
    assert diags[0].code == "bad-name" and "'b c'" in diags[0].message


def test_state_and_event_clash():
    _, diags = load('\t"a" -> "b" [ label = "b" ];\n')
    assert diags[0].code == "name-clash"


def test_reserved_generated_name():
    _, diags = load('\t"a" -> "b" [ label = "event_max" ];\n')
    assert diags[0].code == "bad-name" and "reserved" in diags[0].message


def test_conflicting_units():
    body = '\t"a" -> "b" [ label = "go;reset(c)" ];\n\t"b" -> "a" [ label = "x;c < 5ms\\ny;c < 3j" ];\n'
    _, diags = load(body)
    assert [d.code for d in diags] == ["conflicting-units"]


def test_not_an_integer():
    _, diags = load('\t"a" -> "b" [ label = "go;reset(c)" ];\n\t"b" -> "a" [ label = "x;c < 1.5ns" ];\n')
    assert [d.code for d in diags] == ["bad-value"]
    assert "1.5ns is not a whole number of ns" in diags[0].message


def test_symbol_spelled_two_ways():
    body = ('\t"a" -> "b" [ label = "go;reset(c)" ];\n'
            '\t"b" -> "a" [ label = "x;c < LIM_NS\\ny;c < LIM_NS()" ];\n')
    _, diags = load(body)
    assert "kind-clash" in [d.code for d in diags]


def test_guard_precedence_is_c_like():
    body = '\t"a" -> "b" [ label = "go;p == 1 || q == 1 && r == 1" ];\n'
    a, _ = load(body)
    g = a.edges[0].guard
    assert type(g).__name__ == "Or" and type(g.right).__name__ == "And"


def test_first_shape_wins_for_final():
    head = HEAD.replace('{node [shape = circle] "b"};', '{node [shape = circle] "b"};\n\t{node [shape = doublecircle] "b"};')
    a, _ = load('\t"a" -> "b" [ label = "go" ];\n', head)
    assert [s.name for s in a.final_states] == ["a"]


def test_no_final_state_makes_initial_final():
    head = HEAD.replace("doublecircle", "circle")
    a, _ = load('\t"a" -> "b" [ label = "go" ];\n', head)
    assert [s.name for s in a.final_states] == ["a"]


def test_graphviz_features_parse():
    text = (
        "/* a block comment */\n"
        "# preprocessor line\n"
        "digraph G {\n"
        "  node [shape=circle];\n"
        "  subgraph cluster_x { __init_a [style=invis]; a; b }\n"
        "  a -> b [label=\"go\"]  // trailing comment\n"
        "  b -> a [label=\"back\", color=\"red\"];\n"
        '  a -> a [label="say \\"hi\\";"];\n'
        "  __init_a -> a;\n"
        "}\n"
    )
    a, diags = load_text(text, "g.dot")
    assert diags[0].code == "label-syntax"  # `say "hi";` is no event line: located error
    a, diags = load_text(text.replace('  a -> a [label="say \\"hi\\";"];\n', ""), "g.dot")
    assert a is not None and [e.event for e in a.edges] == ["go", "back"]


def test_numbers_are_exact_at_any_length_and_fit_64_bits():
    body = '\t"a" -> "b" [ label = "go;reset(c)" ];\n\t"b" -> "a" [ label = "x;c < {}" ];\n'
    a, _ = load(body.format("1.000000000000000000000000000001s"))
    assert a is None  # not a whole number of ns, however many digits
    a, _ = load(body.format("12345678901234567890ns"))
    assert a is not None and a.edges_from("b")[0].guard.value.value == 12345678901234567890
    _, diags = load(body.format("99999999999999999999999s"))
    assert diags[0].code == "bad-value" and "64-bit" in diags[0].message


def test_deep_nesting_is_refused_with_a_place():
    guard = " || ".join(f"x == {i}" for i in range(100))
    _, diags = load(f'\t"a" -> "b" [ label = "go;{guard}" ];\n')
    assert diags[0].code == "label-syntax" and "64 deep" in diags[0].message
    _, diags = load(f'\t"a" -> "b" [ label = "go;{"!" * 3000}x == 1" ];\n')
    assert diags[0].code == "label-syntax"
    text = "digraph g {" + "{" * 1000 + "}" * 1000 + "}"
    _, diags = load_text(text, "deep.dot")
    assert diags[0].code == "syntax" and "nested" in diags[0].message
