"""Hand-driven tests of membership changes (§5) and non-voters (§2.7). Section numbers (§)
refer to docs/behaviour/raft.md."""

from __future__ import annotations

import pytest
from raft_harness import (
    CANDIDATE,
    FOLLOWER,
    LEADER,
    NONVOTER,
    T_FOLLOWER,
    T_LEASE,
    VOTER,
    AppendEntries,
    Hand,
    RequestVote,
    S,
    config,
    messages,
)

from autopilot_sim.raft import configuration as cfg
from autopilot_sim.raft.messages import CONFIGURATION, STAGING


def leader_a(fresh=("d",), voters=("a", "b", "c"), nonvoters=()) -> Hand:
    h = Hand(list(voters), nonvoters=list(nonvoters), fresh=list(fresh))
    h.now = 10 * S
    h.elect("a")
    return h


def config_entries(node):
    return [(e.index, e.data) for e in node.log if e.kind == CONFIGURATION]


# --------------------------------------------------------------------------- one at a time (§5.3)


def test_change_waits_for_the_noop_to_commit():
    h = leader_a()
    a = h["a"]
    assert a.commit_index == 0 and a.start_index == 2
    h.call("a", "change_configuration", cfg.ADD_NONVOTER, "d")
    assert h.nodes["a"].result is True
    assert a.pending_configuration_changes() == 1 and a.last_index == 2
    assert a.latest_config == config("a", "b", "c")
    h.replicate(among={"a", "b", "c"})
    assert a.commit_index >= 2
    # Accepted once the no-op committed: the entry went to the log and took effect on append.
    assert a.pending_configuration_changes() == 0
    assert config_entries(a)[-1] == (3, config("a", "b", "c", nonvoters=("d",)))
    assert a.latest_config_index == 3


def test_new_leader_waits_for_its_own_noop_even_with_a_committed_configuration():
    """§5.3 (b) on its own: b's latest configuration is committed (it learned commit 2 as a
    follower), yet as the new term-3 leader it must not append a change before its no-op commits."""
    h = leader_a()
    h.replicate()
    h.crash("a")
    h.elect("b", among={"b", "c"})
    b = h["b"]
    assert b.latest_config_index == b.committed_config_index == 1
    assert b.commit_index == 2 and b.start_index == 3
    h.call("b", "change_configuration", cfg.ADD_NONVOTER, "d")
    assert b.pending_configuration_changes() == 1 and b.last_index == 3
    h.replicate(among={"b", "c"})
    assert b.commit_index >= 3 and b.pending_configuration_changes() == 0
    assert config_entries(b)[-1] == (4, config("a", "b", "c", nonvoters=("d",)))


def test_takes_effect_on_append_and_replication_to_the_new_server_starts():
    h = leader_a()
    h.replicate(among={"a", "b", "c"})
    h.drop_all()
    out = h.call("a", "change_configuration", cfg.ADD_NONVOTER, "d")
    a = h["a"]
    assert a.latest_config == config("a", "b", "c", nonvoters=("d",))
    assert a.committed_config_index == 1 and a.latest_config_index == 3  # not committed yet
    assert "d" in a.progress
    to_d = [m for dst, m in out.sent if dst == "d"]
    assert any(isinstance(m, AppendEntries) for m in to_d)
    # A follower switches when it stores the entry, before it is committed.
    h.deliver(lambda s, d, m: d == "b" and isinstance(m, AppendEntries))
    b = h["b"]
    assert b.latest_config == a.latest_config and b.latest_config_index == 3
    assert b.commit_index < 3
    # The fresh server learns the configuration by replication and reports num_peers 0.
    h.replicate()
    d = h["d"]
    assert d.latest_config == a.latest_config and d.commit_index == 3
    assert h.nodes["d"].node.stats(h.now)["num_peers"] == "0"


def test_only_one_uncommitted_change_at_a_time():
    h = leader_a(fresh=("d", "e"))
    h.replicate(among={"a", "b", "c"})
    h.drop_all()
    a = h["a"]
    h.call("a", "change_configuration", cfg.ADD_NONVOTER, "d")
    h.call("a", "change_configuration", cfg.ADD_NONVOTER, "e")
    assert a.pending_configuration_changes() == 1
    assert [i for i, _ in config_entries(a)] == [1, 3]
    h.replicate(among={"a", "b", "c", "d"})
    # The first committed, then the second was appended, then it committed too.
    assert [i for i, _ in config_entries(a)] == [1, 3, 4]
    assert a.latest_config == config("a", "b", "c", nonvoters=("d", "e"))
    assert a.pending_configuration_changes() == 0


