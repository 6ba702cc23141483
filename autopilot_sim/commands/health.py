"""`autopilot-sim health RUN_DIR --at T [-json]`: the health report at a moment of a finished run.

Prints the last report of timeline.jsonl at or before T in the layout of `nomad operator
autopilot health` (or, with ``-json``/``--json``, the report's body exactly as the run recorded
it), then one line per server saying why it is healthy or not: the rule that decided and its
numbers (see `autopilot_sim.why`). Exit status: 0 when the report was healthy (HTTP 200), 1 when
it was not (429 unhealthy, 500 no leader), 2 for a usage or input error.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from autopilot_sim.commands import ExamplesFormatter
from autopilot_sim.durations import DurationError, format_duration, parse_duration

EPILOG = """examples:
  autopilot-sim health runs/follower-crash-cleanup --at 45s        # a dead server still reported healthy
  autopilot-sim health runs/follower-crash-cleanup --at 1m8s -json  # the raw body, for jq
  autopilot-sim explain runs/follower-crash-cleanup --at 45s       # the story around that moment
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `health` subcommand."""
    p = subparsers.add_parser(
        "health", help="the autopilot health report at a moment of a run, and why",
        description="Show the autopilot health report a finished run had at time T (the last update tick "
                    "at or before T) in the layout of `nomad operator autopilot health`, and why each "
                    "server was healthy or not. Exit status 0 healthy, 1 unhealthy or no leader, 2 error.",
        epilog=EPILOG, formatter_class=ExamplesFormatter)
    p.add_argument("run_dir", metavar="RUN_DIR", help="a run directory written by `run --out DIR`")
    p.add_argument("--at", required=True, metavar="T", help="simulated time, a Go duration (45s, 1m30s)")
    p.add_argument("-json", "--json", dest="json", action="store_true",
                   help="print the report's JSON body exactly as recorded (as `nomad ... health -json`)")
    p.set_defaults(func=main)


def _fail(message: str) -> int:
    print(f"autopilot-sim health: {message}", file=sys.stderr)
    return 2


def resolve_at(run: Any, run_dir: str, text: str) -> tuple[int | None, str | None]:
    """--at T as ns, checked against the run: (t_ns, None) or (None, error message)."""
    try:
        t_ns = parse_duration(text)
    except DurationError as exc:
        return None, f"--at {text}: {exc}"
    end = run.duration_ns
    if t_ns < 0 or t_ns > end:
        return None, (f"--at {text}: outside the run: {run_dir} covers 0s to {format_duration(end)} "
                      f"(summary.json duration)")
    return t_ns, None


def load(run_dir: str) -> tuple[Any, str | None]:
    """The run directory as a `rundata.Run`, or an error message."""
    from autopilot_sim.rundata import RunDirError, load_run

    try:
        return load_run(run_dir), None
    except RunDirError as exc:
        return None, str(exc)
    except (OSError, ValueError) as exc:
        return None, f"cannot read {run_dir}: {exc}"


def load_at(run_dir: str, at: str) -> tuple[Any, int, str | None]:
    """The run directory and --at as ns, or an error message (what `health` and `explain --at`
    both start with)."""
    run, error = load(run_dir)
    if error:
        return None, 0, error
    t_ns, error = resolve_at(run, run_dir, at)
    if error or t_ns is None:
        return None, 0, error
    return run, t_ns, None


def main(args: argparse.Namespace) -> int:
    """Print the report at --at and the reasons; see the module docstring for exit codes."""
    from autopilot_sim.rundata import report_index_at

    run, t_ns, error = load_at(args.run_dir, args.at)
    if error:
        return _fail(error)
    index = report_index_at(run, t_ns)
    if index is None:
        first = run.timeline[0]["t"] if run.timeline else "none"
        return _fail(f"--at {args.at}: no health report yet at that time in "
                     f"{Path(args.run_dir) / 'timeline.jsonl'} (the first is at {first}); "
                     "autopilot reports once a leader is elected")
    record = run.timeline[index]
    status = int(record.get("status", 500))
    if args.json:
        print(json.dumps(record["health"], separators=(",", ":"), ensure_ascii=False))
        return 0 if status == 200 else 1
    from autopilot_sim.commands.operator_output import health_text
    from autopilot_sim.why import why_lines

    print(f"report at {record['t']} (the last autopilot update tick at or before {args.at}; HTTP {status})")
    if status == 500:
        print(f"Error querying Autopilot configuration: Unexpected response code: 500 "
              f"({record['health'].get('error', 'No cluster leader')})")
    else:
        print(health_text(record["health"]))
    for line in why_lines(run, index):
        print(line)
    return 0 if status == 200 else 1
