"""Sweeps: one scenario run over parameter values × seeds, on a local process pool or Dask.

    from autopilot_sim.sweep import sweep
    records = sweep("scenarios/follower-crash-cleanup.yaml", seeds=50,
                    sets={"autopilot.reconcile_interval": ["5s", "10s", "30s"]}, out="runs/sweep")

`plan` decides the runs and their seeds, `worker` runs them and flattens each summary
(`flatten`), `backends` places them (this process, a process pool, a Dask cluster), `aggregate`
writes summary.csv and `core` ties it together with the sweep directory.
"""

from autopilot_sim.sweep.core import Records, SweepError, sweep
from autopilot_sim.sweep.plan import PlanError, RunSpec

__all__ = ["PlanError", "Records", "RunSpec", "SweepError", "sweep"]
