"""`autopilot-sim explain RUN_DIR [--at T [--window W]]`: the story of a finished run, from its
run directory — the whole run, or the part around one moment."""

from __future__ import annotations

import argparse
import json
import sys

from autopilot_sim.commands import ExamplesFormatter
from autopilot_sim.narrate import load_run_records, print_story

EPILOG = """examples:
  autopilot-sim explain runs/demo                        # the whole story, what the API showed, the summary
  autopilot-sim explain runs/demo --at 45s               # events within ±30s of 45s, and the report then
  autopilot-sim explain runs/demo --at 1m --window 10s --verbose
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `explain` subcommand."""
    p = subparsers.add_parser("explain", help="print the story of a finished run",
                              description="Print the narrated events, what the health API showed (a down server "
                                          "still reported healthy, when autopilot saw it, what a 429 alert "
                                          "saw), the summary table and the expectation verdicts of a run "
                                          "directory written by `run`. With --at T: only the story around T, "
                                          "then the health report at T and why each server was healthy or not.",
                              epilog=EPILOG, formatter_class=ExamplesFormatter)
    p.add_argument("run_dir", metavar="RUN_DIR", help="a run directory (holds events.jsonl and summary.json)")
    p.add_argument("--at", metavar="T", help="tell the story around this simulated time (Go duration, e.g. 45s)")
    p.add_argument("--window", metavar="W", default="30s",
                   help="with --at: show events within ±W of T (Go duration, default 30s)")
    p.add_argument("--verbose", action="store_true", help="also show every election round")
    p.set_defaults(func=main)


def _fail(message: str) -> int:
    print(f"autopilot-sim explain: {message}", file=sys.stderr)
    return 2


def main(args: argparse.Namespace) -> int:
    """Print the story; 0 on success, 2 for an unreadable run directory or a bad --at/--window."""
    if args.at is not None:
        return _explain_at(args)
    try:
        events, summary = load_run_records(args.run_dir)
    except FileNotFoundError as exc:
        return _fail(f"{args.run_dir} is not a run directory: missing {exc.filename}")
    except (OSError, json.JSONDecodeError) as exc:
        return _fail(f"cannot read {args.run_dir}: {exc}")
    from autopilot_sim.rundata import RunDirError, load_run

    try:
        run = load_run(args.run_dir)
    except RunDirError:
        run = None  # an old run directory without timeline.jsonl: the story without the API's view
    print_story(events, summary, sys.stdout, verbose=args.verbose, run=run)
    return 0


def _explain_at(args: argparse.Namespace) -> int:
    from autopilot_sim.commands.health import load_at
    from autopilot_sim.durations import DurationError, parse_duration
    from autopilot_sim.narrate import window_lines
    from autopilot_sim.rundata import report_index_at
    from autopilot_sim.why import why_lines

    try:
        window = parse_duration(args.window)
    except DurationError as exc:
        return _fail(f"--window {args.window}: {exc}")
    if window < 0:
        return _fail(f"--window {args.window}: must not be negative")
    run, t_ns, error = load_at(args.run_dir, args.at)
    if error:
        return _fail(error)
    for line in window_lines(run, t_ns, window, verbose=args.verbose):
        print(line)
    index = report_index_at(run, t_ns)
    print()
    if index is None:
        print(f"no health report yet at {args.at}: autopilot reports once a leader is elected")
        return 0
    record = run.timeline[index]
    health = record["health"]
    verdict = ("no cluster leader (HTTP 500)" if record["status"] == 500 else
               f"Healthy {str(health.get('Healthy')).lower()}, FailureTolerance {health.get('FailureTolerance')}, "
               f"leader {health.get('Leader')} (HTTP {record['status']})")
    print(f"the health report at {args.at} (tick at {record['t']}): {verdict}")
    for line in why_lines(run, index):
        print(line)
    return 0
