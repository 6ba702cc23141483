"""A rough estimate of what a scenario costs to simulate, before it runs.

Each bound of the format is generous on its own (30 days, 100 servers, 10,000 writes/s), but
together they can ask for years of wall time. `estimate` counts the simulated events a run
will roughly handle — messages and timer firings — from the scenario's steady rates:

* Raft: the leader heartbeats each follower every ``heartbeat_timeout / 10`` (hashicorp/raft;
  the paper profile: every ``heartbeat_interval``), a request and a response each;
* client writes: each one appended and sent to every follower, and answered;
* gossip: every server probes one member per ``probe_interval`` (ping and ack) and sends to
  ``gossip_nodes`` members per ``gossip_interval``;
* autopilot: each update tick asks every server for its stats (request and response).

It deliberately overestimates (writes are batched in reality, gossip is sent only when
something is queued). `run` prints a warning above `WARN_EVENTS`, and the loader refuses a
scenario above `MAX_EVENTS`; the simulator handles a few hundred thousand events a second.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from autopilot_sim.durations import SECOND, format_duration

#: Above this many estimated events `run` warns before it starts (minutes of wall time).
WARN_EVENTS = 100_000_000
#: Above this many the scenario is refused (many hours of wall time).
MAX_EVENTS = 5_000_000_000
#: Rough simulation speed used to turn events into wall time, events per second (one core).
EVENTS_PER_SECOND = 300_000


@dataclass(frozen=True)
class Cost:
    """The estimate: ``events`` in all over ``duration`` ns, with ``servers`` at most and
    ``per_second`` simulated events per simulated second at the busiest."""

    events: int
    duration: int
    servers: int
    per_second: float

    @property
    def wall_seconds(self) -> float:
        """A rough wall time for the run at `EVENTS_PER_SECOND`."""
        return self.events / EVENTS_PER_SECOND

    def describe(self) -> str:
        """``about 3.3e+08 events (30 days x 5 servers x ~128 events/s), roughly 18 minutes``."""
        return (f"about {self.events:.2g} simulated events ({format_duration(self.duration)} x "
                f"{self.servers} servers at up to {self.per_second:,.0f} events/s), roughly "
                f"{_wall(self.wall_seconds)} of wall time")


def _wall(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} seconds"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} minutes"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.0f} hours"
    return f"{seconds / 86400:.0f} days"


def estimate(scenario: Any, duration: int | None = None) -> Cost:
    """The cost of running ``scenario`` (a validated `Scenario`) for ``duration`` ns (default:
    its own duration)."""
    duration = scenario.duration if duration is None else duration
    servers = len(scenario.server_names())
    writes = max([scenario.load.writes_per_second]
                 + [e.set_load.writes_per_second for e in scenario.events if e.set_load is not None])
    raft = scenario.raft
    heartbeat = raft.heartbeat_interval or max(1, raft.effective().heartbeat_timeout // 10)
    gossip = scenario.gossip
    followers = max(0, servers - 1)
    per_second = (
        2 * followers * SECOND / heartbeat
        + writes * (1 + 2 * followers)
        + servers * (2 * SECOND / gossip.probe_interval + gossip.gossip_nodes * SECOND / gossip.gossip_interval)
        + (2 * servers + 1) * SECOND / scenario.autopilot.update_interval
    )
    return Cost(int(per_second * duration / SECOND), duration, servers, per_second)


def too_costly(scenario: Any) -> str | None:
    """The error message when ``scenario`` is above `MAX_EVENTS`, else None."""
    cost = estimate(scenario)
    if cost.events <= MAX_EVENTS:
        return None
    return (f"this scenario would take {cost.describe()}; the limit is {MAX_EVENTS:.0e} events: "
            "shorten the duration or lower the write rate or the number of servers")
