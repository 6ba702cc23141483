"""Behaviour of the gossip model (memberlist + serf) against docs/behaviour/gossip.md.

Clusters run on the tiny heap loop in test_gossip_harness.py. Times are int ns; helpers convert
to seconds only in assertion messages.
"""

from __future__ import annotations

import dataclasses
import random
import statistics

import pytest
from test_gossip_harness import Harness, crash_to_failed, leave_to_left, names_for

from autopilot_sim.durations import HOUR, MILLISECOND, MINUTE, SECOND
from autopilot_sim.gossip import (
    Ack,
    Alive,
    GossipConfig,
    GossipNode,
    Packet,
    Ping,
    PushPull,
    SerfPushPull,
    Suspect,
    remaining_suspicion_time,
    retransmit_limit,
    suspicion_timeout,
)
from autopilot_sim.gossip.queue import BroadcastQueue

# ---------------------------------------------------------------------- configuration, formulas


def test_defaults_are_nomad_server_values() -> None:
    c = GossipConfig()
    assert (c.probe_interval, c.probe_timeout, c.indirect_checks) == (5 * SECOND, 3 * SECOND, 3)
    assert (c.suspicion_mult, c.suspicion_max_timeout_mult, c.retransmit_mult) == (6, 6, 4)
    assert (c.gossip_interval, c.gossip_nodes) == (500 * MILLISECOND, 4)
    assert c.gossip_to_the_dead_time == 60 * SECOND and c.push_pull_interval == 60 * SECOND
    assert c.tcp_timeout == 30 * SECOND and c.awareness_max_multiplier == 8
    assert c.disable_tcp_pings is False
    assert c.reconnect_timeout == 72 * HOUR and c.tombstone_timeout == 24 * HOUR
    assert (c.reap_interval, c.reconnect_interval) == (15 * SECOND, 30 * SECOND)
    assert (c.broadcast_timeout, c.leave_propagate_delay) == (5 * SECOND, 1 * SECOND)
    assert c.recent_intent_timeout == 5 * MINUTE


