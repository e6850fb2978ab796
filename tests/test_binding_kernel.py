"""What a binding says for kernel C: kernel-only tracepoints and fields, `unless`,
true/false fields, [parameters], [env], the container and the timer.

Every value that reaches C is an identifier, a number or one of a few fixed
forms; anything else is refused where it is written (HA030), never pasted.
"""

from __future__ import annotations

import re

import pytest
from conftest import ROOT

from hamodel.binding import load_binding
from hamodel.gen import GenError, GenOptions
from hamodel.gen.kernel_c import generate
from hamodel.load import load_text
from hamodel.replay import ReplayError, replay

MODEL = """digraph state_automaton {
	{node [shape = plaintext, style=invis, label=""] "__init_idle"};
	{node [shape = doublecircle] "idle"};
	{node [shape = circle] "busy"};
	"__init_idle" -> "idle";
	"idle" -> "busy" [ label = "go;reset(clk)" ];
	"busy" [label = "busy\\nclk < LIMIT_NS()"];
	"busy" -> "idle" [ label = "stop;flag == 1" ];
	"busy" -> "busy" [ label = "tick;clk < max_ns" ];
}
"""


# Global and per-CPU monitors may not have clocks (struct da_monitor storage,
# docs/semantics.md): the same model with a read-only env instead.
PLAIN = (MODEL.replace("go;reset(clk)", "go").replace("\\nclk < LIMIT_NS()", "")
         .replace("tick;clk < max_ns", "tick;level < max_ns"))


def automaton(text: str = MODEL):
    a, diags = load_text(text, "m.dot")
    assert a is not None, [d.message for d in diags]
    return a


def load(tmp_path, body: str, text: str = MODEL):
    path = tmp_path / "m.binding.toml"
    path.write_text(body)
    return load_binding(path, automaton(text))


def errors(tmp_path, body: str) -> list[tuple[int, str]]:
    b, diags = load(tmp_path, body)
    assert b is None
    return [(d.span.line, d.message) for d in diags if d.is_error]


EVENTS = """
[[event]]
event = "go"
tracepoint = "sched_switch"
object = "next_pid"

[[event]]
event = "stop"
tracepoint = "sched_switch"
object = "prev_pid"
when = [{ field = "preempt", value = false }, { field = "raw_prev_state", op = "!=", value = 0 }]
handler = "start_event"

[[event]]
event = "tick"
tracepoint = "sched_switch"
object = "prev_pid"
unless = [{ field = "preempt", value = false }, { field = "raw_prev_state", op = "!=", value = 0 }]
"""


def bound(tmp_path, head: str = '[monitor]\ntype = "per_obj"\n', extra: str = ""):
    b, diags = load(tmp_path, head + extra + EVENTS)
    assert b is not None, [d.message for d in diags]
    return b


# --- conditions -----------------------------------------------------------------------


def test_unless_sends_the_event_when_not_every_condition_holds(tmp_path):
    b = bound(tmp_path)
    stop, tick = b.events[1], b.events[2]
    for preempt in (0, 1):
        for state in (0, 1, 0x1000):
            fields = {"preempt": preempt, "raw_prev_state": state}
            assert stop.matches(fields) == (not preempt and state != 0)
            assert tick.matches(fields) == (not stop.matches(fields))


def test_an_unless_that_is_the_previous_when_is_its_else(tmp_path):
    c = generate(automaton(), GenOptions("m.dot", binding=bound(tmp_path)))["m.c"]
    assert ("\tif (!preempt && prev_state != 0)\n"
            "\t\tda_handle_start_event(prev->pid, prev, stop_m);\n"
            "\telse\n"
            "\t\tda_handle_event(prev->pid, prev, tick_m);\n") in c


def test_an_unless_on_its_own_is_its_negation(tmp_path):
    text = (EVENTS.replace('event = "tick"\ntracepoint = "sched_switch"\nobject = "prev_pid"',
                           'event = "tick"\ntracepoint = "sched_switch"\nobject = "next_pid"'))
    b, _ = load(tmp_path, '[monitor]\ntype = "per_task"\n' + text)
    c = generate(automaton(), GenOptions("m.dot", binding=b))["m.c"]
    assert "\tif (preempt || prev_state == 0)\n\t\tda_handle_event(next, tick_m);\n" in c


