"""`autopilot-sim experiment election-time|wan`: the Raft paper's and thesis's election experiments."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

EPILOG = """\
election-time reproduces Figure 16 of the Raft paper (5 servers, paper vote rules, heartbeat
every half minimum timeout, ~15 ms broadcast, leader crashed within its heartbeat interval, two
survivors with shorter logs). It writes DIR/trials.csv (timeout_range_ms, trial,
time_without_leader_ms), DIR/summary.md (median, p90, max and the Kolmogorov-Smirnov distance
to the published curve per range) and DIR/election-time.png (the figure's two CDF panels, the
published curves dashed). wan runs the thesis's simulated WAN (latency 30-40 ms, timeouts
300-600 ms, fresh timers, 0, 1 and 2 of 5 servers failed): DIR/wan.csv and DIR/wan.png.
Trials are seeded one by one from --seed: the results are the same with any --workers or on Dask.

examples:
  autopilot-sim experiment election-time --workers 2 --out runs/figure16
  autopilot-sim experiment election-time --ranges 150-155,150-300 --trials 200 --out runs/fig16-quick
  autopilot-sim experiment wan --trials 2000 --scheduler tcp://scheduler-host:8786 --out runs/wan
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `experiment` subcommand."""
    p = subparsers.add_parser(
        "experiment", help="reproduce the Raft paper's election-time experiment (Figure 16) or the "
                           "thesis's WAN elections",
        description="Run many seeded trials of a published Raft election experiment on the engine "
                    "(Raft only, no Nomad layer), on a local process pool or a Dask cluster.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("which", choices=("election-time", "wan"), help="which experiment")
    p.add_argument("--ranges", metavar="LO-HI,...",
                   help="election-time: timeout ranges in ms (default: every range of Figure 16)")
    p.add_argument("--trials", type=int, metavar="N",
                   help="trials per line (default 1000; 100 for the fixed 150-150 line; wan 10000)")
    p.add_argument("--seed", type=int, default=1, metavar="S", help="root seed (default 1)")
    p.add_argument("--cap", type=float, default=100.0, metavar="SECONDS",
                   help="stop a trial after this much simulated time and record it (default 100)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, metavar="K",
                       help="local worker processes (default: one per CPU; 1 runs in this process)")
    where.add_argument("--scheduler", metavar="ADDR", help="a Dask distributed scheduler, e.g. tcp://host:8786")
    p.add_argument("--out", required=True, metavar="DIR", help="output directory")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    """Run the experiment; exit 0, or 2 for bad arguments."""
    from autopilot_sim.durations import MILLISECOND, SECOND
    from autopilot_sim.experiments import election_time as et

    if args.trials is not None and args.trials < 1:
        print("autopilot-sim experiment: --trials must be at least 1", file=sys.stderr)
        return 2
    if not args.cap > 0:
        print("autopilot-sim experiment: --cap must be positive", file=sys.stderr)
        return 2
    cap_ns = int(args.cap * SECOND)
    if args.which == "election-time":
        labels = args.ranges.split(",") if args.ranges else list(et.DEFAULT_RANGES)
        try:
            labels = [f"{lo}-{hi}" for lo, hi in map(et.parse_range, labels)]
        except et.ExperimentError as exc:
            print(f"autopilot-sim experiment: --ranges: {exc}", file=sys.stderr)
            return 2
        lines = {label: args.trials or (et.FIXED_TRIALS if label.split("-")[0] == label.split("-")[1]
                                        else et.DEFAULT_TRIALS) for label in dict.fromkeys(labels)}
    else:
        if args.ranges:
            print("autopilot-sim experiment: wan has no --ranges", file=sys.stderr)
            return 2
        lines = {f"failed={k}": args.trials or 10_000 for k in et.WAN_FAILED}
    client = None
    if args.scheduler:
        try:
            from distributed import Client
        except ImportError as exc:
            print(f"autopilot-sim experiment: --scheduler needs Dask distributed ({exc})", file=sys.stderr)
            return 2
        try:
            client = Client(args.scheduler, timeout="10s")  # type: ignore[no-untyped-call]  # untyped library
        except (OSError, TimeoutError, ValueError) as exc:
            print(f"autopilot-sim experiment: --scheduler {args.scheduler}: cannot connect ({exc})",
                  file=sys.stderr)
            return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    total = sum(lines.values())
    bar = _progress(total)
    started = time.perf_counter()
    try:
        results = et.run_trials("wan" if args.which == "wan" else "election-time", lines, args.seed,
                                cap_ns, workers=args.workers, client=client,
                                progress=bar.update if bar is not None else None)
    finally:
        if client is not None:
            client.close()  # type: ignore[no-untyped-call]
        if bar is not None:
            bar.close()
    wall = time.perf_counter() - started
    results_ms = {k: [v / MILLISECOND for v in vals] for k, vals in results.items()}
    if args.which == "wan":
        from autopilot_sim.experiments.figure import draw_wan

        et.write_csv(out / "wan.csv", results, label_column="failed_servers")
        draw_wan(results_ms, out / "wan.png")
        for label, values in results_ms.items():
            ordered = sorted(values)
            print(f"{label}: mean {sum(values) / len(values):.0f} ms, median {et.quantile(values, 0.5):.0f} ms, "
                  f"p99.9 {et.quantile(ordered, 0.999):.0f} ms, max {ordered[-1]:.0f} ms")
        print(f"{total} trials in {wall:.1f}s wall time; {out / 'wan.csv'}, {out / 'wan.png'}")
        return 0
    from autopilot_sim.experiments.compare import compare, table
    from autopilot_sim.experiments.figure import draw

    et.write_csv(out / "trials.csv", results)
    rows = compare(results_ms, cap_ns / MILLISECOND)
    text = table(rows)
    (out / "summary.md").write_text(text + "\n", encoding="utf-8")
    draw(results_ms, out / "election-time.png", cap_ms=cap_ns / MILLISECOND)
    print(text)
    print(f"{total} trials in {wall:.1f}s wall time; {out / 'trials.csv'}, {out / 'election-time.png'}")
    return 0


def _progress(total: int) -> Any:
    if not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="trial", file=sys.stderr)
