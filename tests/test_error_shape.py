"""ONE test for the shape of every error: every error path the suite knows, run through
the command line, must print `FILE:LINE:COL: error[HAnnn]: what`, the line of the file
quoted, and a caret under the column (tests/located.py checks the quote against the
file on disk and the caret against the column).

The cases below are the error inputs of the model reader and builder, the binding
reader, the trace readers and replay.  The test also traces which lines of those
modules ran, and fails when a place that makes an error (`self.err(...)`,
`dg.error(...)`, `raise TraceFormatError(...)`, ...) was not reached by any case:
a new error path needs a case here, so it cannot escape the shape.  A few places
are about no line of any file (a missing file, an option, a file name that is no
C name): those print one line, and are listed as such.
"""

from __future__ import annotations

import ast
import io
import json
import sys
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path

from located import HEADLINE, NOTE, Located, check_against

from hamodel import cli

ROOT = Path(__file__).resolve().parent.parent
TLOB = (ROOT / "models" / "tlob.dot").read_text()
BINDING = (ROOT / "models" / "tlob.binding.toml").read_text()
PAGEFAULT = (ROOT / "models" / "pagefault.ltl").read_text()
PF_BINDING = (ROOT / "models" / "pagefault.binding.toml").read_text()

# Modules whose error-making places must all be reached by a case, and the calls that
# make an error there.
SITE_MODULES = ("load.py", "parse.py", "build.py", "binding.py", "binding_kernel.py",
                "binding_coverage.py", "replay.py",
                "trace/ftrace.py", "trace/bind.py", "trace/jsonl.py", "trace/stream.py",
                "ltl/load.py", "ltl/parse.py", "ltl/build.py", "ltl/binding.py",
                "ltl/replay.py")
SITE_CALLS = {"err", "error", "TraceFormatError", "JsonlError", "ReplayError",
              "TraceInputError", "_too_long", "_error"}
# Places no input can reach, with the reason.
UNREACHABLE = {
    ("load.py", "the model is nested too deeply"): "a backstop: parse.py limits nesting first",
    ("binding.py", "return message, Span.point(name, 1, 1)"):
        "tomllib's message always carries its place",
    ("replay.py", "raise ReplayError(count, str(exc)) from None"):
        "a backstop: the time of a `lost` line was checked against the last one already",
    ("trace/stream.py", "shrank while it was followed"):
        "needs a file shrinking under --follow: tests/test_replay_stream.py",
    ("trace/stream.py", 'raise TraceInputError(0, f"{self.name}: {exc.strerror or exc}",'):
        "read(2) failing on an opened trace (EIO): no file here does that",
    ("ltl/load.py", "the formula is nested too deeply"):
        "a backstop: parse.py and build.py bound the nesting first",
    ("ltl/replay.py", "raise _error(line, str(exc), json.dumps(atom)) from None"):
        "a backstop: the atom was checked against the spec just before",
}


@dataclass(frozen=True)
class Case:
    """A command (`{model}`, `{binding}`, `{trace}` stand for the files) and the files."""

    name: str
    args: tuple[str, ...]
    model: str | bytes = TLOB
    binding: str | bytes | None = None
    trace: str | bytes | None = None
    status: int = 2
    one_line: bool = False  # about no line of a file: one line, no place
    files: dict[str, str] = field(default_factory=dict)


def show(name: str, model: str | bytes, **kw) -> Case:
    return Case(name, ("show", "{model}"), model, **kw)


def tlob(old: str, new: str) -> str:
    assert old in TLOB, old
    return TLOB.replace(old, new, 1)


def edge(line: str) -> str:
    """tlob with one more statement before its closing brace."""
    return TLOB[: TLOB.rindex("}")] + line + "\n}\n"


def bound(name: str, binding: str | bytes, **kw) -> Case:
    return Case(name, ("replay", "{model}", "/dev/null", "--binding", "{binding}"),
                binding=binding, **kw)


def bind(old: str, new: str) -> str:
    assert old in BINDING, old
    return BINDING.replace(old, new, 1)


def replayed(name: str, trace: str | bytes, *extra: str, **kw) -> Case:
    return Case(name, ("replay", "{model}", "{trace}", *extra), trace=trace, **kw)