@pytest.mark.parametrize(("condition", "message"), [
    ('{ field = "preempt", value = 1 }', "preempt is true or false"),
    ('{ field = "preempt", op = "<", value = true }', "preempt is true or false"),
    ('{ field = "raw_prev_state", value = "TASK_RUNNING); x(" }', "unknown constant"),
    ('{ field = "tif", value = 3 }', "no numeric field of sched_switch"),
])
def test_condition_values_are_checked(tmp_path, condition, message):
    body = ('[monitor]\ntype = "per_task"\n[[event]]\nevent = "go"\n'
            f'tracepoint = "sched_switch"\nobject = "prev_pid"\nwhen = {condition}\n')
    b, diags = load(tmp_path, body)
    if message is None:
        assert b is not None
    else:
        assert b is None and any(message in d.message for d in diags), diags


def test_one_table_may_name_several_tracepoints(tmp_path):
    body = ('[monitor]\ntype = "per_cpu"\n[[event]]\nevent = "go"\n'
            'tracepoint = ["irq_handler_entry", "local_timer_entry", "reschedule_entry"]\n')
    b, diags = load(tmp_path, body, PLAIN)
    assert [e.tracepoint for e in b.events] == ["irq_handler_entry", "local_timer_entry",
                                                 "reschedule_entry"]
    c = generate(automaton(PLAIN), GenOptions("m.dot", binding=b))["m.c"]
    # one handler for the x86 vector entries, compiled where they exist
    assert c.count("static void handle_vector_irq_entry(void *data, int vector)") == 1
    assert "#ifdef CONFIG_X86_LOCAL_APIC\n#include <asm/trace/irq_vectors.h>\n#endif\n" in c
    assert ("#if defined(CONFIG_X86_LOCAL_APIC) && defined(CONFIG_SMP)\n"
            "\trv_attach_trace_probe(\"m\", reschedule_entry, handle_vector_irq_entry);\n"
            "#endif\n") in c
    assert "#ifdef CONFIG_X86_LOCAL_APIC\nstatic void handle_vector_irq_entry" in c


def test_tracepoints_bring_their_headers_and_kconfig_dependencies(tmp_path):
    body = ('[monitor]\ntype = "per_cpu"\n[[event]]\nevent = "go"\ntracepoint = "irq_enable"\n'
            '[[event]]\nevent = "stop"\ntracepoint = "preempt_disable"\n'
            '[[event]]\nevent = "tick"\ntracepoint = "signal_deliver"\n')
    files = generate(automaton(PLAIN),
                     GenOptions("m.dot", binding=load(tmp_path, body, PLAIN)[0]))
    assert ("#include <trace/events/preemptirq.h>\n#include <trace/events/signal.h>\n"
            "#include <rv_trace.h>\n") in files["m.c"]
    assert "\tdepends on TRACE_IRQFLAGS\n\tdepends on PREEMPT_TRACER\n" in files["Kconfig"]


def test_per_task_hybrid_monitors_include_the_sched_tracepoints(tmp_path):
    # ha_monitor.h attaches its sched_process_exit cleanup to every per-task monitor,
    # skeletons included; other monitors get only what their handlers need
    body = '[monitor]\ntype = "per_task"\n[[event]]\nevent = "go"\ntracepoint = "irq_enable"\n'
    for options in (GenOptions("m.dot", monitor_type="per_task"),
                    GenOptions("m.dot", binding=load(tmp_path, body)[0])):
        assert "#include <trace/events/sched.h>\n" in generate(automaton(), options)["m.c"]
    c = generate(automaton(PLAIN), GenOptions("m.dot", monitor_type="per_cpu"))["m.c"]
    assert "trace/events/sched.h" not in c.replace("XXX", "")


# --- kernel-only parts: replay and eBPF refuse them ---------------------------------------


