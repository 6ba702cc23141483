"""The data model of autopilot: servers, their stats and health, and the cluster state.

These mirror raft-autopilot v0.1.6's `types.go` (facts only): a `State` is one snapshot of
what autopilot believes about every server in the Raft configuration. Everything here is
immutable so a state can be shared by the simulator, the recorder and the HTTP API without
copies; a new tick builds a new `State` (see `state.build_state`).

Times are integer nanoseconds since the Unix epoch, durations integer nanoseconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from autopilot_sim.durations import format_duration

# --- Raft suffrage (hashicorp/raft ServerSuffrage) ------------------------------------------

SUFFRAGE_VOTER = 0
SUFFRAGE_NONVOTER = 1
SUFFRAGE_STAGING = 2

# --- RaftState: how autopilot labels a server's role -----------------------------------------

RAFT_NONE = "none"
RAFT_LEADER = "leader"
RAFT_VOTER = "voter"
RAFT_NONVOTER = "non-voter"
RAFT_STAGING = "staging"

_SUFFRAGE_TO_STATE = {
    SUFFRAGE_VOTER: RAFT_VOTER,
    SUFFRAGE_NONVOTER: RAFT_NONVOTER,
    SUFFRAGE_STAGING: RAFT_STAGING,
}


def raft_state_for(suffrage: int) -> str:
    """The RaftState label for a Raft suffrage; unknown suffrage values map to "none"."""
    return _SUFFRAGE_TO_STATE.get(suffrage, RAFT_NONE)


# --- NodeStatus: the application's (Serf's) view of a server --------------------------------

NODE_UNKNOWN = "unknown"
NODE_ALIVE = "alive"
NODE_FAILED = "failed"
NODE_LEFT = "left"

# NodeType: the promoter's classification (StablePromoter calls every server a voter).
NODE_TYPE_VOTER = "voter"

#: Go's zero `time.Time` (0001-01-01T00:00:00Z) in ns since the Unix epoch. Used where the
#: upstream format has a missing time, so "never set" stays distinguishable from 1970.
GO_ZERO_TIME_NS = -62_135_596_800 * 1_000_000_000


@dataclass(frozen=True, slots=True)
class RaftServer:
    """One entry of the Raft configuration: ID, address and suffrage (0/1/2)."""

    id: str
    address: str
    suffrage: int = SUFFRAGE_VOTER

    @property
    def is_voter(self) -> bool:
        """True for Voter suffrage only (staging does not vote)."""
        return self.suffrage == SUFFRAGE_VOTER


@dataclass(frozen=True, slots=True)
class Server:
    """A server as autopilot knows it (upstream `Server`).

    The application (Nomad, via Serf) fills the first fields; `is_leader` is set by the state
    builder and `node_type` / `ext` by the promoter. `meta` is the Serf tag map or None.
    """

    id: str
    name: str = ""
    address: str = ""
    node_status: str = ""
    version: str = ""
    meta: Mapping[str, str] | None = None
    raft_version: int = 0
    is_leader: bool = False
    node_type: str = ""
    ext: Any = None


#: A server record as the application reports it. Upstream uses the same type for both.
KnownServer = Server


@dataclass(frozen=True, slots=True)
class ServerStats:
    """Raft statistics fetched from one server: its own view, not the leader's."""

    last_contact: int = 0  # ns since this server last heard from a leader (0 on the leader)
    last_term: int = 0  # term of its last log entry
    last_index: int = 0  # index of its last log entry


@dataclass(frozen=True, slots=True)
class ServerHealth:
    """Health verdict for one server and when it (nominally) last changed."""

    healthy: bool = False
    stable_since: int = GO_ZERO_TIME_NS

    def is_stable(self, now: int, min_stable: int) -> bool:
        """Healthy and healthy for at least `min_stable` ns (exactly `min_stable` counts)."""
        return self.healthy and now - self.stable_since >= min_stable


def is_stable(health: ServerHealth | None, now: int, min_stable: int) -> bool:
    """Upstream `ServerHealth.IsStable`, which also accepts a missing health (→ False)."""
    return health is not None and health.is_stable(now, min_stable)


@dataclass(frozen=True, slots=True)
class ServerState:
    """Everything autopilot tracks about one server in the Raft configuration."""

    server: Server
    state: str = RAFT_NONE  # RaftState label
    stats: ServerStats = field(default_factory=ServerStats)
    health: ServerHealth = field(default_factory=ServerHealth)
    #: Whether this tick's stats came from the server (False: kept from an earlier tick because
    #: the fetch failed). Upstream does not track it; the enterprise promoter uses it (safety).
    fetched: bool = True

    @property
    def id(self) -> str:
        """The Raft server ID."""
        return self.server.id

    @property
    def has_voting_rights(self) -> bool:
        """Leader or voter (staging and non-voters have none)."""
        return self.state in (RAFT_LEADER, RAFT_VOTER)

    @property
    def is_healthy(self) -> bool:
        """The health verdict of the last tick."""
        return self.health.healthy


def is_healthy(
    server: Server,
    stats: ServerStats,
    leader_last_term: int,
    leader_last_index: int,
    last_contact_threshold: int,
    max_trailing_logs: int,
) -> bool:
    """The server health rule (docs/behaviour/autopilot.md §3), checked in upstream's order.

    1. a leader reference exists (index and term both non-zero),
    2. the application reports the server alive,
    3. 0 <= LastContact <= LastContactThreshold,
    4. its last log term equals the leader's,
    5. it trails the leader by at most MaxTrailingLogs entries.
    """
    return unhealthy_reason(server, stats, leader_last_term, leader_last_index, last_contact_threshold,
                            max_trailing_logs) is None


