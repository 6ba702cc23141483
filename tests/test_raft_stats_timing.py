"""Stats() quirks (§6), the follower's heartbeat check (§2.1), randomTimeout (§0) and the
paper-style timing model. Section numbers (§) refer to docs/behaviour/raft.md."""

from __future__ import annotations

import random

import pytest
from raft_harness import (
    CANDIDATE,
    FOLLOWER,
    MS,
    T_ELECTION,
    T_FOLLOWER,
    Driven,
    Hand,
    Heartbeat,
    S,
    ae,
    config,
    hb,
    pv,
    rv,
)

from autopilot_sim.raft.node import RaftNode
from autopilot_sim.raft.timing import RaftTiming, TimingError

ABC = config("a", "b", "c")

STATS_KEYS = {
    "state", "term", "last_log_index", "last_log_term", "commit_index", "applied_index",
    "fsm_pending", "last_snapshot_index", "last_snapshot_term", "protocol_version",
    "protocol_version_min", "protocol_version_max", "snapshot_version_min", "snapshot_version_max",
    "latest_configuration_index", "latest_configuration", "num_peers", "last_contact",
}


def follower(name="b") -> Driven:
    d = Driven(name)
    d.bootstrap(ABC)
    d.start(0)
    return d


# --------------------------------------------------------------------------- Stats()


def test_stats_of_a_fresh_bootstrapped_follower():
    d = follower()
    st = d.node.stats(5 * S)
    assert set(st) == STATS_KEYS
    assert st == {
        "state": "Follower", "term": "1", "last_log_index": "1", "last_log_term": "1",
        "commit_index": "0", "applied_index": "0", "fsm_pending": "0",
        "last_snapshot_index": "0", "last_snapshot_term": "0",
        "protocol_version": "3", "protocol_version_min": "0", "protocol_version_max": "3",
        "snapshot_version_min": "0", "snapshot_version_max": "1",
        "latest_configuration_index": "0",
        "latest_configuration": "[{Suffrage:Voter ID:a Address:a} {Suffrage:Voter ID:b Address:b} "
                                "{Suffrage:Voter ID:c Address:c}]",
        "num_peers": "2", "last_contact": "never",
    }


def test_stats_of_an_unbootstrapped_server():
    d = Driven("x")
    d.start(0)
    st = d.node.stats(S)
    assert st["latest_configuration"] == "[]" and st["num_peers"] == "0"
    assert st["term"] == "0" and st["last_log_index"] == "0" and st["last_contact"] == "never"


@pytest.mark.parametrize(
    "elapsed, text",
    [(0, "0s"), (850, "850ns"), (1_500, "1.5µs"), (27_291_304, "27.291304ms"), (100 * MS, "100ms"),
     (S, "1s"), (61 * S + 500 * MS, "1m1.5s"), (3600 * S + 5 * S, "1h0m5s")],
)
def test_stats_last_contact_is_a_go_duration(elapsed, text):
    d = follower()
    d.recv("a", hb(1, "a"), 10 * S)
    assert d.node.stats(10 * S + elapsed)["last_contact"] == text


def test_stats_of_the_leader_and_latest_configuration_index_quirk():
    h = Hand(["a", "b", "c"])
    h.elect("a")
    h.replicate()
    st = h["a"].stats(h.now + 7 * S)
    assert st["state"] == "Leader" and st["last_contact"] == "0"
    assert st["term"] == "2" and st["last_log_index"] == "2" and st["last_log_term"] == "2"
    assert st["commit_index"] == "2" and st["applied_index"] == "2"
    assert st["latest_configuration_index"] == "0"  # always "0" (§6)
    assert st["num_peers"] == "2"


def test_stats_state_is_candidate_during_prevote_with_the_old_term():
    h = Hand(["a", "b", "c"])
    h.fire("a", T_FOLLOWER)
    st = h["a"].stats(h.now)
    assert st["state"] == "Candidate" and st["term"] == "1"


def test_deposed_leader_reports_contact_from_its_step_down():
    h = Hand(["a", "b", "c"])
    h.now = 10 * S
    h.elect("a")
    h.nodes["a"].recv("c", hb(3, "c"), 11 * S)  # a newer leader's heartbeat: step down
    # lastContact is set on leaving the leader state (then refreshed by the heartbeat itself).
    assert h["a"].role == FOLLOWER and h["a"].stats(11 * S + 250 * MS)["last_contact"] == "250ms"
    h2 = Hand(["a", "b", "c"])
    h2.now = 10 * S
    h2.elect("a")
    h2.fire("a", "lease", 10 * S + 500 * MS)
    h2.fire("a", "lease", 10 * S + 510 * MS)
    assert h2["a"].role == FOLLOWER
    assert h2["a"].stats(10 * S + 600 * MS)["last_contact"] == "90ms"


def test_last_contact_not_refreshed_by_rejections_prevotes_or_timeout_now():
    d = follower()
    d.recv("a", ae(2, "a", 1, 1, [(2, 2)]), 1 * S)
    assert d.node.last_contact == 1 * S
    d.recv("a", ae(2, "a", 9, 2), 2 * S)  # missing previous entry
    d.recv("z", ae(1, "z", 1, 1), 3 * S)  # older term
    d.node.leader = None
    assert d.recv("c", pv(3, "c", 2, 2), 4 * S).sent[0][1].granted  # a granted pre-vote
    assert d.node.last_contact == 1 * S
    assert d.node.stats(5 * S)["last_contact"] == "4s"


