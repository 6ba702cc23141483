"""One module per `autopilot-sim` subcommand; each exposes `register(subparsers)`."""

from __future__ import annotations

import argparse


class ExamplesFormatter(argparse.RawDescriptionHelpFormatter):
    """argparse help whose description is wrapped as usual and whose epilog (the "examples:"
    block every subcommand ends with) is printed exactly as written."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if text.startswith("examples:"):
            return super()._fill_text(text, width, indent)  # raw: keep the lines as written
        return argparse.HelpFormatter._fill_text(self, text, width, indent)
