"""`health --at`, `explain --at`, the operator facts of the story, `run --json` and the help examples.

The known answer comes from scenarios/follower-crash-cleanup.yaml (seed 1): node5 crashes at
30s; the leader keeps its last fetched stats, so the reports call it healthy until serf marks it
failed (1m6.99s) and the next update tick (1m7.715703903s) shows it unhealthy.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from autopilot_sim.autopilot.model import (
    NODE_ALIVE,
    NODE_FAILED,
    Server,
    ServerStats,
    is_healthy,
    unhealthy_reason,
)
from autopilot_sim.cli import build_parser, main
from autopilot_sim.facts import down_server_facts, run_facts, unknown_peer_facts
from autopilot_sim.rundata import Run, config_at, load_run, report_index_at

REPO = Path(__file__).resolve().parents[1]
CRASH = REPO / "scenarios" / "follower-crash-cleanup.yaml"

RESTART_ALL = """\
version: 1
name: restart-all
seed: 1
duration: 60s
cluster:
  servers: 3
events:
  - {at: 10s, crash: node1}
  - {at: 10s, crash: node2}
  - {at: 10s, crash: node3}
  - {at: 20s, restart: node1}
  - {at: 20s, restart: node2}
  - {at: 40s, restart: node3}
"""


@pytest.fixture(scope="module")
def crash_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "crash"
    assert main(["run", str(CRASH), "--out", str(out), "--quiet"]) == 0
    return out


@pytest.fixture(scope="module")
def restart_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("restart")
    scenario = root / "restart-all.yaml"
    scenario.write_text(RESTART_ALL)
    out = root / "run"
    assert main(["run", str(scenario), "--out", str(out), "--quiet"]) == 0
    return out


# --- the shared health rule --------------------------------------------------------------------


def test_unhealthy_reason_names_the_first_failing_check_in_upstream_order() -> None:
    alive = Server(id="a", node_status=NODE_ALIVE)
    ok = ServerStats(last_contact=10_000_000, last_term=2, last_index=100)
    args = (2, 100, 200_000_000, 250)
    assert unhealthy_reason(alive, ok, *args) is None and is_healthy(alive, ok, *args)
    assert unhealthy_reason(alive, ok, 0, 100, 200_000_000, 250) == "no leader reference index or term yet"
    # serf status is checked before the stats, even when the stats are bad too
    failed = Server(id="a", node_status=NODE_FAILED)
    assert unhealthy_reason(failed, ServerStats(10**12, 1, 0), *args) == "serf status failed"
    assert unhealthy_reason(alive, ServerStats(200_000_001, 2, 100), *args) == \
        "last contact 200.000001ms > LastContactThreshold 200ms"
    assert unhealthy_reason(alive, ServerStats(200_000_000, 2, 100), *args) is None  # the threshold itself is fine
    assert unhealthy_reason(alive, ServerStats(1, 1, 100), *args) == "last log term 1 != the leader's 2"
    assert unhealthy_reason(alive, ServerStats(1, 2, 1000), 2, 1251, 200_000_000, 250) == \
        "251 entries behind > MaxTrailingLogs 250"
    assert unhealthy_reason(alive, ServerStats(1, 2, 1001), 2, 1251, 200_000_000, 250) is None


# --- health --at ---------------------------------------------------------------------------------


def test_health_before_serf_failed_shows_the_dead_server_healthy_on_stale_stats(
        crash_run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["health", str(crash_run), "--at", "45s"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "report at 43.71620755s (the last autopilot update tick at or before 45s; HTTP 200)"
    # nomad operator autopilot health's layout
    assert lines[1:5] == ["Healthy: true", "FailureTolerance: 2", "Leader: node2", "Voters:  "]
    header = next(line for line in lines if line.startswith("ID "))
    assert header.split() == ["ID", "Name", "Address", "SerfStatus", "Version", "Leader", "Voter", "Healthy",
                              "LastContact", "LastTerm", "LastIndex", "StableSince"]
    row = next(line for line in lines if line.startswith("node5 "))
    assert row.split()[:11] == ["node5", "node5.global", "node5", "alive", "1.11.0", "false", "true", "true",
                                "4.203098ms", "2", "38"]
    assert row.endswith("2026-01-01 00:00:02 +0000 UTC")
    why = out[out.index("Why ("):]
    assert "LastContactThreshold 200ms, MaxTrailingLogs 250, ServerStabilizationTime 10s" in why
    node5 = why[why.index("  node5"):]
    assert node5.startswith("  node5  healthy: serf alive; LastContact 4.203098ms ≤ 200ms")
    assert "LastIndex 38, 13 behind ≤ MaxTrailingLogs 250" in node5
    assert "its process is down since 30s" in node5
    assert "stale stats" in node5 and "serf has not declared it failed yet" in node5


def test_health_after_serf_failed_names_the_rule(crash_run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["health", str(crash_run), "--at", "1m8s"]) == 1  # 429: not healthy
    out = capsys.readouterr().out
    assert "HTTP 429" in out.splitlines()[0]
    assert "  node5  unhealthy: serf status failed; not stable" in out
    assert "  node1  healthy:" in out


@pytest.mark.parametrize("flag", ["-json", "--json"])
def test_health_json_is_the_recorded_body_byte_for_byte(crash_run: Path, capsys: pytest.CaptureFixture[str],
                                                        flag: str) -> None:
    assert main(["health", str(crash_run), "--at", "45s", flag]) == 0
    out = capsys.readouterr().out
    line = next(raw for raw in (crash_run / "timeline.jsonl").read_text(encoding="utf-8").splitlines()
                if raw.startswith('{"t_ns":43716207550,'))
    body = line[line.index('"health":') + len('"health":'):-1]
    assert out == body + "\n"


@pytest.mark.parametrize(("at", "message"), [
    ("3m", "--at 3m: outside the run:"),
    ("1s", "--at 1s: no health report yet at that time"),
    ("45", 'missing unit in duration "45"'),
])
def test_health_rejects_a_time_outside_the_run(crash_run: Path, capsys: pytest.CaptureFixture[str],
                                               at: str, message: str) -> None:
    assert main(["health", str(crash_run), "--at", at]) == 2
    err = capsys.readouterr().err
    assert err.startswith("autopilot-sim health: ") and message in err


def test_health_on_a_missing_run_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["health", str(tmp_path / "nope"), "--at", "1s"]) == 2
    assert "no run directory at" in capsys.readouterr().err


def test_health_during_an_election_is_a_500(restart_run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["health", str(restart_run), "--at", "15s"]) == 1
    out = capsys.readouterr().out
    assert "Unexpected response code: 500 (No cluster leader)" in out


def test_health_explains_a_peer_the_new_leader_does_not_know(restart_run: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["health", str(restart_run), "--at", "22s"]) == 1
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("node3 "))
    assert row.split()[1:4] == ["<none>", "node3", "left"]  # columnize prints an empty Name as <none>
    assert "node1's serf does not know node3" in out and "it has not necessarily left" in out


def test_config_at_follows_configuration_writes() -> None:
    run = Run(timeline=[], scenario={"autopilot": {"max_trailing_logs": 250, "last_contact_threshold": "200ms"}},
              events=[{"t_ns": 5, "t": "5ns", "kind": "config_write", "message": "",
                       "changes": {"max_trailing_logs": 10, "cleanup_dead_servers": "false"}},
                      {"t_ns": 9, "t": "9ns", "kind": "api_config_write", "message": "",
                       "config": {"LastContactThreshold": "1s", "MaxTrailingLogs": 7}}])
    assert config_at(run, 4).max_trailing_logs == 250
    assert config_at(run, 5).max_trailing_logs == 10 and config_at(run, 5).cleanup_dead_servers is False
    late = config_at(run, 9)  # an API write replaces the whole configuration
    assert late.max_trailing_logs == 7 and late.last_contact_threshold == 1_000_000_000
    assert late.server_stabilization_time == 0


# --- the operator facts ------------------------------------------------------------------------------


def test_story_says_the_dead_server_was_reported_healthy_and_why(crash_run: Path) -> None:
    facts = run_facts(load_run(crash_run))
    kinds = [(f.kind, f.server) for f in facts]
    assert kinds == [("down-but-healthy", "node5"), ("failure-visible", "node5"), ("alert-429", "node5")]
    down = facts[0]
    assert down.t_ns == 30_000_000_000 and down.end_ns == 67_715_703_903
    assert down.text.startswith("node5 was down but reported healthy for 37.715s (from its crash at 30s, "
                                "18 reports")
    assert "stale stats: LastContact frozen at 4.203098ms and LastIndex at 38" in down.text
    assert "gossip not yet failed (serf declared it failed at 1m6.993531831s" in down.text
    assert facts[1].text == ("autopilot can see node5's crash at 1m7.715703903s, 37.715s after it: node5 "
                             "unhealthy: serf status failed")
    assert facts[2].text == "a 429-based alert would first fire at 1m7.715703903s, 37.715s after node5's crash"


def _report(t: int, servers: list[dict], status: int = 200) -> dict:
    health = {"Healthy": status == 200, "FailureTolerance": 1, "Servers": servers, "Leader": "n1",
              "Voters": [s["ID"] for s in servers]}
    return {"t_ns": t, "t": f"{t}ns", "status": status, "health": health}


def _srv(sid: str, index: int, leader: bool = False, healthy: bool = True) -> dict:
    return {"LastContact": "0s" if leader else "1ms", "ID": sid, "Name": f"{sid}.global", "Address": sid,
            "SerfStatus": "alive", "Version": "1.11.0", "Leader": leader, "LastTerm": 2, "LastIndex": index,
            "Healthy": healthy, "Voter": True, "StableSince": "2026-01-01T00:00:00Z"}


def test_an_alert_on_429_can_never_fire() -> None:
    """Every report stays 200 from the crash until the removal: the alert never fires."""
    timeline = [_report(10, [_srv("n1", 5, True), _srv("n2", 5), _srv("n3", 5)]),
                _report(20, [_srv("n1", 7, True), _srv("n2", 7), _srv("n3", 5)]),
                _report(30, [_srv("n1", 9, True), _srv("n2", 9), _srv("n3", 5)]),
                _report(40, [_srv("n1", 10, True), _srv("n2", 10)])]
    events = [{"t_ns": 15, "t": "15ns", "kind": "crash", "server": "n3", "message": "n3 crashed"},
              {"t_ns": 35, "t": "35ns", "kind": "raft_remove", "server": "n3", "message": "n3 removed"}]
    run = Run(timeline=timeline, events=events, summary={"duration_ns": 50})
    facts = {f.kind: f for f in down_server_facts(run)}
    assert facts["alert-429"].text == ("a 429-based alert would never have fired for n3's crash: every report "
                                       "stayed 200 until n3 was removed at 35ns")
    assert "n3 was down but reported healthy for 0s" in facts["down-but-healthy"].text  # 25 ns, in ms
    assert "frozen at 1ms and LastIndex at 5" in facts["down-but-healthy"].text
    assert "gossip never declared it failed" in facts["down-but-healthy"].text
    assert facts["failure-visible"].text.endswith("n3 is no longer in the report (removed from the Raft "
                                                  "configuration)")


def test_a_restarted_leaders_unknown_peer_is_explained(restart_run: Path) -> None:
    facts = unknown_peer_facts(load_run(restart_run))
    assert len(facts) == 1
    text = facts[0].text
    assert "node1's report lists node3 as `left` with an empty name: node1 restarted at 20s" in text
    assert "it has not left" in text and "removed at" in text  # autopilot then prunes it as a stale voter


# --- explain --at ------------------------------------------------------------------------------------


def test_explain_at_shows_the_story_around_t(crash_run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", str(crash_run), "--at", "45s"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("around 45s (events from 15s to 1m15s):\n")
    assert out.index("node5 crashed") < out.index("<-- 45s") < out.index("member-failed")
    assert "node5 was down but reported healthy for 37.715s" in out
    assert "the health report at 45s (tick at 43.71620755s): Healthy true, FailureTolerance 2" in out
    assert "  node5  healthy:" in out


def test_explain_window_is_configurable(crash_run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", str(crash_run), "--at", "45s", "--window", "5s"]) == 0
    out = capsys.readouterr().out
    assert "node5 crashed" not in out and "member-failed" not in out
    assert "reported healthy" in out  # the fact spans 30s..1m7.7s, so it meets the window
    assert main(["explain", str(crash_run), "--at", "45s", "--window", "5"]) == 2
    assert "--window 5" in capsys.readouterr().err


def test_explain_whole_run_includes_what_the_api_showed(crash_run: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", str(crash_run)]) == 0
    out = capsys.readouterr().out
    assert out.index("node5 crashed") < out.index("What the health API showed:") < out.index("scenario ")


# --- run --json and help examples ----------------------------------------------------------------------


def test_run_json_prints_only_the_summary_on_stdout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    assert main(["run", str(CRASH), "--out", str(out), "--json"]) == 0
    captured = capsys.readouterr()
    assert captured.out == (out / "summary.json").read_text(encoding="utf-8")
    assert json.loads(captured.out)["scenario"] == "follower-crash-cleanup"
    assert "run directory:" in captured.err and "node5 crashed" not in captured.err + captured.out


def _subparsers(parser: argparse.ArgumentParser) -> list[tuple[str, argparse.ArgumentParser]]:
    out = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                out.append((name, sub))
                out += [(f"{name} {n}", s) for n, s in _subparsers(sub)]
    return out


def test_every_subcommand_help_ends_with_examples() -> None:
    from autopilot_sim.commands.operator import HELP

    subs = _subparsers(build_parser())
    names = {name for name, _ in subs}
    assert {"run", "explain", "health", "validate", "schema", "plot", "serve", "conformance", "operator"} <= names
    for name, sub in subs:
        if name.startswith("operator autopilot "):  # Go-style help of the leaves, printed by the command
            text = HELP[name.rsplit(" ", 1)[1]]
            tail = text[text.rindex("Examples:"):].splitlines()[1:]
        else:
            text = sub.format_help()
            assert "examples:" in text, name
            tail = text[text.rindex("examples:"):].splitlines()[1:]
        examples = [line for line in tail if "autopilot-sim" in line or line.startswith("  curl")]
        assert 2 <= len(examples) <= 3, (name, tail)
        assert all(line.startswith("  ") for line in tail if line), name


def test_report_index_at_takes_the_last_report_at_or_before(crash_run: Path) -> None:
    run = load_run(crash_run)
    first = run.timeline[0]["t_ns"]
    assert report_index_at(run, first - 1) is None
    assert report_index_at(run, first) == 0
    assert run.timeline[report_index_at(run, 45_000_000_000)]["t"] == "43.71620755s"


def test_removal_budget_a_429_alert_never_sees_the_third_crash(tmp_path: Path) -> None:
    """scenarios/removal-budget.yaml (seed 1): node3 crashes at 1m30s and every report stays 200
    until autopilot removes it — an alert on 429 would never fire for it."""
    out = tmp_path / "run"
    assert main(["run", str(REPO / "scenarios" / "removal-budget.yaml"), "--out", str(out), "--quiet"]) == 0
    facts = [f for f in run_facts(load_run(out)) if f.server == "node3"]
    alert = next(f for f in facts if f.kind == "alert-429")
    assert alert.text == ("a 429-based alert would never have fired for node3's crash: every report stayed 200 "
                          "until node3 was removed at 2m11.708262327s")
    down = next(f for f in facts if f.kind == "down-but-healthy")
    assert down.text.startswith("node3 was down but reported healthy for 41.712s (from its crash at 1m30s")


def test_a_429_caused_by_another_server_is_told_apart() -> None:
    timeline = [_report(10, [_srv("n1", 5, True), _srv("n2", 5), _srv("n3", 5)]),
                _report(20, [_srv("n1", 7, True), _srv("n2", 7, healthy=False), _srv("n3", 5)], status=429)]
    events = [{"t_ns": 15, "t": "15ns", "kind": "crash", "server": "n3", "message": "n3 crashed"}]
    run = Run(timeline=timeline, events=events, summary={"duration_ns": 30})
    alert = next(f for f in down_server_facts(run) if f.kind == "alert-429")
    assert alert.text.endswith("; but that 429 is for n2: n3 itself is still reported healthy")
