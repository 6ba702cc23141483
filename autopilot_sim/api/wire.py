"""Bytes on the wire: Go-style JSON, Go-style query strings, and the response value.

* `go_json` / `go_json_pretty` render a value like Nomad's JSON encoder: compact, or indented
  by four spaces with a trailing newline for ``?pretty``; ``<``, ``>``, ``&``, U+2028 and U+2029
  escaped as Go escapes them; non-ASCII text kept as UTF-8.
* `parse_query` reads a query string like Go's ``url.ParseQuery`` (what ``req.URL.Query()``
  returns): ``&``-separated, ``+`` is a space, a pair with a bad escape or a ``;`` is dropped,
  blank values kept (Nomad tests *presence* of ``cas`` and ``stale``).
* `parse_go_bool`, `parse_go_int32`, `parse_go_uint64`: Go's strconv rules for the query
  parameters Nomad parses.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

JSON = "application/json"
TEXT = "text/plain; charset=utf-8"

_GO_ESCAPES = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026",
                             "\u2028": "\\u2028", "\u2029": "\\u2029"})


def go_json(value: Any) -> bytes:
    """Compact JSON as Go writes it."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return text.translate(_GO_ESCAPES).encode("utf-8")


def go_json_pretty(value: Any) -> bytes:
    """``?pretty`` JSON: four-space indent and a trailing newline (Nomad's JsonHandlePretty)."""
    text = json.dumps(value, indent=4, separators=(",", ": "), ensure_ascii=False)
    return (text.translate(_GO_ESCAPES) + "\n").encode("utf-8")


@dataclass
class Response:
    """One HTTP answer. ``content_type`` None sends no Content-Type (as Go does for an empty
    body written after an explicit WriteHeader); ``close`` ends the connection after it."""

    status: int
    body: bytes = b""
    content_type: str | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    close: bool = False

    @classmethod
    def text(cls, status: int, message: str) -> Response:
        """A plain-text answer: Nomad's error shape (the bare message, no newline)."""
        return cls(status, message.encode("utf-8"), TEXT)

    @classmethod
    def json(cls, value: Any, *, pretty: bool = False, status: int = 200) -> Response:
        """A JSON answer."""
        return cls(status, go_json_pretty(value) if pretty else go_json(value), JSON)


# --- query strings -----------------------------------------------------------------------------

_HEX = "0123456789abcdefABCDEF"


def _unescape(text: str) -> str | None:
    """Go's QueryUnescape: '+' → ' ', %XX → byte; a malformed escape → None."""
    if "%" not in text and "+" not in text:
        return text
    out = bytearray()
    raw = text.encode("utf-8", "surrogateescape")
    i, n = 0, len(raw)
    while i < n:
        c = raw[i]
        if c == 0x25:  # %
            if i + 2 >= n:
                return None
            h1, h2 = chr(raw[i + 1]), chr(raw[i + 2])
            if h1 not in _HEX or h2 not in _HEX:
                return None
            out.append(int(h1 + h2, 16))
            i += 3
        elif c == 0x2B:  # +
            out.append(0x20)
            i += 1
        else:
            out.append(c)
            i += 1
    return out.decode("utf-8", "replace")


def parse_query(query: str) -> dict[str, list[str]]:
    """Go's ``url.ParseQuery``: every key's values in order; bad pairs are skipped."""
    values: dict[str, list[str]] = {}
    for part in query.split("&"):
        if part == "" or ";" in part:
            continue
        key, _, value = part.partition("=")
        k, v = _unescape(key), _unescape(value)
        if k is None or v is None:
            continue
        values.setdefault(k, []).append(v)
    return values


def first(query: dict[str, list[str]], key: str) -> str:
    """Go's ``Values.Get``: the first value, or ""."""
    vals = query.get(key)
    return vals[0] if vals else ""


_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})


def parse_go_bool(text: str) -> bool | None:
    """strconv.ParseBool; None when Go would return an error."""
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return None


def parse_go_int32(text: str) -> int | None:
    """strconv.ParseInt(text, 10, 32); None on any error."""
    body = text[1:] if text[:1] in ("+", "-") else text
    if not body or not body.isascii() or not body.isdigit():
        return None
    value = int(text)
    return value if -(1 << 31) <= value < (1 << 31) else None


def parse_go_uint64(text: str) -> int | None:
    """strconv.ParseUint(text, 10, 64); None on any error."""
    if not text or not text.isascii() or not text.isdigit():
        return None
    value = int(text)
    return value if value < (1 << 64) else None
