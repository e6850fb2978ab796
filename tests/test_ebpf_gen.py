"""hamodel/gen/ebpf.py: the generated monitor for models/tlob.dot, its tables and its refusals."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from conftest import ROOT

from hamodel.binding import find_binding
from hamodel.gen import GenError, GenOptions
from hamodel.gen.ebpf import build_view, generate
from hamodel.load import load_model, load_text

TLOB = ROOT / "models" / "tlob.dot"
GENERATED = ROOT / "generated" / "tlob" / "ebpf"


def tlob():
    a, diags = load_model(TLOB)
    assert a is not None, diags
    binding, bdiags = find_binding(TLOB, a)
    assert binding is not None, bdiags
    return a, binding


def test_generated_tree_is_fresh():
    a, binding = tlob()
    files = generate(a, GenOptions(model_path="models/tlob.dot", binding=binding))
    on_disk = {p.name: p.read_text() for p in sorted(GENERATED.iterdir())}
    fix = "hamodel gen --target ebpf models/tlob.dot -o generated/tlob/ebpf"
    assert files == on_disk, f"stale: run `{fix}`"


def test_transition_table_is_the_model():
    a, binding = tlob()
    view = build_view(a, binding)
    table = {
        (s.name, ev): dst
        for s, row in zip(view.states, view.next_state, strict=True)
        for (ev, _), dst in zip(view.events, row, strict=True)
    }
    expected = {(e.src, e.event): f"{e.dst}_tlob" for e in a.edges}
    for key, dst in table.items():
        assert dst == expected.get(key, "-1"), key
    assert all(s.invariant and s.invariant.bound == "m->params[0]" for s in view.states)


def test_binding_drives_the_tracepoint_programs():
    a, binding = tlob()
    view = build_view(a, binding)
    switch = next(p for p in view.programs if p.tracepoint == "sched_switch")
    assert [(c.event_const, c.task) for c in switch.calls] == [
        ("preempt_tlob", "prev"),
        ("sleep_tlob", "prev"),
        ("switch_in_tlob", "next"),
    ]
    assert switch.calls[0].condition.startswith("field_prev_state == 0")
    assert switch.calls[1].condition.startswith("field_prev_state != 0")
    assert switch.locals == (("prev_state", "hamodel_prev_state(preempt, prev_state, prev)"),)
    assert view.arm_tracepoint == "local_timer_entry"


def test_meta_describes_the_record():
    meta = json.loads((GENERATED / "tlob.meta.json").read_text())
    assert meta["states"] == ["running", "sleeping", "waiting"]
    assert meta["record"]["u64"][-3:] == [
        "residency:running",
        "residency:sleeping",
        "residency:waiting",
    ]


GUARDED = """digraph state_automaton {
	{node [shape = plaintext, style=invis, label=""] "__init_a"};
	{node [shape = ellipse] "a"};
	{node [shape = plaintext] "b"};
	"__init_a" -> "a";
	"a" -> "b" [ label = "go;c < 5ms;reset(c)" ];
	"b" -> "a" [ label = "back;reset(c)" ];
}
"""


def test_guards_are_refused_with_a_diagnostic(tmp_path):
    a, diags = load_text(GUARDED, str(tmp_path / "g.dot"))
    assert a is not None, diags
    _, binding = tlob()
    with pytest.raises(GenError) as err:
        generate(a, GenOptions(model_path=str(tmp_path / "g.dot"), binding=binding))
    assert [d.code for d in err.value.diagnostics] == ["ebpf-unsupported"]
    assert "guard" in err.value.diagnostics[0].message
    assert err.value.diagnostics[0].span.line == 6  # the guarded edge


def test_no_binding_is_refused(tmp_path):
    a, _ = tlob()
    with pytest.raises(GenError) as err:
        generate(a, GenOptions(model_path=str(TLOB), binding=None))
    assert "needs a binding" in err.value.diagnostics[0].message


def test_description_cannot_close_the_comment():
    a, binding = tlob()
    with pytest.raises(GenError) as err:
        generate(a, GenOptions(model_path=str(TLOB), binding=binding, description="x */ y"))
    assert "*/" in err.value.diagnostics[0].message


@pytest.mark.skipif(shutil.which("clang") is None, reason="clang not installed")
def test_generated_c_compiles_without_warnings(tmp_path):
    from hamodel.bpf.toolchain import LIBBPF_HEADER, clang_command

    if not LIBBPF_HEADER.exists():
        pytest.skip("libbpf-dev headers not installed")
    if shutil.which("llvm-objdump") is None:
        pytest.skip("llvm-objdump not installed (llvm package)")
    obj = tmp_path / "tlob.bpf.o"
    done = subprocess.run(
        clang_command(GENERATED / "tlob.bpf.c", obj, ("-Wall", "-Werror")),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    sections = subprocess.run(
        ["llvm-objdump", "-h", str(obj)], capture_output=True, text=True, check=True
    ).stdout
    for sec in (
        "tp_btf/sched_switch",
        "tp_btf/sched_wakeup",
        "tp_btf/local_timer_entry",
        "tp_btf/sched_process_exit",
        "uprobe",
        ".maps",
    ):
        assert sec in sections


TWO_CLOCKS = ROOT / "tests" / "programs" / "ebpf_two_clocks.dot"


def two_clocks_files() -> dict[str, str]:
    a, _ = load_model(TWO_CLOCKS)
    assert a is not None
    binding, _ = find_binding(TWO_CLOCKS, a)
    return generate(a, GenOptions(model_path=str(TWO_CLOCKS), binding=binding))


def test_two_clocks_resets_and_non_strict_bounds():
    c = two_clocks_files()["ebpf_two_clocks.bpf.c"]
    # `clk_a <= 3ms` and `clk_b < LIMIT_NS()` are checked and timed alike, as the
    # kernel's ha_check_invariant_ns() and hrtimer do: clk == bound passes, and the
    # timer runs at reset + bound.
    assert "invariant_deadline_ebpf_two_clocks(m, 0, 3000000ULL, now)" in c
    assert "invariant_holds_ebpf_two_clocks(m, 0, 3000000ULL, now)" in c
    assert "invariant_deadline_ebpf_two_clocks(m, 1, m->params[0], now)" in c
    assert "invariant_holds_ebpf_two_clocks(m, 1, m->params[0], now)" in c
    assert "[sleep_ebpf_two_clocks] = (1U << 1)," in c  # sleep resets clk_b
    assert "#define INIT_RESETS_ebpf_two_clocks\t(1U << 0)" in c  # __init resets clk_a
    assert "[preempt_ebpf_two_clocks] = run_ebpf_two_clocks," in c  # the self-loop


@pytest.mark.skipif(shutil.which("clang") is None, reason="clang not installed")
def test_two_clocks_model_compiles(tmp_path):
    from hamodel.bpf.toolchain import LIBBPF_HEADER, compile_object

    if not LIBBPF_HEADER.exists():
        pytest.skip("libbpf-dev headers not installed")
    src = tmp_path / "ebpf_two_clocks.bpf.c"
    src.write_text(two_clocks_files()["ebpf_two_clocks.bpf.c"])
    assert compile_object(src, tmp_path / "two.bpf.o").stat().st_size > 0


# a and b share `x < 5ms` on x, set at the start; c has `x < 7ms`; d and e share
# `y < 5ms` on y, not set at the start; f has no invariant.  `same` resets x on f's
# self-loop, so every self-loop of `same` re-arms (rvgen's self_loop_reset_events).
DEADLINES = """digraph state_automaton {
	{node [shape = plaintext, style=invis, label=""] "__init_a"};
	{node [shape = ellipse] "a"};
	{node [shape = plaintext] "b"};
	{node [shape = plaintext] "c"};
	{node [shape = plaintext] "d"};
	{node [shape = plaintext] "e"};
	{node [shape = plaintext] "f"};
	"__init_a" -> "a" [ label = "reset(x)" ];
	"a" [label = "a\\nx < 5ms"];
	"b" [label = "b\\nx < 5ms"];
	"c" [label = "c\\nx < 7ms"];
	"d" [label = "d\\ny < 5ms"];
	"e" [label = "e\\ny < 5ms"];
	"a" -> "b" [ label = "same" ];
	"b" -> "a" [ label = "again;reset(x)" ];
	"b" -> "c" [ label = "other" ];
	"c" -> "d" [ label = "same;reset(y)" ];
	"d" -> "e" [ label = "other" ];
	"e" -> "e" [ label = "same" ];
	"e" -> "f" [ label = "again" ];
	"f" -> "f" [ label = "other" ];
	"f" -> "f" [ label = "same;reset(x)" ];
	"a" -> "a" [ label = "other" ];
}
"""


def test_edges_keep_the_deadline_only_when_it_cannot_move(tmp_path):
    from hamodel.binding import Binding, EventBinding

    a, diags = load_text(DEADLINES, str(tmp_path / "d.dot"))
    assert a is not None, diags
    tps = (("sched_switch", "prev_pid"), ("sched_wakeup", "pid"), ("sched_switch", "next_pid"))
    events = tuple(EventBinding(e.name, *tps[i], ()) for i, e in enumerate(a.events))
    binding = Binding("per_task", "deadlines", None, None, events, "sched_process_exit", "d")
    view = build_view(a, binding)
    new = {
        (s.name, ev): flag
        for s, row in zip(view.states, view.edge_new_deadline, strict=True)
        for (ev, _), flag in zip(view.events, row, strict=True)
        if (s.name, ev) in {(e.src, e.event) for e in a.edges}
    }
    assert new == {
        ("a", "same"): "0",  # same invariant, clock set since the start
        ("b", "again"): "1",  # resets x
        ("b", "other"): "1",  # another bound
        ("c", "same"): "1",  # resets y
        # Same invariant, but y is not set at the start: an unset clock counts from
        # each state's entry, and the generator does not follow which paths set it.
        ("d", "other"): "1",
        # A self-loop resetting nothing, whose event resets x on f's self-loop: the
        # timer is armed again, and y, unset, counts from now.
        ("e", "same"): "1",
        ("e", "again"): "1",  # to no invariant
        ("f", "other"): "0",  # no invariant on either side
        ("f", "same"): "0",  # no invariant on either side
        ("a", "other"): "0",  # a self-loop whose event resets no clock on any self-loop
    }
    c = generate(a, GenOptions(model_path=str(tmp_path / "d.dot"), binding=binding))["d.bpf.c"]
    assert "static const volatile __u8 edge_new_deadline_d[state_max_d][event_max_d]" in c


@pytest.mark.parametrize("description", ["tab\there", "bell\a", "nul\0", "line\rfeed", "\udcff"])
def test_description_must_be_one_printable_line(description):
    a, binding = tlob()
    with pytest.raises(GenError) as err:
        generate(a, GenOptions(model_path=str(TLOB), binding=binding, description=description))
    assert [d.code for d in err.value.diagnostics] == ["ebpf-unsupported"]
    assert "printable" in err.value.diagnostics[0].message


def test_undecodable_description_on_the_command_line_exits_2(tmp_path):
    import os
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "hamodel", "gen", "--target", "ebpf", str(TLOB),
         "-D", os.fsencode("\udcff"), "-o", str(tmp_path / "out")],
        capture_output=True, cwd=ROOT, timeout=60,
    )
    stderr = done.stderr.decode(errors="replace")
    assert done.returncode == 2, stderr
    assert "Traceback" not in stderr
    assert stderr.startswith("error[HA060]: the description must be one line of printable")
    assert not (tmp_path / "out").exists()


def chain_model(states: int, clocks: int) -> str:
    """A ring of `states` states on one event whose edges reset `clocks` clocks."""
    lines = [
        "digraph state_automaton {",
        '\t{node [shape = plaintext, style=invis, label=""] "__init_s0"};',
        '\t{node [shape = ellipse] "s0"};',
        *(f'\t{{node [shape = plaintext] "s{i}"}};' for i in range(1, states)),
        '\t"__init_s0" -> "s0";',
    ]
    label = ";".join(["go", *(f"reset(c{i})" for i in range(clocks))])
    lines += [f'\t"s{i}" -> "s{(i + 1) % states}" [ label = "{label}" ];' for i in range(states)]
    return "\n".join([*lines, "}"]) + "\n"


@pytest.mark.parametrize(
    ("states", "clocks", "refused", "what"),
    [(128, 1, False, ""), (129, 1, True, "129 states"),
     (2, 32, False, ""), (2, 33, True, "33 clocks")],
)
def test_state_and_clock_counts_the_c_types_hold(tmp_path, states, clocks, refused, what):
    path = tmp_path / "big.dot"
    a, diags = load_text(chain_model(states, clocks), str(path))
    assert a is not None, diags
    _, binding = tlob()
    options = GenOptions(model_path=str(path), binding=binding)
    if not refused:
        c = generate(a, options)["big.bpf.c"]
        assert "1U << 32" not in c
        return
    with pytest.raises(GenError) as err:
        generate(a, options)
    (diag,) = err.value.diagnostics
    assert diag.code == "ebpf-unsupported" and what in diag.message
    assert diag.span is not None and diag.span.file == str(path)


def test_a_start_sets_a_deadline_only_when_the_init_arrow_resets(tmp_path):
    """da_monitor_start() runs no model code: without resets on the __init arrow every
    clock stays unset and nothing is timed until an edge arms the timer."""
    from hamodel.binding import Binding, EventBinding

    def start_code(text: str) -> str:
        a, diags = load_text(text, str(tmp_path / "d.dot"))
        assert a is not None, diags
        events = tuple(EventBinding(e.name, "sched_switch", "prev_pid", ())
                       for e in a.events)
        binding = Binding("per_task", "deadlines", None, None, events, "sched_process_exit",
                          "d")
        c = generate(a, GenOptions(model_path=str(tmp_path / "d.dot"), binding=binding))
        body = c["d.bpf.c"]
        return body[body.index("int d_start(struct pt_regs *ctx)"):]

    with_reset = start_code(DEADLINES)
    assert "m->deadline_ns = deadline_d(m, m->state, now);" in with_reset
    without = start_code(DEADLINES.replace(' [ label = "reset(x)" ]', ""))
    assert "m->deadline_ns = 0;" in without and "deadline_d(" not in without