def line(t_us: int, body: str, task: str = "marker-100") -> str:
    return f"  {task} [000] d..2. {t_us // 10**6}.{t_us % 10**6:06d}: {body}\n"


# tlob's binding with a start marker that sets no parameter; tlob with a read-only env.
UNSTARTED = bind("params = { BUDGET_NS = \"budget_ns\" }", "").replace(
    "limits = { BUDGET_NS = [1000, 3600000000000] }", "").replace(
    'names = { BUDGET_NS = "threshold" }', "")
WITH_ENV = tlob('"running" -> "sleeping" [ label = "sleep" ]',
                '"running" -> "sleeping" [ label = "sleep;is_x == 1" ]')
START = line(1_000_000, "tlob_start: (0x5) id=0 budget_ns=2000000")
SWITCH = ("sched_switch: prev_comm=m prev_pid=100 prev_prio=120 prev_state={} ==> "
          "next_comm=x next_pid=7 next_prio=120")
JSTART = '{"t": 0, "start": 1, "params": {"BUDGET_NS": 1000}}\n'
BIG = 1 << 64

CASES = [
    # --- reading a model: encoding, size, syntax ---
    show("not UTF-8", TLOB.encode().replace(b'"sleeping" [', b'"sl\xffeping" [')),
    show("NUL byte", TLOB.encode().replace(b"wakeup", b"wake\x00up")),
    show("too large", edge("\t// " + "x" * 300_000)),
    show("syntax", 'digraph x {\n\t"a" -> [ label = "e" ];\n}\n'),
    show("nested too deep", "digraph x {" + "{" * 70 + "}" * 70 + "}\n"),
    show("state label syntax", tlob('label = "sleeping\\nclk_elapsed < BUDGET_NS()"',
                                    'label = "sleeping\\nclk_elapsed < "')),
    show("guard too deep", edge('\t"running" -> "running" [ label = "sleep;'
                                + " && ".join(["clk_elapsed < 1ms"] * 70) + '" ];')),
    show("number too big", tlob("clk_elapsed < BUDGET_NS()", "clk_elapsed < 99999999999999999999ns")),
    # --- building the automaton ---
    show("graph, not digraph", tlob("digraph state_automaton {", "graph state_automaton {")
         .replace("->", "--")),
    show("no initial state", 'digraph x {\n\t{node [shape = circle] "a"};\n\t"a" -> "a" '
                             '[ label = "e" ];\n}\n'),
    show("second initial marker", tlob('{node [shape = ellipse] "running"};',
                                       '{node [shape = ellipse] "running"};\n\t{node [shape = '
                                       'plaintext] "__init_sleeping"};')),
    show("marker names no state", tlob('"__init_running"};', '"__init_running"};\n\t{node '
                                       '[shape = plaintext] "__init_nothing"};')
         .replace('"__init_running"', '"__init_zzz"')),
    show("labelled twice", tlob('"running" [label = "running\\nclk_elapsed < BUDGET_NS()", '
                                'color = green3];', '"running" [label = "running\\nclk_elapsed '
                                '< BUDGET_NS()", color = green3];\n\t"running" [label = "run"];')),
    show("label names another state", tlob('"waiting" [label = "waiting\\n',
                                           '"waiting" [label = "sleeping\\n')),
    show("bare node", edge('\t"lonely";')),
    show("marker edge", edge('\t"__init_running" -> "sleeping" [ label = "x" ];')),
    show("second initial arrow", edge('\t"__init_running" -> "running";')),
    show("unlabelled edge", edge('\t"running" -> "sleeping";')),
    show("two guards", edge('\t"running" -> "sleeping" [ label = "sleep;clk_elapsed < 1ms;'
                            'clk_elapsed < 2ms" ];')),
    show("no initial arrow", tlob('\t"__init_running" -> "running" [ label = '
                                  '"reset(clk_elapsed)" ];\n', "")),
    show("undirected edge", edge('\t"running" -- "sleeping" [ label = "sleep" ];')),
    show("edge chain", edge('\t"running" -> "sleeping" -> "waiting" [ label = "sleep" ];')),
    show("subgraph as an end", edge('\t"running" -> { "sleeping" } [ label = "sleep" ];')),
    show("undeclared node", edge('\t"running" -> "nowhere" [ label = "sleep" ];')),
    show("invariant on no clock", tlob("reset(clk_elapsed)", "")),
    show("conflicting units", tlob("clk_elapsed < BUDGET_NS()", "clk_elapsed < 3j")
         .replace('"sleeping\\nclk_elapsed < BUDGET_NS()"', '"sleeping\\nclk_elapsed < 5ms"')),
    show("one parameter two spellings", tlob('"sleeping\\nclk_elapsed < BUDGET_NS()"',
                                             '"sleeping\\nclk_elapsed < BUDGET_NS"')),
    show("C keyword event", TLOB.replace('"sleep"', '"while"')),
    show("reserved name", TLOB.replace('"sleep"', '"state_max"')),
    show("name clash", TLOB.replace('"sleep"', '"waiting"')),
    show("C keyword parameter", TLOB.replace("BUDGET_NS", "int")),
    Case("monitor name from the file", ("show", "{model}"), TLOB, one_line=True,
         files={"model": "1tlob.dot"}),
    Case("missing model", ("show", "{model}"), one_line=True, files={"model": "-absent-"}),
    # --- the binding ---
    bound("TOML syntax", "[monitor\n"),
    bound("TOML at the end", '[monitor]\ntype = [1,\n'),
    bound("binding not UTF-8", BINDING.encode().replace(b"per_obj", b"per_\xe9bj")),
    bound("wrong type", bind('type = "per_obj"', "type = 5")),
    bound("monitor type", bind('type = "per_obj"', 'type = "per_thing"')),
    bound("start marker name", bind('marker = "tlob_start"', 'marker = "tlob start"')),
    bound("start sets no parameter", bind("params = { BUDGET_NS", "params = { BUDGET")
          .replace("limits = { BUDGET_NS = [1000, 3600000000000] }", "")
          .replace('names = { BUDGET_NS = "threshold" }', "")),
    bound("start argument", bind('BUDGET_NS = "budget_ns"', 'BUDGET_NS = "budget ns"')),
    bound("start object", bind('object = "common_pid"', 'object = "common pid"')),
    bound("limits unset parameter", bind("limits = { BUDGET_NS", "limits = { OTHER_NS")),
    bound("limits shape", bind("[1000, 3600000000000]", "[5, 1]")),
    bound("names unset parameter", bind('names = { BUDGET_NS', 'names = { OTHER_NS')),
    bound("names word", bind('"threshold"', '"thres hold"')),
    bound("event not a table", BINDING + "event = [1]\n"),
    bound("events not tables", "event = [1, 2]\n" + BINDING.replace("[[event]]", "[[eventx]]")),
    bound("unknown event", bind('event = "wakeup"', 'event = "nap"')),
    bound("unbound event and a misspelt one", bind('event = "wakeup"', 'event = "wakup"')),
    bound("unknown tracepoint", bind('tracepoint = "sched_wakeup"',
                                     'tracepoint = "sched_wakeupx"')),
    bound("no such field", bind('object = "pid"', 'object = "pidd"')),
    bound("handler", bind('object = "pid"', 'object = "pid"\nhandler = "sometimes"')),
    bound("when shape", bind('object = "pid"', 'object = "pid"\nwhen = 5')),
    bound("condition not a table", bind('object = "pid"', 'object = "pid"\nwhen = [5]')),
    bound("condition field", bind('field = "prev_state", op = "=="', 'field = "prev_comm", op = "=="')),
    bound("condition operator", bind('op = "=="', 'op = "=~"')),
    bound("condition constant", bind('value = "TASK_RUNNING" }', 'value = "TASK_RUNNABLE" }')),
    bound("condition value", bind('value = "TASK_RUNNING" }', "value = -1 }")),
    bound("exit tracepoint", bind('exit = "sched_process_exit"', 'exit = "sched_exit"')),
    bound("residency shape", bind('residency = ["running", "waiting", "sleeping"]',
                                  "residency = 3")),
    bound("residency state", bind('residency = ["running", "waiting", "sleeping"]',
                                  'residency = ["running", "napping"]')),
    bound("residency twice", bind('residency = ["running", "waiting", "sleeping"]',
                                  'residency = ["running", "running"]')),
    bound("slots", bind("slots = 64", "slots = 0")),
    bound("parent", bind("slots = 64", 'slots = 64\nparent = "sc hed"')),
    bound("timer", bind("slots = 64", 'slots = 64\ntimer = "egg"')),
    bound("tracepoint list", bind('tracepoint = "sched_wakeup"', "tracepoint = []")),
    bound("boolean field", bind('tracepoint = "sched_wakeup"\nobject = "pid"',
                                'tracepoint = "sched_entry_tp"\nobject = "common_pid"\n'
                                'when = { field = "preempt", op = "<", value = 1 }')),
    bound("objects kind", bind("slots = 64", 'slots = 64\nobjects = "cars"')),
    bound("dl entities outside the deadline container", bind("slots = 64",
                                                             'slots = 64\nobjects = "dl_entity"')),
    bound("a dl entity of a task monitor", bind(
        'tracepoint = "sched_wakeup"\nobject = "pid"',
        'tracepoint = "sched_dl_replenish_tp"\nobject = "dl_se"')),
    bound("parameter set by the start", BINDING + "[parameters]\nBUDGET_NS = 5\n"),
    bound("extra parameter name", BINDING + "[parameters]\nFOO = 5\n"),
    bound("parameter of one value", BINDING + "[parameters]\nfoo = [1, 2]\n"),
    bound("parameter empty list", UNSTARTED + "[parameters]\nBUDGET_NS = []\n"),
    bound("parameter reads a target", UNSTARTED.replace('type = "per_obj"', 'type = "per_task"')
          + '[parameters]\nBUDGET_NS = ["target.budget"]\n'),
    bound("parameter term", UNSTARTED + '[parameters]\nBUDGET_NS = ["two words"]\n'),
    bound("env of no read-only env", BINDING + '[env]\nclk_elapsed = "x()"\n'),
    bound("env reader", BINDING + '[env]\nis_x = "not a reader"\n', model=WITH_ENV),
    bound("env reads a target", BINDING.replace('type = "per_obj"', 'type = "per_task"')
          + '[env]\nis_x = "target.x"\n', model=WITH_ENV),
    # --- kernel trace text ---
    replayed("not a trace line", "# tracer: nop\n  hello world\n"),
    replayed("no second colon", START + line(1_000_100, "foo")),
    replayed("timestamp digits", START + line(1_000_100, "x: y").replace(".000100", ".0001000000")),
    replayed("no TASK-PID", START + "  marker 1.000200: tlob_stop: (0x5) id=0\n"),
    replayed("task state", START + line(1_000_100, SWITCH.format("Q"))),
    replayed("time went back", START + line(999_999, "foo: bar")),
    replayed("sched_switch format", START + line(1_000_100, "sched_switch: prev_pid=100")),
    replayed("sched_process_exit format", START + line(1_000_100, "sched_process_exit: x=1")),
    replayed("marker field missing", line(1_000_000, "tlob_start: (0x5) id=0")),
    replayed("marker field not a number", line(1_000_000, "tlob_start: (0x5) id=0 budget_ns=2ms")),
    replayed("last timestamp", START + line(1_000_100, "foo: bar").replace("1.000100", "1.00010a")),
    replayed("parameter out of range", line(1_000_000, f"tlob_start: (0x5) budget_ns={BIG}")),
    replayed("no binding for text", START, one_line=True, files={"no-binding": "1"}),
    replayed("trace not UTF-8", (START + line(1_000_100, "foo: bar")).encode()
             .replace(b"foo", b"f\xf0o")),
    replayed("trace line too long", START + line(1_000_100, "foo: " + "x" * 70_000)),
    replayed("trace line without end", START + "x" * 300_000),
    replayed("missing trace", None, one_line=True, files={"trace": "-absent-"}),
    replayed("trace is a folder", None, one_line=True, files={"trace": "."}),
    replayed("trace name too long", None, one_line=True, files={"trace": "x" * 300}),
    # --- JSON lines ---
    replayed("not JSON", JSTART + '  {"t": 1, \n'),
    replayed("number too long", '{"t": ' + "9" * 5000 + ', "lost": null}\n'),
    replayed("nested too deep", '{"t": 1, "lost": null, "x": ' + "[" * 20_000 + "]" * 20_000
             + "}\n"),
    replayed("not an object", "[1, 2]\n", "--trace-format", "jsonl"),
    replayed("bad t", '{"t": -1, "stop": 1}\n'),
    replayed("two kinds", '{"t": 1, "stop": 1, "start": 1}\n'),
    replayed("unexpected key", '{"t": 1, "stop": 1, "x": 2}\n'),
    replayed("bad lost", '{"t": 1, "lost": "many"}\n'),
    replayed("event not a string", '{"t": 1, "event": 5, "obj": 1}\n'),
    replayed("event without obj", '{"t": 1, "event": "sleep"}\n'),
    replayed("bad handler", '{"t": 1, "event": "sleep", "obj": 1, "handler": "h"}\n'),
    replayed("bad obj", '{"t": 1, "stop": [1]}\n'),
    replayed("params not an object", '{"t": 1, "start": 1, "params": 5}\n'),
    replayed("param not an integer", '{"t": 1, "start": 1, "params": {"BUDGET_NS": 1.5}}\n'),
    replayed("param outside u64", '{"t": 1, "start": 1, "params": {"BUDGET_NS": -1}}\n'),
    replayed("time back", JSTART + '{"t": 5, "stop": 1}\n{"t": 4, "stop": 1}\n'),
    replayed("no parameter of the model", '{"t": 1, "start": 1, "params": {"BUDGET": 5}}\n'),
    replayed("parameter out of range (engine)", line(1_000_000, "tlob_start: (0x5) "
                                                     "budget_ns=-5")),
    replayed("no env of the model", JSTART + '{"t": 1, "event": "sleep", "obj": 1, '
                                             '"env": {"zz": 1}}\n'),
    replayed("unknown event (not monitored)", '{"t": 1, "event": "nap", "obj": 9}\n'),
    replayed("unknown event (monitored)", JSTART + '{"t": 2, "event": "nap", "obj": 1}\n'),
    replayed("monitor refuses", '{"t": 0, "start": 1}\n'),
    replayed("a kernel-only binding", START, "--binding", "{binding}", one_line=True,
             binding=bind('tracepoint = "sched_wakeup"\nobject = "pid"',
                          'tracepoint = "sched_entry_tp"\nobject = "common_pid"')),
    replayed("--param", JSTART, "--param", "BUDGET=1", one_line=True),
    replayed("--param value", JSTART, "--param", "BUDGET_NS=1h", one_line=True),
    replayed("--param too big", JSTART, "--param", f"BUDGET_NS={BIG}", one_line=True),
    replayed("--param twice", JSTART, "--param", "BUDGET_NS=1", "--param", "BUDGET_NS=2",
             one_line=True),
    replayed("--timer-latency value", JSTART, "--timer-latency", "5h", one_line=True),
    replayed("--uptime too big", JSTART, "--uptime", str(2**63), one_line=True),
]


