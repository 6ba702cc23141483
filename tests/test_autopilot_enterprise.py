"""Enterprise promoter: redundancy zones, upgrade migration, custom versions, read replicas.

The states are hand-made like upstream's promoter tests: each server has a Raft role, a health
verdict and a StableSince; the enterprise facts travel as Nomad's Serf tags.
"""

from __future__ import annotations

import pytest

from autopilot_sim.autopilot.config import AutopilotConfig
from autopilot_sim.autopilot.enterprise import (
    ENTERPRISE_PROMOTER,
    NODE_TYPE_READ_REPLICA,
    NODE_TYPE_ZONE_EXTRA_VOTER,
    NODE_TYPE_ZONE_STANDBY,
    NODE_TYPE_ZONE_VOTER,
    UPGRADE_AWAIT_NEW_SERVERS,
    UPGRADE_AWAIT_NEW_VOTERS,
    UPGRADE_AWAIT_SERVER_REMOVAL,
    UPGRADE_DEMOTING,
    UPGRADE_DISABLED,
    UPGRADE_IDLE,
    UPGRADE_LEADER_TRANSFER,
    UPGRADE_PROMOTING,
    plan,
)
from autopilot_sim.autopilot.model import (
    NODE_ALIVE,
    NODE_FAILED,
    RAFT_LEADER,
    RAFT_NONVOTER,
    RAFT_VOTER,
    Server,
    ServerHealth,
    ServerState,
    ServerStats,
    State,
)
from autopilot_sim.autopilot.promoter import FailedServers
from autopilot_sim.autopilot.reconcile import (
    OP_ADD_VOTER,
    OP_DEMOTE_VOTER,
    OP_LEADERSHIP_TRANSFER,
    reconcile,
)
from autopilot_sim.autopilot.report import ENTERPRISE_KEYS, HEALTH_KEYS, health_body
from autopilot_sim.autopilot.versions import is_valid, version_key
from autopilot_sim.durations import SECOND

NOW = 1_700_000_000 * SECOND
ZONES = AutopilotConfig(enable_redundancy_zones=True)
PLAIN = AutopilotConfig()
OLD, NEW = "1.11.0", "1.12.0"


def srv(sid, role=RAFT_VOTER, *, healthy=True, stable_for=60 * SECOND, zone="", version=OLD,
        upgrade_version="", replica=False, status=NODE_ALIVE):
    meta = {"role": "nomad"}
    if zone:
        meta["ap_zone"] = zone
    if upgrade_version:
        meta["ap_version"] = upgrade_version
    if replica:
        meta["nonvoter"] = "1"
    server = Server(sid, name=f"{sid}.global", address=sid, node_status=status, version=version,
                    meta=meta)
    return ServerState(server, role, ServerStats(), ServerHealth(healthy, NOW - stable_for))


def state(*servers, built_at=NOW):
    by_id = {s.id: s for s in servers}
    leader = next((s.id for s in servers if s.state == RAFT_LEADER), "")
    voters = tuple(s.id for s in servers if s.has_voting_rights)
    return State(servers=by_id, leader=leader, voters=voters, first_state_time=NOW - 600 * SECOND,
                 built_at=built_at)


def zones6(**roles):
    """Three zones a, b, c with servers a1 a2 b1 b2 c1 c2; a1 leads, x1 votes, x2 stands by."""
    spec = {"a1": RAFT_LEADER, "a2": RAFT_NONVOTER, "b1": RAFT_VOTER, "b2": RAFT_NONVOTER,
            "c1": RAFT_VOTER, "c2": RAFT_NONVOTER}
    health = {}
    for sid, value in roles.items():
        if isinstance(value, tuple):
            spec[sid], health[sid] = value
        elif isinstance(value, bool):
            health[sid] = value
        else:
            spec[sid] = value
    return state(*(srv(sid, role, zone=sid[0], healthy=health.get(sid, True))
                   for sid, role in spec.items()))


# --- versions ------------------------------------------------------------------------------


