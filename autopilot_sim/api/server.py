"""The HTTP transport: the standard library's ``ThreadingHTTPServer`` over `NomadApi`.

Why the standard library: no dependency, a thread per connection fits a handler that only
reads a published snapshot (no lock, no SimPy), and it makes Nomad's exact bytes easy to emit
(plain-text errors, the bare ``true``). An asyncio server would only pay off if the simulation
itself ran on the event loop (docs/api.md, "How it works").

Transport details that clients rely on:

* HTTP/1.1 keep-alive; every answer carries ``Content-Length`` (Go's client rejects an empty
  200 body it has to decode) and goes out in one write with TCP_NODELAY (no Nagle delay);
* request bodies are read by ``Content-Length`` or ``Transfer-Encoding: chunked``; a request
  without a body is Go's ``http.NoBody`` (PUT then answers ``Request body is empty``); bodies
  over `MAX_BODY` are refused with 413 and the connection is closed;
* every answer has ``Vary: Accept-Encoding`` (Nomad's compression wrapper adds it; this server
  never compresses);
* any method reaches the router (Nomad answers unknown methods with its own 404/405).
"""

from __future__ import annotations

import contextlib
import email.utils
import re
import socket
import sys
import threading
import time
import traceback
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from autopilot_sim.api.acl import AclPolicy
from autopilot_sim.api.handlers import NomadApi
from autopilot_sim.api.live import LiveSimulation
from autopilot_sim.api.wire import Response

MAX_BODY = 16 * 1024 * 1024

#: An HTTP token (RFC 9110 §5.6.2): what a header name may be.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
#: Control characters a header value must not carry (HTAB is allowed). CR or LF would end the
#: header early and let the rest of the value inject headers or a second response.
_VALUE_CTL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")

_date_cache: tuple[int, str] = (0, "")


def _http_date() -> str:
    global _date_cache  # noqa: PLW0603 -- one-second cache of the Date header, reset by time only
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache = (now, email.utils.formatdate(now, usegmt=True))
    return _date_cache[1]


def _header_fault(name: str, value: str) -> str | None:
    """Why this header must not be sent, or None. (Go's own writer replaces CR and LF in values
    with spaces; refusing is stricter and makes the bug visible.)"""
    if not _TOKEN.fullmatch(name):
        return f"invalid header name {name!r}"
    if _VALUE_CTL.search(value):
        return f"control character in the value of header {name}"
    return None


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


class _BadBody(Exception):
    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "autopilot-sim"
    sys_version = ""
    disable_nagle_algorithm = True
    timeout = 120  # an idle keep-alive connection is closed after this many seconds
    server: HttpServer

    def __getattr__(self, name: str) -> Any:
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def log_message(self, format: str, *args: Any) -> None:  # stdlib signature
        if self.server.log_requests:
            sys.stderr.write(f"{self.address_string()} - {format % args}\n")

    def parse_request(self) -> bool:
        """The standard parsing, then the request-target exactly as sent: ``http.server``
        reduces a leading ``//`` to ``/`` (an open-redirect guard for file servers, gh-87389),
        whereas Nomad's Go mux sees ``//v1/...`` and redirects it to the clean path."""
        if not super().parse_request():
            return False
        words = self.requestline.split()  # the split parse_request itself made
        if len(words) >= 2:
            self.path = words[1]
        return True

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """A request the HTTP layer cannot parse: answer like Go's server (status line, plain
        text "<code> <reason>", connection closed), never the stdlib's HTML page."""
        self.close_connection = True
        if self.command is None or not str(self.command).isalpha():
            self.command = "GET"
        with contextlib.suppress(OSError):
            self._send(Response.text(code, f"{code} {_reason(code)}"))

    def _serve(self) -> None:
        try:
            body = self._read_body()
        except _BadBody as exc:
            self.close_connection = True
            self._send(Response.text(exc.status, str(exc)))
            return
        except (OSError, ValueError):
            self.close_connection = True
            return
        try:
            response = self.server.api.handle(self.command, self.path, self.headers, body)
        except Exception as exc:  # a bug must not kill the connection thread
            self.server.count_error()
            traceback.print_exc(file=sys.stderr)
            response = Response.text(500, f"internal error: {type(exc).__name__}: {exc}")
        if response.close:
            self.close_connection = True
        self._send(response)
        if self.server.log_requests:
            self.log_request(response.status, len(response.body))

    def _read_body(self) -> bytes | None:
        encoding = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in encoding:
            return self._read_chunked()
        length = self.headers.get("Content-Length")
        if length is None:
            return None
        text = length.strip()
        if not text.isdigit():
            raise _BadBody(400, "Bad Request: invalid Content-Length")
        size = int(text)
        if size > MAX_BODY:
            raise _BadBody(413, f"Request body too large (limit {MAX_BODY} bytes)")
        if size == 0:
            return None
        data = self.rfile.read(size)
        if len(data) != size:
            raise ValueError("client closed the connection mid-body")
        return data

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(1024)
            if not line.endswith(b"\n"):
                raise _BadBody(400, "Bad Request: malformed chunked body")
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise _BadBody(400, "Bad Request: malformed chunk size") from None
            if size < 0:
                raise _BadBody(400, "Bad Request: malformed chunk size")
            if size == 0:
                break
            total += size
            if total > MAX_BODY:
                raise _BadBody(413, f"Request body too large (limit {MAX_BODY} bytes)")
            chunk = self.rfile.read(size)
            if len(chunk) != size or self.rfile.read(2) != b"\r\n":
                raise _BadBody(400, "Bad Request: malformed chunked body")
            chunks.append(chunk)
        while True:  # trailer section
            line = self.rfile.readline(1024)
            if line in (b"\r\n", b"\n", b""):
                break
        return b"".join(chunks)

    def _send(self, response: Response) -> None:
        headers = list(response.headers)
        if response.content_type is not None:
            headers.insert(0, ("Content-Type", response.content_type))
        for name, value in headers:
            fault = _header_fault(name, value)
            if fault is not None:  # never let a value split the answer: refuse it, loudly
                self.server.count_error()
                sys.stderr.write(f"autopilot-sim: refusing to send an answer: {fault}\n")
                response = Response.text(500, f"internal error: refusing to send an answer: {fault}")
                headers = [("Content-Type", str(response.content_type))]
                break
        body = response.body
        head = [f"HTTP/1.1 {response.status} {_reason(response.status)}\r\n",
                f"Date: {_http_date()}\r\n", "Vary: Accept-Encoding\r\n"]
        for name, value in headers:
            head.append(f"{name}: {value}\r\n")
        head.append(f"Content-Length: {len(body)}\r\n")
        if self.close_connection:
            head.append("Connection: close\r\n")
        head.append("\r\n")
        data = "".join(head).encode("latin-1", "replace")
        if self.command != "HEAD":
            data += body
        self.wfile.write(data)