def test_add_voter_promotes_and_quorum_grows():
    h = leader_a()
    h.replicate()
    h.call("a", "change_configuration", cfg.ADD_NONVOTER, "d")
    h.replicate()
    h.call("a", "change_configuration", cfg.ADD_VOTER, "d")
    a = h["a"]
    assert cfg.suffrage_of(a.latest_config, "d") == VOTER
    assert a.latest_config == config("a", "b", "c", "d")  # promoted in place
    h.replicate()
    # Now 4 voters: quorum 3. With only b answering, a write cannot commit.
    h.drop_all()
    h.call("a", "propose", "w")
    last = a.last_index
    h.replicate(among={"a", "b"})
    assert a.commit_index == last - 1
    h.replicate()
    assert a.commit_index == last


def test_demote_and_remove_a_follower():
    h = leader_a(fresh=(), voters=("a", "b", "c", "d"))
    h.replicate()
    a = h["a"]
    h.call("a", "change_configuration", cfg.DEMOTE_VOTER, "d")
    h.replicate()
    assert cfg.suffrage_of(a.latest_config, "d") == NONVOTER
    assert a.commit_index == a.latest_config_index == a.committed_config_index
    assert "d" in a.progress  # a non-voter still gets entries
    h.drop_all()
    out = h.call("a", "change_configuration", cfg.REMOVE_SERVER, "d")
    assert cfg.suffrage_of(a.latest_config, "d") is None
    assert "d" not in a.progress
    # One best-effort AppendEntries carrying the removal, then nothing more to d.
    to_d = [m for dst, m in out.sent if dst == "d"]
    assert len(to_d) == 1 and isinstance(to_d[0], AppendEntries)
    assert to_d[0].entries[-1].index == a.latest_config_index
    assert not [k for k in h.nodes["a"].timers if isinstance(k, tuple) and k[1] == "d"]
    h.replicate()
    assert not messages(h.pending, AppendEntries, dst="d")
    # d stored its removal: it never campaigns and reports num_peers 0.
    d = h.nodes["d"]
    assert cfg.suffrage_of(d.node.latest_config, "d") is None
    for _ in range(3):
        d.fire(T_FOLLOWER, h.now + 5 * S)
        h.now += 5 * S
        assert d.node.role == FOLLOWER and d.node.leader is None
    assert d.node.stats(h.now)["num_peers"] == "0"


def test_every_accepted_request_writes_an_entry_even_without_change():
    h = leader_a()
    h.replicate()
    a = h["a"]
    before = len(config_entries(a))
    h.call("a", "change_configuration", cfg.REMOVE_SERVER, "nobody")
    h.replicate()
    h.call("a", "change_configuration", cfg.DEMOTE_VOTER, "nobody")
    h.replicate()
    entries = config_entries(a)
    assert len(entries) == before + 2
    assert entries[-1][1] == entries[-2][1] == config("a", "b", "c")


def test_add_nonvoter_never_demotes_a_voter():
    assert cfg.next_configuration(config("a", "b"), cfg.ADD_NONVOTER, "b") == config("a", "b")
    staged = (("a", VOTER), ("s", STAGING))
    assert cfg.next_configuration(staged, cfg.ADD_NONVOTER, "s") == staged
    assert cfg.next_configuration(staged, cfg.ADD_VOTER, "s") == config("a", "s")


def test_change_leaving_no_voter_is_rejected():
    h = leader_a(fresh=(), voters=("a",))
    h.replicate()
    h.call("a", "change_configuration", cfg.REMOVE_SERVER, "a")
    a = h["a"]
    assert a.latest_config == config("a") and a.role == LEADER
    with pytest.raises(cfg.ConfigurationError):
        a.change_configuration("Promote", "a", h.now)


def test_change_on_a_non_leader_fails_at_once():
    h = leader_a()
    assert h["b"].change_configuration(cfg.ADD_VOTER, "d", h.now) is False


