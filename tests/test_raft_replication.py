"""Hand-driven tests of log replication: the AppendEntries receiver (§2.3), the leader's
response handling and back-off (§4.4, §4.5), and the commit rule (§4.6, the Raft paper's
Figure 8). Section numbers (§) refer to docs/behaviour/raft.md."""

from __future__ import annotations

import pytest
from raft_harness import (
    FOLLOWER,
    LEADER,
    MS,
    T_FOLLOWER,
    AppendEntries,
    AppendEntriesResponse,
    Driven,
    Hand,
    S,
    ae,
    config,
    hb,
    log_terms,
    messages,
)

from autopilot_sim.raft.messages import CONFIGURATION, Heartbeat, HeartbeatResponse, RpcError
from autopilot_sim.raft.node import heartbeat_backoff, replication_backoff
from autopilot_sim.raft.timing import RaftTiming

ABC = config("a", "b", "c")


def follower(terms=(), name="b", term=None) -> Driven:
    """A bootstrapped follower of "a" holding [config(t1)] + entries with `terms`."""
    d = Driven(name)
    d.bootstrap(ABC)
    d.start(0)
    if terms:
        d.recv("a", ae(term or max(terms), "a", 1, 1, [(i + 2, t) for i, t in enumerate(terms)]), 0)
    return d


# --------------------------------------------------------------------------- receiver (§2.3)


def test_append_with_an_older_term_is_rejected_without_contact_or_leader_change():
    d = follower((2, 2), term=3)
    d.node.last_contact = 5 * S
    out = d.recv("z", ae(2, "z", 3, 2, [(4, 2)], commit=3), 6 * S)
    resp = out.one("z", AppendEntriesResponse)
    assert resp.success is False and resp.term == 3 and resp.no_retry_backoff is False
    assert d.node.leader == "a" and d.node.last_contact == 5 * S and d.node.last_index == 3


def test_append_with_missing_previous_entry_sets_no_retry_backoff_and_leader_but_not_contact():
    d = follower((2,))
    d.node.last_contact = S
    out = d.recv("c", ae(3, "c", 9, 3), 2 * S)
    resp = out.one("c", AppendEntriesResponse)
    assert resp.success is False and resp.no_retry_backoff is True and resp.last_log == 2
    assert d.node.leader == "c" and d.node.current_term == 3  # term adopted, leader learned
    assert d.node.last_contact == S  # but no contact refresh (§2.2)


def test_append_with_mismatching_previous_term_sets_no_retry_backoff():
    d = follower((2, 2))
    out = d.recv("c", ae(3, "c", 3, 3, [(4, 3)]), S)
    resp = out.one("c", AppendEntriesResponse)
    assert resp.success is False and resp.no_retry_backoff is True and resp.last_log == 3
    assert log_terms(d.node) == [1, 2, 2]


def test_conflicting_suffix_is_truncated_and_replaced():
    d = follower((2, 2, 2, 2))  # indexes 2..5 in term 2
    out = d.recv("c", ae(3, "c", 2, 2, [(3, 3), (4, 3)], commit=0), S)
    resp = out.one("c", AppendEntriesResponse)
    assert resp.success is True
    assert resp.last_log == 5  # the follower's last index *before* the change
    assert log_terms(d.node) == [1, 2, 3, 3]
    truncates = [n for n in out.notes if n.kind == "truncate"]
    assert len(truncates) == 1 and truncates[0].index == 3
    assert [e.index for e in truncates[0].removed] == [3, 4, 5]
    assert out.writes == 3  # term adoption, DeleteRange, StoreLogs
    assert d.node.last_contact == S


def test_entries_already_present_are_skipped_without_a_write():
    d = follower((2, 2))
    entries = d.node.log[2:4]
    out = d.recv("a", ae(2, "a", 1, 1, entries), S)
    assert out.one("a", AppendEntriesResponse).success and out.writes == 0
    assert d.node.log[2] is entries[0]


def test_truncation_reverts_an_uncommitted_configuration():
    d = follower((2,))
    new_conf = config("a", "b", "c", "d")
    from autopilot_sim.raft.messages import Entry
    d.recv("a", ae(2, "a", 2, 2, [Entry(3, 2, CONFIGURATION, new_conf)]), S)
    assert d.node.latest_config == new_conf and d.node.latest_config_index == 3
    assert d.node.committed_config == ABC  # the previous latest counts as committed
    d.recv("c", ae(3, "c", 2, 2, [(3, 3)]), 2 * S)
    assert d.node.latest_config == ABC and d.node.latest_config_index == 1


