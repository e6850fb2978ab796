"""The traps a first-time RV author fell into, each now reported once, at its line.

A bare bound beside a bound with a unit; an event misspelled between the model
and its binding; two edges for one (state, event), which used to give four
findings.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import NO_SHARED, ROOT, SHARED

from hamodel.binding import load_binding
from hamodel.check import Options, check_automaton
from hamodel.load import load_text

HEAD = (
    "digraph state_automaton {\n"
    '\t{node [shape = plaintext, style=invis, label=""] "__init_idle"};\n'
    '\t{node [shape = doublecircle] "idle"};\n'
    '\t{node [shape = circle] "busy"};\n'
    '\t{node [shape = circle] "stuck"};\n'
    '\t"__init_idle" -> "idle";\n'
)


def model(body: str):
    return load_text(HEAD + body + "}\n", "first.dot")


# --- a bare bound beside a bound with a unit ----------------------------------------------


def test_each_bare_bound_beside_a_unit_is_warned_at_its_caret():
    a, diags = model(
        '\t"idle" -> "busy" [ label = "go;reset(clk)" ];\n'
        '\t"busy" [label = "busy\\nclk < 50ms"];\n'
        '\t"busy" -> "idle" [ label = "done;clk < 10" ];\n'
        '\t"busy" -> "busy" [ label = "tick;clk > 2" ];\n'
        '\t"stuck" -> "idle" [ label = "done" ];\n'
    )
    bare = [d for d in diags if d.code == "bare-bound-beside-unit"]
    assert [(d.span.line, d.span.col, d.span.end_col) for d in bare] == [(9, 41, 43), (10, 41, 42)]
    assert bare[0].message == ("bound 10 has no unit, but clock 'clk' is compared with 50ms"
                               " elsewhere: it is read as 10 ns")
    assert bare[0].notes[0].span.line == 8
    assert a is not None  # a warning: the model still builds


def test_a_jiffy_clock_says_jiffies_and_unitless_clocks_say_nothing_new():
    _, diags = model(
        '\t"idle" -> "busy" [ label = "go;reset(clk)" ];\n'
        '\t"busy" [label = "busy\\nclk < 3j"];\n'
        '\t"busy" -> "idle" [ label = "done;clk < 1" ];\n'
        '\t"stuck" -> "idle" [ label = "done" ];\n'
    )
    assert [d.message.rsplit(": ", 1)[1] for d in diags
            if d.code == "bare-bound-beside-unit"] == ["it is read as 1 jiffies"]
    _, diags = model(
        '\t"idle" -> "busy" [ label = "go;reset(clk)" ];\n'
        '\t"busy" -> "idle" [ label = "done;clk < 10" ];\n'
        '\t"stuck" -> "idle" [ label = "done" ];\n'
    )
    assert not [d for d in diags if d.code == "bare-bound-beside-unit"]
    assert [d.code for d in diags if d.code == "clock-without-unit"]  # the older warning


# --- one mistake, one finding -----------------------------------------------------------------


def test_two_edges_for_one_state_and_event_are_one_finding():
    a, diags = model(
        '\t"idle" -> "busy" [ label = "go" ];\n'
        '\t"idle" -> "stuck" [ label = "go" ];\n'
        '\t"busy" -> "idle" [ label = "done" ];\n'
        '\t"stuck" -> "idle" [ label = "done" ];\n'
    )
    report = check_automaton(a, Options(), diags)
    shown = [f.diagnostic for f in report.findings]
    assert [d.number for d in shown] == ["HA111"]
    d = shown[0]
    assert (d.span.line, d.span.col) == (8, 31)  # the later edge
    # the kernel's table keeps one next state per (state, event): the first edge's
    assert "here 'busy' (the first edge), so this edge is never taken" in d.message
    assert ("'busy' is first because the edges of one state and event are ordered by the"
            " kernel's enum order of their targets (initial state first, then by name:"
            " idle < busy < stuck)") in d.message
    notes = [(n.message, n.span.line) for n in d.notes]
    assert notes == [("the edge to 'busy'", 7), ("so state 'stuck' is never reached", 5)]


def test_a_target_reached_another_way_is_not_folded():
    a, diags = model(
        '\t"idle" -> "busy" [ label = "go" ];\n'
        '\t"idle" -> "stuck" [ label = "go\\njam" ];\n'
        '\t"busy" -> "idle" [ label = "done" ];\n'
        '\t"stuck" -> "idle" [ label = "done" ];\n'
    )
    report = check_automaton(a, Options(), diags)
    assert [f.diagnostic.number for f in report.findings] == ["HA111"]
    assert "never reached" not in str(report.findings[0].diagnostic.notes)


# --- a misspelled event ---------------------------------------------------------------------

BINDING = """\
[monitor]
type = "per_task"

