"""Request paths as Nomad's Go server handles them: redirects to the clean path with Go's
escaping (no header injection through ``Location``), a leading ``//``, segment-wise routing,
malformed targets, and the server refusing any header value with a control character
(issue 14, item 3). Raw sockets, so that exactly what went over the wire is checked."""

from __future__ import annotations

import socket

import pytest
from api_support import scenario, served

from autopilot_sim.api import gourl
from autopilot_sim.api.wire import Response

LEADER = "/v1/status/leader"
LEADER_B = LEADER.encode()


@pytest.fixture(scope="module")
def server():
    with served(scenario(), speed=1.0, start_at="5s") as srv:
        yield srv


def exchange(srv, payload: bytes) -> bytes:
    """Send raw bytes, half-close, and read everything the server sends back."""
    with socket.create_connection((srv.host, srv.port), timeout=10) as sock:
        sock.sendall(payload)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def responses(data: bytes) -> list[tuple[int, list[tuple[str, str]], bytes]]:
    """Split a byte stream into HTTP responses (by Content-Length), strictly."""
    out = []
    while data:
        head, sep, rest = data.partition(b"\r\n\r\n")
        assert sep, data
        lines = head.decode("latin-1").split("\r\n")
        assert lines[0].startswith("HTTP/1.1 "), lines[0]
        headers = [tuple(part.strip() for part in line.split(":", 1)) for line in lines[1:]]
        assert all(len(h) == 2 for h in headers), lines
        length = int({k.lower(): v for k, v in headers}["content-length"])
        out.append((int(lines[0][9:12]), headers, rest[:length]))
        data = rest[length:]
    return out


def request(srv, method: str, target: bytes, extra: bytes = b"") -> tuple[int, dict[str, str], bytes]:
    """One request on a fresh connection; asserts exactly one response came back."""
    data = exchange(srv, method.encode() + b" " + target + b" HTTP/1.1\r\nHost: x\r\n" + extra
                    + b"Connection: close\r\n\r\n")
    answers = responses(data)
    assert len(answers) == 1, data
    status, headers, body = answers[0]
    names = [k.lower() for k, _ in headers]
    assert len(names) == len(set(names)), headers
    return status, {k.lower(): v for k, v in headers}, body


# --- header injection ---------------------------------------------------------------------------


@pytest.mark.parametrize("target, location", [
    # The probe: Go escapes the escaped path once more ('%' -> '%25').
    (b"/v1//%0d%0aX-Injected:%20yes", "/v1/%250d%250aX-Injected:%2520yes"),
    (b"/v1//%0D%0AX-Injected:%20yes", "/v1/%250D%250AX-Injected:%2520yes"),
    (b"/v1//%0d%0a%0d%0aHTTP/1.1%20200%20OK%0d%0a", "/v1/%250d%250a%250d%250aHTTP/1.1%2520200%2520OK%250d%250a"),
    (b"/v1/./%0aSet-Cookie:x=1", "/v1/%250aSet-Cookie:x=1"),
    # In the query: kept raw, as Go keeps RawQuery (its escapes stay escapes).
    (b"//v1/status/leader?x=%0d%0aX-Injected:%20yes", "/v1/status/leader?x=%0d%0aX-Injected:%20yes"),
])
def test_crlf_in_a_redirected_path_injects_nothing(server, target, location) -> None:
    status, headers, body = request(server, "GET", target)
    assert status == 301
    assert headers["location"] == location
    assert "x-injected" not in headers and "set-cookie" not in headers
    assert b"\r" not in body and body.count(b"\n") == 2


@pytest.mark.parametrize("target", [b"/v1/\x01", b"/v1/status/leader?x=\x7f", b"/v1//\x0bx", b"/v1/%zz",
                                    b"/v1/%0", b"/v1/status/leader%", b"v1/status/leader"])
