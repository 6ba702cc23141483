"""Decode request bodies the way Go's `encoding/json` Decoder does (facts, not Go's code).

Nomad decodes a PUT body with `json.NewDecoder(body).Decode(...)`. That has consequences a
faithful fake must reproduce:

* only the first JSON value is read; anything after it is ignored;
* syntax errors read like Go's ("invalid character 'x' looking for beginning of value"),
  a truncated value is "unexpected EOF" and an all-blank body is "EOF";
* objects may repeat keys (the last one wins) and number literals keep their exact text, so a
  later type check can say "number 1.5" the way Go does.

`decode_first_value` checks the syntax with a small byte-level scanner that follows the JSON
grammar state by state (iteratively, so Go's nesting limit of 10000 is honoured), then lets
Python's `json` build the value with objects as key/value pair lists and numbers as `GoNumber`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

MAX_NESTING_DEPTH = 10_000  # Go's encoding/json limit


class GoJSONError(ValueError):
    """A body Go's Decoder rejects; `str()` is Go's error text."""


class GoNumber(str):
    """A JSON number literal, kept as its exact source text."""

    __slots__ = ()


class Pairs(list[tuple[str, Any]]):
    """A decoded JSON object: its (key, value) pairs in source order, duplicates kept."""

    __slots__ = ()


_SPACE = frozenset(b" \t\r\n")
_DIGITS = frozenset(b"0123456789")
_HEX = frozenset(b"0123456789abcdefABCDEF")
_ESCAPES = frozenset(b'"\\/bfnrt')
_GO_CHAR_ESCAPES = {7: "\\a", 8: "\\b", 12: "\\f", 10: "\\n", 13: "\\r", 9: "\\t", 11: "\\v"}


def quote_char(c: int) -> str:
    """Go's `quoteChar`: how its JSON scanner names an offending byte in an error."""
    if c == 0x27:
        return "'\\''"
    if c == 0x22:
        return "'\"'"
    if c == 0x5C:
        return "'\\\\'"
    if c in _GO_CHAR_ESCAPES:
        return "'" + _GO_CHAR_ESCAPES[c] + "'"
    # Go converts the byte to the rune of the same value and quotes it.
    if c < 0x20 or c == 0x7F:
        return f"'\\x{c:02x}'"
    ch = chr(c)
    if c >= 0x80 and not ch.isprintable():
        return f"'\\u{c:04x}'"
    return "'" + ch + "'"


def _error(c: int, context: str) -> GoJSONError:
    return GoJSONError(f"invalid character {quote_char(c)} {context}")


class _Incomplete(Exception):
    """The input ended inside the value (Go: io.ErrUnexpectedEOF)."""


def _scan_value_end(data: bytes) -> int:
    """Return the offset just past the first JSON value in `data`, or raise GoJSONError."""
    n = len(data)
    i = 0
    while i < n and data[i] in _SPACE:
        i += 1
    if i == n:
        raise GoJSONError("EOF")
    # Containers open on the stack: ord('{') or ord('[').
    stack: list[int] = []

    def need(pos: int) -> int:
        if pos >= n:
            raise _Incomplete
        return data[pos]

    try:
        while True:
            # --- a value starts at i (after optional blanks) ---
            while need(i) in _SPACE:
                i += 1
            c = data[i]
            if c in {123, 91}:  # { or [
                stack.append(c)
                if len(stack) > MAX_NESTING_DEPTH:
                    raise _error(c, "exceeded max depth")
                i += 1
                while need(i) in _SPACE:
                    i += 1
                closer = 0x7D if c == 0x7B else 0x5D
                if data[i] == closer:  # empty container
                    stack.pop()
                    i += 1
                elif c == 0x7B:
                    i = _scan_key(data, i, need)
                    continue
                else:
                    continue
            elif c == 0x22:
                i = _scan_string(data, i, need)
            elif c == 0x2D or c in _DIGITS:
                i = _scan_number(data, i, n, need)
            elif c == 0x74:
                i = _scan_literal(data, i, b"true", need)
            elif c == 0x66:
                i = _scan_literal(data, i, b"false", need)
            elif c == 0x6E:
                i = _scan_literal(data, i, b"null", need)
            else:
                raise _error(c, "looking for beginning of value")
            # --- a value ended at i: close containers / move to the next element ---
            while True:
                if not stack:
                    return i
                while need(i) in _SPACE:
                    i += 1
                c = data[i]
                if stack[-1] == 0x7B:
                    if c == 0x2C:  # ,
                        i += 1
                        while need(i) in _SPACE:
                            i += 1
                        i = _scan_key(data, i, need)
                        break
                    if c == 0x7D:
                        stack.pop()
                        i += 1
                        continue
                    raise _error(c, "after object key:value pair")
                if c == 0x2C:
                    i += 1
                    break
                if c == 0x5D:
                    stack.pop()
                    i += 1
                    continue
                raise _error(c, "after array element")
    except _Incomplete:
        raise GoJSONError("unexpected EOF") from None


