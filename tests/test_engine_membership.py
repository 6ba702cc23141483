"""Engine tests of membership changes, leadership transfer and the non-voter-with-a-higher-term
edge case (§5, §7.1, §9 item 22 of docs/behaviour/raft.md), on whole clusters with the
SafetyChecker on."""

from __future__ import annotations

from engine_harness import LAN, MS, S, converged, leaders, names, run_until

from autopilot_sim.raft import configuration as cfg
from autopilot_sim.raft.messages import NONVOTER, VOTER
from autopilot_sim.raft.node import FOLLOWER, LEADER
from autopilot_sim.raft.timing import RaftTiming
from autopilot_sim.sim.cluster import Cluster, ServerSpecLite
from autopilot_sim.sim.network import Network


def cluster_with(extra: list[str] = (), seed: int = 1, wps: float = 0.0) -> Cluster:
    specs = [ServerSpecLite(n) for n in names(3)] + [ServerSpecLite(x, voter=False) for x in extra]
    c = Cluster(specs, RaftTiming(), Network(seed, LAN), seed=seed, writes_per_second=wps)
    c.run(10 * S)
    assert c.leader_name is not None
    return c


def change(c: Cluster, op: str, server_id: str) -> None:
    server = c.leader()
    assert server.node.change_configuration(op, server_id, c.now)
    c._flush(server)  # drain the node's outputs, as the Nomad layer does


def test_join_as_nonvoter_catch_up_then_promote():
    c = cluster_with(["x"], wps=20)
    x = c.servers["x"].node
    assert x.stats(c.now)["latest_configuration"] == "[]" and x.stats(c.now)["last_contact"] == "never"
    change(c, cfg.ADD_NONVOTER, "x")
    c.run(c.now + 2 * S)
    assert cfg.suffrage_of(x.latest_config, "x") == NONVOTER
    assert x.stats(c.now)["num_peers"] == "0" and x.stats(c.now)["last_contact"] != "never"
    lead = c.leader().node
    assert lead.last_index - x.last_index < 10  # caught up (writes keep flowing)
    change(c, cfg.ADD_VOTER, "x")
    c.run(c.now + 2 * S)
    assert cfg.suffrage_of(x.latest_config, "x") == VOTER and x.stats(c.now)["num_peers"] == "3"
    assert lead.committed_config == cfg.next_configuration(
        cfg.next_configuration(tuple((n, VOTER) for n in names(3)), cfg.ADD_NONVOTER, "x"), cfg.ADD_VOTER, "x")
    c.set_load(0)
    assert run_until(c, converged, c.now + 5 * S) is not None
    assert c.leaders_elected == 1


def test_removed_follower_never_campaigns_and_the_cluster_shrinks():
    c = cluster_with(wps=10)
    gone = next(n for n in names(3) if n != c.leader_name)
    change(c, cfg.REMOVE_SERVER, gone)
    c.run(c.now + 30 * S)
    node = c.servers[gone].node
    assert cfg.suffrage_of(node.latest_config, gone) is None  # it stored its removal
    assert node.role == FOLLOWER and node.current_term == 2 and node.leader is None
    assert node.stats(c.now)["num_peers"] == "0"
    assert c.leaders_elected == 1 and c.leader_term == 2
    # The two remaining voters form the quorum: losing one of them stops commits.
    lead = c.leader().node
    assert len(cfg.voters(lead.latest_config)) == 2


def test_removed_leader_steps_down_and_the_rest_elect_a_new_one():
    c = cluster_with(wps=10)
    old = c.leader_name
    change(c, cfg.REMOVE_SERVER, old)
    t = run_until(c, lambda c: c.servers[old].node.role != LEADER, c.now + 2 * S)
    assert t is not None
    node = c.servers[old].node
    assert node.role == FOLLOWER and node.current_term == 2
    assert run_until(c, lambda c, old=old: c.leader_name not in (None, old), c.now + 10 * S) is not None
    assert c.leader_term == 3
    c.run(c.now + 20 * S)
    assert node.role == FOLLOWER and node.current_term == 2  # outside the stable configuration
    assert leaders(c) == [c.leader_name] and c.leader_term == 3


def test_demoted_leader_steps_down_and_stays_a_nonvoter():
    c = cluster_with(wps=10)
    old = c.leader_name
    change(c, cfg.DEMOTE_VOTER, old)
    assert run_until(c, lambda c, old=old: c.leader_name not in (None, old), c.now + 10 * S) is not None
    c.run(c.now + 10 * S)
    node = c.servers[old].node
    assert cfg.suffrage_of(node.latest_config, old) == NONVOTER
    assert node.role == FOLLOWER and node.leader == c.leader_name  # still replicated to
    assert node.current_term == c.leader_term


def test_leadership_transfer_skips_prevote_and_moves_the_leader():
    c = cluster_with(wps=10)
    old, term = c.leader_name, c.leader_term
    server = c.leader()
    assert server.node.transfer_leadership(None, c.now)
    c._flush(server)
    t0 = c.now
    t = run_until(c, lambda c, old=old: c.leader_name not in (None, old), t0 + 2 * S)
    assert t is not None and t - t0 < 200 * MS  # a catch-up, TimeoutNow and one vote round
    assert c.leader_term == term + 1
    assert c.servers[old].node.role == FOLLOWER
    assert [e["kind"] for e in c.recorder.events].count("election_started") == 2


def test_nonvoter_with_a_higher_term_makes_leaders_step_down_until_the_term_catches_up():
    """§9 item 22, upstream TestRaft_ClusterCanRegainStability_WhenNonVoterWithHigherTermJoin:
    each new leader steps down (keeping its term) on its first replication response from the
    non-voter; elections then raise the term one at a time until it reaches the non-voter's."""
    c = cluster_with(["x"])
    c.servers["x"].node.current_term = 10  # it somehow holds a higher term (never campaigns)
    change(c, cfg.ADD_NONVOTER, "x")
    t = run_until(c, converged, c.now + 60 * S, step=100 * MS)
    assert t is not None
    assert c.leader_term == 10 and c.leaders_elected == 9  # terms 2 .. 10
    downs = [e for e in c.recorder.events if e["kind"] == "leader_stepped_down"]
    assert len(downs) == 8 and all(e["reason"] == "stale term: x answered with term 10" for e in downs)
    assert all(e["term"] < 10 for e in downs)  # the deposed leaders kept their own terms
    c.run(c.now + 10 * S)
    assert c.leaders_elected == 9 and c.servers["x"].node.role == FOLLOWER


def test_leadership_transfer_under_load_elects_the_target_in_one_round():
    """TimeoutNow goes out only when no AppendEntries with entries is in flight to the target
    (hashicorp/raft's synchronous replicateTo): a TimeoutNow that overtook the last entries
    would start an election the target loses (seen as a second election or a failed transfer)."""
    for seed in range(1, 9):
        c = cluster_with(seed=seed, wps=200)
        c.run(c.now + seed * 3_100_000)  # transfer at various points of the write stream
        old = c.leader_name
        target = next(n for n in names(3) if n != old)
        server = c.leader()
        assert server.node.transfer_leadership(target, c.now)
        c._flush(server)
        t0 = c.now
        t = run_until(c, lambda c, old=old: c.leader_name not in (None, old), t0 + 2 * S)
        assert t is not None, f"seed {seed}: the transfer did not move the leader"
        assert c.leader_name == target, f"seed {seed}: {c.leader_name} won, not {target}"
        assert [e["kind"] for e in c.recorder.events].count("election_started") == 2, f"seed {seed}"
