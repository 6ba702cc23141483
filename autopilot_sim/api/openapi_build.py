"""The generated parts of ``openapi.json``: what the server validates, written as schemas.

The rest of the description is written by hand; these parts are derived so that they cannot
drift from the code that validates the same input (a test compares them with the shipped file):

* the query parameters Nomad parses with ``strconv`` (``stale``, ``per_page``, ``index``,
  ``wait``, ``cas``) and ``since``, with the exact values the server accepts;
* the autopilot configuration body, with Go's case-insensitive key matching and ``null``
  (a no-op for Go's decoder);
* the event body of ``POST /v1/sim/events``: one scenario event kind, without ``at``, derived
  from the scenario format's JSON Schema (so ``{"crash": null}`` is not a valid event).

Regenerate with ``python -m autopilot_sim.api.openapi_build`` after changing the scenario
models or these rules.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

UINT64_MAX = (1 << 64) - 1
INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1
#: Go's ``time.ParseDuration`` syntax (its int64 range, ±2562047h, is checked after parsing).
GO_DURATION = r"^[-+]?(0|(([0-9]+\.?[0-9]*|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+)$"
GO_BOOLS = ["1", "t", "T", "TRUE", "true", "True", "0", "f", "F", "FALSE", "false", "False"]
SCENARIO_PREFIX = "Scenario"
EVENT_KINDS = ("crash", "restart", "pause", "partition", "cut", "heal", "set_network", "set_load", "leave",
               "force_leave", "join", "upgrade", "rolling_restart", "set_autopilot")
#: The autopilot configuration's wire fields and their Go types (api.AutopilotConfiguration).
CONFIG_FIELDS: dict[str, dict[str, Any]] = {
    "CleanupDeadServers": {"type": "boolean"},
    "LastContactThreshold": {"type": "string", "pattern": GO_DURATION,
                             "description": "A Go duration string, e.g. \"200ms\", \"1m30s\"."},
    "MaxTrailingLogs": {"type": "integer", "minimum": 0, "maximum": UINT64_MAX},
    "MinQuorum": {"type": "integer", "minimum": 0, "maximum": UINT64_MAX},
    "ServerStabilizationTime": {"type": "string", "pattern": GO_DURATION,
                                "description": "A Go duration string, e.g. \"10s\"."},
    "EnableRedundancyZones": {"type": "boolean"},
    "DisableUpgradeMigration": {"type": "boolean"},
    "EnableCustomUpgrades": {"type": "boolean"},
    "CreateIndex": {"type": "integer", "minimum": 0, "maximum": UINT64_MAX},
    "ModifyIndex": {"type": "integer", "minimum": 0, "maximum": UINT64_MAX},
}


def _param(name: str, description: str, schema: dict[str, Any], *, allow_empty: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, "in": "query", "required": False}
    if allow_empty:
        out["allowEmptyValue"] = True
    out["description"] = description
    out["schema"] = schema
    return out


def _or_empty(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema``, or an empty value (which Nomad reads as an absent parameter)."""
    return {"anyOf": [schema, {"type": "string", "maxLength": 0}]}


def query_parameters() -> dict[str, dict[str, Any]]:
    """The validated query parameters (``components.parameters``)."""
    uint64 = {"type": "integer", "minimum": 0, "maximum": UINT64_MAX}
    return {
        "stale": _param("stale", "Present (even empty): answer from the agent server's state without a leader. "
                                 "A value must be one of Go's booleans (strconv.ParseBool); else 400 "
                                 "\"Expect `true` or `false` for `stale` query string parameter\".",
                        {"type": "string", "enum": ["", *GO_BOOLS]}, allow_empty=True),
        "wait": _param("wait", "Blocking-query wait, a Go duration (time.ParseDuration: this syntax, within "
                               "±2562047h); parsed, not used by these endpoints. Else 400 \"Invalid wait time\". "
                               "Empty is the same as absent.",
                       _or_empty({"type": "string", "pattern": GO_DURATION}), allow_empty=True),
        "index": _param("index", "Blocking-query index (strconv.ParseUint, 64 bits); parsed, not used. Else 400 "
                                 "\"Invalid index\". Empty is the same as absent.", _or_empty(uint64),
                        allow_empty=True),
        "per_page": _param("per_page", "Pagination size (strconv.ParseInt, 32 bits: a sign and leading zeros "
                                       "are accepted); parsed, not used. Else 400 \"Expect a number for "
                                       "`per_page` query string parameter\". Empty is the same as absent.",
                           _or_empty({"type": "integer", "minimum": INT32_MIN, "maximum": INT32_MAX}),
                           allow_empty=True),
        "cas": _param("cas", "Check-and-set: write only if the stored ModifyIndex equals this unsigned 64-bit "
                             "integer (strconv.ParseUint). Present but empty, or anything else, is 400 "
                             "\"Error parsing cas value: ...\".", uint64),
        "since": _param("since", "Position in the event log to list from (default 0; an unsigned 64-bit "
                                 "integer, else 400). Empty is the same as absent.", _or_empty(uint64),
                        allow_empty=True),
    }


