"""autopilot-sim: a deterministic simulator of a Nomad-style Raft cluster and its autopilot."""

from autopilot_sim import native

__version__ = "0.1.0"

native.select_build()  # compiled hot modules when built and up to date, else pure Python
