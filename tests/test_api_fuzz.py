"""Fuzzing the served API over real loopback HTTP (hypothesis), checked against the shipped
OpenAPI description: every answer is one the description documents for that path and method
(status, and the body's schema or error text), no request makes the server raise, and the
server still answers afterwards. Bounded: a fixed number of examples, short timeouts."""

from __future__ import annotations

import json
import socket
from typing import Any
from urllib.parse import quote

import jsonschema
import pytest
from api_support import ADMIN, READER, WRITER, Raw, scenario, served, wait_for
from fuzzing import examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autopilot_sim.api import gourl, openapi_document

DOC = openapi_document()
RAFT = "/v1/operator/raft/"
PATHS = sorted(DOC["paths"])


def documented_path(path: str) -> str | None:
    """The OpenAPI path that answers ``path`` (Nomad's router: exact, or a raft prefix)."""
    if path in DOC["paths"]:
        return path
    if path.startswith(RAFT):
        sub = path[len(RAFT):]
        for name in ("configuration", "peer", "transfer-leadership"):
            if sub.startswith(name):
                return RAFT + name
        return RAFT + "{other}"
    return None


def validator(schema: dict[str, Any]) -> Any:
    return jsonschema.Draft202012Validator({**schema, "components": DOC["components"]})


def check_answer(method: str, path: str, status: int, headers: dict[str, str], body: bytes) -> None:
    """Fail unless the description documents this answer."""
    assert status < 500 or status in (500, 501, 503), status
    assert headers.get("content-length") == str(len(body)) or method == "HEAD"
    if status == 301:
        return
    if path in ("/", "/ui") or path.startswith("/ui/"):  # the web dashboard (autopilot_sim.web.endpoints)
        assert status in ((307,) if path in ("/", "/ui") else (200, 404)) if method in ("GET", "HEAD") else status == 405
        return
    doc_path = documented_path(path)
    if doc_path is None:
        assert status == 404, (path, status)
        assert body == b"" or (path.startswith("/v1/sim") and body.startswith(b"no simulation endpoint "))
        return
    item = DOC["paths"][doc_path]
    op = item.get(method.lower())
    if op is None:
        other = item["x-other-methods"]
        assert status == other["status"], (method, path, status, body)
        if method != "HEAD":
            assert body.decode() == other["body"]
        return
    if status == 413:
        return
    assert str(status) in op["responses"], (method, path, status, body)
    if method == "HEAD":
        return
    response = op["responses"][str(status)]
    content_type = headers.get("content-type")
    media = response["content"].get(content_type) if content_type else None
    assert media is not None, (method, path, status, content_type, list(response["content"]))
    schema = media["schema"]
    if content_type == "application/json" or ("$ref" in schema and status == 429):
        instance = json.loads(body)
    else:
        instance = body.decode("utf-8")
    errors = sorted(validator(schema).iter_errors(instance), key=str)
    assert not errors, (method, path, status, body[:300], [e.message for e in errors[:3]])


# --- strategies ----------------------------------------------------------------------------------

TARGETS = st.sampled_from(["node1", "node2", "node3", "leader", "follower", "follower[1]", "voter", "voter[2]",
                           "non-voter", "node9", "", "Node1", "leader[x]"])
