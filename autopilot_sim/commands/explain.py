"""`autopilot-sim explain RUN_DIR`: the story of a finished run, from its run directory."""

from __future__ import annotations

import argparse
import json
import sys

from autopilot_sim.narrate import load_run_records, print_story


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `explain` subcommand."""
    p = subparsers.add_parser("explain", help="print the story of a finished run",
                              description="Print the narrated events, the summary table and the expectation "
                                          "verdicts of a run directory written by `run`.")
    p.add_argument("run_dir", metavar="RUN_DIR", help="a run directory (holds events.jsonl and summary.json)")
    p.add_argument("--verbose", action="store_true", help="also show every election round")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    try:
        events, summary = load_run_records(args.run_dir)
    except FileNotFoundError as exc:
        print(f"autopilot-sim explain: {args.run_dir} is not a run directory: missing {exc.filename}", file=sys.stderr)
        return 2
    except (OSError, json.JSONDecodeError) as exc:
        print(f"autopilot-sim explain: cannot read {args.run_dir}: {exc}", file=sys.stderr)
        return 2
    print_story(events, summary, sys.stdout, verbose=args.verbose)
    return 0
