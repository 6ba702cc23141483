"""Promoters decide which servers should vote; the StablePromoter is what Nomad CE runs.

A promoter is consulted in two places (raft-autopilot's `Promoter` interface, facts only):
while the state is built (`get_node_types`, `get_server_ext`, `get_state_ext`) and at each
reconcile tick (`calculate_promotions_and_demotions`, `filter_failed_server_removals`).
An enterprise promoter (redundancy zones, upgrade migration) can implement the same protocol
and slot in beside `StablePromoter`.

`StablePromoter` (docs/behaviour/autopilot.md §6): every server's NodeType is "voter"; every
server whose Raft state is exactly non-voter (staging is ignored) and which is stable is
proposed for promotion; it never demotes and never asks for a leader transfer. "Stable" means
healthy for at least the ServerStabilizationTime, a requirement waived during the first
ServerStabilizationTime after autopilot produced its first state on this leader.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from autopilot_sim.autopilot.model import (
    NODE_TYPE_VOTER,
    RAFT_NONVOTER,
    RAFT_STAGING,
    ServerState,
    State,
)
from autopilot_sim.durations import format_duration

if TYPE_CHECKING:  # pragma: no cover
    from autopilot_sim.autopilot.config import AutopilotConfig


@dataclass(frozen=True, slots=True)
class RaftChanges:
    """What a promoter asks for at one reconcile tick (upstream `RaftChanges`).

    `reasons` explains, per promoted/demoted ID, why (for the event log). `held` names
    servers the promoter considered and deliberately left alone, with a human reason.
    """

    promotions: tuple[str, ...] = ()
    demotions: tuple[str, ...] = ()
    leader: str = ""
    reasons: Mapping[str, str] = field(default_factory=dict)
    held: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FailedServers:
    """Dead-server candidates found by pruning (upstream `FailedServers`), each sorted by ID.

    Stale = in the Raft configuration but unknown to the application; failed = known to the
    application with a NodeStatus other than alive. Voter/non-voter is by Raft suffrage.
    """

    stale_non_voters: tuple[str, ...] = ()
    stale_voters: tuple[str, ...] = ()
    failed_non_voters: tuple[Any, ...] = ()  # Server records
    failed_voters: tuple[Any, ...] = ()  # Server records


class Promoter(Protocol):
    """The promoter interface (mirrors upstream's, with `now` passed in explicitly)."""

    def get_server_ext(self, config: AutopilotConfig, server: ServerState) -> Any:
        """Promoter data for one server's `Server.ext`, or None to leave it unchanged."""

    def get_state_ext(self, config: AutopilotConfig, state: State) -> Any:
        """Promoter data for `State.ext`, or None to leave it unset."""

    def get_node_types(self, config: AutopilotConfig, state: State) -> Mapping[str, str]:
        """NodeType per server ID."""

    def calculate_promotions_and_demotions(
        self, config: AutopilotConfig, state: State, now: int
    ) -> RaftChanges:
        """The Raft changes wanted at `now`."""

    def filter_failed_server_removals(
        self, config: AutopilotConfig, state: State, failed: FailedServers
    ) -> FailedServers:
        """The subset of dead servers the promoter allows to be removed."""


class StablePromoter:
    """Nomad CE's promoter: promote stable non-voters, nothing else."""

    __slots__ = ()

    def get_server_ext(self, config: AutopilotConfig, server: ServerState) -> Any:
        return None

    def get_state_ext(self, config: AutopilotConfig, state: State) -> Any:
        return None

    def get_node_types(self, config: AutopilotConfig, state: State) -> Mapping[str, str]:
        # Every server is a would-be voter; in a healthy cluster all end up voting.
        return dict.fromkeys(state.servers, NODE_TYPE_VOTER)

    def filter_failed_server_removals(
        self, config: AutopilotConfig, state: State, failed: FailedServers
    ) -> FailedServers:
        return failed

    def calculate_promotions_and_demotions(
        self, config: AutopilotConfig, state: State, now: int
    ) -> RaftChanges:
        sst = config.server_stabilization_time
        min_stable = state.server_stabilization_time(sst, now)
        waived = min_stable != sst
        promotions: list[str] = []
        reasons: dict[str, str] = {}
        held: dict[str, str] = {}
        for sid, srv in state.servers.items():
            if srv.state == RAFT_STAGING:
                held[sid] = "not promoted: staging servers are left alone by the StablePromoter"
                continue
            if srv.state != RAFT_NONVOTER:
                continue
            stable_for = now - srv.health.stable_since
            if not srv.health.healthy:
                held[sid] = "not promoted: unhealthy"
            elif srv.health.is_stable(now, min_stable):
                promotions.append(sid)
                reasons[sid] = _promotion_reason(stable_for, sst, waived)
            else:
                held[sid] = (
                    f"not promoted: healthy and stable for {format_duration(stable_for)} "
                    f"< ServerStabilizationTime {format_duration(sst)}"
                )
        return RaftChanges(promotions=tuple(promotions), reasons=reasons, held=held)


def _promotion_reason(stable_for: int, sst: int, waived: bool) -> str:
    if waived:
        return (
            f"promoted: healthy and stable for {format_duration(stable_for)}; "
            f"ServerStabilizationTime {format_duration(sst)} waived during the first "
            f"{format_duration(sst)} after autopilot started"
        )
    return (
        f"promoted: healthy and stable for {format_duration(stable_for)} "
        f"≥ ServerStabilizationTime {format_duration(sst)}"
    )


DEFAULT_PROMOTER: Promoter = StablePromoter()
"""The promoter Nomad CE uses (`nomad/autopilot_ce.go`)."""
