"""Health rule, stability, failure tolerance and voter ordering (docs/behaviour/autopilot.md
§3–§5, §12.1–12.2)."""

from __future__ import annotations

import pytest

from autopilot_sim.autopilot.model import (
    NODE_ALIVE,
    NODE_FAILED,
    RAFT_LEADER,
    RAFT_NONVOTER,
    RAFT_VOTER,
    Server,
    ServerHealth,
    ServerState,
    ServerStats,
    State,
    failure_tolerance,
    is_healthy,
    is_stable,
    raft_state_for,
    required_quorum,
    sort_servers,
)
from autopilot_sim.durations import MILLISECOND, SECOND

# §12.1 — TestServerIsHealthy: MaxTrailingLogs 200, LastContactThreshold 100 ms,
# leader term 5, leader index 1000.
HEALTH_VECTORS = [
    ("ok", NODE_ALIVE, 99, 5, 801, (5, 1000), True),
    ("node-failed", NODE_FAILED, 99, 5, 801, (5, 1000), False),
    ("bad-raft-term", NODE_ALIVE, 99, 6, 801, (5, 1000), False),
    ("too-stale", NODE_ALIVE, 150, 5, 801, (5, 1000), False),
    ("index-too-old", NODE_ALIVE, 99, 5, 799, (5, 1000), False),
    ("no-leader", NODE_ALIVE, 99, 5, 801, (0, 0), False),
]


@pytest.mark.parametrize(
    "status,contact_ms,term,index,leader,expected",
    [v[1:] for v in HEALTH_VECTORS],
    ids=[v[0] for v in HEALTH_VECTORS],
)
def test_health_rule_upstream_vectors(status, contact_ms, term, index, leader, expected):
    server = Server(id="s", node_status=status)
    stats = ServerStats(last_contact=contact_ms * MILLISECOND, last_term=term, last_index=index)
    leader_term, leader_index = leader
    got = is_healthy(server, stats, leader_term, leader_index, 100 * MILLISECOND, 200)
    assert got is expected


@pytest.mark.parametrize(
    "contact,expected",
    [
        (100 * MILLISECOND, True),  # exactly the threshold is healthy
        (100 * MILLISECOND + 1, False),  # one ns over is not
        (0, True),
        (-1, False),  # negative contact is unhealthy
    ],
)
def test_last_contact_boundaries(contact, expected):
    stats = ServerStats(last_contact=contact, last_term=5, last_index=1000)
    assert is_healthy(Server("s", node_status=NODE_ALIVE), stats, 5, 1000, 100 * MILLISECOND, 0) is expected


@pytest.mark.parametrize(
    "last_index,expected",
    [(800, True), (799, False), (1500, True)],  # lag == MaxTrailingLogs is healthy; ahead is fine
)
def test_trailing_logs_boundaries(last_index, expected):
    stats = ServerStats(last_contact=0, last_term=5, last_index=last_index)
    assert is_healthy(Server("s", node_status=NODE_ALIVE), stats, 5, 1000, SECOND, 200) is expected


def test_trailing_logs_uses_unsigned_wraparound_like_go():
    # LastIndex + MaxTrailingLogs overflows uint64 and wraps to a small number.
    stats = ServerStats(last_contact=0, last_term=5, last_index=10)
    assert is_healthy(Server("s", node_status=NODE_ALIVE), stats, 5, 1000, SECOND, (1 << 64) - 5) is False


def test_negative_threshold_makes_even_the_leader_unhealthy():
    # §12.7: LastContactThreshold -1s -> leader (LastContact 0) is unhealthy.
    stats = ServerStats(last_contact=0, last_term=2, last_index=10)
    assert is_healthy(Server("l", node_status=NODE_ALIVE), stats, 2, 10, -SECOND, 250) is False


def test_leaving_is_not_a_status_here_only_alive_counts():
    stats = ServerStats(last_contact=0, last_term=1, last_index=1)
    assert is_healthy(Server("s", node_status="unknown"), stats, 1, 1, SECOND, 0) is False
    assert is_healthy(Server("s", node_status="left"), stats, 1, 1, SECOND, 0) is False


