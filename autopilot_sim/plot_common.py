"""What every figure of a run shares: sizes, colours, the time axis, shading of the API's
500 / 429 periods, legend helpers, the matplotlib settings, and reading a run for drawing.

The figures live in `plot_timeline`, `plot_swimlanes` and `plot_contact`; `autopilot_sim.plot`
gathers them (import from there).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from autopilot_sim import rundata
from autopilot_sim.durations import MINUTE, SECOND
from autopilot_sim.rundata import Run, status_spans

#: File extensions `save` understands, and the matplotlib format each one selects.
SAVE_FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}

#: Width of every figure in inches, and the PNG resolution: 1210 px, legible in a README.
FIG_WIDTH = 11.0
DPI = 110

#: Runs longer than this get a time axis in minutes instead of seconds.
MINUTES_AFTER = 5 * MINUTE

# Colours. No-leader red and unhealthy amber also differ in lightness; roles are ColorBrewer
# "Paired"-like purple / blue / light blue.
C_NO_LEADER = "#d62728"
C_UNHEALTHY = "#ff9f1c"
C_FT = "#1f3b73"
C_VOTERS = "#2a9d8f"
C_LEADER = "#6a3d9a"
C_VOTER = "#1f78b4"
C_NONVOTER = "#a6cee3"
C_HEALTHY = "#4daf4a"
C_SICK = "#e41a1c"
C_SERF = {"alive": "#d9d9d9", "leaving": "#ff9f1c", "left": "#8c8c8c", "failed": "#111111"}
C_THRESHOLD = "#111111"

# Event categories for markers and labels on the failure-tolerance timeline.
CATEGORY_COLOURS = {
    "fault": "#c0392b",
    "recovery": "#2e7d32",
    "leader": C_LEADER,
    "membership": "#1f78b4",
    "config": "#8d5524",
    "load": "#616161",
    "serf": "#111111",
    "removal": "#00796b",
}
# Line styles besides the default dash: serf verdicts dotted, removals dash-dot.
CATEGORY_DASHES = {"serf": (0, (1, 1.5)), "removal": (0, (5, 1.5, 1, 1.5))}
CATEGORY_NAMES = {
    "fault": "fault injected",
    "recovery": "fault undone",
    "leader": "leader change",
    "membership": "membership / upgrade",
    "config": "autopilot config write",
    "load": "load / network change",
    "serf": "serf: member failed / left",
    "removal": "removed from Raft",
}

BASE_FONT = 10.5
LABEL_PAD_IN = 0.12  # room kept after each event label, inches


class PlotError(Exception):
    """A run directory that cannot be read, or a file name `save` cannot write."""


def load_run(directory: str | Path) -> Run:
    """Read a run directory (see `autopilot_sim.rundata.load_run`); raises `PlotError`."""
    try:
        return rundata.load_run(directory)
    except rundata.RunDirError as exc:
        raise PlotError(str(exc)) from None


def as_run(run: Run | str | Path | Any) -> Run:
    if isinstance(run, Run):
        return run
    if isinstance(run, (str, Path)):
        return load_run(run)
    if hasattr(run, "timeline") and hasattr(run, "recorder"):
        return Run.from_result(run)
    raise TypeError(f"expected a Run, a run directory or a RunResult, got {type(run).__name__}")


class TimeAxis:
    """Seconds, or minutes for runs longer than MINUTES_AFTER."""

    def __init__(self, duration_ns: int) -> None:
        self.minutes = duration_ns > MINUTES_AFTER
        self.scale = MINUTE if self.minutes else SECOND
        self.unit = "min" if self.minutes else "s"
        self.end = duration_ns / self.scale

    def x(self, t_ns: float) -> float:
        return t_ns / self.scale

    def apply(self, ax: Axes, label: bool = True) -> None:
        ax.set_xlim(0, self.end if self.end > 0 else 1)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=14, steps=[1, 2, 2.5, 5, 10]))
        if label:
            ax.set_xlabel(f"time since start ({'minutes' if self.minutes else 'seconds'})")


def figure_of(ax: Axes) -> Figure:
    """The figure an axes is drawn on (its root figure, never a subfigure)."""
    fig = ax.get_figure(root=True)
    assert isinstance(fig, Figure), "an axes on a figure"
    return fig


def new_figure(height: float, ax: Axes | None) -> tuple[Figure, Axes]:
    if ax is not None:
        return figure_of(ax), ax
    fig = Figure(figsize=(FIG_WIDTH, height), dpi=DPI, layout="constrained")
    return fig, fig.add_subplot()


def run_title(run: Run, what: str) -> str:
    seed = f", seed {run.seed}" if run.seed is not None else ""
    return f"{run.name}{seed}: {what}"


def style_axes(ax: Axes) -> None:
    ax.grid(True, axis="x", color="#e0e0e0", linewidth=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(labelsize=BASE_FONT - 0.5)


def shade_status(ax: Axes, run: Run, tx: TimeAxis, *, legend: bool = True, alpha: float = 0.22) -> None:
    """Shade no-leader (500) and unhealthy (429) spans; gids no-leader-span-N / unhealthy-span-N."""
    for status, colour, name, label in ((500, C_NO_LEADER, "no-leader-span", "no leader (API 500)"),
                                        (429, C_UNHEALTHY, "unhealthy-span", "unhealthy (API 429)")):
        for i, (a, b) in enumerate(status_spans(run, status)):
            patch = ax.axvspan(tx.x(a), tx.x(b), color=colour, alpha=alpha, linewidth=0,
                               label=label if (legend and i == 0) else None, zorder=0)
            patch.set_gid(f"{name}-{i}")


def axes_width_in(ax: Axes) -> float:
    """A conservative estimate of the axes' final width (constrained layout only widens it)."""
    return max(1.0, ax.get_position().width * figure_of(ax).get_figwidth())


def mark_style(category: str) -> dict[str, Any]:
    leader = category == "leader"
    return {"color": CATEGORY_COLOURS[category], "linewidth": 1.3 if leader else 1.0,
            "linestyle": "-" if leader else CATEGORY_DASHES.get(category, (0, (4, 2)))}


def row_major_legend(ax: Axes, handles: Sequence[Any], ncol: int) -> None:
    """A legend under the axes that reads left to right, row by row, in the order given
    (matplotlib fills legends column by column, so the handles are transposed first)."""
    ncol = max(1, min(ncol, len(handles)))
    nrow = -(-len(handles) // ncol)
    padded = list(handles) + [blank_handle() for _ in range(nrow * ncol - len(handles))]
    ordered = [padded[row * ncol + col] for col in range(ncol) for row in range(nrow)]
    ax.legend(handles=ordered, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=ncol,
              frameon=False, fontsize=BASE_FONT - 1, handlelength=2.0, columnspacing=1.6)


def blank_handle(label: str = " ") -> Line2D:
    return Line2D([], [], linestyle="none", label=label)


def plot_rc() -> Any:
    return matplotlib.rc_context({"font.size": BASE_FONT, "svg.hashsalt": "autopilot-sim",
                                  "svg.fonttype": "path", "axes.titlesize": BASE_FONT + 2,
                                  "axes.titleweight": "bold", "axes.labelsize": BASE_FONT})


def header_handle(text: str) -> Line2D:
    """A legend entry with no handle: a section heading."""
    return Line2D([], [], linestyle="none", label=text)