def test_removed_leader_steps_down_when_the_removal_commits():
    h = leader_a(fresh=())
    h.replicate()
    h.drop_all()
    h.call("a", "change_configuration", cfg.REMOVE_SERVER, "a")
    a = h["a"]
    assert a.role == LEADER and a.latest_config == config("b", "c")
    # It keeps leading while the entry commits under the new configuration (b and c only).
    index = a.latest_config_index
    h.deliver(lambda s, d, m: d == "b" or s == "b", drop=lambda s, d, m: d == "c" or s == "c")
    assert a.role == LEADER and a.commit_index < index  # its own match does not count
    h.replicate()
    assert a.role == FOLLOWER and a.current_term == 2  # Nomad: ShutdownOnRemove = false
    assert a.committed_config_index == index
    assert a.stats(h.now)["num_peers"] == "0"
    assert T_LEASE not in h.nodes["a"].timers
    # Outside the stable configuration it never campaigns.
    for _ in range(3):
        h.now += 5 * S
        h.fire("a", T_FOLLOWER, h.now)
        assert a.role == FOLLOWER
    # The others elect a new leader under the two-voter configuration.
    h.elect("b", among={"b", "c"})
    assert h["b"].current_term == 3 and h["b"].progress.keys() == {"c"}


def test_demoted_leader_steps_down_when_the_demotion_commits():
    h = leader_a(fresh=())
    h.replicate()
    h.call("a", "change_configuration", cfg.DEMOTE_VOTER, "a")
    a = h["a"]
    assert a.role == LEADER and cfg.suffrage_of(a.latest_config, "a") == NONVOTER
    h.replicate()
    assert a.role == FOLLOWER and a.current_term == 2
    assert a.stats(h.now)["num_peers"] == "0"
    h.now += 5 * S
    h.fire("a", T_FOLLOWER, h.now)
    assert a.role == FOLLOWER  # a non-voter never campaigns


def test_configuration_is_rebuilt_from_the_log_on_restart():
    h = leader_a()
    h.replicate()
    h.call("a", "change_configuration", cfg.ADD_NONVOTER, "d")
    h.replicate()
    h.call("a", "change_configuration", cfg.ADD_VOTER, "d")
    h.replicate()
    b = h.nodes["b"]
    b.node.crash()
    b.node.restart(h.now)
    n = b.node
    assert n.latest_config == config("a", "b", "c", "d") and n.latest_config_index == 4
    assert n.committed_config == config("a", "b", "c", nonvoters=("d",)) and n.committed_config_index == 3
    assert n.commit_index == 0 and n.last_contact is None and n.leader is None


# --------------------------------------------------------------------------- non-voters (§2.7)


def test_nonvoter_never_campaigns_and_clears_its_leader():
    h = leader_a(fresh=(), nonvoters=("d",))
    h.replicate()
    d = h.nodes["d"]
    assert d.node.leader == "a"
    for _i in range(5):
        h.now += 5 * S
        out = d.fire(T_FOLLOWER, h.now)
        assert d.node.role == FOLLOWER and d.node.leader is None and out.sent == []
    assert d.node.current_term == 2


def test_candidates_never_ask_nonvoters():
    h = Hand(["a", "b", "c"], nonvoters=["d", "e"])
    out = h.fire("a", T_FOLLOWER)
    assert sorted(dst for dst, _ in out.of(RequestVote)) == ["b", "c"]
    h.deliver(lambda s, d, m: (isinstance(m, RequestVote) and m.prevote) or s in "bc")
    assert h["a"].current_term == 2
    votes = [d for s, d, m in h.pending if isinstance(m, RequestVote)]
    assert "d" not in votes and "e" not in votes


def test_nonvoter_stats_report_no_peers():
    h = leader_a(fresh=(), nonvoters=("d",))
    h.replicate()
    st = h["d"].stats(h.now)
    assert st["num_peers"] == "0"
    assert h["b"].stats(h.now)["num_peers"] == "2"
    assert st["latest_configuration"] == (
        "[{Suffrage:Voter ID:a Address:a} {Suffrage:Voter ID:b Address:b} "
        "{Suffrage:Voter ID:c Address:c} {Suffrage:Nonvoter ID:d Address:d}]"
    )


def test_removed_follower_that_missed_its_removal_is_refused_without_term_inflation():
    h = leader_a(fresh=(), voters=("a", "b", "c", "d"))
    h.replicate()
    h.crash("d")
    h.call("a", "change_configuration", cfg.REMOVE_SERVER, "d")
    h.replicate()
    assert h["a"].committed_config == config("a", "b", "c")
    h.restart("d")
    d = h["d"]
    assert d.is_voter()  # it never saw the removal
    h.now += 5 * S
    h.fire("d", T_FOLLOWER, h.now)
    assert d.role == CANDIDATE
    for peer in "abc":
        h[peer].leader = None  # even servers without a leader refuse it
    h.deliver(lambda s, dst, m: isinstance(m, RequestVote) or (s in "abc" and dst == "d"))
    assert d.role == CANDIDATE and d.current_term == 2
    assert all(h[p].current_term == 2 for p in "abc")
