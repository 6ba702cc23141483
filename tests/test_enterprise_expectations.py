"""The Enterprise expectation checks: accepted only in Enterprise scenarios, checked against the
Enterprise report fields, with readable failures."""

from __future__ import annotations

import pytest

from autopilot_sim.autopilot.enterprise import UPGRADE_STATUSES
from autopilot_sim.scenario import load_scenario_text
from autopilot_sim.scenario.errors import ScenarioError
from autopilot_sim.scenario.expectations import UpgradeStatus
from autopilot_sim.sim.expectations import evaluate
from autopilot_sim.sim.nomad import Report

BASE = """version: 1
name: t
duration: 1m
cluster:
  enterprise: {enterprise}
  servers:
    - {{name: a1{zone}}}
    - {{name: a2{zone}}}
expect:
  - at: 30s
{checks}
"""


def scenario(checks: str, enterprise: bool = True):
    zone = ", redundancy_zone: a" if enterprise else ""
    return load_scenario_text(BASE.format(enterprise=str(enterprise).lower(), zone=zone, checks=checks),
                              "t.yaml")


def test_status_vocabulary_matches_the_promoter():
    assert set(UpgradeStatus.__args__) == set(UPGRADE_STATUSES)


def test_enterprise_checks_are_refused_in_a_community_scenario():
    with pytest.raises(ScenarioError) as info:
        scenario("    upgrade_status: idle\n    redundancy_zones: {a: {voters: 1}}", enterprise=False)
    text = str(info.value)
    assert "t.yaml:11:" in text and "upgrade_status checks an Enterprise field" in text
    assert "redundancy_zones checks an Enterprise field" in text


def test_zone_check_needs_a_check_and_status_a_known_value():
    with pytest.raises(ScenarioError) as info:
        scenario("    redundancy_zones: {a: {}}")
    assert "a zone check needs at least one of servers, voters, failure_tolerance" in str(info.value)
    with pytest.raises(ScenarioError) as info:
        scenario("    upgrade_status: upgrading")
    assert "await-new-voters" in str(info.value)


def _report(body):
    return Report(30_000_000_000, 200, body, {})


BODY = {
    "Healthy": True, "FailureTolerance": 0, "Servers": [], "Leader": "a1", "Voters": ["a1"],
    "ReadReplicas": ["r1"],
    "RedundancyZones": {"a": {"Servers": ["a1", "a2"], "Voters": ["a1"], "FailureTolerance": 1}},
    "Upgrade": {"Status": "await-new-voters", "TargetVersion": "1.12.0"},
    "OptimisticFailureTolerance": 1,
}


def test_enterprise_checks_hold_and_fail_with_readable_details():
    sc = scenario("    upgrade_status: await-new-voters\n    target_version: 1.12.0\n"
                  "    optimistic_failure_tolerance: {min: 1}\n    read_replicas: 1\n"
                  "    redundancy_zones: {a: {servers: 2, voters: 1, failure_tolerance: 1}}")
    [result] = evaluate(sc.expect, [_report(BODY)])
    assert result.passed, result.detail
    sc = scenario("    upgrade_status: idle\n    read_replicas: 0\n"
                  "    redundancy_zones: {a: {voters: 2}, b: {servers: 1}}")
    [result] = evaluate(sc.expect, [_report(BODY)])
    assert not result.passed
    assert result.detail == ("upgrade_status is await-new-voters, expected idle; read_replicas is 1, "
                             "expected 0; zone a.voters is 1, expected 2; zone b.servers is 0, "
                             "expected 1 (zone not in the report)")
