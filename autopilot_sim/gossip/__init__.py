"""Gossip membership of Nomad servers: a pure SWIM/Lifeguard (memberlist) + serf model.

Use `GossipNode` (one per server process) with a `GossipConfig` (defaults = a real Nomad
server: memberlist WAN profile, serf defaults, Nomad overrides). The engine delivers messages
and timers; the node never reads a clock or does I/O. See docs/gossip.md.
"""

from autopilot_sim.gossip.config import (
    GossipConfig,
    push_pull_scale,
    remaining_suspicion_time,
    retransmit_limit,
    suspicion_timeout,
)
from autopilot_sim.gossip.messages import (
    Ack,
    Alive,
    Dead,
    IndirectPing,
    JoinIntent,
    LeaveIntent,
    Nack,
    Packet,
    Ping,
    PushNodeState,
    PushPull,
    SerfPushPull,
    Suspect,
    TcpAck,
    TcpPing,
    is_stream,
)
from autopilot_sim.gossip.node import (
    MEMBER_FAILED,
    MEMBER_JOIN,
    MEMBER_LEAVE,
    MEMBER_REAP,
    MEMBER_UPDATE,
    STATUS_ALIVE,
    STATUS_FAILED,
    STATUS_LEAVING,
    STATUS_LEFT,
    GossipNode,
    MemberInfo,
    SerfEvent,
)

__all__ = [
    "MEMBER_FAILED",
    "MEMBER_JOIN",
    "MEMBER_LEAVE",
    "MEMBER_REAP",
    "MEMBER_UPDATE",
    "STATUS_ALIVE",
    "STATUS_FAILED",
    "STATUS_LEAVING",
    "STATUS_LEFT",
    "Ack",
    "Alive",
    "Dead",
    "GossipConfig",
    "GossipNode",
    "IndirectPing",
    "JoinIntent",
    "LeaveIntent",
    "MemberInfo",
    "Nack",
    "Packet",
    "Ping",
    "PushNodeState",
    "PushPull",
    "SerfEvent",
    "SerfPushPull",
    "Suspect",
    "TcpAck",
    "TcpPing",
    "is_stream",
    "push_pull_scale",
    "remaining_suspicion_time",
    "retransmit_limit",
    "suspicion_timeout",
]
