"""`<m>.h` for every upstream model has the kernel's enums, table, initial and final states.

The expectations below were read off the in-tree headers the kernel's rvgen
produced (torvalds/linux kernel/trace/rv/monitors/<m>/<m>.h) and are written
here as data: one row per state, "-" for INVALID_STATE.  The test parses the
header hamodel generates, so it checks the C text, not an internal view.
"""

from __future__ import annotations

import hashlib
import re

import pytest
from conftest import MODELS

from hamodel.gen import GenOptions
from hamodel.gen.kernel_c import generate
from hamodel.load import load_model

# model file (under ../shared/models) -> monitor type in the tree, states,
# events, envs (stored first), table rows, final flags.
KERNEL = {
    "upstream/wip.dot": (
        "per_cpu",
        "preemptive non_preemptive",
        "preempt_disable preempt_enable sched_waking",
        "",
        ["non_preemptive - -", "- preemptive non_preemptive"],
        "1 0",
    ),
    "upstream/wwnr.dot": (
        "per_task",
        "not_running running",
        "switch_in switch_out wakeup",
        "",
        ["running - not_running", "- not_running -"],
        "1 0",
    ),
    "upstream/stall.dot": (
        "per_task",
        "dequeued enqueued running",
        "sched_switch_in sched_switch_preempt sched_switch_wait sched_wakeup",
        "clk",
        ["- - - enqueued", "running - - enqueued", "running enqueued dequeued running"],
        "1 0 0",
    ),
    "upstream/deadline/nomiss.dot": (
        "per_obj",
        "ready idle running sleeping throttled",
        "dl_replenish dl_server_idle dl_server_stop dl_throttle sched_switch_in"
        " sched_switch_suspend sched_wakeup",
        "clk is_constr_dl is_defer",
        [
            "ready idle sleeping throttled running - ready",
            "ready idle sleeping throttled running - -",
            "running idle sleeping throttled running sleeping running",
            "ready sleeping sleeping throttled running - ready",
            "ready throttled - throttled - throttled throttled",
        ],
        "1 0 0 0 0",
    ),
    "upstream/sched/nrp.dot": (
        "per_task",
        "preempt_irq any_thread_running nested_preempt rescheduling",
        "irq_entry sched_need_resched schedule_entry schedule_entry_preempt",
        "",
        [
            "preempt_irq preempt_irq nested_preempt nested_preempt",
            "any_thread_running rescheduling any_thread_running -",
            "nested_preempt preempt_irq any_thread_running any_thread_running",
            "preempt_irq rescheduling any_thread_running any_thread_running",
        ],
        "0 1 0 0",
    ),
    "upstream/sched/opid.dot": (
        "per_cpu",
        "any",
        "sched_need_resched sched_waking",
        "irq_off preempt_off",
        ["any any"],
        "1",
    ),
    "upstream-history/sched/opid.dot": (
        "per_cpu",
        "disabled enabled in_irq irq_disabled preempt_disabled",
        "irq_disable irq_enable irq_entry preempt_disable preempt_enable sched_need_resched"
        " sched_waking",
        "",
        [
            "- preempt_disabled disabled - irq_disabled disabled disabled",
            "irq_disabled - - preempt_disabled enabled - -",
            "- enabled in_irq - - in_irq in_irq",
            "- enabled in_irq disabled - irq_disabled -",
            "disabled - - - enabled - -",
        ],
        "0 1 0 0 0",
    ),
    "upstream/sched/sco.dot": (
        "per_cpu",
        "thread_context scheduling_context",
        "sched_set_state schedule_entry schedule_exit",
        "",
        ["thread_context scheduling_context -", "- - thread_context"],
        "1 0",
    ),
    "upstream/sched/scpd.dot": (
        "per_cpu",
        "cant_sched can_sched",
        "preempt_disable preempt_enable schedule_entry schedule_exit",
        "",
        ["can_sched - - -", "- cant_sched can_sched can_sched"],
        "1 0",
    ),
    "upstream/sched/snroc.dot": (
        "per_task",
        "other_context own_context",
        "sched_set_state sched_switch_in sched_switch_out",
        "",
        ["- own_context -", "own_context - other_context"],
        "1 0",
    ),
    "upstream/sched/sssw.dot": (
        "per_task",
        "runnable signal_wakeup sleepable sleeping",
        "sched_set_state_runnable sched_set_state_sleepable sched_switch_blocking"
        " sched_switch_in sched_switch_preempt sched_switch_suspend sched_switch_yield"
        " sched_wakeup signal_deliver",
        "",
        [
            "runnable sleepable sleeping runnable runnable - runnable runnable runnable",
            "- sleepable - signal_wakeup signal_wakeup - signal_wakeup signal_wakeup runnable",
            "runnable sleepable sleeping sleepable sleepable sleeping signal_wakeup runnable"
            " sleepable",
            "- - - - - - - runnable -",
        ],
        "1 0 0 0",
    ),
    "upstream/sched/sts.dot": (
        "per_cpu",
        "can_sched cant_sched disable_to_switch enable_to_exit in_irq scheduling switching",
        "irq_disable irq_enable irq_entry sched_switch schedule_entry schedule_exit",
        "",
        [
            "cant_sched - - - scheduling -",
            "- can_sched cant_sched - - -",
            "- enable_to_exit in_irq switching - -",
            "enable_to_exit enable_to_exit enable_to_exit - - can_sched",
            "- scheduling in_irq - - -",
            "disable_to_switch - - - - -",
            "- enable_to_exit - - - -",
        ],
        "1 0 0 0 0 0 0",
    ),
    "upstream/sched/sncid.dot": (
        "per_cpu",
        "can_sched cant_sched",
        "irq_disable irq_enable schedule_entry schedule_exit",
        "",
        ["cant_sched - can_sched can_sched", "- can_sched - -"],
        "1 0",
    ),
    "upstream/sched/tss.dot": (
        "per_cpu",
        "thread sched",
        "sched_switch schedule_entry schedule_exit",
        "",
        ["- sched -", "sched - thread"],
        "1 0",
    ),
}

