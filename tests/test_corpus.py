"""Every real model parses, in the kernel's order and with the kernel's table."""

from __future__ import annotations

import json

import pytest
from conftest import MODELS, ROOT, corpus

from hamodel.cli import main
from hamodel.load import load_model

REAL = corpus("upstream", "upstream-history", "tlob-proposal") + [ROOT / "models" / "tlob.dot"]


def test_corpus_is_there(shared_models):
    assert len(corpus("upstream")) >= 13


@pytest.mark.parametrize("path", REAL, ids=lambda p: p.name)
def test_real_models_load_in_kernel_order(path):
    a, diags = load_model(path)
    assert a is not None, [d.message for d in diags]
    assert not [d for d in diags if d.is_error]
    states = [s.name for s in a.states]
    assert a.initial.initial and states[1:] == sorted(states[1:])
    events = [e.name for e in a.events]
    assert events == sorted(events)
    stored = [e.name for e in a.envs if e.stored]
    assert [e.name for e in a.envs][: len(stored)] == stored  # stored envs first
    assert a.final_states


# The kernel's tables for a few models, written as data: (state order, event order,
# {(state, event): next}, finals).  From the in-tree kernel/trace/rv/monitors/*/X.h.
EXPECTED = {
    "wip.dot": (
        ["preemptive", "non_preemptive"],
        ["preempt_disable", "preempt_enable", "sched_waking"],
        {
            ("preemptive", "preempt_disable"): "non_preemptive",
            ("non_preemptive", "preempt_enable"): "preemptive",
            ("non_preemptive", "sched_waking"): "non_preemptive",
        },
        ["preemptive"],
    ),
    "stall.dot": (
        ["dequeued", "enqueued", "running"],
        ["sched_switch_in", "sched_switch_preempt", "sched_switch_wait", "sched_wakeup"],
        {
            ("dequeued", "sched_wakeup"): "enqueued",
            ("enqueued", "sched_switch_in"): "running",
            ("enqueued", "sched_wakeup"): "enqueued",
            ("running", "sched_switch_in"): "running",
            ("running", "sched_switch_preempt"): "enqueued",
            ("running", "sched_switch_wait"): "dequeued",
            ("running", "sched_wakeup"): "running",
        },
        ["dequeued"],
    ),
    "wwnr.dot": (
        ["not_running", "running"],
        ["switch_in", "switch_out", "wakeup"],
        {
            ("not_running", "switch_in"): "running",
            ("not_running", "wakeup"): "not_running",
            ("running", "switch_out"): "not_running",
        },
        ["not_running"],
    ),
    "tlob.dot": (
        ["running", "sleeping", "waiting"],
        ["preempt", "sleep", "switch_in", "wakeup"],
        {
            ("running", "preempt"): "waiting",
            ("running", "sleep"): "sleeping",
            ("running", "wakeup"): "running",
            ("sleeping", "wakeup"): "waiting",
            ("waiting", "switch_in"): "running",
            ("waiting", "wakeup"): "waiting",
        },
        ["running"],
    ),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_show_json_matches_kernel_table(name, capsys):
    path = ROOT / "models" / name if name == "tlob.dot" else MODELS / "upstream" / name
    assert main(["show", "--json", str(path)]) == 0
    shown = json.loads(capsys.readouterr().out)
    states, events, table, finals = EXPECTED[name]
    assert shown["states"] == states
    assert shown["initial"] == states[0]
    assert shown["events"] == events
    assert shown["final"] == finals
    got = {(t["from"], t["event"]): t["to"] for t in shown["transitions"]}
    assert got == table
    assert len(shown["transitions"]) == len(table)


def test_nomiss_hybrid_parts():
    a, _ = load_model(MODELS / "upstream" / "deadline" / "nomiss.dot")
    assert [(e.name, e.stored) for e in a.envs] == [
        ("clk", True),
        ("is_constr_dl", False),
        ("is_defer", False),
    ]
    assert a.env("clk").clock_kind.value == "ns"
    assert [p.name for p in a.parameters] == ["DEADLINE_NS"]
    inv = {s.name: s.invariant for s in a.states if s.invariant}
    assert sorted(inv) == ["ready", "running"]
    throttle = a.edges_from("sleeping", "dl_throttle")[0]
    # `is_constr_dl == 1 || is_defer == 1`
    assert type(throttle.guard).__name__ == "Or"
    replenish = a.edges_from("running", "dl_replenish")[0]
    assert replenish.reset_envs == ("clk",)


def test_stall_is_a_jiffy_clock():
    a, _ = load_model(MODELS / "upstream" / "stall.dot")
    assert a.env("clk").clock_kind.value == "jiffies"
    assert a.parameters[0].kind.value == "parameter"  # threshold_jiffies: a module parameter


def test_tlob_v2_resets_on_the_init_arrow():
    a, _ = load_model(MODELS / "tlob-proposal" / "tlob-v2.dot")
    assert [r.env for r in a.init_resets] == ["clk_elapsed"]
    assert a.name == "tlob_v2"


def test_start_events_are_order_independent_of_hash_seed():
    import os
    import subprocess
    import sys

    outs = set()
    for seed in ("0", "1", "12345"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        out = subprocess.run(
            [sys.executable, "-m", "hamodel", "show", "--json",
             str(MODELS / "rvgen-probes" / "nondet.dot")],
            capture_output=True, text=True, env=env, check=True,
        ).stdout
        outs.add(out)
    assert len(outs) == 1
