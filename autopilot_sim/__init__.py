"""autopilot-sim: a deterministic simulator of a Nomad-style Raft cluster and its autopilot."""

__version__ = "0.1.0"
