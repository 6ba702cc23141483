"""The conformance runner on raft-autopilot's seven fixtures (shipped in the package), the
project's reconcile cases, and the exit codes."""

from __future__ import annotations

import argparse
import json
import shutil

import pytest

from autopilot_sim.autopilot import conformance
from autopilot_sim.commands import conformance as command

# The same folders `autopilot-sim conformance` defaults to: package data, never skipped.
FIXTURES = conformance.UPSTREAM_CASES_DIR
ACTIONS = conformance.ACTIONS_CASES_DIR
CASES = ("no-leader", "non-voter", "not-the-leader", "one-failed", "staging", "state-overrides", "typical")
N3 = "e72eb8da-604d-47cd-bd7f-69ec120ea2b7"
ACTION_CASES = {
    "failed-non-voter-removed": [{"Op": "RemoveFailedServer", "ID": N3}],
    "failed-voter-cleanup-disabled": [],
    "failed-voter-kept-by-min-quorum": [],
    "failed-voter-removed": [{"Op": "RemoveFailedServer", "ID": N3}],
    "non-voter-promoted-in-waiver": [{"Op": "AddVoter", "ID": N3}],
    "stale-voter-removed": [{"Op": "RemoveServer", "ID": N3}],
    "typical-nothing-to-do": [],
}


def run_cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="autopilot-sim")
    command.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["conformance", *argv])
    return args.func(args)


@pytest.fixture
def cases(tmp_path):
    """A writable copy of the fixtures."""
    dest = tmp_path / "cases"
    shutil.copytree(FIXTURES, dest)
    return dest


def test_all_seven_fixtures_present():
    assert tuple(p.name for p in conformance.find_cases(FIXTURES)) == CASES


@pytest.mark.parametrize("name", CASES)
def test_fixture_state_passes(name):
    outcome = conformance.run_case("state", FIXTURES / name)
    assert outcome.line() == f"PASS {name}"


@pytest.mark.parametrize("name", CASES)
def test_fixture_state_is_byte_identical_to_golden(name):
    inputs, previous = conformance.load_case(FIXTURES / name)
    text = conformance.dumps_go(conformance.state_to_json(conformance.compute_state(inputs, previous)))
    assert text == (FIXTURES / name / "state.json.golden").read_text(encoding="utf-8")


def test_cli_state_all_pass(capsys):
    assert run_cli("state", str(FIXTURES)) == 0
    assert capsys.readouterr().out.splitlines() == [f"PASS {n}" for n in CASES]


def test_cli_single_case_folder(capsys):
    assert run_cli("state", str(FIXTURES / "typical")) == 0
    assert capsys.readouterr().out == "PASS typical\n"


def test_cli_fails_on_a_different_golden(cases, capsys):
    golden = cases / "typical" / "state.json.golden"
    data = json.loads(golden.read_text())
    data["FailureTolerance"] = 2
    data["Servers"]["e72eb8da-604d-47cd-bd7f-69ec120ea2b7"]["Health"]["Healthy"] = False
    golden.write_text(json.dumps(data, indent=1))  # key order and spacing do not matter
    assert run_cli("state", str(cases)) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1] == (
        "FAIL typical: FailureTolerance: expected 2, got 1; "
        "Servers.e72eb8da-604d-47cd-bd7f-69ec120ea2b7.Health.Healthy: expected false, got true"
    )
    assert lines[:-1] == [f"PASS {n}" for n in CASES[:-1]]


def test_cli_write_creates_state_json(cases, capsys):
    assert run_cli("state", str(cases), "--write") == 0
    for name in CASES:
        assert (cases / name / "state.json").read_text() == (cases / name / "state.json.golden").read_text()
    assert capsys.readouterr().out.splitlines()[0] == f"WROTE no-leader: {cases / 'no-leader' / 'state.json'}"


def test_cli_exit_2_for_unreadable_input(cases, capsys):
    (cases / "typical" / "inputs.json").write_text("{not json")
    (cases / "staging" / "inputs.json").write_text('{"Now": 5}')
    assert run_cli("state", str(cases)) == 2
    captured = capsys.readouterr()
    assert "PASS no-leader" in captured.out  # the other cases still ran
    assert "ERROR typical:" in captured.err and "not valid JSON" in captured.err
    assert "staging/inputs.json: inputs.Now: expected an RFC 3339 time, got the number 5" in captured.err


def test_cli_exit_2_for_missing_dir(tmp_path, capsys):
    assert run_cli("state", str(tmp_path / "nope")) == 2
    assert "no such directory" in capsys.readouterr().err
    assert run_cli("actions", str(tmp_path)) == 2  # a folder without cases


def test_actions_of_the_fixtures_are_empty(cases):
    # Nothing to promote (non-voter not yet stable, staging ignored) and nobody dead.
    for name in CASES:
        inputs, previous = conformance.load_case(cases / name)
        assert conformance.actions_to_json(conformance.compute_actions(inputs, previous)) == []


