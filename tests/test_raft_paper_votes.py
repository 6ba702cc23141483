"""raft.vote_rules: paper — RequestVote as the Raft paper and LogCabin answer it (raft/votes.py)."""

from __future__ import annotations

import pytest
from raft_harness import FOLLOWER, LEADER, MS, T_FOLLOWER, Driven, config, hb, rv

from autopilot_sim.raft.messages import VoteResponse
from autopilot_sim.raft.timing import RaftTiming, TimingError

PAPER = RaftTiming(prevote=False, election_timeout_range=(150 * MS, 300 * MS),
                   heartbeat_interval=75 * MS, vote_rules="paper")


def follower(timing: RaftTiming = PAPER) -> Driven:
    d = Driven("b", timing)
    d.bootstrap(config("a", "b", "c"), 0)
    d.start(0)
    return d


def vote(out) -> VoteResponse:
    return out.one("c", VoteResponse)


def test_paper_grants_despite_a_known_leader_once_the_withhold_period_is_over():
    d = follower()
    d.recv("a", hb(1, "a"), 10 * MS)
    assert d.node.leader == "a"
    out = d.recv("c", rv(2, "c", 1, 1), 10 * MS + 150 * MS)
    assert vote(out).granted and vote(out).term == 2
    assert d.node.current_term == 2 and d.node.vote_cand == "c"
    # granting resets the election timer: a fresh timeout from the grant
    assert 160 * MS + 150 * MS <= d.timers[T_FOLLOWER] < 160 * MS + 300 * MS


def test_hashicorp_refuses_the_same_request_because_it_knows_a_leader():
    d = follower(RaftTiming(prevote=False, election_timeout_range=(150 * MS, 300 * MS),
                            heartbeat_interval=75 * MS))
    d.recv("a", hb(1, "a"), 10 * MS)
    out = d.recv("c", rv(2, "c", 1, 1), 160 * MS)
    assert not vote(out).granted


def test_paper_withholds_within_the_minimum_timeout_without_adopting_the_term():
    d = follower()
    d.recv("a", hb(1, "a"), 10 * MS)
    out = d.recv("c", rv(5, "c", 1, 1), 10 * MS + 150 * MS - 1)
    assert not vote(out).granted and vote(out).term == 1
    assert d.node.current_term == 1 and d.node.role == FOLLOWER and d.node.leader == "a"


def test_paper_refuses_a_shorter_log_but_adopts_its_term():
    d = follower()
    d.recv("a", hb(1, "a"), 0)
    d.node.log.append(d.node.log[-1].__class__(2, 1, "command", "x"))
    out = d.recv("c", rv(2, "c", 1, 1), 200 * MS)
    assert not vote(out).granted and d.node.current_term == 2


def test_paper_one_vote_per_term_and_a_repeat_is_granted_again():
    d = follower()
    assert vote(d.recv("c", rv(2, "c", 1, 1), 200 * MS)).granted
    out = d.recv("a", rv(2, "a", 1, 1), 201 * MS)
    assert not out.one("a", VoteResponse).granted
    assert vote(d.recv("c", rv(2, "c", 1, 1), 202 * MS)).granted


def test_paper_leader_never_grants_nor_steps_down_for_a_vote():
    d = follower()
    d.fire(T_FOLLOWER)
    d.recv("a", VoteResponse(max(d.node._round_rpcs), 10**15, 2, True, False), d.timers and 400 * MS)
    assert d.node.role == LEADER
    out = d.recv("c", rv(9, "c", 5, 5), 10 * 1000 * MS)
    assert not vote(out).granted and d.node.role == LEADER and d.node.current_term == 2


def test_paper_fixed_timeout_range_is_allowed():
    t = RaftTiming(prevote=False, election_timeout_range=(150 * MS, 150 * MS),
                   heartbeat_interval=75 * MS, vote_rules="paper").validate()
    d = follower(t)
    assert d.timers[T_FOLLOWER] == 150 * MS


def test_paper_rules_need_prevote_off():
    with pytest.raises(TimingError, match="pre-vote"):
        RaftTiming(vote_rules="paper").validate()