def test_version_ordering_semver_partial_prerelease_build():
    assert version_key("3") == version_key("3.0") == version_key("3.0.0")
    assert version_key("1.7.5+ent") == version_key("1.7.5")
    assert version_key("10") > version_key("9.9.9")
    assert version_key("1.8.0-beta.1") < version_key("1.8.0")
    assert version_key("1.8.0-beta.2") < version_key("1.8.0-beta.10")
    assert version_key("1.8.0-1") < version_key("1.8.0-alpha")
    assert version_key("garbage") < version_key("0.0.1")
    assert is_valid("3.1") and not is_valid("3.x")


# --- redundancy zones ------------------------------------------------------------------------


def test_zones_bootstrapped_voters_become_standbys():
    st = state(*(srv(sid, RAFT_LEADER if sid == "a1" else RAFT_VOTER, zone=sid[0])
                 for sid in ("a1", "a2", "b1", "b2", "c1", "c2")))
    p = plan(ZONES, st, NOW)
    assert p.changes.promotions == ()
    assert set(p.changes.demotions) == {"a2", "b2", "c2"}
    assert "one voter per zone" in p.changes.reasons["b2"]
    assert p.node_types["a1"] == NODE_TYPE_ZONE_VOTER
    assert p.node_types["b2"] == NODE_TYPE_ZONE_STANDBY
    assert p.status == UPGRADE_IDLE


def test_zones_steady_state_changes_nothing():
    p = plan(ZONES, zones6(), NOW)
    assert (p.changes.promotions, p.changes.demotions, p.changes.leader) == ((), (), "")
    assert "hot standby" in p.changes.held["a2"]


def test_zone_voter_fails_standby_of_same_zone_promoted_then_old_voter_demoted():
    p = plan(ZONES, zones6(b1=False), NOW)
    assert p.changes.promotions == ("b2",)
    assert "redundancy zone b" in p.changes.reasons["b2"]
    # Next round: b2 votes and is healthy, the failed b1 no longer counts for the zone.
    p = plan(ZONES, zones6(b1=False, b2=RAFT_VOTER), NOW)
    assert p.changes.promotions == ()
    assert p.changes.demotions == ("b1",)
    assert "unhealthy" in p.changes.reasons["b1"]


def test_zone_standby_must_be_stable_first():
    st = zones6(b1=False)
    young = srv("b2", RAFT_NONVOTER, zone="b", stable_for=3 * SECOND)
    st = state(*(young if s.id == "b2" else s for s in st.servers.values()))
    p = plan(ZONES, st, NOW)
    assert p.changes.promotions == ()
    assert "not promoted yet" in p.changes.held["b2"]
    assert p.changes.demotions == ()  # the failed voter stays until its replacement votes


def test_whole_zone_lost_extra_voter_then_recovery_demotes_it():
    # Zone c is lost: both of its servers are unhealthy.
    lost = zones6(c1=False, c2=False)
    p = plan(ZONES, lost, NOW)
    assert p.lost_zones == ("c",)
    assert p.changes.promotions == ("a2",)  # zones a and b tie on standbys: a by name
    assert "zone-extra-voter" in p.changes.reasons["a2"]
    assert p.changes.demotions == ()
    # The extra voter votes: the lost zone's dead voter is demoted.
    covered = zones6(a2=RAFT_VOTER, c1=False, c2=False)
    p = plan(ZONES, covered, NOW)
    assert p.node_types["a2"] == NODE_TYPE_ZONE_EXTRA_VOTER
    assert p.changes.promotions == ()
    assert p.changes.demotions == ("c1",)
    # While lost, the zone's dead servers are not pruned (the zone would vanish).
    failed = FailedServers(failed_voters=(lost.servers["c1"].server,),
                           failed_non_voters=(lost.servers["c2"].server, lost.servers["b2"].server))
    kept = ENTERPRISE_PROMOTER.filter_failed_server_removals(ZONES, covered, failed)
    assert kept.failed_voters == () and [s.id for s in kept.failed_non_voters] == ["b2"]
    # The zone comes back as non-voters: its best server is promoted, the extra voter stays.
    back = zones6(a2=RAFT_VOTER, c1=RAFT_NONVOTER)
    p = plan(ZONES, back, NOW)
    assert p.changes.promotions == ("c1",)
    assert p.changes.demotions == ()
    # Zone c votes again: the zone-extra-voter is demoted.
    p = plan(ZONES, zones6(a2=RAFT_VOTER), NOW)
    assert p.changes.promotions == ()
    assert p.changes.demotions == ("a2",)
    assert "no zone needs an extra voter" in p.changes.reasons["a2"]
    assert ENTERPRISE_PROMOTER.filter_failed_server_removals(ZONES, zones6(), failed) is failed


