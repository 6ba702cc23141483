"""Sweep benchmark: runs per second of a 60-second, 5-server scenario, and how it scales.

Measures, for the same sweep (one scenario, N seeds):
  (a) the bare cost of one run: `Simulation(...).run()` in this process, scenario already loaded;
  (b) `sweep(..., workers=1)` (runs in this process): runs/s, and the sweep machinery's
      overhead per run over (a) (loading, flattening, writing runs.jsonl);
  (c) `sweep(..., workers=2)` (a forkserver pool of 2 processes): runs/s, and the start-up
      cost: a 2-run sweep of 1-second runs on a fresh pool, minus the runs themselves;
  (d) the scaling efficiency: (runs/s with 2 workers) / (2 x runs/s with 1 worker);
  (e) the CPU time per run in this process and in a pool worker (the same chunks, timed with
      `time.process_time` inside the worker): their ratio is the efficiency the pool would
      reach on otherwise idle cores, and it does not depend on what else the machine runs.

The machine's other load shows up directly in (b)-(d): compare runs on a quiet machine, or read (e).

Usage: python benchmarks/bench_sweep.py [--runs 40] [--json out.json] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

from autopilot_sim.scenario import load_scenario_text
from autopilot_sim.sim.runner import Simulation
from autopilot_sim.sweep import sweep

SCENARIO = """version: 1
name: bench-sweep
seed: 1
duration: 60s
cluster: {servers: 5}
load: {writes_per_second: 10}
events:
  - {at: 20s, crash: follower}
"""


def bare_run_seconds(path: Path, runs: int) -> float:
    """Median wall time of one run, scenario loaded once (no sweep machinery)."""
    scenario = load_scenario_text(path.read_text(), str(path))
    times = []
    for seed in range(runs):
        start = time.perf_counter()
        Simulation(scenario, seed=seed + 1).run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def timed_sweep(path: Path, runs: int, workers: int, out: Path) -> float:
    start = time.perf_counter()
    records = sweep(path, seeds=runs, workers=workers, out=out)
    wall = time.perf_counter() - start
    assert records.executed == runs and all(r["status"] != "error" for r in records), records[0].get("error")
    return wall


def _timed_chunk(text: str, filename: str, specs: list) -> tuple[int, float]:
    """Run a chunk in a pool worker; (runs, CPU seconds spent on them)."""
    from autopilot_sim.sweep.worker import run_chunk

    start = time.process_time()
    records = run_chunk(text, filename, specs)
    return len(records), time.process_time() - start


def cpu_per_run(path: Path, runs: int) -> tuple[float, float]:
    """CPU seconds per run in this process, and in the workers of a 2-process pool."""
    from concurrent.futures import ProcessPoolExecutor

    from autopilot_sim.sweep.backends import _context, make_chunks
    from autopilot_sim.sweep.plan import plan
    from autopilot_sim.sweep.worker import run_chunk

    text, name = path.read_text(), str(path)
    specs = plan([], runs, 1)
    chunks = make_chunks(specs, 2)
    inline, pooled = [], []
    for _ in range(2):  # alternate, and keep each side's best: other processes inflate CPU time too
        start = time.process_time()
        for chunk in chunks:
            run_chunk(text, name, chunk)
        inline.append((time.process_time() - start) / runs)
        with ProcessPoolExecutor(max_workers=2, mp_context=_context()) as pool:
            done = list(pool.map(_timed_chunk, [text] * len(chunks), [name] * len(chunks), chunks))
        pooled.append(sum(cpu for _, cpu in done) / sum(n for n, _ in done))
    return min(inline), min(pooled)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=40, help="seeds in the measured sweeps (default 40)")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    parser.add_argument("--quick", action="store_true", help="12 runs (a smoke test, noisy)")
    args = parser.parse_args()
    runs = 12 if args.quick else args.runs
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        path = root / "bench-sweep.yaml"
        path.write_text(SCENARIO)
        bare = bare_run_seconds(path, min(runs, 10))
        wall1 = timed_sweep(path, runs, 1, root / "w1")
        wall2 = timed_sweep(path, runs, 2, root / "w2")
        tiny = root / "tiny.yaml"  # 1-second runs: what is left of a sweep is its start-up
        tiny.write_text(SCENARIO.split("events:", maxsplit=1)[0].replace("duration: 60s", "duration: 1s"))
        short = Simulation(load_scenario_text(tiny.read_text())).run
        start = time.perf_counter()
        short()
        short_run = time.perf_counter() - start
        startup_wall = timed_sweep(tiny, 2, 2, root / "startup")
        same = (root / "w1" / "runs.jsonl").read_bytes() == (root / "w2" / "runs.jsonl").read_bytes()
        cpu_inline, cpu_pool = cpu_per_run(path, runs)
    rate1, rate2 = runs / wall1, runs / wall2
    result = {
        "python": platform.python_version(),
        "cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "runs": runs,
        "load_average_1min": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
        "bare_run_s": round(bare, 4),
        "workers_1": {"wall_s": round(wall1, 3), "runs_per_s": round(rate1, 3),
                      "overhead_per_run_s": round(wall1 / runs - bare, 4)},
        "workers_2": {"wall_s": round(wall2, 3), "runs_per_s": round(rate2, 3)},
        "pool_startup_s": round(startup_wall - short_run, 3),
        "pool_startup_per_run_s": round((startup_wall - short_run) / runs, 4),
        "scaling_efficiency_2": round(rate2 / (2 * rate1), 3),
        "cpu_per_run_in_process_s": round(cpu_inline, 4),
        "cpu_per_run_in_pool_worker_s": round(cpu_pool, 4),
        "cpu_efficiency_2": round(cpu_inline / cpu_pool, 3),
        "identical_records_1_vs_2_workers": same,
    }
    print(f"60 s, 5-server scenario (10 writes/s, a follower crash), {runs} runs, "
          f"{result['cpus']} CPUs, Python {result['python']}, load average {result['load_average_1min']}")
    print(f"  one run, bare                     {bare:8.3f} s")
    print(f"  1 worker (in process)             {rate1:8.2f} runs/s   (sweep overhead "
          f"{result['workers_1']['overhead_per_run_s'] * 1000:.1f} ms/run)")
    print(f"  2 workers (process pool)          {rate2:8.2f} runs/s")
    print(f"  pool start-up                     {result['pool_startup_s']:8.3f} s "
          f"({result['pool_startup_per_run_s'] * 1000:.1f} ms per run over {runs} runs)")
    print(f"  scaling efficiency, 2 workers     {result['scaling_efficiency_2']:8.3f}")
    print(f"  CPU per run: in process {cpu_inline:.3f} s, in a pool worker {cpu_pool:.3f} s "
          f"(efficiency on idle cores {result['cpu_efficiency_2']:.3f})")
    print(f"  identical runs.jsonl (1 vs 2)     {same}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
