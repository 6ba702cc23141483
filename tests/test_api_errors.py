"""Raw HTTP against the served API: every Nomad error (status, body, content type), the ACL
matrix, the order of the checks, and the query options (docs/behaviour/autopilot.md §9,
docs/api.md)."""

from __future__ import annotations

import json

import pytest
from api_support import ADMIN, READER, WRITER, Raw, scenario, served, token

TEXT = "text/plain; charset=utf-8"
CONFIG = "/v1/operator/autopilot/configuration"
HEALTH = "/v1/operator/autopilot/health"


@pytest.fixture(scope="module")
def running():
    """A 3-server cluster with a leader, clock running at real time (writes apply in ms)."""
    with served(scenario(), speed=1.0, start_at="5s") as server:
        yield server


@pytest.fixture(scope="module")
def leaderless():
    """The same cluster at t=0, clock stopped: no leader yet, nothing in any FSM."""
    with served(scenario(acl=True), paused=True) as server:
        yield server


@pytest.fixture(scope="module")
def acl_running():
    with served(scenario(acl=True), speed=1.0, start_at="5s") as server:
        yield server


@pytest.fixture
def raw(running):
    client = Raw(running)
    yield client
    client.close()


def assert_text(answer, status: int, body: str) -> None:
    got_status, headers, data = answer
    assert (got_status, data.decode()) == (status, body)
    assert headers["content-type"] == TEXT
    assert headers["content-length"] == str(len(data))


# --- methods and paths --------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["POST", "DELETE", "PATCH", "OPTIONS", "FOO"])
def test_wrong_method_on_autopilot_paths_is_404_invalid_method(raw, method) -> None:
    assert_text(raw.request(method, CONFIG, "{}"), 404, "Invalid method")
    assert_text(raw.request(method, HEALTH), 404, "Invalid method")
    assert_text(raw.request("PUT", HEALTH, "{}"), 404, "Invalid method")


def test_head_gets_the_status_without_a_body(raw) -> None:
    status, headers, data = raw.request("HEAD", HEALTH)
    assert status == 404 and data == b"" and headers["content-length"] == str(len("Invalid method"))
    assert raw.request("GET", HEALTH)[0] == 200  # the connection is still in step


def test_other_paths_answer_like_nomads_mux(raw) -> None:
    # Unknown paths: an empty 404 without Content-Type (Go's fallthrough handler).
    for path in ("/v1/operator/autopilot", "/v1/operator/autopilot/health/", "/v1/jobs", "/v1/ui"):
        status, headers, data = raw.request("GET", path)
        assert (status, data) == (404, b""), path
        assert "content-type" not in headers
    # The web UI, as a Nomad agent with its UI enabled: / redirects to /ui/ (307), which serves
    # the page (here the simulator's dashboard, issue 13).
    status, headers, _ = raw.request("GET", "/")
    assert status == 307 and headers["location"] == "/ui/"
    assert raw.request("GET", "/ui/")[0] == 200
    # A non-canonical path is redirected to the canonical one.
    status, headers, _ = raw.request("GET", "/v1/operator//autopilot/./health?pretty")
    assert status == 301 and headers["location"] == "/v1/operator/autopilot/health?pretty"
    # Raft: a wrong method is a bare 405; an unknown sub-path 404 Invalid method.
    status, headers, data = raw.request("POST", "/v1/operator/raft/configuration")
    assert (status, data) == (405, b"") and "content-type" not in headers
    assert_text(raw.request("GET", "/v1/operator/raft/nothing"), 404, "Invalid method")
    assert_text(raw.request("GET", "/v1/operator/raft/peer"), 404, "Invalid method")
    # Status paths: 405 Invalid method.
    assert_text(raw.request("PUT", "/v1/status/leader", "{}"), 405, "Invalid method")
    assert_text(raw.request("DELETE", "/v1/status/peers"), 405, "Invalid method")


def test_every_answer_has_length_and_vary(raw) -> None:
    for method, path in (("GET", CONFIG), ("GET", HEALTH), ("POST", HEALTH), ("GET", "/nope")):
        _, headers, data = raw.request(method, path)
        assert headers["content-length"] == str(len(data))
        assert headers["vary"] == "Accept-Encoding"


# --- PUT body and cas ---------------------------------------------------------------------------