def test_zone_rules_never_demote_the_leader():
    st = state(srv("a1", RAFT_VOTER, zone="a"), srv("a2", RAFT_LEADER, zone="a"),
               srv("b1", RAFT_VOTER, zone="b"))
    p = plan(ZONES, st, NOW)
    assert p.changes.demotions == ("a1",)


def test_zoneless_servers_follow_the_stable_rule():
    st = state(srv("a1", RAFT_LEADER, zone="a"), srv("x", RAFT_NONVOTER),
               srv("y", RAFT_NONVOTER, stable_for=SECOND))
    p = plan(ZONES, st, NOW)
    assert p.changes.promotions == ("x",)
    assert "< ServerStabilizationTime" in p.changes.held["y"]


# --- read replicas ---------------------------------------------------------------------------


def test_read_replicas_never_promoted_and_never_vote():
    st = state(srv("n1", RAFT_LEADER), srv("n2"), srv("n3"),
               srv("r1", RAFT_NONVOTER, replica=True), srv("r2", RAFT_VOTER, replica=True))
    p = plan(PLAIN, st, NOW)
    assert p.changes.promotions == ()
    assert p.changes.demotions == ("r2",)
    assert "never promoted" in p.changes.held["r1"]
    assert set(p.read_replicas) == {"r1", "r2"}
    assert p.node_types["r1"] == NODE_TYPE_READ_REPLICA
    # Read replicas are no standbys: optimistic FT is that of the three voters (3 − 2).
    st = state(srv("n1", RAFT_LEADER), srv("n2"), srv("n3"), srv("r1", RAFT_NONVOTER, replica=True))
    assert plan(PLAIN, st, NOW).optimistic_failure_tolerance == 1


def test_optimistic_failure_tolerance_counts_healthy_standbys():
    # Two zones, two voters (FT 0), three healthy standbys: 2 + 3 - 2 = 3 (Vault's example).
    st = state(srv("a1", RAFT_LEADER, zone="a"), srv("a2", RAFT_NONVOTER, zone="a"),
               srv("a3", RAFT_NONVOTER, zone="a"), srv("b1", zone="b"),
               srv("b2", RAFT_NONVOTER, zone="b"))
    assert plan(ZONES, st, NOW).optimistic_failure_tolerance == 3


# --- upgrade migration -----------------------------------------------------------------------


def upgrade(*specs, config=PLAIN):
    """specs: (id, role, version[, healthy]) → plan."""
    servers = []
    for spec in specs:
        sid, role, version = spec[:3]
        healthy = spec[3] if len(spec) > 3 else True
        servers.append(srv(sid, role, version=version, healthy=healthy))
    return plan(config, state(*servers), NOW)


OLD3 = [("o1", RAFT_LEADER, OLD), ("o2", RAFT_VOTER, OLD), ("o3", RAFT_VOTER, OLD)]


def test_upgrade_idle_when_one_version():
    assert upgrade(*OLD3).status == UPGRADE_IDLE


def test_upgrade_disabled():
    p = upgrade(*OLD3, ("n1", RAFT_NONVOTER, NEW), config=AutopilotConfig(disable_upgrade_migration=True))
    assert p.status == UPGRADE_DISABLED
    assert p.changes.promotions == ("n1",)  # promoted like the StablePromoter would


def test_upgrade_await_new_servers_holds_new_non_voters():
    p = upgrade(*OLD3, ("n1", RAFT_NONVOTER, NEW), ("n2", RAFT_NONVOTER, NEW))
    assert p.status == UPGRADE_AWAIT_NEW_SERVERS
    assert p.target_version == NEW
    assert p.changes.promotions == ()
    assert "waiting for 3 ready target-version servers, 2 ready now" in p.changes.held["n1"]


