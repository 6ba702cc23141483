"""Request paths and redirects as Nomad's HTTP server handles them (Go's ``net/url`` and the
``net/http`` ``ServeMux`` of Go 1.22 to 1.25, which Nomad 1.11 is built with).

Facts this module reproduces (from Go's ``src/net/url/url.go`` and ``src/net/http/server.go``):

* The request-target is parsed by ``url.ParseRequestURI``: a control byte (< 0x20 or 0x7f)
  anywhere, or a malformed ``%`` escape in the path, makes the request a ``400 Bad Request``.
  The query is kept raw.
* The mux works on the *escaped* path (``URL.EscapedPath``: the path as sent when its escaping
  is valid, else Go's own re-escaping of the decoded path) and redirects with 301 when
  ``cleanPath`` of it differs (repeated slashes, ``.`` and ``..`` segments; a trailing slash is
  kept). ``%2e%2e`` is not ``..`` there, and a leading ``//`` is cleaned like any other.
* The redirect target is ``url.URL{Path: cleaned, RawQuery: query}.String()``: the (already
  escaped) path is escaped once more, so ``%`` becomes ``%25`` and a ``%0d%0a`` in the request
  can never become a line break in ``Location``. Go 1.26 later preserves the escaping and
  answers 307; Nomad 1.11 does neither.
* ``http.Redirect`` then writes ``Location`` (non-ASCII bytes hex-escaped) and, for GET and
  HEAD, ``Content-Type: text/html; charset=utf-8``; a GET also gets a one-line HTML body.
* A path ``/tree`` for which only ``/tree/`` is registered (Nomad's ``/v1/operator/raft/``)
  is redirected to ``/tree/``.
* Routing compares path segments one by one, each unescaped: ``/v1/status/%6ceader`` is
  ``/v1/status/leader``, ``/v1/status%2Fleader`` is nothing.

Strings here carry one character per byte (Latin-1), as ``http.server`` decodes request lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from http import HTTPStatus

_HEX = "0123456789abcdefABCDEF"
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")
#: Reserved characters Go leaves unescaped in a path (all but '?').
_PATH_RESERVED_OK = frozenset("$&+,/:;=@")
#: Extra characters ``validEncoded`` accepts in an already-escaped path.
_VALID_ENCODED_EXTRA = frozenset("!$&'()*+,;=:@[]%")
_SCHEME_AUTHORITY = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://[^/?]*")


class BadRequestTarget(ValueError):
    """The request-target is one Go's ``url.ParseRequestURI`` rejects (answer 400)."""


@dataclass(frozen=True)
class Target:
    """A parsed request-target: the path as sent (``raw_path``), decoded (``path``, bytes as
    Latin-1 characters) and the raw query (None when there was no ``?``)."""

    raw_path: str
    path: str
    raw_query: str | None


def has_control(text: str) -> bool:
    """Go's ``stringContainsCTLByte``: any byte below 0x20, or DEL."""
    return any(ord(c) < 0x20 or ord(c) == 0x7F for c in text)


def unescape_path(text: str) -> str:
    """Go's ``unescape(s, encodePath)``: ``%XX`` decoded ('+' stays), bad escape → error."""
    if "%" not in text:
        return text
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "%":
            if i + 2 >= n or text[i + 1] not in _HEX or text[i + 2] not in _HEX:
                raise BadRequestTarget(f"invalid URL escape {text[i:i + 3]!r}")
            out.append(chr(int(text[i + 1:i + 3], 16)))
            i += 3
        else:
            out.append(c)
            i += 1
    return "".join(out)


def parse_target(target: str) -> Target:
    """Split a request-target as ``url.ParseRequestURI`` does (origin or absolute form)."""
    if has_control(target):
        raise BadRequestTarget("invalid control character in URL")
    rest = target
    if not rest.startswith("/"):
        match = _SCHEME_AUTHORITY.match(rest)
        if match is None:
            raise BadRequestTarget("invalid URI for request")
        rest = rest[match.end():]
    raw_path, sep, query = rest.partition("?")
    return Target(raw_path, unescape_path(raw_path), query if sep else None)


def _should_escape(c: str) -> bool:
    """Go's ``shouldEscape(c, encodePath)``."""
    return c not in _UNRESERVED and c not in _PATH_RESERVED_OK  # so '?' and all else are


def escape_path(path: str) -> str:
    """Go's ``escape(s, encodePath)``: upper-case ``%XX`` for every byte that needs it."""
    return "".join(f"%{ord(c):02X}" if _should_escape(c) else c for c in path)


def _valid_encoded(raw: str) -> bool:
    return all(c in _VALID_ENCODED_EXTRA or not _should_escape(c) for c in raw)


def escaped_path(target: Target) -> str:
    """``URL.EscapedPath``: the path as sent if its escaping is valid, else Go's escaping."""
    if _valid_encoded(target.raw_path):
        return target.raw_path
    return escape_path(target.path)


def _path_clean(path: str) -> str:
    """Go's ``path.Clean`` for a rooted path."""
    out: list[str] = []
    for seg in path.split("/"):
        if seg in ("", "."):
            continue
        if seg == "..":
            if out:
                out.pop()
            continue
        out.append(seg)
    return "/" + "/".join(out)


def clean_path(path: str) -> str:
    """``net/http.cleanPath``: rooted, cleaned, trailing slash kept."""
    if path == "":
        return "/"
    if not path.startswith("/"):
        path = "/" + path
    clean = _path_clean(path)
    if path.endswith("/") and clean != "/":
        clean += "/"
    return clean


def segments(escaped: str) -> tuple[str, ...]:
    """The path's segments, each unescaped, as the 1.22 mux's routing tree compares them."""
    parts = escaped.split("/")[1:]
    return tuple(unescape_path(p) if "%" in p else p for p in parts)


def url_string(path: str, raw_query: str | None) -> str:
    """``url.URL{Path: path, RawQuery: raw_query}.String()`` for a rooted path."""
    text = escape_path(path)
    if raw_query:  # an empty query is dropped (ForceQuery is false)
        text += "?" + raw_query
    return text


def _hex_escape_non_ascii(text: str) -> str:
    """``hexEscapeNonASCII``: each byte >= 0x80 as lower-case ``%xx``."""
    return "".join(f"%{ord(c):x}" if ord(c) >= 0x80 else c for c in text)


def _html_escape(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&#34;").replace("'", "&#39;"))


@dataclass(frozen=True)
class Redirect:
    """What ``http.Redirect`` writes: status, Location, and for GET/HEAD a content type and
    (GET only) a body."""

    status: int
    location: str
    content_type: str | None
    body: bytes


def redirect(method: str, url: str, status: int = 301) -> Redirect:
    """``http.Redirect(w, r, url, status)`` for a rooted relative ``url`` (what the mux sends)."""
    path, sep, query = url.partition("?")
    trailing = path.endswith("/")
    path = _path_clean(path)
    if trailing and not path.endswith("/"):
        path += "/"
    location = _hex_escape_non_ascii(path + sep + query)
    if method not in ("GET", "HEAD"):
        return Redirect(status, location, None, b"")
    body = b""
    if method == "GET":
        # The body uses the URL before hexEscapeNonASCII; its bytes go out as they are.
        text = f'<a href="{_html_escape(path + sep + query)}">{HTTPStatus(status).phrase}</a>.\n\n'
        body = text.encode("latin-1")
    return Redirect(status, location, "text/html; charset=utf-8", body)


__all__ = ["BadRequestTarget", "Redirect", "Target", "clean_path", "escape_path", "escaped_path",
           "has_control", "parse_target", "redirect", "segments", "unescape_path", "url_string"]
