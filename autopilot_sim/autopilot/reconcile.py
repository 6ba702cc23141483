"""One reconcile tick: promotions/demotions/leader transfer, then dead-server pruning.

Decides, never acts: the functions return the ordered operations autopilot would ask Raft or
the application for (`Action`s), the operations it deliberately did not ask for with the rule
that stopped them (`Refusal`s), and any error upstream would log. The simulator applies the
actions and logs the reasons.

Order and rules are raft-autopilot v0.1.6's, which Nomad runs (docs/behaviour/autopilot.md §7, §8.3):

* reconcile: apply every promotion the promoter asks for (skipping unknown, already-voting
  and unhealthy servers); if any happened, stop. Otherwise apply demotions (skipping unknown
  servers and non-voters); if any happened, stop. Otherwise transfer leadership if the promoter
  wants a different leader. Without a leader in the state nothing is reconciled.
* prune (only when CleanupDeadServers): failed non-voters, then stale non-voters (no limits),
  then stale voters, then failed voters, each class in ID order; voter removals share one
  budget of (voters − 1) div 2 and stop before leaving fewer than MinQuorum voters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from autopilot_sim.autopilot.config import AutopilotConfig
from autopilot_sim.autopilot.model import (
    NODE_ALIVE,
    RAFT_NONVOTER,
    SUFFRAGE_NONVOTER,
    SUFFRAGE_VOTER,
    RaftServer,
    Server,
    State,
)
from autopilot_sim.autopilot.promoter import (
    DEFAULT_PROMOTER,
    FailedServers,
    Promoter,
    RaftChanges,
)

OP_ADD_VOTER = "AddVoter"
OP_ADD_NONVOTER = "AddNonvoter"
OP_DEMOTE_VOTER = "DemoteVoter"
OP_REMOVE_SERVER = "RemoveServer"  # a stale Raft peer removed from the configuration directly
OP_REMOVE_FAILED_SERVER = "RemoveFailedServer"  # the application asked to remove (force-leave)
OP_LEADERSHIP_TRANSFER = "LeadershipTransfer"
OPS = (
    OP_ADD_VOTER,
    OP_ADD_NONVOTER,
    OP_DEMOTE_VOTER,
    OP_REMOVE_SERVER,
    OP_REMOVE_FAILED_SERVER,
    OP_LEADERSHIP_TRANSFER,
)


@dataclass(frozen=True, slots=True)
class Action:
    """One operation autopilot asks for.

    `address` is what Raft needs (AddVoter, LeadershipTransfer); `name` is what Nomad's
    RemoveFailedServer uses (the Serf member name it force-leaves).
    """

    op: str
    id: str
    reason: str = ""
    address: str = ""
    name: str = ""


@dataclass(frozen=True, slots=True)
class Refusal:
    """An operation autopilot considered and did not ask for, with the rule that stopped it."""

    id: str
    reason: str
    op: str = ""


@dataclass(frozen=True, slots=True)
class ReconcileResult:
    """The outcome of a reconcile and/or prune pass."""

    actions: tuple[Action, ...] = ()
    refusals: tuple[Refusal, ...] = ()
    error: str = ""

    def __add__(self, other: ReconcileResult) -> ReconcileResult:
        error = "; ".join(e for e in (self.error, other.error) if e)
        return ReconcileResult(self.actions + other.actions, self.refusals + other.refusals, error)


# --- promotions, demotions, leader transfer -----------------------------------------------------


def reconcile(
    config: AutopilotConfig,
    state: State | None,
    now: int,
    promoter: Promoter = DEFAULT_PROMOTER,
) -> ReconcileResult:
    """Ask the promoter what to change at `now` and apply v0.1.6's rules to its answer."""
    if state is None or not state.leader:
        return ReconcileResult(
            error="cannot reconcile Raft server voting rights without a valid autopilot state "
            "(no leader in the state)"
        )
    changes = promoter.calculate_promotions_and_demotions(config, state, now)
    return apply_changes(state, changes)


