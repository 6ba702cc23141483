"""The one place a `State` becomes the body of GET /v1/operator/autopilot/health.

Everything that shows autopilot health (HTTP API, timeline file, plots, narration) calls
`health_body(state)`; `health_status(state)` gives the HTTP status (200 healthy, 429 not;
the body is sent either way). Shape and formats follow Nomad (docs/behaviour/autopilot.md §9.4):

* top level, in Go struct order: Healthy, FailureTolerance, Servers, Leader, Voters; the
  enterprise keys (ReadReplicas, RedundancyZones, Upgrade, OptimisticFailureTolerance) are
  omitted in the community edition and present in the enterprise variant;
* `Servers` is `null` when there are none (Nomad builds it by appending to a nil slice);
  `Voters` is `[]` when empty (Nomad pre-sizes that slice);
* per server: LastContact as a Go duration string ("0s", "27.291304ms"), SerfStatus from the
  NodeStatus (alive/left/failed, anything else "none"), Leader / Voter flags from the Raft
  state, StableSince in UTC rounded to the nearest second (half-way rounds up, as Go's
  `Time.Round(time.Second)` does) and printed as RFC 3339 ("2017-03-06T22:07:51Z").

Per-server key order is the one Nomad really sends: `api.ServerHealth.MarshalJSON` puts its
string LastContact field first and Go's encoder then writes the remaining fields in
declaration order. The docs sample lists LastContact later; JSON key order has no meaning, so
clients must not care either way.

`Servers` order: Nomad iterates a Go map (random order); we use the Raft configuration order.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any

from autopilot_sim.autopilot.model import (
    NODE_ALIVE,
    NODE_FAILED,
    NODE_LEFT,
    RAFT_LEADER,
    RAFT_NONVOTER,
    RAFT_STAGING,
    RAFT_VOTER,
    ServerState,
    State,
)
from autopilot_sim.autopilot.versions import version_key
from autopilot_sim.durations import SECOND, format_duration, format_rfc3339

STATUS_HEALTHY = 200
STATUS_UNHEALTHY = 429  # "Too Many Requests": Nomad's choice for an unhealthy cluster

_SERF_STATUS = {NODE_ALIVE: "alive", NODE_LEFT: "left", NODE_FAILED: "failed"}

#: Top-level keys of the community-edition body, in order.
HEALTH_KEYS = ("Healthy", "FailureTolerance", "Servers", "Leader", "Voters")
#: Keys the enterprise edition adds after them, in order.
ENTERPRISE_KEYS = ("ReadReplicas", "RedundancyZones", "Upgrade", "OptimisticFailureTolerance")
#: Per-server keys, in the order Nomad writes them.
SERVER_KEYS = (
    "LastContact",
    "ID",
    "Name",
    "Address",
    "SerfStatus",
    "Version",
    "Leader",
    "LastTerm",
    "LastIndex",
    "Healthy",
    "Voter",
    "StableSince",
)


def health_status(state: State) -> int:
    """HTTP status of the health endpoint: 200 if the cluster is healthy, else 429."""
    return STATUS_HEALTHY if state.healthy else STATUS_UNHEALTHY


def round_to_second(ns: int) -> int:
    """Round a time to the nearest second, half-way up (Go `Time.Round(time.Second)`)."""
    return (ns + SECOND // 2) // SECOND * SECOND


@functools.lru_cache(maxsize=1024)  # a server's StableSince rarely changes: every tick prints it again
def format_stable_since(ns: int) -> str:
    """StableSince as the health endpoint prints it: UTC, whole seconds, RFC 3339."""
    return format_rfc3339(round_to_second(ns), nano=False)


def serf_status(node_status: str) -> str:
    """The SerfStatus string for an autopilot NodeStatus."""
    return _SERF_STATUS.get(node_status, "none")


def server_health(srv: ServerState) -> dict[str, Any]:
    """One entry of `Servers`."""
    server = srv.server
    return {
        "LastContact": format_duration(srv.stats.last_contact),
        "ID": server.id,
        "Name": server.name,
        "Address": server.address,
        "SerfStatus": _SERF_STATUS.get(server.node_status, "none"),
        "Version": server.version,
        "Leader": srv.state == RAFT_LEADER,
        "LastTerm": srv.stats.last_term,
        "LastIndex": srv.stats.last_index,
        "Healthy": srv.health.healthy,
        "Voter": srv.state in (RAFT_LEADER, RAFT_VOTER),
        "StableSince": format_stable_since(srv.health.stable_since),
    }


@dataclass(frozen=True, slots=True)
class EnterpriseHealth:
    """The enterprise-only part of the health body.

    An enterprise promoter can put one of these in `State.ext`; otherwise
    `default_enterprise_health` derives the idle, zone-less shape of the docs sample.
    Lists that are empty are sent as `null`, as Go sends nil slices.
    """

    read_replicas: tuple[str, ...] = ()
    redundancy_zones: Mapping[str, Any] = field(default_factory=dict)
    upgrade: Mapping[str, Any] = field(default_factory=dict)
    optimistic_failure_tolerance: int = 0


def _list_or_null(ids: Any) -> list[str] | None:
    return list(ids) if ids else None


def _version_key(version: str) -> tuple[tuple[int, ...], str]:
    """Order versions like "1.7.5+ent" / "1.10.0" numerically, then textually."""
    core = version.split("+", 1)[0].split("-", 1)[0]
    numbers = []
    for part in core.split("."):
        if not part.isdigit():
            break
        numbers.append(int(part))
    return tuple(numbers), version


def default_enterprise_health(state: State) -> EnterpriseHealth:
    """The enterprise section when no enterprise promoter supplied one.

    Status "idle", TargetVersion = the highest server version, servers split into target /
    other version by their Raft role, no zones and no read replicas, and an optimistic
    failure tolerance equal to the failure tolerance (no standbys to add).
    """
    versions = [srv.server.version for srv in state.servers.values()]
    target = max(versions, key=_version_key) if versions else ""
    split: dict[str, list[str]] = {
        "TargetVersionVoters": [],
        "TargetVersionNonVoters": [],
        "OtherVersionVoters": [],
        "OtherVersionNonVoters": [],
    }
    voters = set(state.voters)
    ordered = list(state.voters) + [sid for sid in state.servers if sid not in voters]
    for sid in ordered:
        srv = state.servers[sid]
        side = "TargetVersion" if srv.server.version == target else "OtherVersion"
        if srv.state in (RAFT_LEADER, RAFT_VOTER):
            split[side + "Voters"].append(sid)
        elif srv.state in (RAFT_NONVOTER, RAFT_STAGING):
            split[side + "NonVoters"].append(sid)
    upgrade: dict[str, Any] = {
        "Status": "idle",
        "TargetVersion": target,
        "TargetVersionVoters": _list_or_null(split["TargetVersionVoters"]),
        "TargetVersionNonVoters": _list_or_null(split["TargetVersionNonVoters"]),
        "TargetVersionReadReplicas": None,
        "OtherVersionVoters": _list_or_null(split["OtherVersionVoters"]),
        "OtherVersionNonVoters": _list_or_null(split["OtherVersionNonVoters"]),
        "OtherVersionReadReplicas": None,
        "RedundancyZones": {},
    }
    return EnterpriseHealth(
        upgrade=upgrade, optimistic_failure_tolerance=state.failure_tolerance
    )


def enterprise_health(
    *,
    order: Sequence[str],
    voting: AbstractSet[str],
    healthy: AbstractSet[str],
    read_replicas: Sequence[str],
    zones: Mapping[str, str],
    versions: Mapping[str, str],
    target_version: str,
    status: str,
    optimistic_failure_tolerance: int,
) -> EnterpriseHealth:
    """The enterprise fields from an enterprise promoter's classification.

    Shapes follow Nomad's `api.OperatorHealthReply` (reference §11): `RedundancyZones` maps a
    zone to ``{Servers, Voters, FailureTolerance}`` (FailureTolerance: healthy servers of the
    zone that may fail before the zone has none, i.e. healthy − 1, never negative);
    `Upgrade` holds Status, TargetVersion, the six per-version lists (voters, non-voters, read
    replicas of the target / other versions) and per zone the four voter / non-voter lists.
    `zones` is empty unless redundancy zones are enabled; servers without a zone and read
    replicas are in no zone. Lists follow `order` and are null when empty (Go nil slices).
    """
    replicas = set(read_replicas)
    target_key = version_key(target_version)
    zone_names = sorted({z for sid, z in zones.items() if z and sid not in replicas})
    by_zone: dict[str, Any] = {}
    upgrade_zones: dict[str, Any] = {}
    for zone in zone_names:
        members = [sid for sid in order if zones.get(sid) == zone and sid not in replicas]
        alive = sum(1 for sid in members if sid in healthy)
        by_zone[zone] = {
            "Servers": _list_or_null(members),
            "Voters": _list_or_null([sid for sid in members if sid in voting]),
            "FailureTolerance": max(0, alive - 1),
        }
    split: dict[str, list[str]] = {key: [] for key in _UPGRADE_LISTS}
    zone_split: dict[str, dict[str, list[str]]] = {
        zone: {key: [] for key in _ZONE_UPGRADE_LISTS} for zone in zone_names
    }
    for sid in order:
        side = "TargetVersion" if version_key(versions.get(sid, "")) == target_key else "OtherVersion"
        kind = "ReadReplicas" if sid in replicas else "Voters" if sid in voting else "NonVoters"
        split[side + kind].append(sid)
        zone = zones.get(sid, "")
        if zone in zone_split and kind != "ReadReplicas":
            zone_split[zone][side + kind].append(sid)
    for zone in zone_names:
        upgrade_zones[zone] = {k: _list_or_null(v) for k, v in zone_split[zone].items()}
    upgrade: dict[str, Any] = {"Status": status, "TargetVersion": target_version}
    upgrade.update({key: _list_or_null(split[key]) for key in _UPGRADE_LISTS})
    upgrade["RedundancyZones"] = upgrade_zones
    return EnterpriseHealth(
        read_replicas=tuple(sid for sid in order if sid in replicas),
        redundancy_zones=by_zone,
        upgrade=upgrade,
        optimistic_failure_tolerance=optimistic_failure_tolerance,
    )


_UPGRADE_LISTS = (
    "TargetVersionVoters",
    "TargetVersionNonVoters",
    "TargetVersionReadReplicas",
    "OtherVersionVoters",
    "OtherVersionNonVoters",
    "OtherVersionReadReplicas",
)
_ZONE_UPGRADE_LISTS = (
    "TargetVersionVoters",
    "TargetVersionNonVoters",
    "OtherVersionVoters",
    "OtherVersionNonVoters",
)


def health_body(state: State, *, enterprise: bool = False) -> dict[str, Any]:
    """The JSON body (as a dict, keys in wire order) of GET /v1/operator/autopilot/health.

    With `enterprise=True` the four enterprise keys follow, taken from `state.ext` when it is
    an `EnterpriseHealth`, else from `default_enterprise_health(state)`.
    """
    servers = [server_health(srv) for srv in state.servers.values()]
    body: dict[str, Any] = {
        "Healthy": state.healthy,
        "FailureTolerance": state.failure_tolerance,
        "Servers": servers or None,
        "Leader": state.leader,
        "Voters": list(state.voters),
    }
    if enterprise:
        ent = state.ext if isinstance(state.ext, EnterpriseHealth) else None
        if ent is None:
            ent = default_enterprise_health(state)
        body["ReadReplicas"] = _list_or_null(ent.read_replicas)
        body["RedundancyZones"] = dict(ent.redundancy_zones)
        body["Upgrade"] = dict(ent.upgrade)
        body["OptimisticFailureTolerance"] = ent.optimistic_failure_tolerance
    return body


NO_LEADER_ERROR = "No cluster leader"
"""The 500 body Nomad sends for the health endpoint while there is no leader."""
