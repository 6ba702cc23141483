"""Go durations and RFC 3339 timestamps, exactly as Go prints and parses them.

The simulator's clock is an integer number of nanoseconds, like Go's `time.Duration`, so these
conversions are exact. `parse_duration` mirrors `time.ParseDuration` (error texts included) and
`format_duration` mirrors `time.Duration.String()`.
"""

from __future__ import annotations

import datetime as _dt
from typing import Final

NANOSECOND: Final = 1
MICROSECOND: Final = 1_000
MILLISECOND: Final = 1_000_000
SECOND: Final = 1_000_000_000
MINUTE: Final = 60 * SECOND
HOUR: Final = 60 * MINUTE

_INT64_MAX = (1 << 63) - 1

_UNITS = {
    "ns": NANOSECOND,
    "us": MICROSECOND,
    "\u00b5s": MICROSECOND,  # U+00B5 micro sign
    "\u03bcs": MICROSECOND,  # U+03BC Greek small letter mu
    "ms": MILLISECOND,
    "s": SECOND,
    "m": MINUTE,
    "h": HOUR,
}


class DurationError(ValueError):
    """A string that Go's time.ParseDuration would reject; the message is Go's."""


def _go_quote(text: str) -> str:
    """Go's time.quote: wrap in double quotes, hex-escape bytes of non-ASCII or control runes."""
    out = ['"']
    for ch in text:
        if ord(ch) >= 0x80 or ch < " ":
            out.extend(f"\\x{b:02x}" for b in ch.encode("utf-8"))
        else:
            if ch in '"\\':
                out.append("\\")
            out.append(ch)
    out.append('"')
    return "".join(out)


def parse_duration(text: str) -> int:
    """Parse a Go duration string ("1h2m3.5s", "-150ms", "0") into integer nanoseconds.

    Raises DurationError with the exact message Go's `time.ParseDuration` gives.
    """
    if not isinstance(text, str):
        raise DurationError(f"time: invalid duration {_go_quote(str(text))}")
    orig = text
    s = text
    neg = False
    if s and s[0] in "-+":
        neg = s[0] == "-"
        s = s[1:]
    if s == "0":
        return 0
    if s == "":
        raise DurationError(f"time: invalid duration {_go_quote(orig)}")
    total = 0
    while s:
        if not (s[0] == "." or "0" <= s[0] <= "9"):
            raise DurationError(f"time: invalid duration {_go_quote(orig)}")
        # Integer part.
        i = 0
        while i < len(s) and "0" <= s[i] <= "9":
            i += 1
        pre = i > 0
        whole = int(s[:i]) if pre else 0
        if whole > 1 << 63:
            raise DurationError(f"time: invalid duration {_go_quote(orig)}")
        s = s[i:]
        # Fraction: Go keeps digits while the scaled value fits, then drops the rest.
        frac, scale, post = 0, 1, False
        if s.startswith("."):
            s = s[1:]
            i = 0
            overflow = False
            while i < len(s) and "0" <= s[i] <= "9":
                if not overflow:
                    if frac > (_INT64_MAX - 9) // 10:
                        overflow = True
                    else:
                        frac = frac * 10 + (ord(s[i]) - 48)
                        scale *= 10
                i += 1
            post = i > 0
            s = s[i:]
        if not pre and not post:
            raise DurationError(f"time: invalid duration {_go_quote(orig)}")
        # Unit.
        i = 0
        while i < len(s) and s[i] != "." and not ("0" <= s[i] <= "9"):
            i += 1
        if i == 0:
            raise DurationError(f"time: missing unit in duration {_go_quote(orig)}")
        unit_text = s[:i]
        s = s[i:]
        unit = _UNITS.get(unit_text)
        if unit is None:
            raise DurationError(
                f"time: unknown unit {_go_quote(unit_text)} in duration {_go_quote(orig)}"
            )
        if whole > (1 << 63) // unit:
            raise DurationError(f"time: invalid duration {_go_quote(orig)}")
        value = whole * unit
        if frac:
            # Go: v += uint64(float64(f) * (float64(unit) / scale)); float64 rounding kept.
            value += int(float(frac) * (float(unit) / float(scale)))
            if value > 1 << 63:
                raise DurationError(f"time: invalid duration {_go_quote(orig)}")
        total += value
        if total > 1 << 63:
            raise DurationError(f"time: invalid duration {_go_quote(orig)}")
    if neg:
        return -total
    if total > _INT64_MAX:
        raise DurationError(f"time: invalid duration {_go_quote(orig)}")
    return total


