"""`autopilot-sim conformance state|actions [DIR] [--write]`: check the autopilot core against
raft-autopilot's fixture format (see docs/conformance.md).

Without DIR, `state` runs hashicorp/raft-autopilot's seven golden cases and `actions` the
project's reconcile cases, both shipped inside the package.

Prints `PASS name` / `FAIL name: what differs` per case (or `WROTE` with --write, `SKIP` when
a case has no golden file); exits 0 when every compared case passed, 1 when one failed,
2 when an input could not be read.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from autopilot_sim.commands import ExamplesFormatter

EPILOG = """examples:
  autopilot-sim conformance state                  # raft-autopilot's golden cases shipped in the package
  autopilot-sim conformance actions                # the project's reconcile cases
  autopilot-sim conformance state my-cases/ --write  # write state.json for new cases
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `conformance` subcommand."""
    parser = subparsers.add_parser(
        "conformance", epilog=EPILOG, formatter_class=ExamplesFormatter,
        help="run the autopilot core on raft-autopilot style fixture cases",
        description=(
            "Compute the autopilot state (state) or one reconcile tick's operations (actions) "
            "for each case folder holding inputs.json, and compare with state.json.golden / "
            "actions.json.golden, or write state.json / actions.json with --write. Without DIR, "
            "state runs hashicorp/raft-autopilot's seven golden cases and actions the project's "
            "reconcile cases, both shipped with the package."
        ),
    )
    parser.add_argument("mode", choices=("state", "actions"), help="what to compute")
    parser.add_argument(
        "dir", type=Path, metavar="DIR", nargs="?", default=None,
        help="a case folder, or a folder of case folders (default: the shipped cases)",
    )
    parser.add_argument(
        "--write", action="store_true", help="write the computed result instead of comparing"
    )
    parser.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    """Run the conformance cases; returns the exit status."""
    from autopilot_sim.autopilot.conformance import default_cases_dir, run

    def err(line: str) -> None:
        print(line, file=sys.stderr)

    if args.dir is None and args.write:
        # The shipped cases live inside the installed package: never write there.
        err("autopilot-sim conformance: --write needs a DIR (the shipped cases are read-only)")
        return 2
    cases = default_cases_dir(args.mode) if args.dir is None else args.dir
    return run(args.mode, cases, write=args.write, out=print, err=err)
