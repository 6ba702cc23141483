"""Transmit-limited broadcast queue (memberlist `TransmitLimitedQueue`, our own code).

Each queued broadcast rides on at most `limit` outgoing packets (gossip packets and every
ping / ack / indirect request / nack, memberlist `sendMsg`), then it is dropped and its `notify`
callback runs (serf's graceful leave waits for that). memberlist's queue is *named*: a new
broadcast about node X replaces the queued one about X (and "finishes" it). serf's intent queue
holds *unique* broadcasts that never replace each other.

Simplification: no UDP size budget. memberlist packs broadcasts into a 1400-byte packet, fewest
transmits first; with the few-dozen-node pools this simulator runs, everything queued fits, so
every packet carries every queued broadcast. (Large pools under churn would be slower to
converge in reality.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class _Item(Generic[T]):
    __slots__ = ("msg", "notify", "seq", "transmits")

    def __init__(self, msg: T, seq: int, notify: Callable[[], None] | None) -> None:
        self.msg = msg
        self.transmits = 0
        self.seq = seq
        self.notify = notify


class BroadcastQueue(Generic[T]):
    """A small transmit-limited queue. `finished` collects notify callbacks to run later.

    Callbacks are not run inside `take` (that happens in the middle of building a packet);
    the owner drains `finished` once the current input is handled, as Go would deliver the
    notification on a channel to another goroutine.
    """

    __slots__ = ("_items", "_next_seq", "finished")

    def __init__(self) -> None:
        self._items: dict[object, _Item[T]] = {}
        self._next_seq = 0
        self.finished: list[Callable[[], None]] = []

    def __len__(self) -> int:
        return len(self._items)

    def queue(self, msg: T, name: str | None = None,
              notify: Callable[[], None] | None = None) -> None:
        """Queue `msg`; with a `name` it replaces (and finishes) the queued one of that name."""
        self._next_seq += 1
        key: object = name if name is not None else ("unique", self._next_seq)
        old = self._items.pop(key, None)
        if old is not None and old.notify is not None:
            self.finished.append(old.notify)
        self._items[key] = _Item(msg, self._next_seq, notify)

    def take(self, limit: int) -> list[T]:
        """Messages for one outgoing packet; counts one transmit each, drops spent ones.

        Order: fewest transmits first, newest first among equals (memberlist's btree order).
        """
        if not self._items:
            return []
        items = sorted(self._items.items(), key=lambda kv: (kv[1].transmits, -kv[1].seq))
        out: list[T] = []
        for key, item in items:
            out.append(item.msg)
            item.transmits += 1
            if item.transmits >= limit:
                del self._items[key]
                if item.notify is not None:
                    self.finished.append(item.notify)
        return out

    def clear(self) -> None:
        """Forget everything (process death); notifications are dropped with it."""
        self._items.clear()
        self.finished.clear()
