"""The lazy-timer rules every core's timers follow (`sim/timers.py`), checked on their own."""

from __future__ import annotations

from autopilot_sim.raft.node import RaftNode
from autopilot_sim.raft.roles import MAIN_LOOP_TIMERS, T_ELECTION
from autopilot_sim.raft.timing import RaftTiming
from autopilot_sim.rng import stream
from autopilot_sim.sim.cluster import SimServer
from autopilot_sim.sim.loop import EventLoop
from autopilot_sim.sim.timers import CoreTimers
from autopilot_sim.timer import Timer


class Host:
    """One process with one core's timers, recording which keys came due when."""

    def __init__(self) -> None:
        self.loop = EventLoop()
        self.process = SimServer("a", RaftNode("a", RaftTiming(), stream(1, "raft", "a")), None)
        self.timers = CoreTimers()
        self.fired: list[tuple[int, object]] = []
        self.known: dict[object, Timer] = {}

    def timer(self, key: object, main_loop: bool = False) -> Timer:
        if key not in self.known:
            self.known[key] = Timer(key, main_loop)
        return self.known[key]

    def fire(self, process: SimServer, timer: Timer, at: int, epoch: int) -> None:
        if self.timers.due(self.loop, process, timer, at, epoch, self.fire):
            self.fired.append((self.loop.now, timer.key))

    def arm(self, *requests: tuple[object, int | None]) -> None:
        """Arm (deadline) or disarm (None) timers by key, as a core does, then hand them over."""
        listed = [self.timer(key).arm(at) if at is not None else self.timer(key).disarm() for key, at in requests]
        self.timers.arm(self.loop, self.process, listed, self.fire)


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
    assert host.fired == [] and host.timers.armed == {} and not host.timer("k").armed


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
    assert [t.key for t in host.timers.take_overdue(50)] == ["c", "a", "b"]  # deadline, then the key's repr
    host.loop.run(100)
    assert host.fired == [(70, "late")]


def test_a_main_loop_timer_waits_for_a_disk_write_and_others_do_not() -> None:
    host = Host()
    host.process.busy_until = 40
    host.timer(T_ELECTION, main_loop=True)  # what the Raft node declares for its election timer
    host.arm((T_ELECTION, 10), (("hb", "b"), 10))
    host.loop.run(100)
    assert host.fired == [(10, ("hb", "b")), (40, T_ELECTION)]


def test_the_raft_node_declares_its_main_loop_timers_on_the_timer() -> None:
    node = RaftNode("a", RaftTiming(), stream(1, "raft", "a"))
    node.start(0)
    (timer,) = node.timer_requests
    assert timer.key in MAIN_LOOP_TIMERS and timer.main_loop and timer.armed


def test_a_timer_re_armed_after_a_crash_is_scheduled_again() -> None:
    """Its pending event belongs to the old epoch: the host must not take it for a live one."""
    host = Host()
    host.arm(("k", 10))
    host.process.epoch += 1
    host.timers.clear()
    host.arm(("k", 20))  # 20 > 10: without the epoch check this would "sleep on" a dead event
    host.loop.run(100)
    assert host.fired == [(20, "k")]


def test_cancelled_timers_are_forgotten_by_the_host() -> None:
    """A core that arms and cancels a fresh timer per probe must not grow the host's table."""
    host = Host()
    for i in range(100):
        host.arm((("probe", i), 10 + i), (("probe", i), None))
    assert host.timers.armed == {}