class HttpServer(ThreadingHTTPServer):
    """The threading HTTP server in front of an API object (the Nomad API, or a replay's)."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], api: NomadApi, *, log_requests: bool = False) -> None:
        self.api = api
        self.log_requests = log_requests
        self.errors = 0
        self._connections: set[socket.socket] = set()
        self._lock = threading.Lock()
        super().__init__(address, _Handler)

    def count_error(self) -> None:
        with self._lock:
            self.errors += 1

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        with self._lock:
            self._connections.add(request)
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._lock:
                self._connections.discard(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away mid-answer is normal (e.g. at shutdown); anything else is
        reported as the standard library does."""
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)

    def close_connections(self) -> None:
        """Close every open keep-alive connection (their threads then end)."""
        with self._lock:
            conns = list(self._connections)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class HttpServer6(HttpServer):
    address_family = socket.AF_INET6


def http_server(host: str, port: int, api: Any, *, log_requests: bool = False) -> HttpServer:
    """An HttpServer bound to (host, port): IPv6 when the host has a ':'."""
    cls = HttpServer6 if ":" in host else HttpServer
    return cls((host, port), api, log_requests=log_requests)


class ApiServer:
    """A live simulation and the HTTP server in front of it.

    ::

        live = LiveSimulation(load_scenario("scenarios/demo.yaml"), speed=1.0)
        with ApiServer(live, port=0) as server:     # port 0: any free port
            print(server.url)                        # http://127.0.0.1:<port>
            ...
        result = live.result()                       # the run directory's content

    Binds to loopback unless another host is given.
    """

    def __init__(self, live: LiveSimulation, host: str = "127.0.0.1", port: int = 4646, *,
                 acl: AclPolicy | None = None, log_requests: bool = False) -> None:
        self.live = live
        self.api = NomadApi(live, acl)
        self.httpd = http_server(host, port, self.api, log_requests=log_requests)
        self._thread: threading.Thread | None = None

    @property
    def host(self) -> str:
        return str(self.httpd.server_address[0])

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    @property
    def url(self) -> str:
        """The base address, e.g. ``http://127.0.0.1:4646``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def errors(self) -> int:
        """How many requests raised inside the server (a bug if ever non-zero)."""
        return self.httpd.errors

    def start(self) -> ApiServer:
        """Start the simulation (if not yet running) and serve in a background thread."""
        if not self.live.running:
            self.live.start()
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="autopilot-sim-http", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close open connections and stop the simulation thread."""
        if self._thread is not None:
            self.httpd.shutdown()
            self._thread.join(5)
            self._thread = None
        self.httpd.close_connections()
        self.httpd.server_close()
        self.live.stop()

    def __enter__(self) -> ApiServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
