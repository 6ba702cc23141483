"""`sweep(...)`: many runs of one scenario over parameter values and seeds.

The sweep directory (``out``):

* ``sweep.json`` — what was swept: scenario file and its SHA-256, the ``--set`` lists, grid or
  zip, the number of seeds, the root seed and the derived per-run seeds;
* ``runs.jsonl`` — one flat record per run (`worker.run_one`, `flatten`): the swept
  parameters under their keys, ``combination``, ``seed_index``, ``seed``, ``key``, ``status``
  (ok / expectation_failed / safety_violation / error), ``exit`` (as `run` would exit),
  ``error`` and every summary figure. Records are appended as runs finish (so an interrupted
  sweep loses nothing) and rewritten in plan order at the end, so the file is identical
  whatever the backend or the number of workers;
* ``summary.csv`` — per parameter combination and figure: count, mean, median, p10, p90, p99,
  max, or the share for booleans (`aggregate`).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from autopilot_sim.sweep import backends
from autopilot_sim.sweep.aggregate import summary_csv
from autopilot_sim.sweep.plan import (
    PlanError,
    RunSpec,
    fingerprint,
    parse_set,
    plan,
    seeds_for,
)
from autopilot_sim.sweep.worker import error_record, load_cached

if TYPE_CHECKING:
    from autopilot_sim.scenario import Scenario

SWEEP_FILE, RUNS_FILE, SUMMARY_FILE = "sweep.json", "runs.jsonl", "summary.csv"


class SweepError(Exception):
    """A sweep that cannot start (bad plan, unusable output directory, mismatched --resume)."""


class Records(list):  # type: ignore[type-arg]
    """The sweep's records in plan order; `executed` counts the records this call produced (runs
    carried out, plus runs refused before starting for a bad override value), not those resumed."""

    executed: int = 0


def _value_text(value: Any) -> str:
    """A Python value as the YAML text of an override."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def normalise_sets(sets: Mapping[str, Sequence[Any]] | Iterable[str]) -> list[tuple[str, list[str]]]:
    """``{"a.b": [1, 2]}`` or ``["a.b=1,2"]`` → ``[("a.b", ["1", "2"])]``."""
    if isinstance(sets, Mapping):
        out = []
        for key, values in sets.items():
            if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
                values = [values]
            out.append((key, [_value_text(v) for v in values]))
            if not values:
                raise PlanError(f"--set {key}: no values")
        return out
    return [parse_set(item) for item in sets]


def _read_records(path: Path) -> list[dict[str, Any]]:
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except ValueError:  # a line cut short by an interrupted sweep: that run is redone
            continue
        if isinstance(record, dict) and "key" in record:
            records.append(record)
    return records


def _dumps(record: dict[str, Any]) -> str:
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False, allow_nan=False) + "\n"


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _progress(total: int, enabled: bool) -> Any:
    if not enabled or total == 0:
        return None
    try:
        from tqdm import tqdm
    except ImportError:  # the progress bar is optional
        return None
    return tqdm(total=total, unit="run", file=sys.stderr, dynamic_ncols=True, smoothing=0.1,
                desc="sweep", bar_format="{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} runs "
                                         "[{elapsed}<{remaining}, {rate_fmt}]")


def read_scenario(scenario: str | os.PathLike[str], error: type[Exception]) -> tuple[str, str, Scenario]:
    """The scenario file's text, the name its errors use, and the scenario it holds (what the
    workers load again from the text). An unreadable file raises `error`; an invalid one,
    ScenarioError."""
    from autopilot_sim.scenario import load_scenario_text

    path = Path(scenario)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise error(f"cannot read {path}: {exc.strerror or exc}") from None
    filename = str(scenario)
    return text, filename, load_scenario_text(text, filename)


