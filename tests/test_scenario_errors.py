"""Bad scenario files: every class of mistake is reported with file, line, column, key path and a
message for people — and all problems of a file at once."""

from __future__ import annotations

import textwrap

import pytest

from autopilot_sim.scenario import LocatedError, ScenarioError, load_scenario, load_scenario_text
from autopilot_sim.scenario.types import DURATION_HINT


def errors_of(text: str, filename: str = "t.yaml") -> list[LocatedError]:
    """Load ``text`` expecting failure; return the located errors."""
    with pytest.raises(ScenarioError) as info:
        load_scenario_text(textwrap.dedent(text).lstrip("\n"), filename=filename)
    assert isinstance(info.value, ValueError)
    return info.value.errors


def only_error(text: str) -> LocatedError:
    errors = errors_of(text)
    assert len(errors) == 1, "\n".join(map(str, errors))
    return errors[0]


HEAD = "name: t\nduration: 2m\n"


# --- YAML itself --------------------------------------------------------------------------------


def test_yaml_syntax_error_has_line_and_column():
    err = only_error(HEAD + "raft:\n  heartbeat_timeout: 1s\n   election_timeout: 2s\n")
    assert (err.file, err.line, err.column) == ("t.yaml", 5, 20)
    # Plain words first, the parser's own text after them.
    assert err.message.startswith("YAML syntax error: a ':' inside a value: quote the value")
    assert "(parser: mapping values are not allowed here" in err.message
    assert str(err).startswith("t.yaml:5:20: YAML syntax error:")


def test_unquoted_indexed_target_in_flow_style_gets_a_hint():
    err = only_error(HEAD + "events:\n  - {at: 5s, crash: follower[1]}\n")
    assert err.line == 4
    assert 'quote an indexed target: "follower[1]"' in err.message


def test_duplicate_key_is_an_error_not_silently_last_wins():
    err = only_error(HEAD + "seed: 2\nseed: 3\n")
    assert (err.line, err.column, err.path) == (4, 1, "seed")
    assert err.message == 'duplicate key "seed" (first at line 3)'


def test_empty_file_and_non_mapping_top_level():
    err = only_error("")
    assert (err.line, err.message) == (1, "the file is empty: a scenario needs at least name and duration")
    err = only_error("- a\n- b\n")
    assert (err.line, err.column) == (1, 1)
    assert "a scenario is a mapping" in err.message and "got a list" in err.message


# --- keys ---------------------------------------------------------------------------------------


def test_unknown_key_points_at_the_key_with_did_you_mean():
    err = only_error(HEAD + "autopilot:\n  max_trailing_logs: 10\n  sever_stabilization_time: 30s\n")
    assert (err.line, err.column, err.path) == (5, 3, "autopilot.sever_stabilization_time")
    assert err.message == 'unknown key "sever_stabilization_time"; did you mean "server_stabilization_time"?'


def test_unknown_key_without_close_match_lists_valid_keys():
    err = only_error(HEAD + "load:\n  qps: 5\n")
    assert err.path == "load.qps"
    assert err.message == 'unknown key "qps"; valid keys are writes_per_second'


def test_unknown_top_level_key_and_unknown_event_kind():
    errors = errors_of(HEAD + "sed: 4\nevents:\n  - {at: 1s, crsh: node1}\n")
    assert [(e.line, e.path, e.message) for e in errors] == [
        (3, "sed", 'unknown key "sed"; did you mean "seed"?'),
        (5, "events[0].crsh", 'unknown key "crsh"; did you mean "crash"?'),
    ]


def test_unknown_key_inside_a_distribution_suggests_that_distributions_keys():
    err = only_error(HEAD + "network:\n  latency: {distribution: normal, mean: 1ms, stdev: 1ms}\n")
    assert err.path == "network.latency.stdev"
    assert err.message == 'unknown key "stdev"; did you mean "stddev"?'


def test_missing_required_keys_point_at_the_enclosing_mapping():
    errors = errors_of("description: nothing else\n")
    assert [(e.line, e.column, e.path, e.message) for e in errors] == [
        (1, 1, "name", "missing required key"),
        (1, 1, "duration", "missing required key"),
    ]
    err = only_error(HEAD + "cluster:\n  servers:\n    - name: a\n    - version: 1.10.0\n")
    assert (err.line, err.column, err.path, err.message) == (6, 7, "cluster.servers[1].name", "missing required key")


# --- types, values, ranges ---------------------------------------------------------------------