def test_upgrade_await_new_voters_when_new_servers_not_ready():
    p = upgrade(*OLD3, ("n1", RAFT_NONVOTER, NEW), ("n2", RAFT_NONVOTER, NEW),
                ("n3", RAFT_NONVOTER, NEW, False))
    assert p.status == UPGRADE_AWAIT_NEW_VOTERS
    assert p.changes.promotions == () and p.changes.demotions == ()


def test_upgrade_promoting_then_demoting_then_leader_transfer_then_removal():
    new_nv = [("n1", RAFT_NONVOTER, NEW), ("n2", RAFT_NONVOTER, NEW), ("n3", RAFT_NONVOTER, NEW)]
    p = upgrade(*OLD3, *new_nv)
    assert p.status == UPGRADE_PROMOTING
    assert p.changes.promotions == ("n1", "n2", "n3")
    assert "upgrade migration to 1.12.0" in p.changes.reasons["n1"]

    new_v = [("n1", RAFT_VOTER, NEW), ("n2", RAFT_VOTER, NEW), ("n3", RAFT_VOTER, NEW)]
    p = upgrade(*OLD3, *new_v)
    assert p.status == UPGRADE_DEMOTING
    assert p.changes.demotions == ("o2", "o3")  # never the leader
    assert "runs older version 1.11.0" in p.changes.reasons["o2"]

    p = upgrade(("o1", RAFT_LEADER, OLD), ("o2", RAFT_NONVOTER, OLD), ("o3", RAFT_NONVOTER, OLD),
                *new_v)
    assert p.status == UPGRADE_LEADER_TRANSFER
    assert p.changes.leader == "n1"
    assert p.changes.demotions == () and p.changes.promotions == ()
    assert "the leader o1 runs older version" in p.changes.reasons["n1"]

    # n1 leads now; the former leader is an older follower voter: demoted.
    p = upgrade(("o1", RAFT_VOTER, OLD), ("o2", RAFT_NONVOTER, OLD), ("o3", RAFT_NONVOTER, OLD),
                ("n1", RAFT_LEADER, NEW), ("n2", RAFT_VOTER, NEW), ("n3", RAFT_VOTER, NEW))
    assert p.status == UPGRADE_DEMOTING
    assert p.changes.demotions == ("o1",)

    p = upgrade(("o1", RAFT_NONVOTER, OLD), ("o2", RAFT_NONVOTER, OLD), ("o3", RAFT_NONVOTER, OLD),
                ("n1", RAFT_LEADER, NEW), ("n2", RAFT_VOTER, NEW), ("n3", RAFT_VOTER, NEW))
    assert p.status == UPGRADE_AWAIT_SERVER_REMOVAL
    assert p.changes.promotions == ()  # older servers are never promoted back
    assert "waiting for its removal" in p.changes.held["o1"]
    assert p.optimistic_failure_tolerance == 1  # the older non-voters are no standbys

    p = upgrade(("n1", RAFT_LEADER, NEW), ("n2", RAFT_VOTER, NEW), ("n3", RAFT_VOTER, NEW))
    assert p.status == UPGRADE_IDLE


def test_upgrade_holds_demotions_when_a_new_voter_turns_unhealthy():
    p = upgrade(*OLD3, ("n1", RAFT_VOTER, NEW), ("n2", RAFT_VOTER, NEW),
                ("n3", RAFT_VOTER, NEW, False))
    assert p.status == UPGRADE_AWAIT_NEW_VOTERS
    assert p.changes.demotions == ()


def test_upgrade_in_place_keeps_new_version_voters():
    p = upgrade(("o1", RAFT_LEADER, NEW), ("o2", RAFT_VOTER, OLD), ("o3", RAFT_VOTER, OLD))
    assert p.status == UPGRADE_AWAIT_NEW_SERVERS
    assert p.changes.demotions == () and p.changes.promotions == ()


