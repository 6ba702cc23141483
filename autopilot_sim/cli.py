"""The `autopilot-sim` command line.

Each subcommand lives in its own module under `autopilot_sim.commands` and provides
`register(subparsers)` (adds its parser and sets `func`) so this file stays a thin router.
Exit codes: 0 success, 1 a check failed (expectation, conformance case), 2 usage or input error.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from autopilot_sim.commands import ExamplesFormatter

# Subcommand modules, in the order `--help` lists them.
COMMAND_MODULES = (
    "run",
    "sweep",
    "explore",
    "experiment",
    "explain",
    "health",
    "validate",
    "schema",
    "conformance",
    "plot",
    "serve",
    "view",
    "operator",
)


class _Parser(argparse.ArgumentParser):
    """argparse exits 2 on usage errors already; keep its message but name the program."""


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level parser with every available subcommand registered."""
    parser = _Parser(
        prog="autopilot-sim",
        description="Simulate a Nomad-style Raft cluster and its autopilot controller.",
        epilog="""examples:
  autopilot-sim run scenarios/demo.yaml --out runs/demo --plot
  autopilot-sim health runs/demo --at 45s
  autopilot-sim explain runs/demo --at 45s
""",
        formatter_class=ExamplesFormatter,
    )
    from autopilot_sim import __version__, native

    parser.add_argument("--version", action="version", version=f"autopilot-sim {__version__}, {native.describe()}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"autopilot_sim.commands.{name}")
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the process exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
