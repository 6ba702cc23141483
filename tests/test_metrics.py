"""Operator metrics in summary.json (autopilot_sim.sim.metrics), on runs with known answers.

Library scenarios give the timings their header comments derive (a follower crash: serf's
verdict 30-60 s after the crash, removal at the next 10 s reconcile tick); small inline
scenarios pin the exact answers of the quorum rule (partitions, one-way cuts, pauses).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from autopilot_sim.scenario import load_scenario, load_scenario_text
from autopilot_sim.sim.metrics import detection_floor_ns, scenario_metrics
from autopilot_sim.sim.runner import RunResult, Simulation

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
SECOND = 1_000_000_000


def _run(name: str) -> RunResult:
    return Simulation(load_scenario(SCENARIOS / f"{name}.yaml")).run()


def _inline(events: str, servers: int = 5, duration: str = "2m") -> RunResult:
    text = f"""version: 1
name: metrics-inline
seed: 3
duration: {duration}
cluster: {{servers: {servers}}}
load: {{writes_per_second: 1}}
events:
{events}
"""
    return Simulation(load_scenario_text(text, "inline.yaml")).run()


def _t(result: RunResult, kind: str, **match: object) -> float:
    for e in result.recorder.events:
        if e["kind"] == kind and all(e.get(k) == v for k, v in match.items()):
            return e["t_ns"] / SECOND
    raise AssertionError(f"no {kind} event matching {match}")


@pytest.fixture(scope="module")
def follower_crash() -> RunResult:
    return _run("follower-crash-cleanup")


@pytest.fixture(scope="module")
def leader_crash() -> RunResult:
    return _run("leader-crash")


def test_follower_crash_episode(follower_crash: RunResult) -> None:
    s = follower_crash.summary
    [ep] = s["down_episodes"]
    assert (ep["server"], ep["cause"], ep["at_s"], ep["ended_s"]) == ("node5", "crash", 30.0, None)
    assert ep["down_s"] == 90.0  # cut at the end of the 2 m run
    assert 30 <= ep["serf_failed_after_s"] <= 60
    # The leader's serf verdict is the serf_member event the leader received.
    assert ep["serf_failed_after_s"] == pytest.approx(
        _t(follower_crash, "serf_member", server="node5", status="failed") - 30, abs=1e-9)
    # Unhealthy at the next update tick (2 s) after serf's verdict.
    assert 0 < ep["unhealthy_after_s"] - ep["serf_failed_after_s"] <= 2.0
    # Removed at the next 10 s reconcile tick after the verdict (plus the commit's milliseconds).
    assert 0 < ep["removed_after_s"] - ep["serf_failed_after_s"] <= 10.1
    started = _t(follower_crash, "autopilot_started")
    phase = (30 + ep["removed_after_s"] - started) % 10
    assert phase < 0.05
    # The report in force called it healthy from the crash until the first unhealthy report.
    assert ep["reported_healthy_while_down_s"] == pytest.approx(ep["unhealthy_after_s"], abs=1e-9)
    assert s["quorum_lost"] is False and s["quorum_lost_s"] == 0.0
    assert s["longest_leaderless_s"] == 0.0  # only the bootstrap election, which is excluded
    counts = s["health_status_counts"]
    assert set(counts) == {"200", "429", "500"} and sum(counts.values()) == s["health_reports"]
    assert counts["500"] == 0 and counts["429"] >= 1


def test_leader_crash_metrics(leader_crash: RunResult) -> None:
    s = leader_crash.summary
    [ep] = s["down_episodes"]
    assert ep["server"] == "node2" and ep["at_s"] == 55.0
    assert 30 <= ep["serf_failed_after_s"] <= 60  # the *new* leader's serf
    new_leader = next(e["server"] for e in leader_crash.recorder.events
                      if e["kind"] == "leader_elected" and e["t_ns"] > 55 * SECOND)
    failed = [e for e in leader_crash.recorder.events if e["kind"] == "serf_member" and e.get("status") == "failed"]
    assert failed[0]["observer"] == new_leader
    assert 0 < ep["removed_after_s"] - ep["serf_failed_after_s"] <= 10.1
    # One leaderless stretch after the crash: the election, well under the 10 s update interval
    # scale; the summary's total also holds the bootstrap election.
    elected = _t(leader_crash, "leader_elected", server=new_leader)
    assert s["longest_leaderless_s"] == pytest.approx(elected - 55, abs=1e-9)
    assert s["time_without_leader_s"] > s["longest_leaderless_s"]
    assert s["health_status_counts"]["500"] >= 1
    # A 500 report is not "failure tolerance 0": the minimum is over reports with a leader.
    assert s["failure_tolerance_min"] == 1
    assert s["quorum_lost"] is False


def test_partition_into_minorities_loses_quorum_for_exactly_its_length() -> None:
    result = _inline("""  - {at: 20s, partition: [[node1, node2], [node3, node4]]}
  - {at: 50s, heal: all}""")
    s = result.summary
    assert s["quorum_lost"] is True
    assert s["quorum_lost_s"] == 30.0
    assert s["down_episodes"] == []
    assert s["longest_leaderless_s"] > 0


def test_partition_keeping_a_majority_keeps_quorum() -> None:
    s = _inline("  - {at: 20s, partition: [[node1, node2], [node3, node4, node5]]}").summary
    assert s["quorum_lost"] is False and s["quorum_lost_s"] == 0.0


def test_quorum_needs_two_way_links_to_one_server() -> None:
    # 3 voters, quorum 2. Cutting 1->2 and 2->3 leaves 1<->3 two-way: quorum held. Cutting
    # 3->1 as well leaves no pair that talks both ways: lost until the heal.
    s = _inline("""  - {at: 10s, cut: {from: node1, to: node2}}
  - {at: 10s, cut: {from: node2, to: node3}}
  - {at: 30s, cut: {from: node3, to: node1}}
  - {at: 45s, heal: {from: node1, to: node3}}""", servers=3).summary
    assert s["quorum_lost_s"] == 15.0
    # A gossip-only cut never costs Raft its quorum.
    s = _inline("""  - {at: 10s, cut: {from: node1, to: node2, traffic: gossip}}
  - {at: 10s, cut: {from: node2, to: node1, traffic: gossip}}
  - {at: 10s, cut: {from: node1, to: node3, traffic: gossip}}
  - {at: 10s, cut: {from: node3, to: node1, traffic: gossip}}""", servers=3).summary
    assert s["quorum_lost"] is False


def test_pauses() -> None:
    floor = detection_floor_ns(5 * SECOND, 3 * SECOND, 6, 5)
    assert floor == 33 * SECOND  # probe timeout 3 s + 6 x log10(5)->1 x 5 s
    result = _inline("""  - {at: 10s, pause: {server: node4, for: 10s}}
  - {at: 30s, pause: {server: node5, for: 70s}}
  - {at: 105s, pause: {server: node1, for: 5s}}
  - {at: 105s, pause: {server: node2, for: 5s}}
  - {at: 105s, pause: {server: node3, for: 5s}}""")
    s = result.summary
    # Only the pause longer than the gossip failure-detection floor is a down episode.
    [ep] = s["down_episodes"]
    assert (ep["server"], ep["cause"], ep["at_s"], ep["ended_s"], ep["down_s"]) == ("node5", "pause", 30.0, 100.0, 70.0)
    assert ep["serf_failed_after_s"] is None or 33 <= ep["serf_failed_after_s"] <= 70
    # Three of five voters paused together: no quorum for those 5 s, short pauses included.
    assert s["quorum_lost_s"] == 5.0


def test_metrics_recompute_from_the_run_files(follower_crash: RunResult, tmp_path: Path) -> None:
    import json

    out = follower_crash.write(tmp_path / "run")
    events = [json.loads(line) for line in (out / "events.jsonl").read_text().splitlines()]
    timeline = [json.loads(line) for line in (out / "timeline.jsonl").read_text().splitlines()]
    recomputed = scenario_metrics(follower_crash.scenario, events, timeline, follower_crash.summary["duration_ns"])
    summary = json.loads((out / "summary.json").read_text())
    assert {k: summary[k] for k in recomputed} == recomputed


def test_printed_summary_shows_the_operator_metrics(follower_crash: RunResult) -> None:
    from autopilot_sim.narrate import summary_table

    text = "\n".join(summary_table(follower_crash.summary))
    assert "quorum lost" in text and "health reports 200 / 429 / 500" in text
    assert "node5 crash at 30s" in text and "serf failed +36.994s" in text
