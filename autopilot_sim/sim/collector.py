"""Fewer cyclic-GC passes while a simulation runs.

CPython's cyclic collector makes a young-generation pass every 700 new container objects (and an
older-generation pass every 10 and 100 of those). A run allocates and frees millions of
short-lived messages, heap events and tuples that reference counting alone frees, while the
long-lived state (logs, reports) keeps growing, so those passes cost about a tenth of a run's CPU
time (perf, 5 servers, one simulated hour) and find almost nothing. During a run the threshold is
raised; cycles are still collected, later, and the previous settings come back afterwards.
Nothing observable depends on when the collector runs: outputs stay byte-identical.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

#: New container objects between two young-generation passes during a run (CPython: 700).
RUN_THRESHOLD = 50_000


@contextmanager
def fewer_collections(threshold: int = RUN_THRESHOLD) -> Iterator[None]:
    """Raise the young-generation threshold for the duration of the block, then restore it."""
    previous = gc.get_threshold()
    gc.set_threshold(max(threshold, previous[0]), *previous[1:])
    try:
        yield
    finally:
        gc.set_threshold(*previous)
