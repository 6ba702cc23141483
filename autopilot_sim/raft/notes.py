"""What a Raft node reports besides messages and timers: typed notes (role and configuration
changes worth recording). The node appends them to `RaftNode.notes`; the engine drains them
after each input (records events, tells the Nomad layer, feeds the safety checker).

Each note is a frozen, slotted dataclass; `kind` names it in one word (test traces, debugging).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from autopilot_sim.raft.configuration import Configuration
from autopilot_sim.raft.messages import Entry


@dataclass(frozen=True, slots=True)
class SteppedDown:
    """The node became a follower from `previous` (candidate or leader) in `term`."""

    kind: ClassVar[str] = "follower"
    term: int
    previous: str
    reason: str


@dataclass(frozen=True, slots=True)
class CandidateStarted:
    """The node became a candidate for `term` (a leadership transfer's target when `transfer`)."""

    kind: ClassVar[str] = "candidate"
    term: int
    transfer: bool


@dataclass(frozen=True, slots=True)
class ElectionStarted:
    """electSelf: the node voted for itself in `term` (after a successful pre-vote, if any)."""

    kind: ClassVar[str] = "election"
    term: int


@dataclass(frozen=True, slots=True)
class LeaderElected:
    """The node won the election for `term`."""

    kind: ClassVar[str] = "leader"
    term: int


@dataclass(frozen=True, slots=True)
class Truncated:
    """A follower deleted its log suffix from `index` (`removed`: the deleted entries)."""

    kind: ClassVar[str] = "truncate"
    index: int
    removed: list[Entry]


@dataclass(frozen=True, slots=True)
class ConfigurationAppended:
    """A configuration entry took effect on append (latest configuration)."""

    kind: ClassVar[str] = "configuration"
    index: int
    config: Configuration


@dataclass(frozen=True, slots=True)
class ConfigurationCommitted:
    """The leader committed the configuration entry at `index`."""

    kind: ClassVar[str] = "configuration_committed"
    index: int
    config: Configuration


@dataclass(frozen=True, slots=True)
class ConfigurationRejected:
    """A queued membership request could not apply to the configuration."""

    kind: ClassVar[str] = "configuration_rejected"
    op: str
    server_id: str
    error: str


@dataclass(frozen=True, slots=True)
class TransferStarted:
    """The leader started a leadership transfer to `target`."""

    kind: ClassVar[str] = "transfer"
    term: int
    target: str


@dataclass(frozen=True, slots=True)
class TransferTimedOut:
    """A leadership transfer was abandoned after ElectionTimeout."""

    kind: ClassVar[str] = "transfer_timeout"
    term: int


Note = (SteppedDown | CandidateStarted | ElectionStarted | LeaderElected | Truncated | ConfigurationAppended
        | ConfigurationCommitted | ConfigurationRejected | TransferStarted | TransferTimedOut)
