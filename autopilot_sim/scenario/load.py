"""The `load:` block (and the `set_load` payload): client writes that drive the Raft log."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

from autopilot_sim.scenario.base import ScenarioModel

#: Highest client write rate. hashicorp/raft with an fsync per batch commits a few thousand
#: entries a second on real disks; 10,000/s is beyond any Nomad cluster's write load, and every
#: write is simulated (and replicated to every follower) one by one.
MAX_WRITES_PER_SECOND = 10_000.0
_WHY = ("At most 10000: more than any Nomad cluster's Raft log takes (a few thousand fsynced "
        "entries a second); each write is simulated and replicated one by one.")



def _at_most_max(value: float) -> float:
    if value > MAX_WRITES_PER_SECOND:
        got = f"{value:,.0f}" if value == int(value) else f"{value:,}"
        raise ValueError(f"must be at most {MAX_WRITES_PER_SECOND:,.0f}, got {got} (more than any Nomad "
                         "cluster's Raft log takes: a few thousand fsynced entries a second)")
    return value


#: A write rate: 0 up to `MAX_WRITES_PER_SECOND` (bounded with a reason, not pydantic's `le`).
WriteRate = Annotated[float, Field(ge=0.0, json_schema_extra={"maximum": MAX_WRITES_PER_SECOND}),
                      AfterValidator(_at_most_max)]


class LoadSpec(ScenarioModel):
    """Poisson client writes sent to the leader (each one a Raft log entry)."""

    writes_per_second: WriteRate = Field(
        0.0,
        description="Mean rate of client writes (a Poisson process); 0 means an idle cluster. " + _WHY)


class LoadPatch(ScenarioModel):
    """The `set_load` payload: the new write rate."""

    writes_per_second: WriteRate = Field(description="New mean write rate. " + _WHY)