def test_type_errors_say_what_was_expected_and_what_was_found():
    errors = errors_of(HEAD + "raft:\n  prevote: maybe\nseed: lots\ncluster: {enterprise: 1}\n")
    assert [(e.line, e.column, e.path, e.message) for e in errors] == [
        (4, 12, "raft.prevote", 'expected true or false, got "maybe"'),
        (5, 7, "seed", 'expected a whole number, got "lots"'),
        (6, 23, "cluster.enterprise", "expected true or false, got 1"),
    ]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('"5 s"', 'time: unknown unit " s" in duration "5 s"'),
        ("1d", 'time: unknown unit "d" in duration "1d"'),
        ("30", 'time: missing unit in duration "30"'),
        ("soon", 'time: invalid duration "soon"'),
        ("true", 'expected a duration such as "30s", got true'),
    ],
)
def test_bad_durations_carry_gos_message(value, message):
    err = only_error(HEAD + f"gossip:\n  probe_interval: {value}\n")
    assert (err.line, err.column, err.path) == (4, 19, "gossip.probe_interval")
    # Go's own text, then the valid units (the hint is left out where the value is no string).
    assert err.message == (message if value == "true" else f"{message}; {DURATION_HINT}")


def test_zero_duration_is_go_text_zero_but_positive_fields_reject_it():
    err = only_error(HEAD + "gossip:\n  tcp_timeout: 0\n")
    assert err.message == "must be more than 0s, got 0s"


def test_out_of_range_values():
    errors = errors_of(
        HEAD
        + "seed: -1\nnetwork:\n  loss: 1.5\nraft:\n  raft_multiplier: 11\n  max_append_entries: 0\n"
        + "autopilot:\n  max_trailing_logs: -5\ncluster:\n  servers: 0\n"
    )
    assert [(e.line, e.path, e.message) for e in errors] == [
        (3, "seed", "must be >= 0, got -1"),
        (5, "network.loss", "must be < 1.0, got 1.5"),
        (7, "raft.raft_multiplier", "must be <= 10, got 11"),
        (8, "raft.max_append_entries", "must be >= 1, got 0"),
        (10, "autopilot.max_trailing_logs", "must be >= 0, got -5"),
        (12, "cluster.servers", "server count must be between 1 and 100, got 0"),
    ]


def test_hashicorp_raft_rules_point_at_the_offending_key():
    err = only_error(HEAD + "raft:\n  heartbeat_timeout: 1s\n  leader_lease_timeout: 2s\n")
    assert (err.line, err.path) == (5, "raft.leader_lease_timeout")
    assert err.message == "hashicorp/raft requires leader_lease_timeout ≤ heartbeat_timeout; got 2s > 1s"
    err = only_error(HEAD + "raft:\n  election_timeout: 500ms\n")
    assert err.path == "raft.election_timeout"
    assert "election_timeout ≥ heartbeat_timeout" in err.message
    err = only_error(HEAD + "raft:\n  commit_timeout: 500us\n")
    assert err.message == "hashicorp/raft requires commit_timeout ≥ 1ms; got 500µs"


def test_raft_rules_apply_to_the_scaled_values():
    # 3ms × 2 = 6ms ≥ 5ms: what hashicorp/raft sees is valid.
    load_scenario_text(HEAD + "raft:\n  raft_multiplier: 2\n  leader_lease_timeout: 3ms\n")


def test_paper_timing_needs_both_keys():
    err = only_error(HEAD + "raft:\n  election_timeout_range: [150ms, 300ms]\n")
    assert err.path == "raft.election_timeout_range"
    assert "heartbeat_interval is missing" in err.message
    err = only_error(HEAD + "raft:\n  election_timeout_range: [300ms, 150ms]\n  heartbeat_interval: 50ms\n")
    assert err.path == "raft.election_timeout_range[1]"


def test_bad_literals_and_distribution_tags_get_did_you_mean():
    errors = errors_of(
        HEAD + "acl:\n  anonymous: operator-reed\nnetwork:\n  latency: {distribution: unifrm, min: 1ms, max: 2ms}\n"
    )
    assert [(e.line, e.column, e.path, e.message) for e in errors] == [
        (4, 14, "acl.anonymous",
         'expected none | operator-read | operator-write, got "operator-reed"; did you mean "operator-read"?'),
        (6, 12, "network.latency",
         'unknown distribution "unifrm"; did you mean "uniform"? (one of constant, uniform, normal, '
         "lognormal, exponential)"),
    ]


