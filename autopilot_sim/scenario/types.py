"""Scalar types of the scenario format: durations, timestamps, names, targets, versions.

Each type is an ``Annotated`` alias that carries its parser, its error messages, how it is written
back (`to_resolved_yaml`) and its JSON Schema. Durations are Go duration strings in YAML and
integer nanoseconds in the model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, PlainSerializer, ValidationInfo, WithJsonSchema

from autopilot_sim import durations

# --- durations ---------------------------------------------------------------------------------

#: ECMA-262 pattern for a Go duration string (what `time.ParseDuration` accepts).
DURATION_PATTERN = r"^[-+]?(0|(([0-9]+\.?[0-9]*|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+)$"

#: JSON Schema of a duration. `x-go-duration` marks it so jsonschema.py can print defaults as text.
DURATION_JSON_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {"type": "string", "pattern": DURATION_PATTERN},
        {"const": 0},
    ],
    "description": 'A Go duration string such as "150ms", "1m30s" or "72h".',
    "x-go-duration": True,
}


def from_yaml(info: ValidationInfo | None) -> bool:
    """True when the data being validated came from YAML text (the loader says so in the
    validation context); then numbers in duration fields are read as the text the user typed."""
    return bool(info is not None and isinstance(info.context, dict) and info.context.get("yaml"))


def parse_duration_value(value: Any, info: ValidationInfo | None) -> Any:
    """Turn a duration into integer ns with Go's rules and Go's error messages.

    From YAML, a number is read as the text the user typed, so ``0`` is Go's "0" (valid) and
    ``30`` fails exactly as Go fails on "30" (``time: missing unit in duration "30"``). From
    Python (no YAML context), an ``int`` is already nanoseconds.
    """
    if isinstance(value, bool):
        raise ValueError(f'expected a duration such as "30s", got {describe(value)}')
    if isinstance(value, int) and not from_yaml(info):
        return value
    if isinstance(value, (int, float)):
        value = repr(value) if isinstance(value, float) else str(value)
    if not isinstance(value, str):
        raise ValueError(f'expected a duration such as "30s", got {describe(value)}')
    try:
        return durations.parse_duration(value)
    except durations.DurationError as exc:  # Go's text, then what would be valid
        raise ValueError(f"{exc}; {DURATION_HINT}") from None


#: What a valid duration looks like (Go's time.ParseDuration syntax), appended to its errors.
DURATION_HINT = ("a duration is a number and a unit, without spaces: ns, us (or µs), ms, s, m or h, "
                 "combined like 1m30s")


def _duration_bounds(minimum: int | None, exclusive: bool, maximum: int | None = None,
                     why: str = "") -> AfterValidator:
    reason = f" ({why})" if why else ""

    def check(value: int) -> int:
        got = durations.format_duration(value)
        if maximum is not None and value > maximum:
            raise ValueError(f"must be at most {durations.format_duration(maximum)}, got {got}{reason}")
        if minimum is None:
            return value
        low = durations.format_duration(minimum)
        if exclusive and value <= minimum:
            raise ValueError(f"must be more than {low}, got {got}")
        if not exclusive and value < minimum:
            raise ValueError(f"must be at least {low}, got {got}{reason if minimum else ''}")
        return value

    return AfterValidator(check)


_DURATION_SER = PlainSerializer(durations.format_duration, return_type=str, when_used="json")


def duration_type(minimum: int | None = 0, *, exclusive: bool = False, maximum: int | None = None,
                  why: str = "") -> Any:
    """An integer-nanosecond field written as a Go duration; ``minimum`` bounds it (inclusive
    unless ``exclusive``), ``maximum`` too when given; ``why`` is the reason for the bounds,
    quoted in the error (write it in the field's description as well)."""
    return Annotated[
        int,
        BeforeValidator(parse_duration_value),
        _duration_bounds(minimum, exclusive, maximum, why),
        _DURATION_SER,
        WithJsonSchema(DURATION_JSON_SCHEMA),
    ]


#: A duration ≥ 0.
Duration = duration_type(0)
#: A duration > 0.
PositiveDuration = duration_type(0, exclusive=True)

#: Longest scenario `duration` (30 days): ten times serf's 72h reconnect_timeout, the longest
#: default timer in the format; beyond it a run only repeats itself, for hours of wall time.
MAX_SCENARIO_DURATION = 30 * 24 * durations.HOUR
SCENARIO_DURATION_WHY = ("30 days is ten times the longest default timer, serf's 72h reconnect_timeout; "
                         "longer runs only repeat themselves for hours of wall time")
#: The scenario's `duration`: more than 0, at most `MAX_SCENARIO_DURATION`.
ScenarioDuration = duration_type(0, exclusive=True, maximum=MAX_SCENARIO_DURATION, why=SCENARIO_DURATION_WHY)

#: Largest delay a latency distribution may name (a message held longer is a `cut`).
MAX_DELAY = durations.HOUR
DELAY_WHY = "a message delayed by more than an hour is a lost one: use a cut event"
#: A delay parameter of a distribution: 0 up to `MAX_DELAY`.
Delay = duration_type(0, maximum=MAX_DELAY, why=DELAY_WHY)
#: A positive delay parameter (lognormal median, exponential mean), up to `MAX_DELAY`.
PositiveDelay = duration_type(0, exclusive=True, maximum=MAX_DELAY, why=DELAY_WHY)

# --- timestamps --------------------------------------------------------------------------------

#: Default wall-clock anchor: 2026-01-01T00:00:00Z.
DEFAULT_START_TIME = durations.parse_rfc3339("2026-01-01T00:00:00Z")


def _parse_timestamp(value: Any, info: ValidationInfo | None) -> Any:
    if isinstance(value, int) and not isinstance(value, bool) and not from_yaml(info):
        return value
    if not isinstance(value, str):
        raise ValueError(f"expected an RFC 3339 timestamp such as 2026-01-01T00:00:00Z, got {describe(value)}")
    try:
        return durations.parse_rfc3339(value)
    except ValueError:
        raise ValueError(
            f"expected an RFC 3339 timestamp such as 2026-01-01T00:00:00Z, got {describe(value)}"
        ) from None


#: Nanoseconds since the Unix epoch, written as RFC 3339 in UTC.
Timestamp = Annotated[
    int,
    BeforeValidator(_parse_timestamp),
    PlainSerializer(durations.format_rfc3339, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time",
                    "description": "An RFC 3339 timestamp, e.g. 2026-01-01T00:00:00Z."}),
]

