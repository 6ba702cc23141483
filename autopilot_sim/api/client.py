"""A small Nomad-style HTTP client (what `autopilot-sim operator ...` uses).

It resolves its settings the way Nomad's Go client does: the address from ``-address``, else
``NOMAD_ADDR``, else ``http://127.0.0.1:4646``; the token from ``-token``, else ``NOMAD_TOKEN``
(sent as ``X-Nomad-Token``); the region from ``-region``, else ``NOMAD_REGION`` (sent as
``?region=``). Errors read like the Go client's: ``Unexpected response code: 403 (Permission
denied)`` for an answer that is not the expected status, ``Get "<url>": dial tcp ...: connect:
connection refused`` when nothing listens.
"""

from __future__ import annotations

import http.client
import json
import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

DEFAULT_ADDRESS = "http://127.0.0.1:4646"


class ClientError(Exception):
    """A request that failed; ``str()`` is the Go client's error text. ``status``/``body`` are
    set when the server answered."""

    def __init__(self, message: str, status: int | None = None, body: bytes = b"") -> None:
        super().__init__(message)
        self.status = status
        self.body = body


@dataclass
class Answer:
    """An HTTP answer: status, headers (lower-case names) and body bytes."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class ClientConfig:
    """Resolved connection settings."""

    address: str = DEFAULT_ADDRESS
    token: str = ""
    region: str = ""
    ca_cert: str = ""
    ca_path: str = ""
    client_cert: str = ""
    client_key: str = ""
    tls_server_name: str = ""
    tls_skip_verify: bool = False

    @classmethod
    def resolve(cls, flags: Mapping[str, Any] | None = None,
                environ: Mapping[str, str] | None = None) -> ClientConfig:
        """Flags (``address``, ``token``, ``region``, TLS options) win over NOMAD_* variables."""
        flags = flags or {}
        env = os.environ if environ is None else environ

        def pick(flag: str, var: str, default: str = "") -> str:
            value = flags.get(flag)
            if value:
                return str(value)
            return env.get(var, "") or default

        skip = flags.get("tls_skip_verify")
        if skip is None:
            skip = env.get("NOMAD_SKIP_VERIFY", "").lower() in ("1", "t", "true")
        return cls(
            address=pick("address", "NOMAD_ADDR", DEFAULT_ADDRESS),
            token=pick("token", "NOMAD_TOKEN"),
            region=pick("region", "NOMAD_REGION"),
            ca_cert=pick("ca_cert", "NOMAD_CACERT"),
            ca_path=pick("ca_path", "NOMAD_CAPATH"),
            client_cert=pick("client_cert", "NOMAD_CLIENT_CERT"),
            client_key=pick("client_key", "NOMAD_CLIENT_KEY"),
            tls_server_name=pick("tls_server_name", "NOMAD_TLS_SERVER_NAME"),
            tls_skip_verify=bool(skip),
        )


class NomadClient:
    """Blocking requests to a Nomad (or autopilot-sim) HTTP API."""

    def __init__(self, config: ClientConfig | None = None, timeout: float = 30.0) -> None:
        self.config = config or ClientConfig.resolve()
        address = self.config.address
        if "://" not in address:
            address = "http://" + address
        parts = urlsplit(address)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ClientError(f"invalid address {self.config.address!r}: expected http://host:port")
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 4646)
        self.base = f"{parts.scheme}://{parts.netloc}"
        self.timeout = timeout

    def _connection(self) -> http.client.HTTPConnection:
        if self.scheme == "http":
            return http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        cfg = self.config
        context = ssl.create_default_context(cafile=cfg.ca_cert or None, capath=cfg.ca_path or None)
        if cfg.client_cert:
            context.load_cert_chain(cfg.client_cert, cfg.client_key or None)
        if cfg.tls_skip_verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout, context=context)

    def request(self, method: str, path: str, *, params: Mapping[str, str] | None = None,
                body: Any = None) -> Answer:
        """Send one request; ``body`` (if not None) is sent as JSON. Raises `ClientError` when
        the server cannot be reached."""
        query = dict(params or {})
        if self.config.region:
            query.setdefault("region", self.config.region)
        target = path + ("?" + "&".join(f"{quote(k)}={quote(str(v))}" for k, v in query.items()) if query else "")
        headers = {"User-Agent": "autopilot-sim", "Accept": "application/json"}
        if self.config.token:
            headers["X-Nomad-Token"] = self.config.token
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        conn = self._connection()
        verb = method.capitalize()
        try:
            conn.request(method, target, body=data, headers=headers)
            resp = conn.getresponse()
            answer = Answer(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
        except ConnectionRefusedError:
            raise ClientError(f'{verb} "{self.base}{target}": dial tcp {self.host}:{self.port}: connect: '
                              "connection refused") from None
        except (OSError, http.client.HTTPException) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc) or type(exc).__name__
            raise ClientError(f'{verb} "{self.base}{target}": {reason}') from None
        finally:
            conn.close()
        return answer

    def expect(self, answer: Answer, *statuses: int) -> Answer:
        """Raise the Go client's UnexpectedResponseError text unless the status is expected."""
        if answer.status in statuses:
            return answer
        text = answer.body.decode("utf-8", "replace").strip()
        message = f"Unexpected response code: {answer.status}" + (f" ({text})" if text else "")
        raise ClientError(message, answer.status, answer.body)

    # --- the operator endpoints --------------------------------------------------------------

    def autopilot_get_configuration(self) -> dict[str, Any]:
        """GET /v1/operator/autopilot/configuration (200 required)."""
        config: dict[str, Any] = self.expect(self.request("GET", "/v1/operator/autopilot/configuration"), 200).json()
        return config

    def autopilot_cas_configuration(self, config: Mapping[str, Any]) -> bool:
        """PUT ...?cas=<config's ModifyIndex>; True when applied."""
        answer = self.request("PUT", "/v1/operator/autopilot/configuration",
                              params={"cas": str(config.get("ModifyIndex", 0))}, body=dict(config))
        return bool(self.expect(answer, 200).json())

    def autopilot_server_health(self) -> tuple[int, dict[str, Any]]:
        """GET /v1/operator/autopilot/health: (status, report). Unlike Nomad's Go client, a 429
        (unhealthy) answer is a report too."""
        answer = self.expect(self.request("GET", "/v1/operator/autopilot/health"), 200, 429)
        return answer.status, answer.json()


__all__ = ["DEFAULT_ADDRESS", "Answer", "ClientConfig", "ClientError", "NomadClient"]
