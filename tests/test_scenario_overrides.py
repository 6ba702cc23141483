"""``--set KEY=VALUE`` overrides: applied by dotted path, validated like the file, and a bad one is
reported against ``--set KEY``."""

from __future__ import annotations

import pytest

from autopilot_sim.durations import MILLISECOND, SECOND
from autopilot_sim.scenario import ConstantDistribution, ScenarioError, apply_overrides, load_scenario
from autopilot_sim.scenario.overrides import OverrideError, parse_key
from autopilot_sim.scenario.types import DURATION_HINT

TEXT = """\
name: base
duration: 2m
cluster:
  servers: [{name: node1}, {name: node2}, {name: node3}]
events:
  - {at: 10s, crash: node1}
"""


def errors(overrides: list[str], source=TEXT) -> list:
    with pytest.raises(ScenarioError) as info:
        apply_overrides(source, overrides)
    return info.value.errors


def test_valid_overrides_are_applied_in_order():
    s = apply_overrides(TEXT, [
        "autopilot.server_stabilization_time=30s",
        "cluster.servers=7",
        "seed=3",
        "seed=4",
        "events[0].at=20s",
        "network.latency={distribution: constant, value: 2ms}",
        "raft.prevote=false",
        "description=from --set",
    ])
    assert s.autopilot.server_stabilization_time == 30 * SECOND
    assert [srv.name for srv in s.cluster.servers] == [f"node{i}" for i in range(1, 8)]
    assert s.cluster.bootstrap_expect == 7
    assert s.seed == 4
    assert s.events[0].at == 20 * SECOND and s.events[0].line == 6
    assert s.network.latency == ConstantDistribution(value=2 * MILLISECOND)
    assert s.raft.prevote is False and s.description == "from --set"


def test_dotted_index_and_quoted_keys():
    assert parse_key('expect[0].servers["node.1"].healthy') == ("expect", 0, "servers", "node.1", "healthy")
    assert parse_key("events.0.at") == ("events", "0", "at")
    s = apply_overrides(TEXT, ["events.0.at=15s", "cluster.servers.1.version=1.10.0"])
    assert s.events[0].at == 15 * SECOND and s.cluster.servers[1].version == "1.10.0"
    for bad in ("", "a..b", ".a", "a.", "a]"):
        with pytest.raises(OverrideError):
            parse_key(bad)


def test_overrides_on_a_raw_mapping_do_not_modify_it():
    raw = {"name": "m", "duration": "1m", "load": {"writes_per_second": 1}}
    s = apply_overrides(raw, ["load.writes_per_second=50", "gossip.probe_interval=1s"])
    assert s.load.writes_per_second == 50.0 and s.gossip.probe_interval == 1 * SECOND
    assert raw == {"name": "m", "duration": "1m", "load": {"writes_per_second": 1}}


def test_load_scenario_takes_overrides(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(TEXT, encoding="utf-8")
    assert load_scenario(path, overrides=["seed=9"]).seed == 9
    assert load_scenario(path).seed == 1


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("autopilot.server_stabilization_time=soon",
         '--set autopilot.server_stabilization_time: time: invalid duration "soon"; ' + DURATION_HINT),
        ("autopilot.sever_stabilization_time=30s",
         '--set autopilot.sever_stabilization_time: unknown key "sever_stabilization_time"; '
         'did you mean "server_stabilization_time"?'),
        ("cluster.servers=0", "--set cluster.servers: server count must be between 1 and 100, got 0"),
        ("seed=-2", "--set seed: must be >= 0, got -2"),
        ("seed", "--set seed: expected KEY=VALUE, got 'seed'"),
        ("events[3].at=1s", "--set events[3].at: events has 1 item (indexes 0..0)"),
        ("name.first=x", '--set name.first: cannot set inside name: it is "base", not a mapping or list'),
        ("events.0.at=5", '--set events.0.at: time: missing unit in duration "5"; ' + DURATION_HINT),
        ("raft.heartbeat_timeout=[1",
         "--set raft.heartbeat_timeout: YAML syntax error in the value: a [ ] list is not closed, or a ',' "
         "is missing between its items (parser: expected ',' or ']', but got '<stream end>' (while parsing a "
         "flow sequence at line 1))"),
        # A mapping the override itself created is located at the override, not at the file's end.
        ("nosuch.key=3", '--set nosuch.key: nosuch: unknown key "nosuch"; valid keys are version, name, '
         "description, seed, duration, start_time, cluster, raft, gossip, network, load, autopilot, acl, "
         "events, expect"),
        ("cluster.nosuch.deep=3", '--set cluster.nosuch.deep: cluster.nosuch: unknown key "nosuch"; valid keys '
         "are servers, bootstrap_expect, region, enterprise, nomad_version"),
        ("events[0]={at: 5s, crash: node9}",
         '--set events[0]: events[0].crash: unknown server "node9"; servers are node1, node2, node3'),
    ],
)
def test_invalid_override_is_located_at_set_key(override, expected):
    (err,) = errors([override])
    assert err.file.startswith("--set ") and err.line is None and err.column is None
    assert str(err) == expected


def test_file_errors_stay_in_the_file_and_override_errors_come_last():
    errs = errors(["seed=x", "cluster.servers=2"], source=TEXT.replace("crash: node1", "crash: node3"))
    assert [str(e) for e in errs] == [
        '<string>:6:22: events[0].crash: unknown server "node3"; servers are node1, node2',
        '--set seed: expected a whole number, got "x"',
    ]


def test_an_override_can_fix_an_invalid_file():
    bad = TEXT.replace("duration: 2m", "duration: 2")
    with pytest.raises(ScenarioError):
        apply_overrides(bad, [])
    assert apply_overrides(bad, ["duration=3m"]).duration == 180 * SECOND
