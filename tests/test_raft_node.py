"""Hand-driven unit tests of the pure RaftNode: bootstrap, elections, RequestVote and pre-vote.

Each test delivers specific messages / fires specific timers and asserts the node's outputs.
Section numbers (§) refer to docs/behaviour/raft.md.
"""

from __future__ import annotations

from raft_harness import (
    CANDIDATE,
    FOLLOWER,
    LEADER,
    MS,
    T_ELECTION,
    T_FOLLOWER,
    Driven,
    Hand,
    RequestVote,
    S,
    VoteResponse,
    ae,
    config,
    log_terms,
    messages,
    pv,
    rv,
)

from autopilot_sim.raft.messages import CONFIGURATION, NOOP

ABC = config("a", "b", "c")


def follower_with_log(name="b", terms=(2, 3), current_term=None, now=0, conf=ABC) -> Driven:
    """A bootstrapped follower whose log is [config(t1)] + entries of `terms`, received from
    leader "a" (its known leader) in `current_term` (default: the last entry's term)."""
    d = Driven(name)
    d.bootstrap(conf)
    d.start(0)
    entries = [(i + 2, t) for i, t in enumerate(terms)]
    term = current_term or max([1, *terms])
    out = d.recv("a", ae(term, "a", 1, 1, entries), now)
    assert out.one("a").success and d.node.leader == "a"
    return d


def forget_leader(d: Driven) -> None:
    """The follower's heartbeat check cleared its known leader (§2.1) without a new role."""
    d.node.leader = None


# --------------------------------------------------------------------------- bootstrap, first election


def test_bootstrap_persists_term_1_and_configuration_at_index_1():
    d = Driven("a")
    out = d.bootstrap(ABC)
    n = d.node
    assert n.current_term == 1
    assert [(e.index, e.term, e.kind) for e in n.log[1:]] == [(1, 1, CONFIGURATION)]
    assert n.latest_config == ABC and n.latest_config_index == 1
    assert n.committed_config_index == 0 and n.commit_index == 0
    assert out.writes == 2  # CurrentTerm + the configuration entry
    # Bootstrapping again is a no-op (HasExistingState).
    out = d.bootstrap(config("a"))
    assert n.latest_config == ABC and out.writes == 0


def test_first_election_is_term_2_with_noop_at_index_2():
    h = Hand(["a", "b", "c"])
    a = h["a"]
    deadline = h.nodes["a"].timers[T_FOLLOWER]
    assert 1 * S <= deadline < 2 * S  # randomTimeout(HT) from start
    out = h.fire("a", T_FOLLOWER)  # lastContact is "never": the first check fails
    # Pre-vote phase: Candidate, term unchanged, nothing persisted, proposed term 2.
    assert a.role == CANDIDATE and a.current_term == 1 and out.writes == 0
    prevotes = out.of(RequestVote)
    assert sorted(d for d, _ in prevotes) == ["b", "c"]
    assert all(m.prevote and m.term == 2 and m.last_index == 1 and m.last_term == 1 for _, m in prevotes)
    assert 1 * S <= h.nodes["a"].timers[T_ELECTION] - deadline < 2 * S
    # One pre-vote grant (plus its own) is a quorum of 3: the real election starts at once.
    h.deliver(lambda s, d, m: d == "b" or s == "b", drop=lambda s, d, m: d == "c")
    assert a.current_term == 2 and a.vote_term == 2 and a.vote_cand == "a"
    h.deliver()
    assert a.role == LEADER and a.leader == "a"
    noop = a.log[2]
    assert (noop.index, noop.term, noop.kind) == (2, 2, NOOP)
    assert a.start_index == 2


def test_election_persists_term_then_self_vote_and_leader_writes_noop():
    h = Hand(["a", "b", "c"])
    h.fire("a", T_FOLLOWER)
    # The pre-vote grant from b triggers electSelf: 1 term write + 2 vote writes.
    h.deliver(lambda s, d, m: d == "b", drop=lambda s, d, m: d == "c")
    resp = messages(h.pending, VoteResponse, src="b")[0]
    h.pending.clear()
    out = h.nodes["a"].recv("b", resp, 0)
    assert out.writes == 3 and h["a"].current_term == 2
    votes = out.of(RequestVote)
    assert sorted(d for d, _ in votes) == ["b", "c"] and not any(m.prevote for _, m in votes)
    # The vote grant makes it leader; dispatching the no-op is one more write.
    req = next(m for d, m in votes if d == "b")
    out = h.nodes["a"].recv("b", VoteResponse(req.rpc, req.deadline, 2, True, False), 0)
    assert h["a"].role == LEADER and out.writes == 1


