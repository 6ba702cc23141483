"""The OpenAPI 3.1 description of every endpoint, shipped as package data (``openapi.json``).

It is served at ``GET /v1/sim/openapi.json`` (no token needed: it is documentation) and is the
contract the fuzz tests check answers against: every status an endpoint may answer is listed,
with its body's schema (JSON Schema 2020-12, as OpenAPI 3.1 uses) or its exact error texts.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

from autopilot_sim.api.wire import go_json, go_json_pretty


@lru_cache(maxsize=1)
def _raw() -> bytes:
    return resources.files("autopilot_sim.api").joinpath("openapi.json").read_bytes()


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document as a fresh dict (safe to modify)."""
    document: dict[str, Any] = json.loads(_raw())
    return document


@lru_cache(maxsize=2)
def openapi_bytes(pretty: bool = False) -> bytes:
    """The document as served: compact, or indented for ``?pretty``."""
    doc = openapi_document()
    return go_json_pretty(doc) if pretty else go_json(doc)