BODY_ERRORS = [
    (None, "Request body is empty"),
    ("", "Request body is empty"),
    ("   ", "EOF"),
    ("{", "unexpected EOF"),
    ("nope", "invalid character 'o' in literal null (expecting 'u')"),
    ("xyz", "invalid character 'x' looking for beginning of value"),
    ('{"MaxTrailingLogs": "5"}', "json: cannot unmarshal string into Go struct field .MaxTrailingLogs of type uint64"),
    ('{"MaxTrailingLogs": -1}', "json: cannot unmarshal number -1 into Go struct field .MaxTrailingLogs of type uint64"),
    ('{"MinQuorum": 1.5}', "json: cannot unmarshal number 1.5 into Go struct field .MinQuorum of type uint"),
    ('{"CleanupDeadServers": "yes"}', "json: cannot unmarshal string into Go struct field .CleanupDeadServers of type bool"),
    ('{"LastContactThreshold": 200}', "json: cannot unmarshal number into Go struct field .LastContactThreshold of type string"),
    ('{"LastContactThreshold": "abc"}', 'time: invalid duration "abc"'),
    ('{"ServerStabilizationTime": "10"}', 'time: missing unit in duration "10"'),
    ('{"LastContactThreshold": "1d"}', 'time: unknown unit "d" in duration "1d"'),
    ("[]", "json: cannot unmarshal array into Go value of type struct { LastContactThreshold string; "
           "ServerStabilizationTime string; *api.Alias }"),
]


@pytest.mark.parametrize("body, go_error", BODY_ERRORS)
def test_put_body_errors(raw, body, go_error) -> None:
    assert_text(raw.request("PUT", CONFIG, body), 400, "Error parsing autopilot config: " + go_error)


@pytest.mark.parametrize("cas, value, reason", [
    ("", "", "invalid syntax"), ("abc", "abc", "invalid syntax"), ("-1", "-1", "invalid syntax"),
    ("%2B1", "+1", "invalid syntax"), ("+1", " 1", "invalid syntax"), ("1.0", "1.0", "invalid syntax"),
    ("%E2%82%AC", "\u20ac", "invalid syntax"), ("18446744073709551616", "18446744073709551616", "value out of range"),
])
def test_put_cas_errors(raw, cas, value, reason) -> None:
    # The query is decoded as Go does ('+' is a space); the value is quoted with Go's strconv.Quote.
    shown = f'"{value}"'
    assert_text(raw.request("PUT", f"{CONFIG}?cas={cas}", "{}"), 400,
                f"Error parsing cas value: strconv.ParseUint: parsing {shown}: {reason}")


def test_put_with_a_bare_cas_key_is_checked_too(raw) -> None:
    assert_text(raw.request("PUT", f"{CONFIG}?cas", "{}"), 400,
                'Error parsing cas value: strconv.ParseUint: parsing "": invalid syntax')


def test_put_decodes_like_go_and_replaces_everything(raw) -> None:
    before = json.loads(raw.request("GET", CONFIG)[2])
    # Unknown keys ignored, keys matched case-insensitively, the last duplicate wins, indexes in
    # the body ignored, anything after the first value ignored.
    body = ('{"maxtrailinglogs": 3, "MAXTRAILINGLOGS": 9, "lastcontactthreshold": "1.5s", "Bogus": [1,2], '
            '"ModifyIndex": 1, "CreateIndex": 999} trailing garbage')
    status, headers, data = raw.request("PUT", CONFIG, body)
    assert (status, data, headers["content-type"]) == (200, b"true", "application/json")
    after = json.loads(raw.request("GET", CONFIG)[2])
    assert after == {
        "LastContactThreshold": "1.5s", "ServerStabilizationTime": "0s", "CleanupDeadServers": False,
        "MaxTrailingLogs": 9, "MinQuorum": 0, "EnableRedundancyZones": False, "DisableUpgradeMigration": False,
        "EnableCustomUpgrades": False, "CreateIndex": before["CreateIndex"], "ModifyIndex": after["ModifyIndex"],
    }
    assert after["ModifyIndex"] > before["ModifyIndex"]
    # A non-CAS PUT always writes, even an identical config (a new Raft entry, a new ModifyIndex).
    assert raw.request("PUT", CONFIG, json.dumps(after))[2] == b"true"
    again = json.loads(raw.request("GET", CONFIG)[2])
    assert again["ModifyIndex"] > after["ModifyIndex"]
    # Restore the defaults for the other tests.
    restore = {**before}
    assert raw.request("PUT", CONFIG, json.dumps(restore))[2] == b"true"


