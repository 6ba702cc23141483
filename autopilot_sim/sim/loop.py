"""The engine's event loop: a heap of plain `(time, seq, fn, args)` entries.

A discrete-event simulator needs only this: a clock, a priority queue ordered by time and then by
scheduling order, and "call fn(*args) at that time". SimPy's `Environment` offers the same order
(time, priority, event id) with generality the engine does not use (processes, conditions,
callbacks lists), and each of its events costs an object, a `step()` call and a callback
dispatch. Here an event is one tuple and firing it is one call, which is most of the engine's
speed-up (benchmarks/bench_engine.py measures both in one process).

The API mirrors the part of `simpy.Environment` that callers use: `now`, `peek()`, `step()`
(the live HTTP API steps the clock by hand) and `run(until)`, with the same semantics: `run(until)`
handles every event strictly before `until` and leaves the clock at `until`; ties in time keep
scheduling order.
"""

from __future__ import annotations

from collections.abc import Callable
from heapq import heappop, heappush
from typing import Any

INFINITY = float("inf")


class EmptySchedule(Exception):
    """`step()` on an empty queue."""


class EventLoop:
    """One run's clock and event queue (integer nanoseconds; no module-level state)."""

    __slots__ = ("now", "queue", "seq")

    def __init__(self) -> None:
        self.now = 0
        #: (time, seq, fn, args): fn(*args) runs at `time`; `seq` keeps scheduling order on ties.
        self.queue: list[tuple[int, int, Callable[..., Any], tuple[Any, ...]]] = []
        self.seq = 0

    def at(self, when: int, fn: Callable[..., Any], args: tuple[Any, ...] = ()) -> None:
        """Run fn(*args) at absolute time `when` (not before now)."""
        self.seq = seq = self.seq + 1
        heappush(self.queue, (when if when > self.now else self.now, seq, fn, args))

    def peek(self) -> float:
        """The time of the next event, or infinity when none is scheduled."""
        return self.queue[0][0] if self.queue else INFINITY

    def step(self) -> None:
        """Handle the next event (raises EmptySchedule when there is none)."""
        if not self.queue:
            raise EmptySchedule()
        when, _, fn, args = heappop(self.queue)
        self.now = when
        fn(*args)

    def run(self, until: int) -> None:
        """Handle every event before `until`, then leave the clock at `until` (if later).

        An exception from a handler propagates with the clock at that handler's time."""
        queue = self.queue
        pop = heappop
        while queue and queue[0][0] < until:
            when, _, fn, args = pop(queue)
            self.now = when
            fn(*args)
        self.now = max(self.now, until)
