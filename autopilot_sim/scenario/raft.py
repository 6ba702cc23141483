"""The `raft:` block: hashicorp/raft timing knobs as Nomad sets them.

Defaults are hashicorp/raft v1.7.3 `DefaultConfig` with Nomad's choices
(docs/behaviour/raft.md §1): the four timeouts are *base* values that Nomad multiplies by
``raft_multiplier``; read the values a node must use from `RaftSpec.effective()`. The library's
validation rules (HT ≥ 5ms, ET ≥ 5ms, CT ≥ 1ms, LLT ≥ 5ms, LLT ≤ HT, ET ≥ HT) are checked on the
effective values, as the library would see them.

Paper-style timing (``election_timeout_range`` + ``heartbeat_interval``, both or neither) replaces
the hashicorp/raft rules with the Raft paper's: a follower's election timeout is drawn uniformly
from the range and the leader heartbeats every ``heartbeat_interval``. They are not scaled by
``raft_multiplier``.

``vote_rules: paper`` answers RequestVote as the Raft paper and LogCabin do (raft/votes.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, field_validator, model_validator

from autopilot_sim.durations import MILLISECOND, SECOND, format_duration
from autopilot_sim.scenario.base import KeyedError, ScenarioModel
from autopilot_sim.scenario.distributions import Distribution
from autopilot_sim.scenario.types import Duration, duration_type

#: Paper-style election timeouts: hashicorp/raft's own floor for its timeouts (5ms).
if TYPE_CHECKING:  # to mypy a duration field is the int of ns it holds
    PaperTimeout = int
    PaperHeartbeat = int
    RpcTimeout = int
else:
    PaperTimeout = duration_type(5 * MILLISECOND, why="hashicorp/raft's floor for its timeouts is 5ms")
    #: Paper-style heartbeat period: hashicorp/raft's floor for CommitTimeout, its fastest timer (1ms).
    PaperHeartbeat = duration_type(1 * MILLISECOND,
                                   why="hashicorp/raft's fastest timer, CommitTimeout, is at least 1ms")
    #: Nomad's RaftTimeout: its own test servers use 500ms; 10ms is still above any round trip of
    #: the default network, below it every RPC times out and is retried.
    RpcTimeout = duration_type(10 * MILLISECOND, why="Nomad's test servers use 500ms; shorter than a "
                                                      "round trip, every RPC would time out and be retried")


@dataclass(frozen=True)
class RaftTimings:
    """The four scaled timeouts a node runs with (ns): base value × raft_multiplier."""

    heartbeat_timeout: int
    election_timeout: int
    leader_lease_timeout: int
    commit_timeout: int


class RaftSpec(ScenarioModel):
    """hashicorp/raft configuration (base values; see `effective()`)."""

    heartbeat_timeout: Duration = Field(
        1 * SECOND, description="HeartbeatTimeout before raft_multiplier (library default 1s).")
    election_timeout: Duration = Field(
        1 * SECOND, description="ElectionTimeout before raft_multiplier (library default 1s).")
    leader_lease_timeout: Duration = Field(
        500 * MILLISECOND, description="LeaderLeaseTimeout before raft_multiplier (default 500ms).")
    commit_timeout: Duration = Field(
        50 * MILLISECOND, description="CommitTimeout before raft_multiplier (default 50ms).")
    prevote: bool = Field(True, description="Pre-vote (on in hashicorp/raft ≥ 1.7.0 and in Nomad).")
    raft_multiplier: int = Field(
        1, ge=1, le=10,
        description="Nomad's server.raft_multiplier (1..10): scales the four timeouts above.")
    max_append_entries: int = Field(
        64, ge=1, le=1024, description="MaxAppendEntries: entries per AppendEntries (1..1024).")
    rpc_timeout: RpcTimeout = Field(
        10 * SECOND, description="Nomad's RaftTimeout: I/O deadline of one Raft RPC. At least 10ms: "
                                 "Nomad's test servers use 500ms; shorter than a round trip, every "
                                 "RPC would time out and be retried.")
    disk_write_latency: Distribution | None = Field(
        None, description="Latency of one fsync of the log/stable store; unset: no disk delay "
                          "(like Nomad dev mode's in-memory stores).")
    election_timeout_range: tuple[PaperTimeout, PaperTimeout] | None = Field(
        None,
        description="Paper-style timing: [min, max] election timeout, e.g. [150ms, 300ms]; "
                    "requires heartbeat_interval. Each at least 5ms, hashicorp/raft's floor for "
                    "its timeouts.")
    heartbeat_interval: PaperHeartbeat | None = Field(
        None, description="Paper-style timing: leader heartbeat period; requires "
                          "election_timeout_range. At least 1ms, hashicorp/raft's fastest timer "
                          "(CommitTimeout) floor.")
    # Optional so that an unset key stays out of the resolved scenario.yaml (runs that do not
    # use it keep byte-identical outputs); None means hashicorp.
    vote_rules: Literal["hashicorp", "paper"] | None = Field(
        None,
        description="RequestVote rules: hashicorp (default; the library: a follower that knows a "
                    "leader refuses) or paper (the Raft paper and LogCabin: term and log alone, "
                    "votes withheld within the minimum election timeout of leader contact; needs "
                    "prevote: false).")

    @field_validator("election_timeout_range", mode="before")
    @classmethod
    def _range_list(cls, value: Any) -> Any:
        if isinstance(value, list):
            if len(value) != 2:
                items = f"{len(value)} item" + ("s" if len(value) != 1 else "")
                raise ValueError(f"expected [min, max], a list of two durations, got {items}")
            return tuple(value)
        return value

    def effective(self) -> RaftTimings:
        """The timeouts scaled by ``raft_multiplier``, as Nomad passes them to hashicorp/raft."""
        m = self.raft_multiplier
        return RaftTimings(
            heartbeat_timeout=self.heartbeat_timeout * m,
            election_timeout=self.election_timeout * m,
            leader_lease_timeout=self.leader_lease_timeout * m,
            commit_timeout=self.commit_timeout * m,
        )

    @property
    def paper_timing(self) -> bool:
        """True when the Raft-paper timing (range + heartbeat interval) replaces the library's."""
        return self.election_timeout_range is not None

    @model_validator(mode="after")
    def _library_rules(self) -> RaftSpec:
        eff = self.effective()
        fmt = format_duration
        scaled = f" (× raft_multiplier {self.raft_multiplier})" if self.raft_multiplier != 1 else ""
        for key, value, minimum in (
            ("heartbeat_timeout", eff.heartbeat_timeout, 5 * MILLISECOND),
            ("election_timeout", eff.election_timeout, 5 * MILLISECOND),
            ("commit_timeout", eff.commit_timeout, 1 * MILLISECOND),
            ("leader_lease_timeout", eff.leader_lease_timeout, 5 * MILLISECOND),
        ):
            if value < minimum:
                raise KeyedError(key, f"hashicorp/raft requires {key} ≥ {fmt(minimum)}; "
                                      f"got {fmt(value)}{scaled}")
        if eff.leader_lease_timeout > eff.heartbeat_timeout:
            raise KeyedError(
                "leader_lease_timeout",
                f"hashicorp/raft requires leader_lease_timeout ≤ heartbeat_timeout; got "
                f"{fmt(self.leader_lease_timeout)} > {fmt(self.heartbeat_timeout)}",
            )
        if eff.election_timeout < eff.heartbeat_timeout:
            raise KeyedError(
                "election_timeout",
                f"hashicorp/raft requires election_timeout ≥ heartbeat_timeout; got "
                f"{fmt(self.election_timeout)} < {fmt(self.heartbeat_timeout)}",
            )
        if (self.election_timeout_range is None) != (self.heartbeat_interval is None):
            missing = "heartbeat_interval" if self.heartbeat_interval is None else "election_timeout_range"
            given = "election_timeout_range" if missing == "heartbeat_interval" else "heartbeat_interval"
            raise KeyedError(given, f"paper-style timing needs both election_timeout_range and "
                                    f"heartbeat_interval; {missing} is missing")
        if self.vote_rules == "paper" and self.prevote:
            raise KeyedError("vote_rules", "vote_rules: paper is the paper's protocol without "
                                           "pre-vote; set prevote: false")
        if self.election_timeout_range is not None:
            low, high = self.election_timeout_range
            if low > high:
                raise KeyedError(("election_timeout_range", 1),
                                 f"max ({fmt(high)}) must be at least min ({fmt(low)})")
        return self
