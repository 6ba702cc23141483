"""The resolved scenario: every default written out, Go durations, RFC 3339, stable key order, and
loading it again gives an equal scenario."""

from __future__ import annotations

from pathlib import Path

import yaml

from autopilot_sim.scenario import Scenario, load_scenario, load_scenario_text

DEMO = Path(__file__).resolve().parents[1] / "scenarios" / "demo.yaml"

RICH = """\
name: rich
description: |
  Two lines
  of text.
duration: 1m30s
start_time: 2026-03-01T12:00:00.5Z
seed: 18446744073709551615
cluster:
  servers:
    - {name: a, version: 1.10.0, redundancy_zone: z1, upgrade_version: "2"}
    - {name: b, non_voting: true}
    - name: c
  enterprise: true
  nomad_version: "2.0"
raft:
  raft_multiplier: 2
  disk_write_latency: {distribution: lognormal, median: 1500us, sigma: 0.5}
  election_timeout_range: [150ms, 300ms]
  heartbeat_interval: 75ms
network:
  latency: {distribution: normal, mean: 2ms, stddev: 500us}
  links:
    - {from: a, to: b, latency: {distribution: constant, value: 40ms}, loss: 0.05}
load: {writes_per_second: 12.5}
autopilot: {enable_redundancy_zones: true, min_quorum: 2}
acl:
  enabled: true
  anonymous: operator-read
  tokens:
    - {name: admin, secret: 9c4e8a07-admin, policy: management}
events:
  - {at: 5s, pause: {server: "follower[1]", for: 5s}}
  - {at: 10s, partition: [[leader], [c, b]]}
  - {at: 12s, cut: {from: a, to: b}}
  - {at: 20s, heal: {from: a, to: b}}
  - {at: 21s, heal: all}
  - {at: 22s, set_network: {loss: 0.1, links: []}}
  - {at: 25s, set_load: {writes_per_second: 200}}
  - {at: 30s, join: {name: d}}
  - {at: 40s, upgrade: {server: a, version: 2.0.1, upgrade_version: "3"}}
  - {at: 41s, set_autopilot: {max_trailing_logs: 0}}
  - {at: 50s, leave: d}
  - {at: 55s, force_leave: c}
  - {at: 56s, crash: "voter[1]"}
  - {at: 57s, restart: "voter[1]"}
  - {at: 1m, upgrade: {server: b, version: 2.0.2, down_for: 5s}}
  - {at: 1m10s, rolling_restart: {servers: [a, c], order: followers-first, interval: 5s, down_for: 3s, version: 2.0.3}}
expect:
  - {at: 9s, healthy: true, failure_tolerance: 1, leader: any, voters: {min: 2}}
  - within: [30s, 45s]
    servers:
      d: {serf_status: alive, voter: false}
  - {always: [0s, 1m30s], leader: a}
"""


def test_rich_scenario_round_trips_to_an_equal_scenario():
    original = load_scenario_text(RICH)
    text = original.to_resolved_yaml()
    again = load_scenario_text(text, filename="scenario.yaml")
    assert again == original
    assert again.to_resolved_yaml() == text  # a fixed point


def test_minimal_and_demo_round_trip():
    for scenario in (load_scenario_text("name: m\nduration: 1h\n"), load_scenario(DEMO)):
        assert load_scenario_text(scenario.to_resolved_yaml()) == scenario


def test_resolved_text_has_every_default_in_go_and_rfc3339_form():
    text = load_scenario_text("name: m\nduration: 90s\n").to_resolved_yaml()
    data = yaml.safe_load(text)
    assert list(data) == ["version", "name", "description", "seed", "duration", "start_time", "cluster",
                          "raft", "gossip", "network", "load", "autopilot", "acl", "events", "expect"]
    assert data["duration"] == "1m30s"
    assert text.count("start_time: '2026-01-01T00:00:00Z'") == 1
    assert data["raft"]["leader_lease_timeout"] == "500ms"
    assert data["gossip"]["reconnect_timeout"] == "72h0m0s"
    assert data["network"]["latency"] == {"distribution": "uniform", "min": "1ms", "max": "5ms"}
    assert data["autopilot"]["server_stabilization_time"] == "10s"
    assert data["cluster"]["bootstrap_expect"] == 3
    assert data["cluster"]["servers"][0] == {"name": "node1", "version": "1.11.0", "redundancy_zone": "",
                                            "upgrade_version": "", "non_voting": False}
    assert "disk_write_latency" not in data["raft"]  # unset optional keys are left out, not null


def test_resolved_text_is_deterministic_and_readable():
    a = load_scenario_text(RICH).to_resolved_yaml()
    b = load_scenario_text(RICH).to_resolved_yaml()
    assert a == b
    assert a.startswith("# Resolved scenario")
    assert "- {at: 5s, pause: {server: 'follower[1]', for: 5s}}\n" in a  # one line per event
    assert "description: |\n  Two lines\n  of text.\n" in a
    assert "start_time: '2026-03-01T12:00:00.5Z'" in a
    assert "median: 1.5ms" in a and "stddev: 500µs" in a


def test_to_resolved_dict_matches_the_yaml():
    scenario: Scenario = load_scenario_text(RICH)
    assert yaml.safe_load(scenario.to_resolved_yaml()) == scenario.to_resolved_dict()
