"""AutopilotConfig: defaults, wire format both ways, Go-like decoding and errors, the CAS store
(docs/behaviour/autopilot.md §9.2, §9.3, §10, §12.7)."""

from __future__ import annotations

import dataclasses
import json

import pytest

from autopilot_sim.autopilot.config import (
    AutopilotConfig,
    ConfigStore,
    ConfigWireError,
    parse_cas_param,
)
from autopilot_sim.durations import MILLISECOND, SECOND

AUX = "struct { LastContactThreshold string; ServerStabilizationTime string; *api.Alias }"


def test_nomad_defaults():
    cfg = AutopilotConfig()
    assert cfg.cleanup_dead_servers is True
    assert cfg.last_contact_threshold == 200 * MILLISECOND
    assert cfg.max_trailing_logs == 250
    assert cfg.min_quorum == 0
    assert cfg.server_stabilization_time == 10 * SECOND
    assert (cfg.enable_redundancy_zones, cfg.disable_upgrade_migration, cfg.enable_custom_upgrades) == (
        False, False, False,
    )


def test_to_wire_matches_nomad_get_response():
    body = AutopilotConfig(create_index=4, modify_index=4).to_wire()
    assert body == {
        "CleanupDeadServers": True,
        "LastContactThreshold": "200ms",
        "MaxTrailingLogs": 250,
        "MinQuorum": 0,
        "ServerStabilizationTime": "10s",
        "EnableRedundancyZones": False,
        "DisableUpgradeMigration": False,
        "EnableCustomUpgrades": False,
        "CreateIndex": 4,
        "ModifyIndex": 4,
    }
    # Go's encoder writes the two shadowing string fields of the MarshalJSON wrapper first.
    assert list(body)[:3] == ["LastContactThreshold", "ServerStabilizationTime", "CleanupDeadServers"]
    assert json.dumps(AutopilotConfig(last_contact_threshold=1500 * MILLISECOND,
                                      server_stabilization_time=90 * SECOND).to_wire()).startswith(
        '{"LastContactThreshold": "1.5s", "ServerStabilizationTime": "1m30s"'
    )


def test_round_trip_through_the_wire():
    cfg = AutopilotConfig(
        cleanup_dead_servers=False, last_contact_threshold=123 * MILLISECOND, max_trailing_logs=99,
        min_quorum=3, server_stabilization_time=123 * MILLISECOND, enable_redundancy_zones=True,
        disable_upgrade_migration=True, enable_custom_upgrades=True, create_index=7, modify_index=9,
    )
    back = AutopilotConfig.from_wire(json.dumps(cfg.to_wire()))
    assert back == AutopilotConfig(
        cleanup_dead_servers=False, last_contact_threshold=123 * MILLISECOND, max_trailing_logs=99,
        min_quorum=3, server_stabilization_time=123 * MILLISECOND, enable_redundancy_zones=True,
        disable_upgrade_migration=True, enable_custom_upgrades=True, create_index=0, modify_index=0,
    )
    assert AutopilotConfig.from_wire(cfg.to_wire()) == back  # an already parsed dict works too


def test_full_replacement_absent_fields_become_zero():
    cfg = AutopilotConfig.from_wire(b'{"CleanupDeadServers": false}')
    assert cfg == AutopilotConfig.zero()
    cfg = AutopilotConfig.from_wire(b'{"MaxTrailingLogs": 7}')
    assert (cfg.cleanup_dead_servers, cfg.max_trailing_logs, cfg.last_contact_threshold) == (False, 7, 0)
    assert AutopilotConfig.from_wire(b"{}") == AutopilotConfig.zero()
    assert AutopilotConfig.from_wire(b"null") == AutopilotConfig.zero()