def test_negative_durations_are_stored_as_nomad_does(raw) -> None:
    before = json.loads(raw.request("GET", CONFIG)[2])
    assert raw.request("PUT", CONFIG, json.dumps({**before, "LastContactThreshold": "-1s"}))[2] == b"true"
    assert json.loads(raw.request("GET", CONFIG)[2])["LastContactThreshold"] == "-1s"
    assert raw.request("PUT", CONFIG, json.dumps(before))[2] == b"true"


def test_chunked_put_body(raw) -> None:
    config = json.loads(raw.request("GET", CONFIG)[2])
    payload = json.dumps(config).encode()
    chunks = (payload[i:i + 7] for i in range(0, len(payload), 7))
    raw.conn.request("PUT", CONFIG, body=chunks, encode_chunked=True, headers={"Transfer-Encoding": "chunked"})
    resp = raw.conn.getresponse()
    assert (resp.status, resp.read()) == (200, b"true")
    raw.conn.request("PUT", CONFIG, body=iter(()), encode_chunked=True, headers={"Transfer-Encoding": "chunked"})
    resp = raw.conn.getresponse()
    assert (resp.status, resp.read()) == (400, b"Error parsing autopilot config: EOF")


# --- the order of the checks ---------------------------------------------------------------------


def test_check_order_body_then_cas_then_acl(acl_running) -> None:
    raw = Raw(acl_running)
    # Without any permission: a bad body wins over a bad cas and over the ACL ...
    assert_text(raw.request("PUT", f"{CONFIG}?cas=x", "{"), 400, "Error parsing autopilot config: unexpected EOF")
    # ... a bad cas wins over the ACL ...
    assert_text(raw.request("PUT", f"{CONFIG}?cas=x", "{}"), 400,
                'Error parsing cas value: strconv.ParseUint: parsing "x": invalid syntax')
    # ... and a good request is refused.
    assert_text(raw.request("PUT", f"{CONFIG}?cas=1", "{}"), 403, "Permission denied")
    assert_text(raw.request("PUT", f"{CONFIG}?cas=1", "{}", token(READER)), 403, "Permission denied")
    # For GETs the query options are checked before the ACL.
    assert_text(raw.request("GET", f"{CONFIG}?stale=maybe"), 400,
                "Expect `true` or `false` for `stale` query string parameter")
    assert_text(raw.request("GET", f"{HEALTH}?wait=soon"), 400, "Invalid wait time")
    # Another region is refused before the ACL check (it would be forwarded first).
    assert_text(raw.request("GET", f"{HEALTH}?region=europe"), 500, "No path to region")
    assert_text(raw.request("PUT", f"{CONFIG}?region=europe", "{}"), 500, "No path to region")
    raw.close()


def test_without_a_leader_forwarding_fails_before_the_acl_check(leaderless) -> None:
    raw = Raw(leaderless)
    assert_text(raw.request("GET", CONFIG), 500, "No cluster leader")
    assert_text(raw.request("GET", HEALTH), 500, "No cluster leader")
    assert_text(raw.request("PUT", CONFIG, "{}"), 500, "No cluster leader")
    assert_text(raw.request("GET", "/v1/status/leader"), 500, "No cluster leader")
    assert_text(raw.request("GET", "/v1/status/peers"), 500, "No cluster leader")
    assert_text(raw.request("GET", "/v1/operator/raft/configuration", headers=token(ADMIN)), 500, "No cluster leader")
    # The body and cas are still checked first.
    assert_text(raw.request("PUT", CONFIG, ""), 400, "Error parsing autopilot config: Request body is empty")
    # ?stale reads the agent server's own state: no leader needed, the ACL applies, and nothing
    # has been written to its FSM yet.
    assert_text(raw.request("GET", f"{CONFIG}?stale"), 403, "Permission denied")
    assert_text(raw.request("GET", f"{CONFIG}?stale", headers=token(READER)), 500,
                "autopilot config not initialized yet")
    # Health is always the leader's: ?stale does not help.
    assert_text(raw.request("GET", f"{HEALTH}?stale", headers=token(READER)), 500, "No cluster leader")
    status, _, data = raw.request("GET", "/v1/status/leader?stale")
    assert (status, data) == (200, b'""')
    status, _, data = raw.request("GET", "/v1/status/peers?stale=true")
    assert status == 200 and json.loads(data) == ["node1", "node2", "node3"]
    raw.close()


