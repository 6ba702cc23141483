"""`autopilot-sim plot RUN_DIR`: draw a figure of a finished run.

Reads the run directory that `autopilot-sim run --out DIR` wrote and writes one figure:
``timeline`` (failure tolerance and voters, no-leader and unhealthy periods, events),
``swimlanes`` (each server's role, health and serf status) or ``contact`` (LastContact and
log lag against their thresholds). The format follows the output's extension (.png, .svg,
.pdf); by default ``<kind>.png`` goes into the run directory. Given a sweep directory (written by
`autopilot-sim sweep`), it draws every figure against the swept parameter instead, one PNG per
figure into SWEEP_DIR/plots (or the directory -o names); see `autopilot_sim.sweep_plot`.
Exit status 0 on success, 2 for a missing or unreadable directory, an unknown extension or a
missing matplotlib.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from autopilot_sim.commands import ExamplesFormatter

KINDS = ("timeline", "swimlanes", "contact")

EPILOG = """examples:
  autopilot-sim plot runs/demo                              # RUN_DIR/timeline.png
  autopilot-sim plot runs/demo --kind contact -o contact.svg
  autopilot-sim plot runs/demo --kind swimlanes -o lanes.pdf
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `plot` subcommand."""
    p = subparsers.add_parser(
        "plot", epilog=EPILOG, formatter_class=ExamplesFormatter,
        help="draw a figure of a run directory (PNG, SVG or PDF)",
        description="Draw a figure of a run directory written by `autopilot-sim run --out DIR`. "
                    "The output format follows the file's extension (.png, .svg, .pdf).")
    p.add_argument("run_dir", metavar="RUN_DIR|SWEEP_DIR",
                   help="a run directory (holds timeline.jsonl) or a sweep directory (holds sweep.json)")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="output file, .png, .svg or .pdf (default: RUN_DIR/<kind>.png); for a sweep, "
                        "the directory for its PNGs (default: SWEEP_DIR/plots)")
    p.add_argument("--figure", dest="figures", action="append", metavar="NAME",
                   help="sweep only: draw just this figure (a runs.jsonl key, e.g. "
                        "down_episodes_first_removed_after_s; repeatable)")
    p.add_argument("--kind", choices=KINDS, default="timeline",
                   help="timeline: failure tolerance and voters (default); swimlanes: role, health and "
                        "serf status per server; contact: LastContact and log lag against thresholds")
    p.set_defaults(func=main)


def _fail(message: str) -> int:
    print(f"autopilot-sim plot: {message}", file=sys.stderr)
    return 2


def main(args: argparse.Namespace) -> int:
    """Draw one figure; 0 on success, 2 for a usage or input error."""
    run_dir = Path(args.run_dir)
    output = Path(args.output) if args.output else run_dir / f"{args.kind}.png"
    try:
        from autopilot_sim import plot
    except ImportError as exc:  # a dependency, but a broken environment deserves a clear message
        return _fail(f"plotting needs matplotlib, which could not be imported ({exc}); "
                     "reinstall it with: pip install matplotlib")
    from autopilot_sim.sweep_plot import is_sweep_dir

    if is_sweep_dir(run_dir):
        return _plot_sweep(run_dir, Path(args.output) if args.output else None, args.figures)
    if args.figures:
        return _fail(f"--figure is for sweep directories; {run_dir} holds no sweep.json")
    if output.suffix.lower() not in plot.SAVE_FORMATS:
        return _fail(f"-o {output}: unknown extension {output.suffix or '(none)'!r}; "
                     f"use {', '.join(plot.SAVE_FORMATS)}")
    try:
        run = plot.load_run(run_dir)
        figure = {"timeline": plot.failure_tolerance_timeline, "swimlanes": plot.swimlanes,
                  "contact": plot.contact}[args.kind](run)
        plot.save(figure, output)
    except plot.PlotError as exc:
        return _fail(str(exc))
    except OSError as exc:
        return _fail(f"cannot write {output}: {exc.strerror or exc}")
    print(f"wrote {output}")
    return 0


def _plot_sweep(sweep_dir: Path, out_dir: Path | None, only: list[str] | None) -> int:
    from autopilot_sim.plot import PlotError
    from autopilot_sim.sweep_plot import write_sweep_plots

    try:
        written = write_sweep_plots(sweep_dir, out_dir, only)
    except PlotError as exc:
        return _fail(str(exc))
    except OSError as exc:
        return _fail(f"cannot write the plots: {exc.strerror or exc}")
    if not written:
        print(f"nothing to plot: no figure varies across the runs of {sweep_dir}")
        return 0
    print(f"wrote {len(written)} plots into {written[0].parent}")
    return 0


def write_run_plots(run_dir: str | Path) -> list[Path]:
    """Write timeline.png, swimlanes.png and contact.png into a run directory (`run --plot`)."""
    from autopilot_sim import plot
    from autopilot_sim.sim.rundir import write_file_atomically

    run = plot.load_run(run_dir)
    out = Path(run_dir)
    # Each plot appears whole or not at all (a killed run never leaves half a PNG).
    return [write_file_atomically(out / "timeline.png", lambda p: plot.save(plot.failure_tolerance_timeline(run), p)),
            write_file_atomically(out / "swimlanes.png", lambda p: plot.save(plot.swimlanes(run), p)),
            write_file_atomically(out / "contact.png", lambda p: plot.save(plot.contact(run), p))]