# §12.2 — TestServerIsStable
def test_is_stable_vectors():
    now = 1_000 * SECOND
    assert is_stable(None, now, 10 * SECOND) is False
    assert is_stable(ServerHealth(False, now - 100 * SECOND), now, 10 * SECOND) is False
    assert is_stable(ServerHealth(True, now - SECOND), now, 10 * SECOND) is False
    assert is_stable(ServerHealth(True, now - 10 * SECOND), now, 10 * SECOND) is True
    assert ServerHealth(True, now - 10 * SECOND + 1).is_stable(now, 10 * SECOND) is False


@pytest.mark.parametrize(
    "voters,quorum,tolerance",
    [(1, 1, 0), (2, 2, 0), (3, 2, 1), (4, 3, 1), (5, 3, 2), (6, 4, 2), (7, 4, 3)],
)
def test_quorum_and_failure_tolerance_table(voters, quorum, tolerance):
    assert required_quorum(voters) == quorum
    assert failure_tolerance(voters, voters) == tolerance


@pytest.mark.parametrize("voters,healthy,expected", [(5, 4, 1), (5, 3, 0), (3, 2, 0), (4, 3, 0), (3, 0, 0)])
def test_failure_tolerance_with_unhealthy_voters(voters, healthy, expected):
    assert failure_tolerance(voters, healthy) == expected


def test_raft_state_labels():
    assert [raft_state_for(s) for s in (0, 1, 2, 7)] == ["voter", "non-voter", "staging", "none"]


def _srv(sid, role, healthy, since):
    return ServerState(Server(sid), role, ServerStats(), ServerHealth(healthy, since))


def test_sort_servers_orders_like_upstream():
    state = State(
        servers={
            s.id: s
            for s in [
                _srv("a-unhealthy-old", RAFT_VOTER, False, 10),
                _srv("b-unhealthy-new", RAFT_VOTER, False, 20),
                _srv("c-healthy-new", RAFT_VOTER, True, 20),
                _srv("d-healthy-old", RAFT_VOTER, True, 10),
                _srv("e-healthy-old", RAFT_VOTER, True, 10),
                _srv("z-leader", RAFT_LEADER, False, 50),
                _srv("0-nonvoter", RAFT_NONVOTER, True, 0),
            ]
        }
    )
    ordered = sort_servers(list(state.servers), state)
    assert ordered == [
        "z-leader",  # the leader first, even when unhealthy
        "d-healthy-old",  # healthy voters, longest stable first, ties by ID
        "e-healthy-old",
        "c-healthy-new",
        "b-unhealthy-new",  # unhealthy voters, most recent StableSince first
        "a-unhealthy-old",
        "0-nonvoter",  # non-voters last
    ]


def test_state_stabilization_time_waiver():
    # §12.2 TestServerStabilizationTime: SST 350 ms, waived right after the first state.
    first = 100 * SECOND
    state = State(first_state_time=first)
    sst = 350 * MILLISECOND
    assert state.server_stabilization_time(sst, first) == 0
    assert state.server_stabilization_time(sst, first + sst) == 0  # strictly greater needed
    assert state.server_stabilization_time(sst, first + sst + 1) == sst
    assert State().server_stabilization_time(sst, first) == sst  # no first state: long ago


def test_evolve_is_dataclasses_replace_for_every_record_type() -> None:
    """The state builder's fast copy must give exactly what dataclasses.replace gives."""
    import dataclasses

    from autopilot_sim.autopilot import model

    server = model.Server(id="a", name="a.global", address="a", node_status="alive", version="1.9.0",
                          meta={"role": "nomad"}, raft_version=3)
    stats = model.ServerStats(last_contact=5, last_term=2, last_index=9)
    health = model.ServerHealth(True, 123)
    records = [server, stats, health, model.ServerState(server, model.RAFT_VOTER, stats, health, True),
               model.State(servers={}, healthy=True, failure_tolerance=0, leader="a", voters=("a",),
                           first_state_time=1, built_at=2)]
    for record in records:
        fields = dataclasses.fields(record)  # type: ignore[arg-type]
        assert not hasattr(record, "__post_init__") and all(f.init for f in fields)
        assert type(record).__slots__ == tuple(f.name for f in fields)  # type: ignore[attr-defined]
        assert model.evolve(record) == record and model.evolve(record) is not record
        for f in fields:
            value = object()
            assert model.evolve(record, **{f.name: value}) == dataclasses.replace(record, **{f.name: value})
    with pytest.raises(TypeError, match="no field 'nope'"):
        model.evolve(server, nope=1)
