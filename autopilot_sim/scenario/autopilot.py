"""The `autopilot:` block (Nomad's agent ``autopilot`` block) and the `set_autopilot` payload.

Defaults are Nomad's (docs/behaviour/autopilot.md §10, §1): CleanupDeadServers true,
LastContactThreshold 200ms, MaxTrailingLogs 250, MinQuorum 0, ServerStabilizationTime 10s, the
three enterprise flags false; the update (ServerHealthInterval) and reconcile (AutopilotInterval)
ticks 2s and 10s.

Validation, and where it differs from Nomad: Nomad validates no ranges at all. Here counts and
durations must be ≥ 0 (the CLI's counts are unsigned; a negative duration can only be set through
the HTTP API, and `serve` accepts that there). Nomad's agent copies only **non-zero** values from
the block onto its defaults, so ``max_trailing_logs: 0`` or ``server_stabilization_time: 0s`` in an
agent file silently mean the default; this model does the same for the `autopilot:` block (the
resolved scenario then shows the default), but not for `set_autopilot`, which is an API write
and stores zeros as given. The block only seeds the configuration at bootstrap; later changes are
`set_autopilot` events (real config writes through Raft).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field, model_validator

from autopilot_sim.durations import MILLISECOND, SECOND
from autopilot_sim.scenario.base import ScenarioModel
from autopilot_sim.scenario.types import Duration, duration_type

#: The keys of the autopilot configuration proper (what the API's GET/PUT carry).
CONFIG_KEYS = (
    "cleanup_dead_servers",
    "last_contact_threshold",
    "max_trailing_logs",
    "min_quorum",
    "server_stabilization_time",
    "enable_redundancy_zones",
    "disable_upgrade_migration",
    "enable_custom_upgrades",
)

#: Shortest autopilot tick: a fifth of Nomad's own test servers' (ServerHealthInterval 50ms,
#: AutopilotInterval 100ms, nomad/testing.go). Each update tick asks every server for its stats
#: and writes a health report, so a shorter one only floods the timeline (1ns ate ~70 MB/s).
MIN_TICK = 10 * MILLISECOND
_TICK_WHY = "Nomad's own test servers tick every 50ms-100ms; a shorter tick only floods the timeline"
if TYPE_CHECKING:  # to mypy a duration field is the int of ns it holds
    Tick = int
else:
    Tick = duration_type(MIN_TICK, why=_TICK_WHY)

_NONZERO_DEFAULTS = {
    "last_contact_threshold": 200 * MILLISECOND,
    "max_trailing_logs": 250,
    "server_stabilization_time": 10 * SECOND,
}


class AutopilotSpec(ScenarioModel):
    """The agent `autopilot` block plus the two autopilot loop intervals."""

    cleanup_dead_servers: bool = Field(True, description="Remove failed/stale servers from Raft.")
    last_contact_threshold: Duration = Field(
        200 * MILLISECOND, description="A server is unhealthy if its last contact with the leader "
                                       "is older than this (0 in the file means the default).")
    max_trailing_logs: int = Field(
        250, ge=0, description="A server is unhealthy if it trails the leader by more entries "
                               "(0 in the file means the default).")
    min_quorum: int = Field(0, ge=0, description="Never prune below this many voters.")
    server_stabilization_time: Duration = Field(
        10 * SECOND, description="A new server must be healthy this long before promotion "
                                 "(0 in the file means the default).")
    enable_redundancy_zones: bool = Field(False, description="Enterprise: one voter per redundancy zone.")
    disable_upgrade_migration: bool = Field(False, description="Enterprise: turn off upgrade migration.")
    enable_custom_upgrades: bool = Field(
        False, description="Enterprise: use upgrade_version, not the Nomad version.")
    update_interval: Tick = Field(
        2 * SECOND, description="Nomad's ServerHealthInterval: one health report per tick (2s). At "
                                "least 10ms: Nomad's own test servers use 50ms, and each tick asks "
                                "every server for its stats and writes a report.")
    reconcile_interval: Tick = Field(
        10 * SECOND, description="Nomad's AutopilotInterval: promotion and dead-server cleanup (10s). "
                                 "At least 10ms: Nomad's own test servers use 100ms.")
    stable_since_rule: Literal["upstream", "intended"] = Field(
        "upstream",
        description="Simulator setting, not a Nomad key. upstream (default): StableSince changes "
                    "only when a server is new to the state, as raft-autopilot v0.1.6 really does "
                    "(a health flip keeps the old value); intended: it also resets on every health "
                    "flip, as the code and the API docs intend — for teaching, not what Nomad does.")

    @model_validator(mode="after")
    def _zero_means_default(self) -> AutopilotSpec:
        # Nomad's agent only overrides its defaults with non-zero values from the block.
        for key, default in _NONZERO_DEFAULTS.items():
            if getattr(self, key) == 0:
                setattr(self, key, default)
        return self

    def config(self) -> dict[str, object]:
        """The configuration keys only (no intervals), in API order, values as stored (ns)."""
        return {key: getattr(self, key) for key in CONFIG_KEYS}


class AutopilotPatch(ScenarioModel):
    """The `set_autopilot` payload: the configuration keys to change (an API config write).

    Keys left out keep their current value (like Nomad's CLI `set-config`, which reads the config
    and writes it back with the given flags changed). Zero values are stored as given.
    """

    cleanup_dead_servers: bool | None = None
    last_contact_threshold: Duration | None = None
    max_trailing_logs: int | None = Field(None, ge=0)
    min_quorum: int | None = Field(None, ge=0)
    server_stabilization_time: Duration | None = None
    enable_redundancy_zones: bool | None = None
    disable_upgrade_migration: bool | None = None
    enable_custom_upgrades: bool | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> AutopilotPatch:
        if not self.changes():
            raise ValueError("set_autopilot needs at least one of " + ", ".join(CONFIG_KEYS))
        return self

    def changes(self) -> dict[str, object]:
        """The keys this write sets, with their values (ns for durations)."""
        return {key: getattr(self, key) for key in CONFIG_KEYS if getattr(self, key) is not None}
