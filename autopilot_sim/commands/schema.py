"""`autopilot-sim schema`: print the JSON Schema (draft 2020-12) of the scenario format.

Save it and point a YAML language server at it, e.g. with this first line in a scenario file::

    # yaml-language-server: $schema=./scenario.schema.json
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TextIO

from autopilot_sim.commands import ExamplesFormatter

EPILOG = """examples:
  autopilot-sim schema -o scenario.schema.json   # for editors: # yaml-language-server: $schema=...
  autopilot-sim schema --markdown                # the format reference as Markdown
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `schema` subcommand."""
    parser = subparsers.add_parser(
        "schema", epilog=EPILOG, formatter_class=ExamplesFormatter,
        help="print the JSON Schema of the scenario format",
        description="Print the JSON Schema (draft 2020-12) of scenario files, for editors and "
                    "YAML language servers.",
    )
    parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    parser.add_argument("--markdown", action="store_true",
                        help="print the format reference in Markdown (docs/scenario-format.md) instead")
    parser.set_defaults(func=run)


def schema_text() -> str:
    """The schema as deterministic, indented JSON text (with a final newline)."""
    from autopilot_sim.scenario import scenario_json_schema

    return json.dumps(scenario_json_schema(), indent=2, ensure_ascii=False) + "\n"


def run(args: argparse.Namespace, *, out: TextIO | None = None) -> int:
    """Entry point for the parsed `schema` arguments."""
    if getattr(args, "markdown", False):
        from autopilot_sim.scenario import scenario_json_schema
        from autopilot_sim.scenario.reference import markdown

        text = markdown(scenario_json_schema())
    else:
        text = schema_text()
    path = getattr(args, "output", None)
    if path:
        try:
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(text)
        except OSError as exc:
            print(f"autopilot-sim schema: cannot write {path}: {exc.strerror or exc}", file=sys.stderr)
            return 2
        return 0
    (out or sys.stdout).write(text)
    return 0