def test_uniform_min_above_max():
    err = only_error(HEAD + "network:\n  latency: {distribution: uniform, min: 5ms, max: 1ms}\n")
    assert (err.path, err.message) == ("network.latency.max", "max (1ms) must be at least min (5ms)")


def test_server_names_and_versions():
    errors = errors_of(
        HEAD + "cluster:\n  servers:\n    - {name: Node1}\n    - {name: leader}\n    - {name: b, version: 1.10}\n"
        "    - {name: b}\n"
    )
    assert [(e.line, e.path) for e in errors] == [
        (5, "cluster.servers[0].name"),
        (6, "cluster.servers[1].name"),
        (7, "cluster.servers[2].version"),
    ]
    assert errors[1].message == '"leader" is reserved (it selects servers by role); choose another name'
    assert errors[2].message == 'a version must be text: write it in quotes, e.g. "1.10.0"'
    err = only_error(HEAD + "cluster:\n  servers:\n    - {name: a}\n    - {name: a}\n")
    assert (err.line, err.path, err.message) == (6, "cluster.servers[1].name", 'duplicate server name "a" (also servers[0])')


def test_enterprise_only_server_fields_need_enterprise():
    err = only_error(HEAD + "cluster:\n  servers:\n    - {name: a, non_voting: true}\n    - {name: b}\n")
    assert err.path == "cluster.servers[0].non_voting"
    assert err.message == "non_voting is an Enterprise feature; set cluster.enterprise: true"


# --- events -----------------------------------------------------------------------------------


def test_unknown_server_in_an_event_lists_the_servers():
    err = only_error(HEAD + "cluster:\n  servers: 3\nevents:\n  - {at: 1s, crash: node1}\n  - {at: 2s, crash: node9}\n")
    assert (err.file, err.line, err.column, err.path) == ("t.yaml", 7, 21, "events[1].crash")
    assert err.message == 'unknown server "node9"; servers are node1, node2, node3'
    assert str(err) == 't.yaml:7:21: events[1].crash: unknown server "node9"; servers are node1, node2, node3'


def test_unknown_server_typo_gets_a_suggestion():
    err = only_error(HEAD + "events:\n  - {at: 1s, leave: nod2}\n")
    assert err.message == 'unknown server "nod2"; did you mean "node2"? servers are node1, node2, node3'


def test_joined_servers_are_known_after_their_join_only():
    text = HEAD + (
        "events:\n"
        "  - {at: 5s, crash: node4}\n"
        "  - {at: 10s, join: {name: node4}}\n"
        "  - {at: 20s, pause: {server: node4, for: 5s}}\n"
        "  - {at: 30s, partition: [[node1, node4], [node2, nodex]]}\n"
    )
    errors = errors_of(text)
    assert [(e.line, e.path) for e in errors] == [(4, "events[0].crash"), (7, "events[3].partition[1][1]")]
    assert errors[0].message == 'server "node4" does not exist yet at 5s: it joins at 10s (events[1])'
    assert errors[1].message.startswith('unknown server "nodex"')


def test_join_of_an_existing_server():
    err = only_error(HEAD + "events:\n  - {at: 5s, join: {name: node2}}\n")
    assert err.path == "events[0].join.name"
    assert err.message.startswith('server "node2" is already running at 5s')
    # After a leave, the name may join again.
    load_scenario_text(HEAD + "events:\n  - {at: 5s, leave: node2}\n  - {at: 9s, join: {name: node2}}\n")


def test_events_after_duration_and_in_any_order():
    # Events are sorted by time, not refused out of order: the restart at 30s now comes before the
    # crash at 1m, and the error about it points at the line the user wrote it on.
    errors = errors_of(HEAD + "events:\n  - {at: 1m, crash: node1}\n  - {at: 30s, restart: node1}\n"
                              "  - {at: 3m, heal: all}\n")
    assert [(e.line, e.column, e.path, e.message) for e in errors] == [
        (5, 24, "events[1].restart", "node1 is running at 30s; restart starts a server that crashed or left: "
                                     "crash it first"),
        (6, 10, "events[2].at", "at 3m0s is after the end of the scenario (duration 2m0s)"),
    ]


def test_partition_naming_a_server_twice():
    err = only_error(HEAD + "events:\n  - at: 1s\n    partition:\n      - [node1, node2]\n      - [node3, node2]\n")
    assert (err.line, err.column, err.path) == (7, 17, "events[0].partition[1][1]")
    assert err.message == '"node2" is in the partition twice (also at partition[0][1])'
    # follower and follower[0] are the same target.
    err = only_error(HEAD + "events:\n  - {at: 1s, partition: [[follower], ['follower[0]']]}\n")
    assert err.path == "events[0].partition[1][0]"