DURATIONS = st.sampled_from(["1s", "500ms", "0s", "-1s", "1h", "10", "", "abc", "1.5m", "2562047h"]) | st.text(max_size=6)
EVENTS = st.one_of(
    st.builds(lambda t: {"crash": t}, TARGETS),
    st.builds(lambda t: {"restart": t}, TARGETS),
    st.builds(lambda t: {"leave": t}, TARGETS),
    st.builds(lambda t: {"force_leave": t}, TARGETS),
    st.builds(lambda gs: {"partition": gs}, st.lists(st.lists(TARGETS, max_size=3), max_size=3)),
    st.builds(lambda a, b: {"cut": {"from": a, "to": b}}, TARGETS, TARGETS),
    st.just({"heal": "all"}),
    st.builds(lambda t, d: {"pause": {"server": t, "for": d}}, TARGETS, DURATIONS),
    st.builds(lambda w: {"set_load": {"writes_per_second": w}}, st.integers(-5, 500) | st.floats(allow_nan=True)),
    st.builds(lambda n, v: {"join": {"name": n, "version": v}}, st.sampled_from(["node4", "node5", "n-x", "node1", "BAD"]),
              st.sampled_from(["1.11.0", "2.0.0", "x", ""])),
    st.builds(lambda k, v: {"set_autopilot": {k: v}}, st.sampled_from(["max_trailing_logs", "last_contact_threshold",
                                                                       "cleanup_dead_servers", "nope"]),
              st.integers(-1, 500) | DURATIONS | st.booleans()),
    st.dictionaries(st.text(max_size=8), st.integers() | st.text(max_size=5), max_size=3),
)
CONFIG_KEYS = ["LastContactThreshold", "ServerStabilizationTime", "CleanupDeadServers", "MaxTrailingLogs", "MinQuorum",
               "EnableRedundancyZones", "DisableUpgradeMigration", "EnableCustomUpgrades", "CreateIndex",
               "ModifyIndex", "maxtrailinglogs", "Unknown"]
JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers(-2**65, 2**65) | st.floats(allow_nan=False)
                           | st.text(max_size=8) | DURATIONS,
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                           max_leaves=6)
CONFIGS = st.dictionaries(st.sampled_from(CONFIG_KEYS), JSON_VALUES | DURATIONS | st.integers(0, 1000), max_size=6)
BODIES = st.one_of(
    st.none(),
    CONFIGS.map(lambda d: json.dumps(d).encode()),
    EVENTS.map(lambda d: json.dumps(d, allow_nan=True).encode()),
    JSON_VALUES.map(lambda d: json.dumps(d).encode()),
    st.binary(max_size=40),
    st.sampled_from([b"", b" ", b"{", b"true", b"null", b"[]", b'{"a":1} {"b":2}', b"\xff\xfe", b"{\"MaxTrailingLogs\":1e3}"]),
)
QUERY_KEYS = st.sampled_from(["cas", "stale", "pretty", "region", "wait", "index", "per_page", "since", "x", "CAS"])
QUERY_VALUES = st.sampled_from(["", "0", "1", "true", "False", "maybe", "-1", "18446744073709551616", "global", "emea",
                                "5s", "1x", "+1", "%", "a b"]) | st.text(max_size=6)
QUERIES = st.lists(st.tuples(QUERY_KEYS, QUERY_VALUES, st.booleans()), max_size=4).map(
    lambda items: "&".join((quote(k) + ("=" + quote(v, safe="") if has_value else "")) for k, v, has_value in items))
PATH_STRATEGY = st.one_of(
    st.sampled_from(PATHS),
    st.sampled_from(PATHS).map(lambda p: p + "/"),
    st.sampled_from(["/v1/operator/raft/configurationX", "/v1/operator/raft/peerage", "/v1/operator/raft/",
                     "/v1/sim/", "/v1/sim/nothing", "/", "/v1", "/v1/operator/autopilot", "/v1/status/",
                     "/v1/operator/autopilot/%68ealth", "/v1//status/leader", "/v1/sim/../status/peers"]),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz/._-%0123456789", max_size=20).map(lambda s: "/" + s),
)
METHODS = st.sampled_from(["GET", "GET", "GET", "PUT", "PUT", "POST", "DELETE", "HEAD", "PATCH", "OPTIONS", "BREW"])
TOKENS = st.sampled_from([ADMIN, ADMIN, ADMIN, None, READER, WRITER, "bogus", f"Bearer {ADMIN}", f"Bearer {READER}", " "])
#: The documented operations, so that most examples reach a handler rather than the mux's 404.
OPERATIONS = st.sampled_from([(path, method.upper()) for path, item in DOC["paths"].items()
                              for method in item if method in ("get", "put", "post", "delete")])
REQUESTS = st.one_of(
    st.tuples(OPERATIONS, st.sampled_from(["", "", "", "pretty", "stale"]) | QUERIES),
    st.tuples(OPERATIONS, QUERIES),
    st.tuples(OPERATIONS, st.just("")),
    st.tuples(st.tuples(PATH_STRATEGY, METHODS), QUERIES),
).map(lambda r: (r[0][0], r[0][1], r[1]))