# --- names and targets -------------------------------------------------------------------------

NAME_PATTERN = r"^[a-z0-9][a-z0-9_.-]*$"
_NAME_RE = re.compile(NAME_PATTERN)
SLUG_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"
_SLUG_RE = re.compile(SLUG_PATTERN)

#: Role selectors usable wherever an event takes a target.
ROLES = ("leader", "follower", "voter", "non-voter")
#: Words that cannot be server names because they mean something else in the format.
RESERVED_NAMES = frozenset(ROLES) | {"all", "any", "none"}

TARGET_PATTERN = r"^(((leader|follower|voter|non-voter)(\[[0-9]+\])?)|[a-z0-9][a-z0-9_.-]*)$"
_ROLE_RE = re.compile(r"^(leader|follower|voter|non-voter)(?:\[([0-9]+)\])?$")


def _name_scalar(value: Any) -> Any:
    """Accept YAML integers as names (``partition: [[1, 2], [3]]``), nothing else that is not text."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise ValueError(f"expected a server name, got {describe(value)}")
    return value


def _check_server_name(value: str) -> str:
    if not _NAME_RE.match(value):
        raise ValueError(
            f"invalid server name {describe(value)}: use lowercase letters, digits, '.', '_' and '-', "
            "starting with a letter or digit"
        )
    if value in RESERVED_NAMES:
        raise ValueError(f"{describe(value)} is reserved (it selects servers by role); choose another name")
    return value


#: A server's name.
ServerName = Annotated[
    str,
    BeforeValidator(_name_scalar),
    AfterValidator(_check_server_name),
    WithJsonSchema({"type": "string", "pattern": NAME_PATTERN, "not": {"enum": sorted(RESERVED_NAMES)},
                    "description": "A server name: lowercase letters, digits, '.', '_', '-'."}),
]


def _check_target(value: str) -> str:
    if _ROLE_RE.match(value) or (_NAME_RE.match(value) and value not in RESERVED_NAMES):
        return value
    raise ValueError(
        f"invalid target {describe(value)}: expected a server name, or leader | follower | voter | "
        "non-voter, optionally indexed like follower[1]"
    )


#: An event target: a server name or a role selector (`leader`, `follower[1]`, ...).
Target = Annotated[
    str,
    BeforeValidator(_name_scalar),
    AfterValidator(_check_target),
    WithJsonSchema({"type": "string", "pattern": TARGET_PATTERN,
                    "description": "A server name, or leader | follower | voter | non-voter, "
                                   "optionally indexed like follower[1] (0-based)."}),
]


@dataclass(frozen=True)
class TargetRef:
    """A parsed target: either ``name`` is set, or ``role`` and ``index`` are.

    ``index`` is 0-based over the servers that have the role when the event fires, sorted by
    name: ``follower`` is ``follower[0]``, the first follower by name.
    """

    name: str | None = None
    role: Literal["leader", "follower", "voter", "non-voter"] | None = None
    index: int = 0

    @property
    def is_role(self) -> bool:
        """True when the target selects by role (resolved only when the event fires)."""
        return self.role is not None


def parse_target(text: str) -> TargetRef:
    """Parse a target string (already validated by the model) into a `TargetRef`."""
    match = _ROLE_RE.match(text)
    if match:
        return TargetRef(role=match.group(1), index=int(match.group(2) or 0))  # type: ignore[arg-type]
    return TargetRef(name=text)


def canonical_target(text: str) -> str:
    """``follower`` and ``follower[0]`` are the same target; return one spelling for comparisons."""
    ref = parse_target(text)
    return f"{ref.role}[{ref.index}]" if ref.role else text


def _check_slug(value: str) -> str:
    if not _SLUG_RE.match(value):
        raise ValueError(
            f"invalid name {describe(value)}: a slug of lowercase letters, digits, '-' and '_', "
            "starting with a letter or digit"
        )
    return value


#: The scenario's name.
Slug = Annotated[str, AfterValidator(_check_slug),
                 WithJsonSchema({"type": "string", "pattern": SLUG_PATTERN})]

# --- versions ----------------------------------------------------------------------------------

VERSION_PATTERN = r"^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$"
_VERSION_RE = re.compile(VERSION_PATTERN)
UPGRADE_VERSION_PATTERN = r"^[0-9]+(\.[0-9]+){0,2}(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$"
_UPGRADE_VERSION_RE = re.compile(UPGRADE_VERSION_PATTERN)


def _version_scalar(value: Any) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise ValueError("a version must be text: write it in quotes, e.g. \"1.10.0\"")
    return value


def _check_version(value: str) -> str:
    if not _VERSION_RE.match(value):
        raise ValueError(f"invalid version {describe(value)}: expected X.Y.Z such as 1.11.0 or 1.7.5+ent")
    return value


def _check_upgrade_version(value: str) -> str:
    if value and not _UPGRADE_VERSION_RE.match(value):
        raise ValueError(f"invalid upgrade_version {describe(value)}: expected semver X, X.Y or X.Y.Z")
    return value


#: A Nomad version string (the report's Version field), e.g. "1.11.0".
Version = Annotated[str, BeforeValidator(_version_scalar), AfterValidator(_check_version),
                    WithJsonSchema({"type": "string", "pattern": VERSION_PATTERN})]
#: A custom upgrade version (enterprise), "" when unset.
UpgradeVersion = Annotated[str, BeforeValidator(_version_scalar), AfterValidator(_check_upgrade_version),
                           WithJsonSchema({"type": "string",
                                           "pattern": UPGRADE_VERSION_PATTERN.replace("^", "^$|^", 1)})]

# --- messages ----------------------------------------------------------------------------------


def describe(value: Any) -> str:
    """A short human rendering of a YAML value for messages: ``"abc"``, ``42``, ``true``, ``a list``."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"' if len(value) <= 60 else f'"{value[:57]}..."'
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    return type(value).__name__
