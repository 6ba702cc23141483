"""Reconcile and dead-server pruning, v0.1.6 (docs/behaviour/autopilot.md §7, §8, §12.4–12.6)."""

from __future__ import annotations

import pytest

from autopilot_sim.autopilot.add_server import (
    UNSAFE_REMOVAL_ERROR,
    AddServerError,
    plan_add_server,
)
from autopilot_sim.autopilot.config import AutopilotConfig
from autopilot_sim.autopilot.model import (
    NODE_ALIVE,
    NODE_FAILED,
    NODE_LEFT,
    RAFT_LEADER,
    RAFT_NONVOTER,
    RAFT_VOTER,
    RaftServer,
    Server,
    ServerHealth,
    ServerState,
    ServerStats,
    State,
)
from autopilot_sim.autopilot.promoter import RaftChanges
from autopilot_sim.autopilot.reconcile import (
    Action,
    apply_changes,
    apply_to_raft_servers,
    find_failed_servers,
    prune_dead_servers,
    reconcile,
    reconcile_tick,
)
from autopilot_sim.durations import SECOND

NOW = 1_700_000_000 * SECOND


def ops(result):
    return [(a.op, a.id) for a in result.actions]


# --- §12.4 TestReconcile -----------------------------------------------------------------------


def _state(leader, *entries):
    servers = {
        sid: ServerState(
            Server(sid, name=f"node{sid}", address=f"198.18.0.{sid}:4647"),
            role,
            ServerStats(),
            ServerHealth(healthy, NOW),
        )
        for sid, role, healthy in entries
    }
    return State(servers=servers, leader=leader)


def test_promote_one_filter_others_and_skip_demotions():
    state = _state(
        "1",
        ("1", RAFT_LEADER, True), ("2", RAFT_VOTER, True), ("3", RAFT_NONVOTER, True),
        ("4", RAFT_NONVOTER, False), ("5", RAFT_VOTER, True),
    )
    result = apply_changes(state, RaftChanges(promotions=("1", "2", "3", "4"), demotions=("5",)))
    assert ops(result) == [("AddVoter", "3")]
    assert result.actions[0].address == "198.18.0.3:4647"
    refused = {(r.op, r.id): r.reason for r in result.refusals}
    assert refused[("AddVoter", "4")] == "not promoted: unhealthy"
    assert refused[("DemoteVoter", "5")] == "not demoted: promotions happened this round"


def test_demotions_then_no_leader_transfer():
    state = _state(
        "1",
        ("1", RAFT_LEADER, True), ("2", RAFT_VOTER, True), ("3", RAFT_VOTER, True),
        ("4", RAFT_VOTER, True), ("5", RAFT_NONVOTER, True),
    )
    result = apply_changes(state, RaftChanges(promotions=("1",), demotions=("5", "4"), leader="3"))
    assert ops(result) == [("DemoteVoter", "4")]
    assert [(r.op, r.id) for r in result.refusals] == [("LeadershipTransfer", "3")]


def test_leader_transfer_to_current_leader_is_nothing():
    state = _state("1", ("1", RAFT_LEADER, True), ("2", RAFT_VOTER, True), ("5", RAFT_NONVOTER, True))
    result = apply_changes(state, RaftChanges(demotions=("5",), leader="1"))
    assert ops(result) == [] and result.error == ""


def test_leader_transfer_when_demotions_were_no_ops():
    state = _state("1", ("1", RAFT_LEADER, True), ("2", RAFT_VOTER, True), ("5", RAFT_NONVOTER, True))
    result = apply_changes(state, RaftChanges(demotions=("5",), leader="2"))
    assert ops(result) == [("LeadershipTransfer", "2")]
    assert result.actions[0].address == "198.18.0.2:4647"


def test_leader_transfer_to_unknown_server_is_an_error():
    state = _state("1", ("1", RAFT_LEADER, True))
    result = apply_changes(state, RaftChanges(leader="9"))
    assert ops(result) == []
    assert "unknown server with ID 9" in result.error


