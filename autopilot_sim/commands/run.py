"""`autopilot-sim run SCENARIO`: simulate a scenario and write its run directory."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from autopilot_sim.durations import DurationError, parse_duration


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `run` subcommand."""
    p = subparsers.add_parser("run", help="run a scenario and write its run directory",
                              description="Run a scenario file and write events.jsonl, timeline.jsonl, "
                                          "summary.json and scenario.yaml into the run directory.")
    p.add_argument("scenario", metavar="SCENARIO", help="a scenario YAML file")
    p.add_argument("--seed", type=int, help="override the scenario's seed")
    p.add_argument("--until", metavar="DURATION", help="stop early, at this simulated time (Go duration)")
    p.add_argument("--out", metavar="DIR", help="run directory (default: runs/<name>-seed<seed>)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a scenario key by its dotted path (repeatable)")
    p.add_argument("--plot", action="store_true", help="also write timeline.png into the run directory")
    p.add_argument("--quiet", action="store_true", help="print only the run directory and the verdict")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    """Run the scenario; exit 0 when it completed and every expectation held, 1 if one failed,
    2 for a usage or input error."""
    from autopilot_sim.scenario import ScenarioError, load_scenario
    from autopilot_sim.sim.runner import ScenarioRunError, Simulation

    until = None
    if args.until is not None:
        try:
            until = parse_duration(args.until)
        except DurationError as exc:
            print(f"autopilot-sim run: --until: {exc}", file=sys.stderr)
            return 2
        if until <= 0:
            print(f"autopilot-sim run: --until: must be positive, got {args.until}", file=sys.stderr)
            return 2
    try:
        scenario = load_scenario(args.scenario, overrides=args.overrides)
    except ScenarioError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"autopilot-sim run: cannot read {args.scenario}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    seed = scenario.seed if args.seed is None else args.seed
    out = Path(args.out) if args.out else Path("runs") / f"{scenario.name}-seed{seed}"
    started = time.perf_counter()
    try:
        result = Simulation(scenario, seed=seed, until=until).run()
    except ScenarioRunError as exc:
        print(f"{args.scenario}: {exc}", file=sys.stderr)
        return 2
    wall = time.perf_counter() - started
    result.write(out)
    if not args.quiet:
        _print_story(result)
    s = result.summary
    print(f"simulated {s['duration']} of {scenario.name} (seed {seed}) in {wall:.2f}s wall time")
    print(f"run directory: {out}")
    if result.error:
        print(f"FAILED: {result.error}", file=sys.stderr)
        return 1
    failed = result.failed_expectations
    for r in result.expectation_results:
        mark = "PASS" if r.passed else "FAIL"
        print(f"{mark} expectation line {r.line} ({r.description}): {r.detail}")
    if failed:
        import json

        for r in failed:
            if r.report is not None:
                print(f"report at {r.report['t']} for line {r.line}:\n" + json.dumps(r.report, indent=2))
        print(f"{len(failed)} of {len(result.expectation_results)} expectations failed", file=sys.stderr)
        return 1
    return 0


def _print_story(result) -> None:
    for event in result.recorder.events:
        print(f"{event['t']:>14}  {event['message']}")
    s = result.summary
    print(f"elections: {s['elections']}  leader changes: {s['leader_changes']}  "
          f"time without leader: {s['time_without_leader']}  messages: {s['messages']['delivered']}")
    print(f"promotions: {s['promotions']}  removals: {s['removals']}  time unhealthy: {s['time_unhealthy']}  "
          f"failure tolerance: min {s['failure_tolerance_min']}, "
          f"time-weighted {s['failure_tolerance_time_weighted']}")