def test_custom_upgrade_versions_replace_the_nomad_version():
    config = AutopilotConfig(enable_custom_upgrades=True)
    servers = [srv("o1", RAFT_LEADER, upgrade_version="9"), srv("o2", upgrade_version="9.0"),
               srv("n1", RAFT_NONVOTER, upgrade_version="10"),
               srv("n2", RAFT_NONVOTER, upgrade_version="10.0.0", version="1.0.0")]
    p = plan(config, state(*servers), NOW)
    assert p.target_version == "10"
    assert p.status == UPGRADE_PROMOTING
    # Without custom upgrades the Nomad versions decide: n2 runs an older Nomad.
    p = plan(PLAIN, state(*servers), NOW)
    assert p.target_version == OLD
    assert p.status == UPGRADE_AWAIT_SERVER_REMOVAL  # n2 is older and does not vote


def test_upgrade_with_zones_needs_a_new_server_in_every_zone_and_promotes_one_per_zone():
    servers = [srv("a1", RAFT_LEADER, zone="a"), srv("b1", zone="b"),
               srv("na", RAFT_NONVOTER, zone="a", version=NEW),
               srv("nb", RAFT_NONVOTER, zone="a", version=NEW)]
    p = plan(ZONES, state(*servers), NOW)
    assert p.status == UPGRADE_AWAIT_NEW_SERVERS  # zone b has no new-version server
    servers[3] = srv("nb", RAFT_NONVOTER, zone="b", version=NEW)
    p = plan(ZONES, state(*servers), NOW)
    assert p.status == UPGRADE_PROMOTING
    assert p.changes.promotions == ("na", "nb")


# --- wiring: reconcile, state build, report --------------------------------------------------


def test_reconcile_applies_enterprise_changes_in_v016_order():
    st = state(*(srv(sid, RAFT_LEADER if sid == "a1" else RAFT_VOTER, zone=sid[0])
                 for sid in ("a1", "a2", "b1")))
    result = reconcile(ZONES, st, NOW, ENTERPRISE_PROMOTER)
    assert [(a.op, a.id) for a in result.actions] == [(OP_DEMOTE_VOTER, "a2")]
    # A promotion in the same round stops the demotions.
    st = state(srv("a1", RAFT_LEADER, zone="a"), srv("a2", zone="a"), srv("b1", zone="b", healthy=False),
               srv("b2", RAFT_NONVOTER, zone="b"))
    result = reconcile(ZONES, st, NOW, ENTERPRISE_PROMOTER)
    assert [(a.op, a.id) for a in result.actions] == [(OP_ADD_VOTER, "b2")]
    # Leader transfer once nothing else is left.
    st = state(srv("o1", RAFT_LEADER), *(srv(f"n{i}", version=NEW) for i in (1, 2)),
               srv("o2", RAFT_NONVOTER))
    result = reconcile(PLAIN, st, NOW, ENTERPRISE_PROMOTER)
    assert [(a.op, a.id) for a in result.actions] == [(OP_LEADERSHIP_TRANSFER, "n1")]


def test_enterprise_report_shape():
    st = state(srv("a1", RAFT_LEADER, zone="a"), srv("a2", RAFT_NONVOTER, zone="a", version=NEW),
               srv("b1", zone="b"), srv("b2", RAFT_NONVOTER, zone="b", healthy=False),
               srv("r1", RAFT_NONVOTER, replica=True, version=NEW))
    ext = ENTERPRISE_PROMOTER.get_state_ext(ZONES, st)
    body = health_body(State(**{**{f: getattr(st, f) for f in st.__slots__}, "ext": ext}),
                       enterprise=True)
    assert tuple(body) == HEALTH_KEYS + ENTERPRISE_KEYS
    assert body["ReadReplicas"] == ["r1"]
    assert body["RedundancyZones"] == {
        "a": {"Servers": ["a1", "a2"], "Voters": ["a1"], "FailureTolerance": 1},
        "b": {"Servers": ["b1", "b2"], "Voters": ["b1"], "FailureTolerance": 0},
    }
    assert body["OptimisticFailureTolerance"] == 0  # a2 waits for the migration: 2 − quorum 2
    upgrade_ = body["Upgrade"]
    assert upgrade_["Status"] == UPGRADE_AWAIT_NEW_SERVERS
    assert upgrade_["TargetVersion"] == NEW
    assert upgrade_["TargetVersionVoters"] is None
    assert upgrade_["TargetVersionNonVoters"] == ["a2"]
    assert upgrade_["TargetVersionReadReplicas"] == ["r1"]
    assert upgrade_["OtherVersionVoters"] == ["a1", "b1"]
    assert upgrade_["OtherVersionNonVoters"] == ["b2"]
    assert upgrade_["OtherVersionReadReplicas"] is None
    assert upgrade_["RedundancyZones"] == {
        "a": {"TargetVersionVoters": None, "TargetVersionNonVoters": ["a2"],
              "OtherVersionVoters": ["a1"], "OtherVersionNonVoters": None},
        "b": {"TargetVersionVoters": None, "TargetVersionNonVoters": None,
              "OtherVersionVoters": ["b1"], "OtherVersionNonVoters": ["b2"]},
    }
    # Zones off: no zone maps at all.
    body = ENTERPRISE_PROMOTER.get_state_ext(PLAIN, st)
    assert body.redundancy_zones == {} and body.upgrade["RedundancyZones"] == {}