def _case_insensitive(name: str) -> str:
    return "^" + "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else c for c in name) + "$"


def config_input_schema() -> dict[str, Any]:
    """The PUT body: Go's decoder into api.AutopilotConfiguration (keys case-insensitive,
    unknown keys ignored, ``null`` leaves a field at its zero value, a ``null`` body is
    all zero values)."""
    properties = {name: {**schema, "type": [schema["type"], "null"]} for name, schema in CONFIG_FIELDS.items()}
    return {
        "description": "Decoded like Go's encoding/json: any subset of the keys, matched case-insensitively "
                       "(a key in another case must still have the field's type); unknown keys ignored; "
                       "null and absent keys become zero values. Durations must be within ±2562047h.",
        "type": ["object", "null"],
        "properties": properties,
        "patternProperties": {_case_insensitive(name): schema for name, schema in properties.items()},
    }


def _rewrite_refs(node: Any) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith("#/$defs/"):
                value = "#/components/schemas/" + SCENARIO_PREFIX + value.split("/")[-1]
            elif key == "mapping" and isinstance(value, dict):
                value = {k: "#/components/schemas/" + SCENARIO_PREFIX + v.split("/")[-1] for k, v in value.items()}
            out[key] = _rewrite_refs(value)
        return out
    if isinstance(node, list):
        return [_rewrite_refs(v) for v in node]
    return node


def _refs(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            found.add(ref.split("/")[-1])
        for value in node.values():
            found |= _refs(value)
    elif isinstance(node, list):
        for value in node:
            found |= _refs(value)
    return found


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """An optional event field's schema without its ``null`` branch and default."""
    schema = {k: v for k, v in schema.items() if k not in ("default", "title")}
    branches = [b for b in schema.pop("anyOf", []) if b != {"type": "null"}]
    if len(branches) == 1:
        return {**schema, **branches[0]}
    if branches:
        schema["anyOf"] = branches
    return schema


#: Rules the event validators enforce that the scenario's JSON Schema does not state (yet):
#: a partition names at least one group; set_autopilot changes at least one key.
_EVENT_TIGHTENING: dict[str, dict[str, Any]] = {
    "partition": {"minItems": 1},
    "set_autopilot": {"anyOf": [{"required": [key], "properties": {key: {"not": {"type": "null"}}}}
                                for key in ("cleanup_dead_servers", "last_contact_threshold", "max_trailing_logs",
                                            "min_quorum", "server_stabilization_time", "enable_redundancy_zones",
                                            "disable_upgrade_migration", "enable_custom_upgrades")]},
}


def event_schemas() -> dict[str, dict[str, Any]]:
    """``SimEventInput`` and the scenario definitions it refers to (``Scenario*``)."""
    from autopilot_sim.scenario.jsonschema import scenario_json_schema

    scenario = scenario_json_schema()
    defs = scenario["$defs"]
    event = defs["Event"]
    kinds = [k for k in event["properties"] if k != "at"]
    assert tuple(kinds) == EVENT_KINDS, kinds
    branches = []
    for kind in kinds:
        value = _without_null(event["properties"][kind])
        value.update(_EVENT_TIGHTENING.get(kind, {}))
        branches.append({"title": kind, "type": "object", "required": [kind], "additionalProperties": False,
                         "properties": {kind: value}})
    needed: set[str] = set()
    todo = _refs(branches)
    while todo:
        name = todo.pop()
        if name not in needed:
            needed.add(name)
            todo |= _refs(defs[name])
    out: dict[str, dict[str, Any]] = {
        "SimEventInput": {
            "description": "One scenario event without `at` (it fires now), e.g. {\"crash\": \"node1\"}, "
                           "{\"partition\": [[\"leader\"]]}, {\"heal\": \"all\"}, {\"pause\": {\"server\": "
                           "\"follower\", \"for\": \"5s\"}}, {\"join\": {\"name\": \"node6\"}}. Exactly one kind, "
                           "with a value (the scenario format's events; `autopilot-sim schema`). Server names "
                           "must be the scenario's (else 400).",
            "oneOf": _rewrite_refs(branches),
            "examples": [{"crash": "leader"}, {"heal": "all"}],
        },
    }
    for name in sorted(needed):
        out[SCENARIO_PREFIX + name] = _rewrite_refs(copy.deepcopy(defs[name]))
    return out


def apply(doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` with every generated part replaced (the other parts untouched)."""
    doc = copy.deepcopy(doc)
    doc["components"]["parameters"].update(query_parameters())
    schemas = doc["components"]["schemas"]
    for name in [n for n in schemas if n.startswith(SCENARIO_PREFIX)]:
        del schemas[name]
    schemas["AutopilotConfigurationInput"] = config_input_schema()
    schemas.update(event_schemas())
    return doc


def main(argv: list[str] | None = None) -> int:
    """Rewrite the shipped ``openapi.json`` with freshly generated parts."""
    path = Path(__file__).with_name("openapi.json")
    doc = apply(json.loads(path.read_text(encoding="utf-8")))
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    sys.stdout.write(f"wrote {path}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