# --- LTL specs (hamodel/ltl/): reading, the binding, replay ---


def ltl(name: str, text: str, **kw) -> Case:
    return Case(name, ("show", "{model}"), text, files={"model": "p.ltl"}, **kw)


def ltl_bound(name: str, old: str, new: str) -> Case:
    assert old in PF_BINDING, old
    return ltl_binding(name, PF_BINDING.replace(old, new, 1))


def ltl_binding(name: str, binding: str | bytes) -> Case:
    return Case(name, ("replay", "{model}", "/dev/null", "--binding", "{binding}"), PAGEFAULT,
                binding=binding, files={"model": "pagefault.ltl"})


def ltl_replayed(name: str, trace: str | bytes | None, *extra: str, files=None, **kw) -> Case:
    return Case(name, ("replay", "{model}", "{trace}", "--binding", "{binding}", *extra),
                PAGEFAULT, binding=PF_BINDING, trace=trace,
                files={"model": "pagefault.ltl", **(files or {})}, **kw)


def macros(depth: int, body: str) -> str:
    """RULE = M0, each macro M<i> = body with M<i+1> for X, the last one an atom."""
    lines = ["RULE = M0"] + [f"M{i} = " + body.replace("X", f"M{i + 1}") for i in range(depth)]
    return "\n".join(lines) + f"\nM{depth} = A\n"