def test_lenient_decoding():
    cfg = AutopilotConfig.from_wire(
        b' {"cleanupdeadservers": true, "MAXTRAILINGLOGS": 5, "lastContactThreshold": "1s",'
        b' "Unknown": {"nested": [1, 2]}, "minquorum": 1, "MinQuorum": 2,'
        b' "ServerStabilizationTime": "", "EnableCustomUpgrades": null,'
        b' "CreateIndex": 5, "ModifyIndex": 9} trailing garbage is ignored'
    )
    assert cfg.cleanup_dead_servers is True
    assert cfg.max_trailing_logs == 5
    assert cfg.last_contact_threshold == SECOND
    assert cfg.min_quorum == 2  # the last duplicate wins, whatever its case
    assert cfg.server_stabilization_time == 0  # "" means zero
    assert cfg.enable_custom_upgrades is False  # null leaves the zero value
    assert (cfg.create_index, cfg.modify_index) == (0, 0)  # indexes in the body are ignored


def test_negative_and_unusual_durations_accepted():
    cfg = AutopilotConfig.from_wire('{"LastContactThreshold": "-1s", "ServerStabilizationTime": "1h2m3.5s"}')
    assert cfg.last_contact_threshold == -SECOND
    assert cfg.server_stabilization_time == 3723 * SECOND + 500 * MILLISECOND
    assert AutopilotConfig.from_wire('{"LastContactThreshold": "0"}').last_contact_threshold == 0
    big = AutopilotConfig.from_wire('{"MaxTrailingLogs": 18446744073709551615}')
    assert big.max_trailing_logs == 2**64 - 1


@pytest.mark.parametrize(
    "body,go_error",
    [
        (b"", "Request body is empty"),
        (b"  \n", "EOF"),
        (b'{"MinQuorum": 3', "unexpected EOF"),
        (b'{"MinQuorum": 3, "', "unexpected EOF"),
        (b"-", "unexpected EOF"),
        (b"x", "invalid character 'x' looking for beginning of value"),
        (b"nope", "invalid character 'o' in literal null (expecting 'u')"),
        (b'{"MinQuorum" 3}', "invalid character '3' after object key"),
        (b"{MinQuorum: 3}", "invalid character 'M' looking for beginning of object key string"),
        (b'{"a": 1,}', "invalid character '}' looking for beginning of object key string"),
        (b'{"a": [1,]}', "invalid character ']' looking for beginning of value"),
        (b'{"a": [1 2]}', "invalid character '2' after array element"),
        (b'{"a": 1 "b": 2}', "invalid character '\"' after object key:value pair"),
        (b'{"a": 01}', "invalid character '1' after object key:value pair"),
        (b'{"a": -x}', "invalid character 'x' in numeric literal"),
        (b'{"a": 1.}', "invalid character '}' after decimal point in numeric literal"),
        (b'{"a": 1e+}', "invalid character '}' in exponent of numeric literal"),
        (b'{"a": "\\q"}', "invalid character 'q' in string escape code"),
        (b'{"a": "\\u12x4"}', "invalid character 'x' in \\u hexadecimal character escape"),
        (b'{"a": "x\ny"}', "invalid character '\\n' in string literal"),
        (b'{"a": tru}', "invalid character '}' in literal true (expecting 'e')"),
        (b"{'a': 1}", "invalid character '\\'' looking for beginning of object key string"),
        (b'{"LastContactThreshold": "abc"}', 'time: invalid duration "abc"'),
        (b'{"LastContactThreshold": "5"}', 'time: missing unit in duration "5"'),
        (b'{"ServerStabilizationTime": "1d"}', 'time: unknown unit "d" in duration "1d"'),
        (b'{"LastContactThreshold": 5}',
         "json: cannot unmarshal number into Go struct field .LastContactThreshold of type string"),
        (b'{"MaxTrailingLogs": -1}',
         "json: cannot unmarshal number -1 into Go struct field .MaxTrailingLogs of type uint64"),
        (b'{"minquorum": 1.5}',
         "json: cannot unmarshal number 1.5 into Go struct field .MinQuorum of type uint"),
        (b'{"MinQuorum": 1e2}',
         "json: cannot unmarshal number 1e2 into Go struct field .MinQuorum of type uint"),
        (b'{"MaxTrailingLogs": 18446744073709551616}',
         "json: cannot unmarshal number 18446744073709551616 into Go struct field "
         ".MaxTrailingLogs of type uint64"),
        (b'{"MaxTrailingLogs": "5"}',
         "json: cannot unmarshal string into Go struct field .MaxTrailingLogs of type uint64"),
        (b'{"CleanupDeadServers": "true"}',
         "json: cannot unmarshal string into Go struct field .CleanupDeadServers of type bool"),
        (b'{"CleanupDeadServers": 1}',
         "json: cannot unmarshal number into Go struct field .CleanupDeadServers of type bool"),
        (b'{"EnableRedundancyZones": {}}',
         "json: cannot unmarshal object into Go struct field .EnableRedundancyZones of type bool"),
        (b'{"ModifyIndex": [1]}',
         "json: cannot unmarshal array into Go struct field .ModifyIndex of type uint64"),
        (b"[1]", f"json: cannot unmarshal array into Go value of type {AUX}"),
        (b"42", f"json: cannot unmarshal number into Go value of type {AUX}"),
        (b'"x"', f"json: cannot unmarshal string into Go value of type {AUX}"),
        # Type errors are found while decoding, before durations are parsed; the first wins.
        (b'{"LastContactThreshold": "abc", "MinQuorum": -1, "MaxTrailingLogs": true}',
         "json: cannot unmarshal number -1 into Go struct field .MinQuorum of type uint"),
    ],
)
def test_decode_errors_carry_go_texts(body, go_error):
    with pytest.raises(ConfigWireError) as info:
        AutopilotConfig.from_wire(body)
    assert info.value.go_error == go_error
    assert str(info.value) == "Error parsing autopilot config: " + go_error


