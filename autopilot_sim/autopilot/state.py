"""Build the next autopilot `State` from one tick's inputs (docs/behaviour/autopilot.md §2–§5).

`build_state(inputs, previous)` is pure: the caller gathers what raft-autopilot's
`gatherNextStateInputs` gathers (time, config, Raft configuration, the application's known
servers, the leader's own last index and term, fetched per-server stats) into `TickInputs`.

Per Raft server, values are layered from least to most authoritative: the Raft entry (ID,
address, suffrage) → the previous state's record (stats, health, server fields) → the
application's record (address forced back to the Raft one; NodeStatus "left" when the
application does not know the server) → leader marking → freshly fetched stats (a server
missing from `fetched_stats` keeps its previous, possibly stale, stats) → health → StableSince.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from autopilot_sim.autopilot.config import AutopilotConfig
from autopilot_sim.autopilot.model import (
    NODE_LEFT,
    RAFT_LEADER,
    RAFT_VOTER,
    RaftServer,
    Server,
    ServerHealth,
    ServerState,
    ServerStats,
    State,
    evolve,
    failure_tolerance,
    is_healthy,
    raft_state_for,
    sort_servers,
)
from autopilot_sim.autopilot.promoter import DEFAULT_PROMOTER, Promoter

_NO_STATS = ServerStats()


@dataclass(frozen=True, slots=True)
class TickInputs:
    """Everything one state-update tick looks at (mirrors the fixtures' `inputs.json`).

    * `now`: the tick time (ns), taken before stats are fetched.
    * `first_state_time`: when autopilot produced its first state on this leader; None means
      "take it from `previous`, or `now` if there is none" (what upstream does).
    * `raft_servers`: the Raft configuration, in its order.
    * `known_servers`: the application's servers by ID (Nomad: Serf members of the region).
    * `latest_index` / `last_term`: the autopilot node's own last log index and term.
    * `fetched_stats`: stats by ID for the servers whose fetch succeeded this tick.
    * `leader_id`: the Raft leader's ID or "".
    * `is_leader`: whether the node running autopilot is the leader (in Nomad always true).
    """

    now: int
    config: AutopilotConfig
    raft_servers: Sequence[RaftServer]
    known_servers: Mapping[str, Server] = field(default_factory=dict)
    latest_index: int = 0
    last_term: int = 0
    fetched_stats: Mapping[str, ServerStats] = field(default_factory=dict)
    leader_id: str = ""
    is_leader: bool = True
    first_state_time: int | None = None


def leader_id_from(
    known_servers: Mapping[str, Server], raft_servers: Sequence[RaftServer], leader_address: str
) -> str:
    """The leader's ID as upstream finds it: a known server flagged leader, else the Raft
    entry whose address is the Raft leader address, else ""."""
    for sid, srv in known_servers.items():
        if srv.is_leader:
            return sid
    if leader_address:
        for rs in raft_servers:
            if rs.address == leader_address:
                return rs.id
    return ""


def servers_to_fetch(known_servers: Mapping[str, Server]) -> dict[str, Server]:
    """The servers whose stats autopilot asks for: every known server not in state "left"
    (failed ones are still asked)."""
    return {sid: s for sid, s in known_servers.items() if s.node_status != NODE_LEFT}


def leader_reference(inputs: TickInputs) -> tuple[int, int]:
    """(leader last term, leader last index) used by the health rule.

    The autopilot node's own values when it is the leader, else the leader's fetched stats,
    else (0, 0), which makes every server unhealthy.
    """
    if inputs.is_leader:
        return inputs.last_term, inputs.latest_index
    stats = inputs.fetched_stats.get(inputs.leader_id) if inputs.leader_id else None
    if stats is not None:
        return stats.last_term, stats.last_index
    return 0, 0


def build_state(
    inputs: TickInputs,
    previous: State | None = None,
    *,
    promoter: Promoter = DEFAULT_PROMOTER,
    intended_stable_since: bool = False,
) -> State:
    """Compute the state after this tick.

    StableSince follows raft-autopilot v0.1.6 as it really behaves
    (docs/behaviour/autopilot.md §4): it is set to `now` only when a server is new to the state;
    a health flip keeps the old value.
    `intended_stable_since=True` switches to the rule the upstream code meant (also reset on a
    health flip) — a teaching setting, **not** what Nomad does.
    """
    config = inputs.config
    now = inputs.now
    prev_servers: Mapping[str, ServerState] = previous.servers if previous is not None else {}
    first_state_time = inputs.first_state_time
    if first_state_time is None:
        first_state_time = previous.first_state_time if previous is not None else None
        if first_state_time is None:
            first_state_time = now

    leader_term, leader_index = leader_reference(inputs)
    threshold = config.last_contact_threshold
    max_trailing = config.max_trailing_logs
    known = inputs.known_servers
    fetched = inputs.fetched_stats
    leader_id = inputs.leader_id

    servers: dict[str, ServerState] = {}
    healthy_all = True
    voters: list[str] = []
    healthy_voters = 0
    leader = ""
    for rs in inputs.raft_servers:
        sid = rs.id
        role = raft_state_for(rs.suffrage)
        existing = prev_servers.get(sid)
        known_srv = known.get(sid)
        if known_srv is not None:
            server = known_srv
        elif existing is not None:
            server = existing.server
        else:
            server = Server(id=sid)
        if known_srv is None:
            # Unknown to the application: treated as gone.
            server = evolve(server, node_status=NODE_LEFT)
        if sid == leader_id:
            role = RAFT_LEADER
            if not server.is_leader:
                server = evolve(server, is_leader=True)
        if server.address != rs.address:
            # The Raft address always wins over the application's.
            server = evolve(server, address=rs.address)

        stats = fetched.get(sid)
        was_fetched = stats is not None
        if stats is None:
            stats = existing.stats if existing is not None else _NO_STATS

        healthy = is_healthy(server, stats, leader_term, leader_index, threshold, max_trailing)
        if existing is None or (intended_stable_since and existing.health.healthy != healthy):
            stable_since = now
        else:
            stable_since = existing.health.stable_since
        if existing is not None and existing.health.healthy == healthy and (
            existing.health.stable_since == stable_since
        ):
            health = existing.health  # share the unchanged object
        else:
            health = ServerHealth(healthy, stable_since)

        srv_state = ServerState(server, role, stats, health, was_fetched)
        ext = promoter.get_server_ext(config, srv_state)
        if ext is not None:
            srv_state = evolve(srv_state, server=evolve(server, ext=ext))
        servers[sid] = srv_state

        if not healthy:
            healthy_all = False
        if role == RAFT_LEADER:
            leader = sid
        if role in (RAFT_LEADER, RAFT_VOTER):
            voters.append(sid)
            if healthy:
                healthy_voters += 1

    state = State(
        servers=servers,
        healthy=healthy_all,
        failure_tolerance=failure_tolerance(len(voters), healthy_voters),
        leader=leader,
        voters=tuple(voters),
        first_state_time=first_state_time,
        built_at=now,
    )
    ext = promoter.get_state_ext(config, state)
    if ext is not None:
        state = evolve(state, ext=ext)
    # NodeTypes are informational (how the promoter classes each server). `servers` is the
    # dict inside `state`, so updating it in place updates the state being built.
    for sid, node_type in promoter.get_node_types(config, state).items():
        typed = servers.get(sid)
        if typed is not None and typed.server.node_type != node_type:
            servers[sid] = evolve(typed, server=evolve(typed.server, node_type=node_type))
    # Voters are sorted last: the order looks at health and StableSince computed above.
    return evolve(state, voters=tuple(sort_servers(voters, state)))
