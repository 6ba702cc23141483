"""The endpoints: Nomad's, answered exactly as Nomad answers them, and the ``/v1/sim`` extension.

`NomadApi.handle(method, target, headers, body)` turns one request into a `Response`; it holds
no transport code (see `autopilot_sim.api.server`) and reads the cluster only through the live
simulation's published `Snapshot`, so it is safe to call from many threads at once.

Nomad's order of checks, which decides *which* error a bad request gets (``command/agent``
``operator_endpoint.go`` / ``status_endpoint.go``, ``nomad/operator_endpoint.go``):

1. method (404 ``Invalid method`` on the autopilot paths; 405 on the status paths; a bare 405
   with no body on ``/v1/operator/raft/configuration``);
2. GETs: query options (``?stale`` 400, ``?per_page`` 400, ``?wait`` 400, ``?index`` 400);
   PUT: the body (400 ``Error parsing autopilot config: ...``), then ``?cas`` (400
   ``Error parsing cas value: ...``);
3. ``?region`` other than the cluster's: 500 ``No path to region``;
4. forwarding to the leader (not for ``?stale`` reads): 500 ``No cluster leader``;
5. ACL: 403 ``Permission denied`` (the Raft peer removal and leadership transfer need a
   management token, as Nomad's RPCs check ``IsManagement``);
6. the operation itself.

Nomad holds a request up to 5 s waiting for a leader before answering ``No cluster leader``;
the simulator answers at once (a client polling through an election sees the 500s sooner).

Why one module of ~540 lines: it is Nomad's endpoint table for these paths, and the order of
checks above is shared by every endpoint; one class keeps that order visible in one place.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from autopilot_sim.api.acl import MANAGEMENT, OPERATOR_READ, OPERATOR_WRITE, AclPolicy, parse_token
from autopilot_sim.api.gourl import (
    BadRequestTarget,
    clean_path,
    escaped_path,
    parse_target,
    redirect,
    segments,
    url_string,
)
from autopilot_sim.api.live import LiveSimulation
from autopilot_sim.api.openapi import openapi_bytes
from autopilot_sim.api.wire import (
    JSON,
    TEXT,
    Response,
    first,
    go_json_pretty,
    parse_go_bool,
    parse_go_int32,
    parse_go_uint64,
    parse_query,
)
from autopilot_sim.autopilot.config import AutopilotConfig, ConfigWireError, parse_cas_param
from autopilot_sim.autopilot.report import NO_LEADER_ERROR
from autopilot_sim.durations import DurationError, parse_duration
from autopilot_sim.web import endpoints as web

if TYPE_CHECKING:
    from autopilot_sim.web.view import LiveView

INVALID_METHOD = "Invalid method"
PERMISSION_DENIED = "Permission denied"
NOT_INITIALIZED = "autopilot config not initialized yet"
NO_REGION_PATH = "No path to region"
RAFT_PREFIX = "/v1/operator/raft/"
RAFT_SEGMENTS = ("v1", "operator", "raft")

#: The simulation-control endpoints, for "what would be valid" messages.
SIM_ENDPOINTS = (
    "GET /v1/sim/time",
    "GET /v1/sim/events[?since=N]",
    "POST /v1/sim/events",
    "POST /v1/sim/pause",
    "POST /v1/sim/resume",
    "POST /v1/sim/speed",
    "POST /v1/sim/step[?by=DURATION]",
    "GET /v1/sim/view[?messages=SEQ&reports=N]",
    "GET /v1/sim/openapi.json",
)
EVENT_EXAMPLE = '{"crash": "node1"}, {"partition": [["leader"]]}, {"heal": "all"}'


class _Request:
    __slots__ = ("_token", "body", "headers", "method", "path", "pretty", "query")

    def __init__(self, method: str, path: str, query: dict[str, list[str]], headers: Any,
                 body: bytes | None) -> None:
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        values = query.get("pretty") or []
        self.pretty = bool(values) and values[0] != "0"  # ?pretty, ?pretty=1: on; ?pretty=0: off
        self._token: str | None = None

    @property
    def token(self) -> str:
        if self._token is None:
            self._token = parse_token(self.headers)
        return self._token


def _text(status: int, message: str) -> Response:
    return Response.text(status, message)


class NomadApi:
    """Routes requests to the endpoints; one instance serves every request thread."""

    def __init__(self, live: LiveSimulation, acl: AclPolicy | None = None) -> None:
        self.live = live
        self.acl = acl if acl is not None else AclPolicy(live.scenario.acl)
        self.region = live.scenario.cluster.region
        #: The dashboard's view of `live` (web.endpoints.live_view makes it on first use).
        self.web_view: LiveView | None = None
        self._routes: dict[str, Callable[[_Request], Response]] = {
            "/v1/operator/autopilot/configuration": self._autopilot_configuration,
            "/v1/operator/autopilot/health": self._autopilot_health,
            "/v1/status/leader": self._status_leader,
            "/v1/status/peers": self._status_peers,
            "/v1/sim/time": self._sim_time,
            "/v1/sim/events": self._sim_events,
            "/v1/sim/pause": self._sim_pause,
            "/v1/sim/resume": self._sim_resume,
            "/v1/sim/openapi.json": self._sim_openapi,
            # the web dashboard's endpoints (autopilot_sim.web.endpoints)
            "/v1/sim/view": lambda req: web.sim_view(self, req),
            "/v1/sim/speed": lambda req: web.sim_speed(self, req),
            "/v1/sim/step": lambda req: web.sim_step(self, req),
        }
        # Keyed by path segments: the mux compares each unescaped segment.
        self._by_segments = {tuple(path.split("/")[1:]): handler for path, handler in self._routes.items()}

    # ------------------------------------------------------------------ entry point

    def handle(self, method: str, target: str, headers: Any, body: bytes | None) -> Response:
        """Answer one request. ``target`` is the request-target exactly as sent (path and query,
        one character per byte); ``body`` is None when the request had no body (Go's
        ``http.NoBody``), else its bytes. Paths are routed as Nomad's Go mux routes them
        (`autopilot_sim.api.gourl`)."""
        if any(ord(c) > 0xFF for c in target):  # a caller's str, not request-line bytes: use its UTF-8
            target = target.encode("utf-8", "surrogateescape").decode("latin-1")
        if target == "*":  # Go: OPTIONS * is answered by the server, anything else by the mux
            return Response(200) if method == "OPTIONS" else Response(400, close=True)
        try:
            parsed = parse_target(target)
        except BadRequestTarget:  # Go's server refuses the request line itself
            return Response(400, b"400 Bad Request", TEXT, close=True)
        escaped = escaped_path(parsed)
        clean = clean_path(escaped)
        segs = segments(clean)
        if segs == RAFT_SEGMENTS:  # only "/v1/operator/raft/" is registered: add the slash
            return _redirect(method, url_string(clean_path(parsed.path) + "/", parsed.raw_query))
        if clean != escaped:  # Go's ServeMux redirects to the canonical path
            return _redirect(method, url_string(clean, parsed.raw_query))
        path = parsed.path.encode("latin-1").decode("utf-8", "replace")
        req = _Request(method, path, parse_query(parsed.raw_query or ""), headers, body)
        route = self._by_segments.get(segs)
        if route is not None:
            return route(req)
        if segs[:3] == RAFT_SEGMENTS:  # the "/v1/operator/raft/" subtree
            return self._operator_raft(req, path[len(RAFT_PREFIX):])
        page = web.ui(path, method)  # the dashboard: /, /ui, /ui/...
        if page is not None:
            return page
        if path.startswith("/v1/sim/") or path == "/v1/sim":
            return _text(404, f"no simulation endpoint {path}; the endpoints are: " + ", ".join(SIM_ENDPOINTS))
        return Response(404)  # Nomad's fallthrough handler: an empty 404

    # ------------------------------------------------------------------ shared checks

    def _query_options(self, req: _Request) -> tuple[Response | None, bool]:
        """Nomad's ``s.parse``: (error response or None, AllowStale)."""
        stale = False
        q = req.query
        if "stale" in q:
            value = q["stale"][0]
            if value == "":
                stale = True
            else:
                parsed = parse_go_bool(value)
                if parsed is None:
                    return _text(400, "Expect `true` or `false` for `stale` query string parameter"), False
                stale = parsed
        per_page = first(q, "per_page")
        if per_page != "" and parse_go_int32(per_page) is None:
            return _text(400, "Expect a number for `per_page` query string parameter"), False
        wait = first(q, "wait")
        if wait != "":
            try:
                parse_duration(wait)
            except DurationError:
                return _text(400, "Invalid wait time"), False
        index = first(q, "index")
        if index != "" and parse_go_uint64(index) is None:
            return _text(400, "Invalid index"), False
        return None, stale

    def _read_options(self, req: _Request) -> tuple[Response | None, bool]:
        """Query options, then the region check, as every read endpoint does them."""
        error, stale = self._query_options(req)
        if error is None:
            error = self._other_region(req)
        return error, stale

    def _other_region(self, req: _Request) -> Response | None:
        region = first(req.query, "region")
        if region not in ("", self.region):
            return _text(500, NO_REGION_PATH)
        return None

    def _denied(self, req: _Request, capability: str) -> Response | None:
        if self.acl.allows(req.token, capability):
            return None
        return _text(403, PERMISSION_DENIED)

    def _json(self, req: _Request, value: Any, status: int = 200) -> Response:
        return Response.json(value, pretty=req.pretty, status=status)

    # ------------------------------------------------------------------ /v1/operator/autopilot

    def _autopilot_configuration(self, req: _Request) -> Response:
        if req.method == "GET":
            return self._get_configuration(req)
        if req.method == "PUT":
            return self._put_configuration(req)
        return _text(404, INVALID_METHOD)

    def _get_configuration(self, req: _Request) -> Response:
        error, stale = self._read_options(req)
        if error is not None:
            return error
        snap = self.live.snapshot
        if stale:
            if snap.agent is None:  # no server is running: nothing could answer
                return _text(500, NO_LEADER_ERROR)
            config = snap.stale_config
        else:
            if snap.leader is None:
                return _text(500, NO_LEADER_ERROR)
            config = snap.config
        denied = self._denied(req, OPERATOR_READ)
        if denied is not None:
            return denied
        if config is None:
            return _text(500, NOT_INITIALIZED)
        if not stale and not req.pretty and snap.config_bytes is not None:
            return Response(200, snap.config_bytes, JSON)
        return self._json(req, config.to_wire())

    def _put_configuration(self, req: _Request) -> Response:
        body = req.body
        if body == b"":  # a chunked body with no bytes is not http.NoBody: Go's decoder says EOF
            body = b" "
        try:
            config = AutopilotConfig.from_wire(body)
        except ConfigWireError as exc:
            return _text(400, str(exc))
        cas: int | None = None
        if "cas" in req.query:
            try:
                cas = parse_cas_param(req.query["cas"][0])
            except ConfigWireError as exc:
                return _text(400, str(exc))
        error = self._other_region(req)
        if error is not None:
            return error
        if self.live.snapshot.leader is None:
            return _text(500, NO_LEADER_ERROR)
        denied = self._denied(req, OPERATOR_WRITE)
        if denied is not None:
            return denied
        result = self.live.submit_write(config, cas)
        if result.status != 200:
            return _text(result.status, result.error or "")
        return self._json(req, bool(result.value))

    def _autopilot_health(self, req: _Request) -> Response:
        if req.method != "GET":
            return _text(404, INVALID_METHOD)
        error, _ = self._read_options(req)  # stale is parsed, then forced off: health is the leader's
        if error is not None:
            return error
        snap = self.live.snapshot
        if snap.leader is None:
            return _text(500, NO_LEADER_ERROR)
        denied = self._denied(req, OPERATOR_READ)
        if denied is not None:
            return denied
        status = snap.health_status
        if status == 500:
            return _text(500, NO_LEADER_ERROR)
        body = go_json_pretty(snap.health_body) if req.pretty else snap.health_bytes
        # Nomad writes the 429 status before it sets Content-Type, so Go sniffs the body and
        # sends text/plain; the 200 answer is application/json.
        return Response(status, body, JSON if status == 200 else TEXT)

    # ------------------------------------------------------------------ /v1/operator/raft/

    def _operator_raft(self, req: _Request, sub: str) -> Response:
        if sub.startswith("configuration"):
            return self._raft_configuration(req)
        if sub.startswith("peer"):
            return self._raft_remove_peer(req)
        if sub.startswith("transfer-leadership"):
            return self._raft_transfer_leadership(req)
        return _text(404, INVALID_METHOD)

    def _raft_write_checks(self, req: _Request) -> Response | None:
        """What a Raft operator write meets after its own parameter checks: the region, the
        forwarding to the leader, then the ACL. Nomad's RPCs require a management token
        (``IsManagement``), not just ``operator:write``."""
        error = self._other_region(req)
        if error is None and self.live.snapshot.leader is None:
            error = _text(500, NO_LEADER_ERROR)
        if error is None:
            error = self._denied(req, MANAGEMENT)
        return error

    def _raft_remove_peer(self, req: _Request) -> Response:
        """DELETE /v1/operator/raft/peer?id=<server ID> (OperatorRaftPeer + RaftRemovePeerByID).

        Current Nomad refuses ``?address=`` (Raft protocol 3 removes by ID only) and answers a
        success with an empty 200. An unknown ID is a plain error there, hence 500."""
        if req.method != "DELETE":
            return _text(404, INVALID_METHOD)
        if "address" in req.query:
            return _text(400, "Removing a peer by address is not supported in the current raft protocol version")
        if "id" not in req.query:
            return _text(400, "Must specify the peer's ID to remove")
        error = self._raft_write_checks(req)
        if error is not None:
            return error
        result = self.live.submit_remove_peer(req.query["id"][0])
        if result.status != 200:
            return _text(result.status, result.error or "")
        return Response(200, b"")

    def _raft_transfer_leadership(self, req: _Request) -> Response:
        """PUT|POST /v1/operator/raft/transfer-leadership?id=|?address= (Nomad 1.9+).

        Parameter errors are Nomad's texts (400). Nomad also requires the ID to be a UUID and
        the address to be IP:port; simulated servers are named (ID = address = name), so any
        non-empty value is looked up in the Raft configuration instead (400 if absent). The
        answer is Nomad's LeadershipTransferResponse, sent once the old leader stepped down."""
        if req.method not in ("POST", "PUT"):
            return _text(405, INVALID_METHOD)
        ids, addresses = req.query.get("id"), req.query.get("address")
        if ids is None and addresses is None:
            return _text(400, "must specify id or address")
        if ids is not None and addresses is not None:
            return _text(400, "must specify either id or address")
        if ids is not None and ids[0] == "":
            return _text(400, "id must be non-empty")
        if ids is not None and len(ids) > 1:
            return _text(400, "must specify only one id")
        if addresses is not None and addresses[0] == "":
            return _text(400, "address must be non-empty")
        if addresses is not None and len(addresses) > 1:
            return _text(400, "must specify only one address")
        error = self._raft_write_checks(req)
        if error is not None:
            return error
        by, value = ("id", ids[0]) if ids is not None else ("address", addresses[0])  # type: ignore[index]
        result = self.live.submit_transfer(by, value)
        if result.status != 200:
            return _text(result.status, result.error or "")
        return self._json(req, result.value)

    def _raft_configuration(self, req: _Request) -> Response:
        if req.method != "GET":
            return Response(405)  # Nomad writes the status and no body
        error, stale = self._read_options(req)
        if error is not None:
            return error
        snap = self.live.snapshot
        view = snap.raft_stale if stale else snap.raft
        if view is None:
            return _text(500, NO_LEADER_ERROR)
        denied = self._denied(req, MANAGEMENT)  # Operator.RaftGetConfiguration needs management
        if denied is not None:
            return denied
        return self._json(req, view)

    # ------------------------------------------------------------------ /v1/status (no ACL)

    def _status(self, req: _Request) -> tuple[Response | None, bool]:
        if req.method != "GET":
            return _text(405, INVALID_METHOD), False
        return self._read_options(req)

    def _status_leader(self, req: _Request) -> Response:
        error, stale = self._status(req)
        if error is not None:
            return error
        snap = self.live.snapshot
        if stale:
            if snap.agent is None:
                return _text(500, NO_LEADER_ERROR)
            return self._json(req, snap.stale_leader)
        if snap.leader is None:
            return _text(500, NO_LEADER_ERROR)
        return self._json(req, snap.leader)

    def _status_peers(self, req: _Request) -> Response:
        error, stale = self._status(req)
        if error is not None:
            return error
        snap = self.live.snapshot
        peers = snap.peers_stale if stale else snap.peers
        if peers is None:
            return _text(500, NO_LEADER_ERROR)
        return self._json(req, peers)

    # ------------------------------------------------------------------ /v1/sim (extension)

    def sim_guard(self, req: _Request, methods: tuple[str, ...]) -> Response | None:
        """The checks every ``/v1/sim`` endpoint makes first (the web view's too): the method
        (405 with ``Allow``), then a management token. None when the request may proceed."""
        if req.method not in methods:
            return Response(405, INVALID_METHOD.encode(), TEXT, [("Allow", ", ".join(methods))])
        return self._denied(req, MANAGEMENT)

    def _sim_openapi(self, req: _Request) -> Response:
        if req.method != "GET":
            return Response(405, INVALID_METHOD.encode(), TEXT, [("Allow", "GET")])
        return Response(200, openapi_bytes(pretty=req.pretty), JSON)

    def _sim_time(self, req: _Request) -> Response:
        refused = self.sim_guard(req, ("GET",))
        if refused is not None:
            return refused
        return self._json(req, self.live.state())

    def _sim_pause(self, req: _Request) -> Response:
        return self._sim_clock(req, pause=True)

    def _sim_resume(self, req: _Request) -> Response:
        return self._sim_clock(req, pause=False)

    def _sim_clock(self, req: _Request, *, pause: bool) -> Response:
        refused = self.sim_guard(req, ("POST", "PUT"))
        if refused is not None:
            return refused
        result = self.live.pause() if pause else self.live.resume()
        if result.status != 200:
            return _text(result.status, result.error or "")
        return self._json(req, self.live.state())

    def _sim_events(self, req: _Request) -> Response:
        refused = self.sim_guard(req, ("GET", "POST", "PUT"))
        if refused is not None:
            return refused
        if req.method == "GET":
            return self._list_events(req)
        event = self._parse_event(req)
        if isinstance(event, Response):
            return event
        result = self.live.submit_event(event)
        if result.status != 200:
            return _text(result.status, result.error or "")
        return self._json(req, result.value)

    def _list_events(self, req: _Request) -> Response:
        raw = first(req.query, "since")
        since = 0
        if raw != "":
            parsed = parse_go_uint64(raw)
            if parsed is None:
                return _text(400, f"Invalid since: expected a non-negative whole number (a position in the "
                                  f"event log, e.g. the Next of an earlier answer), got {json.dumps(raw)}")
            since = parsed
        snap = self.live.snapshot
        events = self.live.sim.recorder.events[since:snap.events] if since < snap.events else []
        return self._json(req, {"Events": events, "Next": max(since, snap.events)})

    def _parse_event(self, req: _Request) -> Any:
        """The request body as a scenario `Event` (its ``at`` filled in later), or a 400."""
        from autopilot_sim.scenario.cluster import DEFAULT_VERSIONS
        from autopilot_sim.scenario.errors import translate, value_at
        from autopilot_sim.scenario.events import Event
        from autopilot_sim.scenario.jsonschema import valid_keys
        from autopilot_sim.scenario.loader import YAML_CONTEXT
        from autopilot_sim.scenario.types import describe, parse_target

        hint = f"; send one scenario event without \"at\", e.g. {EVENT_EXAMPLE}"
        if not req.body:
            return _text(400, "Error parsing event: Request body is empty" + hint)
        try:
            data = json.loads(req.body)
        except (ValueError, RecursionError) as exc:
            return _text(400, f"Error parsing event: invalid JSON: {exc}" + hint)
        if not isinstance(data, dict):
            return _text(400, f"Error parsing event: expected a JSON object, got {type(data).__name__}" + hint)
        if "at" in data:
            return _text(400, 'Error parsing event: "at" is not allowed: an event sent to the API fires '
                              "now, at the current simulated time" + hint)
        raw = {"at": "0s", **data}
        wrapped = {"events": [raw]}
        try:
            event = Event.model_validate(raw, context=YAML_CONTEXT)
        except ValidationError as exc:
            problems = translate(exc, raw, base=("events", 0),
                                 valid_keys=lambda p: valid_keys(p, value_at(wrapped, p)))
            lines = []
            for path, message, _ in problems:
                where = _event_path(path[2:])
                lines.append(f"{where}: {message}" if where else message)
            return _text(400, "Error parsing event: " + "; ".join(lines))
        snap = self.live.snapshot
        known = set(snap.servers)
        for path, target in event.references():
            ref = parse_target(target)
            if ref.name is not None and ref.name not in known:
                close = difflib.get_close_matches(ref.name, sorted(known), n=1)
                maybe = f'; did you mean "{close[0]}"?' if close else ""
                return _text(400, f"Error parsing event: {_event_path(path)}: unknown server "
                                  f"{describe(ref.name)}{maybe} "
                                  f"(servers: {', '.join(sorted(known))}; or a role: leader, follower, voter, "
                                  "non-voter, optionally indexed like follower[1])")
        if event.join is not None and not event.join.version_given:
            event.join.version = DEFAULT_VERSIONS[self.live.scenario.cluster.nomad_version]
            event.join.model_fields_set.discard("version")
        return event


def _event_path(path: tuple[Any, ...]) -> str:
    out = ""
    for seg in path:
        out += f"[{seg}]" if isinstance(seg, int) else (f".{seg}" if out else str(seg))
    return out


def _redirect(method: str, url: str) -> Response:
    """The mux's 301, written by ``http.Redirect``."""
    answer = redirect(method, url, 301)
    return Response(answer.status, answer.body, answer.content_type, [("Location", answer.location)])


__all__ = ["SIM_ENDPOINTS", "NomadApi"]
