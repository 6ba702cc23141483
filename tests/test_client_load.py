"""sim/load.py: Poisson client writes to the leader, group-committed while its loop is blocked."""

from __future__ import annotations

from engine_harness import MS, S, make_cluster

from autopilot_sim.raft.messages import COMMAND
from autopilot_sim.raft.timing import RaftTiming


def commands(node) -> list[object]:
    return [e.data for e in node.log if e.kind == COMMAND]


def test_writes_before_the_first_leader_are_rejected():
    c = make_cluster(3, seed=7, writes_per_second=50)
    c.run(900 * MS)  # the first election cannot end before HeartbeatTimeout (1 s)
    assert c.leader_name is None
    assert c.writes_accepted == 0 and c.writes_rejected > 20


def test_writes_waiting_for_a_paused_leader_go_in_batches_of_max_append_entries_plus_one():
    c = make_cluster(3, seed=7, writes_per_second=100, timing=RaftTiming(max_append_entries=4))
    c.run(5 * S)
    server = c.leader()
    assert server is not None
    accepted = c.writes_accepted
    c.pause(server.name, 400 * MS)  # shorter than HeartbeatTimeout: nobody starts an election
    c.run(5 * S + 400 * MS)  # stops before the events due at the resume instant
    waiting = list(server.pending_writes)
    assert len(waiting) > 20 and c.writes_accepted == accepted
    assert not set(waiting) & set(commands(server.node))
    before = len(commands(server.node))
    batches = []
    while server.pending_writes or c.env.peek() == c.now:
        pending = list(server.pending_writes)
        c.env.step()
        assert c.now == 5 * S + 400 * MS  # every batch is handed over at the resume instant
        taken = pending[:len(pending) - len(server.pending_writes)]
        if taken:
            batches.append(taken)
    assert [len(b) for b in batches[:-1]] == [5] * (len(batches) - 1) and 1 <= len(batches[-1]) <= 5
    assert [w for b in batches for w in b] == waiting  # in arrival order, none lost
    assert commands(server.node)[before:] == waiting
    assert c.writes_accepted == accepted + len(waiting) and c.leader() is server


def test_a_crash_rejects_the_writes_waiting_for_the_leader():
    c = make_cluster(3, seed=7, writes_per_second=100)
    c.run(5 * S)
    server = c.leader()
    assert server is not None
    c.pause(server.name, 400 * MS)
    c.run(5 * S + 200 * MS)
    waiting = len(server.pending_writes)
    assert waiting > 5
    accepted, rejected = c.writes_accepted, c.writes_rejected
    c.crash(server.name)
    assert server.pending_writes == [] and c.writes_rejected == rejected + waiting
    c.run(5 * S + 400 * MS + 1)  # the batch scheduled for the resume finds nothing to hand over
    assert c.writes_accepted == accepted


def test_a_new_rate_replaces_the_old_one_and_zero_stops_the_writes():
    c = make_cluster(3, seed=7)
    c.run(5 * S)
    c.set_load(10)
    c.set_load(10)  # replaces the first: still ten writes a second, not twenty
    assert c.writes_per_second == 10.0
    c.run(105 * S)
    writes = c.writes_accepted + c.writes_rejected
    assert 850 <= writes <= 1150 and c.writes_rejected == 0
    c.set_load(0)
    c.run(200 * S)
    assert c.writes_accepted + c.writes_rejected == writes and c.writes_per_second == 0.0
