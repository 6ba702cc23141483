"""The SafetyChecker itself: it must catch each kind of violation (so that the property tests,
which rely on it, can fail), and it is wired into every Cluster run by default."""

from __future__ import annotations

import pytest
from engine_harness import S, make_cluster, names

from autopilot_sim.raft import commitment as raft_commitment
from autopilot_sim.raft import election as raft_election
from autopilot_sim.raft import node as raft_node
from autopilot_sim.raft.messages import Entry
from autopilot_sim.sim.invariants import SafetyChecker, SafetyViolation


def log(*terms):
    return [Entry(0, 0, "noop")] + [Entry(i + 1, t, "command", f"v{i + 1}.{t}") for i, t in enumerate(terms)]


def test_two_leaders_in_one_term():
    s = SafetyChecker()
    s.on_leader(1, "a", 2, log(1))
    s.on_leader(2, "a", 2, log(1))  # the same server again is fine
    with pytest.raises(SafetyViolation) as err:
        s.on_leader(3, "b", 2, log(1))
    assert err.value.rule == "election safety" and err.value.servers == ["a", "b"]


def test_log_matching():
    s = SafetyChecker()
    s.after_step(1, "a", log(1, 2), 0)
    s.after_step(2, "b", log(1, 2), 0)  # equal content is fine
    bad = log(1) + [Entry(2, 2, "command", "other")]
    with pytest.raises(SafetyViolation) as err:
        s.after_step(3, "c", bad, 0)
    assert err.value.rule == "log matching"


def test_state_machine_safety_on_commit_and_truncate():
    s = SafetyChecker()
    s.after_step(1, "a", log(1, 1), 2)
    other = log(1) + [Entry(2, 2, "command", "x")]
    with pytest.raises(SafetyViolation) as err:
        s.after_step(2, "b", other, 2)
    assert err.value.rule == "state machine safety"
    s2 = SafetyChecker()
    a = log(1, 1)
    s2.after_step(1, "a", a, 2)
    with pytest.raises(SafetyViolation):
        s2.on_truncate(2, "a", a[2:])


def test_leader_completeness():
    s = SafetyChecker()
    s.after_step(1, "a", log(1, 1, 1), 3)
    s.on_leader(2, "b", 2, log(1, 1, 1, 2))
    with pytest.raises(SafetyViolation) as err:
        s.on_leader(3, "c", 3, log(1, 1))
    assert err.value.rule == "leader completeness"


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_broken_quorum_rule_is_caught_in_a_run(seed, monkeypatch):
    """Wire-up check: with a "majority of one" bug the leader commits alone, and a follower cut
    off for a while elects itself with a log that lacks those committed entries: the checker,
    on by default in every Cluster, must stop the run."""
    c = make_cluster(3, seed=seed, writes_per_second=20)
    assert c.safety is not None
    for module in (raft_node, raft_election, raft_commitment):  # every user of the quorum rule
        monkeypatch.setattr(module, "quorum_size", lambda voters: 1)
    c.run(5 * S)
    follower = next(n for n in names(3) if n != c.leader_name)
    c.network.partition([[follower]])
    with pytest.raises(SafetyViolation) as err:
        c.run(20 * S)
    assert err.value.rule in ("leader completeness", "election safety", "state machine safety")
    assert follower in err.value.servers