JFORK = '{"task": 1, "init": "fork"}\n'
JRT = '{"task": 1, "fetch": {"RT": false}}\n'
EVENT_PF = "  <...>-7 [000] d..1. 12.000001: event_pagefault: x[7]: ({}) x ({}) -> ({})\n"

CASES += [
    ltl("LTL syntax", "RULE = A invalid B\n"),
    ltl("LTL character", "RULE = A & B\n"),
    ltl("LTL end of file", "RULE = always (A\n"),
    ltl("LTL word", "RULE = always (rt)\n"),
    ltl("LTL nested too deep", "RULE = " + "not " * 250 + "A\n"),
    ltl("LTL defined twice", "RULE = A\nRULE = B\n"),
    ltl("LTL no RULE", "M = A\n"),
    ltl("LTL macro cycle", "RULE = M\nM = N\nN = M\n"),
    ltl("LTL expansion too large", macros(16, "X and X")),
    ltl("LTL expansion too deep", macros(5, "not " * 50 + "X")),
    ltl_bound("LTL binding syntax", "[monitor]", "[monitor"),
    ltl_binding("LTL binding not UTF-8", PF_BINDING.encode().replace(b"per_task",
                                                                     b"per_t\xffask")),
    ltl_bound("LTL binding type", 'type = "per_task"', "type = 5"),
    ltl_bound("LTL unknown table", "[monitor]", "[monitr]\nx = 1\n[monitor]"),
    ltl_bound("LTL monitor type", 'type = "per_task"', 'type = "per_cpu"'),
    ltl_bound("LTL monitor key", 'type = "per_task"', 'type = "per_task"\ncolour = 1'),
    ltl_binding("LTL event not a table", 'event = [1]\n[monitor]\ntype = "per_task"\n'),
    ltl_bound("LTL atom of no spec", "[atoms.RT]", "[atoms.NOPE]\ninit = true\n[atoms.RT]"),
    ltl_binding("LTL atom not a table", '[monitor]\ntype = "per_task"\n[atoms]\nRT = 5\n'),
    ltl_bound("LTL atom key", 'fetch = "rt_or_dl_task"', 'fetch = "rt_or_dl_task"\ncolour = 1'),
    ltl_bound("LTL fetch", 'fetch = "rt_or_dl_task"', 'fetch = "is_rt"'),
    ltl_bound("LTL init and fetch", 'fetch = "rt_or_dl_task"',
              'fetch = "rt_or_dl_task"\ninit = true'),
    ltl_bound("LTL new tasks without init", "init = false\n", ""),
    ltl_bound("LTL event key", 'handler = "page_fault"', 'handler = "page_fault"\ncolour = 1'),
    ltl_bound("LTL tracepoint shape", 'tracepoint = ["page_fault_kernel", "page_fault_user"]',
              "tracepoint = []"),
    ltl_bound("LTL unknown tracepoint", '"page_fault_user"]', '"page_fault_usr"]'),
    ltl_bound("LTL prototypes", '"page_fault_user"]', '"sched_switch"]'),
    ltl_bound("LTL handler", 'handler = "page_fault"', 'handler = "page fault"'),
    ltl_bound("LTL task", 'task = "common_pid"', 'task = "prev_pid"'),
    ltl_bound("LTL event atom", 'atom = "PAGEFAULT"', 'atom = "FAULT"'),
    ltl_bound("LTL action", 'action = "pulse"', 'action = "toggle"'),
    ltl_bound("LTL value missing", "value = true\n", ""),
    ltl_bound("LTL when shape", "value = true\n", "value = true\nwhen = 5\n"),
    ltl_bound("LTL condition shape", "value = true\n", "value = true\nwhen = [5]\n"),
    ltl_bound("LTL condition field", "value = true\n",
              'value = true\nwhen = { field = "addr", op = "==", value = 1 }\n'),
    ltl_bound("LTL condition operator", "value = true\n",
              'value = true\nwhen = { field = "error_code", op = "=~", value = 1 }\n'),
    ltl_bound("LTL condition value", "value = true\n",
              'value = true\nwhen = { field = "error_code", op = "&", value = -1 }\n'),
    ltl_replayed("LTL not JSON", JFORK + '  {"task": 1, \n'),
    ltl_replayed("LTL number too long", '{"task": ' + "9" * 5000 + ', "init": "fork"}\n'),
    ltl_replayed("LTL nested too deep", '{"task": 1, "init": ' + "[" * 20_000 + "]" * 20_000
                 + "}\n"),
    ltl_replayed("LTL not an object", "[1, 2]\n", "--trace-format", "jsonl"),
    ltl_replayed("LTL unknown key", JFORK + '{"task": 1, "init": "fork", "x": 1}\n'),
    ltl_replayed("LTL two kinds", '{"task": 1, "init": "fork", "set": "RT"}\n'),
    ltl_replayed("LTL bad t", '{"t": -1, "task": 1, "init": "fork"}\n'),
    ltl_replayed("LTL time back", '{"t": 5, "task": 1, "init": "fork"}\n'
                 '{"t": 4, "task": 1, "init": "fork"}\n'),
    ltl_replayed("LTL bad task", '{"task": [1], "init": "fork"}\n'),
    ltl_replayed("LTL init", '{"task": 1, "init": "boot"}\n'),
    ltl_replayed("LTL fetch shape", '{"task": 1, "fetch": {"RT": 1}}\n'),
    ltl_replayed("LTL fetch atom", '{"task": 1, "fetch": {"PAGEFAULT": true}}\n'),
    ltl_replayed("LTL update value", JFORK + '{"task": 1, "update": "RT", "value": 1}\n'),
    ltl_replayed("LTL update atom", JFORK + '{"task": 1, "set": "NOPE", "value": true}\n'),
    ltl_replayed("LTL fetch first", JFORK + '{"task": 1, "pulse": "PAGEFAULT", "value": true}\n'),
    ltl_replayed("LTL kernel atom", EVENT_PF.format("0", "pa,zz", "0")),
    ltl_replayed("LTL kernel cut atom", EVENT_PF.format("0", "pa," * 20 + "qqq", "0")),
    ltl_replayed("LTL kernel states", EVENT_PF.format("0", "pa", "1-")),
    ltl_replayed("LTL trace not UTF-8", (JFORK + JRT).encode().replace(b"RT", b"R\xffT")),
    ltl_replayed("LTL trace line too long", JFORK + JRT + "x" * 70_000 + "\n"),
    ltl_replayed("LTL missing trace", None, one_line=True, files={"trace": "-absent-"}),
    ltl_replayed("LTL automaton option", JFORK, "--uptime", "1s", one_line=True),
]