def test_control_bytes_and_bad_escapes_in_the_target_are_400(server, target) -> None:
    # url.ParseRequestURI refuses these; Go's server answers 400 and closes the connection.
    status, headers, body = request(server, "GET", target)
    assert (status, body) == (400, b"400 Bad Request")
    assert headers["connection"] == "close"


def test_asterisk_form_is_answered_like_go(server) -> None:
    assert request(server, "OPTIONS", b"*")[0] == 200
    status, headers, body = request(server, "GET", b"*")
    assert (status, body, headers["connection"]) == (400, b"", "close")


def test_a_raw_cr_in_the_request_line_is_a_bad_request(server) -> None:
    data = exchange(server, b"GET /v1//\rX-Injected: yes HTTP/1.1\r\nHost: x\r\n\r\n")
    answers = responses(data)
    assert len(answers) == 1 and answers[0][0] == 400
    assert all(k.lower() != "x-injected" for k, _ in answers[0][1])


def test_the_server_refuses_to_send_a_header_with_a_control_character(server, monkeypatch) -> None:
    # Defence in depth: whatever a handler returns, no CR/LF/CTL reaches the wire.
    for name, value in [("Location", "/a\r\nX-Injected: yes"), ("Location", "/a\nb"), ("X-Test", "a\x00b"),
                        ("Bad Name", "v"), ("X-Bad:", "v")]:
        monkeypatch.setattr(server.api, "handle", lambda *a, n=name, v=value: Response(301, b"", None, [(n, v)]))
        before = server.errors
        status, headers, body = request(server, "GET", LEADER_B)
        assert status == 500 and body.startswith(b"internal error: refusing to send an answer")
        assert "x-injected" not in headers and "location" not in headers and "x-test" not in headers
        assert server.errors == before + 1
        server.httpd.errors = before  # an expected refusal, not a bug of the server
    monkeypatch.undo()
    assert request(server, "GET", LEADER_B)[0] == 200
    # A tab is allowed in a value (RFC 9110 field-vchar / HTAB).
    monkeypatch.setattr(server.api, "handle", lambda *a: Response(200, b"", None, [("X-Test", "a\tb")]))
    assert request(server, "GET", LEADER_B)[0] == 200


# --- redirects to the clean path, as Go's ServeMux does them -------------------------------------


def test_leading_double_slash_is_redirected_like_go(server) -> None:
    # http.server collapses a leading "//" before the handler sees it; Nomad redirects.
    status, headers, body = request(server, "GET", b"//v1/status/leader")
    assert status == 301 and headers["location"] == LEADER
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert body == b'<a href="/v1/status/leader">Moved Permanently</a>.\n\n'
    status, headers, body = request(server, "GET", b"///v1//status///leader")
    assert status == 301 and headers["location"] == LEADER
    # An open redirect is impossible: the clean path has one leading slash.
    assert request(server, "GET", b"//evil.example/x")[1]["location"] == "/evil.example/x"


def test_redirect_body_and_type_depend_on_the_method_as_in_go(server) -> None:
    status, headers, body = request(server, "HEAD", b"//v1/status/leader")
    assert (status, headers["location"], headers["content-type"]) == (301, LEADER, "text/html; charset=utf-8")
    for method in ("PUT", "POST", "DELETE"):
        status, headers, body = request(server, method, b"//v1/status/leader")
        assert (status, headers["location"], body) == (301, LEADER, b"")
        assert "content-type" not in headers