def test_follower_commit_is_min_of_leader_commit_and_local_last_index():
    d = follower((2, 2, 2))  # last index 4
    d.recv("a", ae(2, "a", 4, 2, [], commit=10), S)
    assert d.node.commit_index == 4
    # Quirk (§2.3 step 7 / §9 item 16): the local last index, not the last new entry.
    d = follower((2, 2, 2))
    d.recv("a", ae(2, "a", 1, 1, [(2, 2)], commit=3), S)
    assert d.node.commit_index == 3
    # A leader commit of 0, or not above ours, changes nothing.
    d.recv("a", ae(2, "a", 4, 2, [], commit=0), S)
    assert d.node.commit_index == 3


def test_commit_marks_the_configuration_committed():
    d = follower((2,))
    assert d.node.committed_config_index == 0
    d.recv("a", ae(2, "a", 2, 2, [], commit=2), S)
    assert d.node.committed_config_index == 1 and d.node.committed_config == ABC


def test_same_term_append_reverts_a_candidate_to_follower():
    h = Hand(["a", "b", "c"])
    h.fire("b", T_FOLLOWER)
    b = h["b"]
    assert b.role == "Candidate"
    out = h.nodes["b"].recv("a", ae(1, "a", 1, 1), 3 * S)
    assert b.role == FOLLOWER and b.leader == "a" and out.one("a", AppendEntriesResponse).success


def test_heartbeat_always_succeeds_for_the_current_term_and_refreshes_contact():
    d = follower((2, 2))
    out = d.recv("a", hb(2, "a"), 4 * S)
    resp = out.one("a", HeartbeatResponse)
    assert resp.success is True and d.node.last_contact == 4 * S and out.writes == 0
    # A newer term is adopted on the fast path too (one write).
    out = d.recv("c", hb(5, "c"), 5 * S)
    assert out.one("c", HeartbeatResponse).success and d.node.current_term == 5 and out.writes == 1
    assert d.node.leader == "c"
    # An older term is refused and does not touch contact.
    out = d.recv("a", hb(2, "a"), 6 * S)
    assert out.one("a", HeartbeatResponse).success is False and d.node.last_contact == 5 * S


# --------------------------------------------------------------------------- leader side (§4.5)


def leader_with_lagging_follower():
    """a and b hold 12 entries; c holds only the bootstrap config and the term-2 no-op.
    Then a is down and c restarted (no known leader): b can win term 3 with c's vote."""
    h = Hand(["a", "b", "c"])
    h.elect("a")
    h.replicate()
    h.crash("c")
    h.call("a", "propose_batch", [f"w{i}" for i in range(10)])
    h.replicate()
    assert h["b"].last_index == 12 and h["c"].last_index == 2
    h.crash("a")
    h.restart("c")
    h.now = 20 * S
    return h


def test_leader_repairs_follower_log_with_next_index_jump():
    h = leader_with_lagging_follower()
    b, c = h.nodes["b"], h.nodes["c"]
    # Pre-vote and vote (c grants: b's log is more up to date); hold the AppendEntries back.
    h.fire("b", T_FOLLOWER, 20 * S)
    h.deliver(lambda s, d, m: not isinstance(m, AppendEntries) and not isinstance(m, AppendEntriesResponse))
    assert b.node.role == LEADER and b.node.current_term == 3 and b.node.last_index == 13
    appends = messages(h.pending, AppendEntries, src="b", dst="c")
    # The replication goroutine starts at next = last + 1 (before the no-op, prev = 12), and the
    # no-op's trigger waits behind it (standard mode: one call at a time). c lacks index 12, and
    # next then jumps straight to c's last + 1 = 3 instead of stepping down one by one (§4.5).
    assert [(m.prev_index, len(m.entries)) for m in appends] == [(12, 0)]
    h.pending = [p for p in h.pending if p[1] == "c" and isinstance(p[2], AppendEntries)]
    req = h.pending.pop()[2]
    out = c.recv("b", req, h.now)
    resp = out.one("b", AppendEntriesResponse)
    assert resp.success is False and resp.no_retry_backoff is True and resp.last_log == 2
    out = b.recv("c", resp, h.now)
    prog = b.node.progress["c"]
    assert prog.failures == 0 and prog.next_index == 3
    retry = out.one("c", AppendEntries)  # immediately, no back-off timer
    assert not [k for k, _ in out.timers if isinstance(k, tuple) and k[0] == "bo"]
    assert retry.prev_index == 2 and retry.prev_term == 2
    assert [e.index for e in retry.entries] == list(range(3, 14))
    out = c.recv("b", retry, h.now)
    assert out.one("b", AppendEntriesResponse).success
    out = b.recv("c", out.one("b", AppendEntriesResponse), h.now)
    assert prog.match_index == 13 and prog.next_index == 14
    assert b.node.commit_index == 13  # the term-3 no-op is on b and c: a majority
    assert log_terms(c.node) == log_terms(b.node) == [1, 2] + [2] * 10 + [3]


