"""kernel-c: rvgen's layout, and none of rvgen's bugs.

Each test names the rvgen behaviour it guards against (see the issue and
../shared/models/rvgen-probes/README.md).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys

import pytest
from conftest import MODELS, ROOT

from hamodel.gen import GenError, GenOptions
from hamodel.gen.kernel_c import constraint_source, generate, notes
from hamodel.gen.names import c_string, ident_problem
from hamodel.load import load_text

PROBES = MODELS / "rvgen-probes"


def model(body: str, name: str = "m") -> str:
    """A model with states a (initial, final), b and c around the given lines."""
    return (
        "digraph state_automaton {\n"
        '\t{node [shape = plaintext, style=invis, label=""] "__init_a"};\n'
        '\t{node [shape = doublecircle] "a"};\n'
        '\t{node [shape = circle] "b"};\n'
        '\t{node [shape = circle] "c"};\n'
        '\t"__init_a" -> "a";\n' + body + "}\n"
    )


def gen(text: str, monitor_type: str = "per_task", **opts) -> dict[str, str]:
    a, diags = load_text(text, "m.dot")
    assert a is not None, [d.message for d in diags]
    return generate(a, GenOptions(model_path="m.dot", monitor_type=monitor_type, **opts))


def gen_error(text: str, monitor_type: str = "per_task", **opts) -> GenError:
    with pytest.raises(GenError) as info:
        gen(text, monitor_type, **opts)
    return info.value


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hamodel", *args], capture_output=True,
                          text=True, timeout=60, cwd=ROOT)


# --- guards are printed from the tree ----------------------------------------------


def test_unset_clock_escape_follows_the_tree_not_substrings():
    # rvgen adds clk's escape to any rule whose text contains "clk": myclkx too.
    c = gen(model(
        '\t"a" -> "b" [ label = "e1;myclkx == 1;reset(clk)" ];\n'
        '\t"b" -> "a" [ label = "e2;clk < 5ns" ];\n'
    ))["m.c"]
    assert "res = ha_get_env(ha_mon, myclkx_m, time_ns) == 1ull;" in c
    assert "res = ha_monitor_env_invalid(ha_mon, clk_m) ||" in c
    assert c.count("ha_monitor_env_invalid") == 1


def test_unset_clock_escape_covers_the_whole_guard():
    # As rvgen writes it: `invalid(clk) || (clk < 5 && x == 1)`, an unset clock lets x be
    # anything (docs/semantics.md; tests/test_framework_semantics.py runs it).
    c = gen(model('\t"a" -> "b" [ label = "e1;clk < 5ns && x == 1" ];\n'
                  '\t"b" -> "a" [ label = "e2;reset(clk)" ];\n'))["m.c"]
    line = " ".join(c.split("\t\tres = ", 1)[1].split(";", 1)[0].split())
    assert line == ("ha_monitor_env_invalid(ha_mon, clk_m) || (ha_get_env(ha_mon, clk_m, time_ns)"
                    " < 5ull && ha_get_env(ha_mon, x_m, time_ns) == 1ull)")
    # a single comparison needs no parentheses
    c = gen(model('\t"a" -> "b" [ label = "e1;clk < 5ns" ];\n'
                  '\t"b" -> "a" [ label = "e2;reset(clk)" ];\n'))["m.c"]
    line = " ".join(c.split("\t\tres = ", 1)[1].split(";", 1)[0].split())
    assert line == "ha_monitor_env_invalid(ha_mon, clk_m) || ha_get_env(ha_mon, clk_m, time_ns) < 5ull"


def test_and_inside_or_is_parenthesised_and_not_keeps_its_operand():
    c = gen(model('\t"a" -> "b" [ label = "e1;x == 1 && y == 2 || !(y < 3)" ];\n'
                  '\t"b" -> "a" [ label = "e2" ];\n'))["m.c"]
    line = " ".join(c.split("\t\tres = ", 1)[1].split(";", 1)[0].split())
    assert line == ("(ha_get_env(ha_mon, x_m, time_ns) == 1ull && ha_get_env(ha_mon, y_m, time_ns)"
                    " == 2ull) || !(ha_get_env(ha_mon, y_m, time_ns) < 3ull)")


# --- units, literals, symbols -------------------------------------------------------


def test_unit_after_a_constant_scales_it_everywhere():
    # rvgen drops `us` in guards and, in a state label, pastes the name 10**6 times.
    files = gen(model('\t"b" [label = "b\\nclk < LIMIT ms"];\n'
                      '\t"a" -> "b" [ label = "e1;clk < LIMIT us;reset(clk)" ];\n'
                      '\t"b" -> "a" [ label = "e2" ];\n'))
    c = files["m.c"]
    assert "< LIMIT * 1000ull;" in c
    assert "ha_check_invariant_ns(ha_mon, clk_m, time_ns, LIMIT * 1000000ull);" in c
    assert "ha_start_timer_ns(ha_mon, clk_m, LIMIT * 1000000ull, time_ns);" in c
    assert len(c) < 20_000
    assert "#define LIMIT /* XXX: the value of LIMIT */" in c


def test_every_integer_literal_is_ull_in_checks_and_timers():
    # rvgen writes 5000000ull in guards but a bare 5000000 in ha_start_timer_ns.
    c = gen(model('\t"b" [label = "b\\nclk < 5ms"];\n'
                  '\t"a" -> "b" [ label = "e1;reset(clk)" ];\n'
                  '\t"b" -> "a" [ label = "e2;clk > 2ms" ];\n'))["m.c"]
    assert "ha_start_timer_ns(ha_mon, clk_m, 5000000ull, time_ns);" in c
    assert "ha_check_invariant_ns(ha_mon, clk_m, time_ns, 5000000ull);" in c
    assert "> 2000000ull;" in c
    constraint_lines = [ln for ln in c.splitlines() if "ha_" in ln and "(" in ln]
    bare = [ln for ln in constraint_lines if re.search(r"[ (,]\d+(?![\dux])", ln)]
    assert not bare


def test_closed_and_open_bounds_are_written_alike():
    # As rvgen writes them: the framework decides how a bound compares (docs/semantics.md).
    c = gen(model('\t"b" [label = "b\\nclk <= 10ns"];\n\t"c" [label = "c\\nclk < LIM_NS()"];\n'
                  '\t"a" -> "b" [ label = "e1;reset(clk)" ];\n\t"b" -> "c" [ label = "e1" ];\n'
                  '\t"c" -> "a" [ label = "e2" ];\n'), "per_task")["m.c"]
    assert "ha_start_timer_ns(ha_mon, clk_m, 10ull, time_ns);" in c
    assert "ha_check_invariant_ns(ha_mon, clk_m, time_ns, 10ull);" in c
    assert "ha_start_timer_ns(ha_mon, clk_m, LIM_NS(ha_mon), time_ns);" in c


def test_clock_without_unit_still_reads_time():
    # rvgen gives such a clock no getter and no HA_CLK_NS, so ha_get_ns() is 0.
    a, _ = load_text((PROBES / "nounit.dot").read_text(), "nounit.dot")
    files = generate(a, GenOptions(model_path="nounit.dot", monitor_type="per_task"))
    assert "#define HA_CLK_NS\n" in files["nounit.h"]
    assert "return ha_get_clk_ns(ha_mon, env, time_ns);" in files["nounit.c"]


def test_jiffy_clock_uses_jiffy_helpers_and_the_wheel():
    a, _ = load_text((MODELS / "upstream/stall.dot").read_text(), "stall.dot")
    files = generate(a, GenOptions(model_path="stall.dot", monitor_type="per_task"))
    c = files["stall.c"]
    assert "#define HA_TIMER_TYPE HA_TIMER_WHEEL\n" in c
    assert "ha_start_timer_jiffy(ha_mon, clk_stall, threshold_jiffies, time_ns);" in c
    assert "return ha_get_clk_jiffy(ha_mon, env);" in c
    assert "HA_CLK_NS" not in files["stall.h"]
    assert "static u64 threshold_jiffies = /* XXX: its default */;" in c


# --- what the kernel API cannot express ---------------------------------------------


def test_two_stored_clocks_are_refused_with_a_located_error():
    result = run("gen", "--target", "kernel-c", "-t", "per_task", str(PROBES / "twoclocks.dot"),
                 "-o", "/nonexistent/never")
    assert result.returncode == 2
    assert re.search(r"twoclocks\.dot:\d+:\d+: error\[HA023\].*MAX_HA_ENV_LEN = 1", result.stderr)
    assert "Traceback" not in result.stderr


def test_two_targets_for_one_state_and_event_are_refused():
    err = gen_error(model('\t"a" -> "b" [ label = "e1;x == 1" ];\n'
                          '\t"a" -> "c" [ label = "e1;x == 2" ];\n'
                          '\t"b" -> "a" [ label = "e2" ];\n\t"c" -> "a" [ label = "e2" ];\n'))
    assert "one next state per state and event" in err.diagnostics[0].message
    assert err.diagnostics[0].span is not None


def test_edges_that_differ_only_in_guard_become_one_disjunction():
    c = gen(model('\t"a" -> "b" [ label = "e1;x == 1\\ne1;x == 2" ];\n'
                  '\t"b" -> "a" [ label = "e2" ];\n'))["m.c"]
    assert ("res = ha_get_env(ha_mon, x_m, time_ns) == 1ull || "
            "ha_get_env(ha_mon, x_m, time_ns) == 2ull;") in " ".join(c.split())


# --- options reach C only as identifiers or escaped strings -----------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-t", "per_thread"], "monitor type 'per_thread'"),
        (["-t", "per_task", "-n", "x;int y"], "not a C identifier"),
        (["-t", "per_task", "-n", "int"], "C keyword"),
        (["-t", "per_task", "-p", "../../etc"], "parent monitor (-p)"),
        (["-t", "per_task", "-D", "two\nlines"], "one line"),
        (["-t", "per_task", "-p", "wip"], "is the monitor itself"),
        (["-t", "per_task", "-n", "mon", "-p", "mon"], "is the monitor itself"),
        (["-t", "per_task", "-n", "current"], "kernel macro"),
        (["-t", "per_task", "-n", "MONITOR_NAME"], "kernel macro"),
        (["-t", "per_task", "-n", "__init"], "reserved"),
        (["-t", "per_task", "-p", "current"], "kernel macro"),
    ],
)
def test_bad_options_are_refused(args, message, tmp_path):
    result = run("gen", "--target", "kernel-c", str(MODELS / "upstream/wip.dot"), *args,
                 "-o", str(tmp_path / "out"))
    assert result.returncode == 2, result.stdout
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_names_module_refuses_what_c_cannot_take():
    assert ident_problem("x;y") == "it contains ';'"
    assert ident_problem("9lives") == "it starts with a digit"
    assert ident_problem("static") == "it is a C keyword"
    assert ident_problem("__attribute__") == "it is a C keyword"
    assert ident_problem("wip") is None
    assert c_string('a"\\\n??=é') == 'a\\"\\\\\\012?\\?=\\303\\251'


def test_missing_monitor_type_is_asked_for():
    err = gen_error(model('\t"a" -> "b" [ label = "e1" ];\n'), monitor_type=None)
    assert "-t global|per_cpu|per_task|per_obj" in err.diagnostics[0].message


def test_description_is_escaped_in_c_and_kept_in_kconfig():
    files = gen(model('\t"a" -> "b" [ label = "e1" ];\n'), description='say "hi" \\ ok')
    assert '.description = "say \\"hi\\" \\\\ ok",' in files["m.c"]
    assert '\t  say "hi" \\ ok\n' in files["Kconfig"]


# --- rvgen's layout -----------------------------------------------------------------


def test_da_per_obj_with_parent_follows_rvgen():
    # The shape of rvgen's tests/specs/test_da2.dot: e1 only leaves the initial state.
    files = gen(model('\t"a" -> "b" [ label = "e1" ];\n\t"a" -> "c" [ label = "e2" ];\n'
                      '\t"b" -> "a" [ label = "e2" ];\n\t"b" -> "c" [ label = "e3" ];\n'),
                "per_obj", name="objmon", parent="parent_mon")
    c = files["objmon.c"]
    assert "#include <monitors/parent_mon/parent_mon.h>\n" in c
    # rvgen's `typedef /* XXX */ *monitor_target;` is a checkpatch spacing error.
    assert "/* XXX: the type of the monitored objects */\ntypedef void *monitor_target;\n" in c
    assert "\tda_handle_start_run_event(id, t, e1_objmon);\n" in c
    assert "\tda_handle_event(id, t, e2_objmon);\n" in c
    assert "static void handle_obj_cleanup(void *data, /* XXX: the tracepoint's arguments */)" in c
    assert "return rv_register_monitor(&rv_this, &rv_parent_mon);" in c
    assert "#include <rv/da_monitor.h>\n" in c and "ha_" not in c
    assert "\tdepends on RV_MON_PARENT_MON\n\tdefault y\n\tselect DA_MON_EVENTS_ID\n" in files["Kconfig"]
    assert "TP_PROTO(int id, char *state, char *event)," in files["objmon_trace.h"]


def test_global_and_per_cpu_handlers_take_only_the_event():
    for mtype in ("global", "per_cpu"):
        c = gen(model('\t"a" -> "b" [ label = "e1" ];\n\t"b" -> "a" [ label = "e2" ];\n'),
                mtype)["m.c"]
        assert "\tda_handle_start_event(e2_m);\n" in c
        assert "DA_MON_EVENTS_IMPLICIT" not in c


def test_wide_table_rows_break_per_cell():
    # rvgen/dot2c.py: a row that would pass 100 columns gets one cell per line.
    a, _ = load_text((MODELS / "upstream/sched/sssw.dot").read_text(), "sssw.dot")
    h = generate(a, GenOptions(model_path="sssw.dot", monitor_type="per_task"))["sssw.h"]
    assert "\t\t{\n\t\t\trunnable_sssw,\n\t\t\tsleepable_sssw,\n" in h
    assert all(len(line.expandtabs(8)) <= 100 for line in h.splitlines())


def test_self_loops_re_arm_per_event_name():
    # As rvgen's self_loop_reset_events: e1 resets on a's loop, so b's plain e1 loop
    # re-arms b's timer too (docs/semantics.md, the framework's own behaviour).
    c = gen(model('\t"b" [label = "b\\nclk < 9ns"];\n'
                  '\t"a" -> "a" [ label = "e1;reset(clk)" ];\n'
                  '\t"a" -> "b" [ label = "e2" ];\n'
                  '\t"b" -> "b" [ label = "e1" ];\n\t"b" -> "a" [ label = "e2" ];\n'))["m.c"]
    assert "\tif (next_state == curr_state && event != e1_m)\n" in c


def test_constraint_slice_is_a_verbatim_part_of_the_monitor():
    a, _ = load_text((MODELS / "upstream/deadline/nomiss.dot").read_text(), "nomiss.dot")
    options = GenOptions(model_path="nomiss.dot", monitor_type="per_obj")
    assert constraint_source(a, options) in generate(a, options)["nomiss.c"]


def test_generated_lines_fit_100_columns_and_use_tabs():
    a, _ = load_text((ROOT / "models/tlob.dot").read_text(), "tlob.dot")
    for text in generate(a, GenOptions(model_path="tlob.dot", monitor_type="per_obj")).values():
        for line in text.splitlines():
            assert len(line.expandtabs(8)) <= 100, line
            assert not line.startswith("    "), line
            assert line == line.rstrip(), line


def test_skeletons_are_announced_on_stdout(tmp_path):
    result = run("gen", "--target", "kernel-c", "-t", "per_cpu",
                 str(MODELS / "upstream/sched/opid.dot"), "-o", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "handlers are /* XXX */ skeletons" in result.stdout
    assert "write how to read irq_off in ha_get_env()" in result.stdout


def test_binding_writes_handler_bodies():
    a, _ = load_text((ROOT / "models/tlob.dot").read_text(), "tlob.dot")
    from hamodel.binding import find_binding

    binding, _ = find_binding(ROOT / "models/tlob.dot", a)
    assert binding is not None
    options = GenOptions(model_path="tlob.dot", binding=binding)
    c = generate(a, options)["tlob.c"]
    assert "XXX" not in c
    assert "\trv_attach_trace_probe(\"tlob\", sched_switch, handle_sched_switch);\n" in c
    # the storage made at the start holds the target: events pass only the id
    assert "\t\tda_handle_event(prev->pid, NULL, preempt_tlob);\n" in c
    assert not any("skeleton" in n for n in notes(a, options))


def test_output_does_not_depend_on_the_hash_seed():
    code = (
        "import hashlib, sys\n"
        "from hamodel.load import load_model\n"
        "from hamodel.gen import GenOptions\n"
        "from hamodel.gen.kernel_c import generate\n"
        "h = hashlib.sha256()\n"
        "for p in sorted(sys.argv[1:]):\n"
        "    a, _ = load_model(p)\n"
        "    for k, v in sorted(generate(a, GenOptions(p, monitor_type='per_task')).items()):\n"
        "        h.update(k.encode() + v.encode())\n"
        "print(h.hexdigest())\n"
    )
    paths = [str(p) for p in sorted((MODELS / "upstream").rglob("*.dot"))]
    paths.append(str(ROOT / "models/tlob.dot"))
    digests = set()
    for seed in ("1", "31337"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        out = subprocess.run([sys.executable, "-c", code, *paths], capture_output=True,
                             text=True, env=env, cwd=ROOT, check=True)
        digests.add(out.stdout)
    assert len(digests) == 1 and hashlib.sha256().hexdigest() not in digests


def test_binding_the_c_cannot_follow_is_refused_without_traceback(tmp_path):
    shutil.copy(ROOT / "models/tlob.dot", tmp_path / "tlob.dot")
    text = (ROOT / "models/tlob.binding.toml").read_text()
    text = text.replace('event = "wakeup"\ntracepoint = "sched_wakeup"\nobject = "pid"',
                        'event = "wakeup"\ntracepoint = "sched_wakeup"\nobject = "prio"')
    assert 'object = "prio"' in text
    (tmp_path / "tlob.binding.toml").write_text(text)
    result = run("gen", "--target", "kernel-c", str(tmp_path / "tlob.dot"), "-o",
                 str(tmp_path / "out"))
    assert result.returncode == 2
    assert "object 'prio' names no task" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "out").exists()


def test_start_markers_need_a_per_obj_monitor_of_tasks(tmp_path):
    from hamodel.binding import load_binding

    a, _ = load_text((ROOT / "models/tlob.dot").read_text(), "tlob.dot")
    text = (ROOT / "models/tlob.binding.toml").read_text()
    cases = {
        "[stop]": text.replace('[stop]\nmarker = "tlob_stop"', '[other]\nmarker = "tlob_stop"'),
        "common_pid": text.replace('object = "common_pid"\nparams', 'object = "pid"\nparams'),
        "running_ns": text.replace('names = { BUDGET_NS = "threshold" }',
                                   'names = { BUDGET_NS = "running" }'),
    }
    for needle, variant in cases.items():
        path = tmp_path / "tlob.binding.toml"
        path.write_text(variant)
        binding, diags = load_binding(path, a)
        assert binding is not None, [d.message for d in diags]
        with pytest.raises(GenError) as err:
            generate(a, GenOptions(model_path="tlob.dot", binding=binding))
        assert needle in err.value.diagnostics[0].message


def test_another_monitor_type_leaves_the_markers_to_write():
    from hamodel.binding import find_binding

    a, _ = load_text((ROOT / "models/tlob.dot").read_text(), "tlob.dot")
    binding, _ = find_binding(ROOT / "models/tlob.dot", a)
    options = GenOptions(model_path="tlob.dot", binding=binding, monitor_type="per_task")
    files = generate(a, options)
    assert "tlob_start_task" not in files["tlob.c"]
    # nothing but the markers starts tlob: its one KUnit case says so and skips
    assert 'kunit_skip(test, "no event starts the monitor");' in files["tlob_kunit.c"]
    assert any("tlob_start" in n and "by hand" in n for n in notes(a, options))


def test_residency_and_start_parameters_in_the_c():
    a, _ = load_text((ROOT / "models/tlob.dot").read_text(), "tlob.dot")
    from hamodel.binding import find_binding

    binding, _ = find_binding(ROOT / "models/tlob.dot", a)
    files = generate(a, GenOptions(model_path="tlob.dot", binding=binding))
    c = files["tlob.c"]
    assert "XXX" not in c.replace("/* XXX: If the monitor has several instances", "")
    assert "int tlob_start_task(struct task_struct *task, u64 threshold_ns)\n{" in c
    assert "\tif (threshold_ns < TLOB_THRESHOLD_NS_MIN || threshold_ns > TLOB_THRESHOLD_NS_MAX)\n"\
        "\t\treturn -ERANGE;\n" in c
    assert "\ttlob_account_residency(ha_mon, curr_state, time_ns);\n\n\treturn true;\n" in c
    assert "rv_attach_trace_probe(\"tlob\", error_env_tlob, handle_error_env);" in c
    assert "int tlob_start_task(struct task_struct *task, u64 threshold_ns);" in files["tlob.h"]
    assert "TRACE_EVENT(detail_env_tlob," in files["tlob_trace.h"]
    assert "KUNIT" not in files["Kconfig"]  # the cases are rv_monitors_test.c's
    assert ".start_task = tlob_start_task," in c
