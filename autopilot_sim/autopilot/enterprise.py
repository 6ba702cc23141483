"""The enterprise promoter: redundancy zones, upgrade migration, custom versions, read replicas.

Nomad Enterprise's promoter is not public; its behaviour is documented (reference §11). This
module implements those documented rules as one pure planning function, `plan`, which the
`EnterprisePromoter` (same protocol as the `StablePromoter`) consults both while a state is
built (for the enterprise part of the health report) and at each reconcile tick (for the Raft
changes). Where the docs are silent the safest reading was chosen; each choice is marked
"Choice:" below and collected in docs/enterprise.md.

Server facts come from the Serf tags Nomad gossips (`nomad/server.go`): `ap_zone` (the
server's `redundancy_zone`), `ap_version` (its `upgrade_version`) and `nonvoter` (a
`non_voting_server`, a read replica).

Rules, in the order `plan` applies them:

* **Read replicas** never vote: never promoted, a voting one is demoted, never counted in
  zones, upgrade readiness or (optimistic) failure tolerance.
* **Upgrade migration** (unless DisableUpgradeMigration): the target is the highest version
  among servers that may vote. While older-version servers exist, target-version non-voters
  are not promoted until there are at least as many ready (healthy and stable) target-version
  servers as older-version servers (with zones: also one in every zone that has an older
  server). Then, one step per reconcile tick (reconcile applies promotions, else demotions,
  else a leader transfer): promote the target-version servers, demote the older followers,
  transfer leadership to a target-version voter, demote the former leader, wait for the older
  servers to be removed. Status, derived from the state each time:
  ``disabled`` · ``idle`` (no older server) · ``await-new-servers`` (fewer target-version
  servers than older ones) · ``await-new-voters`` (enough of them, not yet enough ready) ·
  ``promoting`` · ``demoting`` · ``leader-transfer`` · ``await-server-removal`` (no older
  server votes any more; the older ones are still in the Raft configuration).
* **Redundancy zones** (EnableRedundancyZones): one voter per zone, the rest hot standbys.
  A zone without a healthy voter gets its best healthy stable standby promoted; once a zone
  has a healthy voter every other voter of the zone is demoted (the leader never is). A zone
  with no healthy server at all is *lost*: a standby of another zone (the zone with the most
  healthy standbys) is promoted as a zone-extra-voter, one per lost zone, and demoted again
  once no zone is lost. Once covered, a lost zone's dead voters are demoted, and its servers
  are kept out of dead-server pruning so the zone stays visible until it comes back.
  Servers without a zone are promoted like the StablePromoter does.
* Otherwise (no zones) non-voters are promoted once stable, as the StablePromoter does.

"Ready" means healthy and stable: healthy for ServerStabilizationTime, waived during the first
ServerStabilizationTime after autopilot started on this leader, as for the StablePromoter.
Choice (safety): a server is promoted only if it answered the last stats fetch. raft-autopilot
keeps a silent server's previous stats, so a crashed standby looks healthy until Serf marks it
failed; promoting it (say, as its zone's voter when the whole zone crashed) adds a dead voter
and can cost the quorum.
Every ordering uses upstream's server order (leader, voters, healthy, longest stable, ID), so
choices are deterministic. Choice: the leadership-transfer target is the first target-version
voter in that order (Vault documents a random pick).

Why one module of ~600 lines: `plan` applies the rules above in one order, and the rules read
each other's results (zones decide which voters upgrade migration may demote, read replicas are
excluded from both); the status texts and the health-report fields derive from the same plan.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from autopilot_sim.autopilot.config import AutopilotConfig
from autopilot_sim.autopilot.model import (
    NODE_TYPE_VOTER,
    ServerState,
    State,
    required_quorum,
    sort_servers,
)
from autopilot_sim.autopilot.promoter import FailedServers, RaftChanges
from autopilot_sim.autopilot.report import EnterpriseHealth, enterprise_health
from autopilot_sim.autopilot.versions import version_key
from autopilot_sim.durations import format_duration

#: Serf tags Nomad sets for the enterprise server options (nomad/server.go).
TAG_ZONE = "ap_zone"
TAG_UPGRADE_VERSION = "ap_version"
TAG_NONVOTER = "nonvoter"

# Upgrade status values (Consul/Nomad Enterprise `UpgradeStatus`, reference §11).
UPGRADE_DISABLED = "disabled"
UPGRADE_IDLE = "idle"
UPGRADE_AWAIT_NEW_VOTERS = "await-new-voters"
UPGRADE_PROMOTING = "promoting"
UPGRADE_DEMOTING = "demoting"
UPGRADE_LEADER_TRANSFER = "leader-transfer"
UPGRADE_AWAIT_NEW_SERVERS = "await-new-servers"
UPGRADE_AWAIT_SERVER_REMOVAL = "await-server-removal"
UPGRADE_STATUSES = (
    UPGRADE_DISABLED, UPGRADE_IDLE, UPGRADE_AWAIT_NEW_VOTERS, UPGRADE_PROMOTING, UPGRADE_DEMOTING,
    UPGRADE_LEADER_TRANSFER, UPGRADE_AWAIT_NEW_SERVERS, UPGRADE_AWAIT_SERVER_REMOVAL,
)

# Node types (Consul's enterprise NodeType values; informational).
NODE_TYPE_READ_REPLICA = "read-replica"
NODE_TYPE_ZONE_VOTER = "zone-voter"
NODE_TYPE_ZONE_STANDBY = "zone-standby"
NODE_TYPE_ZONE_EXTRA_VOTER = "zone-extra-voter"


@dataclass(frozen=True, slots=True)
class Plan:
    """What the enterprise rules conclude from one state at one time."""

    status: str
    target_version: str
    versions: Mapping[str, str]  # the upgrade version used per server ID
    zones: Mapping[str, str]  # redundancy zone per server ID ("" when none)
    read_replicas: tuple[str, ...]
    order: tuple[str, ...]  # every server, upstream's order
    node_types: Mapping[str, str]
    changes: RaftChanges
    lost_zones: tuple[str, ...] = ()
    optimistic_failure_tolerance: int = 0


def is_read_replica(srv: ServerState) -> bool:
    """A server started with `non_voting_server` (Serf tag nonvoter)."""
    meta = srv.server.meta or {}
    return meta.get(TAG_NONVOTER, "") not in ("", "0", "false")


def zone_of(srv: ServerState) -> str:
    """The server's redundancy zone ("" when it declares none)."""
    return (srv.server.meta or {}).get(TAG_ZONE, "")


