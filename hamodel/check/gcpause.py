"""Automatic garbage collection paused for the length of a check.

A check allocates hundreds of thousands of small immutable values (zones,
nodes, witness events) and frees almost none until it returns; none of them
form reference cycles.  CPython's cyclic collector still walks every live
object at each of its oldest-generation passes, whose number grows with the
allocations, so on a large model the walks cost about as much as the rest
of the check (the ring of 3000 states in bench/bench_check.py).
Reference counting frees everything as usual; cycles, if any, wait for the
next collection after the check.
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
            gc.enable()
