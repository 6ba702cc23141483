"""Carry out runs of a sweep in whatever process they land in (the parent, a pool worker, a Dask
worker) and turn each into one flat record.

Only plain data crosses process boundaries: the scenario's text and file name, and the runs'
parameters and seeds. A worker never needs the scenario file on its own disk; it needs
autopilot-sim installed. Loaded scenarios are memoised per process and parameter combination
(a sweep runs many seeds of each), which is why chunks of runs go to the same worker.
"""

from __future__ import annotations

import functools
from typing import Any

from autopilot_sim.sweep.flatten import flatten_summary
from autopilot_sim.sweep.plan import RunSpec, run_key

#: Exit statuses, as `autopilot-sim run` uses them.
EXIT_OK, EXIT_CHECK_FAILED, EXIT_ERROR = 0, 1, 2


@functools.lru_cache(maxsize=32)
def load_cached(text: str, filename: str, overrides: tuple[str, ...]) -> Any:
    """The scenario of a sweep, parsed once per process for each (text, overrides)."""
    from autopilot_sim.scenario import load_scenario_text

    return load_scenario_text(text, filename, overrides=list(overrides))


def base_record(spec: RunSpec) -> dict[str, Any]:
    """The identifying part of a record: parameters, seed, plan position."""
    record: dict[str, Any] = dict(spec.params)
    record.update({"combination": spec.combination, "seed_index": spec.seed_index, "seed": spec.seed,
                   "key": run_key(dict(spec.params), spec.seed)})
    return record


def error_record(spec: RunSpec, message: str) -> dict[str, Any]:
    """A run that could not be carried out (bad override value, a scenario event that failed)."""
    record = base_record(spec)
    record.update({"status": "error", "exit": EXIT_ERROR, "error": message})
    return record


def run_one(text: str, filename: str, spec: RunSpec) -> dict[str, Any]:
    """Run one sweep run and return its flat record; never raises for a failed run."""
    from autopilot_sim.scenario import ScenarioError
    from autopilot_sim.sim.runner import ScenarioRunError, Simulation

    try:
        scenario = load_cached(text, filename, tuple(spec.overrides))
    except ScenarioError as exc:
        return error_record(spec, str(exc))
    try:
        result = Simulation(scenario, seed=spec.seed).run()
    except ScenarioRunError as exc:
        return error_record(spec, f"{filename}: {exc}")
    except Exception as exc:  # a bug must not stop the other runs: record it
        return error_record(spec, f"{type(exc).__name__}: {exc}")
    record = base_record(spec)
    if result.error:
        record.update({"status": "safety_violation", "exit": EXIT_CHECK_FAILED, "error": result.error})
    elif result.failed_expectations:
        failed = ", ".join(f"expect[{r.index}]" for r in result.failed_expectations)
        record.update({"status": "expectation_failed", "exit": EXIT_CHECK_FAILED, "error": f"failed: {failed}"})
    else:
        record.update({"status": "ok", "exit": EXIT_OK, "error": None})
    record.update(flatten_summary(result.summary))
    return record


def run_chunk(text: str, filename: str, specs: list[RunSpec]) -> list[dict[str, Any]]:
    """Run several runs in this process, in order (the unit of work sent to a worker)."""
    return [run_one(text, filename, spec) for spec in specs]