def upgrade_version_of(config: AutopilotConfig, srv: ServerState) -> str:
    """The version upgrade migration compares.

    With EnableCustomUpgrades the server's `upgrade_version`; Choice: a server that declares
    none falls back to its Nomad version (the docs say nothing; this keeps such a server in
    the comparison rather than treating it as infinitely old).
    """
    if config.enable_custom_upgrades:
        custom = (srv.server.meta or {}).get(TAG_UPGRADE_VERSION, "")
        if custom:
            return custom
    return srv.server.version


@dataclass
class _Builder:
    """Mutable scratch space while planning one tick."""

    promotions: list[str] = field(default_factory=list)
    demotions: list[str] = field(default_factory=list)
    reasons: dict[str, str] = field(default_factory=dict)
    held: dict[str, str] = field(default_factory=dict)
    node_types: dict[str, str] = field(default_factory=dict)
    leader: str = ""

    def promote(self, sid: str, reason: str) -> None:
        if sid not in self.reasons:
            self.promotions.append(sid)
            self.reasons[sid] = reason

    def demote(self, sid: str, reason: str) -> None:
        if sid not in self.reasons:
            self.demotions.append(sid)
            self.reasons[sid] = reason

    def hold(self, sid: str, reason: str) -> None:
        self.held.setdefault(sid, reason)