# --------------------------------------------------------------------------- follower check (§2.1)


def test_follower_check_is_rearmed_every_ht_to_2ht_and_not_reset_by_rpcs():
    d = follower()
    first = d.timers[T_FOLLOWER]
    assert S <= first < 2 * S
    # Contact does not touch the timer.
    out = d.recv("a", hb(1, "a"), first - 300 * MS)
    assert out.timers == []
    out = d.recv("a", ae(1, "a", 1, 1, [(2, 1)], commit=1), first - 200 * MS)
    assert out.timers == []
    # The tick re-arms itself and finds contact 200 ms old: nothing happens.
    out = d.fire(T_FOLLOWER)
    second = d.timers[T_FOLLOWER]
    assert [k for k, _ in out.timers] == [T_FOLLOWER]
    assert S <= second - first < 2 * S
    assert d.node.role == FOLLOWER and d.node.leader == "a"
    # No contact since: the next tick finds it >= HT old and campaigns.
    d.fire(T_FOLLOWER)
    assert d.node.role == CANDIDATE and d.node.leader is None


def test_follower_check_boundary_is_greater_or_equal_ht():
    d = follower()
    d.recv("a", hb(1, "a"), 10 * S)
    d.fire(T_FOLLOWER, 11 * S - 1)
    assert d.node.role == FOLLOWER and d.node.leader == "a"
    d.fire(T_FOLLOWER, 11 * S)
    assert d.node.role == CANDIDATE


def test_random_timeout_is_uniform_on_d_to_2d():
    draws = []
    for seed in range(400):
        n = RaftNode("n", RaftTiming(), random.Random(seed))
        n.start(0)
        ((key, deadline),) = (t.request() for t in n.timer_requests)
        assert key == T_FOLLOWER
        draws.append(deadline)
    assert all(S <= x < 2 * S for x in draws)
    assert min(draws) < S + 20 * MS and max(draws) > 2 * S - 20 * MS
    assert 1.45 * S < sum(draws) / len(draws) < 1.55 * S


def test_candidate_election_timer_is_et_to_2et_and_a_round_restarts_it():
    h = Hand(["a", "b", "c"])
    h["b"].leader = h["c"].leader = "z"
    h.fire("a", T_FOLLOWER, 5 * S)
    t1 = h.nodes["a"].timers[T_ELECTION]
    assert S <= t1 - 5 * S < 2 * S
    h.fire("a", T_ELECTION)
    assert S <= h.nodes["a"].timers[T_ELECTION] - t1 < 2 * S


def test_multiplier_scales_ht_et_llt_ct_only():
    t = RaftTiming.nomad(3)
    assert (t.heartbeat_timeout, t.election_timeout, t.leader_lease_timeout, t.commit_timeout) == (
        3 * S, 3 * S, 1500 * MS, 150 * MS)
    assert t.max_append_entries == 64 and t.rpc_timeout == 10 * S
    with pytest.raises(TimingError):
        RaftTiming.nomad(11)
    with pytest.raises(TimingError):
        RaftTiming(leader_lease_timeout=2 * S).validate()
    with pytest.raises(TimingError):
        RaftTiming(election_timeout=500 * MS).validate()


# --------------------------------------------------------------------------- paper-style timing

PAPER = RaftTiming(election_timeout_range=(150 * MS, 300 * MS), heartbeat_interval=50 * MS)


def test_paper_follower_timer_is_reset_on_contact():
    d = Driven("b", PAPER)
    d.bootstrap(ABC)
    out = d.start(0)
    assert 150 * MS <= d.timers[T_FOLLOWER] < 300 * MS
    out = d.recv("a", hb(1, "a"), 100 * MS)
    ((key, deadline),) = out.timers
    assert key == T_FOLLOWER and 250 * MS <= deadline < 400 * MS
    out = d.recv("a", ae(1, "a", 1, 1), 200 * MS)
    assert 350 * MS <= d.timers[T_FOLLOWER] < 500 * MS
    # A vote grant resets it too.
    d.node.leader = None
    d.recv("c", rv(2, "c", 1, 1), 300 * MS)
    assert 450 * MS <= d.timers[T_FOLLOWER] < 600 * MS
    # Firing means expiry: campaign at once.
    d.fire(T_FOLLOWER)
    assert d.node.role == CANDIDATE


def test_paper_leader_heartbeats_at_a_fixed_interval():
    h = Hand(["a", "b", "c"], timing=PAPER)
    h.now = S
    h.elect("a")
    a = h.nodes["a"]
    assert a.timers[("hb", "b")] == S + 50 * MS  # armed when the heartbeat is sent
    out = h.fire("a", ("hb", "b"))
    assert len(out.of(Heartbeat)) == 1  # sent although the previous one is unanswered
    assert a.timers[("hb", "b")] == S + 100 * MS


def test_paper_candidate_timer_uses_the_range():
    h = Hand(["a", "b", "c"], timing=PAPER)
    h["b"].leader = h["c"].leader = "z"
    h.fire("a", T_FOLLOWER, S)
    assert 150 * MS <= h.nodes["a"].timers[T_ELECTION] - S < 300 * MS


def test_paper_timing_validation():
    PAPER.validate()
    with pytest.raises(TimingError):
        RaftTiming(election_timeout_range=(150 * MS, 300 * MS)).validate()
    with pytest.raises(TimingError):
        RaftTiming(election_timeout_range=(150 * MS, 300 * MS), heartbeat_interval=200 * MS).validate()
