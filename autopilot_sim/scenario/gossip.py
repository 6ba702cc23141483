"""The `gossip:` block: memberlist (SWIM) and Serf timing as Nomad servers run them.

Nomad servers use memberlist's **WAN** profile and Serf defaults with Nomad's overrides
(docs/behaviour/gossip.md §1, §9); every default below is that value. Key names are the
snake_case of the memberlist / serf ``Config`` fields.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from autopilot_sim.durations import HOUR, MILLISECOND, SECOND
from autopilot_sim.scenario.base import ScenarioModel
from autopilot_sim.scenario.types import Duration, PositiveDuration, duration_type

#: Shortest gossip period or probe timeout: a fifth of the fastest Nomad itself uses (its test
#: servers: ProbeInterval 100ms, ProbeTimeout 50ms, GossipInterval 100ms). Below it a probe cannot
#: outlast a round trip on the default network, and every tick of every server is simulated.
MIN_GOSSIP_TICK = 10 * MILLISECOND
_WHY = "Nomad's fastest gossip timing, its test servers', is 50ms-100ms"
if TYPE_CHECKING:  # to mypy a duration field is the int of ns it holds
    GossipTick = int
else:
    GossipTick = duration_type(MIN_GOSSIP_TICK, why=_WHY)
_AT_LEAST = " At least 10ms (Nomad's fastest, its test servers', is 50ms-100ms)."


class GossipSpec(ScenarioModel):
    """Serf / memberlist failure detection and membership timing."""

    # memberlist (DefaultWANConfig)
    probe_interval: GossipTick = Field(
        5 * SECOND, description="memberlist ProbeInterval: one probe per tick (WAN 5s)." + _AT_LEAST)
    probe_timeout: GossipTick = Field(
        3 * SECOND, description="memberlist ProbeTimeout: wait for a direct ack (WAN 3s)." + _AT_LEAST)
    indirect_checks: int = Field(
        3, ge=0, le=16, description="memberlist IndirectChecks: helpers asked to ping a target.")
    suspicion_mult: int = Field(
        6, ge=1, le=100,
        description="memberlist SuspicionMult: suspicion timeout = mult × max(1, log10 n) × "
                    "probe_interval (WAN 6).")
    suspicion_max_timeout_mult: int = Field(
        6, ge=1, le=100, description="memberlist SuspicionMaxTimeoutMult (6).")
    retransmit_mult: int = Field(
        4, ge=1, le=100, description="memberlist RetransmitMult: sends per broadcast = mult × "
                                     "ceil(log10(n+1)).")
    gossip_interval: GossipTick = Field(
        500 * MILLISECOND, description="memberlist GossipInterval (WAN 500ms)." + _AT_LEAST)
    gossip_nodes: int = Field(
        4, ge=1, le=64, description="memberlist GossipNodes: random targets per gossip tick (WAN 4).")
    gossip_to_the_dead_time: PositiveDuration = Field(
        60 * SECOND, description="memberlist GossipToTheDeadTime (WAN 60s).")
    push_pull_interval: GossipTick = Field(
        60 * SECOND, description="memberlist PushPullInterval: full-state sync (WAN 60s)." + _AT_LEAST)
    tcp_timeout: PositiveDuration = Field(
        30 * SECOND, description="memberlist TCPTimeout: join / push-pull stream timeout (WAN 30s).")
    awareness_max_multiplier: int = Field(
        8, ge=1, le=64, description="memberlist AwarenessMaxMultiplier: Lifeguard score 0..mult-1.")
    # serf (DefaultConfig + Nomad overrides)
    reconnect_timeout: PositiveDuration = Field(
        72 * HOUR, description="serf ReconnectTimeout: failed members are reaped after this "
                               "(Nomad 72h).")
    reconnect_interval: GossipTick = Field(
        30 * SECOND, description="serf ReconnectInterval: retry joining failed members (30s)." + _AT_LEAST)
    reap_interval: GossipTick = Field(
        15 * SECOND, description="serf ReapInterval (15s)." + _AT_LEAST)
    tombstone_timeout: PositiveDuration = Field(
        24 * HOUR, description="serf TombstoneTimeout: left members are reaped after this (24h).")
    broadcast_timeout: PositiveDuration = Field(
        5 * SECOND, description="serf BroadcastTimeout (5s).")
    leave_propagate_delay: Duration = Field(
        1 * SECOND, description="serf LeavePropagateDelay (Nomad sets 1s).")