def apply_changes(state: State, changes: RaftChanges) -> ReconcileResult:
    """Turn a promoter's `RaftChanges` into operations, v0.1.6 order (see module docstring)."""
    actions: list[Action] = []
    refusals: list[Refusal] = [
        Refusal(sid, reason, OP_ADD_VOTER) for sid, reason in changes.held.items()
    ]

    for sid in changes.promotions:
        srv = state.servers.get(sid)
        if srv is None:
            refusals.append(Refusal(sid, "not promoted: not in the autopilot state", OP_ADD_VOTER))
        elif srv.has_voting_rights:
            continue  # already votes: nothing to do (promoters may list every server)
        elif not srv.health.healthy:
            refusals.append(Refusal(sid, "not promoted: unhealthy", OP_ADD_VOTER))
        else:
            reason = changes.reasons.get(sid, "promoted: requested by the promoter")
            actions.append(Action(OP_ADD_VOTER, sid, reason, srv.server.address, srv.server.name))
    if actions:
        # Promotions and demotions never happen in the same round (cluster stability).
        for sid in changes.demotions:
            srv = state.servers.get(sid)
            if srv is not None and srv.state != RAFT_NONVOTER:
                refusals.append(
                    Refusal(sid, "not demoted: promotions happened this round", OP_DEMOTE_VOTER)
                )
        _refuse_transfer(state, changes, "promotions happened this round", refusals)
        return ReconcileResult(tuple(actions), tuple(refusals))

    for sid in changes.demotions:
        srv = state.servers.get(sid)
        if srv is None:
            refusals.append(
                Refusal(sid, "not demoted: not in the autopilot state", OP_DEMOTE_VOTER)
            )
        elif srv.state == RAFT_NONVOTER:
            continue  # already a non-voter
        else:
            reason = changes.reasons.get(sid, "demoted: requested by the promoter")
            actions.append(
                Action(OP_DEMOTE_VOTER, sid, reason, srv.server.address, srv.server.name)
            )
    if actions:
        _refuse_transfer(state, changes, "demotions happened this round", refusals)
        return ReconcileResult(tuple(actions), tuple(refusals))

    if not changes.leader or changes.leader == state.leader:
        return ReconcileResult((), tuple(refusals))
    target = state.servers.get(changes.leader)
    if target is None:
        return ReconcileResult(
            (),
            tuple(refusals),
            f"cannot transfer leadership to an unknown server with ID {changes.leader}",
        )
    reason = changes.reasons.get(changes.leader, "leadership transfer requested by the promoter")
    action = Action(
        OP_LEADERSHIP_TRANSFER, changes.leader, reason, target.server.address, target.server.name
    )
    return ReconcileResult((action,), tuple(refusals))


def _refuse_transfer(
    state: State, changes: RaftChanges, why: str, refusals: list[Refusal]
) -> None:
    if changes.leader and changes.leader != state.leader:
        refusals.append(
            Refusal(changes.leader, f"no leadership transfer: {why}", OP_LEADERSHIP_TRANSFER)
        )


# --- dead-server pruning -----------------------------------------------------------------------


def find_failed_servers(
    raft_servers: Sequence[RaftServer], known_servers: Mapping[str, Server]
) -> tuple[FailedServers, int]:
    """Classify dead-server candidates (docs/behaviour/autopilot.md §8.2); also return the Raft
    voter count.

    Stale: in the Raft configuration, unknown to the application. Failed: known, in the Raft
    configuration, NodeStatus not alive (failed, left, unknown). Known servers outside the Raft
    configuration are ignored. Voter means Voter suffrage; staging counts as a non-voter.
    """
    in_raft: dict[str, RaftServer] = {}
    voters = 0
    for rs in raft_servers:
        in_raft[rs.id] = rs
        if rs.suffrage == SUFFRAGE_VOTER:
            voters += 1
    stale_voters: list[str] = []
    stale_non_voters: list[str] = []
    failed_voters: list[Server] = []
    failed_non_voters: list[Server] = []
    for sid, rs in in_raft.items():
        known = known_servers.get(sid)
        if known is None:
            (stale_voters if rs.suffrage == SUFFRAGE_VOTER else stale_non_voters).append(sid)
        elif known.node_status != NODE_ALIVE:
            (failed_voters if rs.suffrage == SUFFRAGE_VOTER else failed_non_voters).append(known)
    failed = FailedServers(
        stale_non_voters=tuple(sorted(stale_non_voters)),
        stale_voters=tuple(sorted(stale_voters)),
        failed_non_voters=tuple(sorted(failed_non_voters, key=lambda s: s.id)),
        failed_voters=tuple(sorted(failed_voters, key=lambda s: s.id)),
    )
    return failed, voters


def _go_int(value: int) -> int:
    """Go's int(uint) conversion on 64-bit platforms (huge MinQuorum values wrap negative)."""
    value &= 0xFFFF_FFFF_FFFF_FFFF
    return value - (1 << 64) if value >= 1 << 63 else value


