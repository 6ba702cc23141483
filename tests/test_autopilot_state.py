"""build_state: merge order, health, StableSince, cluster fields (docs/behaviour/autopilot.md
§2–§5, §12.3)."""

from __future__ import annotations

import dataclasses

import pytest

from autopilot_sim.autopilot.config import AutopilotConfig
from autopilot_sim.autopilot.model import (
    NODE_ALIVE,
    NODE_FAILED,
    NODE_LEFT,
    RaftServer,
    Server,
    ServerStats,
)
from autopilot_sim.autopilot.state import (
    TickInputs,
    build_state,
    leader_id_from,
    leader_reference,
    servers_to_fetch,
)
from autopilot_sim.durations import MILLISECOND, SECOND, parse_rfc3339

NOW = parse_rfc3339("2020-11-02T15:00:00Z")
FIRST = parse_rfc3339("2020-11-02T13:12:34Z")
CONFIG = AutopilotConfig(
    cleanup_dead_servers=True,
    last_contact_threshold=200 * MILLISECOND,
    max_trailing_logs=200,
    min_quorum=3,
    server_stabilization_time=10 * SECOND,
)
IDS = ("n1", "n2", "n3")


def raft(suffrages=(0, 0, 0), ids=IDS):
    pairs = zip(ids, suffrages, strict=True)
    return tuple(RaftServer(i, f"198.18.0.{k + 1}:4647", s) for k, (i, s) in enumerate(pairs))


def known(ids=IDS, status=NODE_ALIVE, **overrides):
    out = {}
    for k, i in enumerate(ids):
        out[i] = Server(
            id=i, name=f"node{k + 1}.global", address=f"198.18.0.{k + 1}:4647",
            node_status=overrides.get(i, status), version="1.9.0", raft_version=3,
        )
    return out


def stats(**per_id):
    return {i: ServerStats(c, t, x) for i, (c, t, x) in per_id.items()}


TYPICAL_STATS = stats(n1=(0, 3, 1024), n2=(10 * MILLISECOND, 3, 1000), n3=(15 * MILLISECOND, 3, 999))


def inputs(**kw):
    base = {
        "now": NOW, "first_state_time": FIRST, "config": CONFIG, "raft_servers": raft(),
        "known_servers": known(), "latest_index": 1024, "last_term": 3,
        "fetched_stats": TYPICAL_STATS, "leader_id": "n1", "is_leader": True,
    }
    base.update(kw)
    return TickInputs(**base)


# --- §12.3, restated with concrete assertions (the fixtures run in test_autopilot_conformance) --


def test_typical():
    s = build_state(inputs())
    assert s.healthy is True
    assert s.failure_tolerance == 1
    assert s.leader == "n1"
    assert s.voters == ("n1", "n2", "n3")
    assert [s.servers[i].state for i in IDS] == ["leader", "voter", "voter"]
    assert all(srv.health.stable_since == NOW for srv in s.servers.values())
    assert all(srv.server.node_type == "voter" for srv in s.servers.values())
    assert s.servers["n1"].server.is_leader is True
    assert s.servers["n2"].server.is_leader is False
    assert s.first_state_time == FIRST


def test_one_failed():
    st = dict(TYPICAL_STATS)
    st["n3"] = ServerStats(200 * MILLISECOND + 1234, 3, 801)
    s = build_state(inputs(fetched_stats=st))
    assert s.servers["n3"].health.healthy is False
    assert s.healthy is False
    assert s.failure_tolerance == 0
    assert s.voters == ("n1", "n2", "n3")  # healthy n2 before unhealthy n3


@pytest.mark.parametrize("suffrage,label", [(1, "non-voter"), (2, "staging")])
def test_non_voter_and_staging(suffrage, label):
    s = build_state(inputs(raft_servers=raft((0, 0, suffrage))))
    assert s.servers["n3"].state == label
    assert s.servers["n3"].health.healthy is True
    assert s.healthy is True
    assert s.failure_tolerance == 0  # 2 voters, quorum 2
    assert s.voters == ("n1", "n2")


