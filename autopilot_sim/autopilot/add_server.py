"""The library's `AddServer` helper as a pure plan (docs/behaviour/autopilot.md §12.6).

Nomad does not use it (Nomad's leader adds joining servers itself, `nomad/leader.go`), but
Consul does, and it is part of raft-autopilot's behaviour: a new server joins as a non-voter
after any Raft entry that reuses its address is removed, unless removing those voters would
cost the cluster its quorum; an existing ID with a new address is re-added with its voting
status kept; afterwards a dead-server prune is triggered.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from autopilot_sim.autopilot.model import (
    SUFFRAGE_STAGING,
    SUFFRAGE_VOTER,
    RaftServer,
    required_quorum,
)
from autopilot_sim.autopilot.reconcile import (
    OP_ADD_NONVOTER,
    OP_ADD_VOTER,
    OP_REMOVE_SERVER,
    Action,
)

UNSAFE_REMOVAL_ERROR = (
    "Preventing server addition that would require removal of too many servers "
    "and cause cluster instability"
)


class AddServerError(ValueError):
    """The addition was refused; nothing is to be done."""


@dataclass(frozen=True, slots=True)
class AddServerPlan:
    """Operations in order, and whether a dead-server prune is triggered afterwards."""

    actions: tuple[Action, ...] = ()
    trigger_prune: bool = False


def plan_add_server(raft_servers: Sequence[RaftServer], server_id: str, address: str) -> AddServerPlan:
    """Plan adding (`server_id`, `address`) to the Raft configuration `raft_servers`."""
    voters = 0
    keep_voting = False
    voter_removals: list[str] = []
    non_voter_removals: list[str] = []
    for rs in raft_servers:
        if rs.suffrage == SUFFRAGE_VOTER:
            voters += 1
        if rs.id == server_id and rs.address == address:
            return AddServerPlan()  # already there as it is: nothing to do, no prune
        if rs.id == server_id:
            # Only the address changes; a voter (or staging server) stays a voter.
            keep_voting = rs.suffrage in (SUFFRAGE_VOTER, SUFFRAGE_STAGING)
        elif rs.address == address:
            (voter_removals if rs.suffrage == SUFFRAGE_VOTER else non_voter_removals).append(rs.id)
    if len(voter_removals) > voters - required_quorum(voters):
        raise AddServerError(UNSAFE_REMOVAL_ERROR)
    reason = f"duplicate address {address} taken over by {server_id}"
    actions = [Action(OP_REMOVE_SERVER, sid, reason, address) for sid in voter_removals]
    actions += [Action(OP_REMOVE_SERVER, sid, reason, address) for sid in non_voter_removals]
    if keep_voting:
        actions.append(Action(OP_ADD_VOTER, server_id, "address update of a voter", address))
    else:
        actions.append(Action(OP_ADD_NONVOTER, server_id, "new server joins as a non-voter", address))
    return AddServerPlan(tuple(actions), trigger_prune=True)
