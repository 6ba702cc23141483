"""The command line around the API: `autopilot-sim operator autopilot ...` (Nomad's flags and
output) and `autopilot-sim serve` (serving, --exit-at-end, --out, --replay)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from api_support import ADMIN, READER, Raw, scenario, served

from autopilot_sim.cli import main as cli_main
from autopilot_sim.commands.operator import (
    Flag,
    FlagError,
    format_list,
    go_bool,
    go_duration,
    go_uint,
    health_text,
    parse_go_flags,
    run_operator,
)


def run(command: str, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run_operator(command, list(args), out=out, err=err, environ=env or {})
    return code, out.getvalue(), err.getvalue()


# --- Go flag parsing ------------------------------------------------------------------------------

FLAGS = [Flag("json", go_bool, boolean=True, builtin=True), Flag("address", lambda s: s, builtin=True),
         Flag("max", go_uint), Flag("cleanup", go_bool), Flag("d", go_duration)]


def test_go_flag_forms() -> None:
    values, rest = parse_go_flags(["-json", "--address=http://x:1", "-max", "0x10", "-cleanup=false", "-d", "1m",
                                   "extra", "-json=false"], FLAGS)
    assert values == {"json": True, "address": "http://x:1", "max": 16, "cleanup": False, "d": 60 * 10**9}
    assert rest == ["extra", "-json=false"]  # parsing stops at the first non-flag
    assert parse_go_flags(["-json=false", "--", "-max"], FLAGS) == ({"json": False}, ["-max"])
    assert parse_go_flags(["-max", "010"], FLAGS)[0] == {"max": 8}  # a leading 0 is octal, as in Go


@pytest.mark.parametrize("args, message", [
    (["-nope"], "flag provided but not defined: -nope"),
    (["-max"], "flag needs an argument: -max"),
    (["-max=-1"], 'invalid value "-1" for flag -max: strconv.ParseUint: parsing "-1": invalid syntax'),
    (["-max=18446744073709551616"], 'invalid value "18446744073709551616" for flag -max: strconv.ParseUint: '
                                    'parsing "18446744073709551616": value out of range'),
    (["-cleanup=yes"], 'invalid value "yes" for flag -cleanup: strconv.ParseBool: parsing "yes": invalid syntax'),
    (["-d=5"], 'invalid value "5" for flag -d: time: missing unit in duration "5"'),
    (["-json=maybe"], 'invalid boolean value "maybe" for -json: parse error'),
    (["---x"], "bad flag syntax: ---x"),
    (["-=x"], "bad flag syntax: -=x"),
])
def test_go_flag_errors(args, message) -> None:
    with pytest.raises(FlagError) as info:
        parse_go_flags(args, FLAGS)
    assert str(info.value) == message


def test_format_list_is_columnize() -> None:
    assert format_list(["A|BB|C", "xxx||y", "\tz"]) == "A    BB      C\nxxx  <none>  y\nz"
    assert format_list([]) == ""


# --- operator autopilot against a served cluster ---------------------------------------------------


@pytest.fixture(scope="module")
def cluster():
    with served(scenario(acl=True), speed=1.0, start_at="15s") as server:
        yield server


def env_for(server, token: str | None = ADMIN) -> dict[str, str]:
    env = {"NOMAD_ADDR": server.url}
    if token:
        env["NOMAD_TOKEN"] = token
    return env


def test_get_config_plain_and_json(cluster) -> None:
    code, out, err = run("get-config", env=env_for(cluster))
    assert (code, err) == (0, "")
    assert out == ("CleanupDeadServers = true\nLastContactThreshold = 200ms\nMaxTrailingLogs = 250\nMinQuorum = 0\n"
                   "ServerStabilizationTime = 10s\nEnableRedundancyZones = false\nDisableUpgradeMigration = false\n"
                   "EnableCustomUpgrades = false\n")
    code, out, _ = run("get-config", "-json", env=env_for(cluster))
    assert code == 0 and out.startswith('{\n    "LastContactThreshold": "200ms",\n    "ServerStabilizationTime": "10s",')
    assert list(json.loads(out)) == ["LastContactThreshold", "ServerStabilizationTime", "CleanupDeadServers",
                                     "MaxTrailingLogs", "MinQuorum", "EnableRedundancyZones",
                                     "DisableUpgradeMigration", "EnableCustomUpgrades", "CreateIndex", "ModifyIndex"]


def test_set_config_changes_only_the_flags_given(cluster) -> None:
    before = json.loads(run("get-config", "-json", env=env_for(cluster))[1])
    code, out, err = run("set-config", "-max-trailing-logs=99", "-last-contact-threshold", "750ms",
                         "-cleanup-dead-servers", "false", env=env_for(cluster))
    assert (code, out, err) == (0, "Configuration updated!\n", "")
    after = json.loads(run("get-config", "-json", env=env_for(cluster))[1])
    assert after["MaxTrailingLogs"] == 99 and after["LastContactThreshold"] == "750ms"
    assert after["CleanupDeadServers"] is False
    assert after["ServerStabilizationTime"] == before["ServerStabilizationTime"]
    assert after["ModifyIndex"] > before["ModifyIndex"]
    # Put the defaults back (a CAS PUT of the original values).
    assert run("set-config", "-max-trailing-logs=250", "-last-contact-threshold=200ms",
               "-cleanup-dead-servers=true", env=env_for(cluster))[0] == 0


def test_set_config_reports_a_lost_race(cluster, monkeypatch) -> None:
    from autopilot_sim.api import client as client_module

    monkeypatch.setattr(client_module.NomadClient, "autopilot_cas_configuration", lambda self, config: False)
    code, out, _ = run("set-config", "-min-quorum=3", env=env_for(cluster))
    assert (code, out) == (1, "Configuration could not be atomically updated, please try again\n")


def test_health_plain_layout(cluster) -> None:
    report = Raw(cluster).json("GET", "/v1/operator/autopilot/health", headers={"X-Nomad-Token": READER})[1]
    code, out, err = run("health", env=env_for(cluster, READER))
    assert (code, err) == (0, "")
    lines = out.split("\n")
    assert lines[0] == "Healthy: true"
    assert lines[1].startswith("FailureTolerance: ")
    assert lines[2].startswith("Leader: node")
    assert lines[3] == "Voters:  "
    # Nomad's quirk: columnize trims the tab of every voter but the first.
    assert lines[4].startswith("\tnode") and lines[5].startswith("node") and lines[6].startswith("node")
    assert lines[7] == "Servers: "
    assert lines[8].split() == ["ID", "Name", "Address", "SerfStatus", "Version", "Leader", "Voter", "Healthy",
                                "LastContact", "LastTerm", "LastIndex", "StableSince"]
    assert len(lines) == 14 and lines[12:] == ["", ""]  # the report ends with "\n", then Output's newline
    row = lines[9].split()
    assert row[:6] == ["node1", "node1.global", "node1", "alive", "1.11.0", "true" if report["Leader"] == "node1" else "false"]
    assert row[-3:] == ["2026-01-01", "00:00:02", "+0000"] or row[-4:-1] == ["2026-01-01", "00:00:02", "+0000"]
    assert lines[9].endswith("+0000 UTC")


def test_health_text_of_a_known_report() -> None:
    report = {"Healthy": False, "FailureTolerance": 0, "Leader": "a", "Voters": ["a", "bb"],
              "Servers": [{"ID": "a", "Name": "a.global", "Address": "a", "SerfStatus": "alive", "Version": "1.11.0",
                           "Leader": True, "Voter": True, "Healthy": True, "LastContact": "0s", "LastTerm": 2,
                           "LastIndex": 10, "StableSince": "2026-01-01T00:00:02Z"},
                          {"ID": "bb", "Name": "", "Address": "bb", "SerfStatus": "failed", "Version": "1.11.0",
                           "Leader": False, "Voter": True, "Healthy": False, "LastContact": "1.5s", "LastTerm": 1,
                           "LastIndex": 4, "StableSince": "2026-01-01T00:01:00Z"}]}
    assert health_text(report) == (
        "Healthy: false\nFailureTolerance: 0\nLeader: a\nVoters:  \n\ta\nbb\nServers: \n"
        "ID  Name      Address  SerfStatus  Version  Leader  Voter  Healthy  LastContact  LastTerm  LastIndex  StableSince\n"
        "a   a.global  a        alive       1.11.0   true    true   true     0s           2         10         2026-01-01 00:00:02 +0000 UTC\n"
        "bb  <none>    bb       failed      1.11.0   false   true   false    1.5s         1         4          2026-01-01 00:01:00 +0000 UTC\n")


def test_health_shows_the_report_on_429_and_exits_1() -> None:
    sc = scenario(events="- {at: 20s, crash: node3}", extra="autopilot: {cleanup_dead_servers: false}")
    with served(sc, paused=True, start_at="80s") as server:
        code, out, err = run("health", env={"NOMAD_ADDR": server.url})
        assert code == 1 and err == "" and out.startswith("Healthy: false\n")
        assert "failed" in out
        code, out, _ = run("health", "-json", env={"NOMAD_ADDR": server.url})
        report = json.loads(Raw(server).request("GET", "/v1/operator/autopilot/health")[2])  # 429: text/plain
        assert code == 1 and json.loads(out) == report
        assert out == json.dumps(report, separators=(",", ":")) + "\n"


def test_errors_read_like_nomads(cluster) -> None:
    code, out, err = run("get-config", env=env_for(cluster, token=None))
    assert (code, out) == (1, "")
    assert err == "Error querying Autopilot configuration: Unexpected response code: 403 (Permission denied)\n"
    code, _, err = run("set-config", "-min-quorum=1", env=env_for(cluster, READER))
    assert code == 1 and err == ("Error setting Autopilot configuration: Unexpected response code: 403 "
                                 "(Permission denied)\n")
    code, _, err = run("health", "-address", "http://127.0.0.1:1", env=env_for(cluster))
    assert code == 1 and err == ('Error querying Autopilot configuration: Get "http://127.0.0.1:1/v1/operator/'
                                 'autopilot/health": dial tcp 127.0.0.1:1: connect: connection refused\n')
    code, _, err = run("get-config", "-region=emea", env=env_for(cluster))
    assert code == 1 and err.endswith("Unexpected response code: 500 (No path to region)\n")
    code, _, err = run("set-config", "-max-trailing-logs=x", env=env_for(cluster))
    assert code == 2 and err == ('Failed to parse args: invalid value "x" for flag -max-trailing-logs: '
                                 'strconv.ParseUint: parsing "x": invalid syntax\n')
    code, out, _ = run("health", "-help")
    assert code == 0 and out.startswith("Usage: autopilot-sim operator autopilot health")


def test_flags_win_over_the_environment(cluster) -> None:
    env = {"NOMAD_ADDR": "http://127.0.0.1:1", "NOMAD_TOKEN": "wrong"}
    code, out, _ = run("get-config", f"-address={cluster.url}", f"-token={READER}", env=env)
    assert code == 0 and out.startswith("CleanupDeadServers = ")
    # An address without a scheme is taken as http://.
    code, _, _ = run("get-config", "-address", f"127.0.0.1:{cluster.port}", "-token", READER)
    assert code == 0


def test_operator_through_the_cli_router(cluster, capsys, monkeypatch) -> None:
    monkeypatch.setenv("NOMAD_ADDR", cluster.url)
    monkeypatch.setenv("NOMAD_TOKEN", READER)
    assert cli_main(["operator", "autopilot", "get-config"]) == 0
    assert capsys.readouterr().out.startswith("CleanupDeadServers = ")
    assert cli_main(["operator", "autopilot"]) == 2


# --- serve ----------------------------------------------------------------------------------------


def write_scenario(tmp_path: Path, acl: bool = False) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text("name: served\nduration: 1h\ncluster: {servers: 3}\nload: {writes_per_second: 5}\n"
                    "events:\n  - {at: 4s, crash: follower}\n")
    return path


def test_serve_exit_at_end_writes_a_run_directory_and_replays(tmp_path: Path, capsys) -> None:
    path = write_scenario(tmp_path)
    out = tmp_path / "served"
    code = cli_main(["serve", str(path), "--port", "0", "--speed", "200", "--until", "12s", "--exit-at-end",
                     "--out", str(out)])
    captured = capsys.readouterr().out
    assert code == 0, captured
    assert "serving served (seed 1) at http://127.0.0.1:" in captured
    assert "session ended at simulated time 12s" in captured
    summary = json.loads((out / "summary.json").read_text())
    assert summary["duration"] == "12s"
    events = (out / "events.jsonl").read_text().splitlines()
    assert json.loads(events[-1])["kind"] == "session_end"
    again = tmp_path / "again"
    assert cli_main(["serve", str(path), "--replay", str(out / "events.jsonl"), "--out", str(again)]) == 0
    for name in ("events.jsonl", "timeline.jsonl", "summary.json", "scenario.yaml"):
        assert (out / name).read_bytes() == (again / name).read_bytes()


@pytest.mark.parametrize("args, message", [
    (["--speed", "0"], "--speed: must be a positive number"),
    (["--speed", "nan"], "--speed: must be a positive number"),
    (["--until", "soon"], '--until: time: invalid duration "soon"'),
    (["--until=-5s"], "--until: must be positive"),
    (["--until=0s"], "--until: must be positive"),
    (["--port", "70000"], "--port: must be 0..65535"),
    (["--replay", "/nonexistent/events.jsonl"], "--replay: cannot read /nonexistent/events.jsonl"),
])
def test_serve_usage_errors(tmp_path: Path, capsys, args, message) -> None:
    path = write_scenario(tmp_path)
    assert cli_main(["serve", str(path), *args]) == 2
    assert message in capsys.readouterr().err


def test_serve_bad_scenario_and_busy_port(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nduration: soon\n")
    assert cli_main(["serve", str(bad), "--port", "0"]) == 2
    assert "duration" in capsys.readouterr().err
    with served(scenario(), paused=True) as server:
        assert cli_main(["serve", str(write_scenario(tmp_path)), "--port", str(server.port)]) == 2
        assert "cannot listen on 127.0.0.1:" in capsys.readouterr().err