def sweep(scenario: str | os.PathLike[str], *, seeds: int,
          sets: Mapping[str, Sequence[Any]] | Iterable[str] = (), mode: str = "grid",
          workers: int | None = None, scheduler: Any = None, out: str | os.PathLike[str] | None = None,
          resume: bool = False, root_seed: int | None = None, progress: bool = False) -> Records:
    """Run `scenario` for every parameter combination × `seeds` seeds and return the records.

    `sets`: ``{"autopilot.server_stabilization_time": ["5s", "10s"]}`` or CLI-style
    ``["autopilot.server_stabilization_time=5s,10s"]``; `mode`: ``grid`` (cross product) or
    ``zip``. `root_seed` (default: the scenario's seed) derives the per-run seeds.
    `workers`: processes of the local pool (default: one per CPU; 1 runs in this process);
    `scheduler`: a Dask scheduler address (``tcp://host:8786``) or a `distributed.Client`,
    instead of the local pool. `out`: the sweep directory (nothing is written when None);
    `resume`: keep the finished runs found in ``out`` and run only the others.

    Raises `SweepError` (or its `PlanError` cause) before running anything when the sweep
    cannot start, and `ScenarioError` when the scenario file itself is invalid. A run that
    fails (bad override value, scenario event error, safety violation) is a record with its
    ``status`` and ``error``; it never stops the others.

    Example::

        from autopilot_sim.sweep import sweep
        records = sweep("scenarios/follower-crash-cleanup.yaml", seeds=20,
                        sets={"gossip.suspicion_mult": [4, 6]}, workers=2)
    """
    text, filename, base = read_scenario(scenario, SweepError)
    root = base.seed if root_seed is None else root_seed
    if not 0 <= root < 2**64:
        raise SweepError(f"--seed must be in [0, 2**64), got {root}")
    if scheduler is not None and workers is not None:
        raise SweepError("choose either --workers (local pool) or --scheduler (Dask), not both")
    if workers is not None and workers < 1:
        raise SweepError(f"--workers must be at least 1, got {workers}")
    try:
        swept = normalise_sets(sets)
        specs = plan(swept, seeds, root, mode)
    except PlanError as exc:
        raise SweepError(str(exc)) from None

    # Connect first: an unreachable scheduler must not leave a half-made sweep directory behind.
    client, owned = _connect(scheduler) if scheduler is not None else (None, False)
    try:
        return _sweep(text, filename, swept, specs, seeds, root, mode, workers, client, out, resume, progress)
    finally:
        if owned and client is not None:
            client.close()


def _sweep(text: str, filename: str, swept: list[tuple[str, list[str]]], specs: list[RunSpec], seeds: int,
           root: int, mode: str, workers: int | None, client: Any, out: str | os.PathLike[str] | None,
           resume: bool, progress: bool) -> Records:
    from autopilot_sim.scenario import ScenarioError

    params = [k for k, _ in swept]
    out_dir = Path(out) if out is not None else None
    done: dict[str, dict[str, Any]] = {}
    identity = fingerprint(text, swept, seeds, root, mode)
    if out_dir is not None:
        done = _prepare_dir(out_dir, identity, resume)
        meta = {"scenario": filename, **identity, "parameters": params,
                "seed_values": seeds_for(root, seeds), "runs": len(specs)}
        _write_atomic(out_dir / SWEEP_FILE, json.dumps(meta, indent=2) + "\n")

    planned = {spec.key: spec for spec in specs}
    records: dict[str, dict[str, Any]] = {}
    for key, record in done.items():
        spec = planned.get(key)
        if spec is not None:  # plan position from the current plan (the seed count may differ)
            record.update(combination=spec.combination, seed_index=spec.seed_index)
        records[key] = record
    todo = [spec for spec in specs if spec.key not in done]

    # Bad override values are found here, once per combination, instead of in every worker.
    runnable: list[RunSpec] = []
    bad: dict[int, str] = {}
    for spec in todo:
        if spec.combination not in bad:
            try:
                load_cached(text, filename, tuple(spec.overrides))
                bad[spec.combination] = ""
            except ScenarioError as exc:  # a located message per bad override
                bad[spec.combination] = str(exc)
        if bad[spec.combination]:
            records[spec.key] = error_record(spec, bad[spec.combination])
        else:
            runnable.append(spec)

    stream = (out_dir / RUNS_FILE).open("a", encoding="utf-8") if out_dir is not None else None
    if out_dir is not None and stream is not None and stream.tell() > 0:
        with (out_dir / RUNS_FILE).open("rb") as existing:  # a line cut short must not swallow the next
            existing.seek(-1, os.SEEK_END)
            if existing.read(1) != b"\n":
                stream.write("\n")
    bar = _progress(len(todo), progress)
    executed = 0  # records produced by this call: runs carried out, and runs refused up front
    try:
        for spec in todo:
            if spec.key in records:
                executed += 1
                _emit(records[spec.key], stream, bar)
        for chunk in _execute(text, filename, runnable, workers, client):
            for record in chunk:
                records[record["key"]] = record
                executed += 1
                _emit(record, stream, bar)
    finally:
        if stream is not None:
            stream.close()
        if bar is not None:
            bar.close()

    ordered = Records(sorted(records.values(), key=lambda r: (r["combination"], r["seed_index"], r["key"])))
    ordered.executed = executed
    if out_dir is not None:
        _write_atomic(out_dir / RUNS_FILE, "".join(_dumps(r) for r in ordered))
        _write_atomic(out_dir / SUMMARY_FILE, summary_csv(list(ordered), params))
    return ordered


