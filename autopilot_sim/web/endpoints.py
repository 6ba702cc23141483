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
import threading
from functools import lru_cache
from importlib import resources
from typing import Any

from autopilot_sim.api.wire import JSON, Response, first, parse_go_uint64
from autopilot_sim.durations import DurationError, parse_duration
from autopilot_sim.web.view import LiveView, pick_messages, report_point

#: The clock rates the API accepts (the page's slider spans 0.1x..100x).
MIN_SPEED = 0.01
MAX_SPEED = 1000.0
#: Longest single step (simulated).
MAX_STEP_NS = 3600 * 10**9

_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".txt": "text/plain; charset=utf-8",
}
_lock = threading.Lock()


@lru_cache(maxsize=None)
def static_files() -> dict[str, bytes]:
    """Every file of the page, by name (read once; the directory is flat, so no path can escape)."""
    root = resources.files("autopilot_sim.web") / "static"
    return {entry.name: entry.read_bytes() for entry in root.iterdir() if entry.is_file()}


def ui(path: str, method: str) -> Response | None:
    """``/``, ``/ui`` and ``/ui/...``: the page, or None when ``path`` is not the page's."""
    if path != "/" and path != "/ui" and not path.startswith("/ui/"):
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


def live_view(api: Any) -> LiveView:
    """The API's `LiveView` (made on first use)."""
    view = getattr(api, "_web_view", None)
    if view is None:
        with _lock:
            view = getattr(api, "_web_view", None)
            if view is None:
                view = api._web_view = LiveView(api.live)
    return view


def _number(req: Any, key: str) -> int | Response:
    raw = first(req.query, key)
    if raw == "":
        return 0
    value = parse_go_uint64(raw)
    if value is None:
        return Response.text(400, f"Invalid {key}: expected a non-negative whole number, got {json.dumps(raw)}")
    return value


def sim_view(api: Any, req: Any) -> Response:
    """GET /v1/sim/view[?messages=SEQ][&reports=N]: the current frame, the Raft messages sent
    after SEQ, the health-report timeline points from position N, and the clock."""
    refused = api._sim_guard(req, ("GET",))
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
    reports = api.live.sim.nomad.reports
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


def _body_value(req: Any, key: str) -> tuple[str | None, Response | None]:
    """``?key=`` or the JSON body's ``Key`` (either spelling), as text."""
    raw = first(req.query, key.lower())
    if raw:
        return raw, None
    if req.body:
        try:
            data = json.loads(req.body)
        except (ValueError, RecursionError) as exc:
            return None, Response.text(400, f"Error parsing body: invalid JSON: {exc}")
        if not isinstance(data, dict):
            return None, Response.text(400, f"Error parsing body: expected a JSON object like {{\"{key}\": ...}}")
        unknown = sorted(k for k in data if k.lower() != key.lower())
        if unknown:
            return None, Response.text(400, f"Error parsing body: unknown key {json.dumps(unknown[0])}; "
                                            f"the only key is \"{key}\"")
        for k, v in data.items():
            return (json.dumps(v) if not isinstance(v, str) else v), None
    return None, None


def sim_speed(api: Any, req: Any) -> Response:
    """POST /v1/sim/speed with ``{"Speed": X}`` (or ``?speed=X``): simulated seconds per wall second."""
    refused = api._sim_guard(req, ("POST", "PUT"))
    if refused is not None:
        return refused
    raw, error = _body_value(req, "Speed")
    if error is not None:
        return error
    if raw is None:
        return Response.text(400, 'Error parsing speed: missing: send {"Speed": 10} or ?speed=10')
    try:
        speed = float(raw)
    except ValueError:
        speed = math.nan
    if not (math.isfinite(speed) and MIN_SPEED <= speed <= MAX_SPEED):
        return Response.text(400, f"Error parsing speed: must be a number from {MIN_SPEED:g} to {MAX_SPEED:g} "
                                  f"(simulated seconds per wall-clock second), got {raw}")
    result = api.live.set_speed(speed)
    if result.status != 200:
        return Response.text(result.status, result.error or "")
    return Response.json(api.live.state(), pretty=req.pretty)


def sim_step(api: Any, req: Any) -> Response:
    """POST /v1/sim/step[?by=DURATION]: on a paused clock, process the next instant that has
    events (or advance by DURATION); answers the clock."""
    refused = api._sim_guard(req, ("POST", "PUT"))
    if refused is not None:
        return refused
    raw, error = _body_value(req, "By")
    if error is not None:
        return error
    by_ns = None
    if raw:
        try:
            by_ns = parse_duration(raw)
        except DurationError as exc:
            return Response.text(400, f"Error parsing by: {exc} (a Go duration such as 100ms)")
        if not 0 < by_ns <= MAX_STEP_NS:
            return Response.text(400, f"Error parsing by: must be more than 0s and at most 1h0m0s, got {raw}")
    result = api.live.step(by_ns)
    if result.status != 200:
        return Response.text(result.status, result.error or "")
    return Response.json(api.live.state(), pretty=req.pretty)


__all__ = ["JSON", "sim_speed", "sim_step", "sim_view", "static_files", "ui", "live_view"]
