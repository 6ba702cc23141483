"""Values that validate must also run: every interval has a floor, rates and durations a ceiling
(each with its reason, in the error and in the schema), and a costly run is warned about or,
past a hard cap, refused."""

from __future__ import annotations

import pytest

from autopilot_sim.cli import main as cli_main
from autopilot_sim.scenario import load_scenario_text, scenario_json_schema
from autopilot_sim.scenario.cost import MAX_EVENTS, WARN_EVENTS, estimate

HEAD = "name: bounds\nduration: 1m\n"


def cli(tmp_path, capsys, text: str, command: str, *extra: str) -> tuple[int, str]:
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    argv = [command, str(path), *extra]
    if command == "run":
        argv += ["--out", str(tmp_path / "run"), "--quiet"]
    code = cli_main(argv)
    return code, capsys.readouterr().err.replace(str(path), "s.yaml")


# The three inputs of the issue, through both commands.
ISSUE = {
    "update_interval": ("autopilot: {update_interval: 1ns}\n",
                        "s.yaml:3:30: autopilot.update_interval: must be at least 10ms, got 1ns (Nomad's own test "
                        "servers tick every 50ms-100ms"),
    "writes": ("load: {writes_per_second: 1000000}\n",
               "s.yaml:3:27: load.writes_per_second: must be at most 10,000, got 1,000,000 (more than any Nomad "
               "cluster's Raft log takes"),
    "duration": ("name: bounds\nduration: 2562047h\n",
                 "s.yaml:2:11: duration: must be at most 720h0m0s, got 2562047h0m0s (30 days is ten times the "
                 "longest default timer, serf's 72h reconnect_timeout"),
}


@pytest.mark.parametrize("command", ["validate", "run"])
@pytest.mark.parametrize("case", sorted(ISSUE))
def test_values_that_cannot_run_are_refused(tmp_path, capsys, case, command):
    body, expected = ISSUE[case]
    text = body if body.startswith("name:") else HEAD + body
    code, err = cli(tmp_path, capsys, text, command)
    assert code == 2
    assert err.startswith(expected), err
    assert not (tmp_path / "run").exists()


FLOORS = [
    ("autopilot", "update_interval", "10ms"),
    ("autopilot", "reconcile_interval", "10ms"),
    ("gossip", "probe_interval", "10ms"),
    ("gossip", "probe_timeout", "10ms"),
    ("gossip", "gossip_interval", "10ms"),
    ("gossip", "push_pull_interval", "10ms"),
    ("gossip", "reconnect_interval", "10ms"),
    ("gossip", "reap_interval", "10ms"),
    ("raft", "rpc_timeout", "10ms"),
]


@pytest.mark.parametrize(("block", "key", "floor"), FLOORS)
def test_every_interval_has_a_floor_with_its_reason(block, key, floor):
    with pytest.raises(ValueError) as info:
        load_scenario_text(HEAD + f"{block}: {{{key}: 9ms}}\n")
    (error,) = info.value.errors  # type: ignore[attr-defined]
    assert error.path == f"{block}.{key}"
    assert error.message.startswith(f"must be at least {floor}, got 9ms (")
    load_scenario_text(HEAD + f"{block}: {{{key}: {floor}}}\n")  # the floor itself is fine
    # ... and the schema says so, with the reason.
    description = scenario_json_schema()["$defs"][f"{block.capitalize()}Spec"]["properties"][key]["description"]
    assert f"least {floor}" in description


def test_paper_timing_floors():
    with pytest.raises(ValueError) as info:
        load_scenario_text(HEAD + "raft: {election_timeout_range: [1ms, 300ms], heartbeat_interval: 100us}\n")
    messages = sorted((e.path, e.message) for e in info.value.errors)  # type: ignore[attr-defined]
    assert messages == [
        ("raft.election_timeout_range[0]",
         "must be at least 5ms, got 1ms (hashicorp/raft's floor for its timeouts is 5ms)"),
        ("raft.heartbeat_interval",
         "must be at least 1ms, got 100µs (hashicorp/raft's fastest timer, CommitTimeout, is at least 1ms)"),
    ]


def test_latency_ceiling_and_set_load_ceiling():
    with pytest.raises(ValueError) as info:
        load_scenario_text(HEAD + "network: {latency: {distribution: exponential, mean: 2h}}\n"
                                  "events:\n  - {at: 1s, set_load: {writes_per_second: 20000}}\n")
    assert [(e.path, e.message.split(" (")[0]) for e in info.value.errors] == [  # type: ignore[attr-defined]
        ("network.latency.mean", "must be at most 1h0m0s, got 2h0m0s"),
        ("events[0].set_load.writes_per_second", "must be at most 10,000, got 20,000"),
    ]


def test_server_counts_are_bounded_including_joins():
    names = "".join(f"  - {{name: s{i}}}\n" for i in range(101))
    with pytest.raises(ValueError) as info:
        load_scenario_text(HEAD + "cluster:\n  servers:\n" + names)
    assert info.value.errors[0].message.startswith("at most 100 servers, got 101")  # type: ignore[attr-defined]
    with pytest.raises(ValueError) as info:
        load_scenario_text(HEAD + "cluster: {servers: 100}\nevents:\n  - {at: 1s, join: {name: extra}}\n")
    (error,) = info.value.errors  # type: ignore[attr-defined]
    assert error.path == "events[0].join"
    assert error.message.startswith("this join is server number 101 of the scenario")


def test_cost_estimate_hard_cap():
    text = "name: huge\nduration: 720h\ncluster: {servers: 100}\nload: {writes_per_second: 10000}\n"
    with pytest.raises(ValueError) as info:
        load_scenario_text(text)
    (error,) = info.value.errors  # type: ignore[attr-defined]
    assert error.path == "duration"
    assert error.message.startswith("this scenario would take about 5.2e+12 simulated events")
    assert f"the limit is {MAX_EVENTS:.0e} events" in error.message


def test_cost_estimate_grows_with_duration_servers_and_writes():
    base = estimate(load_scenario_text(HEAD))
    assert estimate(load_scenario_text("name: b\nduration: 2m\n")).events == pytest.approx(2 * base.events, rel=0.01)
    assert estimate(load_scenario_text(HEAD + "cluster: {servers: 5}\n")).events > base.events
    assert estimate(load_scenario_text(HEAD + "load: {writes_per_second: 100}\n")).events > base.events


def test_costly_runs_get_a_warning_line(tmp_path, capsys, monkeypatch):
    # A month of five servers: allowed, but validate says what it will cost ...
    month = "name: month\nduration: 720h\ncluster: {servers: 5}\n"
    assert estimate(load_scenario_text(month)).events > WARN_EVENTS
    code, err = cli(tmp_path, capsys, month, "validate")
    assert code == 0
    assert err.startswith("warning: s.yaml: a run will take about 3.3e+08 simulated events (720h0m0s x 5 servers")
    # ... and so does run, before it starts (a lowered threshold keeps the test short).
    monkeypatch.setattr("autopilot_sim.scenario.cost.WARN_EVENTS", 1000)
    code, err = cli(tmp_path, capsys, HEAD, "run")
    assert code == 0
    assert err.startswith("warning: s.yaml: this run will take about")
    # --until shortens the run and so the estimate.
    monkeypatch.setattr("autopilot_sim.scenario.cost.WARN_EVENTS", estimate(load_scenario_text(HEAD)).events - 1)
    code, err = cli(tmp_path, capsys, HEAD, "run", "--until", "10s")
    assert code == 0 and "warning" not in err
