"""`autopilot-sim validate SCENARIO...`: check scenario files without running them.

Prints ``OK <file>`` for each valid file, followed by a ``note:`` line for each check that
only a run can make (``crash: leader``: who leads then), and every located error of each
invalid one (``file:line:column: key.path: message``, on stderr). A run estimated to take
minutes gets a warning line on stderr. Exit status 0 when every file is valid,
2 otherwise (an input error, as for every command).
"""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from autopilot_sim.commands import ExamplesFormatter

EPILOG = """examples:
  autopilot-sim validate scenarios/*.yaml                      # exit 0 when every file is valid
  autopilot-sim validate my.yaml --set autopilot.min_quorum=3  # check an override before running it
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `validate` subcommand."""
    parser = subparsers.add_parser(
        "validate", epilog=EPILOG, formatter_class=ExamplesFormatter,
        help="check scenario files (exit 0 if all are valid, 2 if not)",
        description="Check scenario files: YAML, keys, types, durations, ranges, server names and "
                    "event order. Every problem is reported with its file, line and key.",
    )
    parser.add_argument("files", nargs="+", metavar="SCENARIO", help="scenario YAML file(s)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a key before validating (repeatable), e.g. --set seed=3")
    parser.set_defaults(func=run)


def validate_files(files: list[str], overrides: list[str] | None = None, *,
                   out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Validate each file, report on ``out`` / ``err``; returns the exit status (0 or 2)."""
    from autopilot_sim.scenario import ScenarioError, load_scenario

    out = out or sys.stdout
    err = err or sys.stderr
    status = 0
    from autopilot_sim.scenario.cost import WARN_EVENTS, estimate

    for name in files:
        try:
            scenario = load_scenario(name, overrides=overrides or None)
        except ScenarioError as exc:
            status = 2
            count = len(exc.errors)
            for problem in exc.errors:
                print(problem, file=err)
            print(f"{name}: {count} error{'s' if count != 1 else ''}", file=err)
        else:
            print(f"OK {name}", file=out)
            for note in scenario.notes():
                print(f"  note: {note}", file=out)
            cost = estimate(scenario)
            if cost.events > WARN_EVENTS:
                print(f"warning: {name}: a run will take {cost.describe()}", file=err)
    return status


def run(args: argparse.Namespace) -> int:
    """Entry point for the parsed `validate` arguments."""
    return validate_files(list(args.files), list(getattr(args, "overrides", []) or []))