class _Context:
    """The state, time and derived lookups shared by the rules."""

    def __init__(self, config: AutopilotConfig, state: State, now: int | None) -> None:
        self.config = config
        self.state = state
        self.now = now
        sst = config.server_stabilization_time
        self.sst = sst
        self.min_stable = state.server_stabilization_time(sst, now) if now is not None else sst
        self.waived = self.min_stable != sst
        self.order = tuple(sort_servers(list(state.servers), state))

    def srv(self, sid: str) -> ServerState:
        return self.state.servers[sid]

    def votes(self, sid: str) -> bool:
        return self.state.servers[sid].has_voting_rights

    def healthy(self, sid: str) -> bool:
        return self.state.servers[sid].health.healthy

    def ready(self, sid: str) -> bool:
        """Healthy, stable and heard from at the last stats fetch (see `not_ready_reason`).

        Without a time (hand-made state) nothing counts as stable.
        """
        srv = self.state.servers[sid]
        if self.now is None or not srv.fetched:
            return False
        return srv.health.is_stable(self.now, self.min_stable)

    def stability(self, sid: str) -> str:
        """Why a healthy server is (not yet) stable, for reasons and held messages."""
        health = self.state.servers[sid].health
        if self.now is None:
            return "stability unknown (no state time)"
        stable_for = format_duration(self.now - health.stable_since)
        sst = format_duration(self.sst)
        if self.waived:
            return (f"healthy and stable for {stable_for}; ServerStabilizationTime {sst} waived "
                    f"during the first {sst} after autopilot started")
        if self.ready(sid):
            return f"healthy and stable for {stable_for} ≥ ServerStabilizationTime {sst}"
        return f"healthy and stable for {stable_for} < ServerStabilizationTime {sst}"

    def not_ready_reason(self, sid: str) -> str:
        if not self.healthy(sid):
            return "unhealthy"
        if not self.srv(sid).fetched:
            return "its stats could not be fetched at the last update (health is stale)"
        return self.stability(sid)


def plan(config: AutopilotConfig, state: State, now: int | None) -> Plan:
    """Apply the enterprise rules (module docstring) to `state` at `now`.

    `now` None (a state without a build time) judges no server stable, so nothing is promoted.
    """
    ctx = _Context(config, state, now)
    out = _Builder()
    zones = {sid: zone_of(srv) for sid, srv in state.servers.items()}
    versions = {sid: upgrade_version_of(config, srv) for sid, srv in state.servers.items()}
    replicas = tuple(sid for sid in ctx.order if is_read_replica(state.servers[sid]))
    eligible = [sid for sid in ctx.order if sid not in replicas]

    for sid in replicas:
        out.node_types[sid] = NODE_TYPE_READ_REPLICA
        if ctx.votes(sid) and sid != state.leader:
            out.demote(sid, "demoted (read replica): a non_voting server never votes")
        elif not ctx.votes(sid):
            out.hold(sid, "not promoted (read replica): a non_voting server is never promoted")

    target = max((versions[sid] for sid in eligible), key=version_key, default="")
    target_key = version_key(target)
    old = [sid for sid in eligible if version_key(versions[sid]) < target_key]
    new = [sid for sid in eligible if version_key(versions[sid]) >= target_key]
    zones_on = config.enable_redundancy_zones

    status = _upgrade_status(ctx, config, old, new, zones, zones_on)
    lost: tuple[str, ...] = ()
    blocked: set[str] = set()  # non-voters the migration will not promote (no standbys)
    if status in (UPGRADE_PROMOTING, UPGRADE_DEMOTING, UPGRADE_LEADER_TRANSFER):
        blocked.update(old)
        status = _migrate(ctx, out, target, old, new, zones, zones_on)
        for sid in old:
            out.node_types.setdefault(sid, NODE_TYPE_VOTER)
    else:
        population = list(eligible)
        if status in (UPGRADE_AWAIT_NEW_SERVERS, UPGRADE_AWAIT_NEW_VOTERS):
            # Target-version non-voters wait for the migration; voters already on the target
            # version (upgraded in place) keep voting.
            needed = len(old)
            have = sum(1 for sid in new if _counts_ready(ctx, sid))
            for sid in new:
                if not ctx.votes(sid):
                    out.hold(sid, f"not promoted (upgrade migration to {target}): waiting for "
                                  f"{needed} ready target-version servers, {have} ready now")
                    out.node_types[sid] = NODE_TYPE_VOTER
                    blocked.add(sid)
            population = [sid for sid in eligible if sid in old or ctx.votes(sid)]
        elif status == UPGRADE_AWAIT_SERVER_REMOVAL:
            for sid in old:
                if not ctx.votes(sid):
                    out.hold(sid, f"not promoted (upgrade migration to {target}): runs older "
                                  f"version {versions[sid]}; waiting for its removal")
                    out.node_types[sid] = NODE_TYPE_VOTER
                    blocked.add(sid)
            population = [sid for sid in eligible if sid not in old]
        if zones_on:
            lost = _zone_rules(ctx, out, population, zones)
        else:
            _stable_rules(ctx, out, population)

    changes = RaftChanges(
        promotions=tuple(out.promotions),
        demotions=tuple(out.demotions),
        leader=out.leader,
        reasons=dict(out.reasons),
        held={sid: why for sid, why in out.held.items() if sid not in out.reasons},
    )
    for sid in eligible:
        out.node_types.setdefault(sid, NODE_TYPE_VOTER)
    return Plan(
        status=status,
        target_version=target,
        versions=versions,
        zones=zones,
        read_replicas=replicas,
        order=ctx.order,
        node_types=out.node_types,
        changes=changes,
        lost_zones=lost,
        optimistic_failure_tolerance=_optimistic_ft(ctx, [s for s in eligible if s not in blocked]),
    )


