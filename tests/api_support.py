"""Helpers for the HTTP API tests: small scenarios, an in-process server on a free loopback
port, and a raw HTTP client that shows exactly what went over the wire."""

from __future__ import annotations

import contextlib
import http.client
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

from autopilot_sim.api import ApiServer, LiveSimulation
from autopilot_sim.durations import SECOND
from autopilot_sim.scenario import load_scenario_text

READER = "reader-secret-0001"
WRITER = "writer-secret-0002"
ADMIN = "admin-secret-0003"

ACL_BLOCK = f"""
acl:
  enabled: true
  anonymous: ANONYMOUS
  tokens:
    - {{name: reader, secret: {READER}, policy: operator-read}}
    - {{name: writer, secret: {WRITER}, policy: operator-write}}
    - {{name: admin, secret: {ADMIN}, policy: management}}
"""


def scenario(*, servers: int = 3, acl: bool = False, anonymous: str = "none", events: str = "",
             duration: str = "1h", extra: str = "", name: str = "api-test") -> Any:
    """A small scenario; ``events`` is YAML list items (``- {at: 3s, crash: node3}``)."""
    text = f"""
name: {name}
duration: {duration}
cluster: {{servers: {servers}}}
load: {{writes_per_second: 5}}
{ACL_BLOCK.replace("ANONYMOUS", anonymous) if acl else ""}
{extra}
"""
    if events:
        text += "events:\n" + "\n".join("  " + line.strip() for line in events.strip().splitlines()) + "\n"
    return load_scenario_text(text, filename="<api-test>")


class FakeClock:
    """A monotonic clock (seconds) that moves only when a test says so: the simulated time of a
    served simulation then follows the test's steps exactly, whatever the machine's load."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@contextlib.contextmanager
def served(sc: Any, *, speed: float = 1.0, start_at: str | int | None = None, paused: bool = False,
           end: Any = "scenario", clock: Callable[[], float] | None = None) -> Iterator[ApiServer]:
    """An ApiServer on 127.0.0.1:<free port>; ``start_at`` first runs the simulation to that time
    in virtual time (so what the first request sees is deterministic); ``clock`` replaces the
    wall clock (see `FakeClock`)."""
    live = LiveSimulation(sc, speed=speed, paused=paused, end=end, **({"clock": clock} if clock else {}))
    if start_at is not None:
        from autopilot_sim.durations import parse_duration

        live.run_until(parse_duration(start_at) if isinstance(start_at, str) else start_at)
    server = ApiServer(live, "127.0.0.1", 0)
    server.start()
    try:
        yield server
    finally:
        server.stop()
    assert server.errors == 0, "the server raised while handling a request"


class Raw:
    """A raw HTTP/1.1 client on one keep-alive connection."""

    def __init__(self, server: ApiServer, timeout: float = 15.0) -> None:
        self.server = server
        self.conn = http.client.HTTPConnection(server.host, server.port, timeout=timeout)

    def request(self, method: str, target: str, body: bytes | str | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        if isinstance(body, str):
            body = body.encode("utf-8")
        hdrs = dict(headers or {})
        try:
            self.conn.request(method, target, body=body, headers=hdrs)
            resp = self.conn.getresponse()
        except (http.client.HTTPException, OSError):
            self.conn.close()
            self.conn.request(method, target, body=body, headers=hdrs)
            resp = self.conn.getresponse()
        data = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data

    def json(self, method: str, target: str, body: Any = None, headers: dict[str, str] | None = None
             ) -> tuple[int, Any]:
        payload = json.dumps(body) if body is not None else None
        status, hdrs, data = self.request(method, target, payload, headers)
        is_json = hdrs.get("content-type", "").startswith("application/json")
        return status, json.loads(data) if data and is_json else data

    def close(self) -> None:
        self.conn.close()


def token(secret: str) -> dict[str, str]:
    return {"X-Nomad-Token": secret}


def wait_for(predicate: Callable[[], Any], timeout: float = 20.0, interval: float = 0.02) -> Any:
    """Poll until ``predicate()`` is truthy (bounded); returns its value or fails the test."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)


def sim_time(server: ApiServer) -> int:
    return server.live.snapshot.t_ns


__all__ = ["ADMIN", "READER", "SECOND", "WRITER", "Raw", "scenario", "served", "sim_time", "token", "wait_for"]
