"""The scenario format reference in Markdown, generated from the JSON Schema.

`autopilot-sim schema --markdown` prints it; docs/scenario-format.md is its committed output
(a test keeps the two equal), so the reference can never drift from what the loader accepts.
"""

from __future__ import annotations

import json
from typing import Any

_BLOCK_ORDER = ("cluster", "raft", "gossip", "network", "load", "autopilot", "acl", "events", "expect")


def _type_of(prop: dict[str, Any], defs: dict[str, Any]) -> str:
    alternatives = prop.get("anyOf", [])
    if prop.get("x-go-duration") or any(alt.get("pattern", "").startswith("^[-+]?(0|") for alt in alternatives):
        return "duration"
    if "$ref" in prop:
        return str(prop["$ref"]).rsplit("/", 1)[-1]
    if "enum" in prop:
        return " \\| ".join(json.dumps(v) for v in prop["enum"])
    if "const" in prop:
        return json.dumps(prop["const"])
    if "anyOf" in prop or "oneOf" in prop:
        alts = [_type_of(a, defs) for a in prop.get("anyOf", prop.get("oneOf", []))]
        return " \\| ".join(dict.fromkeys(a for a in alts if a != "null")) + (" \\| null" if "null" in alts else "")
    t = prop.get("type")
    if t == "array":
        return f"list of {_type_of(prop.get('items', {}), defs)}"
    if t == "object" and "additionalProperties" in prop and isinstance(prop["additionalProperties"], dict):
        return f"map of name → {_type_of(prop['additionalProperties'], defs)}"
    return str(t or "any")


def _range(prop: dict[str, Any]) -> str:
    parts = []
    for key, sign in (("minimum", "≥"), ("exclusiveMinimum", ">"), ("maximum", "≤"), ("exclusiveMaximum", "<")):
        if key in prop:
            parts.append(f"{sign} {prop[key]}")
    return ", ".join(parts)


def _table(model: dict[str, Any], defs: dict[str, Any]) -> list[str]:
    required = set(model.get("required", []))
    lines = ["| key | type | default | range | meaning |", "|---|---|---|---|---|"]
    for key, prop in model.get("properties", {}).items():
        default = "*(required)*" if key in required else (
            f"`{json.dumps(prop['default'], ensure_ascii=False)}`" if "default" in prop else "")
        desc = " ".join(str(prop.get("description", "")).split()).replace("|", "\\|")
        lines.append(f"| `{key}` | {_type_of(prop, defs)} | {default} | {_range(prop)} | {desc} |")
    return lines


def markdown(schema: dict[str, Any]) -> str:
    """The reference page for a scenario JSON Schema."""
    defs = schema.get("$defs", {})
    out = [
        "# Scenario format reference",
        "",
        "Generated from the JSON Schema by `autopilot-sim schema --markdown`; do not edit by hand.",
        "Durations are Go duration strings (`150ms`, `1m30s`); every default is what a real Nomad",
        "server (hashicorp/raft v1.7.3, memberlist's WAN profile, raft-autopilot v0.1.6) uses.",
        "",
        "## Top level",
        "",
        *_table(schema, defs),
    ]
    seen = set()
    for block in _BLOCK_ORDER:
        prop = schema["properties"].get(block, {})
        ref = prop.get("$ref") or prop.get("items", {}).get("$ref")
        if not ref:
            continue
        name = ref.rsplit("/", 1)[-1]
        seen.add(name)
        out += ["", f"## `{block}` ({name})", "", " ".join(str(defs[name].get("description", "")).split()), "",
                *_table(defs[name], defs)]
    rest = [n for n in defs if n not in seen]
    for name in rest:
        model = defs[name]
        if "properties" not in model:
            continue
        out += ["", f"### {name}", "", " ".join(str(model.get("description", "")).split()), "", *_table(model, defs)]
    return "\n".join(out) + "\n"
