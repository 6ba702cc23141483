"""The JSON Schema (draft 2020-12) of the scenario YAML format, and key look-ups in it.

The schema describes the *file*, not the Python objects: durations are Go duration strings
(with a pattern), ``start_time`` an RFC 3339 string, ``cluster.servers`` a count or a list. A YAML
language server can use it, e.g. with a first line
``# yaml-language-server: $schema=./scenario.schema.json``.

The loader also walks it to list the keys valid at a place, for "did you mean" hints.
"""

from __future__ import annotations

import copy
import functools
import re
from typing import Any

from autopilot_sim.durations import format_duration, format_rfc3339

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_ID = "https://autopilot-sim.invalid/schema/scenario-v1.json"


@functools.lru_cache(maxsize=1)
def _cached_schema() -> dict[str, Any]:
    from autopilot_sim.scenario.scenario import Scenario

    schema = Scenario.model_json_schema(by_alias=True, mode="validation")
    _tidy(schema)
    return {
        "$schema": SCHEMA_DIALECT,
        "$id": SCHEMA_ID,
        "title": "autopilot-sim scenario",
        "description": "A scenario file for autopilot-sim (format version 1). Durations are Go "
                       "duration strings such as \"150ms\" or \"1m30s\".",
        **{k: v for k, v in schema.items() if k not in ("title", "description")},
    }


def scenario_json_schema() -> dict[str, Any]:
    """The JSON Schema of a scenario file (a fresh copy, safe to modify)."""
    return copy.deepcopy(_cached_schema())


def _tidy(node: Any) -> None:
    """Write duration defaults as Go text and drop our internal marker."""
    if isinstance(node, dict):
        if node.pop("x-go-duration", False) and isinstance(node.get("default"), int):
            node["default"] = format_duration(node["default"])
        if node.get("format") == "date-time" and isinstance(node.get("default"), int):
            node["default"] = format_rfc3339(node["default"], nano=True)
        for value in node.values():
            _tidy(value)
    elif isinstance(node, list):
        for value in node:
            _tidy(value)


# --- key look-up -------------------------------------------------------------------------------


def _expand(node: dict[str, Any], defs: dict[str, Any]) -> list[dict[str, Any]]:
    """The node itself, what it refers to and its anyOf / oneOf / allOf members, recursively."""
    out: list[dict[str, Any]] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if not isinstance(current, dict):
            continue
        ref = current.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            stack.append(defs[ref.split("/")[-1]])
        out.append(current)
        for key in ("anyOf", "oneOf", "allOf"):
            stack.extend(current.get(key, []))
    return out


def valid_keys(path: tuple[Any, ...], raw_value: Any = None) -> list[str]:
    """The keys the format allows in the mapping at ``path`` (e.g. ``("raft",)``), in the
    format's order.

    ``raw_value`` is the mapping found there; for a distribution its ``distribution`` key narrows
    the answer to that distribution's keys.
    """
    schema = _cached_schema()
    defs = schema.get("$defs", {})
    nodes = [schema]
    for seg in path:
        following: list[dict[str, Any]] = []
        for node in nodes:
            for part in _expand(node, defs):
                if isinstance(seg, int):
                    if isinstance(part.get("items"), dict):
                        following.append(part["items"])
                    if isinstance(part.get("prefixItems"), list) and seg < len(part["prefixItems"]):
                        following.append(part["prefixItems"][seg])
                elif seg in part.get("properties", {}):
                    following.append(part["properties"][seg])
                else:
                    patterns = [sub for pattern, sub in part.get("patternProperties", {}).items()
                                if re.search(pattern, str(seg))]
                    following.extend(patterns)
                    if not patterns and isinstance(part.get("additionalProperties"), dict):
                        following.append(part["additionalProperties"])
        nodes = following
    objects = [p for node in nodes for p in _expand(node, defs) if "properties" in p]
    tag = raw_value.get("distribution") if isinstance(raw_value, dict) else None
    tagged = [p for p in objects if p["properties"].get("distribution", {}).get("const") == tag]
    if tagged:
        objects = tagged
    return list(dict.fromkeys(key for p in objects for key in p["properties"]))