def test_config_rejects_bad_values() -> None:
    with pytest.raises(ValueError):
        GossipConfig(probe_interval=-1)
    with pytest.raises(ValueError):
        GossipConfig(gossip_interval=0)
    with pytest.raises(TypeError):
        GossipConfig(probe_timeout=1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        GossipConfig(disable_tcp_pings=1)  # type: ignore[arg-type]


@pytest.mark.parametrize(("n", "expected"), [
    (1, 30 * SECOND), (3, 30 * SECOND), (5, 30 * SECOND), (10, 30 * SECOND),
    (11, 31_230 * MILLISECOND), (20, 39_030 * MILLISECOND),
])
def test_suspicion_timeout_matches_reference_table(n: int, expected: int) -> None:
    assert suspicion_timeout(6, n, 5 * SECOND) == expected


@pytest.mark.parametrize(("n", "expected"), [(1, 4), (3, 4), (5, 4), (9, 4), (10, 8), (99, 8),
                                            (100, 12)])
def test_retransmit_limit(n: int, expected: int) -> None:
    assert retransmit_limit(4, n) == expected


@pytest.mark.parametrize(("c", "seconds"), [(0, 180.0), (1, 115.4), (2, 77.6), (3, 50.8),
                                            (4, 30.0)])
def test_lifeguard_suspicion_shrinks_with_confirmations(c: int, seconds: float) -> None:
    got = remaining_suspicion_time(c, 4, 0, 30 * SECOND, 180 * SECOND)
    assert abs(got / SECOND - seconds) < 0.05
    assert got % MILLISECOND == 0  # floored to whole milliseconds, like memberlist
    # elapsed time is subtracted; past the total it goes negative (the timer fires at once)
    assert remaining_suspicion_time(c, 4, 200 * SECOND, 30 * SECOND, 180 * SECOND) < 0


def test_broadcast_queue_limits_and_replaces() -> None:
    q: BroadcastQueue[str] = BroadcastQueue()
    done: list[str] = []
    q.queue("a1", name="a", notify=lambda: done.append("a1"))
    q.queue("b", name="b")
    q.queue("a2", name="a", notify=lambda: done.append("a2"))  # replaces a1, finishing it
    assert [f() for f in q.finished] and done == ["a1"]
    q.finished.clear()
    assert q.take(2) == ["a2", "b"]  # newest first among equal transmit counts
    assert q.take(2) == ["a2", "b"]
    assert len(q) == 0 and q.take(2) == []
    for f in q.finished:
        f()
    assert done == ["a1", "a2"]


def test_messages_are_immutable_and_hashable() -> None:
    p = Packet((Ping(1, "a", "b"), Alive("b", 2, (("role", "nomad"),))))
    assert hash(p) == hash(Packet((Ping(1, "a", "b"), Alive("b", 2, (("role", "nomad"),)))))
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.parts = ()  # type: ignore[misc]
    assert Packet.stream is False and PushPull.stream is True


# ---------------------------------------------------------------------- start, join


@pytest.mark.parametrize("n", [3, 5])
def test_cluster_converges_to_all_alive(n: int) -> None:
    h = Harness(names_for(n), seed=11 + n)
    h.start_all()
    h.run_for(2 * SECOND)
    assert h.all_alive()
    for obs in h.names:
        joins = sorted(e.name for e in h.events_of(obs, kind="member-join"))
        assert joins == sorted(h.names), f"{obs} should see one member-join per member"
        assert h.nodes[obs].incarnation == 1
    assert not h.events_of(kind="member-failed")


def test_late_joiner_is_alive_everywhere_within_one_gossip_tick() -> None:
    names = names_for(5)
    h = Harness(names[:4], seed=3, latency=1 * MILLISECOND)
    h.names = names
    for name in names[:4]:
        h.start(name, [] if name == "s1" else ["s1"])
    h.run_until(30 * SECOND)
    h.start("s5", ["s2"])
    h.run_for(2 * SECOND)
    assert h.all_alive()
    for obs in names[:4]:
        t = h.first(obs, "s5", "member-join")
        assert t is not None and t - 30 * SECOND <= 500 * MILLISECOND + 3 * MILLISECOND


def test_join_is_retried_until_a_seed_answers() -> None:
    h = Harness(["s1", "s2"], seed=5)
    h.start("s1")
    h.isolate("s2")
    h.start("s2", ["s1"])
    h.run_until(10 * SECOND)
    h.heal()
    # first attempt times out at tcp_timeout (30 s), the retry comes 30 s later
    h.run_until(59 * SECOND)
    assert h.status("s1", "s2") is None
    h.run_until(61 * SECOND)
    assert h.all_alive()


# ---------------------------------------------------------------------- crash detection


def test_crash_turns_failed_at_every_survivor_35_to_50s_three_servers() -> None:
    for seed in range(10):
        delays = crash_to_failed(3, seed)
        assert len(delays) == 2
        for d in delays:
            # a probe sent just before the crash can start the clock a few ms early
            assert 35.0 - 0.01 <= d <= 50.5, (seed, delays)


def test_crash_turns_failed_five_servers() -> None:
    for seed in range(6):
        delays = crash_to_failed(5, seed)
        assert len(delays) == 4
        assert all(35.0 - 0.01 <= d <= 70.5 for d in delays), (seed, delays)
        # every survivor learns within a gossip tick or two of the first one
        assert max(delays) - min(delays) <= 1.1, (seed, delays)


def test_crash_to_failed_distribution_matches_reference_model() -> None:
    samples = [d for seed in range(150) for d in crash_to_failed(3, 1000 + seed)]
    med = statistics.median(samples)
    assert 36.5 <= med <= 40.0, med  # reference model: median 38.0 s, mean 38.6 s
    assert min(samples) >= 35.0 - 0.01 and max(samples) <= 50.5


def test_confirmations_shorten_suspicion_in_larger_pools() -> None:
    # 7 servers: k = 4, so a lone suspicion would last 180 s; independent confirmations from
    # the other probers bring it down towards 30 s.
    for seed in range(3):
        delays = crash_to_failed(7, 50 + seed)
        assert all(35.0 - 0.01 <= d <= 100 for d in delays), delays


def test_suspect_is_never_visible_to_serf() -> None:
    h = Harness(names_for(3), seed=21)
    h.start_all()
    h.run_until(100 * SECOND)
    h.crash("s3")
    crashed_at = h.now
    saw_suspect = False
    while h.now < crashed_at + 34 * SECOND:
        h.run_for(100 * MILLISECOND)
        for obs in ("s1", "s2"):
            assert h.status(obs, "s3") == "alive"
            info = h.nodes[obs].member_info("s3")
            assert info is not None
            saw_suspect |= info.state == "suspect"
    assert saw_suspect, "memberlist should have suspected s3 during the window"
    assert not h.events_of(target="s3", after=crashed_at)
    h.run_for(20 * SECOND)
    assert h.status("s1", "s3") == "failed" and h.status("s2", "s3") == "failed"


@pytest.mark.pure_python  # spies on Memberlist._apply_awareness
@pytest.mark.parametrize(("n", "rise"), [(3, 1), (5, 3)])
def test_failed_probe_raises_lifeguard_health(n: int, rise: int) -> None:
    # A probe of the crashed node asks min(3, n - 2) helpers whose nacks (t0 + ~6 s) miss the
    # t0 + 5 s deadline at score 0, so the prober's score rises by that many
    # (docs/behaviour/gossip.md §2.3).
    names = names_for(n)
    h = Harness(names, seed=8)
    h.start_all()
    h.run_until(100 * SECOND)
    deltas: list[int] = []
    for name in names[:-1]:
        ml = h.nodes[name]._ml
        real = ml._apply_awareness

        def spy(delta: int, real=real) -> None:
            deltas.append(delta)
            real(delta)

        ml._apply_awareness = spy  # type: ignore[method-assign]
    h.crash(names[-1])
    h.run_for(40 * SECOND)
    assert max(deltas) == rise
    # The raised score stretches the prober's next failing probe: ProbeInterval * (score + 1).
    h.run_for(120 * SECOND)  # successful probes decay it again
    assert all(h.nodes[x].health_score == 0 for x in names[:-1])


# ---------------------------------------------------------------------- leave, force-leave


def test_graceful_leave_shows_leaving_then_left_quickly() -> None:
    h = Harness(names_for(3), seed=4)
    h.start_all()
    h.run_until(100 * SECOND)
    h.leave("s3")
    left_at = h.now
    seen: dict[str, list[str]] = {"s1": [], "s2": []}
    while h.now < left_at + 3 * SECOND:
        h.run_for(10 * MILLISECOND)
        for obs, history in seen.items():
            st = h.status(obs, "s3")
            assert st is not None
            if not history or history[-1] != st:
                history.append(st)
    for obs, statuses in seen.items():
        assert statuses == ["alive", "leaving", "left"], (obs, statuses)
        t = h.first(obs, "s3", "member-leave", after=left_at)
        assert t is not None and t - left_at <= 1500 * MILLISECOND + 20 * MILLISECOND
    # exactly one event per observer: member-leave (none for alive -> leaving)
    assert [e.type for e in h.events_of("s1", "s3", after=left_at)] == ["member-leave"]
    assert h.nodes["s3"].leave_finished and h.nodes["s3"].serf_state == "left"
    assert h.status("s3", "s3") == "left"


@pytest.mark.parametrize("n", [3, 5])
def test_graceful_leave_timing_matches_reference(n: int) -> None:
    samples = [d for seed in range(40) for d in leave_to_left(n, 300 + seed) if d > 0]
    bound = 1.5 if n == 3 else 1.0  # docs/behaviour/gossip.md §5.3: psi + 1.0 s (3), psi + 0.5 s (5)
    assert max(samples) <= bound + 0.02, max(samples)
    assert statistics.median(samples) <= bound


def test_left_member_is_not_failed_after_shutdown_and_is_reaped_after_tombstone() -> None:
    cfg = GossipConfig(tombstone_timeout=3 * MINUTE)
    h = Harness(names_for(3), seed=9, config=cfg)
    h.start_all()
    h.run_until(100 * SECOND)
    h.leave("s2")
    h.run_for(3 * SECOND)
    left_at = h.first("s1", "s2", "member-leave")
    assert left_at is not None and h.nodes["s2"].leave_finished
    h.crash("s2")  # Nomad's agent exits after the leave
    h.run_until(left_at + 3 * MINUTE)
    assert h.status("s1", "s2") == "left" and not h.events_of(kind="member-failed")
    h.run_until(left_at + 3 * MINUTE + 16 * SECOND)
    for obs in ("s1", "s3"):
        assert h.status(obs, "s2") is None
        reap = h.first(obs, "s2", "member-reap")
        assert reap is not None and reap - left_at > 3 * MINUTE


def test_crash_after_leave_intent_ends_left_not_failed() -> None:
    # docs/behaviour/gossip.md §4.3: a node that crashes once its leave intent is out is detected by the
    # failure detector later, and serf turns leaving into left, skipping failed.
    h = Harness(names_for(3), seed=26)
    h.start_all()
    h.run_until(100 * SECOND)
    h.leave("s3")
    while not (h.status("s1", "s3") == "leaving" and h.status("s2", "s3") == "leaving"):
        h.run_for(1 * MILLISECOND)
    h.crash("s3")
    crashed = h.now
    h.run_for(10 * SECOND)
    assert h.status("s1", "s3") == "leaving" and h.status("s2", "s3") == "leaving"
    h.run_for(60 * SECOND)
    for obs in ("s1", "s2"):
        assert h.status(obs, "s3") == "left"
        t = h.first(obs, "s3", "member-leave")
        assert t is not None and t - crashed >= 30 * SECOND  # by failure detection
    assert not h.events_of(kind="member-failed")


def test_restart_after_graceful_leave_is_alive_again() -> None:
    h = Harness(names_for(3), seed=27)
    h.start_all()
    h.run_until(100 * SECOND)
    h.leave("s2")
    h.run_for(3 * SECOND)
    assert h.nodes["s2"].leave_finished
    h.crash("s2")
    h.run_for(20 * SECOND)
    assert h.status("s1", "s2") == "left"
    at = h.now
    h.start("s2", ["s1"])
    h.run_for(2 * SECOND)
    assert h.all_alive()
    for obs in ("s1", "s3"):
        t = h.first(obs, "s2", "member-join", after=at - 1)
        assert t is not None and t - at <= 600 * MILLISECOND


def test_lone_node_leave_finishes_after_propagate_delay() -> None:
    node = GossipNode("a", GossipConfig(), random.Random(1))
    node.start(0, [])
    node.leave(10)
    assert node.members() == {"a": "left"}  # nobody to tell: memberlist leave runs at once
    assert not node.leave_finished
    (key, at), = [(k, t) for k, t in (r.request() for r in node.timer_requests) if k == ("serf.leave", "propagate")]
    assert at == 10 + 1 * SECOND
    node.on_timer(key, at)
    assert node.leave_finished and node.serf_state == "left"
    assert [e.type for e in node.events] == ["member-join", "member-leave"]


def test_extra_join_merges_two_clusters() -> None:
    h = Harness(["a1", "a2", "b1", "b2"], seed=28)
    h.start("a1")
    h.start("a2", ["a1"])
    h.start("b1")
    h.start("b2", ["b1"])
    h.run_for(5 * SECOND)
    assert h.status("a1", "b1") is None
    h.nodes["b2"].join(["a2"], h.now)
    h._drain("b2")
    h.run_for(3 * SECOND)
    assert h.all_alive()


def test_force_leave_of_failed_member_is_immediate_on_issuer() -> None:
    h = Harness(names_for(3), seed=6)
    h.start_all()
    h.run_until(100 * SECOND)
    h.crash("s3")
    h.run_for(60 * SECOND)
    assert h.status("s1", "s3") == "failed" and h.status("s2", "s3") == "failed"
    at = h.now
    h.force_leave("s1", "s3")
    assert h.first("s1", "s3", "member-leave", after=at - 1) == at
    assert h.status("s1", "s3") == "left"
    h.run_for(1 * SECOND)
    t = h.first("s2", "s3", "member-leave", after=at - 1)
    assert t is not None and t - at <= 500 * MILLISECOND + 10 * MILLISECOND
    assert h.status("s2", "s3") == "left"


def test_force_leave_of_live_member_is_refuted() -> None:
    h = Harness(names_for(3), seed=7)
    h.start_all()
    h.run_until(100 * SECOND)
    at = h.now
    h.force_leave("s1", "s2")
    assert h.status("s1", "s2") == "leaving"
    h.run_for(3 * SECOND)
    assert h.all_alive()
    assert not h.events_of(after=at - 1)  # leaving and back are both silent


def test_force_leave_prune_erases_member() -> None:
    h = Harness(names_for(3), seed=12)
    h.start_all()
    h.run_until(100 * SECOND)
    h.crash("s3")
    h.run_for(60 * SECOND)
    at = h.now
    h.force_leave("s1", "s3", prune=True)
    assert [e.type for e in h.events_of("s1", "s3", after=at - 1)] == ["member-leave",
                                                                        "member-reap"]
    h.run_for(2 * SECOND)
    assert "s3" not in h.nodes["s1"].members() and "s3" not in h.nodes["s2"].members()


def test_failed_member_reaped_after_reconnect_timeout() -> None:
    cfg = GossipConfig(reconnect_timeout=2 * MINUTE)
    h = Harness(names_for(3), seed=13, config=cfg)
    h.start_all()
    h.run_until(100 * SECOND)
    h.crash("s2")
    h.run_for(60 * SECOND)
    failed_at = {o: h.first(o, "s2", "member-failed") for o in ("s1", "s3")}
    assert all(failed_at.values())
    h.run_for(2 * MINUTE + 20 * SECOND)
    for obs, t in failed_at.items():
        reap = h.first(obs, "s2", "member-reap")
        assert t is not None and reap is not None
        assert 2 * MINUTE < reap - t <= 2 * MINUTE + 15 * SECOND
        assert h.status(obs, "s2") is None


# ---------------------------------------------------------------------- partitions, loss


@pytest.mark.parametrize(("n", "cuts"), [
    (3, [("s1", "s2", True)]),
    (3, [("s1", "s2", False)]),
    (5, [("s1", "s2", True), ("s1", "s3", True), ("s4", "s5", False)]),
])
def test_partial_cut_with_indirect_paths_marks_nobody_failed(
        n: int, cuts: list[tuple[str, str, bool]]) -> None:
    h = Harness(names_for(n), seed=17)
    h.start_all()
    h.run_until(60 * SECOND)
    for a, b, both in cuts:
        h.cut_link(a, b, both)
    h.run_for(10 * MINUTE)
    assert not h.events_of(kind="member-failed")
    assert h.all_alive()
    # Indirect probes kept every probe successful: nobody was ever suspected, so nobody had
    # to refute (a suspicion would be refuted through the third node, invisibly to serf,
    # but it would raise the suspected node's incarnation).
    assert all(h.nodes[x].incarnation == 1 for x in h.names)


def test_udp_blackhole_is_bridged_by_tcp_fallback_ping() -> None:
    h = Harness(names_for(3), seed=18, loss=1.0)  # every datagram lost, streams get through
    h.start_all()
    h.run_for(5 * MINUTE)
    assert not h.events_of(kind="member-failed")
    # ...and without the TCP fallback the same network makes everyone fail everyone
    h2 = Harness(names_for(3), seed=18, loss=1.0, config=GossipConfig(disable_tcp_pings=True))
    h2.start_all()
    h2.run_for(5 * MINUTE)
    assert h2.events_of(kind="member-failed")


def test_moderate_loss_causes_no_false_failures() -> None:
    h = Harness(names_for(5), seed=19, loss=0.2)
    h.start_all()
    h.run_for(15 * MINUTE)
    assert not h.events_of(kind="member-failed")
    assert h.all_alive()


@pytest.mark.parametrize(("isolated_for", "refuted"), [(60 * SECOND, True),
                                                      (3 * MINUTE, False)])
def test_full_isolation_fails_then_recovers(isolated_for: int, refuted: bool) -> None:
    h = Harness(names_for(3), seed=20)
    h.start_all()
    h.run_until(60 * SECOND)
    h.isolate("s3")
    h.run_for(isolated_for)
    assert h.status("s1", "s3") == "failed" and h.status("s2", "s3") == "failed"
    assert h.status("s3", "s1") == "failed" and h.status("s3", "s2") == "failed"
    healed = h.now
    h.heal()
    h.run_for(40 * SECOND)  # s3's serf reconnect runs every 30 s and always picks a peer
    assert h.all_alive()
    for obs in ("s1", "s2"):
        info = h.nodes[obs].member_info("s3")
        assert info is not None and info.incarnation is not None
        assert h.first(obs, "s3", "member-join", after=healed) is not None
        if refuted:
            # memberlist still held s3 as dead at incarnation 1: s3 had to out-bid it
            assert info.incarnation > 1
        else:
            # dead for > gossip_to_the_dead_time: memberlist forgot s3 and took it back as new
            assert info.incarnation == 1


# ---------------------------------------------------------------------- restart, pause


def test_restart_after_failure_is_alive_again() -> None:
    h = Harness(names_for(3), seed=22)
    h.start_all()
    h.run_until(100 * SECOND)
    h.crash("s2")
    h.run_for(55 * SECOND)
    assert h.status("s1", "s2") == "failed"
    at = h.now
    h.start("s2", ["s1"])
    h.run_for(2 * SECOND)
    assert h.all_alive()
    for obs in ("s1", "s3"):
        t = h.first(obs, "s2", "member-join", after=at - 1)
        assert t is not None and t - at <= 600 * MILLISECOND
        info = h.nodes[obs].member_info("s2")
        assert info is not None and info.incarnation == 2  # refuted its stale "dead" at 1


def test_restart_after_memberlist_forgot_it() -> None:
    h = Harness(names_for(3), seed=23)
    h.start_all()
    h.run_until(100 * SECOND)
    h.crash("s2")
    h.run_for(5 * MINUTE)
    assert h.nodes["s1"].member_info("s2").state is None  # type: ignore[union-attr]
    assert h.status("s1", "s2") == "failed"
    h.start("s2", ["s3"])
    h.run_for(2 * SECOND)
    assert h.all_alive()
    assert h.nodes["s1"].member_info("s2").incarnation == 1  # type: ignore[union-attr]


def test_restart_before_detection_never_shows_failed_and_updates_tags() -> None:
    h = Harness(names_for(3), seed=24)
    for name in h.names:
        h.start(name, [] if name == "s1" else ["s1"], tags={"build": "1.0"})
    h.run_until(100 * SECOND)
    h.crash("s3")
    h.run_for(10 * SECOND)
    at = h.now
    h.start("s3", ["s1"], tags={"build": "1.1"})
    h.run_for(3 * MINUTE)
    assert not h.events_of(kind="member-failed")
    for obs in ("s1", "s2"):
        updates = h.events_of(obs, "s3", "member-update", after=at - 1)
        assert updates and updates[0].tag("build") == "1.1"
        assert updates[0].time - at <= 1 * SECOND
    assert h.all_alive()


@pytest.mark.parametrize(("stall", "fails"), [(20 * SECOND, False), (80 * SECOND, True)])
def test_stalled_process(stall: int, fails: bool) -> None:
    h = Harness(names_for(3), seed=25)
    h.start_all()
    h.run_until(100 * SECOND)
    h.pause("s2")
    h.run_for(stall)
    h.resume("s2")
    resumed = h.now
    h.run_for(5 * SECOND)
    assert bool(h.events_of(target="s2", kind="member-failed")) is fails
    assert h.all_alive()
    if fails:
        t = h.first("s1", "s2", "member-join", after=resumed - 1)
        assert t is not None and t - resumed <= 1 * SECOND


# ---------------------------------------------------------------------- engine contract


def _log(seed: int) -> list[tuple[str, str, str, int, str]]:
    h = Harness(names_for(4), seed=seed, loss=0.05)
    h.start_all()
    h.run_until(90 * SECOND)
    h.crash("s4")
    h.run_for(2 * MINUTE)
    h.leave("s2")
    h.run_for(30 * SECOND)
    return [(x.observer, x.event.type, x.event.name, x.event.time, x.event.status)
            for x in h.log]


def test_same_seed_same_events() -> None:
    a, b = _log(42), _log(42)
    assert a == b and len(a) > 20
    assert a != _log(43)


def test_crash_cancels_timers_and_ignores_input() -> None:
    node = GossipNode("a", GossipConfig(), random.Random(1))
    node.start(0, ["b"])
    armed = {k for k, at in (t.request() for t in node.timer_requests) if at is not None}
    node.timer_requests.clear()
    node.outbox.clear()
    node.events.clear()
    node.crash()
    assert {k for k, at in (t.request() for t in node.timer_requests) if at is None} == armed
    node.timer_requests.clear()
    node.on_message("b", Packet((Ping(1, "a", "b"),)), 10)
    for key in armed:
        node.on_timer(key, 10**12)
    assert node.outbox == [] and node.timer_requests == [] and node.events == []


def test_single_node_emits_its_own_join_and_nothing_else() -> None:
    node = GossipNode("a", GossipConfig(), random.Random(1), tags={"role": "nomad"})
    node.start(5, [])
    assert [(e.type, e.name, e.time, e.status) for e in node.events] == [
        ("member-join", "a", 5, "alive")]
    assert node.events[0].tag("role") == "nomad"
    assert node.outbox == []
    assert node.members() == {"a": "alive"}
    with pytest.raises(RuntimeError):
        node.start(6, [])
    with pytest.raises(TypeError):
        node.on_message("b", "hello", 7)


def test_push_pull_left_members_converge_by_anti_entropy() -> None:
    # A node that missed every gossip about a leave learns `left` from push/pull.
    node = GossipNode("a", GossipConfig(), random.Random(1))
    node.start(0, [])
    node.on_message("b", PushPull(1, True, False,
                                  nodes=(),
                                  serf=SerfPushPull(5, (("b", 3),), ())), 1)
    # b is not known to memberlist yet: serf buffers nothing visible
    assert node.members() == {"a": "alive"}
    node.on_message("b", Packet((Alive("b", 1),)), 2)
    assert node.members()["b"] == "alive"
    node.on_message("c", PushPull(2, False, False, nodes=(),
                                  serf=SerfPushPull(9, (("b", 3),), ("b",))), 3)
    assert node.members()["b"] == "leaving"  # left elsewhere: a leave intent newer than ours


def test_scenario_gossip_block_maps_onto_gossip_config() -> None:
    # The engine builds GossipConfig(**scenario.gossip.model_dump()): every key of the
    # scenario's `gossip:` block must be a GossipConfig field with the same default.
    spec_mod = pytest.importorskip("autopilot_sim.scenario.gossip")
    dumped = spec_mod.GossipSpec().model_dump()
    assert GossipConfig(**dumped) == GossipConfig()


# ---------------------------------------------------------------------- one probe, by hand


def _drain(node: GossipNode) -> tuple[list[tuple[str, object]], dict[object, int | None]]:
    out, timers = list(node.outbox), dict(t.request() for t in node.timer_requests)
    node.outbox.clear()
    node.timer_requests.clear()
    return out, timers


def test_one_failed_probe_step_by_step() -> None:
    """A worked example of memberlist's probe: direct ping, indirect + TCP after 3 s, suspect
    at 5 s, Lifeguard +1, then a refutation that serf never sees."""
    cfg = GossipConfig(randomize_ticker_phase=False)
    a = GossipNode("a", cfg, random.Random(7))
    a.start(0, [])
    a.on_message("b", Packet((Alive("b", 1), Alive("c", 1))), 1 * MILLISECOND)
    assert a.members() == {"a": "alive", "b": "alive", "c": "alive"}
    _drain(a)

    a.on_timer(("ml.probe",), 5 * SECOND)  # first tick at start + probe_interval
    out, timers = _drain(a)
    (target, packet), = out
    assert isinstance(packet, Packet) and isinstance(packet.parts[0], Ping)
    helper = "c" if target == "b" else "b"
    seq = packet.parts[0].seq
    # piggy-backed: our own alive and the re-broadcast alives of b and c
    assert {type(p) for p in packet.parts[1:]} == {Alive}
    assert timers[("ml.probe_wait", seq)] == 8 * SECOND and timers[("ml.probe",)] == 10 * SECOND

    a.on_timer(("ml.probe_wait", seq), 8 * SECOND)  # no direct ack within probe_timeout
    out, timers = _drain(a)
    kinds = sorted((dst, type(m).__name__ if not isinstance(m, Packet)
                    else type(m.parts[0]).__name__) for dst, m in out)
    assert kinds == [(helper, "IndirectPing"), (target, "TcpPing")]
    assert timers[("ml.probe_wait", seq)] == 10 * SECOND  # deadline = probe_interval * (0 + 1)

    a.on_timer(("ml.probe_wait", seq), 10 * SECOND)  # nothing came back: suspect
    info = a.member_info(target)
    assert info is not None and info.state == "suspect"
    assert a.members()[target] == "alive"  # serf does not know suspect
    assert a.health_score == 1  # one helper asked, its nack not in before the deadline
    _, timers = _drain(a)
    assert timers[("ml.suspicion", target)] == 40 * SECOND  # n = 3: k = 0, flat 30 s
    assert a.events[-1].type == "member-join"  # still no event about the target

    a.on_message(target, Packet((Alive(target, 2),)), 11 * SECOND)  # target refutes
    _, timers = _drain(a)
    info = a.member_info(target)
    assert info is not None and (info.state, info.incarnation) == ("alive", 2)
    assert timers[("ml.suspicion", target)] is None  # suspicion timer cancelled
    assert [e.type for e in a.events] == ["member-join"] * 3


def test_refutation_when_told_we_are_suspect() -> None:
    a = GossipNode("a", GossipConfig(), random.Random(3))
    a.start(0, [])
    a.on_message("b", Packet((Alive("b", 1),)), 1)
    _, timers = _drain(a)
    gossip_at = timers[("ml.gossip",)]
    assert gossip_at is not None and 0 < gossip_at <= 500 * MILLISECOND
    a.on_message("b", Packet((Ping(9, "a", "b"), Suspect("a", 1, "b"))), 2)
    out, _ = _drain(a)
    # parts are handled in order: the ack (carrying what was queued) goes out before the
    # suspect part is read; the refutation then replaces our queued alive at incarnation 1
    assert out == [("b", Packet((Ack(9), Alive("b", 1), Alive("a", 1))))]
    assert a.incarnation == 2 and a.health_score == 1
    a.on_timer(("ml.gossip",), gossip_at)
    out, _ = _drain(a)
    assert out == [("b", Packet((Alive("a", 2), Alive("b", 1))))]
