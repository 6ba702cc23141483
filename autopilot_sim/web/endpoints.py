"""HTTP endpoints of the web dashboard, plugged into `autopilot_sim.api.handlers.NomadApi`:

* ``GET /`` redirects to ``/ui/`` (307, as Nomad's agent does); ``GET /ui/`` serves the page and
  ``/ui/<file>`` its assets, all shipped in the package (``autopilot_sim/web/static``);
* ``GET /v1/sim/view`` one frame of the cluster for the page (`autopilot_sim.web.view`);
* ``POST /v1/sim/speed`` changes the clock rate; ``POST /v1/sim/step`` advances a paused clock.

The ``/v1/sim`` ones take the management capability like every other ``/v1/sim`` endpoint; the
page and its assets need no token (they hold no data: the page asks for a token when the API
answers 403).
"""

from __future__ import annotations

import json
import math
import re
import threading
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from autopilot_sim.api.wire import JSON, Response, first, parse_go_uint64
from autopilot_sim.durations import parse_duration
from autopilot_sim.web.view import LiveView, pick_messages, report_point

if TYPE_CHECKING:
    from autopilot_sim.api.handlers import NomadApi

#: The clock rates the API accepts (the page's slider spans 0.1x..100x).
MIN_SPEED = 0.01
MAX_SPEED = 1000.0

_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".txt": "text/plain; charset=utf-8",
}
_lock = threading.Lock()


@cache
def static_files() -> dict[str, bytes]:
    """Every file of the page, by name (read once; the directory is flat, so no path can escape)."""
    root = resources.files("autopilot_sim.web") / "static"
    return {entry.name: entry.read_bytes() for entry in root.iterdir() if entry.is_file()}


def ui(path: str, method: str) -> Response | None:
    """``/``, ``/ui`` and ``/ui/...``: the page, or None when ``path`` is not the page's."""
    if path not in {"/", "/ui"} and not path.startswith("/ui/"):
        return None
    if method not in ("GET", "HEAD"):
        return Response(405, b"Invalid method", "text/plain; charset=utf-8", [("Allow", "GET, HEAD")])
    if path in ("/", "/ui"):
        return Response(307, b"", None, [("Location", "/ui/")])
    name = path[len("/ui/"):] or "index.html"
    files = static_files()
    if name not in files:
        return Response(404, f"no such file in the dashboard: {name}".encode(), "text/plain; charset=utf-8")
    suffix = name[name.rfind("."):] if "." in name else ""
    return Response(200, files[name], _TYPES.get(suffix, "application/octet-stream"),
                    [("Cache-Control", "no-cache")])


def live_view(api: NomadApi) -> LiveView:
    """The API's `LiveView` (made on first use)."""
    view = api.web_view
    if view is None:
        with _lock:
            view = api.web_view
            if view is None:
                view = api.web_view = LiveView(api.live)
    return view


def _number(req: Any, key: str) -> int | Response:
    raw = first(req.query, key)
    if raw == "":
        return 0
    value = parse_go_uint64(raw)
    if value is None:
        return Response.text(400, f"Invalid {key}: expected a non-negative whole number, got {json.dumps(raw)}")
    return value


def sim_view(api: NomadApi, req: Any) -> Response:
    """GET /v1/sim/view[?messages=SEQ][&reports=N]: the current frame, the Raft messages sent
    after SEQ, the health-report timeline points from position N, and the clock."""
    refused = api.sim_guard(req, ("GET",))
    if refused is not None:
        return refused
    since_msg = _number(req, "messages")
    if isinstance(since_msg, Response):
        return since_msg
    since_report = _number(req, "reports")
    if isinstance(since_report, Response):
        return since_report
    view = live_view(api)
    frame = view.watch()
    if frame is None:
        return Response.text(503, "the simulation is not running")
    messages = view.messages
    reports = api.live.nomad.reports
    upto = frame["Reports"]
    points = [report_point(r) for r in reports[since_report:upto]] if since_report < upto else []
    return Response.json({
        "Mode": "live",
        "Clock": api.live.state(),
        "Frame": frame,
        "Messages": pick_messages(messages, since_msg),
        "NextMessage": messages[-1][0] if messages else since_msg,
        "Timeline": points,
        "NextReport": max(since_report, upto),
    }, pretty=req.pretty)


#: What ?by= accepts (the OpenAPI pattern says the same): 1ms..999s in whole ms or s.
STEP_BY = re.compile(r"[1-9][0-9]{0,2}(ms|s)")


def sim_speed(api: NomadApi, req: Any) -> Response:
    """POST /v1/sim/speed with ``{"Speed": X}``: simulated seconds per wall second from now on."""
    refused = api.sim_guard(req, ("POST", "PUT"))
    if refused is not None:
        return refused
    hint = f'; send {{"Speed": X}} with X from {MIN_SPEED:g} to {MAX_SPEED:g} (simulated seconds per wall second)'
    if not req.body:
        return Response.text(400, "Error parsing speed: Request body is empty" + hint)
    try:
        data = json.loads(req.body)
    except (ValueError, RecursionError) as exc:
        return Response.text(400, f"Error parsing speed: invalid JSON: {exc}" + hint)
    if not isinstance(data, dict):
        return Response.text(400, f"Error parsing speed: expected a JSON object, got {type(data).__name__}" + hint)
    unknown = sorted(k for k in data if k != "Speed")
    if unknown:
        return Response.text(400, f"Error parsing speed: unknown key {json.dumps(unknown[0])}" + hint)
    if "Speed" not in data:
        return Response.text(400, "Error parsing speed: missing Speed" + hint)
    speed = data["Speed"]
    if isinstance(speed, bool) or not isinstance(speed, (int, float)) or not (
            math.isfinite(speed) and MIN_SPEED <= speed <= MAX_SPEED):
        return Response.text(400, f"Error parsing speed: Speed: got {json.dumps(speed)}" + hint)
    result = api.live.set_speed(float(speed))
    if result.status != 200:
        return Response.text(result.status, result.error or "")
    return Response.json(api.live.state(), pretty=req.pretty)


def sim_step(api: NomadApi, req: Any) -> Response:
    """POST /v1/sim/step[?by=DURATION]: on a paused clock, process the next instant that has
    events (or advance by DURATION, 1ms..999s in whole ms or s); answers the clock."""
    refused = api.sim_guard(req, ("POST", "PUT"))
    if refused is not None:
        return refused
    raw = first(req.query, "by")
    by_ns = None
    if raw != "":
        if not STEP_BY.fullmatch(raw):
            return Response.text(400, f"Error parsing by: expected a duration from 1ms to 999s in whole ms or s "
                                      f"(e.g. 100ms, 5s), got {json.dumps(raw)}")
        by_ns = parse_duration(raw)
    result = api.live.step(by_ns)
    if result.status != 200:
        return Response.text(result.status, result.error or "")
    return Response.json(api.live.state(), pretty=req.pretty)


__all__ = ["JSON", "live_view", "sim_speed", "sim_step", "sim_view", "static_files", "ui"]
