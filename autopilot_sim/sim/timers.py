"""The engine's host for the timers of one protocol core inside one simulated process.

Both cores ask for timers the same way — they arm or disarm a `Timer` (autopilot_sim/timer.py)
and list it in `timer_requests` — and the engine hosts them with the same rules, kept here once:

* **Lazy re-arming.** A timer has at most one pending event in the loop. Re-arming it to a
  *later* deadline schedules nothing: when the earlier event fires it sees the later deadline and
  sleeps on. hashicorp/raft re-arms its CommitTimeout timer at every replication wake-up, so this
  saves most timer events. An earlier deadline schedules a new event; the old one is then stale.
* **Epochs.** An event carries the process epoch it was scheduled in; a crash bumps the epoch,
  so events from before it are dropped (and `clear` forgets every deadline).
* **Pauses.** A stalled process fires nothing; what came due meanwhile fires at resume, in
  deadline order (`take_overdue`).
* **The main loop.** A timer with `main_loop` set runs on the process's main loop, which a disk
  write blocks (Raft's follower check, election, lease and transfer timers); it waits for the
  write. Raft's per-peer heartbeat and replication timers, and all gossip timers, are goroutines
  of their own.

The pending event's time and epoch live on the timer itself (`event_at`, `event_epoch`), so
arming and firing cost no dictionary lookups; `armed` (an identity set) only serves pauses and
crashes.

The engine (`sim/cluster.py`) decides what firing means for its core: it calls `due` from the
loop event and, when it answers True, hands `timer.key` to the core and drains its outputs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from autopilot_sim.sim.loop import EventLoop
from autopilot_sim.timer import NOT_ARMED, Timer

if TYPE_CHECKING:  # typed as the concrete process so that compiled code reads its fields directly
    from autopilot_sim.sim.cluster import SimServer as Process

#: A loop handler `fire(process, timer, at, epoch)` that calls back into `CoreTimers.due`.
Fire = Callable[[Any, Timer, int, int], None]


class CoreTimers:
    """The armed timers of one core in one process (the loop events live on the timers)."""

    __slots__ = ("armed",)

    def __init__(self) -> None:
        #: Timers armed and not yet fired (insertion order; read only at resume and crash).
        self.armed: dict[Timer, None] = {}

    def arm(self, loop: EventLoop, process: Process, requests: list[Timer], fire: Fire) -> None:
        """Take the core's timer requests (and empty the list): schedule a loop event only when
        no earlier one is pending for the timer in this process epoch."""
        armed = self.armed
        epoch = process.epoch
        for timer in requests:
            deadline = timer.deadline
            if deadline < 0:
                armed.pop(timer, None)
                continue
            armed[timer] = None
            if timer.event_at < 0 or deadline < timer.event_at or timer.event_epoch != epoch:
                deadline = max(deadline, loop.now)  # a deadline already past fires now: time never runs back
                timer.event_at = deadline
                timer.event_epoch = epoch
                loop.push(deadline, fire, (process, timer, deadline, epoch))
        requests.clear()

    def due(self, loop: EventLoop, process: Process, timer: Timer, at: int, epoch: int, fire: Fire) -> bool:
        """The loop event of `timer` scheduled for `at` in `epoch` fired: True when the core's
        timer is due now (it is then disarmed). A stale event (superseded, cancelled, from before
        a crash) is dropped; one whose deadline moved later sleeps on; a paused process fires it
        at resume; a main-loop timer waits for a disk write to finish."""
        if epoch != process.epoch or timer.event_at != at or timer.event_epoch != epoch:
            return False
        timer.event_at = NOT_ARMED
        deadline = timer.deadline
        if deadline < 0:
            return False
        now = loop.now
        if deadline > now:  # re-armed later meanwhile: sleep on
            timer.event_at = deadline
            loop.push(deadline, fire, (process, timer, deadline, epoch))
            return False
        if now < process.paused_until:
            return False  # fires at resume (take_overdue)
        busy = process.busy_until
        if now < busy and timer.main_loop:
            timer.event_at = busy
            loop.push(busy, fire, (process, timer, busy, epoch))
            return False
        timer.disarm()
        del self.armed[timer]
        return True

    def take_overdue(self, now: int) -> Iterator[Timer]:
        """At resume: the timers due by `now`, in deadline order (ties by the key's repr, so the
        order never depends on hashing). Each is taken only if still due when its turn comes,
        since firing an earlier one may re-arm it."""
        armed = self.armed
        overdue = sorted((t.deadline, repr(t.key), i, t) for i, t in enumerate(armed) if 0 <= t.deadline <= now)
        for _, _, _, timer in overdue:
            deadline = timer.deadline
            if 0 <= deadline <= now and timer in armed:
                timer.disarm()
                timer.event_at = NOT_ARMED
                del armed[timer]
                yield timer

    def clear(self) -> None:
        """Forget every timer (the process crashed, or its core was replaced)."""
        for timer in self.armed:
            timer.disarm()
        self.armed.clear()
