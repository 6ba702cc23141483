"""Explore benchmark: plans per second, with 1 worker (in process) and 2 (process pool).

Explores the same plans twice — `explore(..., workers=1)` and `explore(..., workers=2)` — on a
3-minute, 5-server scenario with Nomad's defaults and the budget
``crash<=2, partition<=1, down_for<=90s, loss<=0.2``, checking ``safety`` and
``no-healthy-server-removed``, and reports for each:

* the search: plans run and judged per second (the baseline run included);
* the shrinking: failures shrunk, runs made, seconds;
* plans per second overall (search + shrinking), and that both explorations wrote the same files;
* the CPU time per plan in process (1 worker): what 2 idle cores could reach, whatever the load.

The load average is printed: the machine is shared, and wall time measures the neighbours too.

Usage: python benchmarks/bench_explore.py [--plans 40] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from autopilot_sim.explore import explore

SCENARIO = """version: 1
name: bench-explore
seed: 1
duration: 3m
cluster: {servers: 5}
"""
BUDGET = "crash<=2, partition<=1, down_for<=90s, loss<=0.2"
PROPERTIES = ["no-healthy-server-removed"]


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def measure(path: Path, plans: int, workers: int, out: Path) -> dict[str, float | None]:
    """One exploration's figures (CPU time only means something in process, with 1 worker)."""
    start, cpu = time.perf_counter(), time.process_time()
    found = explore(path, budget=BUDGET, plans=plans, properties=PROPERTIES, workers=workers, out=out)
    wall = time.perf_counter() - start
    cpu = time.process_time() - cpu
    search = found.wall["search_s"]
    return {
        "workers": workers,
        "plans": plans,
        "search_s": round(search, 3),
        "search_plans_per_s": round((plans + 1) / search, 2),
        "failures": len(found.failures),
        "shrink_runs": sum(f.runs for f in found.failures),
        "shrink_s": round(found.wall["shrink_s"], 3),
        "wall_s": round(wall, 3),
        "plans_per_s_overall": round(plans / wall, 2),
        "cpu_s_per_plan": round(cpu / (plans + 1), 4) if workers == 1 else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--plans", type=int, default=40)
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench-explore.yaml"
        path.write_text(SCENARIO, encoding="utf-8")
        rows = [measure(path, args.plans, w, Path(tmp) / f"w{w}") for w in (1, 2)]
        same = _files(Path(tmp) / "w1") == _files(Path(tmp) / "w2")
    load = os.getloadavg()
    print(f"explore {args.plans} plans of {BUDGET!r} on a 3-minute, 5-server cluster "
          f"(load average {load[0]:.2f} on {os.cpu_count()} CPUs)")
    for r in rows:
        print(f"  workers {r['workers']}: search {r['search_plans_per_s']:.2f} plans/s ({r['search_s']:.1f}s), "
              f"{r['failures']} failures shrunk in {r['shrink_s']:.1f}s ({r['shrink_runs']} runs), "
              f"{r['plans_per_s_overall']:.2f} plans/s overall")
    cpu = rows[0]["cpu_s_per_plan"]
    print(f"  CPU time per plan in process: {cpu:.3f}s, i.e. at most {2 / cpu:.1f} plans/s on 2 idle cores")
    print(f"  same files with 1 and 2 workers: {same}")
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows, "identical": same, "load": load}, indent=2) + "\n",
                                   encoding="utf-8")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
