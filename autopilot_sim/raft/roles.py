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