def test_actions_mode_with_goldens(cases, capsys):
    # non-voter case, but autopilot started 5s ago: the waiver promotes node3 at once.
    nv = cases / "non-voter"
    data = json.loads((nv / "inputs.json").read_text())
    data["FirstStateTime"] = "2020-11-02T14:59:55Z"
    (nv / "inputs.json").write_text(json.dumps(data))
    (nv / "actions.json.golden").write_text(
        '[{"Op": "AddVoter", "ID": "e72eb8da-604d-47cd-bd7f-69ec120ea2b7"}]'
    )
    # typical case with node3 failed: 3 voters -> budget 1, MinQuorum 3 -> 2 < 3 refused.
    ty = cases / "typical"
    data = json.loads((ty / "inputs.json").read_text())
    data["KnownServers"]["e72eb8da-604d-47cd-bd7f-69ec120ea2b7"]["NodeStatus"] = "failed"
    (ty / "inputs.json").write_text(json.dumps(data))
    (ty / "actions.json.golden").write_text("[]")
    assert run_cli("actions", str(cases)) == 0
    out = capsys.readouterr().out.splitlines()
    assert "PASS non-voter" in out and "PASS typical" in out
    assert "SKIP staging: no actions.json.golden to compare with" in out
    data["Config"]["MinQuorum"] = 0
    (ty / "inputs.json").write_text(json.dumps(data))
    assert run_cli("actions", str(ty)) == 1
    assert capsys.readouterr().out.startswith("FAIL typical: expected [], got [")


def test_actions_runs_compare_as_sets():
    actual = [{"Op": "AddVoter", "ID": "b"}, {"Op": "AddVoter", "ID": "a"}, {"Op": "RemoveServer", "ID": "c"}]
    same = [{"Op": "AddVoter", "ID": "a"}, {"Op": "AddVoter", "ID": "b"}, {"Op": "RemoveServer", "ID": "c"}]
    moved = [{"Op": "RemoveServer", "ID": "c"}, {"Op": "AddVoter", "ID": "a"}, {"Op": "AddVoter", "ID": "b"}]
    assert conformance.diff_actions(same, actual) == []
    assert conformance.diff_actions(moved, actual) != []
    assert conformance.diff_actions([], actual) != []


def test_old_state_key_is_accepted(tmp_path):
    case = tmp_path / "old"
    case.mkdir()
    (case / "inputs.json").write_text(json.dumps({
        "Now": "2020-11-02T15:00:00.000000001Z",
        "FirstStateTime": "2020-11-02T15:00:00Z",
        "Config": {"LastContactThreshold": 200000000, "MaxTrailingLogs": 10},
        "State": {"Healthy": True, "Servers": {"a": {
            "Server": {"ID": "a", "Name": "old-name"}, "State": "voter",
            "Stats": {"LastContact": 5, "LastTerm": 1, "LastIndex": 9},
            "Health": {"Healthy": True, "StableSince": "2020-11-02T14:00:00.5Z"}}}},
        "RaftConfig": {"Servers": [{"ID": "a", "Address": "10.0.0.1:4647"}]},
        "KnownServers": {"a": {"ID": "a", "Name": "a.global", "NodeStatus": "alive"}},
        "LatestIndex": 10, "LastTerm": 1, "LeaderID": "a", "IsLeader": True,
    }))
    inputs, previous = conformance.load_case(case)
    out = conformance.state_to_json(conformance.compute_state(inputs, previous))
    server = out["Servers"]["a"]
    assert server["Stats"] == {"LastContact": 5, "LastTerm": 1, "LastIndex": 9}  # no fetch: kept
    assert server["Health"] == {"Healthy": True, "StableSince": "2020-11-02T14:00:00.5Z"}
    assert server["Server"]["Name"] == "a.global" and server["Server"]["Address"] == "10.0.0.1:4647"
    assert out["Voters"] == ["a"] and out["Healthy"] is True


# --- shipped cases and the defaults of the command ---------------------------------------------


def test_upstream_fixtures_ship_with_licence_and_origin():
    assert (FIXTURES / "LICENSE").read_text(encoding="utf-8").count("Mozilla Public License Version 2.0") == 1
    origin = (FIXTURES / "ORIGIN.md").read_text(encoding="utf-8")
    assert "https://github.com/hashicorp/raft-autopilot" in origin and "56d1877eec6f" in origin
    for name in CASES:
        assert {p.name for p in (FIXTURES / name).iterdir()} == {"inputs.json", "state.json.golden"}


def test_default_dirs_per_mode():
    assert conformance.default_cases_dir("state") == FIXTURES
    assert conformance.default_cases_dir("actions") == ACTIONS
    with pytest.raises(ValueError):
        conformance.default_cases_dir("nope")


def test_cli_state_defaults_to_the_upstream_cases(capsys):
    assert run_cli("state") == 0
    assert capsys.readouterr().out.splitlines() == [f"PASS {n}" for n in CASES]


def test_cli_actions_defaults_to_the_project_cases(capsys):
    assert run_cli("actions") == 0
    assert capsys.readouterr().out.splitlines() == [f"PASS {n}" for n in sorted(ACTION_CASES)]


@pytest.mark.parametrize("name", sorted(ACTION_CASES))
def test_action_case_golden_is_what_the_readme_says(name):
    # The goldens were written by this project; pin them to the table in their README.
    golden = json.loads((ACTIONS / name / "actions.json.golden").read_text(encoding="utf-8"))
    assert golden == ACTION_CASES[name]
    assert f"`{name}`" in (ACTIONS / "README.md").read_text(encoding="utf-8")


def test_cli_write_without_dir_is_refused(capsys):
    assert run_cli("state", "--write") == 2
    assert "--write needs a DIR" in capsys.readouterr().err
    assert not any(FIXTURES.glob("*/state.json"))
