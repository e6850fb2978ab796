"""Automatic garbage collection paused for the length of a check.

A check allocates hundreds of thousands of small immutable values (zones,
nodes, witness events) and frees almost none until it returns; none of them
form reference cycles.  CPython's cyclic collector still walks every live
object at each of its oldest-generation passes, whose number grows with the
allocations, so on a large model the walks cost about as much as the rest
of the check (the ring of 3000 states in bench/bench_check.py).
Reference counting frees everything as usual; cycles, if any, wait for the
next full collection after the check.

What the check made and keeps (the zone graph, the findings) is long-lived, so
on the way out it goes straight to the oldest generation: re-enabling alone
would make the next allocation run a young-generation pass over every object
allocated during the pause (on the ring of 3000 states about a sixth of the
exploration's time), only to promote them.  gc.freeze() moves every tracked
object to the permanent generation and resets the young count, and
gc.unfreeze() puts them all in the oldest generation, both without walking
them (nothing in hamodel keeps objects frozen).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collection_paused() -> Iterator[None]:
    """Pause the cyclic collector inside; nested uses and a caller's own
    gc.disable() are respected (it is re-enabled only if it was on at entry)."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.freeze()
            gc.unfreeze()
            gc.enable()