def test_no_leader():
    s = build_state(inputs(leader_id="", is_leader=False))
    assert s.leader == ""
    assert not any(srv.health.healthy for srv in s.servers.values())
    assert s.healthy is False and s.failure_tolerance == 0
    assert s.voters == ("n1", "n2", "n3")
    assert s.servers["n1"].state == "voter"


def test_not_the_leader_takes_reference_from_leader_stats():
    st = dict(TYPICAL_STATS)
    st["n3"] = ServerStats(15 * MILLISECOND, 3, 500)
    inp = inputs(fetched_stats=st, is_leader=False, latest_index=500)
    assert leader_reference(inp) == (3, 1024)
    s = build_state(inp)
    assert s.servers["n3"].health.healthy is False  # 524 behind the leader's 1024
    assert s.servers["n2"].health.healthy is True
    assert s.healthy is False and s.failure_tolerance == 0
    assert s.voters == ("n1", "n2", "n3")


def test_state_overrides():
    previous = build_state(inputs())
    renamed = {i: dataclasses.replace(srv, name=f"{i}-override") for i, srv in known().items()}
    moved = (RaftServer("n1", "198.18.0.1:4647", 0), RaftServer("n2", "198.18.0.6:4647", 0),
             RaftServer("n3", "198.18.0.7:4647", 0))
    st = {"n1": ServerStats(0, 3, 1024), "n2": ServerStats(SECOND, 3, 1000)}  # n3's fetch failed
    s = build_state(inputs(raft_servers=moved, known_servers=renamed, fetched_stats=st), previous)
    assert s.servers["n3"].stats == ServerStats(15 * MILLISECOND, 3, 999)  # stale stats kept
    assert s.servers["n3"].health.healthy is True
    assert s.servers["n2"].health.healthy is False  # 1s > 200ms
    assert s.servers["n2"].server.address == "198.18.0.6:4647"  # Raft address wins
    assert s.servers["n3"].server.address == "198.18.0.7:4647"
    assert s.servers["n2"].server.name == "n2-override"  # name from the application
    assert s.healthy is False and s.failure_tolerance == 0
    assert s.voters == ("n1", "n3", "n2")


# --- merge rules -----------------------------------------------------------------------------


def test_only_raft_configuration_servers_appear():
    extra = known(ids=IDS + ("n4",))
    s = build_state(inputs(known_servers=extra))
    assert list(s.servers) == ["n1", "n2", "n3"]


def test_unknown_server_is_left_and_unhealthy_and_keeps_previous_fields():
    previous = build_state(inputs())
    k = known()
    del k["n3"]
    s = build_state(inputs(known_servers=k, now=NOW + 2 * SECOND), previous)
    n3 = s.servers["n3"]
    assert n3.server.node_status == NODE_LEFT
    assert n3.server.name == "node3.global"  # carried from the previous state
    assert n3.health.healthy is False
    never_seen = build_state(inputs(known_servers=k))
    assert never_seen.servers["n3"].server.name == ""
    assert never_seen.servers["n3"].server.node_status == NODE_LEFT


def test_new_server_without_stats_has_zero_stats():
    s = build_state(inputs(fetched_stats={"n1": ServerStats(0, 3, 1024)}))
    assert s.servers["n2"].stats == ServerStats(0, 0, 0)
    assert s.servers["n2"].health.healthy is False


def test_failed_status_is_unhealthy():
    s = build_state(inputs(known_servers=known(n2=NODE_FAILED)))
    assert s.servers["n2"].health.healthy is False
    assert s.failure_tolerance == 0


# --- StableSince (§4) ------------------------------------------------------------------------


def _flip_sequence(intended: bool):
    """n3 healthy at t0, unhealthy at t0+2s, healthy again at t0+4s."""
    bad = dict(TYPICAL_STATS)
    bad["n3"] = ServerStats(SECOND, 3, 999)
    s0 = build_state(inputs(), intended_stable_since=intended)
    s1 = build_state(inputs(now=NOW + 2 * SECOND, fetched_stats=bad), s0, intended_stable_since=intended)
    s2 = build_state(inputs(now=NOW + 4 * SECOND), s1, intended_stable_since=intended)
    return s0, s1, s2


