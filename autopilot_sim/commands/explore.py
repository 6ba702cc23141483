"""`autopilot-sim explore SCENARIO --budget SPEC --plans N`: search fault plans, shrink failures."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from autopilot_sim.commands import scenario_name

EPILOG = """\
budget terms (comma-separated): crash<=N, pause<=N, partition<=N, cut<=N, loss_windows<=N,
faults<=N (per plan), down_for<=D and down_for>=D (each fault's length), loss<=P and loss>=P,
start>=D, end<=D (when faults may happen). Default: 'crash<=2, partition<=1, down_for<=60s'.

properties: safety (always), no-quorum-loss, no-healthy-server-removed, expect (the scenario's
own expect block), leaderless<=D, alert-fires<=D. Default: no-quorum-loss,
no-healthy-server-removed, expect.

exit status: 0 no plan broke a property, 1 some plan did (each is shrunk and written to
DIR/failures/), 2 usage or input error (nothing was run). --plans 0 checks the scenario alone.

examples:
  autopilot-sim explore scenarios/healthy-baseline.yaml --plans 50 --out runs/explore \\
      --budget 'crash<=2, partition<=1, down_for<=90s, loss<=0.2' --property no-healthy-server-removed
  autopilot-sim explore scenarios/demo.yaml --plans 200 --property 'leaderless<=10s' --workers 2 --out runs/leaderless
  autopilot-sim explore runs/explore/failures/007.yaml --plans 0 --property no-healthy-server-removed --out runs/check
"""


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the `explore` subcommand."""
    p = subparsers.add_parser(
        "explore", help="search random fault plans for broken properties; shrink each failure",
        description="Draw N random fault plans within the budget (crash + restart pairs, pauses, partitions "
                    "with heal, one-way cuts, packet loss windows) on top of SCENARIO, run them on a local "
                    "process pool or Dask, check the properties, and shrink every failing plan to a minimal "
                    "scenario file. Writes DIR/explore.json, DIR/plans.jsonl, DIR/results.jsonl, "
                    "DIR/failures/NNN.yaml (.md story, .png timeline) and DIR/report.md; the same command and "
                    "seed write the same files on any backend.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("scenario", metavar="SCENARIO", help="a scenario YAML file")
    p.add_argument("--budget", metavar="SPEC", help="the faults a plan may hold (see below)")
    p.add_argument("--plans", type=int, required=True, metavar="N", help="how many random plans to try")
    p.add_argument("--property", dest="properties", action="append", default=[], metavar="NAME",
                   help="a property to check (repeatable; see below)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, metavar="K",
                       help="local worker processes (default: one per CPU; 1 runs in this process)")
    where.add_argument("--scheduler", metavar="ADDR",
                       help="a Dask distributed scheduler, e.g. tcp://host:8786")
    p.add_argument("--seed", type=int, metavar="ROOT",
                   help="root seed the plans and their run seeds derive from (default: the scenario's seed)")
    p.add_argument("--out", metavar="DIR", help="exploration directory (default: runs/explore-<scenario name>)")
    p.add_argument("--max-shrink-runs", type=int, default=120, metavar="N",
                   help="runs one shrink may make (default 120; 0 writes the failing plans unshrunk)")
    p.add_argument("--keep-servers", action="store_true",
                   help="shrink faults only, never the cluster (by default servers no event names may be left out)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    """Explore, shrink, report; see EPILOG for the exit status."""
    from autopilot_sim.explore import DEFAULT_BUDGET, ExploreError, explore
    from autopilot_sim.explore.report import console_table

    name = scenario_name("explore", args.scenario)
    if name is None:
        return 2
    if args.max_shrink_runs < 0:
        print("autopilot-sim explore: --max-shrink-runs must be 0 or more", file=sys.stderr)
        return 2
    out = Path(args.out) if args.out else Path("runs") / f"explore-{name}"
    started = time.perf_counter()
    try:
        found = explore(args.scenario, budget=args.budget or DEFAULT_BUDGET, plans=args.plans,
                        properties=args.properties, workers=args.workers, scheduler=args.scheduler,
                        root_seed=args.seed, out=out, progress=sys.stderr.isatty() and not args.quiet,
                        max_shrink_runs=args.max_shrink_runs, keep_servers=args.keep_servers)
    except ExploreError as exc:
        print(f"autopilot-sim explore: {exc}", file=sys.stderr)
        return 2
    except ImportError as exc:
        print(f"autopilot-sim explore: --scheduler needs Dask distributed ({exc}); "
              "install it with: pip install 'autopilot-sim[dask]'", file=sys.stderr)
        return 2
    wall = time.perf_counter() - started
    plans = len(found.results) - 1
    failed = [r for r in found.failed if r["plan"] > 0]
    search = found.wall.get("search_s", 0.0)
    rate = f"{len(found.results) / search:.1f} runs/s" if search else "-"
    print(f"{plans} plans (and the scenario alone) run in {search:.1f}s ({rate}), {len(found.failures)} failures "
          f"shrunk in {found.wall.get('shrink_s', 0.0):.1f}s; {wall:.1f}s wall time in all")
    print(f"{len(failed)} plans broke a property, {len([r for r in found.invalid if r['plan'] > 0])} could not be "
          "carried out")
    if found.results[0]["status"] == "failed":
        broken = ", ".join(v["property"] for v in found.results[0]["violations"])
        print(f"the scenario alone (no added fault) breaks: {broken}")
    for line in console_table(found):
        print(line)
    print(f"exploration directory: {out} (report.md, failures/)")
    return 1 if found.failed else 0
