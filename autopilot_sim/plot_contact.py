"""Follower contact and log lag: LastContact against LastContactThreshold and the lag behind
the leader against MaxTrailingLogs, with the moments a server stopped, was declared failed by
serf and left Raft."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import matplotlib
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter

from autopilot_sim.durations import MILLISECOND
from autopilot_sim.plot_common import (
    BASE_FONT,
    C_THRESHOLD,
    DPI,
    FIG_WIDTH,
    TimeAxis,
    as_run,
    figure_of,
    mark_style,
    plot_rc,
    run_title,
    shade_status,
    style_axes,
)
from autopilot_sim.plot_labels import LABEL_FONT, operator_marks
from autopilot_sim.rundata import (
    Run,
    duration_value,
    server_order,
    servers_of,
    short_value,
    threshold_steps,
)


def _split_axes(ax: Axes | Sequence[Axes] | None, height: float) -> tuple[Figure, Axes, Axes]:
    if ax is None:
        fig = Figure(figsize=(FIG_WIDTH, height), dpi=DPI, layout="constrained")
        top, bottom = fig.subplots(2, 1, sharex=True)
        return fig, top, bottom
    if isinstance(ax, Axes):
        fig = figure_of(ax)
        spec = ax.get_subplotspec()
        if spec is None:
            raise TypeError("contact(ax=...) needs an Axes from a grid (add_subplot) or a pair of Axes")
        ax.remove()
        gs = spec.subgridspec(2, 1)
        top = fig.add_subplot(gs[0])
        bottom = fig.add_subplot(gs[1], sharex=top)
        return fig, top, bottom
    top, bottom = ax
    return top.figure, top, bottom  # type: ignore[return-value]


def _server_colours(names: Iterable[str]) -> dict[str, Any]:
    cmap = matplotlib.colormaps["tab10"]
    return {name: cmap(i % 10) for i, name in enumerate(names)}


def contact(run: Run | str | Path, ax: Axes | Sequence[Axes] | None = None) -> Figure:
    """Two panels: each follower's LastContact against LastContactThreshold, and its log lag
    (leader LastIndex − server LastIndex) against MaxTrailingLogs.

    Thresholds come from the scenario's autopilot block and change where a configuration write
    changed them. Vertical lines mark when a server's process stopped (crash or pause), when serf
    declared a server failed or left, and when a server was removed from Raft: a crashed
    follower's line freezes at the first and its lag grows until one of the others. `ax` may be
    a pair of Axes or one Axes (split in two). Artist gids: "contact-<server>", "lag-<server>",
    "last-contact-threshold", "max-trailing-logs", "contact-mark-N".
    """
    run = as_run(run)
    names = server_order(run)
    colours = _server_colours(names)
    with plot_rc():
        fig, top, bottom = _split_axes(ax, 7.0)
        tx = TimeAxis(run.duration_ns)
        contact_series: dict[str, tuple[list[float], list[float]]] = {n: ([], []) for n in names}
        lag_series: dict[str, tuple[list[float], list[float]]] = {n: ([], []) for n in names}
        for record in run.timeline:
            servers = servers_of(record)
            if not servers:
                for n in names:  # a gap in every line while there is no report
                    for series in (contact_series, lag_series):
                        series[n][0].append(tx.x(record["t_ns"]))
                        series[n][1].append(math.nan)
                continue
            leader_index = next((s["LastIndex"] for s in servers.values() if s.get("Leader")), None)
            x = tx.x(record["t_ns"])
            for n in names:
                s = servers.get(n)
                follower = s is not None and not s.get("Leader")
                c = duration_value(s.get("LastContact")) if s is not None and follower else None
                contact_series[n][0].append(x)
                contact_series[n][1].append(c / MILLISECOND if c else math.nan)  # 0 → no contact yet
                lag_series[n][0].append(x)
                lag_series[n][1].append(float(leader_index - s["LastIndex"])
                                        if s is not None and follower and leader_index is not None else math.nan)

        for panel in (top, bottom):
            tx.apply(panel, label=panel is bottom)
            style_axes(panel)
            shade_status(panel, run, tx, legend=panel is top, alpha=0.16)
        # Dots mark the ticks while they can be told apart; long runs get plain lines.
        style = {"linewidth": 1.3, "marker": ".", "markersize": 4} if len(run.timeline) <= 150 else \
            {"linewidth": 1.0, "alpha": 0.9}
        for n in names:
            for panel, series, prefix in ((top, contact_series, "contact"), (bottom, lag_series, "lag")):
                xs, ys = series[n]
                if any(not math.isnan(y) for y in ys):
                    (line,) = panel.plot(xs, ys, color=colours[n], label=n, **style)
                    line.set_gid(f"{prefix}-{n}")

        end = tx.x(run.duration_ns)
        for panel, key, scale, label, gid in (
                (top, "last_contact_threshold", MILLISECOND, "LastContactThreshold", "last-contact-threshold"),
                (bottom, "max_trailing_logs", 1, "MaxTrailingLogs", "max-trailing-logs")):
            steps = threshold_steps(run, key)
            if steps:
                xs = [tx.x(t) for t, _ in steps] + [end]
                ys = [v / scale for _, v in steps] + [steps[-1][1] / scale]
                (line,) = panel.step(xs, ys, where="post", color=C_THRESHOLD, linewidth=1.6,
                                     linestyle=(0, (6, 3)), label=label, zorder=5)
                line.set_gid(gid)
                for t, v in steps[1:]:
                    panel.annotate(f"set to {short_value(key, int(v))}", xy=(tx.x(t), v / scale),
                                   xytext=(4, 4), textcoords="offset points", fontsize=LABEL_FONT,
                                   color=C_THRESHOLD)

        top.set_yscale("log")
        top.yaxis.set_major_formatter(FuncFormatter(_ms_label))
        top.set_ylabel("LastContact")
        top.grid(True, axis="y", which="major", color="#eeeeee", linewidth=0.8)
        bottom.set_yscale("symlog", linthresh=10, linscale=0.6)
        # Lines at a lag of 0 stay clear of the axis; a follower whose stats arrived after the
        # leader read its own index can be a few entries "ahead" (a negative lag): keep it visible.
        lowest = min((y for xs_ys in lag_series.values() for y in xs_ys[1] if not math.isnan(y)), default=0.0)
        bottom.set_ylim(bottom=min(-0.8, lowest - 0.8))
        bottom.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
        bottom.set_ylabel("log lag (entries behind leader)")
        bottom.grid(True, axis="y", which="major", color="#eeeeee", linewidth=0.8)
        top.set_title(run_title(run, "follower contact and log lag (leader not shown)"), loc="left")
        top.legend(loc="upper left", bbox_to_anchor=(1.005, 1.0), frameon=False, fontsize=BASE_FONT - 1)
        moments = _contact_moments(run)
        for i, (t, category, _) in enumerate(moments):
            for panel in (top, bottom):
                line = panel.axvline(tx.x(t), alpha=0.7, zorder=1, **mark_style(category))
                line.set_gid(f"contact-mark-{i}")
        seen = {category for _, category, _ in moments}
        moment_handles = [Line2D([], [], label=_CONTACT_MOMENTS[c], **mark_style(c)) for c in _CONTACT_MOMENTS
                          if c in seen]
        bottom.legend(handles=[h for h in bottom.get_legend_handles_labels()[0]
                               if h.get_label() == "MaxTrailingLogs"] + moment_handles,
                      loc="upper left", bbox_to_anchor=(1.005, 1.0), frameon=False, fontsize=BASE_FONT - 1)
        top.tick_params(labelbottom=False)
    return fig


_CONTACT_MOMENTS = {"fault": "crash / pause", "serf": "serf: failed / left", "removal": "removed from Raft"}


def _contact_moments(run: Run) -> list[tuple[int, str, str]]:
    """The moments that explain a frozen or growing line: a server's process stopping, serf's
    verdict on it and its removal from Raft (lines only: the timeline carries the labels)."""
    stops = [(int(e["t_ns"]), "fault", e.get("server", "")) for e in run.events if e.get("kind") in ("crash", "pause")]
    return sorted(stops + [m for m in operator_marks(run) if m[1] in ("serf", "removal")], key=lambda m: m[0])


def _ms_label(value: float, _pos: Any) -> str:
    if value >= 1000:
        return f"{value / 1000:g}s"
    if value >= 1:
        return f"{value:g}ms"
    return f"{value * 1000:g}µs"