def test_single_voter_elects_itself_at_its_first_check():
    d = Driven("solo")
    d.bootstrap(config("solo"))
    d.start(0)
    deadline = d.timers[T_FOLLOWER]
    assert 1 * S <= deadline < 2 * S
    out = d.fire(T_FOLLOWER)
    n = d.node
    assert n.role == LEADER and n.current_term == 2
    assert out.writes == 4  # term, vote term, vote candidate, the no-op
    assert [(e.index, e.term) for e in n.log[1:]] == [(1, 1), (2, 2)]
    assert n.commit_index == 2  # its own match is a quorum of one
    assert out.sent == []


def test_fresh_unbootstrapped_server_never_campaigns():
    d = Driven("x")
    d.start(0)
    for _ in range(5):
        d.fire(T_FOLLOWER)
        assert d.node.role == FOLLOWER and d.node.current_term == 0
    assert T_FOLLOWER in d.timers  # the check keeps running (§2.1 case 1)


# --------------------------------------------------------------------------- RequestVote receiver (§3.3)


def test_vote_refused_when_voter_has_a_later_last_term():
    d = follower_with_log(terms=(2, 3))  # last entry (3, t3)
    forget_leader(d)
    out = d.recv("c", rv(5, "c", 10, 2), 5 * S)
    resp = out.one("c", VoteResponse)
    assert resp.granted is False
    # Step 4 ran before the log check: the term was adopted (and persisted), no vote recorded.
    assert d.node.current_term == 5 and resp.term == 5 and out.writes == 1
    assert d.node.vote_term != 5 and d.node.last_contact != 5 * S


def test_vote_refused_when_same_last_term_but_voter_has_a_longer_log():
    d = follower_with_log(terms=(3, 3))  # last entry (3, t3)
    forget_leader(d)
    resp = d.recv("c", rv(5, "c", 2, 3), S).one("c", VoteResponse)
    assert resp.granted is False


def test_vote_granted_for_equal_log_persists_vote_and_refreshes_contact():
    d = follower_with_log(terms=(2, 3))
    forget_leader(d)
    out = d.recv("c", rv(5, "c", 3, 3), 7 * S)
    assert out.one("c", VoteResponse).granted is True
    assert out.writes == 3  # term, then last-vote term and candidate
    assert (d.node.vote_term, d.node.vote_cand) == (5, "c")
    assert d.node.last_contact == 7 * S


def test_vote_granted_to_higher_last_term_with_shorter_log():
    d = follower_with_log(terms=(2, 2, 2, 2))
    forget_leader(d)
    assert d.recv("c", rv(4, "c", 2, 3), S).one("c", VoteResponse).granted is True


def test_vote_dedupe_same_candidate_regranted_without_persisting_or_contact():
    d = follower_with_log(terms=(2,))
    forget_leader(d)
    assert d.recv("c", rv(5, "c", 2, 2), 1 * S).one("c", VoteResponse).granted
    # Another candidate in the same term is refused, even with a better log.
    out = d.recv("b", rv(5, "b", 9, 4), 2 * S)
    assert out.one("b", VoteResponse).granted is False and out.writes == 0
    # The same candidate asking again is granted, not re-persisted, no lastContact refresh.
    out = d.recv("c", rv(5, "c", 2, 2), 3 * S)
    assert out.one("c", VoteResponse).granted is True
    assert out.writes == 0 and d.node.last_contact == 1 * S


def test_vote_is_persisted_across_a_restart():
    d = follower_with_log(terms=(2,))
    forget_leader(d)
    assert d.recv("c", rv(5, "c", 2, 2), S).one("c", VoteResponse).granted
    d.node.crash()
    d.node.restart(2 * S)
    d._collect()
    assert d.node.current_term == 5
    assert d.recv("b", rv(5, "b", 2, 2), 3 * S).one("b", VoteResponse).granted is False
    assert d.recv("b", rv(6, "b", 2, 2), 3 * S).one("b", VoteResponse).granted is True


def test_known_leader_rule_refuses_before_the_term_check():
    d = follower_with_log(terms=(2,))  # knows leader "a", term 2
    assert d.node.leader == "a"
    out = d.recv("c", rv(9, "c", 5, 5), S)
    resp = out.one("c", VoteResponse)
    assert resp.granted is False and resp.term == 2
    assert d.node.current_term == 2 and out.writes == 0 and d.node.leader == "a"  # no term adoption


