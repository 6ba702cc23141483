"""sim/leadership.py: the cluster's leader, leaderless time and counters, kept from the notes."""

from __future__ import annotations

from engine_harness import S, make_cluster, run_until

from autopilot_sim.raft import notes
from autopilot_sim.sim.leadership import config_map, describe_config


def elected_at(c) -> list[int]:
    return [e["t_ns"] for e in c.recorder.events if e["kind"] == "leader_elected"]


def test_leaderless_time_across_crashes_a_stop_mid_stretch_and_a_restart():
    c = make_cluster(3, seed=7)
    assert run_until(c, lambda c: c.leader_name is not None, 5 * S) is not None
    (t1,) = elected_at(c)
    assert c.time_without_leader == t1  # a cluster starts without a leader, at 0
    c.run(5 * S)
    first = c.leader_name
    c.crash(first)
    assert c.leader() is None and c.leader_name is None
    assert c.leader_term == 2  # the last leader's term while there is none
    assert run_until(c, lambda c: c.leader_name is not None, 10 * S) is not None
    t2 = elected_at(c)[-1]
    assert c.time_without_leader == t1 + (t2 - 5 * S)
    c.run(10 * S)
    second = c.leader_name
    assert second is not None
    c.crash(second)  # one server of three left: no quorum, no leader
    c.run(20 * S)  # a run that stops in the middle of a leaderless stretch counts it so far ...
    assert c.time_without_leader == t1 + (t2 - 5 * S) + 10 * S
    c.run(25 * S)  # ... and never twice
    assert c.time_without_leader == t1 + (t2 - 5 * S) + 15 * S
    c.restart(first)
    c.restart(second)
    assert run_until(c, lambda c: c.leader_name is not None, 40 * S) is not None
    t3 = elected_at(c)[-1]
    assert c.time_without_leader == t1 + (t2 - 5 * S) + (t3 - 10 * S)
    assert c.leader_changes == 3
    kinds = [e["kind"] for e in c.recorder.events]
    assert c.leaders_elected == kinds.count("leader_elected") == 3
    assert c.elections_started == kinds.count("election_started") >= 3
    assert c.leader_term == c.leader().node.current_term and c.leader().name == c.leader_name


def test_observers_see_a_note_after_it_was_recorded_and_the_leader_updated():
    c = make_cluster(3, seed=7)
    seen = []

    def observe(cluster, server, note):
        if type(note) is notes.LeaderElected:
            last = cluster.recorder.events[-1]
            seen.append((server.name, note.term, cluster.leader_name, cluster.leader_term,
                         last["kind"], last["server"], last["term"]))

    c.observers.append(observe)
    c.run(5 * S)
    assert seen == [(c.leader_name, 2, c.leader_name, 2, "leader_elected", c.leader_name, 2)]


def test_the_leadership_object_is_what_the_cluster_shows():
    c = make_cluster(3, seed=7)
    c.run(5 * S)
    lead = c.leadership
    assert (lead.leader_name, lead.leader_term, lead.time_without_leader) == \
        (c.leader_name, c.leader_term, c.time_without_leader)
    assert lead.leader() is c.leader() is c.servers[c.leader_name]


def test_configurations_described_for_people_and_for_programs():
    config = (("node1", 0), ("node4", 1), ("node5", 2))
    assert describe_config(config) == "node1 (voter), node4 (non-voter), node5 (staging)"
    assert config_map(config) == {"node1": "voter", "node4": "non-voter", "node5": "staging"}
    assert describe_config(()) == "(empty)" and config_map(()) == {}