# --- running the cases ----------------------------------------------------------------


def materialise(case: Case, folder: Path) -> list[str]:
    """Write the case's files into `folder`; the command line with their paths."""
    folder.mkdir()
    model = folder / case.files.get("model", "tlob.dot")
    if case.files.get("model") != "-absent-":
        model.write_bytes(case.model if isinstance(case.model, bytes) else case.model.encode())
        if "no-binding" not in case.files:
            (folder / "tlob.binding.toml").write_text(BINDING)
    binding = folder / "other.binding.toml"
    if case.binding is not None:
        binding.write_bytes(case.binding if isinstance(case.binding, bytes)
                            else case.binding.encode())
    trace = folder / case.files.get("trace", "trace.txt")
    if case.trace is not None:
        trace.write_bytes(case.trace if isinstance(case.trace, bytes) else case.trace.encode())
    paths = {"{model}": str(model), "{binding}": str(binding), "{trace}": str(trace)}
    return [paths.get(a, a) for a in case.args]


def shape_problems(stderr: str) -> list[str]:
    """What in `stderr` is not a located diagnostic (or the one counting line)."""
    lines = stderr.splitlines()
    problems = []
    i = 0
    located = 0
    while i < len(lines):
        text = lines[i]
        head = HEADLINE.match(text) or NOTE.match(text)
        if head is not None:
            if i + 2 >= len(lines):
                problems.append(f"no quote and caret after {text!r}")
                break
            try:
                check_against_file(head, lines[i + 1], lines[i + 2])
            except AssertionError as exc:
                problems.append(str(exc))
            located += head.re is HEADLINE and head["severity"] == "error"
            i += 3
        elif text.startswith("  = help: ") or (text.startswith("hamodel: ") and "not shown" in text):
            i += 1
        else:
            problems.append(f"not located: {text!r}")
            i += 1
    if not located:
        problems.append("no located error")
    return problems


