"""StablePromoter (docs/behaviour/autopilot.md §6, §12.2 stable_promoter_test)."""

from __future__ import annotations

from autopilot_sim.autopilot.config import AutopilotConfig
from autopilot_sim.autopilot.model import (
    RAFT_LEADER,
    RAFT_NONVOTER,
    RAFT_STAGING,
    RAFT_VOTER,
    Server,
    ServerHealth,
    ServerState,
    ServerStats,
    State,
)
from autopilot_sim.autopilot.promoter import FailedServers, StablePromoter
from autopilot_sim.durations import MILLISECOND, SECOND

NOW = 1_700_000_000 * SECOND
CONFIG = AutopilotConfig(server_stabilization_time=10 * SECOND)


def _state(first_state_time, *servers):
    return State(servers={s.id: s for s in servers}, leader="leader", first_state_time=first_state_time)


def _srv(sid, role, healthy, stable_for):
    return ServerState(Server(sid, name=sid), role, ServerStats(), ServerHealth(healthy, NOW - stable_for))


def test_stable_promoter_upstream_vectors():
    state = _state(
        NOW - 30 * SECOND,
        _srv("leader", RAFT_LEADER, True, 11 * SECOND),
        _srv("voter", RAFT_VOTER, True, 11 * SECOND),
        _srv("nv-stable", RAFT_NONVOTER, True, 11 * SECOND),
        _srv("nv-unhealthy", RAFT_NONVOTER, False, 11 * SECOND),
        _srv("staging", RAFT_STAGING, True, 11 * SECOND),
        _srv("nv-new", RAFT_NONVOTER, True, 2 * SECOND),
    )
    changes = StablePromoter().calculate_promotions_and_demotions(CONFIG, state, NOW)
    assert changes.promotions == ("nv-stable",)
    assert changes.demotions == ()
    assert changes.leader == ""
    assert changes.reasons["nv-stable"] == (
        "promoted: healthy and stable for 11s ≥ ServerStabilizationTime 10s"
    )
    assert changes.held == {
        "nv-unhealthy": "not promoted: unhealthy",
        "staging": "not promoted: staging servers are left alone by the StablePromoter",
        "nv-new": "not promoted: healthy and stable for 2s < ServerStabilizationTime 10s",
    }
    assert StablePromoter().get_node_types(CONFIG, state) == dict.fromkeys(state.servers, "voter")


def test_exactly_sst_is_stable():
    state = _state(NOW - 30 * SECOND, _srv("nv", RAFT_NONVOTER, True, 10 * SECOND))
    assert StablePromoter().calculate_promotions_and_demotions(CONFIG, state, NOW).promotions == ("nv",)


def test_waiver_during_first_sst_after_start():
    # Autopilot started 5s ago: stabilization is waived, a fresh healthy non-voter is promoted.
    state = _state(NOW - 5 * SECOND, _srv("nv", RAFT_NONVOTER, True, 0))
    changes = StablePromoter().calculate_promotions_and_demotions(CONFIG, state, NOW)
    assert changes.promotions == ("nv",)
    assert "waived" in changes.reasons["nv"]
    # The waiver never promotes an unhealthy server.
    sick = _state(NOW - 5 * SECOND, _srv("nv", RAFT_NONVOTER, False, 0))
    assert StablePromoter().calculate_promotions_and_demotions(CONFIG, sick, NOW).promotions == ()


def test_waiver_ends_strictly_after_sst():
    cfg = AutopilotConfig(server_stabilization_time=350 * MILLISECOND)
    fresh = _srv("nv", RAFT_NONVOTER, True, 0)
    at_sst = _state(NOW - 350 * MILLISECOND, fresh)
    after = _state(NOW - 351 * MILLISECOND, fresh)
    assert StablePromoter().calculate_promotions_and_demotions(cfg, at_sst, NOW).promotions == ("nv",)
    assert StablePromoter().calculate_promotions_and_demotions(cfg, after, NOW).promotions == ()


def test_filter_failed_removals_is_identity_and_exts_are_none():
    failed = FailedServers(stale_voters=("x",))
    p = StablePromoter()
    assert p.filter_failed_server_removals(CONFIG, State(), failed) is failed
    assert p.get_state_ext(CONFIG, State()) is None
    assert p.get_server_ext(CONFIG, _srv("a", RAFT_VOTER, True, 0)) is None
