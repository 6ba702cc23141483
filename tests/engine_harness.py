"""Shared helpers for the SimPy engine tests."""

from __future__ import annotations

from autopilot_sim.durations import MILLISECOND, SECOND
from autopilot_sim.raft.node import LEADER
from autopilot_sim.raft.timing import RaftTiming
from autopilot_sim.sim.cluster import Cluster, ServerSpecLite
from autopilot_sim.sim.network import Latency, Network

MS = MILLISECOND
S = SECOND
LAN = Latency("uniform", min=1 * MS, max=5 * MS)


def names(n: int) -> list[str]:
    return [f"node{i}" for i in range(1, n + 1)]


def make_cluster(n: int = 5, seed: int = 1, writes_per_second: float = 0.0, timing: RaftTiming | None = None,
                 latency: Latency = LAN, disk_latency: Latency | None = None) -> Cluster:
    net = Network(seed, latency)
    return Cluster([ServerSpecLite(name) for name in names(n)], timing or RaftTiming(), net, seed=seed,
                   writes_per_second=writes_per_second, disk_latency=disk_latency)


def run_until(c: Cluster, predicate, limit: int, step: int = 1 * MS) -> int | None:
    """Advance in `step`s until predicate(c) holds or `limit` (absolute ns) is reached.
    Returns the time it first held, or None."""
    while c.now < limit:
        if predicate(c):
            return c.now
        c.run(min(limit, c.now + step))
    return c.now if predicate(c) else None


def leaders(c: Cluster) -> list[str]:
    return [name for name, s in c.servers.items() if s.up and s.node.role == LEADER]


def converged(c: Cluster) -> bool:
    """Exactly one leader; every up server in its term with the same last index/term and commit."""
    found = leaders(c)
    if len(found) != 1:
        return False
    lead = c.servers[found[0]].node
    want = (lead.current_term, lead.last_index, lead.last_term, lead.commit_index)
    return all(
        (s.node.current_term, s.node.last_index, s.node.last_term, s.node.commit_index) == want
        for s in c.servers.values() if s.up
    )
