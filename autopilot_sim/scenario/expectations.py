"""Expectations: checks against the autopilot health reports, over a moment or a window.

YAML: one of ``at: T`` (the last report at or before T), ``within: [A, B]`` (holds at some report
in the window) or ``always: [A, B]`` (holds at every report in the window), plus one or more
checks. The engine reads ``exp.mode`` ("at" | "within" | "always"), ``exp.start`` and ``exp.end``
(ns; equal for "at"), ``exp.line``, and the checks:

* ``healthy``: bool — the report's Healthy;
* ``failure_tolerance`` and ``voters``: an int (exact) or an `IntRange` (``{min, max}``, either
  may be left out); test a value with `count_matches`;
* ``leader``: ``"any"`` (some leader), ``"none"`` (no leader) or a server name;
* ``servers``: ``{name: ServerCheck}`` — per server ``healthy``, ``voter``, ``leader``,
  ``serf_status`` (alive | failed | left | leaving | none).

Enterprise checks (only with ``cluster.enterprise: true``; they read the Enterprise fields of the
report): ``upgrade_status`` (an `Upgrade.Status` value), ``target_version`` (`Upgrade.TargetVersion`),
``optimistic_failure_tolerance`` and ``read_replicas`` (a count of `ReadReplicas`), each a number
or a range, and ``redundancy_zones``: ``{zone: ZoneCheck}`` — per zone counts of ``servers`` and
``voters`` and its ``failure_tolerance`` (a zone missing from the report has 0 of each).

A check left out (None, or an empty ``servers``) is not checked.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    Discriminator,
    Field,
    PrivateAttr,
    Tag,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from autopilot_sim.durations import format_duration
from autopilot_sim.scenario.base import KeyedError, ScenarioModel
from autopilot_sim.scenario.types import NAME_PATTERN, RESERVED_NAMES, Duration, ServerName, describe

SerfStatus = Literal["alive", "failed", "left", "leaving", "none"]
UpgradeStatus = Literal["disabled", "idle", "await-new-voters", "promoting", "demoting", "leader-transfer",
                        "await-new-servers", "await-server-removal"]
#: Checks that read the Enterprise fields of the report (they need cluster.enterprise: true).
ENTERPRISE_CHECK_KEYS = ("upgrade_status", "target_version", "optimistic_failure_tolerance", "read_replicas",
                         "redundancy_zones")
BASE_CHECK_KEYS = ("healthy", "failure_tolerance", "leader", "voters", "servers")
CHECK_KEYS = BASE_CHECK_KEYS + ENTERPRISE_CHECK_KEYS
_NAME_RE = re.compile(NAME_PATTERN)


class IntRange(ScenarioModel):
    """An inclusive range ``{min, max}``; a missing bound is open."""

    min: int | None = Field(None, ge=0, description="Smallest accepted value.")
    max: int | None = Field(None, ge=0, description="Largest accepted value.")

    @model_validator(mode="after")
    def _bounds(self) -> IntRange:
        if self.min is None and self.max is None:
            raise ValueError("a range needs min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise KeyedError("max", f"max ({self.max}) must be at least min ({self.min})")
        return self

    def contains(self, value: int) -> bool:
        """True when ``value`` is inside the range."""
        return (self.min is None or value >= self.min) and (self.max is None or value <= self.max)


def _count_tag(value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return "count"
    if isinstance(value, (dict, IntRange)):
        return "range"
    return None


CountCheck = Annotated[
    Annotated[Annotated[int, Field(ge=0)], Tag("count")] | Annotated[IntRange, Tag("range")],
    Discriminator(_count_tag, custom_error_type="count_or_range",
                  custom_error_message="expected a number or a range {min: N, max: M}"),
]


def count_matches(check: int | IntRange, value: int) -> bool:
    """True when ``value`` satisfies a `CountCheck` (an exact int or an `IntRange`)."""
    return check.contains(value) if isinstance(check, IntRange) else value == check


def _check_leader(value: str) -> str:
    if value in ("any", "none") or (_NAME_RE.match(value) and value not in RESERVED_NAMES):
        return value
    raise ValueError(f'expected any, none or a server name, got {describe(value)}')


LeaderCheck = Annotated[
    str, AfterValidator(_check_leader),
    WithJsonSchema({"anyOf": [{"enum": ["any", "none"]}, {"type": "string", "pattern": NAME_PATTERN}],
                    "description": "any (some leader) | none (no leader) | a server name"}),
]


class ServerCheck(ScenarioModel):
    """Checks on one server's entry in the health report."""

    healthy: bool | None = Field(None, description="The server's Healthy.")
    voter: bool | None = Field(None, description="The server's Voter.")
    leader: bool | None = Field(None, description="The server's Leader.")
    serf_status: SerfStatus | None = Field(None, description="alive | failed | left | leaving | none.")

    @model_validator(mode="after")
    def _something(self) -> ServerCheck:
        if all(getattr(self, k) is None for k in ("healthy", "voter", "leader", "serf_status")):
            raise ValueError("a server check needs at least one of healthy, voter, leader, serf_status")
        return self