@pytest.mark.parametrize("target, location", [
    (b"//v1/status/leader?pretty", "/v1/status/leader?pretty"),
    (b"//v1/status/leader?stale=true&pretty=1", "/v1/status/leader?stale=true&pretty=1"),
    (b"//v1/status/leader?a=%20b+c&&d", "/v1/status/leader?a=%20b+c&&d"),  # raw, not re-encoded
    (b"//v1/status/leader?", "/v1/status/leader"),  # an empty query is dropped by url.String
    (b"/v1/operator//autopilot/./health?pretty", "/v1/operator/autopilot/health?pretty"),
    (b"/v1/sim/../status/peers", "/v1/status/peers"),
    (b"/v1/status/leader/..", "/v1/status"),
    (b"/v1/status/leader/../", "/v1/status/"),  # the trailing slash is kept
    (b"/../../v1/status/leader", LEADER),
    (b"/v1//status/%6ceader", "/v1/status/%256ceader"),  # Go <= 1.25 escapes the escapes again
    (b"/v1//status/l%C3%A9ader", "/v1/status/l%25C3%25A9ader"),
    (b"/v1//status/l\xc3\xa9ader", "/v1/status/l%25C3%25A9ader"),  # raw non-ASCII: EscapedPath, then again
    (b"/v1//status/leader?q=\xe9", "/v1/status/leader?q=%e9"),  # hexEscapeNonASCII, lower case
    (b"/v1//a!b(c)*", "/v1/a%21b%28c%29%2A"),
    (b"/v1/operator/raft", "/v1/operator/raft/"),  # only "/v1/operator/raft/" is registered
    (b"/v1/operator/raft?stale", "/v1/operator/raft/?stale"),
    (b"//v1/operator/%72aft", "/v1/operator/raft/"),
    (b"http://example//v1/status/leader", LEADER),  # absolute-form
])
def test_redirect_locations(server, target, location) -> None:
    status, headers, _ = request(server, "GET", target)
    assert (status, headers["location"]) == (301, location)


@pytest.mark.parametrize("target, status, body", [
    (b"/v1/status/%6ceader", 200, b'"node2"'),  # segments are unescaped one by one
    (b"/v1/status/leader", 200, b'"node2"'),
    (b"/v1/status%2Fleader", 404, b""),  # an escaped slash is not a separator
    (b"/v1/status/%2e%2e/status/leader", 404, b""),  # nor is %2e%2e a ".." segment
    (b"/v1/status/leader/", 404, b""),
    (b"/v1/operator/raft/%63onfiguration", 200, None),
    (b"/v1/operator/raft/x%2Fy", 404, b"Invalid method"),
])
def test_routing_by_unescaped_segments(server, target, status, body) -> None:
    got, _, data = request(server, "GET", target)
    assert got == status, data
    if body is not None:
        assert data == body


def test_leader_is_node2_in_this_scenario(server) -> None:
    # The routing test above relies on it (a deterministic election at 5 s).
    assert server.live.snapshot.leader == "node2"


# --- the Go functions themselves ----------------------------------------------------------------


@pytest.mark.parametrize("path, clean", [
    ("", "/"), ("/", "/"), ("//", "/"), ("a/b", "/a/b"), ("/a//b/", "/a/b/"), ("/a/./b/.", "/a/b"),
    ("/a/../../b", "/b"), ("/..", "/"), ("/../", "/"), ("/a/b/..", "/a"), ("/a/b/../", "/a/"),
    ("///a", "/a"), ("/a/.../b", "/a/.../b"), ("/%2e%2e/a", "/%2e%2e/a"),
])
def test_clean_path_matches_go(path, clean) -> None:
    assert gourl.clean_path(path) == clean


def test_escape_path_matches_go() -> None:
    assert gourl.escape_path("/a b?c#d%e") == "/a%20b%3Fc%23d%25e"
    assert gourl.escape_path("/$&+,/:;=@-_.~") == "/$&+,/:;=@-_.~"
    assert gourl.escape_path("/\r\n\x7f\xe9") == "/%0D%0A%7F%E9"
    assert gourl.escape_path("/!'()*[]") == "/%21%27%28%29%2A%5B%5D"


def test_handle_takes_a_unicode_target_as_its_utf8_bytes(server) -> None:
    # Called directly (not through the socket), a str target with non-Latin-1 text must not raise.
    answer = server.api.handle("GET", "//v1/status/l\u00e9ader\u2603", {}, None)
    assert (answer.status, answer.headers) == (301, [("Location", "/v1/status/l%25C3%25A9ader%25E2%2598%2583")])