def test_known_leader_rule_does_not_apply_to_the_leader_itself_nor_transfers():
    d = follower_with_log(terms=(2,))
    # The candidate IS the known leader: processed normally.
    assert d.recv("a", rv(3, "a", 2, 2), S).one("a", VoteResponse).granted is True
    d = follower_with_log(terms=(2,))
    # A leadership-transfer vote bypasses the rule, adopts the term and clears the leader.
    out = d.recv("c", rv(3, "c", 2, 2, transfer=True), S)
    assert out.one("c", VoteResponse).granted is True
    assert d.node.current_term == 3 and d.node.leader is None


def test_leader_never_yields_to_an_ordinary_request_vote():
    h = Hand(["a", "b", "c"])
    h.elect("a")
    a = h["a"]
    out = h.nodes["a"].recv("c", rv(50, "c", 99, 49), S)
    assert out.one("c", VoteResponse).granted is False
    assert a.role == LEADER and a.current_term == 2 and out.writes == 0


def test_leader_steps_down_for_a_leadership_transfer_vote():
    h = Hand(["a", "b", "c"])
    h.elect("a")
    a = h["a"]
    last = a.last_index
    out = h.nodes["a"].recv("c", rv(3, "c", last, 2, transfer=True), S)
    assert out.one("c", VoteResponse).granted is True
    assert a.role == FOLLOWER and a.current_term == 3 and a.last_contact == S


def test_vote_refused_for_a_candidate_not_in_the_configuration_without_term_change():
    d = follower_with_log(terms=(2,))
    forget_leader(d)
    out = d.recv("x", rv(9, "x", 100, 100), S)
    assert out.one("x", VoteResponse).granted is False
    assert d.node.current_term == 2 and out.writes == 0
    out = d.recv("x", pv(9, "x", 100, 100), S)
    assert out.one("x", VoteResponse).granted is False


def test_empty_configuration_skips_the_membership_check():
    d = Driven("fresh")
    d.start(0)
    out = d.recv("x", rv(4, "x", 0, 0), S)
    assert out.one("x", VoteResponse).granted is True and d.node.current_term == 4


def test_vote_refused_for_a_nonvoter_candidate_after_the_term_bump():
    conf = config("a", "b", "c", nonvoters=("d",))
    d = follower_with_log(terms=(2,), conf=conf)
    forget_leader(d)
    out = d.recv("d", rv(9, "d", 5, 5), S)
    assert out.one("d", VoteResponse).granted is False
    assert d.node.current_term == 9  # step 5 comes after step 4
    d2 = follower_with_log(terms=(2,), conf=conf)
    forget_leader(d2)
    out = d2.recv("d", pv(9, "d", 5, 5), S)
    assert out.one("d", VoteResponse).granted is False and d2.node.current_term == 2


def test_candidate_refuses_a_same_term_rival_split_vote():
    h = Hand(["a", "b", "c"])
    h.fire("a", T_FOLLOWER)
    h.fire("b", T_FOLLOWER)
    # Both win their pre-votes from c (and each other) and increment to term 2.
    h.deliver(lambda s, d, m: m.prevote if isinstance(m, (RequestVote, VoteResponse)) else False)
    assert h["a"].current_term == 2 and h["b"].current_term == 2
    # Each already voted for itself: their RequestVotes to each other are refused.
    req = next(m for s, d, m in h.pending if s == "b" and d == "a" and isinstance(m, RequestVote))
    out = h.nodes["a"].recv("b", req, 0)
    assert out.one("b", VoteResponse).granted is False


# --------------------------------------------------------------------------- pre-vote (§3.2)


def test_prevote_changes_nothing_on_the_receiver():
    d = follower_with_log(terms=(2, 3), current_term=3)
    forget_leader(d)
    n = d.node
    before = (n.current_term, n.vote_term, n.vote_cand, n.role, n.last_contact)
    out = d.recv("c", pv(4, "c", 3, 3), 9 * S)
    resp = out.one("c", VoteResponse)
    assert resp.granted is True and resp.prevote is True and resp.term == 4
    assert (n.current_term, n.vote_term, n.vote_cand, n.role, n.last_contact) == before
    assert out.writes == 0 and out.timers == [] and out.notes == []


