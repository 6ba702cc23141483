"""Wire messages of the gossip model: small, immutable, hashable.

Two transports, as in memberlist:

* **Datagrams** (`Packet`, memberlist's UDP): one packet carries one or more parts (a compound
  message): a probe part (`Ping`, `Ack`, `Nack`, `IndirectPing`) and/or broadcasts piggy-backed on
  it (`Alive`, `Suspect`, `Dead`, and serf's `JoinIntent` / `LeaveIntent`). The engine may lose,
  delay or reorder them; nobody is told.
* **Streams** (`PushPull`, `TcpPing`, `TcpAck`; memberlist's TCP): the engine should not apply
  random loss to them (TCP retransmits) but drops them on a cut link or to a dead process. The
  sender notices only through its own timeout (`tcp_timeout` for push/pull, the probe deadline for
  the fallback ping), which is how a dial or read timeout looks in memberlist. We do not model
  "connection refused": a join to a dead peer fails by timeout, not at once.

Every message class has a class attribute `stream` (True for streams) so the engine can tell
them apart without importing each type.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

#: Serf tags as memberlist node metadata: sorted (key, value) pairs, so equality is cheap.
Tags = tuple[tuple[str, str], ...]

# memberlist node states, as strings so they read well in traces and in PushNodeState.
ALIVE = "alive"
SUSPECT = "suspect"
DEAD = "dead"
LEFT = "left"


@dataclass(frozen=True, slots=True)
class Ping:
    """Probe (memberlist `ping`). `target` lets the receiver ignore pings meant for a previous
    owner of its address; here names are addresses, so it is informational."""

    seq: int
    target: str
    source: str


@dataclass(frozen=True, slots=True)
class Ack:
    """Answer to a ping, or relayed by an indirect-probe helper with the requester's seq."""

    seq: int


@dataclass(frozen=True, slots=True)
class Nack:
    """An indirect-probe helper got no ack from the target within its probe timeout."""

    seq: int


@dataclass(frozen=True, slots=True)
class IndirectPing:
    """Ask a helper to ping `target` for us (memberlist `indirectPingReq`, always with nack)."""

    seq: int
    target: str
    source: str
    nack: bool = True


@dataclass(frozen=True, slots=True)
class Alive:
    """`node` is alive at `incarnation` (a join, a refutation, or a re-broadcast)."""

    node: str
    incarnation: int
    meta: Tags = ()


@dataclass(frozen=True, slots=True)
class Suspect:
    """`sender` suspects `node` at `incarnation` (also an independent confirmation)."""

    node: str
    incarnation: int
    sender: str


@dataclass(frozen=True, slots=True)
class Dead:
    """`node` is dead at `incarnation`; `sender == node` means it left gracefully."""

    node: str
    incarnation: int
    sender: str


@dataclass(frozen=True, slots=True)
class JoinIntent:
    """serf `messageJoin`: refutes older leave intents for `node` (Lamport time `ltime`)."""

    node: str
    ltime: int


@dataclass(frozen=True, slots=True)
class LeaveIntent:
    """serf `messageLeave`: graceful leave of `node` or a force-leave of it (`prune` erases)."""

    node: str
    ltime: int
    prune: bool = False


Broadcast = Alive | Suspect | Dead | JoinIntent | LeaveIntent
Part = Ping | Ack | Nack | IndirectPing | Alive | Suspect | Dead | JoinIntent | LeaveIntent


@dataclass(frozen=True, slots=True)
class Packet:
    """One UDP datagram: a compound of parts handled in order by the receiver."""

    stream: ClassVar[bool] = False
    parts: tuple[Part, ...]


@dataclass(frozen=True, slots=True)
class PushNodeState:
    """One row of memberlist's push/pull state."""

    name: str
    incarnation: int
    state: str
    meta: Tags = ()


@dataclass(frozen=True, slots=True)
class SerfPushPull:
    """serf's part of a push/pull (`messagePushPull`): clock, per-member status Lamport times
    and the names serf holds as left (so `left` converges by anti-entropy too)."""

    ltime: int
    status_ltimes: tuple[tuple[str, int], ...]
    left_members: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PushPull:
    """Full state exchange over TCP: a request (`reply=False`) and its answer (`reply=True`).

    `join` marks the exchange a join (start-up join or serf reconnect); it does not change the
    merge rules in this model (it only gates serf user-event replay, which we do not model).
    """

    stream: ClassVar[bool] = True
    seq: int
    join: bool
    reply: bool
    nodes: tuple[PushNodeState, ...]
    serf: SerfPushPull


@dataclass(frozen=True, slots=True)
class TcpPing:
    """memberlist's fallback ping over TCP, sent when the direct UDP ping timed out."""

    stream: ClassVar[bool] = True
    seq: int
    target: str
    source: str


@dataclass(frozen=True, slots=True)
class TcpAck:
    """Answer to a `TcpPing` on the same stream."""

    stream: ClassVar[bool] = True
    seq: int


Message = Packet | PushPull | TcpPing | TcpAck


def is_stream(msg: object) -> bool:
    """True for TCP-like messages (no random loss; lost only on a cut link or dead process)."""
    return bool(getattr(msg, "stream", False))