@pytest.fixture(scope="module")
def fuzz_server():
    with served(scenario(acl=True, servers=3), speed=5.0, start_at="5s") as server:
        server.live.write_timeout = 0.5  # a PUT right after a fuzzed pause must not stall the run
        raw = Raw(server, timeout=20)
        yield server, raw
        raw.close()


@settings(max_examples=examples(400), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow], derandomize=True)
@given(request=REQUESTS, body=BODIES, tok=TOKENS)
def test_fuzz_requests_get_documented_answers(fuzz_server, request, body, tok) -> None:
    server, raw = fuzz_server
    path, method, query = request
    path = path.replace("{other}", "whatever")
    headers: dict[str, str] = {}
    if tok is not None:
        if tok.startswith("Bearer "):
            headers["Authorization"] = tok
        else:
            headers["X-Nomad-Token"] = tok
    target = path + ("?" + query if query else "")
    status, resp_headers, data = raw.request(method, target, body, headers)
    try:
        parsed = gourl.parse_target(path)
    except gourl.BadRequestTarget:  # a malformed escape: Go's server refuses the request line
        assert (status, data) == (400, b"" if method == "HEAD" else b"400 Bad Request"), (method, path)
    else:
        decoded = parsed.path.encode("latin-1").decode("utf-8", "replace")
        if "%2f" in path.lower() and not decoded.startswith(RAFT):
            assert status in (301, 404), (path, status)  # an escaped "/" separates no segments
        else:
            check_answer(method, decoded, status, resp_headers, data)
    if server.live.snapshot.paused:
        server.live.resume()
    if server.live.snapshot.speed != 5.0:  # a fuzzed POST /v1/sim/speed
        server.live.set_speed(5.0)


def test_server_still_answers_after_fuzzing(fuzz_server) -> None:
    server, raw = fuzz_server
    status, headers, data = raw.request("GET", "/v1/operator/autopilot/health", headers={"X-Nomad-Token": READER})
    check_answer("GET", "/v1/operator/autopilot/health", status, headers, data)
    assert server.errors == 0
    before = server.live.snapshot.t_ns
    wait_for(lambda: server.live.snapshot.t_ns > before or server.live.snapshot.ended)  # the clock still moves


def _send_raw(server, payload: bytes, timeout: float = 5.0) -> bytes:
    with socket.create_connection((server.host, server.port), timeout=timeout) as sock:
        sock.sendall(payload)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except (ConnectionResetError, TimeoutError):
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)


MALFORMED = [
    b"\r\n\r\n",
    b"GARBAGE\r\n\r\n",
    b"GET\r\n\r\n",
    b"GET /v1/status/leader HTTP/9.9\r\n\r\n",
    b"GET /v1/status/leader HTTP/1.1\r\nBroken header\r\n\r\n",
    b"PUT /v1/operator/autopilot/configuration HTTP/1.1\r\nContent-Length: abc\r\n\r\n{}",
    b"PUT /v1/operator/autopilot/configuration HTTP/1.1\r\nContent-Length: -5\r\n\r\n{}",
    b"PUT /v1/operator/autopilot/configuration HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n{}",
    b"PUT /v1/operator/autopilot/configuration HTTP/1.1\r\nContent-Length: 100\r\n\r\n{}",
    b"PUT /v1/operator/autopilot/configuration HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    b"PUT /v1/operator/autopilot/configuration HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{}",
    b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n",
    b"GET /v1/status/leader HTTP/1.1\r\n" + b"X: y\r\n" * 200 + b"\r\n",
    bytes(range(256)),
]


@pytest.mark.parametrize("payload", MALFORMED, ids=range(len(MALFORMED)))
def test_malformed_requests_do_not_break_the_server(fuzz_server, payload) -> None:
    server, _raw = fuzz_server
    answer = _send_raw(server, payload)
    if answer:
        assert answer.startswith(b"HTTP/1."), answer[:100]
        # No server error (505 is the answer for an HTTP version that does not exist).
        status = int(answer[9:12])
        assert status < 500 or status == 505, answer[:200]
    # A fresh connection still gets answers.
    fresh = Raw(server)
    assert fresh.request("GET", "/v1/status/peers")[0] == 200
    fresh.close()