def check_against_file(head, quote: str, caret: str) -> None:
    assert quote.startswith("    ") and caret.lstrip(" \t").startswith("^"), (quote, caret)
    e = Located(head["file"], int(head["line"]), int(head["col"]), "", "", "", quote[4:],
                caret.index("^") - 4)
    assert Path(e.file).is_file(), f"no such file named: {e.file}"
    check_against(e, Path(e.file))


def error_sites() -> dict[tuple[str, int], str]:
    """(module, line) -> source text of every statement that makes an error."""
    sites = {}
    for rel in SITE_MODULES:
        path = ROOT / "hamodel" / rel
        source = path.read_text()
        for node in ast.walk(ast.parse(source)):
            if not isinstance(node, ast.stmt) or isinstance(node, ast.FunctionDef | ast.ClassDef):
                continue
            own = [v for name, v in ast.iter_fields(node)
                   if name not in ("body", "orelse", "finalbody", "handlers")]
            calls = [c for v in own for part in (v if isinstance(v, list) else [v])
                     if isinstance(part, ast.AST) for c in ast.walk(part)
                     if isinstance(c, ast.Call)]
            for call in calls:
                func = call.func
                called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if called in SITE_CALLS:
                    sites[(rel, node.lineno)] = ast.get_source_segment(source, node) or ""
    return sites


