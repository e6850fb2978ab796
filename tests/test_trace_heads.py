"""head_pid_time, the shortcut replay takes for a marker line's pid and time: it must give
parse_head's values and parse_head's errors on any head, before and after a head of the
same spelling was read."""

from __future__ import annotations

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from hamodel.trace import ftrace
from hamodel.trace.ftrace import TraceFormatError, head_pid_time, parse_head

# Heads are built from the pieces the format has, and pieces that break it: spaces,
# tabs, dashes and digits inside comms, a TGID column or none, flags or none, and
# timestamps that parse and that do not.
COMMS = st.text(st.sampled_from("ab- 1\t:[]()xé"), max_size=8)
VALID_STAMPS = st.from_regex(r"[0-9]{1,4}\.[0-9]{1,9}", fullmatch=True)
STAMPS = st.one_of(
    VALID_STAMPS, VALID_STAMPS, VALID_STAMPS,
    st.sampled_from(["12", "1.2.3", "1.1234567890", "x1.5", "1.5x", "١.٢", "\t1.5", "-1.5",
                     ".5", "5.", ""]),
)


@st.composite
def heads(draw) -> str:
    comm = draw(COMMS)
    # the well-formed pieces first and more often: most heads read, some do not
    pid = draw(st.sampled_from(["10542", "10542", "0", "7", "", "x", "-3"]))
    tgid = draw(st.sampled_from(["", "", "(10542) ", "(  -1) ", "(x) "]))
    cpu = draw(st.sampled_from(["[000]", "[000]", "[1]", "[]", "000"]))
    flags = draw(st.sampled_from(["d..2.", "DBZff", "", "a b"]))
    gap = draw(st.sampled_from([" ", "   ", "\t"]))
    lead = draw(st.sampled_from(["", "   "]))
    return f"{lead}{comm}-{pid}{gap}{tgid}{cpu}{gap}{flags}{gap if flags else ''}"


def _outcome(call):
    try:
        return call()
    except TraceFormatError as exc:
        return (exc.line, exc.message, exc.col, exc.needle)


@settings(max_examples=400, deadline=None)
@given(heads(), st.lists(STAMPS, min_size=1, max_size=4))
def test_head_pid_time_is_parse_head_for_any_head_and_stamp(prefix, stamps):
    ftrace._HEAD_PIDS.clear()
    for number, stamp in enumerate(stamps, 1):
        text = f"{prefix}{stamp}: tlob_start: id=0"
        colon = text.find(": ")
        head = text[:colon]

        def reference(head=head, number=number):
            h = parse_head(head, number)
            return h.pid, h.time

        cached = text[: text.rfind(" ", 0, colon) + 1] in ftrace._HEAD_PIDS
        got = _outcome(lambda text=text, colon=colon, number=number:
                       head_pid_time(text, colon, number))
        assert got == _outcome(reference)
        event(f"head seen before: {cached}, read: {not isinstance(got[1], str)}")


def test_a_cached_head_still_refuses_a_bad_timestamp():
    ftrace._HEAD_PIDS.clear()
    good = "          marker-10542   [000] DBZff   722.510189: tlob_start: id=0"
    assert head_pid_time(good, good.find(": "), 1) == (10542, 722_510_189_000)
    assert ftrace._HEAD_PIDS  # the head was kept
    bad = "          marker-10542   [000] DBZff   722.5.10189: tlob_start: id=0"
    with pytest.raises(TraceFormatError) as shortcut:
        head_pid_time(bad, bad.find(": "), 2)
    with pytest.raises(TraceFormatError) as reference:
        parse_head(bad[: bad.find(": ")], 2)
    assert shortcut.value.message == reference.value.message
    assert shortcut.value.needle == reference.value.needle