# Per monitor: RV_MON_TYPE, the tracepoint class rv_trace.h needs, the Kconfig
# selection as in the tree, and the timer hamodel picks (the wheel for a jiffy clock,
# an hrtimer for ns: nomiss chose the wheel by hand in the tree).
IN_TREE_C = {
    "upstream/stall.dot": ("RV_MON_PER_TASK", "HA_MON_EVENTS_ID", "HA_TIMER_WHEEL"),
    "upstream/deadline/nomiss.dot": ("RV_MON_PER_OBJ", "HA_MON_EVENTS_ID", "HA_TIMER_HRTIMER"),
    "upstream/sched/opid.dot": ("RV_MON_PER_CPU", "HA_MON_EVENTS_IMPLICIT", None),
    "upstream/wip.dot": ("RV_MON_PER_CPU", "DA_MON_EVENTS_IMPLICIT", None),
    "upstream/wwnr.dot": ("RV_MON_PER_TASK", "DA_MON_EVENTS_ID", None),
}


def _enum(header: str, name: str) -> list[str]:
    body = re.search(rf"enum {name} \{{\n(.*?)\n\}};", header, re.S)
    assert body, f"no enum {name}"
    return [line.strip().rstrip(",") for line in body.group(1).splitlines()]


def _table(header: str, suffix: str) -> list[str]:
    body = re.search(r"\t\.function = \{\n(.*?)\n\t\},", header, re.S)
    assert body
    rows = re.findall(r"\{([^{}]*)\}", body.group(1))
    out = []
    for row in rows:
        cells = [c.strip() for c in row.split(",") if c.strip()]
        out.append(" ".join("-" if c == "INVALID_STATE" else c.removesuffix(suffix) for c in cells))
    return out


def _generate(rel: str, monitor_type: str) -> tuple[str, dict[str, str]]:
    path = MODELS / rel
    if not path.exists():
        pytest.skip(f"shared model {rel} is missing")
    a, diags = load_model(path)
    assert a is not None, [d.message for d in diags]
    return a.name, generate(a, GenOptions(model_path=str(path), monitor_type=monitor_type))


