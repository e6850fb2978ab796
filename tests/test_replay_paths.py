"""Two ways into replay agree: kernel trace text through the binding, and the same
events written as JSON lines by hand (tlob's binding applied in this test).

Pids that are prefixes of one another (4, 42, 420, 4200) and more than eight
monitored tasks at once exercise the substring shortcut replay takes for lines
of unmonitored tasks.
"""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout

from hypothesis import given, settings
from hypothesis import strategies as st

from hamodel import cli

PIDS = (4, 42, 420, 4200, 7, 70, 700, 11, 12, 13, 14)
MODEL = "models/tlob.dot"


def stamp(t: int) -> str:
    return f"{t // 10**9}.{t % 10**9:09d}"


@st.composite
def scenarios(draw):
    steps = []
    t = 5_000_000_000
    for _ in range(draw(st.integers(1, 60))):
        t += draw(st.sampled_from((0, 1, 500, 100_000, 700_000, 2_000_000)))
        kind = draw(st.sampled_from(("start", "stop", "switch", "switch", "wakeup", "wakeup")))
        a, b = draw(st.sampled_from(PIDS)), draw(st.sampled_from(PIDS))
        state = draw(st.sampled_from(("R", "R+", "S", "D")))
        steps.append((t, kind, a, b, state))
    return steps


def as_ftrace(steps) -> str:
    out = ["# tracer: nop\n"]
    for t, kind, a, b, state in steps:
        head = f"   task-{a}  [000] d..2. {stamp(t)}: "
        if kind == "start":
            out.append(f"{head}tlob_start: (0x1) id=0 budget_ns=1000000\n")
        elif kind == "stop":
            out.append(f"{head}tlob_stop: (0x2) id=0\n")
        elif kind == "switch":
            out.append(f"{head}sched_switch: prev_comm=task prev_pid={a} prev_prio=120 "
                       f"prev_state={state} ==> next_comm=task next_pid={b} next_prio=120\n")
        else:
            out.append(f"{head}sched_wakeup: comm=task pid={b} prio=120 target_cpu=000\n")
    return "".join(out)


def as_jsonl(steps) -> str:
    out = []
    for t, kind, a, b, state in steps:
        if kind == "start":
            out.append({"t": t, "start": a, "params": {"BUDGET_NS": 1_000_000}})
        elif kind == "stop":
            out.append({"t": t, "stop": a})
        elif kind == "switch":
            out.append({"t": t, "event": "preempt" if state.startswith("R") else "sleep",
                        "obj": a})
            out.append({"t": t, "event": "switch_in", "obj": b})
        else:
            out.append({"t": t, "event": "wakeup", "obj": b})
    return "".join(json.dumps(r) + "\n" for r in out)


def replay(path) -> tuple[int, list[dict]]:
    out = io.StringIO()
    with redirect_stdout(out):
        code = cli.main(["replay", MODEL, str(path), "--format", "jsonl"])
    return code, [json.loads(line) for line in out.getvalue().splitlines()]


@settings(max_examples=60, deadline=None)
@given(scenarios())
def test_ftrace_and_jsonl_paths_give_the_same_findings(tmp_path_factory, steps):
    tmp = tmp_path_factory.mktemp("paths")
    (tmp / "t.txt").write_text(as_ftrace(steps))
    (tmp / "t.jsonl").write_text(as_jsonl(steps))
    code_text, text = replay(tmp / "t.txt")
    code_json, jsonl = replay(tmp / "t.jsonl")

    def findings(records):
        keep = ("type", "obj", "time", "state", "event", "kind", "clocks", "residency",
                "overrun_ns", "invocations", "violations", "within_bounds", "unfinished")
        return [{k: r[k] for k in keep if k in r} for r in records]

    assert code_text == code_json
    assert findings(text) == findings(jsonl)
