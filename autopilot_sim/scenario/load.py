"""The `load:` block (and the `set_load` payload): client writes that drive the Raft log."""

from __future__ import annotations

from pydantic import Field

from autopilot_sim.scenario.base import ScenarioModel


class LoadSpec(ScenarioModel):
    """Poisson client writes sent to the leader (each one a Raft log entry)."""

    writes_per_second: float = Field(
        0.0, ge=0.0, le=1_000_000.0,
        description="Mean rate of client writes (a Poisson process); 0 means an idle cluster.")


class LoadPatch(ScenarioModel):
    """The `set_load` payload: the new write rate."""

    writes_per_second: float = Field(ge=0.0, le=1_000_000.0, description="New mean write rate.")