# --- upgrade migration ---------------------------------------------------------------------


def _counts_ready(ctx: _Context, sid: str) -> bool:
    """A target-version server ready to carry a vote: a healthy voter or a ready non-voter."""
    return ctx.healthy(sid) if ctx.votes(sid) else ctx.ready(sid)


def _upgrade_status(ctx: _Context, config: AutopilotConfig, old: list[str], new: list[str],
                    zones: Mapping[str, str], zones_on: bool) -> str:
    """The status before acting; migrating phases are refined by `_migrate`."""
    if config.disable_upgrade_migration:
        return UPGRADE_DISABLED
    if not old:
        return UPGRADE_IDLE
    if not any(ctx.votes(sid) for sid in old):
        return UPGRADE_AWAIT_SERVER_REMOVAL
    needed = len(old)
    old_zones = {zones[sid] for sid in old if zones[sid]} if zones_on else set()
    if len(new) < needed or not old_zones <= {zones[sid] for sid in new}:
        return UPGRADE_AWAIT_NEW_SERVERS
    ready = [sid for sid in new if _counts_ready(ctx, sid)]
    if len(ready) < needed or not old_zones <= {zones[sid] for sid in ready}:
        return UPGRADE_AWAIT_NEW_VOTERS
    return UPGRADE_PROMOTING  # refined by _migrate


