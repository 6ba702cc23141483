"""The OpenAPI description is exactly as strict as the server (issue 14, item 8): its generated
parts are up to date, and a value it calls valid the server accepts, a value it calls invalid
the server refuses — checked here on hand-picked values at the boundaries (schemathesis explores
more in test_api_schemathesis.py)."""

from __future__ import annotations

import contextlib
import json

import jsonschema
import pytest
from api_support import ADMIN, Raw, scenario, served, token

from autopilot_sim.api import openapi_document
from autopilot_sim.api.openapi_build import apply

DOC = openapi_document()


def _validator(schema: dict) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator({**schema, "components": DOC["components"]})


def _param_valid(name: str, value: str) -> bool:
    """Whether the raw query value is valid for the parameter (integers read from the text)."""
    schema = DOC["components"]["parameters"][name]["schema"]
    candidates: list[object] = [value]
    with contextlib.suppress(ValueError):
        candidates.append(int(value))
    return any(_validator(schema).is_valid(c) for c in candidates)


def test_generated_parts_are_up_to_date() -> None:
    # Regenerate with `python -m autopilot_sim.api.openapi_build`.
    assert apply(DOC) == DOC


@pytest.fixture(scope="module")
def raw():
    with served(scenario(acl=True), speed=1.0, start_at="5s") as server:
        client = Raw(server)
        yield client
        client.close()


QUERY_CASES = [
    ("per_page", "10", True), ("per_page", "-2147483648", True), ("per_page", "2147483647", True),
    ("per_page", "2147483648", False), ("per_page", "1.5", False), ("per_page", "abc", False), ("per_page", "", True),
    ("index", "0", True), ("index", "18446744073709551615", True), ("index", "18446744073709551616", False),
    ("index", "-1", False), ("index", "x", False), ("index", "", True),
    ("wait", "5s", True), ("wait", "1m30s", True), ("wait", "0", True), ("wait", "-1.5h", True), ("wait", "", True),
    ("wait", "5", False), ("wait", "5d", False), ("wait", "s", False),
    ("stale", "", True), ("stale", "true", True), ("stale", "F", True), ("stale", "yes", False), ("stale", "TrUe", False),
]


@pytest.mark.parametrize("name, value, valid", QUERY_CASES)
def test_query_parameters_match_the_server(raw, name, value, valid) -> None:
    assert _param_valid(name, value) is valid
    status, _, body = raw.request("GET", f"/v1/operator/autopilot/configuration?{name}={value}", headers=token(ADMIN))
    assert (status == 200) is valid, (status, body)
    if not valid:
        assert status == 400


@pytest.mark.parametrize("value, valid", [("5", True), ("0", True), ("", False), ("-1", False), ("x", False),
                                          ("18446744073709551616", False)])
def test_cas_matches_the_server(raw, value, valid) -> None:
    schema_ok = _param_valid("cas", value) and value != ""  # cas has no allowEmptyValue
    assert schema_ok is valid
    status, _, body = raw.request("PUT", f"/v1/operator/autopilot/configuration?cas={value}", "{}",
                                  headers=token(ADMIN))
    assert (status == 200) is valid, (status, body)


@pytest.mark.parametrize("value, valid", [("0", True), ("7", True), ("", True), ("-1", False), ("1e3", False)])
def test_since_matches_the_server(raw, value, valid) -> None:
    assert _param_valid("since", value) is valid
    status, _, body = raw.request("GET", f"/v1/sim/events?since={value}", headers=token(ADMIN))
    assert (status == 200) is valid, (status, body)


EVENT = {"$ref": "#/components/schemas/SimEventInput"}


@pytest.mark.parametrize("event, valid", [
    ({"crash": "node1"}, True),
    ({"heal": "all"}, True),
    ({"pause": {"server": "follower", "for": "1s"}}, True),
    ({"crash": None}, False),  # the example: no kind with a value
    ({"heal": None}, False),
    ({}, False),
    ({"crash": "node1", "heal": "all"}, False),
    ({"crash": "node1", "at": "1s"}, False),
    ({"explode": "node1"}, False),
    ({"pause": {"server": "node1"}}, False),
    ({"set_load": {"writes_per_second": -1}}, False),
])
def test_event_schema_matches_the_server(raw, event, valid) -> None:
    assert _validator(EVENT).is_valid(event) is valid
    if valid:
        return  # firing valid events changes the cluster; the refusals are what this checks
    status, _, body = raw.request("POST", "/v1/sim/events", json.dumps(event), headers=token(ADMIN))
    assert status == 400, body


CONFIG = {"$ref": "#/components/schemas/AutopilotConfigurationInput"}


@pytest.mark.parametrize("body, valid", [
    ({}, True),
    (None, True),  # Go decodes null into the struct: all zero values
    ({"MaxTrailingLogs": None, "LastContactThreshold": "200ms"}, True),
    ({"maxtrailinglogs": 5, "Unknown": [1, "x"]}, True),
    ({"maxtrailinglogs": "5"}, False),  # the key matches case-insensitively, so its type counts
    ({"MinQuorum": -1}, False),
    ({"MinQuorum": 18446744073709551616}, False),
    ({"LastContactThreshold": "1d"}, False),
    ({"CleanupDeadServers": "true"}, False),
    ([], False),
])
def test_config_body_schema_matches_the_server(raw, body, valid) -> None:
    assert _validator(CONFIG).is_valid(body) is valid
    status, _, data = raw.request("PUT", "/v1/operator/autopilot/configuration?cas=0", json.dumps(body),
                                  headers=token(ADMIN))
    # cas=0 never matches a stored config: a valid body gets 200 false, an invalid one 400.
    assert (status == 200) is valid, (status, data)
