"""The ``rolling_restart`` event, ``upgrade`` with ``down_for``, and events written in any order.

Parsing and located errors; the static expansion (as-listed) and the run-time one (leader-last,
followers-first) as events.jsonl records them; a real run's servers really down for the window;
lifecycle conflicts with the steps; the resolved scenario.yaml re-runs to identical bytes.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from autopilot_sim.cli import main as cli_main
from autopilot_sim.durations import SECOND
from autopilot_sim.scenario import ScenarioError, load_scenario, load_scenario_text
from autopilot_sim.scenario.rolling import (
    DEFAULT_DOWN_FOR,
    DEFAULT_INTERVAL,
    RollingRestartSpec,
    leader_last,
    next_follower_first,
    plan_steps,
)
from autopilot_sim.sim.runner import ScenarioRunError, Simulation

HEAD = "name: t\nduration: 5m\nevents:\n"


def load(*events: str, head: str = HEAD) -> Any:
    return load_scenario_text(head + "".join(f"  - {e}\n" for e in events), filename="t.yaml")


def errors(*events: str, head: str = HEAD) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load(*events, head=head)
    return [str(e) for e in info.value.errors]


def run_events(scenario: Any) -> list[dict[str, Any]]:
    return Simulation(scenario).run().recorder.events


# --- parsing -------------------------------------------------------------------------------------


def test_defaults_are_filled_in_and_written_back() -> None:
    s = load("{at: 30s, rolling_restart: {}}")
    spec = s.events[0].rolling_restart
    assert spec == RollingRestartSpec()
    assert (spec.servers, spec.order, spec.interval, spec.down_for, spec.version) == (
        "all", "leader-last", DEFAULT_INTERVAL, DEFAULT_DOWN_FOR, None)
    assert DEFAULT_INTERVAL == 60 * SECOND and DEFAULT_DOWN_FOR == 10 * SECOND
    assert ("- {at: 30s, rolling_restart: {servers: all, order: leader-last, interval: 1m0s, down_for: 10s}}"
            in s.to_resolved_yaml())


BAD = {
    "unknown_order": (
        "{at: 10s, rolling_restart: {order: random}}",
        't.yaml:4:40: events[0].rolling_restart.order: expected leader-last | followers-first | as-listed, '
        'got "random"'),
    "empty_list": (
        "{at: 10s, rolling_restart: {servers: []}}",
        "t.yaml:4:42: events[0].rolling_restart.servers: the list of servers is empty: list at least one server "
        "name, or write servers: all"),
    "unknown_name": (
        "{at: 10s, rolling_restart: {servers: [node1, nod2]}}",
        't.yaml:4:50: events[0].rolling_restart.servers[1]: unknown server "nod2"; did you mean "node2"? servers '
        "are node1, node2, node3"),
    "all_and_names": (
        "{at: 10s, rolling_restart: {servers: [all, node1]}}",
        "t.yaml:4:43: events[0].rolling_restart.servers[0]: servers is either all or a list of server names, not "
        "both: write servers: all, or list the names without all"),
    "a_role": (
        "{at: 10s, rolling_restart: {servers: [node1, leader]}}",
        't.yaml:4:50: events[0].rolling_restart.servers[1]: servers lists server names, not roles ("leader"): '
        "where the leader goes is what order says (leader-last, followers-first, as-listed)"),
    "twice": (
        "{at: 10s, rolling_restart: {servers: [node1, node1]}}",
        't.yaml:4:50: events[0].rolling_restart.servers[1]: "node1" is listed twice (also at servers[0]); each '
        "server is restarted once"),
    "one_name_not_a_list": (
        "{at: 10s, rolling_restart: {servers: node1}}",
        't.yaml:4:42: events[0].rolling_restart.servers: servers is all or a list of server names, got "node1": '
        "write servers: all, or servers: [node1] for one server"),
    "interval_zero": (
        "{at: 10s, rolling_restart: {interval: 0s}}",
        "t.yaml:4:43: events[0].rolling_restart.interval: must be more than 0s, got 0s"),
    "interval_too_long": (
        "{at: 10s, rolling_restart: {interval: 25h}}",
        "t.yaml:4:43: events[0].rolling_restart.interval: must be at most 24h0m0s, got 25h0m0s (a step longer "
        "than a day is no rolling restart: write crash and restart events)"),
    "down_for_negative": (
        "{at: 10s, rolling_restart: {down_for: -1s}}",
        "t.yaml:4:43: events[0].rolling_restart.down_for: must be more than 0s, got -1s"),
    "steps_after_the_end": (
        "{at: 10s, rolling_restart: {servers: [node1, node2, node3], order: as-listed, interval: 3m}}",
        "t.yaml:4:93: events[0].rolling_restart.interval: the last of 3 steps would stop its server at 6m10s, "
        "after the end of the scenario (duration 5m0s): at most 2m25s between steps fits, or make the scenario "
        "longer"),
    "typo": (
        "{at: 10s, rolling_restart: {servers: [node1], intervall: 3m}}",
        't.yaml:4:51: events[0].rolling_restart.intervall: unknown key "intervall"; did you mean "interval"?'),
    "upgrade_down_for_zero": (
        "{at: 10s, upgrade: {server: node1, version: 1.11.0, down_for: 0s}}",
        "t.yaml:4:67: events[0].upgrade.down_for: must be more than 0s, got 0s"),
}


@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_bad_input_is_a_located_error(case: str) -> None:
    event, message = BAD[case]
    assert errors(event) == [message]


def test_bad_input_exits_2_from_validate_and_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(HEAD + "  - {at: 10s, rolling_restart: {order: random}}\n", encoding="utf-8")
    assert cli_main(["validate", str(path)]) == 2
    assert cli_main(["run", str(path), "--out", str(tmp_path / "run"), "--quiet"]) == 2
    assert not (tmp_path / "run").exists()
    assert "events[0].rolling_restart.order: expected leader-last" in capsys.readouterr().err


# --- expansion -----------------------------------------------------------------------------------


def test_plan_and_orders_pure() -> None:
    spec = RollingRestartSpec(servers=["a", "b", "c"], order="as-listed", interval=20 * SECOND,
                              down_for=10 * SECOND)
    steps = plan_steps(spec, 5 * SECOND, ["a", "b", "c"])
    assert [(s.label, s.server, s.down_at // SECOND, s.up_at // SECOND) for s in steps] == [
        ("1/3", "a", 5, 15), ("2/3", "b", 25, 35), ("3/3", "c", 45, 55)]
    runtime = plan_steps(spec.model_copy(update={"order": "leader-last"}), 0, ["a", "b", "c"])
    assert [s.server for s in runtime] == [None, None, None]
    assert leader_last(["a", "b", "c"], "a") == ["b", "c", "a"]
    assert leader_last(["a", "b", "c"], None) == ["a", "b", "c"]
    assert leader_last(["a", "b"], "z") == ["a", "b"]
    assert next_follower_first(["a", "b"], "a") == "b"
    assert next_follower_first(["a"], "a") == "a"


def test_static_expansion_is_a_comment_in_the_resolved_file() -> None:
    s = load("{at: 2m, rolling_restart: {servers: [node3, node1], order: as-listed, interval: 20s, down_for: 10s}}",
             "{at: 4m, rolling_restart: {servers: [node1, node2]}}")
    text = s.to_resolved_yaml()
    tail = text[text.index("\nevents:") + 1:text.index("\nexpect:") + 1]
    assert tail == textwrap.dedent("""\
        events:
        # events[0] expands when it fires at 2m0s: as-listed, in the order listed
        #   step 1/2: node3 down 2m0s, up 2m10s
        #   step 2/2: node1 down 2m20s, up 2m30s
        - {at: 2m0s, rolling_restart: {servers: [node3, node1], order: as-listed, interval: 20s, down_for: 10s}}
        # events[1] expands when it fires at 4m0s: leader-last, the server that leads when it fires goes last
        #   step 1/2: down 4m0s, up 4m10s
        #   step 2/2: down 5m0s, up 5m10s
        #   the servers chosen are in events.jsonl (the rolling_restart line's order_used, and each step's line)
        - {at: 4m0s, rolling_restart: {servers: [node1, node2], order: leader-last, interval: 1m0s, down_for: 10s}}
        """)
    assert load_scenario_text(text) == s  # comments only: the same scenario


def _steps(events: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return [(e["kind"], e["step"], e["server"]) for e in events if e.get("cause") == "rolling_restart"]


def _leader_at(events: list[dict[str, Any]], t_ns: int) -> str | None:
    leader = None
    for e in events:
        if e["t_ns"] > t_ns:
            break
        if e["kind"] == "leader_elected":
            leader = e["server"]
        elif e["kind"] in ("leader_stepped_down", "crash") and e.get("server") == leader:
            leader = None
    return leader


ROLLING = "name: rr\nduration: 3m\ncluster: {servers: 5}\nload: {writes_per_second: 10}\nevents:\n"


def test_leader_last_restarts_the_leader_last_in_a_real_run() -> None:
    s = load("{at: 30s, rolling_restart: {interval: 20s, down_for: 15s}}", head=ROLLING)
    events = run_events(s)
    leader = _leader_at(events, 30 * SECOND - 1)
    assert leader is not None
    start = next(e for e in events if e["kind"] == "rolling_restart")
    assert start["order_used"][-1] == leader and sorted(start["order_used"]) == start["servers"]
    assert f"{leader} leads now, it goes last" in start["message"]
    steps = _steps(events)
    downs = [server for kind, _, server in steps if kind == "crash"]
    assert downs == start["order_used"] and downs[-1] == leader
    assert [kind for kind, _, _ in steps] == ["crash", "restart"] * 5
    assert [step for kind, step, _ in steps if kind == "crash"] == ["1/5", "2/5", "3/5", "4/5", "5/5"]
    last = next(e for e in events if e.get("step") == "5/5")
    assert last["t_ns"] == 110 * SECOND and "it was the leader" in last["message"]
    assert last["message"].startswith(f"rolling restart step 5/5: {leader} down for 15s")


def test_a_step_is_a_down_episode_with_cause_stop_and_a_crash_stays_a_crash() -> None:
    s = load("{at: 20s, rolling_restart: {servers: [node1], interval: 20s, down_for: 10s}}\n"
             "  - {at: 1m, crash: node2}", head=ROLLING)
    summary = Simulation(s).run().summary
    episodes = [(e["server"], e["cause"], e["at_s"], e["ended_s"]) for e in summary["down_episodes"]]
    assert episodes == [("node1", "stop", 20.0, 30.0), ("node2", "crash", 60.0, None)]


def test_followers_first_never_takes_the_leader_of_that_moment_before_the_last_step() -> None:
    s = load("{at: 20s, rolling_restart: {order: followers-first, interval: 20s, down_for: 10s}}", head=ROLLING)
    events = run_events(s)
    start = next(e for e in events if e["kind"] == "rolling_restart")
    assert start["order_used"] is None and start["order"] == "followers-first"
    downs = [e for e in events if e.get("cause") == "rolling_restart" and e["kind"] == "crash"]
    assert len(downs) == 5 and len({e["server"] for e in downs}) == 5
    for e in downs[:-1]:
        assert e["server"] != _leader_at(events, e["t_ns"] - 1), e


def test_as_listed_runs_the_listed_order_with_a_version() -> None:
    s = load("{at: 20s, rolling_restart: {servers: [node4, node2], order: as-listed, interval: 30s, down_for: 5s, "
             "version: 1.12.0}}", head=ROLLING)
    events = run_events(s)
    steps = [(e["kind"], e["server"], e["t_ns"] // SECOND) for e in events if e.get("cause") == "rolling_restart"]
    assert steps == [("crash", "node4", 20), ("upgrade", "node4", 25), ("crash", "node2", 50), ("upgrade", "node2", 55)]
    up = next(e for e in events if e["kind"] == "upgrade")
    assert up["version"] == "1.12.0" and "started on version 1.12.0 (was 1.11.0)" in up["message"]


# --- upgrade down_for ----------------------------------------------------------------------------


def test_upgrade_down_for_keeps_the_server_down_for_the_window() -> None:
    s = load("{at: 30s, upgrade: {server: node3, version: 1.12.0, down_for: 30s}}",
             head="name: up\nduration: 2m\nload: {writes_per_second: 10}\nevents:\n")
    sim = Simulation(s)
    sim.cluster.run(45 * SECOND)
    server = sim.cluster.servers["node3"]
    assert not server.up and server.version == "1.11.0"
    result = sim.run()
    assert server.up and server.version == "1.12.0"
    kinds = [(e["kind"], e["t_ns"] // SECOND) for e in result.recorder.events if e.get("server") == "node3"
             and e["kind"] in ("crash", "upgrade")]
    assert kinds == [("crash", 30), ("upgrade", 60)]
    # No Raft contact in the window: every report while it is down shows node3's last index frozen
    # while the leader's grows.
    window = [r for r in result.timeline if 32 * SECOND <= r["t_ns"] < 60 * SECOND and r["status"] == 200]
    assert len(window) >= 10
    lasts = {next(x["LastIndex"] for x in r["health"]["Servers"] if x["Name"].startswith("node3."))
             for r in window}
    leader_lasts = [max(x["LastIndex"] for x in r["health"]["Servers"]) for r in window]
    assert len(lasts) == 1 and leader_lasts[-1] > leader_lasts[0] > next(iter(lasts))
    episode = next(e for e in result.summary["down_episodes"] if e["server"] == "node3")
    assert (episode["at_s"], episode["ended_s"]) == (30.0, 60.0)


def test_upgrade_without_down_for_is_unchanged_and_not_written() -> None:
    s = load("{at: 30s, upgrade: {server: node3, version: 1.12.0}}")
    assert s.events[0].upgrade.down_for is None
    assert "down_for" not in s.to_resolved_yaml()


# --- events in any order -------------------------------------------------------------------------


def test_events_are_sorted_stably_and_errors_point_at_the_users_lines() -> None:
    s = load("{at: 40s, heal: all}", "{at: 10s, crash: node1}", "{at: 40s, restart: node1}",
             "{at: 10s, partition: [[node2]]}")
    assert [(e.kind, e.index, e.line) for e in s.events] == [
        ("crash", 1, 5), ("partition", 3, 7), ("heal", 0, 4), ("restart", 2, 6)]
    text = s.to_resolved_yaml()
    listed = [line.split(", ", 1)[1] for line in text.splitlines() if line.startswith("- {at:")]
    assert listed == ["crash: node1}", "partition: [[node2]]}", "heal: all}", "restart: node1}"]
    assert errors("{at: 40s, crash: node1}", "{at: 10s, restart: node1}") == [
        "t.yaml:5:24: events[1].restart: node1 is running at 10s; restart starts a server that crashed or left: "
        "crash it first"]


def test_set_events_no_longer_demands_time_order(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("name: t\nduration: 2m\n", encoding="utf-8")
    s = load_scenario(path, overrides=["events=[{at: 1m, restart: node1}, {at: 30s, crash: node1}]"])
    assert [(e.kind, e.index) for e in s.events] == [("crash", 1), ("restart", 0)]


def test_a_run_error_names_the_event_by_its_place_in_the_file() -> None:
    # Written after the crash, fired before it: leader-last (seed 1: node2 leads) stops node1 at 10s,
    # node2 from 40s to 1m5s, so the crash at 50s (only a note before the run) finds it down.
    s = load("{at: 50s, crash: node2}", "{at: 10s, rolling_restart: {servers: [node1, node2], interval: 30s, "
             "down_for: 25s}}")
    assert [e.index for e in s.events] == [1, 0]
    with pytest.raises(ScenarioRunError) as info:
        Simulation(s).run()
    assert str(info.value) == "line 4: events[0].crash at 50s: node2 is already down"


def test_a_step_that_finds_its_server_down_stops_the_run_at_the_rolling_restart() -> None:
    s = load("{at: 10s, rolling_restart: {servers: [node1, node2], order: followers-first, interval: 30s}}",
             "{at: 15s, crash: leader}")
    with pytest.raises(ScenarioRunError) as info:
        Simulation(s).run()
    assert str(info.value) == (
        "line 4: events[0].rolling_restart at 40s: rolling restart step 2/2: node2 is already down (an earlier "
        "event took it down); a step stops a running server")


# --- lifecycle -----------------------------------------------------------------------------------


RR = "{at: 10s, rolling_restart: {servers: [node1, node2], order: as-listed, interval: 20s, down_for: 10s}}"
LIFE = {
    "crash_while_its_step_has_it_down": (
        [RR, "{at: 35s, crash: node2}"],
        "t.yaml:5:22: events[1].crash: node2 is not running at 35s: it is down for a while (events[0] rolling "
        "restart step 2/2, down 30s to 40s); crash needs a running server"),
    "restart_while_its_step_has_it_down": (
        [RR, "{at: 35s, restart: node2}"],
        "t.yaml:5:24: events[1].restart: node2 is down for a while at 35s (events[0] rolling restart step 2/2, "
        "down 30s to 40s) and starts again by itself; restart is for a server that crashed or left"),
    "step_of_a_crashed_server": (
        [RR, "{at: 30s, crash: node2}"],
        "t.yaml:4:50: events[0].rolling_restart.servers[1]: node2 is not running at 30s: it crashed (events[1] "
        "crash at 30s); rolling restart step 2/2 needs a running server"),
    "leader_last_of_a_crashed_server": (
        ["{at: 10s, rolling_restart: {servers: [node1, node2]}}", "{at: 5s, crash: node2}"],
        "t.yaml:4:50: events[0].rolling_restart.servers[1]: node2 is not running at 10s: it crashed (events[1] "
        "crash at 5s); a rolling restart needs a running server"),
    "all_with_nothing_running": (
        ["{at: 1s, crash: node1}", "{at: 2s, crash: node2}", "{at: 3s, crash: node3}",
         "{at: 10s, rolling_restart: {}}"],
        "t.yaml:7:32: events[3].rolling_restart.servers: no server is running at 10s: servers: all restarts the "
        "servers running when the rolling restart starts"),
    "crash_during_an_upgrades_downtime": (
        ["{at: 10s, upgrade: {server: node1, version: 1.11.0, down_for: 30s}}", "{at: 20s, crash: node1}"],
        "t.yaml:5:22: events[1].crash: node1 is not running at 20s: it is down for a while (events[0] upgrade at "
        "10s, down until 40s); crash needs a running server"),
    "join_during_an_upgrades_downtime": (
        ["{at: 10s, upgrade: {server: node1, version: 1.11.0, down_for: 30s}}", "{at: 20s, join: {name: node1}}"],
        't.yaml:5:28: events[1].join.name: server "node1" is down for a while at 20s (events[0] upgrade at 10s, '
        "down until 40s) and starts again by itself, still a member: join a new server under a new name"),
}


@pytest.mark.parametrize("case", LIFE, ids=list(LIFE))
def test_lifecycle_conflicts_with_steps(case: str) -> None:
    events, message = LIFE[case]
    assert errors(*events) == [message]


def test_lifecycle_lets_a_server_be_used_again_after_its_step() -> None:
    assert load(RR, "{at: 45s, crash: node2}").notes() == []
    assert load("{at: 10s, upgrade: {server: node1, version: 1.11.0, down_for: 30s}}",
                "{at: 41s, crash: node1}").notes() == []


def test_overlapping_steps_are_allowed_with_a_note() -> None:
    s = load("{at: 10s, rolling_restart: {interval: 5s, down_for: 12s}}")
    assert s.notes() == [
        "t.yaml:4:57: events[0].rolling_restart.down_for: steps overlap: down_for 12s is longer than interval 5s, "
        "so up to 3 servers are down at once (allowed: it is what this run shows)"]
    events = run_events(s)
    downs = [e["t_ns"] // SECOND for e in events if e.get("cause") == "rolling_restart" and e["kind"] == "crash"]
    assert downs == [10, 15, 20]


def test_a_role_chosen_order_makes_later_events_on_its_servers_notes() -> None:
    s = load("{at: 10s, rolling_restart: {servers: [node1, node2], interval: 20s}}", "{at: 15s, crash: node2}")
    assert s.notes() == [
        "t.yaml:5:22: events[1].crash: checked at run time: node2 may not be running at 15s (a rolling restart "
        "whose order the run chooses may have it down then)"]


# --- the resolved scenario re-runs byte for byte -------------------------------------------------


def test_resolved_scenario_reruns_to_identical_files(tmp_path: Path) -> None:
    s = load("{at: 50s, rolling_restart: {interval: 15s, down_for: 10s, order: followers-first}}",
             "{at: 20s, upgrade: {server: node2, version: 1.12.0, down_for: 5s}}",
             "{at: 2m20s, rolling_restart: {version: 1.12.1, interval: 10s, down_for: 5s}}", head=ROLLING)
    first = Simulation(s).run().write(tmp_path / "a")
    again = load_scenario(first / "scenario.yaml")
    second = Simulation(again).run().write(tmp_path / "b")
    names = sorted(p.name for p in first.iterdir())
    assert names == sorted(p.name for p in second.iterdir()) and "events.jsonl" in names
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_story_and_labels_call_a_step_a_stop(tmp_path: Path) -> None:
    from autopilot_sim.facts import run_facts
    from autopilot_sim.rundata import event_labels, load_run

    s = load("{at: 20s, rolling_restart: {servers: [node1, node2], order: as-listed, interval: 20s, down_for: 10s}}",
             head=ROLLING)
    run = load_run(Simulation(s).run().write(tmp_path / "run"))
    texts = [f.text for f in run_facts(run) if f.server == "node1"]
    assert any("from its stop at 20s" in t for t in texts), texts
    labels = [label for _, _, label in event_labels(run)]
    assert "rolling restart (as-listed); stop node1 (1/2)" in labels or "stop node1 (1/2)" in labels, labels
    assert "restart node1 (1/2)" in labels


def test_the_live_api_takes_a_rolling_restart_and_runs_its_steps() -> None:
    from api_support import FakeClock, Raw, scenario, served, wait_for

    clock = FakeClock()
    with served(scenario(servers=3), speed=1.0, start_at="5s", clock=clock) as server:
        raw = Raw(server)
        status, result = raw.json("POST", "/v1/sim/events",
                                  {"rolling_restart": {"servers": ["node3", "node1"], "order": "as-listed",
                                                       "interval": "4s", "down_for": "2s"}})
        assert status == 200 and result["Kind"] == "rolling_restart"
        assert any(m.startswith("rolling restart step 1/2: node3 down for 2s") for m in result["Messages"])
        clock.advance(20)
        assert wait_for(lambda: raw.json("GET", "/v1/sim/time")[1]["TimeNs"] >= 20 * SECOND)
        events = raw.json("GET", "/v1/sim/events")[1]["Events"]
        steps = [(e["kind"], e["server"], e["step"]) for e in events if e.get("cause") == "rolling_restart"]
        assert steps == [("crash", "node3", "1/2"), ("restart", "node3", "1/2"), ("crash", "node1", "2/2"),
                         ("restart", "node1", "2/2")]
        status, _, text = raw.request("POST", "/v1/sim/events", '{"rolling_restart": {"order": "random"}}')
        assert status == 400 and b"rolling_restart.order: expected leader-last | followers-first | as-listed" in text
        raw.close()


def test_all_leaves_out_a_server_that_is_leaving() -> None:
    # node3's process still runs while its leave spreads; it is no longer a server to restart.
    s = load("{at: 10s, leave: node3}", "{at: 10s, rolling_restart: {order: as-listed, interval: 5s, down_for: 2s}}")
    assert s.notes() == []
    events = run_events(s)
    start = next(e for e in events if e["kind"] == "rolling_restart")
    assert start["servers"] == ["node1", "node2"] == start["order_used"]
    assert [e["server"] for e in events if e.get("cause") == "rolling_restart"] == ["node1"] * 2 + ["node2"] * 2