def _migrate(ctx: _Context, out: _Builder, target: str, old: list[str], new: list[str],
             zones: Mapping[str, str], zones_on: bool) -> str:
    """Enough target-version servers are ready: one migration step; returns the status."""
    rule = f"upgrade migration to {target}"
    intended = _intended_new_voters(ctx, new, zones, zones_on)
    for sid in new:
        if sid not in intended and not ctx.votes(sid):
            out.hold(sid, f"not promoted ({rule}): its zone's target-version voter is "
                          f"{_zone_pick(intended, zones, zones[sid])}")
            out.node_types[sid] = NODE_TYPE_ZONE_STANDBY
        elif zones_on and zones[sid]:
            out.node_types[sid] = NODE_TYPE_ZONE_VOTER if sid in intended else NODE_TYPE_ZONE_STANDBY
    to_promote = [sid for sid in intended if not ctx.votes(sid)]
    if to_promote:
        for sid in to_promote:
            ready = sum(1 for s in new if _counts_ready(ctx, s))
            out.promote(sid, f"promoted ({rule}: {ready} target-version servers ready for "
                             f"{len(old)} older ones): {ctx.stability(sid)}")
        return UPGRADE_PROMOTING
    if not all(ctx.healthy(sid) for sid in intended):
        # A promoted target-version voter turned unhealthy: hold the migration here.
        for sid in old:
            if ctx.votes(sid):
                out.hold(sid, f"not demoted ({rule}): a target-version voter is unhealthy")
        return UPGRADE_AWAIT_NEW_VOTERS
    leader = ctx.state.leader
    followers = [sid for sid in old if ctx.votes(sid) and sid != leader]
    if followers:
        for sid in followers:
            out.demote(sid, f"demoted ({rule}): runs older version "
                            f"{upgrade_version_of(ctx.config, ctx.srv(sid))}")
        return UPGRADE_DEMOTING
    if leader in old:
        to = next((sid for sid in ctx.order if sid in intended and ctx.votes(sid)
                   and ctx.healthy(sid)), "")
        if to:
            out.leader = to
            out.reasons[to] = (f"leadership transfer ({rule}): the leader {leader} runs older "
                               f"version {upgrade_version_of(ctx.config, ctx.srv(leader))}")
        return UPGRADE_LEADER_TRANSFER
    # No older server votes: `_upgrade_status` reports await-server-removal next time.
    return UPGRADE_AWAIT_SERVER_REMOVAL


def _intended_new_voters(ctx: _Context, new: list[str], zones: Mapping[str, str],
                         zones_on: bool) -> list[str]:
    """The target-version servers that should vote: every ready one, or with zones one per
    zone (a healthy voter already there, else the best ready one) plus the zoneless."""
    chosen: list[str] = []
    seen_zones: set[str] = set()
    for want_voter in (True, False):
        for sid in ctx.order:
            if sid not in new or not _counts_ready(ctx, sid) or ctx.votes(sid) != want_voter:
                continue
            zone = zones[sid] if zones_on else ""
            if zone:
                if zone in seen_zones:
                    continue
                seen_zones.add(zone)
            chosen.append(sid)
    return [sid for sid in ctx.order if sid in chosen]


def _zone_pick(intended: list[str], zones: Mapping[str, str], zone: str) -> str:
    return next((sid for sid in intended if zones[sid] == zone), "none")


# --- promotion without zones ---------------------------------------------------------------


def _stable_rules(ctx: _Context, out: _Builder, population: list[str]) -> None:
    """The StablePromoter's rule over `population`."""
    for sid in population:
        if ctx.votes(sid):
            continue
        if ctx.ready(sid):
            out.promote(sid, f"promoted: {ctx.stability(sid)}")
        else:
            out.hold(sid, f"not promoted: {ctx.not_ready_reason(sid)}")


# --- redundancy zones ----------------------------------------------------------------------