class ZoneCheck(ScenarioModel):
    """Checks on one redundancy zone of the Enterprise report (`RedundancyZones[zone]`)."""

    servers: CountCheck | None = Field(None, description="Number of servers in the zone: N or {min, max}.")
    voters: CountCheck | None = Field(None, description="Number of voters in the zone: N or {min, max}.")
    failure_tolerance: CountCheck | None = Field(
        None, description="The zone's FailureTolerance (healthy servers − 1): N or {min, max}.")

    @model_validator(mode="after")
    def _something(self) -> ZoneCheck:
        if all(getattr(self, k) is None for k in ("servers", "voters", "failure_tolerance")):
            raise ValueError("a zone check needs at least one of servers, voters, failure_tolerance")
        return self


Window = tuple[Duration, Duration]


def _window(value: Any) -> Any:
    if isinstance(value, list):
        if len(value) != 2:
            items = f"{len(value)} item" + ("s" if len(value) != 1 else "")
            raise ValueError(f"expected a window [start, end] of two durations, got {items}")
        return tuple(value)
    return value


class Expectation(ScenarioModel):
    """One expectation; see the module docstring."""

    model_config = {
        "json_schema_extra": lambda schema: schema.update(
            oneOf=[{"required": ["at"]}, {"required": ["within"]}, {"required": ["always"]}]),
    }

    at: Duration | None = Field(None, description="Check the last report at or before this time.")
    within: Window | None = Field(None, description="[start, end]: holds at some report in the window.")
    always: Window | None = Field(None, description="[start, end]: holds at every report in the window.")
    healthy: bool | None = Field(None, description="The cluster's Healthy.")
    failure_tolerance: CountCheck | None = Field(None, description="FailureTolerance: N or {min, max}.")
    leader: LeaderCheck | None = Field(None, description="any | none | a server name.")
    voters: CountCheck | None = Field(None, description="Number of voters: N or {min, max}.")
    servers: dict[ServerName, ServerCheck] = Field(default_factory=dict, description="Per-server checks.")
    upgrade_status: UpgradeStatus | None = Field(
        None, description="Enterprise: Upgrade.Status (idle, await-new-servers, await-new-voters, promoting, "
                          "demoting, leader-transfer, await-server-removal, disabled).")
    target_version: str | None = Field(None, description="Enterprise: Upgrade.TargetVersion.")
    optimistic_failure_tolerance: CountCheck | None = Field(
        None, description="Enterprise: OptimisticFailureTolerance: N or {min, max}.")
    read_replicas: CountCheck | None = Field(
        None, description="Enterprise: number of ReadReplicas: N or {min, max}.")
    redundancy_zones: dict[str, ZoneCheck] | None = Field(
        None, description="Enterprise: per-zone checks on RedundancyZones.")

    _line: int = PrivateAttr(0)

    @field_validator("within", "always", mode="before")
    @classmethod
    def _windows_as_tuples(cls, value: Any) -> Any:
        return _window(value)

    @model_validator(mode="after")
    def _shape(self) -> Expectation:
        modes = [m for m in ("at", "within", "always") if getattr(self, m) is not None]
        if not modes:
            raise ValueError("an expectation needs one of at: T, within: [A, B], always: [A, B]")
        if len(modes) > 1:
            raise KeyedError(modes[1], f"an expectation has exactly one of at, within, always; this one "
                                       f"has {' and '.join(modes)}")
        window = self.within or self.always
        if window is not None and window[0] > window[1]:
            raise KeyedError((modes[0], 1), f"the window ends ({format_duration(window[1])}) before it "
                                            f"starts ({format_duration(window[0])})")
        if not any(getattr(self, k) not in (None, {}) for k in CHECK_KEYS):
            # The Enterprise checks exist too, but only Enterprise scenarios may use them.
            raise ValueError("an expectation needs at least one check: " + ", ".join(BASE_CHECK_KEYS))
        return self

    @property
    def mode(self) -> Literal["at", "within", "always"]:
        """How the checks are applied over time."""
        return "at" if self.at is not None else "within" if self.within is not None else "always"

    @property
    def start(self) -> int:
        """Start of the window in ns (== end for "at")."""
        return self.at if self.at is not None else self._window()[0]

    @property
    def end(self) -> int:
        """End of the window in ns (== start for "at")."""
        return self.at if self.at is not None else self._window()[1]

    def _window(self) -> tuple[int, int]:
        window = self.within or self.always
        assert window is not None, "the model requires one of at, within, always"
        return int(window[0]), int(window[1])

    @property
    def line(self) -> int:
        """The expectation's line in its scenario file (0 when not loaded from a file)."""
        return self._line

    def describe_when(self) -> str:
        """``at 29s``, ``within [30s, 45s]`` or ``always [50s, 1m0s]``."""
        if self.mode == "at":
            return f"at {format_duration(self.start)}"
        return f"{self.mode} [{format_duration(self.start)}, {format_duration(self.end)}]"