def prune_dead_servers(
    config: AutopilotConfig,
    state: State | None,
    raft_servers: Sequence[RaftServer],
    known_servers: Mapping[str, Server],
    promoter: Promoter = DEFAULT_PROMOTER,
) -> ReconcileResult:
    """The removals of one prune pass (v0.1.6, docs/behaviour/autopilot.md §8.3); nothing if
    cleanup is off."""
    if not config.cleanup_dead_servers:
        return ReconcileResult()
    failed, voters = find_failed_servers(raft_servers, known_servers)
    failed = promoter.filter_failed_server_removals(config, state or State(), failed)
    raft_by_id = {rs.id: rs for rs in raft_servers}
    actions: list[Action] = []
    refusals: list[Refusal] = []

    for srv in failed.failed_non_voters:
        actions.append(
            Action(
                OP_REMOVE_FAILED_SERVER,
                srv.id,
                f"removed: failed non-voter (NodeStatus {srv.node_status or 'unknown'}); "
                "non-voters are removed without limit",
                srv.address,
                srv.name,
            )
        )
    for sid in failed.stale_non_voters:
        actions.append(
            Action(
                OP_REMOVE_SERVER,
                sid,
                "removed: stale non-voter (in the Raft configuration, unknown to the "
                "application); non-voters are removed without limit",
                _address(raft_by_id, sid),
            )
        )

    budget = (voters - 1) // 2 if voters > 0 else 0
    initial_budget = budget
    min_quorum = _go_int(config.min_quorum)

    def guard(sid: str, op: str) -> bool:
        nonlocal budget, voters
        if voters - 1 < min_quorum:
            refusals.append(
                Refusal(
                    sid,
                    f"not removed: MinQuorum {config.min_quorum} would be violated "
                    f"(only {voters - 1} voters would remain)",
                    op,
                )
            )
            return False
        if budget < 1:
            refusals.append(
                Refusal(
                    sid,
                    f"not removed: removal budget (voters−1)/2 = {initial_budget} used up",
                    op,
                )
            )
            return False
        budget -= 1
        voters -= 1
        return True

    for sid in failed.stale_voters:
        if guard(sid, OP_REMOVE_SERVER):
            actions.append(
                Action(
                    OP_REMOVE_SERVER,
                    sid,
                    "removed: stale voter (in the Raft configuration, unknown to the "
                    f"application); {voters} voters remain",
                    _address(raft_by_id, sid),
                )
            )
    for srv in failed.failed_voters:
        if guard(srv.id, OP_REMOVE_FAILED_SERVER):
            actions.append(
                Action(
                    OP_REMOVE_FAILED_SERVER,
                    srv.id,
                    f"removed: failed voter (NodeStatus {srv.node_status or 'unknown'}); "
                    f"{voters} voters remain",
                    srv.address,
                    srv.name,
                )
            )
    return ReconcileResult(tuple(actions), tuple(refusals))


def _address(raft_by_id: Mapping[str, RaftServer], sid: str) -> str:
    rs = raft_by_id.get(sid)
    return rs.address if rs is not None else ""


# --- one whole tick --------------------------------------------------------------------------


def apply_to_raft_servers(
    raft_servers: Sequence[RaftServer], actions: Sequence[Action]
) -> list[RaftServer]:
    """The Raft configuration after the Raft-level operations in `actions`.

    AddVoter / AddNonvoter set (or add) the suffrage, DemoteVoter makes a non-voter,
    RemoveServer drops the entry. RemoveFailedServer changes nothing here: in Nomad the Raft
    removal follows later, from the Serf "left" event. LeadershipTransfer changes nothing.
    """
    servers = {rs.id: rs for rs in raft_servers}
    for action in actions:
        current = servers.get(action.id)
        if action.op in (OP_ADD_VOTER, OP_ADD_NONVOTER):
            suffrage = SUFFRAGE_VOTER if action.op == OP_ADD_VOTER else SUFFRAGE_NONVOTER
            address = action.address or (current.address if current else "")
            servers[action.id] = RaftServer(action.id, address, suffrage)
        elif action.op == OP_DEMOTE_VOTER and current is not None:
            servers[action.id] = RaftServer(current.id, current.address, SUFFRAGE_NONVOTER)
        elif action.op == OP_REMOVE_SERVER:
            servers.pop(action.id, None)
    return list(servers.values())


def reconcile_tick(
    config: AutopilotConfig,
    state: State | None,
    raft_servers: Sequence[RaftServer],
    known_servers: Mapping[str, Server],
    now: int,
    promoter: Promoter = DEFAULT_PROMOTER,
) -> ReconcileResult:
    """What one tick of autopilot's main loop asks for: reconcile, then prune.

    The prune pass sees the Raft configuration as reconcile left it (a server promoted in this
    tick already counts as a voter), as the real leader's latest configuration does.
    """
    first = reconcile(config, state, now, promoter)
    after = apply_to_raft_servers(raft_servers, first.actions) if first.actions else raft_servers
    return first + prune_dead_servers(config, state, after, known_servers, promoter)
