"""One module per `autopilot-sim` subcommand; each exposes `register(subparsers)`."""

from __future__ import annotations

import argparse
import sys


class ExamplesFormatter(argparse.RawDescriptionHelpFormatter):
    """argparse help whose description is wrapped as usual and whose epilog (the "examples:"
    block every subcommand ends with) is printed exactly as written."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if text.startswith("examples:"):
            return super()._fill_text(text, width, indent)  # raw: keep the lines as written
        return argparse.HelpFormatter._fill_text(self, text, width, indent)


def scenario_name(command: str, path: str) -> str | None:
    """The name of the scenario in `path` (sweep and explore name their default output directory
    after it), or None after printing why the file cannot be used (a located error, exit 2)."""
    from autopilot_sim.scenario import ScenarioError, load_scenario

    try:
        return load_scenario(path).name
    except ScenarioError as exc:
        print(str(exc), file=sys.stderr)
    except OSError as exc:
        print(f"autopilot-sim {command}: cannot read {path}: {exc.strerror or exc}", file=sys.stderr)
    return None