def test_every_error_path_prints_its_place_its_line_and_a_caret(tmp_path):
    sites = error_sites()
    files = {str(ROOT / "hamodel" / rel): rel for rel in SITE_MODULES}
    reached: set[tuple[str, int]] = set()

    def local(frame, event, arg):
        if event == "line":
            reached.add((files[frame.f_code.co_filename], frame.f_lineno))
        return local

    def tracer(frame, event, arg):
        return local if frame.f_code.co_filename in files else None

    failures = {}
    for n, case in enumerate(CASES):
        argv = materialise(case, tmp_path / f"case{n}")
        out, err = io.StringIO(), io.StringIO()
        sys.settrace(tracer)
        try:
            with redirect_stdout(out), redirect_stderr(err):
                code = cli.main(argv)
        finally:
            sys.settrace(None)
        stderr = err.getvalue()
        if "Traceback" in stderr or code != case.status:
            failures[case.name] = f"exit {code}: {stderr[:300]}"
        elif case.one_line:  # the message, and maybe a help line
            first, *rest = stderr.splitlines() or [""]
            if HEADLINE.match(first) or len(rest) > 1 or (
                    rest and not rest[0].startswith("  = help: ")):
                failures[case.name] = f"expected one line about no file line: {stderr!r}"
        elif problems := shape_problems(stderr):
            failures[case.name] = "; ".join(problems)[:400] + f"\n{stderr[:400]}"
    assert failures == {}, json.dumps(failures, indent=1)

    exempt = {site for site, text in sites.items()
              if any(rel == site[0] and part in text for (rel, part) in UNREACHABLE)}
    missed = {f"hamodel/{rel}:{n}: {sites[(rel, n)].splitlines()[0].strip()}"
              for rel, n in sites.keys() - reached - exempt}
    assert sorted(missed) == [], "error places no case reaches (add one):\n" + "\n".join(
        sorted(missed))


def test_each_code_number_names_one_kind_of_error():
    """Two kinds under one number would make `error[HAnnn]` ambiguous (and SARIF rules)."""
    import importlib

    from hamodel import diagnostics as dg
    from hamodel.gen import TARGETS

    for module in (*cli.PLUGINS, *TARGETS.values()):
        importlib.import_module(module)
    owners: dict[str, list[str]] = {}
    for slug, info in dg.CODES.items():
        owners.setdefault(info.number, []).append(slug)
    assert {n: s for n, s in owners.items() if len(s) > 1} == {}
