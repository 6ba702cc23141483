"""Gossip configuration and the timing formulas memberlist derives from it.

Defaults are what a Nomad *server* runs: memberlist's WAN profile (Nomad replaces serf's LAN
profile with `DefaultWANConfig()`), serf's defaults, and Nomad's overrides (ReconnectTimeout 72 h,
LeavePropagateDelay 1 s). See docs/behaviour/gossip.md §1. All durations are integer
nanoseconds, like Go's `time.Duration`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

from autopilot_sim.durations import HOUR, MILLISECOND, MINUTE, SECOND

#: memberlist does not scale the push/pull interval until the pool has more nodes than this.
PUSH_PULL_SCALE_THRESHOLD = 32


@dataclass(frozen=True)
class GossipConfig:
    """Every knob of the memberlist + serf model. Durations are int ns.

    The names follow memberlist / serf (snake_case). Fields that only exist in this model:
    `join_retry_interval` (Nomad agent `server_join.retry_interval`) and
    `randomize_ticker_phase` (see below).
    """

    # --- memberlist (WAN profile = Nomad servers) ---
    probe_interval: int = 5 * SECOND
    probe_timeout: int = 3 * SECOND
    indirect_checks: int = 3
    suspicion_mult: int = 6
    suspicion_max_timeout_mult: int = 6
    retransmit_mult: int = 4
    gossip_interval: int = 500 * MILLISECOND
    gossip_nodes: int = 4
    gossip_to_the_dead_time: int = 60 * SECOND
    push_pull_interval: int = 60 * SECOND
    tcp_timeout: int = 30 * SECOND
    awareness_max_multiplier: int = 8
    disable_tcp_pings: bool = False
    # --- serf (defaults, Nomad overrides ReconnectTimeout and sets LeavePropagateDelay) ---
    reconnect_interval: int = 30 * SECOND
    reconnect_timeout: int = 72 * HOUR
    tombstone_timeout: int = 24 * HOUR
    reap_interval: int = 15 * SECOND
    broadcast_timeout: int = 5 * SECOND
    leave_propagate_delay: int = 1 * SECOND
    recent_intent_timeout: int = 5 * MINUTE
    # --- Nomad agent ---
    #: retry_join: a start-up join that reached nobody is retried after this long (0 = never).
    join_retry_interval: int = 30 * SECOND
    # --- model ---
    #: Go's tickers tick at process start + k * period (memberlist's random "stagger" only
    #: delays the first read of an already-running ticker). Real servers start at unrelated
    #: instants, but scenarios often start them all at t = 0, which would lock every server's
    #: probe and gossip grids in phase. True draws each ticker's phase uniformly in
    #: [0, period) from the node's rng (what the Monte Carlo of docs/behaviour/gossip.md §5
    #: assumes); False ticks exactly at start + k * period.
    randomize_ticker_phase: bool = True

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.type in ("bool", bool):
                if not isinstance(value, bool):
                    raise TypeError(f"GossipConfig.{f.name} must be a bool, got {value!r}")
                continue
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"GossipConfig.{f.name} must be an int, got {value!r}")
            if value < 0:
                raise ValueError(f"GossipConfig.{f.name} must be >= 0, got {value}")
        for name in ("probe_interval", "probe_timeout", "gossip_interval", "push_pull_interval",
                     "tcp_timeout", "reconnect_interval", "reap_interval", "suspicion_mult",
                     "suspicion_max_timeout_mult", "retransmit_mult", "awareness_max_multiplier"):
            if getattr(self, name) == 0:
                raise ValueError(f"GossipConfig.{name} must be > 0")

    @classmethod
    def nomad_test(cls, **overrides: int | bool) -> GossipConfig:
        """Nomad's own test-server timings (`nomad/testing.go` TestServer): fast, not realistic."""
        base: dict[str, int | bool] = {
            "probe_interval": 100 * MILLISECOND, "probe_timeout": 50 * MILLISECOND, "suspicion_mult": 2,
            "retransmit_mult": 2, "gossip_interval": 100 * MILLISECOND,
            "push_pull_interval": 500 * MILLISECOND,
        }
        base.update(overrides)
        return cls(**base)  # type: ignore[arg-type]


def suspicion_timeout(suspicion_mult: int, n: int, interval: int) -> int:
    """memberlist `suspicionTimeout`: mult * max(1, log10(n)) * interval.

    The node scale is truncated to thousandths before multiplying, exactly as memberlist does
    (`time.Duration(nodeScale*1000)`), so n = 11 gives 31.23 s, not 31.236 s.
    """
    node_scale = max(1.0, math.log10(max(1.0, float(n))))
    return suspicion_mult * int(node_scale * 1000) * interval // 1000


def retransmit_limit(retransmit_mult: int, n: int) -> int:
    """memberlist `retransmitLimit`: packets per broadcast, mult * ceil(log10(n + 1))."""
    return retransmit_mult * math.ceil(math.log10(n + 1))


def remaining_suspicion_time(confirmations: int, k: int, elapsed: int, lo: int, hi: int) -> int:
    """memberlist `remainingSuspicionTime` (Lifeguard): time left on a suspicion timer.

    The total timeout shrinks from `hi` towards `lo` as log(c+1)/log(k+1) with c independent
    confirmations; it is floored to whole milliseconds and never below `lo`.
    """
    frac = math.log(confirmations + 1.0) / math.log(k + 1.0)
    raw = hi / SECOND - frac * (hi / SECOND - lo / SECOND)
    timeout = math.floor(1000.0 * raw) * MILLISECOND
    timeout = max(timeout, lo)
    return timeout - elapsed


def push_pull_scale(interval: int, n: int) -> int:
    """memberlist `pushPullScale`: slow push/pull down in pools above 32 nodes."""
    if n <= PUSH_PULL_SCALE_THRESHOLD:
        return interval
    multiplier = math.ceil(math.log2(n) - math.log2(PUSH_PULL_SCALE_THRESHOLD)) + 1
    return multiplier * interval