def test_prevote_response_term_rules():
    d = follower_with_log(terms=(2, 3), current_term=3)
    forget_leader(d)
    # Request term above ours: answered with the requested term (the candidate does not step down).
    resp = d.recv("c", pv(9, "c", 3, 3), S).one("c", VoteResponse)
    assert resp.term == 9 and resp.granted is True and d.node.current_term == 3
    # Request term below ours: refused with our (higher) term.
    resp = d.recv("c", pv(2, "c", 3, 3), S).one("c", VoteResponse)
    assert resp.term == 3 and resp.granted is False
    # Same term, stale log: refused with our term.
    resp = d.recv("c", pv(3, "c", 2, 2), S).one("c", VoteResponse)
    assert resp.term == 3 and resp.granted is False


def test_prevote_refused_while_another_leader_is_known():
    d = follower_with_log(terms=(2,))  # knows "a"
    resp = d.recv("c", pv(3, "c", 2, 2), S).one("c", VoteResponse)
    assert resp.granted is False and d.node.leader == "a"


def test_prevote_granted_when_the_known_leader_is_the_candidate():
    # Upstream TestRaft_PreVote_ShouldNotRejectLeader.
    d = follower_with_log(terms=(2,))
    resp = d.recv("a", pv(3, "a", 2, 2), S).one("a", VoteResponse)
    assert resp.granted is True and d.node.leader == "a" and d.node.current_term == 2


def test_candidate_adopts_a_higher_term_from_a_prevote_response():
    h = Hand(["a", "b", "c"])
    out = h.fire("a", T_FOLLOWER)
    req = out.one("b", RequestVote)
    out = h.nodes["a"].recv("b", VoteResponse(req.rpc, req.deadline, 7, False, True), S)
    assert h["a"].role == FOLLOWER and h["a"].current_term == 7 and out.writes == 1


def test_candidate_keeps_its_term_when_prevote_is_refused_and_retries_on_its_timer():
    h = Hand(["a", "b", "c"])
    h["b"].leader = h["c"].leader = "z"  # they still believe in some leader
    out = h.fire("a", T_FOLLOWER)
    h.deliver()
    a = h["a"]
    assert a.role == CANDIDATE and a.current_term == 1  # pre-vote lost, term unchanged
    assert not [m for s, d, m in h.pending if isinstance(m, RequestVote)]
    # The next round starts on the election timer, again with a pre-vote for term 2.
    out = h.fire("a", T_ELECTION)
    assert {m.term for _, m in out.of(RequestVote)} == {2}
    assert all(m.prevote for _, m in out.of(RequestVote)) and a.current_term == 1


def test_prevote_win_rearms_the_election_timer():
    h = Hand(["a", "b", "c"])
    h.fire("a", T_FOLLOWER, 10 * S)
    first = h.nodes["a"].timers[T_ELECTION]
    h.now = 10 * S + 300 * MS
    h.deliver(lambda s, d, m: m.prevote, drop=lambda s, d, m: False)
    second = h.nodes["a"].timers[T_ELECTION]
    assert second != first and S <= second - h.now < 2 * S


def test_leader_crash_three_voters_worked_timeline():
    """§3.7: the first follower to time out loses its pre-vote (the other still knows the
    leader); the second wins with the first one's grant; the term grows by exactly one."""
    h = Hand(["a", "b", "c"])
    h.elect("a")
    h.replicate()
    h.crash("a")
    h.now = 10 * S
    h.fire("b", T_FOLLOWER, 10 * S)  # b's check fails first
    assert h["b"].role == CANDIDATE
    h.deliver()
    assert h["b"].role == CANDIDATE and h["b"].current_term == 2  # c refused: it still knows a
    assert h["c"].leader == "a" and h["c"].current_term == 2
    h.fire("c", T_FOLLOWER, 11 * S)  # now c's check fails too
    assert h["c"].leader is None and h["c"].role == CANDIDATE
    h.deliver()
    assert h["c"].role == LEADER and h["c"].current_term == 3
    assert h["b"].role == FOLLOWER and h["b"].current_term == 3 and h["b"].leader == "c"
    assert log_terms(h["b"]) == log_terms(h["c"]) == [1, 2, 3]


def test_a_deep_copy_of_a_node_draws_from_its_own_copy_of_the_random_stream() -> None:
    """Notebook 6 deep-copies a cluster to play two endings: the copy must not advance the
    original's generator (it did when the node kept `rng.getrandbits` as a bound method)."""
    import copy

    from autopilot_sim.raft.node import RaftNode as Node
    from autopilot_sim.raft.timing import RaftTiming
    from autopilot_sim.rng import stream

    original = Node("a", RaftTiming(), stream(1, "raft", "a"))
    twin = copy.deepcopy(original)
    drawn = [twin._random_timeout(1000) for _ in range(5)]
    assert [original._random_timeout(1000) for _ in range(5)] == drawn  # same stream, not shared
