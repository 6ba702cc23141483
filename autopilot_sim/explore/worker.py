"""Carry out the work of an exploration in whatever process it lands in (this one, a pool
worker, a Dask worker): run one plan and judge it (`run_task`), or shrink one failing plan and
produce its failure files (`shrink_task`).

Only plain data crosses process boundaries (`Context`, fault lists as JSON, names, seeds), and
the results are plain data too (texts, PNG bytes): a worker writes nothing, so a Dask worker
needs no shared disk, and the parent writes every file — the same bytes on any backend.
"""

from __future__ import annotations

import copy
import functools
import io
import json
from dataclasses import dataclass, field
from typing import Any

from autopilot_sim.explore.faults import Fault, plan_conflict, plan_events
from autopilot_sim.explore.properties import Property, Violation, check, parse_property

PASSED, FAILED, INVALID = "passed", "failed", "invalid"
#: Shrinking never leaves a cluster with fewer servers than this (a quorum that can lose one).
MIN_SERVERS = 3
#: Server pairs one pass of `_Shrinker.drop_servers` tries.
PAIR_TRIES = 6
#: A crash of the simulator itself (not a scenario error): reported like a broken property.
RUN_ERROR = "run-error"


@dataclass(frozen=True)
class Context:
    """What every task needs: the scenario (text and file name), the properties (labels), the
    time window and fault floors of the budget, and the servers a shrink may drop."""

    text: str
    filename: str
    properties: tuple[str, ...]
    start: int
    end: int
    down_min: int
    loss_min: float
    droppable: tuple[str, ...] = ()
    max_runs: int = 120


@dataclass
class Outcome:
    """The verdict on one run of a plan."""

    status: str
    violations: list[Violation] = field(default_factory=list)
    error: str | None = None

    def fails(self, prop: str) -> bool:
        return any(v.prop == prop for v in self.violations)

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status, "violations": [v.to_json() for v in self.violations], "error": self.error}


@functools.lru_cache(maxsize=8)
def _base(text: str, filename: str) -> tuple[Any, dict[str, Any]]:
    from autopilot_sim.sweep.worker import load_cached

    scenario = load_cached(text, filename, ())
    return scenario, scenario.to_resolved_dict()


def base_scenario(ctx: Context) -> Any:
    """The scenario explored (parsed once per process)."""
    return _base(ctx.text, ctx.filename)[0]


def compose(ctx: Context, faults: list[Fault], seed: int, dropped: tuple[str, ...] = (),
            name: str | None = None) -> Any:
    """The scenario with the plan's events added (in time order, the scenario's own events first
    at equal times), run with `seed`, without the `dropped` servers. Raises `ScenarioError` when
    the result is not a valid scenario."""
    from autopilot_sim.durations import parse_duration
    from autopilot_sim.scenario import apply_overrides

    base, resolved = _base(ctx.text, ctx.filename)
    data = copy.deepcopy(resolved)
    data["seed"] = seed
    if name is not None:
        data["name"] = name
    if dropped:
        cluster = data["cluster"]
        cluster["servers"] = [s for s in cluster["servers"] if s["name"] not in dropped]
        cluster["bootstrap_expect"] = len(cluster["servers"])
    own = [(parse_duration(e["at"]), 0, i, e) for i, e in enumerate(data["events"])]
    added = [(parse_duration(e["at"]), 1, i, e) for i, e in enumerate(plan_events(faults, base.network.loss))]
    data["events"] = [e for *_, e in sorted(own + added, key=lambda item: item[:3])]
    return apply_overrides(data, [], filename=ctx.filename)


def _servers(ctx: Context, dropped: tuple[str, ...]) -> list[str]:
    return [s.name for s in base_scenario(ctx).cluster.servers if s.name not in dropped]


def judge(ctx: Context, scenario: Any, props: list[Property], dropped: tuple[str, ...] = ()) -> tuple[Outcome, Any]:
    """Run `scenario` and check the properties: (outcome, the RunResult or None)."""
    from autopilot_sim.sim.runner import ScenarioRunError, Simulation

    try:
        result = Simulation(scenario).run()
    except ScenarioRunError as exc:
        return Outcome(INVALID, error=str(exc)), None
    except Exception as exc:  # a simulator bug found by the plan: report it, do not stop
        return Outcome(FAILED, [Violation(RUN_ERROR, f"{type(exc).__name__}: {exc}")], error=str(exc)), None
    violations = check(props, result, _servers(ctx, dropped))
    return Outcome(FAILED if violations else PASSED, violations), result