# --- query options --------------------------------------------------------------------------------


@pytest.mark.parametrize("query, message", [
    ("stale=maybe", "Expect `true` or `false` for `stale` query string parameter"),
    ("stale=yes", "Expect `true` or `false` for `stale` query string parameter"),
    ("per_page=x", "Expect a number for `per_page` query string parameter"),
    ("per_page=2147483648", "Expect a number for `per_page` query string parameter"),
    ("wait=5", "Invalid wait time"),
    ("index=-3", "Invalid index"),
    ("stale=1&wait=1x", "Invalid wait time"),
])
@pytest.mark.parametrize("path", [CONFIG, HEALTH, "/v1/status/leader", "/v1/status/peers",
                                  "/v1/operator/raft/configuration"])
def test_query_option_errors(raw, path, query, message) -> None:
    assert_text(raw.request("GET", f"{path}?{query}"), 400, message)


@pytest.mark.parametrize("value", ["", "1", "t", "T", "TRUE", "true", "True", "0", "f", "F", "FALSE", "false", "False"])
def test_stale_accepts_gos_booleans(raw, value) -> None:
    status, headers, data = raw.request("GET", f"{CONFIG}?stale={value}")
    assert status == 200 and headers["content-type"] == "application/json"
    assert set(json.loads(data)) >= {"ModifyIndex", "LastContactThreshold"}


def test_pretty(raw) -> None:
    compact = raw.request("GET", CONFIG)[2]
    for query in ("pretty", "pretty=", "pretty=1", "pretty=true", "pretty=0&pretty=1"):
        status, _, data = raw.request("GET", f"{CONFIG}?{query}")
        if query.startswith("pretty=0"):
            assert data == compact
            continue
        assert status == 200 and data.endswith(b"}\n") and data.startswith(b'{\n    "LastContactThreshold": ')
        assert json.loads(data) == json.loads(compact)
    assert raw.request("GET", f"{CONFIG}?pretty=0")[2] == compact
    assert raw.request("PUT", f"{CONFIG}?pretty", compact)[2] == b"true\n"
    status, _headers, data = raw.request("GET", f"{HEALTH}?pretty")
    assert data.startswith(b'{\n    "Healthy": ') and data.endswith(b"\n")


def test_region(raw) -> None:
    assert raw.request("GET", f"{CONFIG}?region=global")[0] == 200
    assert raw.request("GET", f"{CONFIG}?region=")[0] == 200
    assert_text(raw.request("GET", f"{CONFIG}?region=emea"), 500, "No path to region")
    assert_text(raw.request("GET", "/v1/status/leader?region=emea"), 500, "No path to region")


# --- shapes of the answers --------------------------------------------------------------------


def test_answer_shapes(raw) -> None:
    status, headers, data = raw.request("GET", CONFIG)
    assert status == 200 and headers["content-type"] == "application/json"
    assert list(json.loads(data)) == [
        "LastContactThreshold", "ServerStabilizationTime", "CleanupDeadServers", "MaxTrailingLogs", "MinQuorum",
        "EnableRedundancyZones", "DisableUpgradeMigration", "EnableCustomUpgrades", "CreateIndex", "ModifyIndex"]
    status, headers, data = raw.request("GET", HEALTH)
    assert status == 200 and headers["content-type"] == "application/json"
    report = json.loads(data)
    assert list(report) == ["Healthy", "FailureTolerance", "Servers", "Leader", "Voters"]
    assert list(report["Servers"][0]) == ["LastContact", "ID", "Name", "Address", "SerfStatus", "Version", "Leader",
                                          "LastTerm", "LastIndex", "Healthy", "Voter", "StableSince"]
    leader = json.loads(raw.request("GET", "/v1/status/leader")[2])
    assert leader == report["Leader"]
    assert json.loads(raw.request("GET", "/v1/status/peers")[2]) == ["node1", "node2", "node3"]
    raft = json.loads(raw.request("GET", "/v1/operator/raft/configuration")[2])
    assert list(raft) == ["Servers", "Index"] and raft["Index"] >= 1
    assert raft["Servers"] == [
        {"ID": n, "Node": f"{n}.global", "Address": n, "Leader": n == leader, "Voter": True, "RaftProtocol": "3"}
        for n in ("node1", "node2", "node3")]
    # Nomad routes every /v1/operator/raft/configuration* path to the same handler.
    assert json.loads(raw.request("GET", "/v1/operator/raft/configurationXYZ")[2])["Index"] == raft["Index"]


