"""The engine's event loop: a clock and a priority queue of "call fn(*args) at that time".

A discrete-event simulator needs only this: a clock, a queue ordered by time and then by
scheduling order, and "call fn(*args) at that time". SimPy's `Environment` offers the same order
(time, priority, event id) with generality the engine does not use (processes, conditions,
callbacks lists), and each of its events costs an object, a `step()` call and a callback
dispatch.

Two representations of the same queue, chosen once per loop (`native_heap`):
* compiled build (mypyc): a binary heap of `Event` objects sifted by this module's own code. The
  comparisons are two native integer compares each; heapq on tuples costs a generic tuple
  comparison (an equality test, then a less-than, both through Python's rich comparison) at
  every step of a sift, which was about a fifth of a whole run (callgrind, 5 servers).
* pure Python: heapq on `(time, seq, fn, args)` tuples, because a sift loop interpreted by
  CPython costs more than heapq's C loop with tuple comparisons.
Both pop in exactly the same order (time, then scheduling order): tests/test_engine_loop.py runs
both on the same schedules, and the golden digests compare the two builds.

The API mirrors the part of `simpy.Environment` that callers use: `now`, `peek()`, `step()`
(the live HTTP API steps the clock by hand) and `run(until)`, with the same semantics: `run(until)`
handles every event strictly before `until` and leaves the clock at `until`; ties in time keep
scheduling order.
"""

from __future__ import annotations

from collections.abc import Callable
from heapq import heappop, heappush
from typing import Any, Final

from mypy_extensions import i64

INFINITY: Final = float("inf")
#: True when this module runs compiled (mypyc builds it as an extension module).
COMPILED: Final = not __file__.endswith(".py")


class EmptySchedule(Exception):
    """`step()` on an empty queue."""


class Event:
    """One scheduled call: fn(*args) at `when`; `seq` keeps scheduling order on ties."""

    __slots__ = ("args", "fn", "seq", "when")

    def __init__(self, when: i64, seq: i64, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        # i64 (a plain int under CPython): compiled, the sift loops compare machine integers.
        self.when: i64 = when
        self.seq: i64 = seq
        self.fn = fn
        self.args = args


def _spent() -> None:
    """What a spare Event holds instead of its handler (so it keeps no reference alive)."""


class EventLoop:
    """One run's clock and event queue (integer nanoseconds; no module-level state)."""

    __slots__ = ("events", "native_heap", "now", "seq", "spare", "tuples")

    def __init__(self, native_heap: bool | None = None) -> None:
        self.now = 0
        self.seq = 0
        #: The queue as a heap of Event objects (native_heap) or of (time, seq, fn, args) tuples.
        self.native_heap = COMPILED if native_heap is None else native_heap
        self.events: list[Event] = []
        #: Handled Event objects kept for reuse: allocating and freeing one per event was a
        #: tenth of the loop's cost (callgrind).
        self.spare: list[Event] = []
        self.tuples: list[tuple[int, int, Callable[..., Any], tuple[Any, ...]]] = []

    def __len__(self) -> int:
        """How many events are scheduled."""
        return len(self.events) + len(self.tuples)

    def at(self, when: int, fn: Callable[..., Any], args: tuple[Any, ...] = ()) -> None:
        """Run fn(*args) at absolute time `when` (a time in the past means now)."""
        self.push(when if when > self.now else self.now, fn, args)

    def push(self, when: int, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        """Schedule fn(*args) at `when` exactly (the engine's hot paths; callers pass when >= now)."""
        self.seq = seq = self.seq + 1
        if not self.native_heap:
            heappush(self.tuples, (when, seq, fn, args))
            return
        spare = self.spare
        if spare:
            event = spare.pop()
            event.when = when
            event.seq = seq
            event.fn = fn
            event.args = args
        else:
            event = Event(when, seq, fn, args)
        heap = self.events
        heap.append(event)
        pos: i64 = len(heap) - 1
        at: i64 = when
        while pos > 0:  # sift up: the new event has the largest seq, so a tie in time stops it
            parent_pos: i64 = (pos - 1) >> 1
            parent = heap[parent_pos]
            if at >= parent.when:
                break
            heap[pos] = parent
            pos = parent_pos
        heap[pos] = event

    def _pop(self) -> Event:
        """Remove and return the earliest event of the native heap (not empty)."""
        heap = self.events
        last = heap.pop()
        if not heap:
            return last
        first = heap[0]
        size: i64 = len(heap)
        when: i64 = last.when
        seq: i64 = last.seq
        pos: i64 = 0
        child: i64 = 1
        while child < size:  # sift `last` down from the root
            right: i64 = child + 1
            smaller = heap[child]
            if right < size:
                other = heap[right]
                if other.when < smaller.when or (other.when == smaller.when and other.seq < smaller.seq):
                    child = right
                    smaller = other
            if smaller.when > when or (smaller.when == when and smaller.seq > seq):
                break
            heap[pos] = smaller
            pos = child
            child = 2 * pos + 1
        heap[pos] = last
        return first

    def _handle(self, event: Event) -> None:
        """Advance the clock to `event` and run it; the object goes back to `spare` first."""
        self.now = event.when
        fn = event.fn  # through a local: `event.fn(...)` compiles to a generic method lookup
        args = event.args
        event.fn = _spent
        event.args = ()
        self.spare.append(event)
        fn(*args)

    def peek(self) -> float:
        """The time of the next event, or infinity when none is scheduled."""
        if self.events:
            return int(self.events[0].when)  # an int (exact), like the pure branch
        return self.tuples[0][0] if self.tuples else INFINITY

    def step(self) -> None:
        """Handle the next event (raises EmptySchedule when there is none)."""
        if self.events:
            self._handle(self._pop())
        elif self.tuples:
            when, _, fn, args = heappop(self.tuples)
            self.now = when
            fn(*args)
        else:
            raise EmptySchedule()

    def run(self, until: int) -> None:
        """Handle every event before `until`, then leave the clock at `until` (if later).

        An exception from a handler propagates with the clock at that handler's time."""
        if self.native_heap:
            events = self.events
            while events and events[0].when < until:
                self._handle(self._pop())
        else:
            queue = self.tuples
            while queue and queue[0][0] < until:
                when, _, fn, args = heappop(queue)
                self.now = when
                fn(*args)
        self.now = max(self.now, until)