[[event]]
event = "go"
tracepoint = "sched_switch"
object = "next_pid"

[[event]]
event = "sched_wakeup"
tracepoint = "sched_wakeup"
object = "pid"
"""


def test_a_misspelled_event_is_one_error_at_the_dot_line(tmp_path: Path):
    a, _ = model(
        '\t"idle" -> "busy" [ label = "go" ];\n'
        '\t"busy" -> "idle" [ label = "sched_wakup" ];\n'
        '\t"stuck" -> "idle" [ label = "go" ];\n'
    )
    path = tmp_path / "first.binding.toml"
    path.write_text(BINDING)
    binding, diags = load_binding(path, a)
    assert binding is None
    assert len(diags) == 1
    d = diags[0]
    assert (d.span.file, d.span.line, d.span.col) == ("first.dot", 8, 30)
    assert "did you mean 'sched_wakeup', as the binding spells it?" in d.message
    assert d.notes[0].span.file == str(path) and d.notes[0].span.line == 10


def test_an_unbound_event_is_warned_at_its_dot_line(tmp_path: Path):
    a, _ = model(
        '\t"idle" -> "busy" [ label = "go" ];\n'
        '\t"busy" -> "idle" [ label = "sched_wakeup\\nsched_wakup" ];\n'
        '\t"stuck" -> "idle" [ label = "go" ];\n'
    )
    path = tmp_path / "first.binding.toml"
    path.write_text(BINDING)
    binding, diags = load_binding(path, a)
    assert binding is not None
    assert [(d.severity.value, d.span.file, d.span.line) for d in diags] == [
        ("warning", "first.dot", 8)]
    assert diags[0].message.endswith("no handler of first.binding.toml produces it; did you"
                                     " mean 'sched_wakeup'?")


def test_the_bundled_model_is_fully_bound():
    from hamodel.binding import find_binding
    from hamodel.load import load_model

    a, _ = load_model(ROOT / "models/tlob.dot")
    _, diags = find_binding(ROOT / "models/tlob.dot", a)
    assert diags == []


# --- hamodel run: budgets, parameters, the start state -------------------------------------


def _meta(params: tuple[str, ...]):
    from dataclasses import replace

    from hamodel.bpf.records import Meta

    meta = Meta.read(ROOT / "generated/tlob/ebpf/tlob.meta.json")
    return replace(meta, params=params)


def _windows(*budgets):
    from hamodel.bpf.runner import Window

    return tuple(Window(None, None, b) for b in budgets)  # probe points are not read here


def test_budget_sets_the_budget_parameter_and_param_the_others():
    import struct

    from hamodel.bpf.runner import window_values

    values = window_values(_meta(("BUDGET_NS", "SLACK_NS")), _windows(5_000_000, 7_000),
                           ("SLACK_NS=2us",))
    assert [struct.unpack("<2Q", v) for v in values] == [(5_000_000, 2_000), (7_000, 2_000)]
    assert [struct.unpack("<Q", v) for v in window_values(_meta(()), _windows(None), ())] == [
        (0,)]


@pytest.mark.parametrize("params, budgets, given, message", [
    ((), (5_000_000,), (), "--budget: tlob has no budget parameter (it has no parameters)"),
    (("LIMIT_NS",), (5_000_000,), (), "--budget: tlob has no budget parameter (its parameters:"
     " LIMIT_NS; set them with --param NAME=VALUE)"),
    (("LIMIT_NS",), (None,), (), "tlob's parameter LIMIT_NS has no value: give --param"
     " LIMIT_NS=VALUE"),
    (("BUDGET_NS",), (None,), (), "tlob's parameter BUDGET_NS has no value: give --budget"),
    (("BUDGET_NS",), (5,), ("BUDGET_NS=3ms",), "--budget and --param BUDGET_NS set the same"),
    (("LIMIT_NS",), (None,), ("OTHER=1ms",), "NAME a parameter of tlob (LIMIT_NS)"),
    (("LIMIT_NS",), (None,), ("LIMIT_NS=soon",), "VALUE is a number with ns, us, ms or s"),
    (("LIMIT_NS",), (None,), ("LIMIT_NS=1ms", "LIMIT_NS=2ms"), "LIMIT_NS is given twice"),
])
def test_budget_and_param_refusals(params, budgets, given, message):
    from hamodel.bpf.runner import UsageError, window_values

    with pytest.raises(UsageError) as err:
        window_values(_meta(params), _windows(*budgets), given)
    assert message in str(err.value)


def test_an_initial_state_for_a_task_off_the_cpu_is_warned():
    from hamodel.binding import find_binding
    from hamodel.bpf.startcheck import initial_state_warnings

    text = (ROOT / "models/tlob.dot").read_text()
    a, _ = load_text(text, "tlob.dot")
    binding, _ = find_binding(ROOT / "models/tlob.dot", a)
    assert initial_state_warnings(a, binding) == []
    asleep = text.replace("__init_running", "__init_sleeping").replace(
        '"__init_sleeping" -> "running"', '"__init_sleeping" -> "sleeping"')
    b, diags = load_text(asleep, "tlob.dot")
    assert b is not None and b.initial.name == "sleeping", diags
    warnings = initial_state_warnings(b, binding)
    assert len(warnings) == 1
    assert warnings[0].startswith("the initial state 'sleeping' cannot match the task at the"
                                  " start symbol")
    assert "raises preempt or sleep, which 'sleeping' does not accept" in warnings[0]


# --- replay --plot ---------------------------------------------------------------------------

UPROBES_TRACE = SHARED / "traces/ftrace-local-uprobes.txt"


def _timeline():
    import io

    from hamodel.binding import find_binding
    from hamodel.load import load_model
    from hamodel.replay import replay
    from hamodel.timeline import Timeline

    if not UPROBES_TRACE.is_file():
        pytest.skip(NO_SHARED)
    a, _ = load_model(ROOT / "models/tlob.dot")
    binding, _ = find_binding(ROOT / "models/tlob.dot", a)
    timeline = Timeline(a.name, tuple(s.name for s in a.states))
    summary = replay(a, binding, UPROBES_TRACE, "text", {}, io.StringIO(), timeline=timeline)
    return timeline, summary


def test_the_timeline_follows_the_monitor():
    timeline, summary = _timeline()
    (track,) = timeline.tracks.values()
    assert track.obj == 5884
    assert len(track.violations) == summary.violation_count == 3
    origin = timeline.first
    rows = [(s.state, s.start - origin, s.end - origin, s.deadline - origin)
            for s in track.segments[:6]]
    # one window stopped within its 2 ms budget, then one that ran over while sleeping
    assert rows == [("running", 0, 755000, 2000000), ("sleeping", 755000, 1416000, 2000000),
                    ("waiting", 1416000, 1439000, 2000000), ("running", 1439000, 1649000, 2000000),
                    ("running", 1677000, 1998000, 3677000),
                    ("sleeping", 1998000, 3677000, 3677000)]
    first = track.violations[0]
    assert (first.time - origin, first.state, first.kind) == (3677000, "sleeping", "invariant")
    for s in track.segments:  # intervals never overlap and never run backwards
        assert s.end is not None and s.start <= s.end
    assert all(x.end <= y.start for x, y in zip(track.segments, track.segments[1:], strict=False))


def test_plot_svg_and_png_are_the_same_bytes_every_run(tmp_path):
    import os
    import subprocess
    import sys
    import xml.etree.ElementTree as ET

    pytest.importorskip("matplotlib")
    from hamodel.plot import render

    if not UPROBES_TRACE.is_file():
        pytest.skip(NO_SHARED)
    svgs = []
    for seed in ("1", "2"):
        path = tmp_path / f"{seed}.svg"
        done = subprocess.run(
            [sys.executable, "-m", "hamodel", "replay", "models/tlob.dot",
             str(UPROBES_TRACE), "--plot", str(path)], cwd=ROOT, capture_output=True,
            text=True, env=dict(os.environ, PYTHONPATH=str(ROOT), PYTHONHASHSEED=seed))
        assert done.returncode == 1, done.stderr  # the trace has violations
        svgs.append(path.read_bytes())
    assert svgs[0] == svgs[1]
    timeline, _ = _timeline()
    pngs = [render(timeline, "png", "tlob") for _ in range(2)]
    assert pngs[0] == pngs[1] and pngs[0].startswith(b"\x89PNG")
    texts = [t.text for t in ET.fromstring(svgs[0]).iter() if t.text]
    for label in ("5884", "running", "sleeping", "waiting", "violation",
                  "deadline of the armed invariant"):
        assert label in texts


def test_plot_refuses_other_formats_before_replaying(tmp_path):
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "hamodel", "replay", "models/tlob.dot",
                           "nonexistent.trace", "--plot", str(tmp_path / "x.pdf")], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.strip() == (f"hamodel replay: --plot '{tmp_path / 'x.pdf'}': the file"
                                   " name must end in .svg or .png")
