"""The binding file: the tlob binding reads, and mistakes are reported, not guessed."""

from __future__ import annotations

import pytest
from conftest import ROOT

from hamodel.binding import binding_path, find_binding, load_binding
from hamodel.load import load_model

TLOB = ROOT / "models" / "tlob.dot"


def tlob():
    a, _ = load_model(TLOB)
    return a


def test_tlob_binding():
    b, diags = find_binding(TLOB, tlob())
    assert diags == []
    assert b.monitor_type == "per_obj"
    assert b.start.name == "tlob_start" and b.start.params == (("BUDGET_NS", "budget_ns"),)
    assert b.tracepoints == ("sched_switch", "sched_wakeup")
    preempt, sleep = b.for_tracepoint("sched_switch")[:2]
    assert preempt.matches({"prev_state": 0}) and not sleep.matches({"prev_state": 0})
    assert sleep.matches({"prev_state": 1})
    assert binding_path(TLOB).name == "tlob.binding.toml"


def test_binding_mistakes_are_located(tmp_path):
    bad = tmp_path / "x.binding.toml"
    bad.write_text(
        '[monitor]\ntype = "per_thing"\n\n[[event]]\nevent = "sleep"\n'
        'tracepoint = "sched_switch"\nobject = "prev_pidd"\n'
        '[[event]]\nevent = "nap"\ntracepoint = "sched_switch"\n'
    )
    b, diags = load_binding(bad, tlob())
    assert b is None
    messages = {(d.span.line, d.message.split(":")[0]) for d in diags if d.is_error}
    lines = sorted(line for line, _ in messages)
    assert lines == [2, 7, 9]


def test_toml_syntax_error(tmp_path):
    bad = tmp_path / "x.binding.toml"
    bad.write_text("[monitor\n")
    b, diags = load_binding(bad, tlob())
    assert b is None and diags[0].span.line == 1


def test_tlob_start_options():
    b, _ = find_binding(TLOB, tlob())
    assert b.residency == ("running", "waiting", "sleeping") and b.slots == 64
    assert b.start.limits == (("BUDGET_NS", 1000, 3_600_000_000_000),)
    assert b.start.names == (("BUDGET_NS", "threshold"),)


def test_start_option_mistakes_are_located(tmp_path):
    bad = tmp_path / "x.binding.toml"
    bad.write_text(
        '[monitor]\ntype = "per_obj"\nresidency = ["running", "dozing"]\nslots = 0\n'
        '[start]\nmarker = "go"\nparams = { BUDGET_NS = "budget_ns" }\n'
        'limits = { BUDGET_NS = [5, 1], LIMIT = [1, 2] }\nnames = { BUDGET_NS = "a b" }\n'
    )
    b, diags = load_binding(bad, tlob())
    assert b is None
    lines = sorted(d.span.line for d in diags if d.is_error)
    assert lines == [3, 4, 8, 8, 9]


@pytest.mark.parametrize(
    "toml, line, words",
    [
        ("monitor = 5\n", 1, "expected a table"),
        ("[monitor]\ntype = [\"a\"]\n", 2, "expected a string"),
        ("[monitor]\nexit = 5\n", 2, "expected a string"),
        ("[start]\nmarker = \"go\"\nparams = \"x\"\n", 3, "expected a table"),
        ("[start]\nmarker = \"go\"\nobject = \"x); evil(\"\n", 3, "not a field name"),
        ("event = [1, 2]\n", 1, "expected a [[event]] table"),
        ("[[event]]\nevent = \"sleep\"\ntracepoint = \"sched_switch\"\nwhen = 5\n", 4,
         "expected a condition table"),
        ("[[event]]\nevent = \"sleep\"\ntracepoint = \"sched_switch\"\n"
         "when = { field = \"prev_state\", value = 99999999999999999999 }\n", 4, "2^64-1"),
        ("[[event]]\nevent = \"sleep\"\ntracepoint = \"sched_switch\"\nwhen = [\"x\"]\n", 4,
         "is not a table"),
    ],
)
def test_wrong_types_are_errors_not_crashes(tmp_path, toml, line, words):
    bad = tmp_path / "x.binding.toml"
    bad.write_text(toml)
    b, diags = load_binding(bad, tlob())
    assert b is None
    first = next(d for d in diags if d.is_error)
    assert first.span.line == line and words in first.message, first.message


def test_errors_are_located_in_their_own_table(tmp_path):
    bad = tmp_path / "x.binding.toml"
    bad.write_text(
        "# object = \"pid\" in a comment must not be blamed\n"
        "[[event]]\nevent = \"wakeup\"\ntracepoint = \"sched_wakeup\"\nobject = \"pid\"\n"
        "[[event]]\nevent = \"switch_in\"\ntracepoint = \"sched_switch\"\nobject = \"pid\"\n"
    )
    b, diags = load_binding(bad, tlob())
    (err,) = [d for d in diags if d.is_error]
    assert err.span.line == 9


def test_one_wrong_binding_is_one_error_not_also_an_unbound_warning(tmp_path):
    """An [[event]] whose tracepoint is misspelt is reported there; the event it names
    is not then said to be bound to no tracepoint."""
    text = (ROOT / "models" / "tlob.binding.toml").read_text()
    bad = tmp_path / "x.binding.toml"
    bad.write_text(text.replace('tracepoint = "sched_wakeup"', 'tracepoint = "sched_wakeupx"'))
    b, diags = load_binding(bad, tlob())
    assert b is None
    assert [(d.severity.value, d.span.line) for d in diags] == [("error", 48)]
    assert "unknown tracepoint 'sched_wakeupx'" in diags[0].message


def test_an_event_bound_nowhere_is_still_a_warning(tmp_path):
    text = (ROOT / "models" / "tlob.binding.toml").read_text()
    bad = tmp_path / "x.binding.toml"
    bad.write_text(text[: text.rindex("[[event]]")])
    b, diags = load_binding(bad, tlob())
    assert b is not None
    assert [d.message.split(":")[0] for d in diags] == [
        "model event 'wakeup' is bound to no tracepoint"]
