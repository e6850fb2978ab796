"""The binding file: the tlob binding reads, and mistakes are reported, not guessed."""

from __future__ import annotations

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