def test_event_shape_errors():
    errors = errors_of(
        HEAD + "events:\n"
        "  - {at: 1s}\n"
        "  - {at: 2s, crash: node1, restart: node1}\n"
        "  - {at: 3s, heal: sometimes}\n"
        "  - {at: 4s, cut: {from: node1, to: node1}}\n"
        "  - {at: 5s, pause: {server: node1, for: 30}}\n"
        "  - {at: 6s, restart: leader}\n"
        "  - {crash: node1}\n"
    )
    assert [(e.line, e.path) for e in errors] == [
        (4, "events[0]"),
        (5, "events[1].restart"),
        (6, "events[2].heal"),
        (7, "events[3].cut.to"),
        (8, "events[4].pause.for"),
        (9, "events[5].restart"),
        (10, "events[6].at"),
    ]
    messages = [e.message for e in errors]
    assert messages[0].startswith("an event needs a kind: one of crash, restart")
    assert messages[1].startswith("an event has exactly one kind, this one has crash and restart")
    assert messages[2] == 'expected "all" or {from: <server>, to: <server>}, got "sometimes"'
    assert messages[3] == 'from and to are the same server ("node1")'
    assert messages[4] == f'time: missing unit in duration "30"; {DURATION_HINT}'
    assert messages[5].startswith('restart "leader" needs an earlier `crash: leader`')
    assert messages[6] == "missing required key"


def test_restart_of_a_crashed_role_target_is_allowed():
    scenario = load_scenario_text(HEAD + "events:\n  - {at: 1s, crash: leader}\n  - {at: 9s, restart: leader}\n")
    assert [e.kind for e in scenario.events] == ["crash", "restart"]


# --- expectations -------------------------------------------------------------------------------


def test_expectations_on_servers_that_never_exist():
    errors = errors_of(
        HEAD + "events:\n  - {at: 5s, join: {name: node4}}\nexpect:\n"
        "  - at: 10s\n    leader: node7\n    servers:\n      node4: {voter: true}\n      node8: {healthy: true}\n"
    )
    assert [(e.line, e.column, e.path) for e in errors] == [
        (7, 13, "expect[0].leader"),
        (10, 7, "expect[0].servers.node8"),  # points at the key
    ]
    assert errors[1].message == 'unknown server "node8"; servers are node1, node2, node3, node4'


def test_expectation_shape_errors():
    errors = errors_of(
        HEAD + "expect:\n"
        "  - at: 10s\n"
        "  - {within: [30s, 10s], leader: any}\n"
        "  - {always: [1s, 2s, 3s], leader: any}\n"
        "  - {at: 1s, within: [1s, 2s], healthy: true}\n"
        "  - {at: 3m, healthy: true}\n"
        "  - {at: 1s, voters: {min: 3, max: 2}}\n"
        "  - {at: 1s, failure_tolerance: lots}\n"
        "  - {at: 1s, servers: {node1: {serf_status: dead}}}\n"
    )
    assert [(e.line, e.path, e.message) for e in errors] == [
        (4, "expect[0]", "an expectation needs at least one check: healthy, failure_tolerance, leader, voters, servers"),
        (5, "expect[1].within[1]", "the window ends (10s) before it starts (30s)"),
        (6, "expect[2].always", "expected a window [start, end] of two durations, got 3 items"),
        (7, "expect[3].within", "an expectation has exactly one of at, within, always; this one has at and within"),
        (8, "expect[4].at", "3m0s is after the end of the scenario (duration 2m0s)"),
        (9, "expect[5].voters.max", "max (2) must be at least min (3)"),
        (10, "expect[6].failure_tolerance", 'expected a number or a range {min: N, max: M}, got "lots"'),
        (11, "expect[7].servers.node1.serf_status",
         'expected alive | failed | left | leaving | none, got "dead"'),
    ]


# --- all at once --------------------------------------------------------------------------------


