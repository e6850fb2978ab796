"""Difference-bound matrices over integer time: the zones the explorer works with.

A zone over clocks x1..xn is a conjunction of `xi - xj <= c` (x0 is the
constant 0); every bound is closed because constraints.py made the model
closed, so an entry is an int or INF.  Matrices are flat lists, n+1 square,
always kept canonical (shortest-path closed).  Zones are values: every
operation returns a new matrix.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import le
from typing import NamedTuple

INF = float("inf")

Matrix = tuple  # tuple[int | float, ...], (n+1)*(n+1), row-major


def zero(n: int) -> Matrix:
    """All clocks equal to 0."""
    return tuple(0 for _ in range((n + 1) * (n + 1)))


def is_empty(d: Matrix, n: int) -> bool:
    return d[0] < 0


# With one clock (the kernel's MAX_HA_ENV_LEN) a zone is an interval: the matrix is
# (0, -low, high, 0), and each operation below has a short form for it that gives
# the same matrix as the general one (tests/test_check_dbm.py compares them).


def up(d: Matrix, n: int) -> Matrix:
    """Let time elapse: drop every upper bound xi - x0."""
    if n == 1:
        return _up1(d)
    if n == 2:
        return _up2(d)
    return _up(d, n)


def _up1(d: Matrix) -> Matrix:
    return (d[0], d[1], INF, d[3])


def _up2(d: Matrix) -> Matrix:
    return (d[0], d[1], d[2], INF, d[4], d[5], INF, d[7], d[8])


def _up(d: Matrix, n: int) -> Matrix:
    m = list(d)
    size = n + 1
    for i in range(1, size):
        m[i * size] = INF
    return tuple(m)


def constrain(d: Matrix, n: int, i: int, j: int, c: int) -> Matrix:
    """Add `xi - xj <= c` and re-close; an empty result has d[0] < 0."""
    if n == 1 and i != j:
        return _constrain1(d, i, j, c)
    if n == 2:
        return _constrain2(d, i, j, c)
    return _constrain(d, n, i, j, c)


def _constrain1(d: Matrix, i: int, j: int, c: int) -> Matrix:
    """_constrain for one clock (i != j): the interval's low or high end moves."""
    if i:  # x <= c
        if d[2] <= c:
            return d
        return (0, d[1], c, 0) if d[1] + c >= 0 else (-1, d[1], c, 0)
    if d[1] <= c:  # x >= -c
        return d
    return (0, c, d[2], 0) if d[2] + c >= 0 else (-1, c, d[2], 0)


def _constrain2(d: Matrix, i: int, j: int, c: int) -> Matrix:
    """_constrain for two clocks (a 3x3 matrix) with its inner loop written out."""
    if d[i * 3 + j] <= c:
        return d
    if d[j * 3 + i] + c < 0:
        return (-1, *d[1:])
    m = list(d)
    m[i * 3 + j] = c
    j0, j1, j2 = m[j * 3], m[j * 3 + 1], m[j * 3 + 2]  # xj - xb, as in _constrain
    for at in (0, 3, 6):
        ai = m[at + i]
        if ai == INF:
            continue
        through = ai + c
        if through + j0 < m[at]:
            m[at] = through + j0
        if through + j1 < m[at + 1]:
            m[at + 1] = through + j1
        if through + j2 < m[at + 2]:
            m[at + 2] = through + j2
    return tuple(m)


def _constrain(d: Matrix, n: int, i: int, j: int, c: int) -> Matrix:
    size = n + 1
    if d[i * size + j] <= c:
        return d
    if d[j * size + i] + c < 0:
        m = list(d)
        m[0] = -1
        return tuple(m)
    m = list(d)
    m[i * size + j] = c
    row_j = m[j * size:(j + 1) * size]  # xj - xb, unchanged by the loop below
    for a in range(size):
        ai = m[a * size + i]
        if ai == INF:
            continue
        through = ai + c
        at = a * size
        for b, jb in enumerate(row_j):
            v = through + jb
            if v < m[at + b]:
                m[at + b] = v
    return tuple(m)