@pytest.mark.parametrize("rel", sorted(KERNEL))
def test_header_matches_the_kernel(rel):
    mtype, states, events, envs, rows, finals = KERNEL[rel]
    m, files = _generate(rel, mtype)
    header = files[f"{m}.h"]
    sfx = f"_{m}"
    assert _enum(header, f"states{sfx}") == [s + sfx for s in states.split()] + [f"state_max{sfx}"]
    assert _enum(header, f"events{sfx}") == [e + sfx for e in events.split()] + [f"event_max{sfx}"]
    if envs:
        stored = [e for e in envs.split() if e == "clk"]
        first_unstored = next((e for e in envs.split() if e not in stored), "env_max")
        assert _enum(header, f"envs{sfx}") == [e + sfx for e in envs.split()] + [
            f"env_max{sfx}",
            f"env_max_stored{sfx} = {first_unstored}{sfx}",
        ]
    else:
        assert "enum envs" not in header
    assert _table(header, sfx) == rows
    assert f"\t.initial_state = {states.split()[0]}{sfx},\n" in header
    assert f"\t.final_states = {{ {', '.join(finals.split())} }},\n" in header


@pytest.mark.parametrize("rel", sorted(IN_TREE_C))
def test_monitor_type_class_and_timer(rel):
    rv_type, klass, timer = IN_TREE_C[rel]
    mtype = KERNEL[rel][0]
    m, files = _generate(rel, mtype)
    c = files[f"{m}.c"]
    assert f"#define RV_MON_TYPE {rv_type}\n" in c
    assert f"\tselect {klass}\n" in files["Kconfig"]
    if timer:
        assert f"#define HA_TIMER_TYPE {timer}\n" in c
    else:
        assert "HA_TIMER_TYPE" not in c
    proto_id = "int id, " if mtype in ("per_task", "per_obj") else ""
    assert f"TP_PROTO({proto_id}char *state, char *event)" in files[f"{m}_trace.h"]
    assert ("error_env_" in files[f"{m}_trace.h"]) == klass.startswith("HA")


# The two hybrid headers whose rvgen output the kernel keeps unchanged (see
# ../shared/models/README.md): size and SHA-256 of kernel/trace/rv/monitors/<m>/<m>.h
# at torvalds/linux fdbfee9fc56e13a1307868829d438ad66ab308a4, from its
# `#define MONITOR_NAME` line to the end.  Everything there is interface
# (names, enums, table); only the comment above it is the project's own prose.
IN_TREE_HEADER = {
    "upstream/stall.dot": (
        "per_task", 1320, "1a0080a78803870523d4128f85f5000a26dc8a393a5e09ef9fcb5840794c49c5"
    ),
    "upstream/deadline/nomiss.dot": (
        "per_obj", 2073, "70f16e6db54ca9ac36630c4ff4e0b10b7bbbf04df774e30666b51f4941d19d62"
    ),
}


@pytest.mark.parametrize("rel", sorted(IN_TREE_HEADER))
def test_header_is_byte_for_byte_the_in_tree_one(rel):
    mtype, size, digest = IN_TREE_HEADER[rel]
    m, files = _generate(rel, mtype)
    text = files[f"{m}.h"]
    head, sep, rest = text.partition("#define MONITOR_NAME")
    assert sep and head.startswith("/* SPDX-License-Identifier: GPL-2.0 */\n/*\n")
    data = (sep + rest).encode()
    assert (len(data), hashlib.sha256(data).hexdigest()) == (size, digest)


# ha_verify_guards of the in-tree hybrid monitors whose guards read no clock
# (so hamodel's per-comparison escape does not apply): size and SHA-256 of the
# function's text in kernel/trace/rv/monitors/<m>/<m>.c (nomiss at 0eaed89c,
# opid at the commit that made it a hybrid automaton).
IN_TREE_GUARDS = {
    "upstream/deadline/nomiss.dot": (
        "per_obj", 1106, "7675c27ea257b9ea137763c3e924b050d4103f06283812a2b32764133f7fb787"
    ),
    "upstream/sched/opid.dot": (
        "per_cpu", 507, "ed06d433c286d9784e43c4c45d8c23222d99c2c2a741ade2e2795b5e17646c7f"
    ),
}


@pytest.mark.parametrize("rel", sorted(IN_TREE_GUARDS))
def test_guard_function_is_byte_for_byte_the_in_tree_one(rel):
    mtype, size, digest = IN_TREE_GUARDS[rel]
    m, files = _generate(rel, mtype)
    found = re.search(r"static inline bool ha_verify_guards\(.*?\n}\n", files[f"{m}.c"], re.S)
    assert found
    data = found.group(0).encode()
    assert (len(data), hashlib.sha256(data).hexdigest()) == (size, digest)