def test_all_problems_are_reported_in_file_order():
    text = HEAD + (
        "seed: -1\n"
        "cluster:\n  regon: west\n"
        "raft:\n  prevote: maybe\n"
        "events:\n  - {at: 30s, crash: node9}\n  - {at: 20s, crash: node1}\n"
    )
    errors = errors_of(text)
    # (events out of time order are no problem: they are sorted)
    assert [e.path for e in errors] == ["seed", "cluster.regon", "raft.prevote", "events[0].crash"]
    assert [e.line for e in errors] == sorted(e.line for e in errors)
    # A mistake elsewhere in `cluster` does not hide the server-name check.
    assert errors[3].message.startswith('unknown server "node9"')


def test_load_scenario_reports_the_path_it_was_given(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(HEAD + "seed: x\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(info.value) == f'{path}:3:7: seed: expected a whole number, got "x"'
    with pytest.raises(ScenarioError) as info:
        load_scenario(tmp_path / "missing.yaml")
    (err,) = info.value.errors
    assert err.line is None and "cannot read the file" in err.message


def test_links_name_servers_that_exist():
    errors = errors_of(
        HEAD + "network:\n  links:\n    - {from: node1, to: node7}\n    - {from: node1, to: node2}\n"
        "    - {from: node1, to: node2, loss: 0.1}\n"
        "events:\n  - {at: 1s, set_network: {links: [{from: node5, to: node1}]}}\n"
    )
    assert [(e.line, e.path) for e in errors] == [
        (5, "network.links[0].to"),
        (7, "network.links[2]"),
        (9, "events[0].set_network.links[0].from"),
    ]
    assert errors[1].message == "duplicate link node1 → node2 (also links[1])"


def test_bootstrap_expect_counts_voting_servers_including_later_joins():
    err = only_error(HEAD + "cluster:\n  servers: 2\n  bootstrap_expect: 3\n")
    assert (err.line, err.path) == (5, "cluster.bootstrap_expect")
    assert err.message.startswith("bootstrap_expect is 3 but the scenario only ever has 2 voting server(s)")
    # A third server joining later lets Raft bootstrap then.
    load_scenario_text(HEAD + "cluster:\n  servers: 2\n  bootstrap_expect: 3\n"
                              "events:\n  - {at: 10s, join: {name: node3}}\n")


def test_link_indexes_stay_right_when_an_earlier_link_is_invalid():
    errors = errors_of(HEAD + "network:\n  links:\n    - {from: node1}\n    - {from: node2, to: node9}\n")
    assert [(e.line, e.path) for e in errors] == [(5, "network.links[0].to"), (6, "network.links[1].to")]
    assert errors[1].message.startswith('unknown server "node9"')


def test_partition_of_names_suggests_the_list_of_groups():
    err = only_error(HEAD + "events:\n  - {at: 5s, partition: [leader]}\n")
    assert err.path == "events[0].partition"
    assert "write [[leader]] for one group" in err.message


@pytest.mark.parametrize(("text", "plain"), [
    ("raft:\n\theartbeat_timeout: 1s\n", "a tab character: YAML indents with spaces only"),
    ("raft: {heartbeat_timeout: 1s\nseed: 3\n", "a { } mapping is not closed, or a ',' is missing"),
    ("events:\n  - {at: 5s, crash: leader}\n   - {at: 9s, restart: leader}\n",
     "this list item is indented differently from the items above it"),
])
def test_common_yaml_mistakes_are_said_in_plain_words(text, plain):
    err = only_error(HEAD + text)
    assert err.message.startswith(f"YAML syntax error: {plain}") and "(parser: " in err.message


def test_paper_vote_rules_need_prevote_off_and_a_known_value():
    err = only_error(HEAD + "raft:\n  vote_rules: paper\n")
    assert err.path == "raft.vote_rules" and err.line == 4
    assert "prevote: false" in err.message
    err = only_error(HEAD + "raft:\n  vote_rules: logcabin\n  prevote: false\n")
    assert err.path == "raft.vote_rules" and "hashicorp" in err.message and "paper" in err.message
    load_scenario_text(HEAD + "raft:\n  vote_rules: paper\n  prevote: false\n")


def test_an_error_stays_one_line_whatever_the_values_hold():
    text = ('name: "a\\nb"\nduration: 1m\ncluster: {servers: 3}\n'
            'events:\n  - {at: 5s, crash: "no\\tde\\u001b1"}\n')
    with pytest.raises(ScenarioError) as info:
        load_scenario_text(text)
    shown = [str(e) for e in info.value.errors]
    assert all("\n" not in line and "\t" not in line and "\x1b" not in line for line in shown)
    assert 'invalid name "a\\nb"' in shown[0]
    assert 'invalid target "no\\tde\\x1b1"' in shown[1]