def upper(d: Matrix, n: int, i: int, c: int) -> Matrix:
    """xi <= c."""
    return constrain(d, n, i, 0, c)


def lower(d: Matrix, n: int, i: int, c: int) -> Matrix:
    """xi >= c."""
    return constrain(d, n, 0, i, -c)


def reset(d: Matrix, n: int, i: int) -> Matrix:
    """xi := 0."""
    if n == 1:
        return _reset1(d, i)
    if n == 2:
        return _reset2(d, i)
    return _reset(d, n, i)


def _reset1(d: Matrix, i: int) -> Matrix:
    return (d[0], 0, 0, 0)


def _reset2(d: Matrix, i: int) -> Matrix:
    """_reset for two clocks: xi takes row 0 and column 0, the other clock's entries stay."""
    if i == 1:
        return (d[0], d[0], d[2], d[0], 0, d[2], d[6], d[6], d[8])
    return (d[0], d[1], d[0], d[3], d[4], d[3], d[0], d[1], 0)


def _reset(d: Matrix, n: int, i: int) -> Matrix:
    size = n + 1
    m = list(d)
    for j in range(size):
        m[i * size + j] = m[j]  # row 0
        m[j * size + i] = m[j * size]  # column 0
    m[i * size + i] = 0
    return tuple(m)


def free(d: Matrix, n: int, i: int) -> Matrix:
    """Forget everything about xi (it can be any value >= 0); the result stays canonical."""
    if n == 1:
        return _free1(d, i)
    return _free(d, n, i)


def _free1(d: Matrix, i: int) -> Matrix:
    return (d[0], 0, INF, 0)


def _free(d: Matrix, n: int, i: int) -> Matrix:
    size = n + 1
    m = list(d)
    for j in range(size):
        if j != i:
            m[i * size + j] = INF
            m[j * size + i] = m[j * size]  # xj - xi <= xj - x0, as xi >= 0
    m[i] = 0  # x0 - xi <= 0
    m[i * size + i] = 0
    return tuple(m)


def includes(big: Matrix, small: Matrix) -> bool:
    if len(big) == 4:
        return _includes1(big, small)
    return all(map(le, small, big))


def _includes1(big: Matrix, small: Matrix) -> bool:
    return small[1] <= big[1] and small[2] <= big[2]  # the diagonal is 0 in both


def max_value(d: Matrix, n: int, i: int) -> float:
    """The largest value xi takes in the zone (INF when unbounded)."""
    return d[i * (n + 1)]


def min_value(d: Matrix, n: int, i: int) -> int:
    return -d[i]


def extrapolate_lu(d: Matrix, n: int, lows: tuple[int, ...], ups: tuple[int, ...]) -> Matrix:
    """Extra+_LU (Behrmann, Bouyer, Larsen, Pelanek 2006), integer version.

    lows[i] / ups[i]: the largest constant xi is compared with as a lower /
    upper bound (index 0 unused; -1 when never).  A clock above its L can be
    pushed up freely, one above its U only needs "above U", so the abstraction
    is a simulation: it adds no location, event or edge sequence that the
    unabstracted zone graph does not have, and makes the graph finite.
    """
    if n == 1:
        return _extrapolate_lu1(d, lows, ups)
    if n == 2:
        return _extrapolate_lu2(d, lows, ups)
    return _extrapolate_lu(d, n, lows, ups)


def _extrapolate_lu1(d: Matrix, lows: tuple[int, ...], ups: tuple[int, ...]) -> Matrix:
    """_extrapolate_lu for one clock: the interval's ends."""
    low, high = -d[1], d[2]
    if high != INF and (high > lows[1] or low > lows[1]):
        high = INF
    if low > ups[1]:
        low = ups[1] + 1
    return (d[0], -low, high, d[3]) if (low, high) != (-d[1], d[2]) else d