def unhealthy_reason(
    server: Server,
    stats: ServerStats,
    leader_last_term: int,
    leader_last_index: int,
    last_contact_threshold: int,
    max_trailing_logs: int,
) -> str | None:
    """Which rule of `is_healthy` fails first, in words (None when the server is healthy)."""
    if leader_last_index == 0 or leader_last_term == 0:
        return "no leader reference index or term yet"
    if server.node_status != NODE_ALIVE:
        return f"serf status {server.node_status}"
    if stats.last_contact > last_contact_threshold or stats.last_contact < 0:
        return (f"last contact {format_duration(stats.last_contact)} > LastContactThreshold "
                f"{format_duration(last_contact_threshold)}")
    if stats.last_term != leader_last_term:
        return f"last log term {stats.last_term} != the leader's {leader_last_term}"
    # Upstream adds two uint64s; keep Go's wrap-around so huge MaxTrailingLogs behave the same.
    if (stats.last_index + max_trailing_logs) & 0xFFFF_FFFF_FFFF_FFFF < leader_last_index:
        return (f"{leader_last_index - stats.last_index} entries behind > MaxTrailingLogs "
                f"{max_trailing_logs}")
    return None


def required_quorum(voters: int) -> int:
    """Votes needed for a majority of `voters`: floor(n/2) + 1."""
    return voters // 2 + 1


def failure_tolerance(voters: int, healthy_voters: int) -> int:
    """How many more healthy voters may fail before quorum is lost (never negative)."""
    return max(0, healthy_voters - required_quorum(voters))


@dataclass(frozen=True, slots=True)
class State:
    """One autopilot snapshot (upstream `State`).

    `servers` holds every server of the Raft configuration, keyed by ID, in Raft configuration
    order (the order is ours: upstream keeps a Go map). Treat it as read-only.
    `first_state_time` is when autopilot produced its first state since it started on this
    leader; None in the empty state. `voters` is sorted as `sort_servers` describes.
    `built_at` is the tick time the state was built at (None for hand-made states): the
    enterprise promoter judges stability for its report while the state is built, where
    upstream would read the clock.
    """

    servers: Mapping[str, ServerState] = field(default_factory=dict)
    healthy: bool = False
    failure_tolerance: int = 0
    leader: str = ""
    voters: tuple[str, ...] = ()
    first_state_time: int | None = None
    ext: Any = None
    built_at: int | None = None

    def server(self, server_id: str) -> ServerState | None:
        """The tracked server with this ID, or None."""
        return self.servers.get(server_id)

    def server_stabilization_time(self, config_sst: int, now: int) -> int:
        """The stabilization time in force at `now` (upstream `State.ServerStabilizationTime`).

        During the first `config_sst` after autopilot produced its first state the requirement
        is waived (0): autopilot has not watched any server that long, so waiting would only
        delay promotions. Afterwards (strictly more than `config_sst` later) it is `config_sst`.
        """
        if self.first_state_time is None or now - self.first_state_time > config_sst:
            # No first state recorded behaves like Go's zero time: long ago.
            return config_sst
        return 0


EMPTY_STATE = State()
"""What autopilot holds right after it stops (or before it first runs) on a server."""


def _sort_key(state: State, server_id: str) -> tuple[int, int, int, str]:
    """Sort key equivalent to upstream `ServerLessThan`.

    Leader first, then voters, then everyone else; within a rank healthy before unhealthy;
    among healthy servers the longest-stable (earliest StableSince) first, among unhealthy
    ones the most recent StableSince first; finally by ID.
    """
    srv = state.servers[server_id]
    if srv.state == RAFT_LEADER:
        rank = 0
    elif srv.state == RAFT_VOTER:
        rank = 1
    else:
        rank = 2
    healthy = srv.health.healthy
    since = srv.health.stable_since
    return (rank, 0 if healthy else 1, since if healthy else -since, server_id)


def sort_servers(ids: list[str] | tuple[str, ...], state: State) -> list[str]:
    """Return `ids` ordered as upstream `SortServers` orders them (see `_sort_key`)."""
    return sorted(ids, key=lambda sid: _sort_key(state, sid))


_Record = TypeVar("_Record")
_new = object.__new__
_set = object.__setattr__


def evolve(record: _Record, **changes: Any) -> _Record:
    """`dataclasses.replace` for this module's frozen, slotted records, several times faster.

    The state builder copies every server's records at every autopilot tick; replace() walks
    the dataclass fields, builds keyword arguments and runs the generated __init__ (each field
    through object.__setattr__). These records have no __post_init__ and every field is an
    __init__ field, so copying the slots is the same thing (tests/test_autopilot_model.py
    compares the two on every record type)."""
    cls = type(record)
    slots = cls.__slots__  # type: ignore[attr-defined]
    new = _new(cls)
    for name in slots:
        _set(new, name, getattr(record, name))
    for name, value in changes.items():
        if name not in slots:
            raise TypeError(f"{cls.__name__} has no field {name!r}")
        _set(new, name, value)
    return new
