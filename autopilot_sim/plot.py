"""Figures of a run: failure tolerance, per-server swimlanes, contact and log lag, election CDFs.

Every figure reads one run, either a run directory (`load_run(dir)`) or a finished simulation
(`Run.from_result(result)`); every plotting function accepts either, takes an optional `ax` to
draw into and returns the `matplotlib.figure.Figure`. Nothing here touches pyplot's global state,
so notebooks, tests and sweeps can build many figures side by side::

    from autopilot_sim.plot import load_run, failure_tolerance_timeline, save
    run = load_run("runs/demo")
    save(failure_tolerance_timeline(run), "runs/demo/timeline.svg")

This module gathers the figures; each lives in its own module (`plot_timeline`, `plot_swimlanes`,
`plot_contact`, sharing `plot_common`; where the timeline's labels go is `plot_labels`), and the
data they draw comes from `rundata`.

What the figures show, and the choices behind them:

* The timeline holds one health report per autopilot update tick. A report holds until the next
  one (the last until the end of the run), the convention `summary.json` uses for
  `time_unhealthy` and the time-weighted failure tolerance. Shaded "no leader" and "unhealthy"
  spans are therefore the periods in which the API *answered* 500 or 429, sampled at ticks:
  they start at the first tick after the cause. The event markers (a crash, a leader stepping
  down, an election) show the moment itself.
* While there is no leader the API has no report, so the failure tolerance and voter lines have
  a gap there rather than an invented value.
* Log lag is the leader's LastIndex minus the server's, both as the report gives them. A server
  the leader has no stats for yet reports LastIndex 0, so its lag is the whole log: the lag
  panel uses a symmetric-log axis so such values and a lag of a few entries are both readable.
  The lag can be slightly negative: the leader reads its own index, then fetches the others'
  stats over the network, and a follower may have appended more by then.
* `save` writes PNG, SVG or PDF by the file's extension; SVG and PDF carry no date and use fixed
  element ids, so the same run renders to the same bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import matplotlib
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from autopilot_sim.durations import MILLISECOND, SECOND
from autopilot_sim.plot_common import (
    BASE_FONT,
    DPI,
    FIG_WIDTH,
    SAVE_FORMATS,
    PlotError,
    load_run,
    new_figure,
    plot_rc,
    style_axes,
)
from autopilot_sim.plot_contact import contact
from autopilot_sim.plot_swimlanes import swimlanes
from autopilot_sim.plot_timeline import failure_tolerance_timeline
from autopilot_sim.rundata import (
    Run,
    down_spans,
    event_labels,
    leaderless_spans,
    membership_changes,
    status_spans,
    threshold_steps,
)

__all__ = [
    "DPI",
    "FIG_WIDTH",
    "SAVE_FORMATS",
    "PlotError",
    "Run",
    "contact",
    "down_spans",
    "election_time_cdf",
    "event_labels",
    "failure_tolerance_timeline",
    "leaderless_spans",
    "load_run",
    "membership_changes",
    "save",
    "status_spans",
    "swimlanes",
    "threshold_steps",
]


def election_time_cdf(samples_ns: Iterable[int | float], ax: Axes | None = None, *, label: str | None = None,
                      unit: str = "ms") -> Figure:
    """Empirical CDF of leader-election times (nanoseconds), e.g. one sample per seed of a
    sweep. Call again with the same `ax` to overlay another configuration; `unit` is "ms" or
    "s". The median is marked. Artist gids: "cdf-<label>", "median-<label>"."""
    if unit not in ("ms", "s"):
        raise ValueError(f'unit must be "ms" or "s", got {unit!r}')
    samples = sorted(float(s) for s in samples_ns)
    scale = MILLISECOND if unit == "ms" else SECOND
    with plot_rc():
        fig, ax = new_figure(4.5, ax)
        style_axes(ax)
        ax.grid(True, axis="y", color="#eeeeee", linewidth=0.8)
        name = label or "elections"
        if samples:
            xs = [s / scale for s in samples]
            n = len(xs)
            ys = [(i + 1) / n for i in range(n)]
            (line,) = ax.step([xs[0]] + xs, [0.0] + ys, where="post", linewidth=2.0,
                              label=f"{name} (n={n}, median {_median(xs):.4g} {unit})")
            line.set_gid(f"cdf-{name}")
            med = ax.axvline(_median(xs), color=line.get_color(), linestyle=":", linewidth=1.2)
            med.set_gid(f"median-{name}")
        ax.set_ylim(0, 1.02)
        ax.set_xlabel(f"time to elect a leader ({unit})")
        ax.set_ylabel("fraction of runs")
        if not ax.get_title():
            ax.set_title("leader election time (empirical CDF)", loc="left")
        ax.legend(loc="lower right", frameon=False, fontsize=BASE_FONT - 1)
    return fig


def _median(xs: Sequence[float]) -> float:
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


# --------------------------------------------------------------------------------- saving


def save(fig: Figure, path: str | Path, *, dpi: float | None = None) -> Path:
    """Write `fig` as PNG, SVG or PDF, chosen by the extension of `path`.

    SVG and PDF are byte-stable: no date in their metadata and fixed element ids
    (`svg.hashsalt`), so the same run gives the same file. Raises `PlotError` for any other
    extension. Creates the parent directory if needed.
    """
    out = Path(path)
    fmt = SAVE_FORMATS.get(out.suffix.lower())
    if fmt is None:
        known = ", ".join(SAVE_FORMATS)
        raise PlotError(f"{out}: cannot tell the format from the extension {out.suffix or '(none)'!r}; "
                        f"use one of {known}")
    metadata: dict[str, Any] | None
    if fmt == "svg":
        metadata = {"Date": None}
    elif fmt == "pdf":
        metadata = {"CreationDate": None, "ModDate": None}
    else:
        metadata = None
    out.parent.mkdir(parents=True, exist_ok=True)
    with matplotlib.rc_context({"svg.hashsalt": "autopilot-sim", "svg.fonttype": "path"}):
        fig.savefig(out, format=fmt, dpi=dpi or DPI, metadata=metadata)
    return out