def test_kernel_only_parts_are_listed_and_refused_by_the_other_targets(tmp_path):
    b = bound(tmp_path)
    assert "event 'stop': field 'preempt' of sched_switch" in b.kernel_only()
    assert "event 'tick': unless" in b.kernel_only()
    trace = tmp_path / "t.txt"
    trace.write_text("# tracer: nop\n")
    with pytest.raises(ReplayError, match="only the kernel-C target follows"):
        replay(automaton(), b, trace, "text", {}, open("/dev/null", "w"), "ftrace")
    from hamodel.gen.ebpf import generate as ebpf_generate

    with pytest.raises(GenError, match="only the kernel-C target follows"):
        ebpf_generate(automaton(), GenOptions("m.dot", binding=b))
    tlob, _ = load_binding(ROOT / "models/tlob.binding.toml",
                           load_text((ROOT / "models/tlob.dot").read_text(), "tlob.dot")[0])
    assert tlob.kernel_only() == ()


# --- [parameters], [env], parent, timer -------------------------------------------------------

PARAMS = """
[parameters]
max_ns = "TICK_NSEC"
slack_ns = 1000
LIMIT_NS = ["target.budget", "slack_ns", 5]

[env]
flag = "!is_idle(target)"
"""


def test_parameters_and_envs_become_c_definitions(tmp_path):
    b = bound(tmp_path, extra=PARAMS)
    c = generate(automaton(), GenOptions("m.dot", binding=b))["m.c"]
    assert "static u64 slack_ns = 1000;\nmodule_param(slack_ns, ullong, 0644);\n" in c
    assert "static u64 max_ns = TICK_NSEC;\nmodule_param(max_ns, ullong, 0644);\n" in c
    assert ("#define LIMIT_NS(ha_mon) (ha_get_target(ha_mon)->budget + slack_ns + 5)\n") in c
    assert c.index("static u64 slack_ns") < c.index("#define LIMIT_NS")
    assert "\telse if (env == flag_m)\n\t\treturn !is_idle(ha_get_target(ha_mon));\n" in c
    assert "XXX" not in c


@pytest.mark.parametrize(("extra", "message"), [
    ('[parameters]\nLIMIT_NS = ["target.a->b"]\n', "is not a number"),
    ('[parameters]\nLIMIT_NS = ["x); evil("]\n', "is not a number"),
    ('[parameters]\nmax_ns = [1, 2]\n', "takes one value"),
    ('[parameters]\nOTHER = 5\n', "is no parameter of the model"),
    ('[parameters]\nmax_ns = "unknown_param"\n', "is not a number"),
    ('[env]\nflag = "irqs_disabled(); evil()"\n', "is not a reader"),
    ('[env]\nflag = "target.x.y"\n', "is not a reader"),
    ('[env]\nclk = "irqs_disabled()"\n', "no read-only env"),
    ('[monitor]\nparent = "a b"\n', "not a monitor name"),
    ('[monitor]\ntimer = "soon"\n', "timer 'soon'"),
])
def test_what_reaches_c_is_checked(tmp_path, extra, message):
    head = '[monitor]\ntype = "per_obj"\n' if not extra.startswith("[monitor]") else ""
    body = head + extra.replace("[monitor]\n", '[monitor]\ntype = "per_obj"\n') + EVENTS
    found = errors(tmp_path, body)
    assert any(message in m for _, m in found), found
    assert all(line > 1 for line, _ in found)


def test_target_readers_need_a_per_obj_monitor(tmp_path):
    found = errors(tmp_path, '[monitor]\ntype = "per_task"\n[env]\nflag = "target.on"\n' + EVENTS)
    assert any("per_obj" in m for _, m in found)


def test_parameters_a_start_marker_sets_are_not_defined_again(tmp_path):
    tlob = load_text((ROOT / "models/tlob.dot").read_text(), "tlob.dot")[0]
    text = (ROOT / "models/tlob.binding.toml").read_text() + "\n[parameters]\nBUDGET_NS = [5]\n"
    path = tmp_path / "tlob.binding.toml"
    path.write_text(text)
    b, diags = load_binding(path, tlob)
    assert b is None and any("set by the start marker" in d.message for d in diags)