def test_stable_since_real_v016_only_changes_for_new_servers():
    _s0, s1, s2 = _flip_sequence(intended=False)
    assert s1.servers["n3"].health.healthy is False
    assert s1.servers["n3"].health.stable_since == NOW  # health flipped, StableSince kept
    assert s2.servers["n3"].health.stable_since == NOW


def test_stable_since_intended_rule_is_opt_in():
    _s0, s1, s2 = _flip_sequence(intended=True)
    assert s1.servers["n3"].health.stable_since == NOW + 2 * SECOND
    assert s2.servers["n3"].health.stable_since == NOW + 4 * SECOND


def test_stable_since_set_when_server_new_to_state():
    s0 = build_state(inputs(raft_servers=raft(ids=("n1", "n2", "n3"))))
    k = known(ids=IDS + ("n4",))
    r4 = raft() + (RaftServer("n4", "198.18.0.4:4647", 1),)
    s1 = build_state(inputs(now=NOW + 2 * SECOND, raft_servers=r4, known_servers=k), s0)
    assert s1.servers["n4"].health.stable_since == NOW + 2 * SECOND
    assert s1.servers["n1"].health.stable_since == NOW


def test_first_state_time_defaults_to_previous_then_now():
    s0 = build_state(inputs(first_state_time=None))
    assert s0.first_state_time == NOW
    s1 = build_state(inputs(first_state_time=None, now=NOW + 2 * SECOND), s0)
    assert s1.first_state_time == NOW


def test_first_state_time_zero_epoch_is_not_mistaken_for_unset():
    s0 = build_state(inputs(first_state_time=None, now=0))
    s1 = build_state(inputs(first_state_time=None, now=2 * SECOND), s0)
    assert s1.first_state_time == 0


def test_healthy_leader_alone():
    # §12.7: single-server cluster: healthy, FT 0, Voters [self].
    one = (RaftServer("n1", "127.0.0.1:4647", 0),)
    s = build_state(inputs(raft_servers=one, known_servers=known(ids=("n1",)),
                           fetched_stats={"n1": ServerStats(0, 3, 1024)}))
    assert (s.healthy, s.failure_tolerance, s.voters, s.leader) == (True, 0, ("n1",), "n1")


def test_negative_threshold_single_server_unhealthy():
    one = (RaftServer("n1", "127.0.0.1:4647", 0),)
    cfg = dataclasses.replace(CONFIG, last_contact_threshold=-SECOND)
    s = build_state(inputs(config=cfg, raft_servers=one, known_servers=known(ids=("n1",)),
                           fetched_stats={"n1": ServerStats(0, 3, 1024)}))
    assert s.healthy is False
    assert s.servers["n1"].health.healthy is False


def test_state_is_not_mutated_by_the_next_tick():
    s0 = build_state(inputs())
    snapshot = dict(s0.servers)
    bad = dict(TYPICAL_STATS)
    bad["n2"] = ServerStats(SECOND, 3, 1000)
    build_state(inputs(now=NOW + 2 * SECOND, fetched_stats=bad), s0)
    assert dict(s0.servers) == snapshot
    assert s0.servers["n2"].health.healthy is True


# --- helpers ---------------------------------------------------------------------------------


def test_leader_id_from_and_servers_to_fetch():
    k = known(n3=NODE_LEFT)
    assert leader_id_from(k, raft(), "198.18.0.2:4647") == "n2"
    assert leader_id_from(k, raft(), "") == ""
    k["n1"] = dataclasses.replace(k["n1"], is_leader=True)
    assert leader_id_from(k, raft(), "198.18.0.2:4647") == "n1"  # application's flag wins
    assert sorted(servers_to_fetch(known(n2=NODE_FAILED, n3=NODE_LEFT))) == ["n1", "n2"]
