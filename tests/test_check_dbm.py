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


# The two-clock forms against the general ones, on canonical zones made by the
# operations themselves.

@st.composite
def zones2(draw) -> dbm.Matrix:
    d = dbm.zero(2)
    for _ in range(draw(st.integers(0, 6))):
        op = draw(st.sampled_from(("up", "reset", "constrain", "free")))
        i = draw(st.integers(1, 2))
        if op == "up":
            d = dbm._up(d, 2)
        elif op == "reset":
            d = dbm._reset(d, 2, i)
        elif op == "free":
            d = dbm._free(d, 2, i)
        else:
            j = draw(st.sampled_from([k for k in range(3) if k != i] + [0]))
            a, b = draw(st.sampled_from(((i, j), (j, i)))) if i != j else (i, 0)
            e = dbm._constrain(d, 2, a, b, draw(st.integers(-12, 12)))
            if e[0] >= 0:
                d = e
    return d


@given(zones2(), st.integers(0, 2), st.integers(0, 2), st.integers(-14, 14))
def test_constrain_two_clocks(d, i, j, c):
    if i == j:
        return
    fast, general = dbm.constrain(d, 2, i, j, c), dbm._constrain(d, 2, i, j, c)
    assert (fast[0] < 0) == (general[0] < 0)
    if fast[0] >= 0:
        assert fast == general


@given(zones2(), st.lists(st.integers(-1, 9), min_size=2, max_size=2),
       st.lists(st.integers(-1, 9), min_size=2, max_size=2))
def test_extrapolate_two_clocks(d, lows, ups):
    lo, up = (0, *lows), (0, *ups)
    assert dbm.extrapolate_lu(d, 2, lo, up) == dbm._extrapolate_lu(d, 2, lo, up)
