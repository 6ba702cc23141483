"""`explore(...)`: draw fault plans, run them, shrink the failures, write the exploration directory.

The exploration directory (``out``):

* ``explore.json`` — what was explored: the scenario file and its SHA-256, the budget (every
  default written out), the properties, the root seed, the number of plans, the servers faults
  may name and those a shrink may leave out;
* ``plans.jsonl`` — one line per plan, written before anything runs: ``plan`` (0 is the
  scenario alone, the baseline; 1..N the drawn plans), ``seed`` (of its run), ``faults`` (see
  `faults.Fault.to_json`) and ``events`` (the scenario events the faults add, as in a scenario
  file);
* ``results.jsonl`` — one line per plan, in plan order: ``plan``, ``seed``, ``status`` (passed |
  failed | invalid: the plan could not be carried out, e.g. ``crash: leader`` with no leader),
  ``violations`` (``property``, ``detail``, ``t``), ``error``, and for a failed plan ``failure``
  (its failure file) and ``minimal`` (the shrunk faults);
* ``failures/NNN.yaml`` — per failed plan NNN, the shrunk plan as a complete scenario file that
  `autopilot-sim run` accepts and whose run breaks the property (the story in its header);
  ``failures/NNN.md`` its story with the narrated events; ``failures/NNN.png`` its timeline;
* ``report.md`` — failure classes (property × fault kinds of the minimal plan) ranked by how many
  plans fell in each, the properties broken, every failure's story, the invalid plans.

No wall time, path of the machine or worker count goes into these files: the same command and
seed write the same bytes with any backend and any number of workers.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autopilot_sim.explore.budget import Budget, BudgetError, parse_budget
from autopilot_sim.explore.faults import Fault, plan_events, signature
from autopilot_sim.explore.generate import Space, draw_plan, run_seed
from autopilot_sim.explore.properties import PropertyError, parse_properties
from autopilot_sim.explore.worker import FAILED, INVALID, Context, FailureFiles, run_task, shrink_task

#: Budget used when none is given: one or two crashes and a partition, each up to a minute.
DEFAULT_BUDGET = "crash<=2, partition<=1, down_for<=60s"
EXPLORE_FILE, PLANS_FILE, RESULTS_FILE, REPORT_FILE, FAILURES_DIR = (
    "explore.json", "plans.jsonl", "results.jsonl", "report.md", "failures")


class ExploreError(Exception):
    """An exploration that cannot start (bad budget, property, options or output directory)."""


@dataclass
class FailureClass:
    """Plans whose minimal form breaks the same property with the same kinds of faults."""

    prop: str
    faults: str
    plans: list[int] = field(default_factory=list)
    example: str = ""


@dataclass
class Exploration:
    """What `explore` found: per plan its faults, seed and outcome, the failures and classes."""

    scenario: str
    budget: Budget
    properties: list[str]
    root_seed: int
    plans: list[dict[str, Any]]
    results: list[dict[str, Any]]
    failures: list[FailureFiles]
    classes: list[FailureClass]
    #: Wall time of the search and of the shrinking, in seconds (console only, never in a file).
    wall: dict[str, float] = field(default_factory=dict)

    @property
    def failed(self) -> list[dict[str, Any]]:
        """Results of the plans (baseline included) that broke a property."""
        return [r for r in self.results if r["status"] == FAILED]

    @property
    def invalid(self) -> list[dict[str, Any]]:
        """Results of the plans that could not be carried out."""
        return [r for r in self.results if r["status"] == INVALID]


def _dumps(record: dict[str, Any]) -> str:
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False, allow_nan=False) + "\n"


def _connect(scheduler: Any) -> tuple[Any, bool]:
    from distributed import Client

    if isinstance(scheduler, Client):
        return scheduler, False
    try:
        return Client(scheduler, timeout="10s"), True  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError, ValueError) as exc:
        raise ExploreError(f"--scheduler {scheduler}: cannot connect ({exc})") from None


def fault_servers(base: Any) -> tuple[list[str], list[str]]:
    """(servers faults may name, servers a shrink may leave out), both in cluster order.

    Faults leave alone a server that the scenario's own crash/restart/pause/leave/force_leave/
    upgrade events name (they would collide). Servers can be left out only where that cannot
    change what the scenario itself does: a plain cluster (no Enterprise features, every server
    bootstraps) whose own events aim at no server at all (no role targets either: `crash:
    follower` on a smaller cluster is another fault), and only servers that no link or
    expectation names."""
    from autopilot_sim.scenario import parse_target

    names = list(base.cluster.server_names)
    lifecycle: set[str] = set()
    named: set[str] = set()
    for event in base.events:
        for _, target in event.references():
            ref = parse_target(target)
            if ref.name is not None:
                named.add(ref.name)
                if event.kind in ("crash", "restart", "pause", "leave", "force_leave", "upgrade"):
                    lifecycle.add(ref.name)
        if event.kind == "join":
            named.add(event.join.name)
    for link in base.network.links:
        named.update((link.from_, link.to))
    for exp in base.expect:
        named.update((exp.servers or {}).keys())
    eligible = [n for n in names if n not in lifecycle]
    # Any event that can aim at a server (even by role, or all of them: a rolling restart) counts.
    untargeted = ("set_network", "set_load", "set_autopilot", "heal")
    targeted = any(event.references() or event.kind not in untargeted for event in base.events)
    plain = not base.cluster.enterprise and base.cluster.bootstrap_expect == len(names) and not targeted
    droppable = [n for n in names if n not in named] if plain else []
    return eligible, droppable


def _progress(total: int, enabled: bool, what: str) -> Any:
    if not enabled or total == 0:
        return None
    try:
        from tqdm import tqdm
    except ImportError:  # the progress bar is optional
        return None
    return tqdm(total=total, unit=what, file=sys.stderr, dynamic_ncols=True, desc=what + "s")


def _map(func: Any, tasks: list[Any], workers: int | None, client: Any, bar: Any) -> Iterator[tuple[int, Any]]:
    from autopilot_sim.sweep.backends import map_tasks

    try:
        for position, result in map_tasks(func, tasks, workers=workers, client=client):
            if bar is not None:
                bar.update(1)
            yield position, result
    finally:
        if bar is not None:
            bar.close()


def explore(scenario: str | os.PathLike[str], *, budget: str | Budget = DEFAULT_BUDGET, plans: int,
            properties: list[str] | tuple[str, ...] = (), workers: int | None = None, scheduler: Any = None,
            root_seed: int | None = None, out: str | os.PathLike[str] | None = None,
            progress: bool = False, max_shrink_runs: int = 120, keep_servers: bool = False) -> Exploration:
    """Explore `plans` random fault plans of `budget` on top of `scenario` and shrink every
    failure (see the module docstring for the files written to `out`).

    `properties`: ``--property`` values (default: no-quorum-loss, no-healthy-server-removed,
    expect; safety is always checked). `root_seed`: plans and their seeds derive from it
    (default: the scenario's seed). `workers` / `scheduler`: as for `sweep`. Raises
    `ExploreError` before running anything when the exploration cannot start, `ScenarioError`
    when the scenario file is invalid. `max_shrink_runs` bounds the runs of one shrink;
    `keep_servers` keeps the cluster's size while shrinking.

    Example::

        from autopilot_sim.explore import explore
        found = explore("scenarios/healthy-baseline.yaml", budget="crash<=2, down_for<=60s",
                        plans=20, properties=["no-quorum-loss"], workers=2)
        print([f.faults for f in found.failures])
    """
    from autopilot_sim.sweep.core import read_scenario

    text, filename, base = read_scenario(scenario, ExploreError)
    try:
        parsed = parse_budget(budget) if isinstance(budget, str) else budget
        parsed = parsed.for_duration(base.duration)
        props = parse_properties(list(properties))
    except (BudgetError, PropertyError) as exc:
        raise ExploreError(str(exc)) from None
    if plans < 0:
        raise ExploreError(f"--plans must be 0 or more, got {plans}")
    root = base.seed if root_seed is None else root_seed
    if not 0 <= root < 2**64:
        raise ExploreError(f"--seed must be in [0, 2**64), got {root}")
    if scheduler is not None and workers is not None:
        raise ExploreError("choose either --workers (local pool) or --scheduler (Dask), not both")
    if workers is not None and workers < 1:
        raise ExploreError(f"--workers must be at least 1, got {workers}")
    eligible, droppable = fault_servers(base)
    if keep_servers:
        droppable = []
    if not eligible:
        raise ExploreError(f"{filename}: every server is named by the scenario's own crash, restart, pause, "
                           "leave or upgrade events; faults would collide with them")
    end = parsed.end if parsed.end is not None else base.duration
    space = Space(tuple(eligible), parsed, parsed.start, end)
    ctx = Context(text, filename, tuple(p.label for p in props), parsed.start, end, parsed.down_min,
                  parsed.loss_min, tuple(droppable), max_shrink_runs)
    plan_list: list[dict[str, Any]] = [{"plan": 0, "seed": base.seed, "faults": [], "events": []}]
    for i in range(1, plans + 1):
        faults = draw_plan(root, i, space)
        plan_list.append({"plan": i, "seed": run_seed(root, i), "faults": [f.to_json() for f in faults],
                          "events": plan_events(faults, base.network.loss)})

    out_dir = Path(out) if out is not None else None
    if out_dir is not None:
        _prepare(out_dir)
        meta = {"scenario": filename, "scenario_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
                "budget": parsed.canonical(), "properties": [p.label for p in props], "root_seed": root,
                "plans": plans, "fault_servers": eligible, "droppable_servers": droppable,
                "max_shrink_runs": max_shrink_runs, "keep_servers": keep_servers}
        (out_dir / EXPLORE_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        (out_dir / PLANS_FILE).write_text("".join(_dumps(p) for p in plan_list), encoding="utf-8")

    client, owned = _connect(scheduler) if scheduler is not None else (None, False)
    clock = time.perf_counter()
    wall: dict[str, float] = {}
    try:
        tasks = [(ctx, p["faults"], p["seed"]) for p in plan_list]
        outcomes: dict[int, dict[str, Any]] = dict(_map(run_task, tasks, workers, client,
                                                        _progress(len(tasks), progress, "plan")))
        results = [{"plan": p["plan"], "seed": p["seed"], **outcomes[i]} for i, p in enumerate(plan_list)]
        wall["search_s"] = time.perf_counter() - clock
        clock = time.perf_counter()
        width = max(3, len(str(plans)))
        shrink_tasks = []
        for r in results:
            if r["status"] == FAILED:
                target = r["violations"][0]["property"]
                shrink_tasks.append((ctx, r["plan"], plan_list[r["plan"]]["faults"], r["seed"], target,
                                     f"{r['plan']:0{width}d}.yaml"))
        shrunk: dict[int, FailureFiles] = dict(_map(shrink_task, shrink_tasks, workers, client,
                                                    _progress(len(shrink_tasks), progress, "shrink")))
        wall["shrink_s"] = time.perf_counter() - clock
    finally:
        if owned and client is not None:
            client.close()
    failures = [shrunk[i] for i in range(len(shrink_tasks))]
    by_plan = {f.index: f for f in failures}
    for r in results:
        f = by_plan.get(r["plan"])
        if f is not None:
            r["failure"] = f"{FAILURES_DIR}/{r['plan']:0{width}d}.yaml"
            r["minimal"] = f.faults
            r["minimal_dropped"] = f.dropped
    found = Exploration(filename, parsed, [p.label for p in props], root, plan_list, results, failures,
                        classify(failures, [p.label for p in props], width), wall)
    if out_dir is not None:
        _write(out_dir, found, width)
    return found


def _prepare(out_dir: Path) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise ExploreError(f"--out {out_dir}: exists and is not a directory")
    if (out_dir / EXPLORE_FILE).exists() or (out_dir / RESULTS_FILE).exists():
        raise ExploreError(f"--out {out_dir}: already holds an exploration ({EXPLORE_FILE}); "
                           "choose another directory or remove it")
    out_dir.mkdir(parents=True, exist_ok=True)


def classify(failures: list[FailureFiles], order: list[str], width: int) -> list[FailureClass]:
    """Failure classes ranked: most plans first, then property order, fault kinds, first plan."""
    classes: dict[tuple[str, str], FailureClass] = {}
    for f in failures:
        key = (f.target, signature([Fault.from_json(x) for x in f.faults]))
        cls = classes.setdefault(key, FailureClass(*key, example=f"{FAILURES_DIR}/{f.index:0{width}d}.yaml"))
        cls.plans.append(f.index)

    def rank(c: FailureClass) -> tuple[int, int, str, int]:
        pos = order.index(c.prop) if c.prop in order else len(order)
        return (-len(c.plans), pos, c.faults, c.plans[0])

    return sorted(classes.values(), key=rank)


def _write(out_dir: Path, found: Exploration, width: int) -> None:
    from autopilot_sim.explore.report import report_markdown

    (out_dir / RESULTS_FILE).write_text("".join(_dumps(r) for r in found.results), encoding="utf-8")
    failures_dir = out_dir / FAILURES_DIR
    if failures_dir.exists():
        shutil.rmtree(failures_dir)
    if found.failures:
        failures_dir.mkdir()
    for f in found.failures:
        stem = f"{f.index:0{width}d}"
        (failures_dir / f"{stem}.yaml").write_text(f.yaml, encoding="utf-8")
        (failures_dir / f"{stem}.md").write_text(f.markdown, encoding="utf-8")
        if f.png:
            (failures_dir / f"{stem}.png").write_bytes(f.png)
    (out_dir / REPORT_FILE).write_text(report_markdown(found), encoding="utf-8")