def test_deep_nesting_limit():
    deep = b'{"x": ' + b"[" * 10001 + b"]" * 10001 + b"}"
    with pytest.raises(ConfigWireError, match=r"invalid character '\[' exceeded max depth"):
        AutopilotConfig.from_wire(deep)


@pytest.mark.parametrize(
    "value,expected",
    [
        ("5", 5),
        ("0", 0),
        ("18446744073709551615", 2**64 - 1),
        ("", 'Error parsing cas value: strconv.ParseUint: parsing "": invalid syntax'),
        ("-1", 'Error parsing cas value: strconv.ParseUint: parsing "-1": invalid syntax'),
        ("+1", 'Error parsing cas value: strconv.ParseUint: parsing "+1": invalid syntax'),
        ("abc", 'Error parsing cas value: strconv.ParseUint: parsing "abc": invalid syntax'),
        ("18446744073709551616",
         'Error parsing cas value: strconv.ParseUint: parsing "18446744073709551616": value out of range'),
    ],
)
def test_parse_cas_param(value, expected):
    if isinstance(expected, int):
        assert parse_cas_param(value) == expected
    else:
        with pytest.raises(ConfigWireError) as info:
            parse_cas_param(value)
        assert str(info.value) == expected


# --- the store -------------------------------------------------------------------------------


def test_store_cas_state_test_vectors():
    # nomad/state/autopilot_test.go: config at index 1; CAS(2, cas 0) fails; CAS(2, cas 1) wins.
    store = ConfigStore()
    assert store.get() is None
    stored = store.set(AutopilotConfig(), 1)
    assert (stored.create_index, stored.modify_index) == (1, 1)
    assert store.cas(AutopilotConfig(cleanup_dead_servers=False), 0, 2) is False
    assert store.get().modify_index == 1 and store.get().cleanup_dead_servers is True
    assert store.cas(AutopilotConfig(cleanup_dead_servers=False), 1, 2) is True
    assert (store.get().create_index, store.get().modify_index) == (1, 2)
    assert store.get().cleanup_dead_servers is False


def test_store_set_always_bumps_and_keeps_create_index():
    store = ConfigStore()
    store.set(AutopilotConfig(), 4)
    again = store.set(AutopilotConfig(), 9)  # identical content still writes
    assert (again.create_index, again.modify_index) == (4, 9)


def test_store_cas_without_config_fails():
    store = ConfigStore()
    assert store.cas(AutopilotConfig(), 0, 3) is False
    assert store.get() is None


