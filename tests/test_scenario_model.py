"""The scenario model: real defaults, count expansion, typed payloads, accessors for the engine."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from autopilot_sim.durations import HOUR, MILLISECOND, SECOND, parse_rfc3339
from autopilot_sim.scenario import (
    EVENT_KINDS,
    AutopilotPatch,
    ConstantDistribution,
    CutSpec,
    Event,
    IntRange,
    LognormalDistribution,
    NetworkPatch,
    NetworkSpec,
    PauseSpec,
    RaftSpec,
    RaftTimings,
    Scenario,
    ServerSpec,
    TargetRef,
    UniformDistribution,
    count_matches,
    load_scenario,
    load_scenario_text,
    mean_delay,
    parse_target,
)

MINIMAL = "name: minimal\nduration: 2m\n"
DEMO = Path(__file__).resolve().parents[1] / "scenarios" / "demo.yaml"


@pytest.fixture(scope="module")
def minimal() -> Scenario:
    return load_scenario_text(MINIMAL)


def test_top_level_defaults(minimal):
    assert minimal.version == 1
    assert minimal.name == "minimal"
    assert minimal.description == ""
    assert minimal.seed == 1
    assert minimal.duration == 120 * SECOND
    assert minimal.start_time == parse_rfc3339("2026-01-01T00:00:00Z") == 1_767_225_600 * SECOND
    assert minimal.events == [] and minimal.expect == []


def test_cluster_defaults_three_servers(minimal):
    cluster = minimal.cluster
    assert [s.name for s in cluster.servers] == ["node1", "node2", "node3"]
    assert all(s.version == "1.11.0" and not s.non_voting and s.redundancy_zone == "" for s in cluster.servers)
    assert cluster.bootstrap_expect == 3
    assert (cluster.region, cluster.enterprise, cluster.nomad_version) == ("global", False, "1.11")


def test_raft_defaults_are_hashicorp_raft_with_nomads_choices(minimal):
    raft = minimal.raft
    assert (raft.heartbeat_timeout, raft.election_timeout) == (1 * SECOND, 1 * SECOND)
    assert (raft.leader_lease_timeout, raft.commit_timeout) == (500 * MILLISECOND, 50 * MILLISECOND)
    assert raft.prevote is True
    assert (raft.raft_multiplier, raft.max_append_entries, raft.rpc_timeout) == (1, 64, 10 * SECOND)
    assert raft.disk_write_latency is None
    assert raft.election_timeout_range is None and raft.heartbeat_interval is None
    assert not raft.paper_timing


def test_gossip_defaults_are_memberlist_wan_and_serf_with_nomads_overrides(minimal):
    g = minimal.gossip
    assert (g.probe_interval, g.probe_timeout, g.indirect_checks) == (5 * SECOND, 3 * SECOND, 3)
    assert (g.suspicion_mult, g.suspicion_max_timeout_mult, g.retransmit_mult) == (6, 6, 4)
    assert (g.gossip_interval, g.gossip_nodes) == (500 * MILLISECOND, 4)
    assert (g.gossip_to_the_dead_time, g.push_pull_interval, g.tcp_timeout) == (60 * SECOND, 60 * SECOND, 30 * SECOND)
    assert g.awareness_max_multiplier == 8
    assert (g.reconnect_timeout, g.tombstone_timeout) == (72 * HOUR, 24 * HOUR)
    assert (g.reconnect_interval, g.reap_interval) == (30 * SECOND, 15 * SECOND)
    assert (g.broadcast_timeout, g.leave_propagate_delay) == (5 * SECOND, 1 * SECOND)


def test_network_load_autopilot_acl_defaults(minimal):
    assert minimal.network.latency == UniformDistribution(min=1 * MILLISECOND, max=5 * MILLISECOND)
    assert minimal.network.loss == 0.0 and minimal.network.links == []
    assert minimal.load.writes_per_second == 0.0
    ap = minimal.autopilot
    assert ap.config() == {
        "cleanup_dead_servers": True,
        "last_contact_threshold": 200 * MILLISECOND,
        "max_trailing_logs": 250,
        "min_quorum": 0,
        "server_stabilization_time": 10 * SECOND,
        "enable_redundancy_zones": False,
        "disable_upgrade_migration": False,
        "enable_custom_upgrades": False,
    }
    assert (ap.update_interval, ap.reconcile_interval) == (2 * SECOND, 10 * SECOND)
    assert (minimal.acl.enabled, minimal.acl.anonymous, minimal.acl.tokens) == (False, "none", [])


def test_autopilot_block_zero_means_default_like_nomads_agent():
    s = load_scenario_text(MINIMAL + "autopilot:\n  max_trailing_logs: 0\n  server_stabilization_time: 0s\n"
                                     "  last_contact_threshold: 0s\n  min_quorum: 0\n")
    assert s.autopilot.max_trailing_logs == 250
    assert s.autopilot.server_stabilization_time == 10 * SECOND
    assert s.autopilot.last_contact_threshold == 200 * MILLISECOND
    # ...but an API write (set_autopilot) stores a zero as given.
    s = load_scenario_text(MINIMAL + "events:\n  - {at: 1s, set_autopilot: {max_trailing_logs: 0}}\n")
    assert s.events[0].payload.changes() == {"max_trailing_logs": 0}


def test_server_count_expands_to_named_servers():
    s = load_scenario_text(MINIMAL + "cluster:\n  servers: 5\n")
    assert [srv.name for srv in s.cluster.servers] == ["node1", "node2", "node3", "node4", "node5"]
    assert s.cluster.bootstrap_expect == 5


def test_server_list_and_profile_default_versions():
    s = load_scenario_text(
        MINIMAL + "cluster:\n  nomad_version: \"2.0\"\n  enterprise: true\n  servers:\n"
        "    - {name: a, version: 1.10.0, redundancy_zone: z1, upgrade_version: \"2.1\"}\n"
        "    - {name: b, non_voting: true}\n"
        "events:\n  - {at: 5s, join: {name: c}}\n"
    )
    a, b = s.cluster.servers
    assert (a.version, a.redundancy_zone, a.upgrade_version) == ("1.10.0", "z1", "2.1")
    assert (b.version, b.non_voting) == ("2.0.0", True)
    assert s.events[0].join.version == "2.0.0"  # joins follow the profile too
    assert s.cluster.bootstrap_expect == 1  # voting servers only
    assert s.server_names() == ["a", "b", "c"]


def test_unquoted_nomad_version_float_is_accepted():
    assert load_scenario_text(MINIMAL + "cluster: {nomad_version: 2.0}\n").cluster.nomad_version == "2.0"
    assert load_scenario_text(MINIMAL + "cluster: {nomad_version: 1.11}\n").cluster.nomad_version == "1.11"


def test_raft_multiplier_scales_the_four_timeouts_only():
    raft = load_scenario_text(MINIMAL + "raft:\n  raft_multiplier: 3\n").raft
    assert raft.heartbeat_timeout == 1 * SECOND  # the base value is kept
    assert raft.effective() == RaftTimings(3 * SECOND, 3 * SECOND, 1500 * MILLISECOND, 150 * MILLISECOND)
    assert raft.max_append_entries == 64 and raft.rpc_timeout == 10 * SECOND


def test_paper_timing_and_disk_latency():
    raft = load_scenario_text(
        MINIMAL + "raft:\n  election_timeout_range: [150ms, 300ms]\n  heartbeat_interval: 75ms\n"
        "  disk_write_latency: {distribution: lognormal, median: 2ms, sigma: 0.5}\n"
    ).raft
    assert raft.paper_timing
    assert raft.election_timeout_range == (150 * MILLISECOND, 300 * MILLISECOND)
    assert raft.heartbeat_interval == 75 * MILLISECOND
    assert raft.disk_write_latency == LognormalDistribution(median=2 * MILLISECOND, sigma=0.5)


def test_distributions_and_their_means():
    net = load_scenario_text(
        MINIMAL + "network:\n  latency: {distribution: exponential, mean: 2ms}\n  loss: 0.01\n  links:\n"
        "    - {from: node1, to: node2, latency: {distribution: constant, value: 40ms}, loss: 0.05}\n"
        "    - {from: node2, to: node1}\n"
    ).network
    assert net.latency.distribution == "exponential" and net.latency.mean == 2 * MILLISECOND
    first, second = net.links
    assert (first.from_, first.to, first.loss) == ("node1", "node2", 0.05)
    assert first.latency == ConstantDistribution(value=40 * MILLISECOND)
    assert (second.latency, second.loss) == (None, None)  # inherit the network's
    assert mean_delay(UniformDistribution(min=0, max=10)) == 5
    assert mean_delay(net.latency) == 2 * MILLISECOND


def test_event_kind_payload_target_and_line():
    s = load_scenario_text(
        MINIMAL + "cluster: {servers: 5}\nevents:\n"
        "  - {at: 1s, crash: leader}\n"                                   # line 4
        "  - {at: 2s, restart: leader}\n"
        "  - at: 3s\n    pause: {server: \"follower[2]\", for: 5s}\n"
        "  - {at: 10s, partition: [[leader], [node4, node5]]}\n"
        "  - {at: 11s, cut: {from: node1, to: node2}}\n"
        "  - {at: 12s, heal: {from: node1, to: node2}}\n"
        "  - {at: 13s, heal: all}\n"
        "  - {at: 14s, set_network: {loss: 0.2}}\n"
        "  - {at: 15s, set_load: {writes_per_second: 2000}}\n"
        "  - {at: 16s, leave: node2}\n"
        "  - {at: 17s, force_leave: node2}\n"
        "  - {at: 18s, join: {name: node6, version: 1.10.1}}\n"
        "  - {at: 19s, upgrade: {server: node1, version: 1.11.0}}\n"
        "  - {at: 20s, set_autopilot: {max_trailing_logs: 50, last_contact_threshold: 1s}}\n"
        "  - {at: 21s, rolling_restart: {servers: [node3, node4]}}\n"
    )
    ev = s.events
    assert [e.kind for e in ev] == ["crash", "restart", "pause", "partition", "cut", "heal", "heal",
                                    "set_network", "set_load", "leave", "force_leave", "join", "upgrade",
                                    "set_autopilot", "rolling_restart"]
    assert {e.kind for e in ev} == set(EVENT_KINDS)
    assert [e.line for e in ev[:4]] == [5, 6, 7, 9]
    assert ev[0].at == 1 * SECOND and ev[0].payload == "leader" and ev[0].target == "leader"
    assert ev[2].payload == PauseSpec(server="follower[2]", **{"for": 5 * SECOND})
    assert ev[2].payload.for_ == 5 * SECOND and ev[2].target == "follower[2]"
    assert ev[3].payload == [["leader"], ["node4", "node5"]] and ev[3].target is None
    assert ev[4].payload == CutSpec(**{"from": "node1", "to": "node2"})
    assert ev[4].payload.traffic == "all"
    assert ev[5].payload.from_ == "node1" and ev[6].payload == "all"
    assert isinstance(ev[7].payload, NetworkPatch) and ev[7].payload.loss == 0.2
    assert ev[7].payload.apply_to(NetworkSpec()).loss == 0.2
    assert ev[8].payload.writes_per_second == 2000.0
    assert ev[9].target == "node2" and ev[10].target == "node2"
    assert ev[11].payload == ServerSpec(name="node6", version="1.10.1")
    assert (ev[12].target, ev[12].payload.version) == ("node1", "1.11.0")
    assert isinstance(ev[13].payload, AutopilotPatch)
    assert ev[13].payload.changes() == {"last_contact_threshold": 1 * SECOND, "max_trailing_logs": 50}


def test_targets_parse_into_names_and_roles():
    assert parse_target("node3") == TargetRef(name="node3")
    assert parse_target("leader") == TargetRef(role="leader", index=0)
    assert parse_target("follower[2]") == TargetRef(role="follower", index=2)
    assert parse_target("non-voter").is_role and not parse_target("node1").is_role


def test_expectation_modes_windows_and_checks():
    s = load_scenario_text(
        MINIMAL + "expect:\n"
        "  - {at: 29s, healthy: true, failure_tolerance: 1, leader: any, voters: 3}\n"
        "  - within: [30s, 45s]\n    leader: none\n"
        "  - always: [50s, 1m]\n    failure_tolerance: {min: 1}\n"
        "    servers:\n      node2: {serf_status: left, voter: false}\n"
    )
    at, within, always = s.expect
    assert (at.mode, at.start, at.end, at.line) == ("at", 29 * SECOND, 29 * SECOND, 4)
    assert (within.mode, within.start, within.end, within.line) == ("within", 30 * SECOND, 45 * SECOND, 5)
    assert (always.mode, always.start, always.end) == ("always", 50 * SECOND, 60 * SECOND)
    assert at.describe_when() == "at 29s" and always.describe_when() == "always [50s, 1m0s]"
    assert (at.healthy, at.failure_tolerance, at.leader, at.voters) == (True, 1, "any", 3)
    assert within.leader == "none" and within.healthy is None and within.servers == {}
    assert always.failure_tolerance == IntRange(min=1)
    assert always.servers["node2"].serf_status == "left" and always.servers["node2"].healthy is None
    assert count_matches(always.failure_tolerance, 1) and count_matches(always.failure_tolerance, 7)
    assert not count_matches(always.failure_tolerance, 0)
    assert count_matches(3, 3) and not count_matches(3, 2)


def test_start_time_parses_rfc3339_with_offsets():
    s = load_scenario_text(MINIMAL + "start_time: 2026-06-01T12:00:00.25+02:00\n")
    assert s.start_time == parse_rfc3339("2026-06-01T10:00:00.25Z")


def test_python_construction_uses_nanoseconds_and_runs_the_same_checks():
    s = Scenario(name="py", duration=60 * SECOND, events=[Event(at=5 * SECOND, crash="node1")])
    assert s.cluster.bootstrap_expect == 3 and s.events[0].kind == "crash" and s.events[0].line == 0
    with pytest.raises(ValidationError, match=r'events\[0\]\.crash: unknown server "node9"'):
        Scenario(name="py", duration=60 * SECOND, events=[Event(at=5 * SECOND, crash="node9")])
    with pytest.raises(ValidationError):
        RaftSpec(leader_lease_timeout=2 * SECOND)


def test_line_numbers_do_not_affect_equality():
    a = load_scenario_text(MINIMAL + "events:\n  - {at: 1s, crash: node1}\n")
    b = load_scenario_text("\n\n" + MINIMAL + "events:\n\n  - {at: 1s, crash: node1}\n")
    assert a.events[0].line != b.events[0].line
    assert a == b


def test_demo_scenario_is_what_the_brief_describes():
    s = load_scenario(DEMO)
    assert s.name == "demo" and s.duration == 180 * SECOND
    assert len(s.cluster.servers) == 5 and s.load.writes_per_second == 10
    assert [(e.at // SECOND, e.kind, e.payload) for e in s.events] == [
        (30, "crash", "follower"),
        (90, "restart", "follower"),
        (120, "partition", [["leader"]]),
        (150, "heal", "all"),
    ]