def test_parent_and_timer_from_the_binding(tmp_path):
    b = bound(tmp_path, '[monitor]\ntype = "per_obj"\nparent = "sched"\ntimer = "wheel"\n')
    files = generate(automaton(), GenOptions("m.dot", binding=b))
    c = files["m.c"]
    assert "#include <monitors/sched/sched.h>\n" in c
    assert "return rv_register_monitor(&rv_this, &rv_sched);" in c
    assert "/* Invariant timer: the timer wheel, as the binding asks. */\n" \
           "#define HA_TIMER_TYPE HA_TIMER_WHEEL\n" in c
    assert "\tdepends on RV_MON_SCHED\n\tdefault y\n" in files["Kconfig"]
    # without the key, an ns invariant gets an hrtimer, and the comment says why
    c = generate(automaton(), GenOptions("m.dot", binding=bound(tmp_path)))["m.c"]
    assert "#define HA_TIMER_TYPE HA_TIMER_HRTIMER\n" in c and "round up to the next jiffy" in c


# Fragments of the comment sentences of rvgen's templates and dot2k.py (the
# kernel's tools/verification/rvgen): generated files keep rvgen's layout and
# names, never its prose.
RVGEN_PROSE = (
    "self-generated part of the monitor", "there is no need to touch", "instrumentation part",
    "manual work is required", "translated into model's event", "monitor register section",
    "Snippet to be included", "Automatically generated C representation",
    "For further information about this format", "include required tracepoint headers",
    "define how to read and reset", "pre-define getters", "infer the type",
    "appropriate memory barriers", "used to validate state transitions",
    "generated by parsing the model", "responsible to arm it", "didn't expire before",
    "several instances, consider", "what is ", "how do I", "fill header", "default value",
    "validate that this event", "add dependencies if there", "define the target type",
)


def test_generated_comments_are_the_projects_own(tmp_path):
    outputs = []
    for mtype in ("global", "per_cpu", "per_task", "per_obj"):
        model = automaton(PLAIN if mtype in ("global", "per_cpu") else MODEL)
        outputs.append(generate(model, GenOptions("m.dot", monitor_type=mtype)))
    outputs.append(generate(automaton(), GenOptions("m.dot", binding=bound(tmp_path, extra=PARAMS))))
    tlob = load_text((ROOT / "models/tlob.dot").read_text(), "tlob.dot")[0]
    tlob_binding, _ = load_binding(ROOT / "models/tlob.binding.toml", tlob)
    outputs.append(generate(tlob, GenOptions("tlob.dot", binding=tlob_binding)))
    for files in outputs:
        for rel, text in files.items():
            comments = " ".join(" ".join(c.split()) for c in
                                re.findall(r"/\*.*?\*/|//[^\n]*|^#[^\n]*", text, re.S | re.M))
            found = [p for p in RVGEN_PROSE if p.lower() in comments.lower()]
            assert not found, (rel, found)


def test_deadline_entities_need_their_container(tmp_path):
    dl = ('[[event]]\nevent = "go"\ntracepoint = "sched_dl_replenish_tp"\nobject = "dl_se"\n')
    found = errors(tmp_path, '[monitor]\ntype = "per_obj"\nobjects = "dl_entity"\n' + dl)
    assert any('parent = "deadline"' in m for _, m in found)
    found = errors(tmp_path, '[monitor]\ntype = "per_obj"\n' + dl)
    assert any("is a deadline entity" in m for _, m in found)
    found = errors(tmp_path, '[monitor]\ntype = "per_obj"\nobjects = "cars"\n' + dl)
    assert any("objects = 'cars'" in m for _, m in found)
    b, diags = load(tmp_path, '[monitor]\ntype = "per_obj"\nobjects = "dl_entity"\n'
                    'parent = "deadline"\nexit = "sched_process_exit"\n' + dl)
    assert b is not None and b.objects == "dl_entity"
    with pytest.raises(GenError, match="keeps their storage itself"):
        generate(automaton(), GenOptions("m.dot", binding=b))
