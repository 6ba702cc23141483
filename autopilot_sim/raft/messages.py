"""Raft RPC messages and log entries.

Requests carry an `rpc` id (unique per sender) and the absolute `deadline` at which the sender's
transport gives up (Nomad's RaftTimeout, 10 s by default). Responses echo both, so the transport
can fail an RPC at its deadline when the request or the response is lost, exactly as a blocked
hashicorp/raft NetworkTransport call would.

All classes use __slots__: these objects are created tens of thousands of times per simulated
minute.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from mypy_extensions import mypyc_attr

# Entry kinds.
COMMAND: Final = "command"
CONFIGURATION: Final = "configuration"
NOOP: Final = "noop"
BARRIER: Final = "barrier"

# Suffrage values as hashicorp/raft numbers them.
VOTER: Final = 0
NONVOTER: Final = 1
STAGING: Final = 2
SUFFRAGE_NAMES = {VOTER: "Voter", NONVOTER: "Nonvoter", STAGING: "Staging"}


@mypyc_attr(allow_interpreted_subclasses=True)  # mypyc: copy.deepcopy works (notebook 06)
class Entry:
    """One immutable log entry. Shared between servers' logs (never mutated)."""

    __slots__ = ("data", "index", "kind", "term")

    def __init__(self, index: int, term: int, kind: str, data: object = None) -> None:
        self.index = index
        self.term = term
        self.kind = kind
        self.data = data

    def __repr__(self) -> str:
        return f"Entry({self.index}, t{self.term}, {self.kind}, {self.data!r})"

    def same_as(self, other: Entry) -> bool:
        """Equal content (index, term, kind, data)."""
        return (
            self is other
            or (
                self.index == other.index
                and self.term == other.term
                and self.kind == other.kind
                and self.data == other.data
            )
        )


@mypyc_attr(allow_interpreted_subclasses=True)  # mypyc: copy.deepcopy works (notebook 06)
class Message:
    """Base class; `is_request` tells the transport whether a response is awaited.

    `deadline` is declared here, not only on requests and responses, so that the engine reads it
    from a `Message` as a plain field (compiled: a struct read) without knowing the subclass; an
    `RpcError`, which the transport itself hands to the caller, has none."""

    __slots__ = ("deadline",)
    deadline: int
    is_request = False
    is_heartbeat = False
    # Handled by the server's main loop (blocked while it writes to disk,
    # docs/behaviour/raft.md §8.2), rather than by a replication / heartbeat goroutine or the heartbeat fast path.
    main_loop = False


class Request(Message):
    __slots__ = ("rpc",)
    is_request = True


class Response(Message):
    __slots__ = ("rpc",)


class AppendEntries(Request):
    """Replication RPC (non-heartbeat): goes through the follower's main loop."""

    __slots__ = ("entries", "leader", "leader_commit", "prev_index", "prev_term", "term")
    main_loop = True

    def __init__(self, rpc: int, deadline: int, term: int, leader: str, prev_index: int, prev_term: int,
                 entries: Sequence[Entry], leader_commit: int) -> None:
        self.rpc = rpc
        self.deadline = deadline
        self.term = term
        self.leader = leader
        self.prev_index = prev_index
        self.prev_term = prev_term
        self.entries = entries
        self.leader_commit = leader_commit


class AppendEntriesResponse(Response):
    __slots__ = ("last_log", "last_sent", "no_retry_backoff", "success", "term")

    def __init__(self, rpc: int, deadline: int, term: int, success: bool, last_log: int, no_retry_backoff: bool,
                 last_sent: int) -> None:
        self.rpc = rpc
        self.deadline = deadline
        self.term = term
        self.success = success
        self.last_log = last_log
        self.no_retry_backoff = no_retry_backoff
        self.last_sent = last_sent  # last index the request carried (prev_index if none)


class Heartbeat(Request):
    """hashicorp/raft heartbeat: term and leader only; handled off the follower's main loop."""

    __slots__ = ("leader", "term")
    is_heartbeat = True

    def __init__(self, rpc: int, deadline: int, term: int, leader: str) -> None:
        self.rpc = rpc
        self.deadline = deadline
        self.term = term
        self.leader = leader


class HeartbeatResponse(Response):
    __slots__ = ("success", "term")
    is_heartbeat = True

    def __init__(self, rpc: int, deadline: int, term: int, success: bool) -> None:
        self.rpc = rpc
        self.deadline = deadline
        self.term = term
        self.success = success


class RequestVote(Request):
    """RequestVote or (prevote=True) RequestPreVote."""

    __slots__ = ("candidate", "last_index", "last_term", "prevote", "term", "transfer")
    main_loop = True

    def __init__(self, rpc: int, deadline: int, term: int, candidate: str, last_index: int, last_term: int,
                 transfer: bool, prevote: bool) -> None:
        self.rpc = rpc
        self.deadline = deadline
        self.term = term
        self.candidate = candidate
        self.last_index = last_index
        self.last_term = last_term
        self.transfer = transfer
        self.prevote = prevote


class VoteResponse(Response):
    __slots__ = ("granted", "prevote", "term")
    main_loop = True

    def __init__(self, rpc: int, deadline: int, term: int, granted: bool, prevote: bool) -> None:
        self.rpc = rpc
        self.deadline = deadline
        self.term = term
        self.granted = granted
        self.prevote = prevote


class TimeoutNow(Request):
    __slots__ = ("leader", "term")
    main_loop = True

    def __init__(self, rpc: int, deadline: int, term: int, leader: str) -> None:
        self.rpc = rpc
        self.deadline = deadline
        self.term = term
        self.leader = leader


class TimeoutNowResponse(Response):
    __slots__ = ("term",)

    def __init__(self, rpc: int, deadline: int, term: int) -> None:
        self.rpc = rpc
        self.deadline = deadline
        self.term = term


class RpcError(Message):
    """Delivered by the transport to the caller when an RPC failed (refused or timed out).

    `kind` is the request's class; `prevote` tells a failed pre-vote from a failed vote.
    """

    __slots__ = ("kind", "prevote", "reason", "rpc")

    def __init__(self, rpc: int, kind: type, prevote: bool, reason: str) -> None:
        self.rpc = rpc
        self.kind = kind
        self.prevote = prevote
        self.reason = reason


# The request class each response answers (the transport fails the request when its answer is lost).
REQUEST_OF = {
    AppendEntriesResponse: AppendEntries,
    HeartbeatResponse: Heartbeat,
    VoteResponse: RequestVote,
    TimeoutNowResponse: TimeoutNow,
}


def rpc_error_for(msg: Message, reason: str) -> RpcError:
    """The error the caller of `msg`'s RPC sees when `msg` (request or response) is lost."""
    kind = type(msg) if msg.is_request else REQUEST_OF[type(msg)]
    return RpcError(msg.rpc, kind, bool(getattr(msg, "prevote", False)), reason)  # type: ignore[attr-defined]