def test_build_state_with_enterprise_promoter_sets_ext_and_node_types():
    from autopilot_sim.autopilot.model import RaftServer
    from autopilot_sim.autopilot.state import TickInputs, build_state

    known = {sid: srv(sid, zone=z).server for sid, z in (("a1", "a"), ("a2", "a"), ("b1", "b"))}
    inputs = TickInputs(now=NOW, config=ZONES,
                        raft_servers=[RaftServer(s, s) for s in known], known_servers=known,
                        latest_index=10, last_term=2, leader_id="a1",
                        fetched_stats={s: ServerStats(0, 2, 10) for s in known})
    st = build_state(inputs, promoter=ENTERPRISE_PROMOTER)
    assert st.built_at == NOW
    assert st.ext.upgrade["Status"] == UPGRADE_IDLE
    assert st.servers["a1"].server.node_type == NODE_TYPE_ZONE_VOTER
    assert st.servers["a2"].server.node_type == NODE_TYPE_ZONE_STANDBY


@pytest.mark.parametrize("built_at", [None])
def test_state_without_time_judges_nothing_stable(built_at):
    st = state(srv("n1", RAFT_LEADER), srv("n2", RAFT_NONVOTER), built_at=built_at)
    assert plan(PLAIN, st, built_at).changes.promotions == ()


def test_failed_status_is_unhealthy_input():
    # A failed (serf) standby is simply not healthy: never promoted.
    st = zones6(b1=False)
    st = state(*(srv("b2", RAFT_NONVOTER, zone="b", healthy=False, status=NODE_FAILED)
                 if s.id == "b2" else s for s in st.servers.values()))
    assert plan(ZONES, st, NOW).lost_zones == ("b",)


def test_standby_with_stale_stats_is_not_promoted():
    # A crashed standby keeps its last stats and looks healthy until Serf says failed:
    # promoting it would add a dead voter. It must have answered the last fetch.
    st = zones6(b1=False)
    stale = ServerState(st.servers["b2"].server, RAFT_NONVOTER, ServerStats(),
                        st.servers["b2"].health, fetched=False)
    st = state(*(stale if s.id == "b2" else s for s in st.servers.values()))
    p = plan(ZONES, st, NOW)
    assert p.changes.promotions == ()
    assert "could not be fetched" in p.changes.held["b2"]


def test_build_state_marks_servers_whose_stats_were_not_fetched():
    from autopilot_sim.autopilot.model import RaftServer
    from autopilot_sim.autopilot.state import TickInputs, build_state

    known = {sid: srv(sid).server for sid in ("n1", "n2")}
    inputs = TickInputs(now=NOW, config=PLAIN, raft_servers=[RaftServer(s, s) for s in known],
                        known_servers=known, latest_index=10, last_term=2, leader_id="n1",
                        fetched_stats={"n1": ServerStats(0, 2, 10)})
    st = build_state(inputs)
    assert st.servers["n1"].fetched and not st.servers["n2"].fetched