def _fmt_frac(value: int, precision: int) -> str:
    """Digits of `value` / 10**precision with trailing zeros (and a bare point) trimmed."""
    whole, frac = divmod(value, 10**precision)
    if frac == 0:
        return str(whole)
    digits = f"{frac:0{precision}d}".rstrip("0")
    return f"{whole}.{digits}"


def format_duration(ns: int) -> str:
    """Format integer nanoseconds exactly as Go's `time.Duration.String()` does."""
    if ns == 0:
        return "0s"
    sign = "-" if ns < 0 else ""
    u = -ns if ns < 0 else ns
    if u < MICROSECOND:
        return f"{sign}{u}ns"
    if u < MILLISECOND:
        return f"{sign}{_fmt_frac(u, 3)}\u00b5s"
    if u < SECOND:
        return f"{sign}{_fmt_frac(u, 6)}ms"
    hours, rest = divmod(u, HOUR)
    minutes, rest = divmod(rest, MINUTE)
    seconds = _fmt_frac(rest, 9) + "s"
    if hours:
        return f"{sign}{hours}h{minutes}m{seconds}"
    if minutes:
        return f"{sign}{minutes}m{seconds}"
    return f"{sign}{seconds}"


# --- RFC 3339 -------------------------------------------------------------------------------

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)


def parse_rfc3339(text: str) -> int:
    """Parse an RFC 3339 timestamp (up to 9 fraction digits) into integer ns since the Unix epoch."""
    if not isinstance(text, str) or len(text) < 20 or text[10] not in "Tt":
        raise ValueError(f"not an RFC 3339 timestamp: {text!r}")
    base, rest = text[:19], text[19:]
    frac_ns = 0
    if rest.startswith("."):
        i = 1
        while i < len(rest) and rest[i].isdigit():
            i += 1
        digits = rest[1:i]
        if not digits or len(digits) > 9:
            raise ValueError(f"not an RFC 3339 timestamp: {text!r}")
        frac_ns = int(digits.ljust(9, "0"))
        rest = rest[i:]
    if rest in ("Z", "z"):
        offset = 0
    elif len(rest) == 6 and rest[0] in "+-" and rest[3] == ":":
        offset = (int(rest[1:3]) * 60 + int(rest[4:6])) * 60
        if rest[0] == "-":
            offset = -offset
    else:
        raise ValueError(f"not an RFC 3339 timestamp: {text!r}")
    try:
        naive = _dt.datetime.strptime(base.replace("t", "T"), "%Y-%m-%dT%H:%M:%S")
    except ValueError as exc:
        raise ValueError(f"not an RFC 3339 timestamp: {text!r}") from exc
    seconds = (naive.replace(tzinfo=_dt.UTC) - _EPOCH) // _dt.timedelta(seconds=1)
    return (seconds - offset) * SECOND + frac_ns


def format_rfc3339(ns: int, *, nano: bool = True) -> str:
    """Format ns since the epoch in UTC as Go's RFC3339Nano (or RFC3339 when nano is False).

    RFC3339Nano trims trailing zeros of the fraction, as Go does.
    """
    seconds, frac = divmod(ns, SECOND)
    moment = _EPOCH + _dt.timedelta(seconds=seconds)
    # Go pads the year to four digits (Go's zero time is 0001-01-01); strftime's %Y does not.
    stamp = f"{moment.year:04d}-{moment:%m-%dT%H:%M:%S}"
    if nano and frac:
        stamp += "." + f"{frac:09d}".rstrip("0")
    return stamp + "Z"
