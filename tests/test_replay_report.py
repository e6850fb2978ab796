"""The JSON lines of replay's findings are put together from pieces (replay_report.py);
they must be exactly what json.dumps writes for the record docs/replay.md describes, for
any names, values and objects, and when an overrun follows its violation."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from hamodel.replay_report import Invocation, Overrun, Reporter

NAMES = st.text(max_size=6)  # any text: quotes, backslashes, non-ASCII, surrogates
SCALARS = st.one_of(st.integers(-(1 << 70), 1 << 70), st.none(), st.booleans(), NAMES,
                    st.floats(allow_nan=True))
PAIRS = st.lists(st.tuples(st.one_of(NAMES, st.integers(0, 3), st.none()), SCALARS),
                 max_size=4).map(tuple)


@dataclass(frozen=True)
class Found:
    """What a generated monitor reports, with any values."""

    obj: object
    time: object
    state: object
    event: object
    kind: object
    clocks: tuple
    residency: tuple
    env: tuple


def violation_record(v, inv, line) -> dict:
    best = max(ns for _, ns in v.residency)
    return {
        "type": "violation", "obj": v.obj, "time": v.time, "state": v.state,
        "event": v.event, "kind": v.kind, "clocks": dict(v.clocks),
        "residency": dict(v.residency),
        "dominant": next(state for state, ns in v.residency if ns == best),
        "env": dict(v.env),
        "start": None if inv is None else inv.start,
        "start_line": None if inv is None else inv.line,
        "start_args": None if inv is None else inv.args, "line": line,
    }


def overrun_record(o, t, line) -> dict:
    return {"type": "overrun", "obj": o.obj, "stop": t, "overrun_ns": o.ns, "start": o.start,
            "start_line": o.line, "start_args": o.args, "line": line}


@st.composite
def findings(draw):
    residency = draw(st.lists(st.tuples(NAMES, st.integers(0, 1 << 64)), min_size=1,
                              max_size=4).map(tuple))
    v = Found(draw(SCALARS), draw(SCALARS), draw(SCALARS), draw(SCALARS), draw(SCALARS),
              draw(PAIRS), residency, draw(PAIRS))
    inv = draw(st.none() | st.builds(
        Invocation, st.integers(0, 1 << 64), st.integers(1, 1 << 20),
        st.dictionaries(NAMES, NAMES, max_size=3)))
    return v, inv, draw(st.integers(1, 1 << 20))


@settings(max_examples=300, deadline=None)
@given(st.lists(findings(), min_size=1, max_size=4), st.integers(0, 1 << 64))
def test_findings_are_written_as_json_dumps_writes_them(found, stop):
    out = io.StringIO()
    reporter = Reporter(out, "jsonl")
    expected = []
    for v, inv, line in found:
        reporter.violation(v, inv, line)
        expected.append(json.dumps(violation_record(v, inv, line)))
        if inv is not None:  # its overrun, as the engine reports it at the stop
            o = Overrun(v.obj, 5, inv.start, inv.line, inv.args)
            reporter.overrun(o, stop, line + 1)
            expected.append(json.dumps(overrun_record(o, stop, line + 1)))
    assert out.getvalue() == "".join(f"{text}\n" for text in expected)


def test_an_overrun_of_another_invocation_has_its_own_start():
    out = io.StringIO()
    reporter = Reporter(out, "jsonl")
    first = Invocation(10, 1, {"id": "0"})
    second = Invocation(20, 2, {"id": "1"})
    reporter.overrun(Overrun(7, 1, first.start, first.line, first.args), 30, 3)
    reporter.overrun(Overrun(7, 1, second.start, second.line, second.args), 40, 4)
    lines = [json.loads(text) for text in out.getvalue().splitlines()]
    assert [(r["start"], r["start_line"], r["start_args"]) for r in lines] == [
        (10, 1, {"id": "0"}), (20, 2, {"id": "1"})]
