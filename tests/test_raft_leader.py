"""Hand-driven tests of the leader: lease (§4.7), stale-term step-down (§4.5), heartbeat and
CommitTimeout cadence (§4.2, §4.3). Section numbers (§) refer to docs/behaviour/raft.md."""

from __future__ import annotations

from raft_harness import (
    FOLLOWER,
    LEADER,
    MS,
    T_LEASE,
    AppendEntries,
    AppendEntriesResponse,
    Hand,
    Heartbeat,
    HeartbeatResponse,
    S,
    messages,
)

from autopilot_sim.raft.messages import RpcError

T0 = 10 * S


def elected(voters=("a", "b", "c"), nonvoters=(), at=T0) -> Hand:
    h = Hand(list(voters), nonvoters=list(nonvoters))
    h.now = at
    h.elect("a")
    assert h["a"].role == LEADER and h.now == at
    return h


def answer_heartbeat(h: Hand, peer: str, now: int) -> None:
    """Deliver the pending heartbeat a -> peer and its answer at `now`."""
    h.now = now
    (req,) = messages(h.pending, Heartbeat, src="a", dst=peer)
    h.pending = [p for p in h.pending if p[2] is not req]
    resp = h.nodes[peer].recv("a", req, now).one("a", HeartbeatResponse)
    h.nodes["a"].recv(peer, resp, now)


