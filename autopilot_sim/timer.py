"""`Timer`: the one timer type of the core→engine contract, shared by the Raft and gossip cores.

A protocol core (raft/node.py, gossip/node.py) never schedules anything itself. It owns one
`Timer` per purpose (a node's follower check, a peer's heartbeat, a probe's deadline, ...), arms
it by setting `deadline` — or cancels it with `disarm()` — and lists it in its `timer_requests`;
after the call the engine (sim/timers.py) takes the list and schedules what is needed. At the
deadline the engine hands `timer.key` back to the core's `on_timer(key, now)`.

What a timer *is* travels with it, typed, rather than being read off its key: `main_loop` says
whether it runs on the process's main loop (which a disk write blocks: Raft's follower check,
election, lease and transfer timers) or on a goroutine of its own (per-peer heartbeat and
replication timers, all gossip timers).

The engine keeps its own bookkeeping on the timer (`event_at`, `event_epoch`: the one loop event
pending for it), so arming and firing need no dictionary lookups. Cores never read those two.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Final

from mypy_extensions import mypyc_attr

#: `deadline` / `event_at` value of a timer that is not armed / has no pending loop event.
NOT_ARMED: Final = -1


@mypyc_attr(allow_interpreted_subclasses=True)  # mypyc: copy.deepcopy works (notebook 06)
class Timer:
    """One timer of a core: `key` (what `on_timer` receives), `main_loop`, and the absolute
    `deadline` in ns the core asked for (NOT_ARMED when it is not armed)."""

    __slots__ = ("deadline", "event_at", "event_epoch", "key", "main_loop")

    def __init__(self, key: Hashable, main_loop: bool = False) -> None:
        self.key = key
        self.main_loop = main_loop
        self.deadline = NOT_ARMED
        #: The engine's: the time of the loop event pending for this timer, and its process epoch.
        self.event_at = NOT_ARMED
        self.event_epoch = 0

    def arm(self, deadline: int) -> Timer:
        """Ask for `on_timer` at `deadline` (replacing any earlier request); returns self."""
        self.deadline = deadline
        return self

    def disarm(self) -> Timer:
        """Cancel; returns self."""
        self.deadline = NOT_ARMED
        return self

    @property
    def armed(self) -> bool:
        """Whether the core wants this timer to fire."""
        return self.deadline >= 0

    def request(self) -> tuple[Hashable, int | None]:
        """`(key, deadline)`, or `(key, None)` when disarmed: how traces and tests print a request."""
        return self.key, (self.deadline if self.deadline >= 0 else None)

    def __repr__(self) -> str:
        return f"Timer({self.key!r}, deadline={self.request()[1]}, main_loop={self.main_loop})"


__all__ = ["NOT_ARMED", "Timer"]