def _emit(record: dict[str, Any], stream: Any, bar: Any) -> None:
    if stream is not None:
        stream.write(_dumps(record))
        stream.flush()
    if bar is not None:
        bar.update(1)


def _prepare_dir(out_dir: Path, identity: dict[str, Any], resume: bool) -> dict[str, dict[str, Any]]:
    """Create the sweep directory, or check it for --resume; returns the finished runs by key."""
    runs = out_dir / RUNS_FILE
    if out_dir.exists() and not out_dir.is_dir():
        raise SweepError(f"--out {out_dir}: exists and is not a directory")
    if not resume:
        if runs.exists():
            raise SweepError(f"--out {out_dir}: already holds a sweep ({RUNS_FILE}); "
                             "pass --resume to continue it, or choose another directory")
        out_dir.mkdir(parents=True, exist_ok=True)
        runs.write_text("", encoding="utf-8")
        return {}
    out_dir.mkdir(parents=True, exist_ok=True)
    meta_path = out_dir / SWEEP_FILE
    if meta_path.exists():
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise SweepError(f"{meta_path}: unreadable ({exc}); cannot check what it holds") from None
        for field in ("scenario_sha256", "sets", "root_seed", "mode"):
            if meta.get(field) != identity[field]:
                what = "the scenario file changed" if field == "scenario_sha256" else \
                       f"{field} was {json.dumps(meta.get(field))}, now {json.dumps(identity[field])}"
                raise SweepError(f"--resume {out_dir}: not the same sweep ({what}); "
                                 "only --seeds may differ when resuming")
    if not runs.exists():
        return {}
    return {r["key"]: r for r in _read_records(runs)}


def _connect(scheduler: Any) -> tuple[Any, bool]:
    """(Dask client, whether this call owns it) for an address or an existing client."""
    from distributed import Client

    if isinstance(scheduler, Client):
        return scheduler, False
    try:
        return Client(scheduler, timeout="10s"), True  # type: ignore[no-untyped-call]  # untyped library
    except (OSError, TimeoutError, ValueError) as exc:
        raise SweepError(f"--scheduler {scheduler}: cannot connect ({exc})") from None


def _execute(text: str, filename: str, specs: list[RunSpec], workers: int | None,
             client: Any) -> Iterator[list[dict[str, Any]]]:
    if not specs:
        return
    if client is not None:
        chunks = backends.make_chunks(specs, backends.dask_slots(client))
        yield from backends.run_dask(text, filename, chunks, client)
        return
    count = backends.default_workers() if workers is None else workers
    count = min(count, len(specs))
    chunks = backends.make_chunks(specs, count)
    if count <= 1:
        yield from backends.run_inline(text, filename, chunks)
    else:
        yield from backends.run_pool(text, filename, chunks, count)