def evaluate(ctx: Context, faults: list[Fault], seed: int, dropped: tuple[str, ...] = ()) -> Outcome:
    """Compose, run and judge one plan."""
    from autopilot_sim.scenario import ScenarioError

    props = [parse_property(p) for p in ctx.properties]
    try:
        scenario = compose(ctx, faults, seed, dropped)
    except ScenarioError as exc:
        return Outcome(INVALID, error=str(exc))
    return judge(ctx, scenario, props, dropped)[0]


def run_task(task: tuple[Context, list[dict[str, Any]], int]) -> dict[str, Any]:
    """One plan (faults as JSON, seed) → its outcome as JSON (the unit of work of the search)."""
    ctx, faults, seed = task
    return evaluate(ctx, [Fault.from_json(f) for f in faults], seed).to_json()


# ---------------------------------------------------------------------------------- shrinking


class _Shrinker:
    """Greedy shrinking of one failing plan against one property (see `shrink`)."""

    def __init__(self, ctx: Context, seed: int, target: str) -> None:
        self.ctx, self.seed, self.target = ctx, seed, target
        self.cache: dict[str, bool] = {}
        self.runs = 0

    def fails(self, faults: list[Fault], dropped: tuple[str, ...]) -> bool:
        if plan_conflict(faults, self.ctx.start, self.ctx.end) is not None:
            return False
        if any(s in dropped for f in faults for s in f.servers()):
            return False
        key = json.dumps([[f.to_json() for f in faults], list(dropped)], sort_keys=True)
        if key not in self.cache:
            if self.runs >= self.ctx.max_runs:
                return False
            self.runs += 1
            self.cache[key] = evaluate(self.ctx, faults, self.seed, dropped).fails(self.target)
        return self.cache[key]

    def remove_faults(self, faults: list[Fault], dropped: tuple[str, ...]) -> list[Fault]:
        """ddmin over the faults: drop chunks (halves, quarters, ... single faults) while the
        rest still fails; the empty plan is tried first."""
        if faults and self.fails([], dropped):
            return []
        n = 2
        while len(faults) >= 2:
            size = -(-len(faults) // n)
            chunks = [faults[i:i + size] for i in range(0, len(faults), size)]
            for i in range(len(chunks)):
                rest = [f for j, c in enumerate(chunks) if j != i for f in c]
                if self.fails(rest, dropped):
                    faults, n = rest, max(n - 1, 2)
                    break
            else:
                if n >= len(faults):
                    break
                n = min(len(faults), 2 * n)
        return faults

    def drop_servers(self, faults: list[Fault], dropped: tuple[str, ...]) -> tuple[str, ...]:
        """Leave out two servers at a time (a cluster keeps its parity: 5 → 3, never below
        `MIN_SERVERS`), the last ones first, while the plan still fails. A pair is tried only when
        no fault names either server; at most `PAIR_TRIES` pairs per pass."""
        while True:
            left = [n for n in self.ctx.droppable if n not in dropped]
            if len(_servers(self.ctx, dropped)) - 2 < MIN_SERVERS:
                return dropped
            named = {s for f in faults for s in f.servers()}
            free = [n for n in reversed(left) if n not in named]
            pairs = [(a, b) for i, a in enumerate(free) for b in free[i + 1:]][:PAIR_TRIES]
            for a, b in pairs:
                if self.fails(faults, (*dropped, a, b)):
                    dropped = (*dropped, a, b)
                    break
            else:
                return dropped

    def smallest(self, lo: int, hi: int, fails_at: Any) -> int:
        """The smallest value in [lo, hi] (hi fails) found by bisection: lo first, then at most
        7 halvings; never returns a value that was not seen to fail."""
        if lo >= hi:
            return hi
        if fails_at(lo):
            return lo
        for _ in range(7):
            if hi - lo <= 1:
                break
            mid = (lo + hi) // 2
            if fails_at(mid):
                hi = mid
            else:
                lo = mid
        return hi

    def tune(self, faults: list[Fault], dropped: tuple[str, ...], i: int, key: str, lo: int, hi: int,
             unit: int) -> list[Fault]:
        """Fault `i` with its field `key` (a count of `unit` ns; for ``loss``, of hundredths) as
        small as it can be while the plan still fails."""
        def value(units: int) -> int | float:
            return round(units / 100, 2) if key == "loss" else units * unit

        def plan_with(units: int) -> list[Fault]:
            return [*faults[:i], faults[i].with_(**{key: value(units)}), *faults[i + 1:]]

        units = self.smallest(lo, hi, lambda u: self.fails(plan_with(u), dropped))
        return plan_with(units)

    def tighten(self, faults: list[Fault], dropped: tuple[str, ...]) -> list[Fault]:
        """Shorter faults, then earlier ones, then less loss, one fault at a time."""
        from autopilot_sim.explore.faults import STEP

        ctx = self.ctx
        for i in range(len(faults)):
            faults = self.tune(faults, dropped, i, "length", -(-ctx.down_min // STEP), faults[i].length // STEP, STEP)
        for i in range(len(faults)):
            faults = self.tune(faults, dropped, i, "at", -(-ctx.start // STEP), faults[i].at // STEP, STEP)
        for i in range(len(faults)):
            if faults[i].kind == "loss":
                faults = self.tune(faults, dropped, i, "loss", max(1, round(ctx.loss_min * 100)),
                                   round(faults[i].loss * 100), 1)
        return faults


def shrink(ctx: Context, faults: list[Fault], seed: int, target: str) -> tuple[list[Fault], tuple[str, ...], int]:
    """Shrink a plan that fails `target` (a property label) with `seed`: passes of fault removal
    (delta debugging), dropping servers (two at a time, only `ctx.droppable` ones, never one a
    fault names), shorter faults, earlier faults and less loss, repeated until a pass changes
    nothing or the run budget (`ctx.max_runs`) is spent. The seed is kept. Every step is taken only when the
    smaller plan was run and still failed `target`, so the result always fails it.
    Returns (faults, dropped servers, runs made)."""
    s = _Shrinker(ctx, seed, target)
    key = json.dumps([[f.to_json() for f in faults], []], sort_keys=True)
    s.cache[key] = True  # the caller saw it fail
    dropped: tuple[str, ...] = ()
    while True:
        before = (list(faults), dropped)
        faults = s.remove_faults(faults, dropped)
        dropped = s.drop_servers(faults, dropped)
        faults = s.tighten(faults, dropped)
        faults = sorted(faults, key=lambda f: f.at)
        if (faults, dropped) == before or s.runs >= ctx.max_runs:
            return faults, dropped, s.runs


# ------------------------------------------------------------------------ the failure files


@dataclass
class FailureFiles:
    """What `shrink_task` hands back for one failing plan."""

    index: int
    target: str
    faults: list[dict[str, Any]]
    dropped: list[str]
    violations: list[dict[str, Any]]
    runs: int
    yaml: str
    story: str
    markdown: str
    png: bytes
    shrunk: bool

    def to_json(self) -> dict[str, Any]:
        return {"plan": self.index, "property": self.target, "faults": self.faults, "dropped": self.dropped,
                "violations": self.violations, "shrink_runs": self.runs, "shrunk": self.shrunk}


def _png(result: Any) -> bytes:
    from autopilot_sim.plot_common import DPI
    from autopilot_sim.plot_timeline import failure_tolerance_timeline
    from autopilot_sim.rundata import Run

    fig = failure_tolerance_timeline(Run.from_result(result))
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def shrink_task(task: tuple[Context, int, list[dict[str, Any]], int, str, str]) -> FailureFiles:
    """Shrink failing plan `index` against `target`, then write (in memory) its failure files:
    the scenario file, its story and its timeline plot. The scenario text is loaded and run once
    more as written; if it did not fail (it always should: runs are deterministic) the original
    plan is written instead, so a failure file never holds a passing plan."""
    from autopilot_sim.explore.story import failure_yaml, story_markdown, story_paragraph
    from autopilot_sim.scenario import load_scenario_text

    ctx, index, fault_json, seed, target, file_name = task
    original = [Fault.from_json(f) for f in fault_json]
    faults, dropped, runs = shrink(ctx, original, seed, target)
    props = [parse_property(p) for p in ctx.properties]
    base = base_scenario(ctx)
    name = f"{base.name}-failure-{file_name.split('.')[0]}"
    for candidate, drop, shrunk in ((faults, dropped, True), (original, (), False)):  # noqa: B007 (used after)
        scenario = compose(ctx, candidate, seed, drop, name=name)
        header_free = scenario.to_resolved_yaml()
        reloaded = load_scenario_text(header_free, file_name)
        outcome, result = judge(ctx, reloaded, props, drop)
        if outcome.fails(target):
            break
    else:  # pragma: no cover - runs are deterministic
        raise RuntimeError(f"plan {index}: neither the shrunk nor the original plan fails {target} again")
    violation = next(v for v in outcome.violations if v.prop == target)
    paragraph = story_paragraph(base.name, index, target, violation, candidate, original, drop, result)
    yaml_text = failure_yaml(header_free, file_name, target, paragraph, candidate, original, index, seed, drop)
    markdown = story_markdown(file_name, target, paragraph, violation, candidate, result)
    return FailureFiles(index, target, [f.to_json() for f in candidate], list(drop),
                        [v.to_json() for v in outcome.violations], runs, yaml_text, paragraph, markdown,
                        _png(result) if result is not None else b"", shrunk)