def test_replication_backoff_sequence_on_the_wire():
    h = Hand(["a", "b", "c"])
    h.elect("a")
    h.replicate()
    a = h.nodes["a"]
    prog = a.node.progress["b"]
    now = 10 * S
    observed = []
    for k in range(1, 15):
        out = a.fire(("ct", "b"), now)  # a CommitTimeout wake-up starts replicateTo
        if prog.failures:
            # It first sleeps the back-off for the failures so far.
            (deadline,) = [d for key, d in out.timers if key == ("bo", "b")]
            observed.append(deadline - now)
            assert out.of(AppendEntries) == []
            now = deadline
            out = a.fire(("bo", "b"), now)
        req = out.one("b", AppendEntries)
        a.recv("b", RpcError(req.rpc, AppendEntries, False, "timeout"), now)
        assert prog.failures == k
        now += S
    ms = [w // MS for w in observed]
    assert ms == [10, 10, 20, 40, 80, 160, 320, 640, 1280, 2560, 5120, 10240, 10240]
    assert observed == [replication_backoff(k) for k in range(1, 14)]
    # A success resets the count.
    out = a.fire(("ct", "b"), now)
    now = a.timers[("bo", "b")]
    req = a.fire(("bo", "b"), now).one("b", AppendEntries)
    a.recv("b", AppendEntriesResponse(req.rpc, req.deadline, 2, True, 2, False, req.prev_index), now)
    assert prog.failures == 0


@pytest.mark.parametrize(
    "failures, expected_ms",
    [(0, 0), (1, 10), (2, 10), (3, 20), (4, 40), (5, 80), (6, 160), (7, 320), (8, 640),
     (9, 1280), (10, 2560), (11, 5120), (12, 10240), (13, 10240), (100, 10240)],
)
def test_replication_backoff_function(failures, expected_ms):
    assert replication_backoff(failures) == expected_ms * MS


@pytest.mark.parametrize(
    "count, expected_ms",
    [(0, 10), (1, 10), (2, 10), (3, 20), (4, 40), (5, 80), (6, 160), (7, 320), (8, 500), (9, 500), (50, 500)],
)
def test_heartbeat_backoff_function_capped_at_half_ht(count, expected_ms):
    assert heartbeat_backoff(count, 500 * MS) == expected_ms * MS


def test_heartbeat_errors_back_off_then_wait_the_normal_interval():
    h = Hand(["a", "b", "c"])
    h.elect("a")
    h.replicate()
    a = h.nodes["a"]
    prog = a.node.progress["b"]
    now = 10 * S
    for count in range(10):
        out = a.fire(("hb", "b"), now)
        req = out.one("b", Heartbeat)
        out = a.recv("b", RpcError(req.rpc, Heartbeat, False, "refused"), now)
        (deadline,) = [d for key, d in out.timers if key == ("hb", "b")]
        wait = deadline - now - heartbeat_backoff(count, 500 * MS)
        assert 100 * MS <= wait < 200 * MS  # then randomTimeout(HT/10)
        assert prog.hb_failures == count + 1
        now = deadline
    out = a.fire(("hb", "b"), now)
    req = out.one("b", Heartbeat)
    a.recv("b", HeartbeatResponse(req.rpc, req.deadline, 2, True), now)
    assert prog.hb_failures == 0 and prog.last_contact == now


# --------------------------------------------------------------------------- commit rule (§4.6)


def test_figure_8_leader_does_not_commit_an_earlier_term_entry_by_counting_replicas():
    """The Raft paper's Figure 8 with hashicorp's no-op: S1 (term 4) re-replicates its term-2
    entry at index 3 to a majority but must not commit it until its term-4 no-op is on a
    majority; the scenario then shows S5 could still overwrite index 3."""
    names = ["s1", "s2", "s3", "s4", "s5"]
    timing = RaftTiming(max_append_entries=1)  # one entry per AppendEntries: full control
    h = Hand(names, timing=timing)
    # (a) s1 leads term 2; the no-op (index 2) commits everywhere; entry 3 reaches s2 only.
    h.elect("s1")
    h.replicate()
    assert all(h[n].last_index == 2 for n in names) and h["s1"].commit_index == 2
    h.call("s1", "propose", "X")
    h.deliver(lambda s, d, m: {s, d} <= {"s1", "s2"}, drop=lambda s, d, m: not {s, d} <= {"s1", "s2"})
    h.drop_all()
    assert log_terms(h["s2"]) == [1, 2, 2] and log_terms(h["s3"]) == [1, 2]
    # (b) s1 crashes; s5 wins term 3 with s3 and s4, appends its no-op at 3, and crashes.
    h.crash("s1")
    h.elect("s5", among={"s3", "s4", "s5"})
    h.drop_all()
    assert h["s5"].current_term == 3 and log_terms(h["s5"]) == [1, 2, 3]
    h.crash("s5")
    for n in ("s3", "s4"):
        assert log_terms(h[n]) == [1, 2]
    # (c) s1 restarts and wins term 4 (s2, s3, s4 vote); its no-op goes to index 4.
    h.restart("s1")
    h.elect("s1", among={"s1", "s2", "s3", "s4"})
    s1 = h["s1"]
    assert s1.current_term == 4 and log_terms(s1) == [1, 2, 2, 4] and s1.start_index == 4
    # Replicate only index 3 to s3 and s4: index 3 is then on s1, s2, s3, s4 - a majority.
    for n in ("s3", "s4"):
        (req,) = messages(h.pending, AppendEntries, src="s1", dst=n)
        assert req.prev_index == 3 and req.entries == ()  # next = last + 1 at election time
        rej = h.nodes[n].recv("s1", req, h.now).one("s1", AppendEntriesResponse)
        assert rej.success is False and rej.last_log == 2
        req = h.nodes["s1"].recv(n, rej, h.now).one(n, AppendEntries)
        assert req.prev_index == 2 and [(e.index, e.term) for e in req.entries] == [(3, 2)]
        ok = h.nodes[n].recv("s1", req, h.now).one("s1", AppendEntriesResponse)
        out = h.nodes["s1"].recv(n, ok, h.now)
        assert s1.progress[n].match_index == 3
        assert [e.index for e in out.one(n, AppendEntries).entries] == [4]  # held back
    h.drop_all()
    assert [h[n].log[3].term for n in ("s1", "s2", "s3", "s4")] == [2, 2, 2, 2]
    assert s1.commit_index == 0  # NOT 3: index 3 is from term 2 and the no-op is not on a majority
    # (d) Why: s1 crashes, s5 (last term 3) can win term 5 with s2, s3, s4 and overwrite index 3.
    h.crash("s1")
    h.drop_all()
    h.restart("s5")
    h.elect("s5", among={"s2", "s3", "s4", "s5"})
    h.replicate(among={"s2", "s3", "s4", "s5"})
    assert h["s5"].current_term >= 5
    for n in ("s2", "s3", "s4"):
        assert h[n].log[3].term == 3  # the term-2 entry at index 3 was overwritten


def test_leader_commits_earlier_entries_once_its_own_term_entry_is_on_a_majority():
    h = Hand(["a", "b", "c"])
    h.elect("a")
    h.replicate()
    h.crash("c")
    h.crash("b")
    h.call("a", "propose", "X")  # index 3, term 2, only on a
    h.drop_all()
    assert h["a"].commit_index == 2
    h.crash("a")
    h.restart("a")
    h.restart("b")
    h.elect("a", among={"a", "b"})
    a = h["a"]
    assert a.current_term == 3 and log_terms(a) == [1, 2, 2, 3]
    assert a.commit_index == 0
    h.replicate(among={"a", "b"})
    assert a.commit_index == 4  # the term-3 no-op and, with it, the term-2 entry at index 3
    assert h["b"].last_index == 4


def test_leader_counts_only_voters_for_commit():
    h = Hand(["a", "b", "c"], nonvoters=["d", "e"])
    h.elect("a")
    h.replicate(among={"a", "d", "e"})  # only the non-voters get the no-op
    assert h["d"].last_index == 2 and h["e"].last_index == 2
    assert h["a"].commit_index == 0
    h.replicate()
    assert h["a"].commit_index == 2
