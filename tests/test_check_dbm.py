"""The one-clock forms of the DBM operations against the general ones and against sets.

dbm.py keeps a short form of each operation for a single clock (an interval);
these properties hold them to the general matrix code and to the integer
values each zone stands for.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from hamodel.check import dbm

CAP = 40  # values above it stand for "and beyond" when a zone is unbounded


@st.composite
def intervals(draw) -> dbm.Matrix:
    low = draw(st.integers(0, 30))
    high = draw(st.one_of(st.just(dbm.INF), st.integers(low, 35)))
    return (0, -low, high, 0)


def values(d: dbm.Matrix) -> set[int]:
    if d[0] < 0:
        return set()
    return {x for x in range(CAP + 1) if -d[1] <= x <= d[2]}


bounds = st.integers(-3, 38)


@given(intervals(), st.sampled_from(((1, 0), (0, 1))), bounds)
def test_constrain(d, ij, c):
    i, j = ij
    fast = dbm.constrain(d, 1, i, j, c)
    general = dbm._constrain(d, 1, i, j, c)
    assert (fast[0] < 0) == (general[0] < 0)
    if fast[0] >= 0:
        assert fast == general
    want = {x for x in values(d) if (x <= c if i else -x <= c)}
    assert values(fast) == want


@given(intervals())
def test_up_reset_free(d):
    assert dbm.up(d, 1) == dbm._up(d, 1)
    assert dbm.reset(d, 1, 1) == dbm._reset(d, 1, 1) == (0, 0, 0, 0)
    assert dbm.free(d, 1, 1) == dbm._free(d, 1, 1)
    assert values(dbm.up(d, 1)) == set(range(-d[1], CAP + 1))


@given(intervals(), intervals())
def test_includes(big, small):
    assert dbm.includes(big, small) == all(s <= b for s, b in zip(small, big, strict=True))
    if dbm.includes(big, small):
        assert values(small) <= values(big)


@given(intervals(), st.integers(-1, 35), st.integers(-1, 35))
def test_extrapolate(d, low, up):
    lows, ups = (0, low), (0, up)
    fast = dbm.extrapolate_lu(d, 1, lows, ups)
    assert fast == dbm.close(dbm._extrapolate_lu(d, 1, lows, ups), 1)
    assert values(d) <= values(fast)  # an abstraction only adds valuations