def test_odd_voters_v016_promotes_and_does_not_demote_first():
    # Upstream's vector is v0.3.0+ (demote one unhealthy voter first). v0.1.6, which Nomad
    # runs, applies the promotion and stops.
    state = _state(
        "1",
        ("1", RAFT_LEADER, True), ("2", RAFT_VOTER, False), ("3", RAFT_VOTER, False),
        ("4", RAFT_VOTER, True), ("5", RAFT_NONVOTER, True),
    )
    result = apply_changes(state, RaftChanges(promotions=("5",), demotions=("4", "2", "3")))
    assert ops(result) == [("AddVoter", "5")]


def test_even_voters_both_promoted_nothing_demoted():
    state = _state(
        "1",
        ("1", RAFT_LEADER, True), ("2", RAFT_VOTER, True), ("3", RAFT_VOTER, False),
        ("4", RAFT_VOTER, False), ("5", RAFT_NONVOTER, True), ("6", RAFT_NONVOTER, True),
    )
    result = apply_changes(state, RaftChanges(promotions=("5", "6"), demotions=("3", "4")))
    assert ops(result) == [("AddVoter", "5"), ("AddVoter", "6")]


def test_even_voters_no_promotions_all_demoted():
    state = _state(
        "1",
        ("1", RAFT_LEADER, True), ("2", RAFT_VOTER, True), ("3", RAFT_VOTER, False),
        ("4", RAFT_VOTER, False), ("5", RAFT_VOTER, True), ("6", RAFT_VOTER, True),
    )
    result = apply_changes(state, RaftChanges(demotions=("3", "4", "5")))
    assert ops(result) == [("DemoteVoter", "3"), ("DemoteVoter", "4"), ("DemoteVoter", "5")]


def test_reconcile_without_leader_does_nothing():
    state = _state("", ("1", RAFT_VOTER, True), ("2", RAFT_NONVOTER, True))
    result = reconcile(AutopilotConfig(), state, NOW)
    assert ops(result) == [] and "no leader" in result.error
    assert reconcile(AutopilotConfig(), None, NOW).error


def test_reconcile_with_stable_promoter_reports_reasons():
    state = State(
        servers={
            "1": ServerState(Server("1"), RAFT_LEADER, ServerStats(), ServerHealth(True, NOW - 60 * SECOND)),
            "2": ServerState(Server("2", address="a:1"), RAFT_NONVOTER, ServerStats(),
                             ServerHealth(True, NOW - 12 * SECOND)),
        },
        leader="1",
        first_state_time=NOW - 60 * SECOND,
    )
    result = reconcile(AutopilotConfig(), state, NOW)
    assert result.actions == (
        Action(
            "AddVoter", "2", "promoted: healthy and stable for 12s ≥ ServerStabilizationTime 10s", "a:1", ""
        ),
    )


# --- §12.5 TestPruneDeadServers (v0.1.6 results) ---------------------------------------------

N1, N2, N7 = "51b2d56e", "51fb4248", "a227f9a9"
N3, N4, N5, N6 = "3857f1d4", "db877f23", "0aacc844", "8830c599"


def _raft(*entries):
    return tuple(RaftServer(sid, f"198.18.0.{k}:8300", suf) for k, (sid, suf) in enumerate(entries, 1))


def _known(**status_by_id):
    return {
        sid: Server(sid, name=f"node-{sid}", address="x", node_status=st)
        for sid, st in status_by_id.items()
    }


ONE_OF_EACH_RAFT = _raft((N1, 0), (N2, 0), (N7, 0), (N3, 0), (N4, 1), (N5, 0), (N6, 1))


def test_prune_one_of_each():
    known = _known(**{N1: NODE_ALIVE, N2: NODE_ALIVE, N7: NODE_ALIVE, N3: NODE_FAILED, N6: NODE_FAILED})
    result = prune_dead_servers(AutopilotConfig(min_quorum=3), None, ONE_OF_EACH_RAFT, known)
    # v0.1.6 order: failed non-voters, stale non-voters, stale voters, failed voters.
    assert ops(result) == [
        ("RemoveFailedServer", N6),
        ("RemoveServer", N4),
        ("RemoveServer", N5),
        ("RemoveFailedServer", N3),
    ]
    assert result.refusals == ()
    assert result.actions[0].name == f"node-{N6}"


