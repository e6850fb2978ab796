"""The KUnit part of `hamodel gen --target kernel-c`: layout, and the paths the cases take.

That the cases pass on the verbatim framework is tests/test_kunit_suites.py;
here: every monitor type gets the in-tree layout, `hamodel gen` says what to
add to rv_monitors_test.c, and the planner's paths follow the framework's
rules (start events, unset jiffy clocks, guards a case can drive).
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from conftest import ROOT, SHARED

from hamodel.binding import find_binding
from hamodel.gen import GenOptions
from hamodel.gen.kernel_c import build_view, generate
from hamodel.gen.kernel_kunit import NOT_MONITORING, monitors_test_lines
from hamodel.load import load_text

WIP = """digraph state_automaton {
	{node [shape = plaintext, style=invis, label=""] "__init_preemptive"};
	{node [shape = doublecircle] "preemptive"};
	"__init_preemptive" -> "preemptive";
	"non_preemptive" [label = "non_preemptive"];
	"non_preemptive" -> "non_preemptive" [ label = "sched_waking" ];
	"non_preemptive" -> "preemptive" [ label = "preempt_enable" ];
	"preemptive" [label = "preemptive"];
	"preemptive" -> "non_preemptive" [ label = "preempt_disable" ];
}
"""

# `b` has a jiffy invariant: entered by `enter` its clock is still unset (the check then
# fails at every event), by `reset_enter` it is set.
JIFFY = """digraph state_automaton {
	{node [shape = plaintext, style=invis, label=""] "__init_a"};
	{node [shape = doublecircle] "a"};
	"__init_a" -> "a";
	"a" [label = "a"];
	"b" [label = "b\\nclk < 3j"];
	"a" -> "b" [ label = "enter" ];
	"a" -> "b" [ label = "reset_enter;reset(clk)" ];
	"b" -> "a" [ label = "leave" ];
	"a" -> "a" [ label = "start" ];
	"b" -> "b" [ label = "start" ];
}
"""


def _model(text: str, name: str = "m"):
    a, diags = load_text(text, f"{name}.dot")
    assert a is not None, diags
    return a


@pytest.mark.parametrize("monitor_type", ["global", "per_cpu", "per_task", "per_obj"])
def test_every_monitor_type_gets_the_in_tree_layout(monitor_type):
    a = _model(WIP, "wip")
    files = generate(a, GenOptions("wip.dot", monitor_type=monitor_type))
    c, h, cases = files["wip.c"], files["wip_kunit.h"], files["wip_kunit.c"]
    section = c[c.index("#if IS_ENABLED(CONFIG_RV_MONITORS_KUNIT_TEST)"):]
    assert section.endswith("EXPORT_SYMBOL_IF_KUNIT(rv_wip_ops);\n#endif\n")
    assert '#include "wip_kunit.h"' in section and ".mon = RV_MON_OPS_INIT()," in section
    assert "extern const struct rv_wip_ops {\n\tstruct rv_kunit_mon mon;\n" in h
    task = "struct task_struct *task" if monitor_type in ("per_task", "per_obj") else "void"
    assert f"\tvoid (*send_preempt_disable)({task});\n" in h
    assert "#if IS_REACHABLE(CONFIG_RV_MON_WIP)" in cases
    # every case is rv_test_stub in a kernel without the monitor
    names = build_view(a, GenOptions("wip.dot", monitor_type=monitor_type)).kunit.case_names
    assert names[0] == "rv_test_wip"
    for name in names:
        assert f"static void {name}(struct kunit *test)\n" in cases
        assert f"#define {name} rv_test_stub\n" in cases
    assert ("guard(migrate)();" in cases) == (monitor_type == "per_cpu")
    assert "KUNIT" not in files["Kconfig"]


def test_gen_says_what_to_add_to_rv_monitors_test(tmp_path):
    """The checklist `hamodel gen` prints (rvgen's) has the lines; `-a` adds them."""
    a = _model(WIP, "wip")
    include, cases = monitors_test_lines(build_view(a, GenOptions("wip.dot",
                                                                   monitor_type="per_cpu")).kunit)
    assert include == '#include "monitors/wip/wip_kunit.c"'
    assert cases == ("KUNIT_CASE(rv_test_wip),", "KUNIT_CASE(rv_test_wip_refused),")
    (tmp_path / "wip.dot").write_text(WIP)
    done = subprocess.run([sys.executable, "-m", "hamodel", "gen", "--target", "kernel-c",
                           "wip.dot", "-t", "per_cpu", "-o", "out"], cwd=tmp_path,
                          capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert done.returncode == 0, done.stderr
    said = done.stdout.splitlines()
    at = said.index("  - kernel/trace/rv/rv_monitors_test.c (the KUnit suite), beside the other"
                    " monitors:")
    assert said[at + 1:at + 5] == [f"        {include}", "    and in rv_mon_test_cases[]:",
                                   *(f"        {c}" for c in cases)]


def test_tlob_ops_reach_start_stop_parser_and_residency():
    a = _model((ROOT / "models/tlob.dot").read_text(), "tlob")
    binding, _ = find_binding(ROOT / "models/tlob.dot", a)
    c = generate(a, GenOptions("tlob.dot", binding=binding))["tlob.c"]
    # the slots need their own set-up: enable without probes
    assert ".monitor_init = tlob_kunit_init," in c and "RV_MON_OPS_INIT" not in c
    for member in ("start_task = tlob_start_task", "stop_task = tlob_stop_task",
                   "parse_binding = tlob_kunit_parse_binding",
                   "residency_ns = tlob_kunit_residency_ns"):
        assert f"\t.{member},\n" in c


def test_paths_avoid_an_unset_jiffy_clock():
    """Entering `b` without the reset leaves its jiffy clock unset: its check fails at
    the next event, so every path through `b` takes `reset_enter`."""
    a = _model(JIFFY)
    k = build_view(a, GenOptions("m.dot", monitor_type="per_task")).kunit
    sends = {sc.comment: [st.member for st in sc.steps if st.kind == "send"]
             for sc in k.cases[0].scenarios}
    assert sends["a --enter--> b"][-1] == "send_enter"
    for comment, path in sends.items():
        if comment != "a --enter--> b":
            assert "send_enter" not in path, comment
    assert sends["b --leave--> a"][-2:] == ["send_reset_enter", "send_leave"]
    overrun = next(c for c in k.cases if c.name == "rv_test_m_overrun").scenarios[0]
    assert [st.kind for st in overrun.here] == ["send", "wait", "send"]
    assert overrun.here[0].member == "send_reset_enter" and overrun.here[1].bound == "3ull"


def test_a_monitor_nothing_starts_has_one_case_that_skips():
    """tlob as a per-task monitor: its markers are left to write by hand, and every
    event of its binding is a plain one."""
    tlob = _model((ROOT / "models/tlob.dot").read_text(), "tlob")
    binding, _ = find_binding(ROOT / "models/tlob.dot", tlob)
    k = build_view(tlob, GenOptions("tlob.dot", binding=binding, monitor_type="per_task")).kunit
    assert [(c.name, c.kind, c.skip) for c in k.cases] == [
        ("rv_test_tlob", "skip", "no event starts the monitor")]


def test_opid_guards_are_driven_through_interrupts_and_preemption():
    from hamodel.binding import load_binding

    model = SHARED / "models/upstream/sched/opid.dot"

    a = _model(model.read_text(), "opid")
    binding, _ = load_binding(ROOT / "models/upstream/sched/opid.binding.toml", a)
    k = build_view(a, GenOptions(str(model), binding=binding)).kunit
    edges = {sc.comment: sc for sc in k.cases[0].scenarios}
    waking = edges["any --sched_waking--> any"].steps[-1]
    assert waking.wraps == ("irqsave", "preempt")
    guards = {sc.comment: sc for sc in next(c for c in k.cases if c.name == "rv_test_opid_guards")
              .scenarios}
    # interrupts enabled make both guards false, whatever preemption is
    assert all(sc.here[0].wraps == () for sc in guards.values()) and len(guards) == 2


def test_state_helper_names_the_idle_monitor():
    a = _model(WIP, "wip")
    c = generate(a, GenOptions("wip.dot", monitor_type="per_task"))["wip.c"]
    assert f'\t\treturn "{NOT_MONITORING}";\n' in c


def test_a_monitors_test_without_its_places_is_refused():
    from hamodel.gen.kernel_kunit import add_monitors_test_lines

    with pytest.raises(ValueError, match="rv_mon_test_cases"):
        add_monitors_test_lines("int x;\n", '#include "monitors/m/m_kunit.c"',
                                ("KUNIT_CASE(rv_test_m),",))
