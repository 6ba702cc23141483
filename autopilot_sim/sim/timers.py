"""Lazy timers of one protocol core (a Raft node or a gossip node) inside one simulated process.

Both cores ask for timers the same way — `(key, absolute deadline)` to arm or re-arm, `(key,
None)` to cancel — and the engine hosts them with the same rules, kept here once:

* **Lazy re-arming.** A key has at most one pending event in the loop. Re-arming it to a *later*
  deadline schedules nothing: when the earlier event fires it sees the later deadline and sleeps
  on. hashicorp/raft re-arms its CommitTimeout timer at every replication wake-up, so this
  saves most timer events. An earlier deadline schedules a new event; the old one is then stale.
* **Epochs.** An event carries the process epoch it was scheduled in; a crash bumps the epoch,
  so events from before it are dropped (and `clear` forgets every deadline).
* **Pauses.** A stalled process fires nothing; what came due meanwhile fires at resume, in
  deadline order (`take_overdue`).
* **The main loop.** Keys in `main_loop` run on the process's main loop, which a disk write
  blocks (Raft's follower check, election and lease timers); they wait for it. Raft's per-peer
  heartbeat and replication timers, and all gossip timers, are goroutines of their own.

The engine (`sim/cluster.py`) decides what firing means for its core: it calls `due` from the
loop event and, when it answers True, hands the key to the core and drains the core's outputs.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from typing import TYPE_CHECKING, Any

from autopilot_sim.sim.loop import EventLoop

if TYPE_CHECKING:  # typed as the concrete process so that compiled code reads its fields directly
    from autopilot_sim.sim.cluster import SimServer as Process

#: A loop handler `fire(process, key, at, epoch)` that calls back into `CoreTimers.due`.
Fire = Callable[[Any, Any, int, int], None]


class CoreTimers:
    """The deadlines one core asked for and the loop events pending for them."""

    __slots__ = ("deadlines", "main_loop", "scheduled")

    def __init__(self, main_loop: Collection[object] = ()) -> None:
        #: key -> the deadline the core asked for (absent: not armed).
        self.deadlines: dict[Any, int] = {}
        #: key -> the time of the one loop event pending for it.
        self.scheduled: dict[Any, int] = {}
        self.main_loop = main_loop

    def arm(self, loop: EventLoop, process: Process, requests: list[tuple[Any, int | None]], fire: Fire) -> None:
        """Take the core's timer requests (and empty the list): schedule a loop event only when
        no earlier one is pending for the key."""
        deadlines = self.deadlines
        scheduled = self.scheduled
        for key, deadline in requests:
            if deadline is None:
                deadlines.pop(key, None)
                continue
            deadlines[key] = deadline
            pending = scheduled.get(key)
            if pending is None or deadline < pending:
                scheduled[key] = deadline
                loop.push(deadline, fire, (process, key, deadline, process.epoch))
        requests.clear()

    def due(self, loop: EventLoop, process: Process, key: Any, at: int, epoch: int, fire: Fire) -> bool:
        """The loop event of `key` scheduled for `at` in `epoch` fired: True when the core's
        timer is due now (its deadline is then forgotten). A stale event (superseded, cancelled,
        from before a crash) is dropped; one whose deadline moved later sleeps on; a paused
        process fires it at resume; a main-loop timer waits for a disk write to finish."""
        scheduled = self.scheduled
        if epoch != process.epoch or scheduled.get(key) != at:
            return False
        del scheduled[key]
        deadline = self.deadlines.get(key)
        if deadline is None:
            return False
        now = loop.now
        if deadline > now:  # re-armed later meanwhile: sleep on
            scheduled[key] = deadline
            loop.push(deadline, fire, (process, key, deadline, epoch))
            return False
        if now < process.paused_until:
            return False  # fires at resume (take_overdue)
        busy = process.busy_until
        if now < busy and key in self.main_loop:
            scheduled[key] = busy
            loop.push(busy, fire, (process, key, busy, epoch))
            return False
        del self.deadlines[key]
        return True

    def take_overdue(self, now: int) -> Iterable[Any]:
        """At resume: the keys due by `now`, in deadline order (ties by the key's repr, so the
        order never depends on hashing). Each key is taken only if still due when its turn
        comes, since firing an earlier one may re-arm it."""
        deadlines = self.deadlines
        for _, _, key in sorted((d, repr(k), k) for k, d in deadlines.items() if d <= now):
            deadline = deadlines.get(key)
            if deadline is not None and deadline <= now:
                del deadlines[key]
                self.scheduled.pop(key, None)
                yield key

    def clear(self) -> None:
        """Forget every timer (the process crashed, or its core was replaced)."""
        self.deadlines.clear()
        self.scheduled.clear()
