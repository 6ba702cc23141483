"""The health endpoint body and status (docs/behaviour/autopilot.md §9.4)."""

from __future__ import annotations

import json

from autopilot_sim.autopilot.config import AutopilotConfig
from autopilot_sim.autopilot.model import (
    EMPTY_STATE,
    NODE_ALIVE,
    NODE_FAILED,
    NODE_LEFT,
    RaftServer,
    Server,
    ServerStats,
)
from autopilot_sim.autopilot.report import (
    ENTERPRISE_KEYS,
    HEALTH_KEYS,
    SERVER_KEYS,
    format_stable_since,
    health_body,
    health_status,
    serf_status,
)
from autopilot_sim.autopilot.state import TickInputs, build_state
from autopilot_sim.durations import SECOND, parse_rfc3339

ID1 = "e349749b-3303-3ddf-959c-b5885a0e1f6e"
ID2 = "e36ee410-cc3c-0a0c-c724-63817ab30303"
T1 = parse_rfc3339("2017-03-06T22:07:51.234Z")


def docs_like_state(**kw):
    """The cluster of the docs sample: a leader and a non-voter, both healthy."""
    known = {
        ID1: Server(ID1, "node1", "127.0.0.1:4647", NODE_ALIVE, "0.8.0"),
        ID2: Server(ID2, "node2", "127.0.0.1:4747", kw.pop("status2", NODE_ALIVE), "0.8.0"),
    }
    inputs = TickInputs(
        now=T1,
        config=kw.pop("config", AutopilotConfig()),
        raft_servers=(RaftServer(ID1, "127.0.0.1:4647", 0), RaftServer(ID2, "127.0.0.1:4747", 1)),
        known_servers=known,
        latest_index=46,
        last_term=2,
        fetched_stats={ID1: ServerStats(0, 2, 46), ID2: ServerStats(27_291_304, 2, 46)},
        leader_id=ID1,
        is_leader=True,
    )
    return build_state(inputs)


def test_body_matches_the_documented_sample():
    state = docs_like_state()
    body = health_body(state)
    assert body == {
        "Healthy": True,
        "FailureTolerance": 0,
        "Servers": [
            {
                "ID": ID1, "Name": "node1", "Address": "127.0.0.1:4647", "SerfStatus": "alive",
                "Version": "0.8.0", "Leader": True, "LastContact": "0s", "LastTerm": 2,
                "LastIndex": 46, "Healthy": True, "Voter": True,
                "StableSince": "2017-03-06T22:07:51Z",
            },
            {
                "ID": ID2, "Name": "node2", "Address": "127.0.0.1:4747", "SerfStatus": "alive",
                "Version": "0.8.0", "Leader": False, "LastContact": "27.291304ms", "LastTerm": 2,
                "LastIndex": 46, "Healthy": True, "Voter": False,
                "StableSince": "2017-03-06T22:07:51Z",
            },
        ],
        "Leader": ID1,
        "Voters": [ID1],
    }
    assert health_status(state) == 200


def test_key_order_and_types():
    body = health_body(docs_like_state())
    assert tuple(body) == HEALTH_KEYS == ("Healthy", "FailureTolerance", "Servers", "Leader", "Voters")
    for entry in body["Servers"]:
        assert tuple(entry) == SERVER_KEYS
        assert isinstance(entry["LastContact"], str) and isinstance(entry["StableSince"], str)
        assert isinstance(entry["LastTerm"], int) and isinstance(entry["LastIndex"], int)
        assert isinstance(entry["Leader"], bool) and isinstance(entry["Voter"], bool)
    assert not set(ENTERPRISE_KEYS) & set(body)  # community edition omits enterprise keys
    json.dumps(body)  # serialisable as is


def test_stable_since_rounding_half_up_to_the_second_utc():
    assert format_stable_since(parse_rfc3339("2017-03-06T22:07:51.499999999Z")) == "2017-03-06T22:07:51Z"
    assert format_stable_since(parse_rfc3339("2017-03-06T22:07:51.5Z")) == "2017-03-06T22:07:52Z"
    assert format_stable_since(parse_rfc3339("2017-03-06T23:59:59.9Z")) == "2017-03-07T00:00:00Z"
    assert format_stable_since(parse_rfc3339("2017-03-07T01:00:00.7+02:00")) == "2017-03-06T23:00:01Z"


def test_unhealthy_cluster_is_429_with_body():
    state = docs_like_state(config=AutopilotConfig(last_contact_threshold=-SECOND))
    body = health_body(state)
    assert health_status(state) == 429
    assert body["Healthy"] is False
    assert [s["Healthy"] for s in body["Servers"]] == [False, False]


def test_serf_status_mapping():
    assert [serf_status(s) for s in (NODE_ALIVE, NODE_LEFT, NODE_FAILED, "unknown", "")] == [
        "alive", "left", "failed", "none", "none",
    ]
    state = docs_like_state(status2=NODE_FAILED)
    assert health_body(state)["Servers"][1]["SerfStatus"] == "failed"


def test_empty_state_shape():
    body = health_body(EMPTY_STATE)
    assert body == {"Healthy": False, "FailureTolerance": 0, "Servers": None, "Leader": "", "Voters": []}
    assert health_status(EMPTY_STATE) == 429


def test_last_contact_formats():
    state = docs_like_state()
    body = health_body(state)
    assert [s["LastContact"] for s in body["Servers"]] == ["0s", "27.291304ms"]


def test_enterprise_variant():
    state = docs_like_state()
    body = health_body(state, enterprise=True)
    assert tuple(body) == HEALTH_KEYS + ENTERPRISE_KEYS
    assert body["ReadReplicas"] is None
    assert body["RedundancyZones"] == {}
    assert body["OptimisticFailureTolerance"] == 0
    assert body["Upgrade"] == {
        "Status": "idle",
        "TargetVersion": "0.8.0",
        "TargetVersionVoters": [ID1],
        "TargetVersionNonVoters": [ID2],
        "TargetVersionReadReplicas": None,
        "OtherVersionVoters": None,
        "OtherVersionNonVoters": None,
        "OtherVersionReadReplicas": None,
        "RedundancyZones": {},
    }