def _zone_rules(ctx: _Context, out: _Builder, population: list[str],
                zones: Mapping[str, str]) -> tuple[str, ...]:
    """One voter per zone, standby failover, extra voters for lost zones. Returns lost zones."""
    leader = ctx.state.leader
    zoneless = [sid for sid in population if not zones[sid]]
    _stable_rules(ctx, out, zoneless)
    names = sorted({zones[sid] for sid in population if zones[sid]})
    members = {z: [sid for sid in population if zones[sid] == z] for z in names}
    keepers: dict[str, str] = {}
    lost: list[str] = []
    for zone in names:
        healthy_voters = [sid for sid in members[zone] if ctx.votes(sid) and ctx.healthy(sid)]
        if healthy_voters:
            keepers[zone] = healthy_voters[0]  # upstream order: the leader first
            continue
        standbys = [sid for sid in members[zone] if not ctx.votes(sid) and ctx.healthy(sid)]
        if not standbys:
            lost.append(zone)
            for sid in members[zone]:
                out.node_types[sid] = NODE_TYPE_ZONE_VOTER
            continue
        best = standbys[0]
        for sid in members[zone]:
            out.node_types[sid] = NODE_TYPE_ZONE_VOTER  # no voter yet: all are candidates
        if ctx.ready(best):
            out.promote(best, f"promoted (redundancy zone {zone}: the zone has no healthy "
                              f"voter): {ctx.stability(best)}")
        else:
            out.hold(best, f"not promoted yet (redundancy zone {zone}: the zone has no healthy "
                           f"voter): {ctx.not_ready_reason(best)}")
        for sid in standbys[1:]:
            out.hold(sid, f"not promoted (redundancy zone {zone}): {best} is the zone's "
                          "candidate")

    # Extra voters: healthy voters of covered zones beyond the zone's own voter.
    extras = [sid for zone in names if zone in keepers for sid in members[zone]
              if ctx.votes(sid) and ctx.healthy(sid) and sid != keepers[zone]]
    # Existing extra voters stay while any zone lacks a healthy voter (a lost zone, or one
    # whose standby is not promoted yet); new ones are promoted only for lost zones.
    uncovered = [zone for zone in names if zone not in keepers]
    need = len(uncovered) if keepers else 0
    keep = extras[:need]
    # The leader is never demoted by the zone rules: keep it in place of another extra.
    if leader in extras[need:]:
        keep = [leader] + keep[:-1] if keep else [leader]
    for sid in keepers.values():
        out.node_types[sid] = NODE_TYPE_ZONE_VOTER
    for sid in keep:
        out.node_types[sid] = NODE_TYPE_ZONE_EXTRA_VOTER
    for sid in extras:
        if sid in keep:
            continue
        zone = zones[sid]
        why = ("no zone needs an extra voter" if not uncovered else
               f"{len(uncovered)} zone(s) without a voter need only {need} extra voter(s)")
        out.demote(sid, f"demoted (redundancy zone {zone}: one voter per zone, {keepers[zone]} "
                        f"votes for the zone; {why}): now a hot standby")
        out.node_types[sid] = NODE_TYPE_ZONE_STANDBY
    # Unhealthy voters of covered zones: the zone votes through its healthy voter now.
    for zone, keeper in keepers.items():
        for sid in members[zone]:
            if ctx.votes(sid) and not ctx.healthy(sid) and sid != leader:
                out.demote(sid, f"demoted (redundancy zone {zone}: unhealthy, {keeper} "
                                "votes for the zone)")
                out.node_types[sid] = NODE_TYPE_ZONE_STANDBY
    # Lost zones without enough extra voters: promote standbys of the best-stocked zones.
    missing = (len(lost) if keepers else 0) - len(keep)
    if missing > 0:
        donors = sorted(
            (zone for zone in keepers),
            key=lambda z: (-sum(1 for s in members[z] if not ctx.votes(s) and ctx.healthy(s)), z),
        )
        candidates = [sid for zone in donors for sid in members[zone]
                      if not ctx.votes(sid) and ctx.healthy(sid)]
        for sid in candidates:
            if missing == 0:
                break
            if ctx.ready(sid):
                out.promote(sid, f"promoted (zone-extra-voter from zone {zones[sid]}: zone(s) "
                                 f"{', '.join(lost)} have no healthy server): "
                                 f"{ctx.stability(sid)}")
                out.node_types[sid] = NODE_TYPE_ZONE_EXTRA_VOTER
                missing -= 1
            else:
                out.hold(sid, f"not promoted yet (zone-extra-voter for {', '.join(lost)}): "
                              f"{ctx.not_ready_reason(sid)}")
    if missing <= 0 and keep:
        # Every lost zone is covered by an extra voter: its dead voters stop counting in the
        # quorum (they stay in the configuration as non-voters, see filter_failed_server_removals).
        for zone in lost:
            for sid in members[zone]:
                if ctx.votes(sid) and sid != leader:
                    out.demote(sid, f"demoted (redundancy zone {zone} lost: a zone-extra-voter "
                                    "votes in its place)")
    for zone, keeper in keepers.items():
        for sid in members[zone]:
            if not ctx.votes(sid) and sid not in out.reasons:
                out.node_types.setdefault(sid, NODE_TYPE_ZONE_STANDBY)
                out.hold(sid, f"not promoted (redundancy zone {zone}): hot standby, "
                              f"{keeper} votes for the zone")
    return tuple(lost)


