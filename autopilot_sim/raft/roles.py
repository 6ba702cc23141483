"""Raft roles and the node-level timer keys (shared by the node's modules)."""

from __future__ import annotations

FOLLOWER = "Follower"
CANDIDATE = "Candidate"
LEADER = "Leader"
SHUTDOWN = "Shutdown"

# Node-level timer keys: they run on the main loop (a disk write delays them). Per-peer keys,
# tuples, live on the Progress object and run on goroutines of their own.
T_FOLLOWER = "follower"
T_ELECTION = "election"
T_LEASE = "lease"
T_TRANSFER = "transfer"

#: Timers handled by the node's main loop (which a disk write blocks); the per-peer heartbeat,
#: commit and back-off timers run on goroutines of their own.
MAIN_LOOP_TIMERS = frozenset({T_FOLLOWER, T_ELECTION, T_LEASE, T_TRANSFER})
