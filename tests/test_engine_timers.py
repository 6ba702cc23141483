"""The lazy-timer rules every core's timers follow (`sim/timers.py`), checked on their own."""

from __future__ import annotations

from typing import Any

from autopilot_sim.raft.node import RaftNode
from autopilot_sim.raft.roles import MAIN_LOOP_TIMERS, T_ELECTION
from autopilot_sim.raft.timing import RaftTiming
from autopilot_sim.rng import stream
from autopilot_sim.sim.cluster import SimServer
from autopilot_sim.sim.loop import EventLoop
from autopilot_sim.sim.timers import CoreTimers


class Host:
    """One process with one core's timers, recording which keys came due when."""

    def __init__(self, main_loop: Any = ()) -> None:
        self.loop = EventLoop()
        self.process = SimServer("a", RaftNode("a", RaftTiming(), stream(1, "raft", "a")), None)
        self.timers = CoreTimers(main_loop)
        self.fired: list[tuple[int, Any]] = []

    def fire(self, process: SimServer, key: Any, at: int, epoch: int) -> None:
        if self.timers.due(self.loop, process, key, at, epoch, self.fire):
            self.fired.append((self.loop.now, key))

    def arm(self, *requests: tuple[Any, int | None]) -> None:
        self.timers.arm(self.loop, self.process, list(requests), self.fire)


def test_re_arming_later_schedules_nothing_new_and_fires_once_at_the_new_deadline() -> None:
    host = Host()
    host.arm(("k", 10))
    host.arm(("k", 30))
    assert len(host.loop) == 1  # the event at 10 stays, no second one
    host.loop.run(100)
    assert host.fired == [(30, "k")]


def test_re_arming_earlier_fires_early_and_the_old_event_is_stale() -> None:
    host = Host()
    host.arm(("k", 30))
    host.arm(("k", 10))
    host.loop.run(100)
    assert host.fired == [(10, "k")]


def test_a_cancelled_timer_does_not_fire() -> None:
    host = Host()
    host.arm(("k", 10), ("k", None))
    host.loop.run(100)
    assert host.fired == [] and host.timers.deadlines == {}


def test_events_from_before_a_crash_are_dropped() -> None:
    host = Host()
    host.arm(("k", 10))
    host.process.epoch += 1  # the crash; even with the deadline still recorded, the old event is void
    host.loop.run(50)
    assert host.fired == []
    host.timers.clear()
    host.arm(("k", 60))  # the restarted process arms again
    host.loop.run(100)
    assert host.fired == [(60, "k")]


def test_a_paused_process_fires_its_overdue_timers_at_resume_in_deadline_order() -> None:
    host = Host()
    host.process.paused_until = 50
    host.arm(("b", 20), ("a", 20), ("c", 10), ("late", 70))
    host.loop.run(50)
    assert host.fired == []
    assert list(host.timers.take_overdue(50)) == ["c", "a", "b"]  # deadline, then the key's repr
    host.loop.run(100)
    assert host.fired == [(70, "late")]


def test_a_main_loop_timer_waits_for_a_disk_write_and_others_do_not() -> None:
    host = Host(MAIN_LOOP_TIMERS)
    host.process.busy_until = 40
    host.arm((T_ELECTION, 10), (("hb", "b"), 10))
    host.loop.run(100)
    assert host.fired == [(10, ("hb", "b")), (40, T_ELECTION)]
