"""Go's ``flag`` package, as Nomad's CLI parses its flags: ``-flag=value``, ``-flag value``,
``--flag``; bool flags alone mean true; parsing stops at the first argument that is not a flag.

Values are parsed with Go's strconv rules (ParseBool, ParseUint with base prefixes) and Go
durations, and rejected with the messages Go's ``Set`` returns, so error text matches Nomad's.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from autopilot_sim.durations import DurationError, parse_duration


class FlagError(Exception):
    """A command line Go's flag package rejects; ``str()`` is its message."""


class HelpRequested(Exception):
    """-h / -help / --help."""


@dataclass
class Flag:
    """One flag. ``boolean`` flags may stand alone (Go's IsBoolFlag); ``parse`` turns the text
    into a value or raises ValueError with the message Go's Set would return."""

    name: str
    parse: Callable[[str], Any]
    boolean: bool = False
    builtin: bool = False  # a flag.BoolVar/StringVar: Go reports its parse errors as "parse error"


_TRUE = ("1", "t", "T", "TRUE", "true", "True")
_FALSE = ("0", "f", "F", "FALSE", "false", "False")


def go_bool(text: str) -> bool:
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f'strconv.ParseBool: parsing {json.dumps(text)}: invalid syntax')


def go_uint(text: str) -> int:
    """strconv.ParseUint(text, 0, 64): base prefixes 0x/0o/0b, a leading 0 is octal, '_' allowed
    after a prefix."""
    s = text
    base = 10
    if len(s) > 1 and s[0] == "0":
        if s[1] in "xX":
            base, s = 16, s[2:]
        elif s[1] in "oO":
            base, s = 8, s[2:]
        elif s[1] in "bB":
            base, s = 2, s[2:]
        else:
            base, s = 8, s[1:]
        underscores = True
    else:
        underscores = False
    digits = s.replace("_", "") if underscores else s
    bad = not digits or (not underscores and "_" in s) or s.startswith("_") or s.endswith("_") or "__" in s
    try:
        value = int(digits, base) if not bad and digits.isascii() and digits.isalnum() else None
    except ValueError:
        value = None
    if value is None:
        raise ValueError(f'strconv.ParseUint: parsing {json.dumps(text)}: invalid syntax')
    if value >= 1 << 64:
        raise ValueError(f'strconv.ParseUint: parsing {json.dumps(text)}: value out of range')
    return value


def go_duration(text: str) -> int:
    try:
        return parse_duration(text)
    except DurationError as exc:
        raise ValueError(str(exc)) from None


def go_string(text: str) -> str:
    return text


GENERAL_FLAGS = [
    Flag("address", go_string, builtin=True),
    Flag("region", go_string, builtin=True),
    Flag("namespace", go_string, builtin=True),
    Flag("token", go_string, builtin=True),
    Flag("no-color", go_bool, boolean=True, builtin=True),
    Flag("ca-cert", go_string, builtin=True),
    Flag("ca-path", go_string, builtin=True),
    Flag("client-cert", go_string, builtin=True),
    Flag("client-key", go_string, builtin=True),
    Flag("tls-server-name", go_string, builtin=True),
    Flag("tls-skip-verify", go_bool, boolean=True, builtin=True),
]


def parse_go_flags(args: list[str], flags: list[Flag]) -> tuple[dict[str, Any], list[str]]:
    """Parse ``args`` like Go's ``FlagSet.Parse``: (values by flag name, remaining arguments)."""
    by_name = {f.name: f for f in flags}
    values: dict[str, Any] = {}
    rest = list(args)
    while rest:
        s = rest[0]
        if len(s) < 2 or s[0] != "-":
            break
        minuses = 2 if s[1] == "-" else 1
        if minuses == 2 and len(s) == 2:
            rest.pop(0)
            break
        name = s[minuses:]
        if not name or name[0] in "-=":
            raise FlagError(f"bad flag syntax: {s}")
        rest.pop(0)
        has_value = "=" in name
        value = ""
        if has_value:
            name, value = name.split("=", 1)
        flag = by_name.get(name)
        if flag is None:
            if name in ("help", "h"):
                raise HelpRequested
            raise FlagError(f"flag provided but not defined: -{name}")
        if flag.boolean:
            text = value if has_value else "true"
            try:
                values[name] = flag.parse(text)
            except ValueError:
                raise FlagError(f'invalid boolean value {json.dumps(text)} for -{name}: parse error') from None
            continue
        if not has_value:
            if not rest:
                raise FlagError(f"flag needs an argument: -{name}")
            value = rest.pop(0)
        try:
            values[name] = flag.parse(value)
        except ValueError as exc:
            reason = "parse error" if flag.builtin else str(exc)
            raise FlagError(f"invalid value {json.dumps(value)} for flag -{name}: {reason}") from None
    return values, rest