def test_lease_steps_down_at_last_quorum_contact_plus_llt_plus_10ms():
    h = elected()
    a = h.nodes["a"]
    assert a.timers[T_LEASE] == T0 + 500 * MS  # first check one LLT after election
    c_time = T0 + 200 * MS
    answer_heartbeat(h, "b", c_time)  # b's last contact; c never answers
    checks = []
    while h["a"].role == LEADER:
        checks.append(a.timers[T_LEASE] - T0)
        out = h.fire("a", T_LEASE)
    assert [t // MS for t in checks] == [500, 510, 700, 710]
    # 500: c (contact T0, diff = LLT exactly) still counts; next check when it expires.
    # 700 = b's contact + LLT passes ("<= LLT"); 710 fails: b's contact + LLT + 10 ms.
    n = h["a"]
    assert n.role == FOLLOWER and n.current_term == 2  # the same term
    assert n.last_contact == c_time + 500 * MS + 10 * MS and n.leader is None
    assert any(note.kind == "follower" and "lease" in note.reason for note in out.notes)
    assert T_LEASE not in a.timers
    assert not [k for k in a.timers if isinstance(k, tuple)]  # replication stopped


def test_lease_without_any_answer_lasts_one_llt_plus_10ms_from_election():
    # New replication goroutines start with lastContact = now: a full lease (§9 item 13).
    h = elected()
    h.fire("a", T_LEASE)
    assert h["a"].role == LEADER and h.nodes["a"].timers[T_LEASE] == T0 + 510 * MS
    h.fire("a", T_LEASE)
    assert h["a"].role == FOLLOWER and h.now == T0 + 510 * MS


def test_lease_ignores_nonvoters():
    h = elected(nonvoters=("d", "e"))
    answer_heartbeat(h, "d", T0 + 400 * MS)
    answer_heartbeat(h, "e", T0 + 400 * MS)
    h.fire("a", T_LEASE)
    h.fire("a", T_LEASE)
    assert h["a"].role == FOLLOWER and h.now == T0 + 510 * MS


def test_lease_holds_while_a_quorum_answers():
    h = elected(voters=("a", "b", "c", "d", "e"))
    now = T0
    for _ in range(20):
        now += 150 * MS
        for peer in ("b", "c"):
            answer_heartbeat(h, peer, now)
            h.fire("a", ("hb", peer), now)  # the next heartbeat goes out
        while h.nodes["a"].timers[T_LEASE] <= now:
            h.fire("a", T_LEASE)
            h.now = now
    assert h["a"].role == LEADER
    assert h.nodes["a"].timers[T_LEASE] > now


def test_higher_term_append_response_steps_down_keeping_own_term():
    h = elected()
    (req,) = messages(h.pending, AppendEntries, src="a", dst="b")
    out = h.nodes["a"].recv("b", AppendEntriesResponse(req.rpc, req.deadline, 9, False, 0, False, 0), T0 + S)
    n = h["a"]
    assert n.role == FOLLOWER and n.current_term == 2 and out.writes == 0
    assert n.last_contact == T0 + S


def test_higher_term_heartbeat_response_is_ignored_but_counts_as_contact():
    h = elected()
    (req,) = messages(h.pending, Heartbeat, src="a", dst="b")
    h.nodes["a"].recv("b", HeartbeatResponse(req.rpc, req.deadline, 9, False), T0 + 300 * MS)
    n = h["a"]
    assert n.role == LEADER and n.current_term == 2
    assert n.progress["b"].last_contact == T0 + 300 * MS


def test_failed_append_response_still_counts_as_lease_contact():
    h = elected()
    (req,) = messages(h.pending, AppendEntries, src="a", dst="b")
    h.nodes["a"].recv("b", AppendEntriesResponse(req.rpc, req.deadline, 2, False, 1, True, 0), T0 + 300 * MS)
    assert h["a"].progress["b"].last_contact == T0 + 300 * MS


def test_transport_errors_never_count_as_contact():
    h = elected()
    (req,) = messages(h.pending, Heartbeat, src="a", dst="b")
    h.nodes["a"].recv("b", RpcError(req.rpc, Heartbeat, False, "timeout"), T0 + 300 * MS)
    assert h["a"].progress["b"].last_contact == T0


def test_heartbeat_gap_is_response_time_plus_ht_over_10_to_ht_over_5():
    h = elected()
    a = h.nodes["a"]
    now = T0
    gaps = []
    for _ in range(300):
        now += 3 * MS  # round trip
        answer_heartbeat(h, "b", now)
        deadline = a.timers[("hb", "b")]
        gaps.append(deadline - now)
        out = h.fire("a", ("hb", "b"))
        assert len(out.of(Heartbeat)) == 1
        # While a heartbeat is outstanding no other one is armed: the loop waits for the answer.
        assert ("hb", "b") not in a.timers
        now = deadline
    assert all(100 * MS <= g < 200 * MS for g in gaps)
    assert min(gaps) < 105 * MS and max(gaps) > 195 * MS  # uniform over the whole range


def test_heartbeats_carry_term_and_leader_only():
    h = elected()
    (req,) = messages(h.pending, Heartbeat, src="a", dst="c")
    assert req.is_heartbeat and (req.term, req.leader) == (2, "a")
    assert not hasattr(req, "leader_commit") and not hasattr(req, "entries")


def test_idle_commit_timeout_carries_the_commit_index():
    h = elected()
    h.replicate()
    a = h.nodes["a"]
    assert h["a"].commit_index == 2 and h["b"].commit_index in (0, 2)
    key = ("ct", "b")
    armed_at = h.now
    assert 50 * MS <= a.timers[key] - armed_at < 100 * MS  # randomTimeout(CT)
    out = h.fire("a", key)
    req = out.one("b", AppendEntries)
    assert req.entries == () and req.prev_index == 2 and req.prev_term == 2 and req.leader_commit == 2
    assert not req.is_heartbeat
    h.deliver()
    assert h["b"].commit_index == 2 and h["b"].last_contact == h.now
    # Re-armed after every replication wake-up.
    assert 50 * MS <= a.timers[key] - h.now < 100 * MS


def test_pipeline_sends_one_batch_per_trigger_with_at_most_two_in_flight():
    h = elected()
    h.replicate()
    a = h["a"]
    assert a.progress["b"].pipeline is True
    for i in range(3):
        h.call("a", "propose", f"w{i}")
    to_b = messages(h.pending, AppendEntries, src="a", dst="b")
    assert [[e.index for e in m.entries] for m in to_b] == [[3], [4]]  # the third waits
    h.deliver(lambda s, d, m: d == "b" or s == "b")
    assert a.progress["b"].match_index == 5


def test_batches_hold_at_most_max_append_entries():
    h = elected()
    h.replicate()
    h.crash("c")
    h.drop_all()
    h.call("a", "propose_batch", [f"w{i}" for i in range(150)])
    sizes = [len(m.entries) for m in messages(h.pending, AppendEntries, src="a", dst="b")]
    assert sizes == [64]
    h.replicate(among={"a", "b"})
    assert h["b"].last_index == 152 and h["a"].commit_index == 152
