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