def _extrapolate_lu2(d: Matrix, lows: tuple[int, ...], ups: tuple[int, ...]) -> Matrix:
    """_extrapolate_lu for two clocks, each entry's rule written out."""
    _, b01, b02, b10, _, b12, b20, b21, _ = d
    low1, low2, l1, l2, u1, u2 = -b01, -b02, lows[1], lows[2], ups[1], ups[2]
    n01 = -(u1 + 1) if low1 > u1 else b01
    n02 = -(u2 + 1) if low2 > u2 else b02
    over1, over2 = low1 > l1, low2 > l2  # a row whose clock is past its L goes
    n10 = INF if over1 or b10 > l1 else b10
    n12 = INF if over1 or b12 > l1 or low2 > u2 else b12
    n20 = INF if over2 or b20 > l2 else b20
    n21 = INF if over2 or b21 > l2 or low1 > u1 else b21
    if (n01, n02, n10, n12, n20, n21) == (b01, b02, b10, b12, b20, b21):
        return d
    return close((d[0], n01, n02, n10, d[4], n12, n20, n21, d[8]), 2)


def _extrapolate_lu(d: Matrix, n: int, lows: tuple[int, ...], ups: tuple[int, ...]) -> Matrix:
    size = n + 1
    m = list(d)
    changed = False
    for i in range(size):
        for j in range(size):
            if i == j:
                continue
            k = i * size + j
            v = d[k]
            if v == INF:
                continue
            if (
                (i > 0 and v > lows[i])
                or (i > 0 and -d[i] > lows[i])
                or (j > 0 and -d[j] > ups[j] and i > 0)
            ):
                m[k] = INF
                changed = True
            elif i == 0 and -v > ups[j]:
                m[k] = -(ups[j] + 1)
                changed = True
    # a canonical zone the abstraction leaves alone stays canonical
    return close(tuple(m), n) if changed else d


def close(d: Matrix, n: int) -> Matrix:
    """Floyd-Warshall closure."""
    size = n + 1
    m = list(d)
    for k in range(size):
        for i in range(size):
            ik = m[i * size + k]
            if ik == INF:
                continue
            for j in range(size):
                kj = m[k * size + j]
                if kj == INF:
                    continue
                v = ik + kj
                if v < m[i * size + j]:
                    m[i * size + j] = v
    if any(m[i * size + i] < 0 for i in range(size)):
        m[0] = -1
    return tuple(m)


class Ops(NamedTuple):
    """The operations above with the clock count bound in, chosen once per
    exploration, so that the explorer's inner loop calls the short form directly
    instead of dispatching on the clock count at every step."""

    constrain: Callable[[Matrix, int, int, int], Matrix]  # (d, i, j, c), i != j
    up: Callable[[Matrix], Matrix]
    reset: Callable[[Matrix, int], Matrix]
    free: Callable[[Matrix, int], Matrix]
    extrapolate_lu: Callable[[Matrix, tuple[int, ...], tuple[int, ...]], Matrix]
    includes: Callable[[Matrix, Matrix], bool]


def _includes_all(big: Matrix, small: Matrix) -> bool:
    return all(map(le, small, big))


def operations(n: int) -> Ops:
    """The operations on zones over n clocks (each gives what its general form gives)."""
    if n == 1:
        return Ops(_constrain1, _up1, _reset1, _free1, _extrapolate_lu1, _includes1)
    if n == 2:
        return Ops(_constrain2, _up2, _reset2, lambda d, i: _free(d, 2, i), _extrapolate_lu2,
                   _includes_all)
    return Ops(lambda d, i, j, c: _constrain(d, n, i, j, c), lambda d: _up(d, n),
               lambda d, i: _reset(d, n, i), lambda d, i: _free(d, n, i),
               lambda d, lows, ups: _extrapolate_lu(d, n, lows, ups), _includes_all)
