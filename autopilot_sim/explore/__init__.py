"""Explore: random fault plans within a budget, checked against properties, failures shrunk.

    from autopilot_sim.explore import explore
    found = explore("scenarios/healthy-baseline.yaml", budget="crash<=2, partition<=1, down_for<=90s",
                    plans=50, properties=["no-quorum-loss", "leaderless<=10s"], out="runs/explore")

`budget` parses the budget, `faults` holds a fault and the events it becomes, `generate` draws
plans from seeded streams, `properties` judges a run, `worker` runs and shrinks plans in any
process, `story` and `report` write for people, and `core` ties it together with the
exploration directory. Plans run on the sweep machinery (`sweep.backends.map_tasks`: this
process, a local process pool or Dask), and every file is the same on any backend.
"""

from autopilot_sim.explore.budget import Budget, BudgetError, parse_budget
from autopilot_sim.explore.core import DEFAULT_BUDGET, Exploration, ExploreError, explore
from autopilot_sim.explore.faults import Fault
from autopilot_sim.explore.properties import Property, PropertyError, parse_properties

__all__ = [
    "DEFAULT_BUDGET",
    "Budget",
    "BudgetError",
    "Exploration",
    "ExploreError",
    "Fault",
    "Property",
    "PropertyError",
    "explore",
    "parse_budget",
    "parse_properties",
]
