"""Raft roles and the node-level timer keys (shared by the node's modules)."""

from __future__ import annotations

from typing import Final

FOLLOWER: Final = "Follower"
CANDIDATE: Final = "Candidate"
LEADER: Final = "Leader"
SHUTDOWN: Final = "Shutdown"

# Node-level timer keys: they run on the main loop (a disk write delays them). Per-peer keys,
# tuples, live on the Progress object and run on goroutines of their own.
T_FOLLOWER: Final = "follower"
T_ELECTION: Final = "election"
T_LEASE: Final = "lease"
T_TRANSFER: Final = "transfer"

#: Timers handled by the node's main loop (which a disk write blocks); the per-peer heartbeat,
#: commit and back-off timers run on goroutines of their own.
MAIN_LOOP_TIMERS: Final = frozenset({T_FOLLOWER, T_ELECTION, T_LEASE, T_TRANSFER})
