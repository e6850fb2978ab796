"""The JSON-lines trace reader: the documented shapes, and a located refusal for others."""

from __future__ import annotations

import pytest

from hamodel.trace.jsonl import JsonlError, Record, read_jsonl


def test_every_documented_shape():
    text = """
// a comment
{"t": 1000, "start": 42, "params": {"BUDGET_NS": 2000000}}
{"t": 301000, "event": "sleep", "obj": 42}
{"t": 350000, "event": "switch_in", "obj": "cpu0", "env": {"is_defer": 0}}
{"t": 360000, "event": "go", "obj": 1, "handler": "start_run_event"}
{"t": 400000, "stop": 42}
{"t": 500000, "lost": 12}
{"t": 500001, "lost": null}
"""
    assert list(read_jsonl(text.splitlines())) == [
        Record(3, "start", 1000, 42, values=(("BUDGET_NS", 2000000),)),
        Record(4, "event", 301000, 42, "sleep"),
        Record(5, "event", 350000, "cpu0", "switch_in", values=(("is_defer", 0),)),
        Record(6, "event", 360000, 1, "go", "start_run_event"),
        Record(7, "stop", 400000, 42),
        Record(8, "lost", 500000, lost=12),
        Record(9, "lost", 500001, lost=None),
    ]


@pytest.mark.parametrize("line,message", [
    ('{"t": 1, "event": "x"', "not JSON"),
    ('[1, 2]', "must be a JSON object"),
    ('{"event": "x", "obj": 1}', '"t" must be a non-negative integer'),
    ('{"t": -5, "stop": 1}', '"t" must be a non-negative integer'),
    ('{"t": 1.5, "stop": 1}', '"t" must be a non-negative integer'),
    ('{"t": 1}', "exactly one of"),
    ('{"t": 1, "stop": 1, "start": 1}', "exactly one of"),
    ('{"t": 1, "event": "x"}', 'needs "obj"'),
    ('{"t": 1, "event": 3, "obj": 1}', '"event" must be a string'),
    ('{"t": 1, "event": "x", "obj": [1]}', "integer or a string"),
    ('{"t": 1, "event": "x", "obj": true}', "integer or a string"),
    ('{"t": 1, "event": "x", "obj": 1, "env": {"a": "1"}}', "must be an integer"),
    ('{"t": 1, "event": "x", "obj": 1, "handler": "run"}', '"handler" must be one of'),
    ('{"t": 1, "start": 1, "env": {}}', "unexpected key 'env'"),
    ('{"t": 1, "lost": -1}', '"lost" must be a count'),
])
def test_bad_lines_are_refused_with_their_number(line, message):
    with pytest.raises(JsonlError) as info:
        list(read_jsonl(["", line]))
    assert info.value.line == 2
    assert message in info.value.message
