"""The `validate` and `schema` commands, and the JSON Schema they rely on."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import pytest

from autopilot_sim.commands import schema as schema_cmd
from autopilot_sim.commands import validate as validate_cmd
from autopilot_sim.scenario import Scenario, scenario_json_schema
from autopilot_sim.scenario.jsonschema import valid_keys
from autopilot_sim.scenario.types import DURATION_PATTERN

DEMO = Path(__file__).resolve().parents[1] / "scenarios" / "demo.yaml"


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="autopilot-sim")
    sub = parser.add_subparsers(dest="command")
    validate_cmd.register(sub)
    schema_cmd.register(sub)
    return parser.parse_args(argv)


# --- validate -----------------------------------------------------------------------------------


def test_validate_ok_files_exit_0(capsys):
    args = parse(["validate", str(DEMO)])
    assert args.func(args) == 0
    out, err = capsys.readouterr()
    assert err == ""
    # The demo aims events at roles: validate says those are checked when the run gets there.
    assert out.splitlines() == [
        f"OK {DEMO}",
        f"  note: {DEMO}:47:22: events[0].crash: checked at run time: target `follower` is resolved when the "
        "event fires at 30s",
        f"  note: {DEMO}:49:27: events[2].partition[0][0]: checked at run time: target `leader` is resolved "
        "when the event fires at 2m0s",
    ]


def test_validate_reports_every_error_and_exits_2(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nduration: 1m\nseed: x\nevents:\n  - {at: 5s, crash: node9}\n", encoding="utf-8")
    args = parse(["validate", str(DEMO), str(bad), str(tmp_path / "absent.yaml")])
    assert args.func(args) == 2
    out, err = capsys.readouterr()
    assert out.startswith(f"OK {DEMO}\n")
    assert err.splitlines() == [
        f'{bad}:3:7: seed: expected a whole number, got "x"',
        f'{bad}:5:21: events[0].crash: unknown server "node9"; servers are node1, node2, node3',
        f"{bad}: 2 errors",
        f"{tmp_path / 'absent.yaml'}: cannot read the file: No such file or directory",
        f"{tmp_path / 'absent.yaml'}: 1 error",
    ]


def test_validate_with_set(capsys):
    args = parse(["validate", str(DEMO), "--set", "cluster.servers=0"])
    assert args.func(args) == 2
    assert "--set cluster.servers: server count must be between 1 and 100, got 0" in capsys.readouterr().err


# --- schema -------------------------------------------------------------------------------------


def test_schema_command_prints_valid_json_with_every_top_level_key(capsys):
    args = parse(["schema"])
    assert args.func(args) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["type"] == "object" and schema["additionalProperties"] is False
    assert list(schema["properties"]) == list(Scenario.model_fields)
    assert set(schema["properties"]) == {
        "version", "name", "description", "seed", "duration", "start_time", "cluster", "raft", "gossip",
        "network", "load", "autopilot", "acl", "events", "expect"}
    assert schema["required"] == ["name", "duration"]


def test_schema_command_writes_a_file(tmp_path):
    target = tmp_path / "scenario.schema.json"
    args = parse(["schema", "-o", str(target)])
    assert args.func(args) == 0
    assert json.loads(target.read_text(encoding="utf-8")) == scenario_json_schema()


def test_schema_describes_the_yaml_not_the_python_objects():
    schema = scenario_json_schema()
    defs = schema["$defs"]
    duration = schema["properties"]["duration"]
    assert {"type": "string", "pattern": DURATION_PATTERN} in duration["anyOf"]
    # Defaults of durations are Go duration text, and internal markers are gone.
    assert defs["RaftSpec"]["properties"]["leader_lease_timeout"]["default"] == "500ms"
    assert defs["GossipSpec"]["properties"]["reconnect_timeout"]["default"] == "72h0m0s"
    assert "x-go-duration" not in json.dumps(schema)
    assert schema["properties"]["start_time"]["format"] == "date-time"
    servers = defs["ClusterSpec"]["properties"]["servers"]["anyOf"]
    assert servers[0]["type"] == "integer" and servers[1]["type"] == "array"
    assert {"required": ["crash"]} in defs["Event"]["oneOf"]
    assert defs["LinkSpec"]["required"] == ["from", "to"]
    assert defs["PauseSpec"]["required"] == ["server", "for"]


@pytest.mark.parametrize(
    ("text", "ok"),
    [("150ms", True), ("1m30s", True), ("1.5h", True), ("-2s", True), ("0", True), ("1µs", True),
     ("30", False), ("5 s", False), ("1d", False), ("", False)],
)
def test_duration_pattern_agrees_with_go(text, ok):
    assert bool(re.match(DURATION_PATTERN, text)) is ok


def test_valid_keys_walks_the_schema():
    assert valid_keys(("load",)) == ["writes_per_second"]
    assert valid_keys(("events", 0))[:3] == ["at", "crash", "restart"]
    assert valid_keys(("network", "latency"), {"distribution": "normal"}) == ["distribution", "mean", "stddev"]
    assert valid_keys(("expect", 2, "servers", "node1")) == ["healthy", "voter", "leader", "serf_status"]


def test_scenario_files_and_their_resolved_form_conform_to_the_schema():
    jsonschema = pytest.importorskip("jsonschema")
    from autopilot_sim.scenario import load_scenario
    from autopilot_sim.scenario.yamlsource import parse_yaml

    schema = scenario_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for text in (DEMO.read_text(encoding="utf-8"), load_scenario(DEMO).to_resolved_yaml()):
        raw, _ = parse_yaml(text, "demo")
        assert [e.message for e in validator.iter_errors(raw)] == []
    raw, _ = parse_yaml("name: x\nduration: 1m\nevents:\n  - {at: 1s, crsh: leader}\n", "bad")
    assert list(validator.iter_errors(raw))