# --- failure tolerance ---------------------------------------------------------------------


def _optimistic_ft(ctx: _Context, eligible: list[str]) -> int:
    """Healthy voters plus healthy standbys that could be promoted, minus the quorum.

    Choice (an inference from Vault's documented example; the formula is not published):
    standbys are non-voters autopilot would promote if needed — not read replicas, nor servers
    an upgrade migration holds back (older ones being migrated away, newer ones still waiting).
    """
    voters = [sid for sid in ctx.order if ctx.votes(sid)]
    healthy = sum(1 for sid in voters if ctx.healthy(sid))
    standbys = sum(1 for sid in eligible if not ctx.votes(sid) and ctx.healthy(sid))
    if not voters:
        return 0
    return max(0, healthy + standbys - required_quorum(len(voters)))


# --- the promoter --------------------------------------------------------------------------


class EnterprisePromoter:
    """Nomad Enterprise's promoter, as documented (module docstring). Stateless and pure."""

    __slots__ = ()

    def get_server_ext(self, config: AutopilotConfig, server: ServerState) -> Any:
        return None

    def get_state_ext(self, config: AutopilotConfig, state: State) -> Any:
        """The enterprise part of the health report, judged at the state's build time."""
        return build_enterprise_health(config, state, plan(config, state, state.built_at))

    def get_node_types(self, config: AutopilotConfig, state: State) -> Mapping[str, str]:
        return plan(config, state, state.built_at).node_types

    def calculate_promotions_and_demotions(
        self, config: AutopilotConfig, state: State, now: int
    ) -> RaftChanges:
        return plan(config, state, now).changes

    def filter_failed_server_removals(
        self, config: AutopilotConfig, state: State, failed: FailedServers
    ) -> FailedServers:
        """Keep the servers of a lost zone; pass everything else to v0.1.6 pruning.

        Choice: autopilot only sees servers in the Raft configuration, so pruning a lost
        zone's dead servers would make the zone vanish, and its zone-extra-voter would be
        demoted while the zone is still down. Held back, they stay as non-voters (their
        voters are demoted once an extra voter covers the zone) until the zone comes back.
        Standbys, read replicas and other dead servers are pruned as in the community edition.
        """
        if not config.enable_redundancy_zones or not state.servers:
            return failed
        p = plan(config, state, state.built_at)
        if not p.lost_zones:
            return failed
        lost = set(p.lost_zones)

        def keep(sid: str) -> bool:
            return p.zones.get(sid, "") not in lost

        return FailedServers(
            stale_non_voters=tuple(sid for sid in failed.stale_non_voters if keep(sid)),
            stale_voters=tuple(sid for sid in failed.stale_voters if keep(sid)),
            failed_non_voters=tuple(s for s in failed.failed_non_voters if keep(s.id)),
            failed_voters=tuple(s for s in failed.failed_voters if keep(s.id)),
        )


def build_enterprise_health(config: AutopilotConfig, state: State, p: Plan) -> EnterpriseHealth:
    """The enterprise fields of the health body for `state` under plan `p`."""
    servers = state.servers
    return enterprise_health(
        order=p.order,
        voting={sid for sid in p.order if servers[sid].has_voting_rights},
        healthy={sid for sid in p.order if servers[sid].health.healthy},
        read_replicas=p.read_replicas,
        zones=p.zones if config.enable_redundancy_zones else {},
        versions=p.versions,
        target_version=p.target_version,
        status=p.status,
        optimistic_failure_tolerance=p.optimistic_failure_tolerance,
    )


ENTERPRISE_PROMOTER = EnterprisePromoter()
"""The promoter used when the scenario sets `cluster.enterprise: true`."""