def test_operator_endpoint_flow():
    # command/agent/operator_endpoint_test.go, restated on the core pieces.
    store = ConfigStore()
    store.set(AutopilotConfig(), 4)
    assert store.get().to_wire()["CleanupDeadServers"] is True
    store.set(AutopilotConfig.from_wire(b'{"CleanupDeadServers": false}'), 5)
    assert store.get().to_wire()["CleanupDeadServers"] is False
    current = store.get().modify_index
    body = json.dumps({"CleanupDeadServers": True})
    assert store.cas(AutopilotConfig.from_wire(body), parse_cas_param(str(current - 1)), 6) is False
    assert store.cas(AutopilotConfig.from_wire(body), parse_cas_param(str(current)), 7) is True
    assert store.get().cleanup_dead_servers is True and store.get().modify_index == 7


# --- scenario names --------------------------------------------------------------------------


def test_from_scenario():
    assert AutopilotConfig.from_scenario() == AutopilotConfig()
    cfg = AutopilotConfig.from_scenario(
        cleanup_dead_servers=False, last_contact_threshold="150ms", max_trailing_logs=50,
        min_quorum=3, server_stabilization_time="30s", enable_redundancy_zones=True,
        disable_upgrade_migration=True, enable_custom_upgrades=True,
    )
    assert cfg == AutopilotConfig(False, 150 * MILLISECOND, 50, 3, 30 * SECOND, True, True, True)
    as_ns = AutopilotConfig.from_scenario(last_contact_threshold=5 * SECOND)
    assert as_ns.last_contact_threshold == 5 * SECOND


def test_from_scenario_agent_zero_rule():
    # Nomad's agent only overrides non-zero values: zeros in the block keep the defaults.
    cfg = AutopilotConfig.from_scenario(max_trailing_logs=0, last_contact_threshold="0s")
    assert (cfg.max_trailing_logs, cfg.last_contact_threshold) == (250, 200 * MILLISECOND)
    literal = AutopilotConfig.from_scenario(nomad_agent_rules=False, max_trailing_logs=0)
    assert literal.max_trailing_logs == 0


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"max_trailing_log": 5}, "unknown key 'max_trailing_log' (did you mean 'max_trailing_logs'?)"),
        ({"min_quorum": -1}, "autopilot.min_quorum: expected a non-negative integer, got -1"),
        ({"min_quorum": True}, "autopilot.min_quorum: expected a non-negative integer, got True"),
        ({"cleanup_dead_servers": "yes"},
         "autopilot.cleanup_dead_servers: expected true or false, got 'yes'"),
        ({"server_stabilization_time": "10"},
         'autopilot.server_stabilization_time: time: missing unit in duration "10"'),
        ({"last_contact_threshold": 1.5}, "autopilot.last_contact_threshold: expected a Go duration string"),
    ],
)
def test_from_scenario_errors_name_the_key(kwargs, message):
    with pytest.raises(ValueError) as info:
        AutopilotConfig.from_scenario(**kwargs)
    assert message in str(info.value)


def test_set_config_flags_round_trip():
    # command/operator_autopilot_set_test.go: flags false, 99, 3, 123ms, 123ms, true, true, true.
    changed = AutopilotConfig(create_index=4, modify_index=4).with_changes(
        cleanup_dead_servers=False, max_trailing_logs=99, min_quorum=3,
        last_contact_threshold="123ms", server_stabilization_time="123ms",
        enable_redundancy_zones=True, disable_upgrade_migration=True, enable_custom_upgrades=True,
    )
    wire = changed.to_wire()
    assert wire == {
        "LastContactThreshold": "123ms", "ServerStabilizationTime": "123ms",
        "CleanupDeadServers": False, "MaxTrailingLogs": 99, "MinQuorum": 3,
        "EnableRedundancyZones": True, "DisableUpgradeMigration": True, "EnableCustomUpgrades": True,
        "CreateIndex": 4, "ModifyIndex": 4,
    }
    assert AutopilotConfig.from_wire(json.dumps(wire)) == dataclasses.replace(
        changed, create_index=0, modify_index=0
    )