def test_prune_quorum_instability_prevention():
    known = _known(**{N1: NODE_ALIVE, N2: NODE_FAILED, N7: NODE_ALIVE, N3: NODE_FAILED, N6: NODE_FAILED})
    result = prune_dead_servers(AutopilotConfig(min_quorum=3), None, ONE_OF_EACH_RAFT, known)
    assert ops(result) == [
        ("RemoveFailedServer", N6),
        ("RemoveServer", N4),
        ("RemoveServer", N5),
        ("RemoveFailedServer", N3),  # first failed voter in ID order ("3857..." < "51fb...")
    ]
    assert [(r.op, r.id, r.reason) for r in result.refusals] == [
        ("RemoveFailedServer", N2, "not removed: MinQuorum 3 would be violated (only 2 voters would remain)"),
    ]


def test_prune_min_quorum_with_3_v016_removes_failed_non_voter():
    raft = _raft(("a1", 0), ("a2", 0), ("a3", 1))
    known = _known(a1=NODE_ALIVE, a2=NODE_ALIVE, a3=NODE_FAILED)
    result = prune_dead_servers(AutopilotConfig(min_quorum=3), None, raft, known)
    assert ops(result) == [("RemoveFailedServer", "a3")]  # master would keep it; v0.1.6 does not


def test_prune_min_quorum_with_2():
    raft = _raft(("a1", 0), ("a2", 0))
    known = _known(a1=NODE_ALIVE, a2=NODE_FAILED)
    result = prune_dead_servers(AutopilotConfig(min_quorum=3), None, raft, known)
    assert ops(result) == []
    assert [r.reason for r in result.refusals] == [
        "not removed: MinQuorum 3 would be violated (only 1 voters would remain)"
    ]
    no_min = prune_dead_servers(AutopilotConfig(min_quorum=0), None, raft, known)
    assert ops(no_min) == []
    assert [r.reason for r in no_min.refusals] == ["not removed: removal budget (voters−1)/2 = 0 used up"]


@pytest.mark.parametrize("min_quorum,expected", [
    (3, [("RemoveServer", "s4")]),
    (0, [("RemoveServer", "s4"), ("RemoveServer", "s3")]),  # v0.1.6: voters 3 -> budget 1
])
def test_prune_stale_non_voters(min_quorum, expected):
    raft = _raft(("s1", 0), ("s2", 0), ("s3", 0), ("s4", 1))
    known = _known(s1=NODE_ALIVE, s2=NODE_ALIVE)
    result = prune_dead_servers(AutopilotConfig(min_quorum=min_quorum), None, raft, known)
    assert ops(result) == expected


def test_prune_budget_shared_by_stale_and_failed_voters():
    # 5 voters -> budget 2: one stale and one failed voter removed, the third refused.
    raft = _raft(("v1", 0), ("v2", 0), ("v3", 0), ("v4", 0), ("v5", 0))
    known = _known(v1=NODE_ALIVE, v2=NODE_ALIVE, v3=NODE_FAILED, v4=NODE_LEFT)
    result = prune_dead_servers(AutopilotConfig(), None, raft, known)
    assert ops(result) == [("RemoveServer", "v5"), ("RemoveFailedServer", "v3")]
    assert [(r.id, r.reason) for r in result.refusals] == [
        ("v4", "not removed: removal budget (voters−1)/2 = 2 used up"),
    ]


def test_prune_disabled_by_config():
    known = _known(**{N1: NODE_ALIVE, N3: NODE_FAILED})
    result = prune_dead_servers(AutopilotConfig(cleanup_dead_servers=False), None, ONE_OF_EACH_RAFT, known)
    assert result.actions == () and result.refusals == ()


def test_find_failed_servers_classification():
    raft = _raft(("a", 0), ("b", 1), ("c", 2), ("d", 0), ("e", 2))
    known = _known(a=NODE_ALIVE, b=NODE_LEFT, c="unknown", z=NODE_FAILED)  # z not in Raft: ignored
    failed, voters = find_failed_servers(raft, known)
    assert voters == 2
    assert failed.stale_voters == ("d",)
    assert failed.stale_non_voters == ("e",)  # staging counts as a non-voter
    assert [s.id for s in failed.failed_non_voters] == ["b", "c"]
    assert failed.failed_voters == ()