def _scan_key(data: bytes, i: int, need: Callable[[int], int]) -> int:
    """Scan `"key"` and the colon after it; return the offset where the value starts."""
    c = need(i)
    if c != 0x22:
        raise _error(c, "looking for beginning of object key string")
    i = _scan_string(data, i, need)
    while need(i) in _SPACE:
        i += 1
    c = data[i]
    if c != 0x3A:
        raise _error(c, "after object key")
    return i + 1


def _scan_string(data: bytes, i: int, need: Callable[[int], int]) -> int:
    i += 1  # opening quote
    while True:
        c = need(i)
        if c == 0x22:
            return i + 1
        if c == 0x5C:
            i += 1
            c = need(i)
            if c == 0x75:  # \uXXXX
                for _ in range(4):
                    i += 1
                    h = need(i)
                    if h not in _HEX:
                        raise _error(h, "in \\u hexadecimal character escape")
            elif c not in _ESCAPES:
                raise _error(c, "in string escape code")
        elif c < 0x20:
            raise _error(c, "in string literal")
        i += 1


def _scan_number(data: bytes, i: int, n: int, need: Callable[[int], int]) -> int:
    # A number may legally end at end of input (at the top level); `peek` returns -1 there.
    def peek(pos: int) -> int:
        return data[pos] if pos < n else -1

    if data[i] == 0x2D:
        i += 1
        c = need(i)
        if c not in _DIGITS:
            raise _error(c, "in numeric literal")
    if data[i] == 0x30:
        i += 1
    else:
        while peek(i) in _DIGITS:
            i += 1
    if peek(i) == 0x2E:
        i += 1
        c = need(i)
        if c not in _DIGITS:
            raise _error(c, "after decimal point in numeric literal")
        while peek(i) in _DIGITS:
            i += 1
    if peek(i) in (0x65, 0x45):
        i += 1
        c = need(i)
        if c in (0x2B, 0x2D):
            i += 1
            c = need(i)
        if c not in _DIGITS:
            raise _error(c, "in exponent of numeric literal")
        while peek(i) in _DIGITS:
            i += 1
    return i


def _scan_literal(data: bytes, i: int, word: bytes, need: Callable[[int], int]) -> int:
    name = word.decode()
    for k in range(1, len(word)):
        c = need(i + k)
        if c != word[k]:
            raise _error(c, f"in literal {name} (expecting {quote_char(word[k])})")
    return i + len(word)


def decode_first_value(body: bytes | str) -> Any:
    """Decode the first JSON value of `body` as Go's Decoder would accept it.

    Objects become lists of (key, value) pairs in source order, numbers `GoNumber`s, strings
    `str`, true/false `bool` and null `None`. Raises GoJSONError with Go's message.
    """
    data = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else bytes(body)
    end = _scan_value_end(data)
    # Go replaces invalid UTF-8 with U+FFFD instead of failing; do the same.
    text = data[:end].decode("utf-8", "replace")
    try:
        return json.loads(
            text,
            object_pairs_hook=Pairs,
            parse_int=GoNumber,
            parse_float=GoNumber,
        )
    except RecursionError:  # pragma: no cover - deeper than Python allows, shallower than Go
        raise GoJSONError("exceeded max depth") from None


def go_kind(value: Any) -> str:
    """The JSON kind name Go uses in `cannot unmarshal <kind>` errors."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, GoNumber):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        # Objects are pair lists; arrays are lists of values.
        return "object" if isinstance(value, Pairs) else "array"
    if value is None:
        return "null"
    return "number"


def go_fold(text: str) -> str:
    """Fold a key for Go's case-insensitive field matching (simple Unicode case folding)."""
    out = []
    for ch in text:
        up = ch.upper()
        out.append(up.lower() if len(up) == 1 else ch.lower())
    return "".join(out)


def go_quote(text: str) -> str:
    """Go's `strconv.Quote` for the texts that appear in error messages."""
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch in {'"', "\\"}:
            out.append("\\" + ch)
        elif code in _GO_CHAR_ESCAPES:
            out.append(_GO_CHAR_ESCAPES[code])
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        elif ch.isprintable():
            out.append(ch)
        elif code > 0xFFFF:
            out.append(f"\\U{code:08x}")
        else:
            out.append(f"\\u{code:04x}")
    out.append('"')
    return "".join(out)
