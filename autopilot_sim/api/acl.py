"""Nomad-style ACLs for the HTTP API, from the scenario's ``acl:`` block.

What Nomad does for the endpoints served here (docs/behaviour/autopilot.md §9.1,
``nomad/auth`` Authenticate and ``acl/acl.go``):

* the token is the ``X-Nomad-Token`` header (trimmed), else ``Authorization: Bearer <token>``
  (scheme case-insensitive, only the first word after it);
* with ACLs disabled every request passes, whatever token it carries;
* with ACLs enabled, no token means the anonymous policy; an unknown token is refused outright
  (even where the anonymous policy would allow the request);
* policy ``operator-read`` grants ``operator:read``; ``operator-write`` grants read and write;
  ``management`` grants everything, including what only a management token may do (the Raft
  configuration endpoint, and this simulator's ``/v1/sim`` control endpoints).

Every refusal is answered 403 ``Permission denied`` by the handlers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

OPERATOR_READ = "operator:read"
OPERATOR_WRITE = "operator:write"
MANAGEMENT = "management"

#: What each policy name of the scenario format grants.
GRANTS: dict[str, frozenset[str]] = {
    "none": frozenset(),
    "operator-read": frozenset({OPERATOR_READ}),
    "operator-write": frozenset({OPERATOR_READ, OPERATOR_WRITE}),
    "management": frozenset({OPERATOR_READ, OPERATOR_WRITE, MANAGEMENT}),
}


def _header_text(value: str) -> str:
    """Header values arrive decoded as Latin-1 by http.server; Go sees the raw bytes. Re-read
    them as UTF-8 so a non-ASCII secret compares like it would in Nomad."""
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def parse_token(headers: Mapping[str, str] | Any) -> str:
    """The request's ACL token as Nomad's ``parseToken`` reads it ("" when there is none)."""
    token = headers.get("X-Nomad-Token")
    if token:
        return _header_text(token).strip()
    auth = headers.get("Authorization")
    if auth:
        parts = _header_text(auth).split(" ")
        if len(parts) > 1 and parts[0].lower() == "bearer":
            value = " ".join(parts[1:]).strip()
            return value.split(" ")[0].strip()
    return ""


class AclPolicy:
    """Decides whether a token holds a capability. Immutable; safe to share between threads."""

    __slots__ = ("_anonymous", "_tokens", "enabled")

    def __init__(self, spec: Any = None) -> None:
        """``spec`` is a scenario `AclSpec` (or None: ACLs disabled)."""
        self.enabled = bool(spec is not None and spec.enabled)
        self._anonymous = GRANTS[spec.anonymous] if spec is not None else GRANTS["none"]
        self._tokens = {t.secret: GRANTS[t.policy] for t in (spec.tokens if spec is not None else [])}

    def allows(self, token: str, capability: str) -> bool:
        """Whether a request carrying ``token`` ("" for none) may use ``capability``."""
        if not self.enabled:
            return True
        if token == "":
            return capability in self._anonymous
        grants = self._tokens.get(token)
        return grants is not None and capability in grants
