"""The plan of a sweep: which parameter values, which seeds, in which order.

A swept parameter is written ``KEY=V1,V2,...``: ``KEY`` is any scenario override path (as for
``run --set``) and each value is YAML text. Values are split at commas that are not inside
brackets, braces or quotes, so ``network.latency={distribution: constant, value: 2ms}`` is one
value. ``grid`` takes the cross product of the parameters' values (the first parameter varies
slowest); ``zip`` pairs the i-th values of every parameter (all lists must be equally long).

Seeds: run ``i`` (0-based seed index) of every parameter combination uses
``stream_seed(root, "sweep", i) mod 2**32`` — the same seeds for every combination (common
random numbers: a difference between two combinations is not a difference of luck), and the
same on any machine or backend.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from autopilot_sim.rng import stream_seed
from autopilot_sim.scenario.overrides import OverrideError, parse_key, split_override


class PlanError(ValueError):
    """A sweep specification that cannot be planned; the message names the offending option."""


@dataclass(frozen=True)
class RunSpec:
    """One run of a sweep: a parameter combination (in plan order) and one seed."""

    combination: int
    params: tuple[tuple[str, str], ...]
    seed_index: int
    seed: int

    @property
    def key(self) -> str:
        """Identifies the run across processes and resumed sweeps: parameters and seed."""
        return run_key(dict(self.params), self.seed)

    @property
    def overrides(self) -> list[str]:
        """The ``--set KEY=VALUE`` overrides of this run."""
        return [f"{k}={v}" for k, v in self.params]


def run_key(params: dict[str, str], seed: int) -> str:
    """The identity of a run: its parameter values and seed, as canonical JSON."""
    return json.dumps({"params": params, "seed": seed}, sort_keys=True, separators=(",", ":"))


def split_values(text: str) -> list[str]:
    """``"1,2,{a: 1, b: 2}"`` → ``["1", "2", "{a: 1, b: 2}"]``: commas inside brackets, braces
    or quotes do not split."""
    values: list[str] = []
    depth = 0
    quote = ""
    start = 0
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch in "[{(":
            depth += 1
        elif ch in "]})":
            depth -= 1
        elif ch == "," and depth == 0:
            values.append(text[start:i].strip())
            start = i + 1
    values.append(text[start:].strip())
    return values


def parse_set(item: str) -> tuple[str, list[str]]:
    """``"KEY=V1,V2"`` → ``("KEY", ["V1", "V2"])``; raises `PlanError` naming ``--set ITEM``."""
    try:
        key, text = split_override(item)
        parse_key(key)
    except OverrideError as exc:
        raise PlanError(f"--set {item}: {exc.message}") from None
    if key == "seed":
        raise PlanError(f"--set {item}: the sweep sets each run's seed; use --seed ROOT for the root seed")
    values = split_values(text)
    if any(v == "" for v in values):
        raise PlanError(f"--set {item}: empty value in the list (write KEY=V1,V2,...)")
    if len(set(values)) != len(values):
        raise PlanError(f"--set {item}: a value is listed twice")
    return key, values


def seeds_for(root: int, count: int) -> list[int]:
    """The per-run seeds derived from the root seed (see the module docstring)."""
    return [stream_seed(root, "sweep", i) % 2**32 for i in range(count)]


def combinations(sets: list[tuple[str, list[str]]], mode: str = "grid") -> list[tuple[tuple[str, str], ...]]:
    """The parameter combinations, in plan order (one empty combination when nothing is swept)."""
    keys = [k for k, _ in sets]
    if len(set(keys)) != len(keys):
        dup = next(k for k in keys if keys.count(k) > 1)
        raise PlanError(f"--set {dup}: the key is given twice (list all its values in one --set)")
    rows: Iterable[tuple[str, ...]]
    if mode == "grid":
        rows = itertools.product(*[values for _, values in sets])
    elif mode == "zip":
        lengths = {len(values) for _, values in sets}
        if len(lengths) > 1:
            shown = ", ".join(f"{k} has {len(v)}" for k, v in sets)
            raise PlanError(f"--zip needs the same number of values for every --set ({shown})")
        rows = zip(*[values for _, values in sets], strict=True)
    else:
        raise PlanError(f"unknown mode {mode!r}: use grid or zip")
    return [tuple(zip(keys, row, strict=True)) for row in rows]


def plan(sets: list[tuple[str, list[str]]], seeds: int, root_seed: int, mode: str = "grid") -> list[RunSpec]:
    """Every run of the sweep: combinations × seed indexes, combination-major."""
    if seeds < 1:
        raise PlanError(f"--seeds must be at least 1, got {seeds}")
    per_run = seeds_for(root_seed, seeds)
    return [RunSpec(c, params, i, seed)
            for c, params in enumerate(combinations(sets, mode))
            for i, seed in enumerate(per_run)]


def fingerprint(scenario_text: str, sets: list[tuple[str, list[str]]], seeds: int, root_seed: int,
                mode: str) -> dict[str, Any]:
    """What makes two sweeps the same sweep (recorded in sweep.json, checked by --resume)."""
    return {
        "scenario_sha256": hashlib.sha256(scenario_text.encode("utf-8")).hexdigest(),
        "sets": [[k, list(v)] for k, v in sets],
        "seeds": seeds,
        "root_seed": root_seed,
        "mode": mode,
    }