# --- a whole tick -------------------------------------------------------------------------------


def test_tick_prune_sees_promoted_voter():
    # 2 voters (one failed) + 1 stable non-voter. Alone, the budget (2-1) div 2 = 0 keeps the
    # failed voter; after the promotion in the same tick there are 3 voters, budget 1.
    raft = _raft(("l", 0), ("dead", 0), ("nv", 1))
    known = _known(l=NODE_ALIVE, dead=NODE_FAILED, nv=NODE_ALIVE)
    since = NOW - 60 * SECOND
    servers = {
        "l": ServerState(known["l"], RAFT_LEADER, ServerStats(), ServerHealth(True, since)),
        "dead": ServerState(known["dead"], RAFT_VOTER, ServerStats(), ServerHealth(False, since)),
        "nv": ServerState(known["nv"], RAFT_NONVOTER, ServerStats(), ServerHealth(True, since)),
    }
    state = State(servers=servers, leader="l", first_state_time=NOW - 120 * SECOND)
    result = reconcile_tick(AutopilotConfig(), state, raft, known, NOW)
    assert ops(result) == [("AddVoter", "nv"), ("RemoveFailedServer", "dead")]
    alone = prune_dead_servers(AutopilotConfig(), state, raft, known)
    assert ops(alone) == []
    assert [r.reason for r in alone.refusals] == ["not removed: removal budget (voters−1)/2 = 0 used up"]


def test_apply_to_raft_servers():
    raft = _raft(("a", 0), ("b", 1), ("c", 0))
    out = apply_to_raft_servers(raft, [
        Action("AddVoter", "b"), Action("DemoteVoter", "c"), Action("RemoveServer", "a"),
        Action("AddNonvoter", "d", address="d:1"), Action("RemoveFailedServer", "b"),
    ])
    assert [(r.id, r.suffrage) for r in out] == [("b", 0), ("c", 1), ("d", 1)]


# --- §12.6 library AddServer ------------------------------------------------------------------

THREE = (RaftServer("e72eb8da", "198.18.0.3:8300", 0), RaftServer("ecfc5237", "198.18.0.2:8300", 0),
         RaftServer("7875975d", "198.18.0.1:8300", 0))


def test_add_server_existing_no_change():
    plan = plan_add_server(THREE, "e72eb8da", "198.18.0.3:8300")
    assert plan.actions == () and plan.trigger_prune is False


def test_add_server_new():
    plan = plan_add_server(THREE, "5e816fb6", "198.18.0.4:8300")
    assert ops(plan) == [("AddNonvoter", "5e816fb6")] and plan.trigger_prune is True


def test_add_server_existing_address_change():
    plan = plan_add_server(THREE, "ecfc5237", "198.18.0.4:8300")
    assert ops(plan) == [("AddVoter", "ecfc5237")] and plan.actions[0].address == "198.18.0.4:8300"


def test_add_server_existing_id_change():
    plan = plan_add_server(THREE, "95e2f84d", "198.18.0.2:8300")
    assert ops(plan) == [("RemoveServer", "ecfc5237"), ("AddNonvoter", "95e2f84d")]


def test_add_server_unsafe_removal():
    two = (RaftServer("36ced65e", "198.18.0.1:8300", 0), RaftServer("e0c54c7c", "198.18.0.2:8300", 0))
    with pytest.raises(AddServerError, match=UNSAFE_REMOVAL_ERROR):
        plan_add_server(two, "c3195ec1", "198.18.0.2:8300")


def test_add_server_safe_non_voter_removal():
    two = (RaftServer("36ced65e", "198.18.0.1:8300", 0), RaftServer("e0c54c7c", "198.18.0.2:8300", 1))
    plan = plan_add_server(two, "c3195ec1", "198.18.0.2:8300")
    assert ops(plan) == [("RemoveServer", "e0c54c7c"), ("AddNonvoter", "c3195ec1")]
