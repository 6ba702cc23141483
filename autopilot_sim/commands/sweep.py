"""`autopilot-sim sweep SCENARIO --seeds N`: many runs over parameter values × seeds."""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

from autopilot_sim.commands import scenario_name

EPILOG = """\
values are YAML, split at commas outside brackets and quotes:
  --set 'network.latency={distribution: constant, value: 2ms},{distribution: uniform, min: 1ms, max: 9ms}'

exit status: 0 every run completed (an expectation that did not hold is data, counted in
summary.csv), 1 some run failed (bad override value, scenario error, safety violation; each is
recorded in runs.jsonl with its parameters), 2 usage or input error (nothing was run).

examples:
  # how long until autopilot removes a dead server? 100 seeds, all CPUs
  autopilot-sim sweep scenarios/follower-crash-cleanup.yaml --seeds 100 --out runs/removal

  # the same against two reconcile intervals and three suspicion multipliers (2 x 3 x 50 runs)
  autopilot-sim sweep scenarios/follower-crash-cleanup.yaml --seeds 50 \\
      --set autopilot.reconcile_interval=5s,10s --set gossip.suspicion_mult=2,4,6

  # paired values instead of the cross product, on a Dask cluster; --resume carries on
  # an interrupted sweep where it stopped (more seeds are fine too)
  autopilot-sim sweep scenarios/demo.yaml --seeds 20 --zip --resume \\
      --set cluster.servers=3,5,7 --set load.writes_per_second=1,5,10 \\
      --scheduler tcp://scheduler-host:8786 --out runs/sizes
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `sweep` subcommand."""
    p = subparsers.add_parser(
        "sweep", help="run a scenario over parameter values x seeds (process pool or Dask)",
        description="Run SCENARIO once per parameter combination and seed, on a local process pool "
                    "(default) or a Dask cluster, and write DIR/sweep.json (the plan), DIR/runs.jsonl "
                    "(one flat record per run) and DIR/summary.csv (count, mean, median, p10, p90, p99 "
                    "and max of every figure, or the share of runs for booleans, per combination). "
                    "Plot it with `autopilot-sim plot DIR`.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("scenario", metavar="SCENARIO", help="a scenario YAML file")
    p.add_argument("--seeds", type=int, required=True, metavar="N", help="runs per parameter combination")
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=V1,V2,...",
                   help="sweep a scenario key (dotted path, as for `run --set`) over these values "
                        "(repeatable; one value just overrides the key)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--grid", dest="mode", action="store_const", const="grid",
                      help="every combination of the --set values (default)")
    mode.add_argument("--zip", dest="mode", action="store_const", const="zip",
                      help="the i-th value of every --set together (lists of equal length)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, metavar="K",
                       help="local worker processes (default: one per CPU; 1 runs in this process)")
    where.add_argument("--scheduler", metavar="ADDR",
                       help="a Dask distributed scheduler, e.g. tcp://host:8786 (needs "
                            "'autopilot-sim[dask]' here and on every worker)")
    p.add_argument("--out", metavar="DIR", help="sweep directory (default: runs/sweep-<scenario name>)")
    p.add_argument("--resume", action="store_true",
                   help="keep the finished runs in DIR and run only the missing ones")
    p.add_argument("--seed", type=int, metavar="ROOT",
                   help="root seed the per-run seeds derive from (default: the scenario's seed)")
    p.add_argument("--quiet", action="store_true", help="no progress bar, only the result lines")
    p.set_defaults(func=main, mode="grid")


def main(args: argparse.Namespace) -> int:
    """Plan, run and aggregate the sweep; see EPILOG for the exit status."""
    from autopilot_sim.sweep import SweepError, sweep

    name = scenario_name("sweep", args.scenario)
    if name is None:
        return 2
    out = Path(args.out) if args.out else Path("runs") / f"sweep-{name}"
    started = time.perf_counter()
    try:
        records = sweep(args.scenario, seeds=args.seeds, sets=args.sets, mode=args.mode, workers=args.workers,
                        scheduler=args.scheduler, out=out, resume=args.resume, root_seed=args.seed,
                        progress=sys.stderr.isatty() and not args.quiet)
    except SweepError as exc:
        print(f"autopilot-sim sweep: {exc}", file=sys.stderr)
        return 2
    except ImportError as exc:
        print(f"autopilot-sim sweep: --scheduler needs Dask distributed ({exc}); "
              "install it with: pip install 'autopilot-sim[dask]'", file=sys.stderr)
        return 2
    wall = time.perf_counter() - started
    statuses = Counter(r["status"] for r in records)
    print(f"{len(records)} runs ({records.executed} run now, {len(records) - records.executed} already done) "
          f"in {wall:.1f}s wall time: " + ", ".join(f"{n} {s}" for s, n in sorted(statuses.items())))
    failed = [r for r in records if r["status"] in ("error", "safety_violation")]
    shown: set[str] = set()
    keys = [item.split("=", 1)[0].strip() for item in args.sets]
    for r in failed:
        if r["error"] in shown or len(shown) >= 5:
            continue
        shown.add(r["error"])
        params = ", ".join(f"{k}={r[k]}" for k in keys) or "(no parameters)"
        print(f"FAILED {params}, seed {r['seed']}: {r['error']}", file=sys.stderr)
    print(f"sweep directory: {out} (runs.jsonl, summary.csv; plot it with: autopilot-sim plot {out})")
    return 1 if failed else 0

