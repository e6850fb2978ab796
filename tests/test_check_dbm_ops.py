"""dbm.operations(n): the operations the explorer calls, with the clock count bound in.

Each must give what the general matrix code gives, on canonical zones made by
the general operations themselves, for one, two and three clocks; and the
cyclic collector must come back on after a check's pause, with what the pause
kept out of the young generation.
"""

from __future__ import annotations

import gc

from hypothesis import given
from hypothesis import strategies as st

from hamodel.check import dbm
from hamodel.check.gcpause import collection_paused


@st.composite
def clocks_and_zone(draw) -> tuple[int, dbm.Matrix]:
    n = draw(st.integers(1, 3))
    d = dbm.zero(n)
    for _ in range(draw(st.integers(0, 7))):
        op = draw(st.sampled_from(("up", "reset", "constrain", "free")))
        i = draw(st.integers(1, n))
        if op == "up":
            d = dbm._up(d, n)
        elif op == "reset":
            d = dbm._reset(d, n, i)
        elif op == "free":
            d = dbm._free(d, n, i)
        else:
            j = draw(st.sampled_from([k for k in range(n + 1) if k != i]))
            a, b = draw(st.sampled_from(((i, j), (j, i))))
            e = dbm._constrain(d, n, a, b, draw(st.integers(-12, 12)))
            if e[0] >= 0:
                d = e
    return n, d


def _same(fast: dbm.Matrix, general: dbm.Matrix) -> bool:
    """Equal, or both empty (an empty zone's other entries mean nothing)."""
    return (fast[0] < 0 and general[0] < 0) or fast == general


@given(clocks_and_zone(), st.data())
def test_operations_match_the_general_code(nd, data):
    n, d = nd
    ops = dbm.operations(n)
    i = data.draw(st.integers(1, n))
    j = data.draw(st.sampled_from([k for k in range(n + 1) if k != i]))
    a, b = data.draw(st.sampled_from(((i, j), (j, i))))
    c = data.draw(st.integers(-14, 14))
    assert _same(ops.constrain(d, a, b, c), dbm._constrain(d, n, a, b, c))
    assert ops.up(d) == dbm._up(d, n)
    assert ops.reset(d, i) == dbm._reset(d, n, i)
    assert ops.free(d, i) == dbm._free(d, n, i)
    lows = (0, *data.draw(st.lists(st.integers(-1, 9), min_size=n, max_size=n)))
    ups = (0, *data.draw(st.lists(st.integers(-1, 9), min_size=n, max_size=n)))
    assert ops.extrapolate_lu(d, lows, ups) == dbm.close(
        dbm._extrapolate_lu(d, n, lows, ups), n)
    other = data.draw(clocks_and_zone().filter(lambda m: m[0] == n))[1]
    assert ops.includes(d, other) == all(s <= g for s, g in zip(other, d, strict=True))


@given(clocks_and_zone())
def test_the_dispatching_forms_agree(nd):
    n, d = nd
    ops = dbm.operations(n)
    for i in range(1, n + 1):
        assert dbm.reset(d, n, i) == ops.reset(d, i)
        assert dbm.free(d, n, i) == ops.free(d, i)
    assert dbm.up(d, n) == ops.up(d)


def test_what_the_pause_kept_goes_to_the_oldest_generation():
    assert gc.isenabled()
    gc.collect()  # every generation's count at 0: no pass is due but the one owed below
    with collection_paused():
        assert not gc.isenabled()
        kept = [[k] for k in range(20_000)]  # tracked objects that outlive the pause
    assert gc.isenabled()
    # no young-generation pass walks them after the pause: they are already old
    oldest = {id(o) for o in gc.get_objects(generation=2)}
    assert id(kept[0]) in oldest and id(kept[-1]) in oldest
    assert kept[-1] == [19_999]


def test_a_nested_pause_leaves_the_collector_to_the_outer_one():
    with collection_paused():
        with collection_paused():
            pass
        assert not gc.isenabled()
    assert gc.isenabled()
