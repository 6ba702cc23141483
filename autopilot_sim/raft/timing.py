"""Raft timing knobs, with hashicorp/raft's defaults and validation rules.

Two timing models:
* hashicorp/raft (default): free-running follower check every randomTimeout(HT), candidate rounds
  every randomTimeout(ET), heartbeats every RTT + randomTimeout(HT/10), idle commit-carrying
  AppendEntries every randomTimeout(CT), leader lease LLT. randomTimeout(d) is uniform on [d, 2d).
* paper (the Raft paper's experiments): a follower's election timer is reset by every valid
  contact and fires after U[lo, hi); the leader sends heartbeats every fixed `heartbeat_interval`.
"""

from __future__ import annotations

from dataclasses import dataclass

from autopilot_sim.durations import MILLISECOND, SECOND


class TimingError(ValueError):
    """A timing combination hashicorp/raft's ValidateConfig would reject."""


@dataclass(frozen=True, slots=True)
class RaftTiming:
    """The hashicorp/raft configuration fields the simulated node uses (all durations in ns)."""

    heartbeat_timeout: int = 1 * SECOND
    election_timeout: int = 1 * SECOND
    commit_timeout: int = 50 * MILLISECOND
    leader_lease_timeout: int = 500 * MILLISECOND
    max_append_entries: int = 64
    prevote: bool = True
    # Nomad's RaftTimeout: I/O deadline of one RPC (also the dial timeout).
    rpc_timeout: int = 10 * SECOND
    # NetworkTransport's DefaultMaxRPCsInFlight: pipelined AppendEntries outstanding at once.
    max_rpcs_in_flight: int = 2
    # Paper-style timing (both set, or neither).
    election_timeout_range: tuple[int, int] | None = None
    heartbeat_interval: int | None = None
    # RequestVote rules: "hashicorp" (the library's) or "paper" (Raft paper / LogCabin, raft/votes.py).
    vote_rules: str = "hashicorp"

    def __copy__(self) -> RaftTiming:
        return self  # immutable; also what lets the mypyc-compiled class be copied (no field assignment)

    def __deepcopy__(self, memo: dict[int, object]) -> RaftTiming:
        return self

    @property
    def paper(self) -> bool:
        """True when the Raft paper's timing model is selected."""
        return self.election_timeout_range is not None

    @classmethod
    def nomad(cls, multiplier: int = 1, **overrides: object) -> RaftTiming:
        """Nomad's values: `raft_multiplier` scales HT, ET, LLT and CT only."""
        if not 1 <= multiplier <= 10:
            raise TimingError(f"raft_multiplier must be within 1 and 10, got {multiplier}")
        base = cls(**overrides)  # type: ignore[arg-type]
        return cls(
            heartbeat_timeout=base.heartbeat_timeout * multiplier,
            election_timeout=base.election_timeout * multiplier,
            commit_timeout=base.commit_timeout * multiplier,
            leader_lease_timeout=base.leader_lease_timeout * multiplier,
            max_append_entries=base.max_append_entries,
            prevote=base.prevote,
            rpc_timeout=base.rpc_timeout,
            max_rpcs_in_flight=base.max_rpcs_in_flight,
            election_timeout_range=base.election_timeout_range,
            heartbeat_interval=base.heartbeat_interval,
            vote_rules=base.vote_rules,
        )

    def validate(self) -> RaftTiming:
        """Apply hashicorp/raft's ValidateConfig rules; returns self for chaining."""
        ms5 = 5 * MILLISECOND
        if self.heartbeat_timeout < ms5:
            raise TimingError("heartbeat_timeout is too low (minimum 5ms)")
        if self.election_timeout < ms5:
            raise TimingError("election_timeout is too low (minimum 5ms)")
        if self.commit_timeout < MILLISECOND:
            raise TimingError("commit_timeout is too low (minimum 1ms)")
        if self.leader_lease_timeout < ms5:
            raise TimingError("leader_lease_timeout is too low (minimum 5ms)")
        if self.leader_lease_timeout > self.heartbeat_timeout:
            raise TimingError("leader_lease_timeout cannot be larger than heartbeat_timeout")
        if self.election_timeout < self.heartbeat_timeout:
            raise TimingError("election_timeout must be equal or greater than heartbeat_timeout")
        if not 1 <= self.max_append_entries <= 1024:
            raise TimingError("max_append_entries must be within 1 and 1024")
        if (self.election_timeout_range is None) != (self.heartbeat_interval is None):
            raise TimingError("election_timeout_range and heartbeat_interval go together")
        if self.election_timeout_range is not None:
            lo, hi = self.election_timeout_range
            if not 0 < lo <= hi:
                raise TimingError("election_timeout_range must be [lo, hi] with 0 < lo <= hi")
            if not 0 < self.heartbeat_interval < lo:  # type: ignore[operator]
                raise TimingError("heartbeat_interval must be positive and below the range's low end")
        if self.vote_rules not in ("hashicorp", "paper"):
            raise TimingError(f"vote_rules must be hashicorp or paper, got {self.vote_rules!r}")
        if self.vote_rules == "paper" and self.prevote:
            raise TimingError("vote_rules paper has no pre-vote: set prevote to false")
        return self
