"""A pure, deterministic model of a hashicorp/raft v1.7.3 server (no SimPy, no I/O, no clock)."""

from autopilot_sim.raft.node import RaftNode
from autopilot_sim.raft.roles import CANDIDATE, FOLLOWER, LEADER, SHUTDOWN
from autopilot_sim.raft.timing import RaftTiming, TimingError

__all__ = ["CANDIDATE", "FOLLOWER", "LEADER", "SHUTDOWN", "RaftNode", "RaftTiming", "TimingError"]