def test_health_429_keeps_the_json_body_with_nomads_content_type() -> None:
    sc = scenario(events="- {at: 20s, crash: node3}", extra="autopilot: {cleanup_dead_servers: false}")
    with served(sc, paused=True, start_at="80s") as server:
        raw = Raw(server)
        status, headers, data = raw.request("GET", HEALTH)
        assert status == 429
        # Nomad writes 429 before setting Content-Type, so Go sniffs the JSON body as text.
        assert headers["content-type"] == TEXT
        report = json.loads(data)
        assert report["Healthy"] is False
        assert {s["ID"]: s["SerfStatus"] for s in report["Servers"]}["node3"] == "failed"
        raw.close()


# --- ACLs --------------------------------------------------------------------------------------

ENDPOINTS = {
    "get-config": ("GET", CONFIG, "operator:read"),
    "put-config": ("PUT", CONFIG, "operator:write"),
    "health": ("GET", HEALTH, "operator:read"),
    "raft": ("GET", "/v1/operator/raft/configuration", "management"),
    "leader": ("GET", "/v1/status/leader", None),
    "peers": ("GET", "/v1/status/peers", None),
    "sim-time": ("GET", "/v1/sim/time", "management"),
    "openapi": ("GET", "/v1/sim/openapi.json", None),
}
GRANTS = {
    "anonymous": set(),
    "unknown": set(),
    "reader": {"operator:read"},
    "writer": {"operator:read", "operator:write"},
    "admin": {"operator:read", "operator:write", "management"},
}
SECRETS = {"anonymous": None, "unknown": "no-such-secret", "reader": READER, "writer": WRITER, "admin": ADMIN}


def _call(raw: Raw, endpoint: str, headers: dict[str, str]):
    method, path, _ = ENDPOINTS[endpoint]
    body = None
    if method == "PUT":
        body = raw.request("GET", CONFIG, headers=token(ADMIN))[2]
    return raw.request(method, path, body, headers)


@pytest.mark.parametrize("who", list(SECRETS))
@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_acl_matrix(acl_running, who, endpoint) -> None:
    raw = Raw(acl_running)
    capability = ENDPOINTS[endpoint][2]
    secret = SECRETS[who]
    headers = token(secret) if secret else {}
    status, _, data = _call(raw, endpoint, headers)
    if capability is None or capability in GRANTS[who]:
        assert status in (200, 429), (status, data)
    else:
        assert (status, data) == (403, b"Permission denied")
    raw.close()


def test_token_sources(acl_running) -> None:
    raw = Raw(acl_running)
    ok = [token(f"  {READER}\t"), {"Authorization": f"Bearer {READER}"}, {"Authorization": f"bearer   {READER} extra"},
          {"X-Nomad-Token": READER, "Authorization": "Bearer nope"}]
    for headers in ok:
        assert raw.request("GET", CONFIG, headers=headers)[0] == 200, headers
    refused = [{"Authorization": READER}, {"Authorization": f"Basic {READER}"}, {"X-Nomad-Token": "nope", "Authorization": f"Bearer {READER}"},
               {"X-Nomad-Token": READER.upper()}]
    for headers in refused:
        assert raw.request("GET", CONFIG, headers=headers)[:3:2] == (403, b"Permission denied"), headers
    raw.close()


def test_anonymous_policy_and_unknown_tokens() -> None:
    with served(scenario(acl=True, anonymous="operator-read"), paused=True, start_at="5s") as server:
        raw = Raw(server)
        assert raw.request("GET", CONFIG)[0] == 200
        assert raw.request("GET", HEALTH)[0] == 200
        assert raw.request("PUT", CONFIG, "{}")[:3:2] == (403, b"Permission denied")
        # A token that does not exist is refused even where the anonymous policy would allow.
        assert raw.request("GET", CONFIG, headers=token("bogus"))[:3:2] == (403, b"Permission denied")
        raw.close()


def test_acls_disabled_allow_everything_whatever_the_token(raw) -> None:
    for headers in ({}, token("anything"), {"Authorization": "Bearer x"}):
        assert raw.request("GET", CONFIG, headers=headers)[0] == 200
        assert raw.request("GET", "/v1/operator/raft/configuration", headers=headers)[0] == 200
        assert raw.request("GET", "/v1/sim/time", headers=headers)[0] == 200
