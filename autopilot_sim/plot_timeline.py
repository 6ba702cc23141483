"""The failure-tolerance timeline: FailureTolerance and voters over time, the API's 500 and 429
periods, promotions and removals, and every marked event with its label (see `plot_labels` for
where the labels go)."""

from __future__ import annotations

import functools
import math
from pathlib import Path
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from autopilot_sim.plot_common import (
    C_FT,
    C_NO_LEADER,
    C_VOTERS,
    CATEGORY_COLOURS,
    CATEGORY_NAMES,
    DPI,
    FIG_WIDTH,
    LABEL_PAD_IN,
    TimeAxis,
    as_run,
    axes_width_in,
    blank_handle,
    figure_of,
    mark_style,
    new_figure,
    plot_rc,
    row_major_legend,
    run_title,
    shade_status,
    style_axes,
)
from autopilot_sim.plot_labels import (
    LABEL_FONT,
    MAX_ROWS,
    ROW_PT,
    TABLE_MAX,
    Mark,
    number_groups,
    pack_rows,
    text_width_in,
    timeline_marks,
)
from autopilot_sim.rundata import Run, hold_times, leaderless_spans, membership_changes


@functools.lru_cache(maxsize=1)
def _timeline_axes_width_in() -> float:
    """The timeline axes' width once constrained layout has placed it (measured on a probe
    figure with the same axis labels), less a safety margin: event labels are packed in it."""
    with plot_rc():
        fig = Figure(figsize=(FIG_WIDTH, 4.8), dpi=DPI, layout="constrained")
        ax = fig.add_subplot()
        ax.set_ylim(-0.3, 99.6)  # two-digit server counts: the widest tick labels
        ax.set_ylabel("servers")
        ax.set_xlabel("time since start (seconds)")
        style_axes(ax)
        layout = fig.get_layout_engine()
        assert layout is not None
        layout.execute(fig)
        return ax.get_position().width * FIG_WIDTH - 0.25


class _MarkLayout:
    """Where the timeline's event labels go (see `autopilot_sim.plot_labels`): rows above the
    axes, or numbers above the axes and a table of labels under the plot."""

    def __init__(self, run: Run, tx: TimeAxis, width_in: float) -> None:
        self.marks = timeline_marks(run)
        self.xs = [tx.x(m.t_ns) for m in self.marks]
        xmax = tx.end if tx.end > 0 else 1.0
        self.x_per_in = xmax / width_in
        widths = [(text_width_in(m.text) + LABEL_PAD_IN) * self.x_per_in for m in self.marks]
        # More labels than MAX_ROWS rows of the axes' width could hold: do not search.
        few = len(self.marks) <= MAX_ROWS * width_in / 1.2
        self.placed = pack_rows(self.xs, widths, xmax) if few else None
        self.table = self.placed is None
        number_width = (text_width_in(str(len(self.marks))) + 0.12) * self.x_per_in
        groups = number_groups(self.xs, number_width) if self.table else []
        # A table of hundreds of rows helps nobody: list the first groups, count the rest.
        self.groups, listed = [], 0
        for members in groups:
            if listed + len(members) > TABLE_MAX:
                break
            self.groups.append(members)
            listed += len(members)
        self.unlisted = len(self.marks) - listed if self.table else 0

    @property
    def rows(self) -> int:
        """Rows of text above the axes."""
        if not self.marks:
            return 0
        return 1 if self.table else max(p.row for p in self.placed or []) + 1

    def table_entries(self) -> list[tuple[int, Mark]]:
        """(number, mark) for every listed mark, in time order."""
        return [(g + 1, self.marks[i]) for g, members in enumerate(self.groups) for i in members]

    def table_height_in(self, ncol: int) -> float:
        rows = -(-(len(self.table_entries()) + (1 if self.unlisted else 0)) // ncol)
        return 0.25 + rows * (LABEL_FONT * 1.55 / 72.0)

    def more_text(self) -> str:
        """The table's last line when marks are left out of it."""
        return f"… {self.unlisted} more: see events.jsonl"

    def table_columns(self, width_in: float) -> int:
        texts = [f"{n}  {m.text}" for n, m in self.table_entries()] + ([self.more_text()] if self.unlisted else [])
        widest = max((text_width_in(text) for text in texts), default=1.0)
        return max(1, int(width_in // (widest + 0.8)))


def _draw_marks(ax: Axes, layout: _MarkLayout) -> None:
    """Vertical lines at each mark, and either labels in rows above the axes or numbers."""
    for i, (mark, x) in enumerate(zip(layout.marks, layout.xs, strict=True)):
        line = ax.axvline(x, alpha=0.85, zorder=1, **mark_style(mark.category))
        line.set_gid(f"event-line-{i}")
    if layout.table:
        for g, members in enumerate(layout.groups):
            first = layout.marks[members[0]]
            colours = {layout.marks[i].category for i in members}
            colour = CATEGORY_COLOURS[first.category] if len(colours) == 1 else "#303030"
            ann = ax.annotate(str(g + 1), xy=(layout.xs[members[0]], 1.0), xycoords=("data", "axes fraction"),
                              xytext=(0, 3), textcoords="offset points", ha="center", va="bottom",
                              fontsize=LABEL_FONT, fontweight="bold", color=colour, annotation_clip=False)
            ann.set_gid(f"event-number-{g}")
        return
    assert layout.placed is not None
    for i, (mark, x, place) in enumerate(zip(layout.marks, layout.xs, layout.placed, strict=True)):
        colour = CATEGORY_COLOURS[mark.category]
        ann = ax.annotate(
            mark.text, xy=(x, 1.0), xycoords=("data", "axes fraction"),
            xytext=(0, 3 + place.row * ROW_PT), textcoords="offset points",
            ha="right" if place.right_aligned else "left", va="bottom", fontsize=LABEL_FONT, color=colour,
            annotation_clip=False,
            arrowprops={"arrowstyle": "-", "color": colour, "linewidth": 0.8, "alpha": 0.7,
                        "shrinkA": 0, "shrinkB": 0, "relpos": (1.0 if place.right_aligned else 0.0, 0.0)},
        )
        ann.set_gid(f"event-label-{i}")


def _draw_table(ax: Axes, layout: _MarkLayout, ncol: int, *, beside: bool = False) -> None:
    """The table of numbered labels: a legend whose handles show each mark's line style."""
    entries = layout.table_entries()
    handles = [Line2D([], [], label=f"{n}  {m.text}", **mark_style(m.category)) for n, m in entries]
    if layout.unlisted:
        handles.append(blank_handle(layout.more_text()))
    if beside:
        legend = ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False,
                           fontsize=LABEL_FONT - 0.5, handlelength=1.6, labelspacing=0.3)
    else:
        # matplotlib fills a legend column by column: the table reads down, in time order.
        legend = ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.0, 1.0), ncol=ncol, frameon=False,
                           fontsize=LABEL_FONT, handlelength=1.6, columnspacing=1.4, labelspacing=0.3,
                           title="events", title_fontproperties={"weight": "bold", "size": LABEL_FONT},
                           alignment="left")
    legend.set_gid("event-table")
    colour_of = {f"{n}  {m.text}": CATEGORY_COLOURS[m.category] for n, m in entries}
    for text in legend.get_texts():
        if text.get_text() in colour_of:
            text.set_color(colour_of[text.get_text()])
    if beside:
        return
    ax.axis("off")


def _category_legend_handles(layout: _MarkLayout) -> list[Line2D]:
    seen = {c for m in layout.marks for c in m.categories}
    return [Line2D([], [], label=CATEGORY_NAMES[c], **mark_style(c)) for c in CATEGORY_COLOURS if c in seen]


def failure_tolerance_timeline(run: Run | str | Path, ax: Axes | None = None) -> Figure:
    """FailureTolerance and the number of voters over time, as steps.

    Spans in which the API answered 500 (no leader) or 429 (unhealthy) are shaded; a thin bar
    along the bottom shows when the cluster really had no leader (from the events, so short
    elections between two ticks show too). Leader changes and the scenario's events are marked
    by vertical lines and labelled above the plot, staggered into rows so that labels do not
    pile up. Promotions and removals are markers on the voters line.

    Artist gids: "failure-tolerance", "voters" (the step lines), "no-leader-span-N",
    "unhealthy-span-N", "leaderless-N", "event-line-N", "event-label-N", "promotion-markers",
    "removal-markers".
    """
    run = as_run(run)
    with plot_rc():
        tx = TimeAxis(run.duration_ns)
        given = ax is not None
        if ax is not None:
            fig = figure_of(ax)
            layout = _MarkLayout(run, tx, axes_width_in(ax))
        else:
            layout = _MarkLayout(run, tx, _timeline_axes_width_in())
            if layout.table:
                ncol = layout.table_columns(FIG_WIDTH - 1.0)
                table_h = layout.table_height_in(ncol)
                fig = Figure(figsize=(FIG_WIDTH, 4.8 + table_h), dpi=DPI, layout="constrained")
                ax, table_ax = fig.subplots(2, 1, height_ratios=[4.8, table_h])
                _draw_table(table_ax, layout, ncol)
            else:
                fig, ax = new_figure(4.8, None)
        if given and layout.table:
            _draw_table(ax, layout, 1, beside=True)
            legend = ax.get_legend()
            if legend is not None:
                ax.add_artist(legend)
        tx.apply(ax)
        style_axes(ax)
        shade_status(ax, run, tx)
        for i, (a, b) in enumerate(leaderless_spans(run)):
            bar = ax.axvspan(tx.x(a), tx.x(b), ymin=0, ymax=0.035, color=C_NO_LEADER, linewidth=0, zorder=2,
                             label="no leader (actual)" if i == 0 else None)
            bar.set_gid(f"leaderless-{i}")

        xs, ft, voters = [], [], []
        for record, (a, _) in zip(run.timeline, hold_times(run), strict=True):
            xs.append(tx.x(a))
            if record["status"] == 500:
                ft.append(math.nan)
                voters.append(math.nan)
            else:
                health = record["health"]
                ft.append(float(health.get("FailureTolerance", math.nan)))
                voters.append(float(len(health.get("Voters") or [])))
        if xs:  # hold the last report until the end of the run
            xs.append(tx.x(max(run.duration_ns, run.timeline[-1]["t_ns"])))
            ft.append(ft[-1])
            voters.append(voters[-1])
        (vline,) = ax.step(xs, voters, where="post", color=C_VOTERS, linewidth=2.0, linestyle=(0, (5, 1.5)),
                           label="voters", zorder=3)
        vline.set_gid("voters")
        (ftline,) = ax.step(xs, ft, where="post", color=C_FT, linewidth=2.6, label="FailureTolerance", zorder=4)
        ftline.set_gid("failure-tolerance")

        marks: list[Any] = []
        for group, marker, gid, label in (("promotion", "^", "promotion-markers", "promotion"),
                                          ("removal", "v", "removal-markers", "removal / demotion")):
            times = [e["t_ns"] for e in membership_changes(run, group)]
            if group == "removal":
                times = sorted(times + [e["t_ns"] for e in membership_changes(run, "demotion")])
            pts = [(tx.x(t), _value_at(xs, voters, tx.x(t))) for t in times]
            pts = [(x, y) for x, y in pts if not math.isnan(y)]
            if pts:
                coll = ax.scatter([p[0] for p in pts], [p[1] for p in pts], marker=marker, s=60,
                                  color=C_VOTERS, edgecolors="white", linewidths=0.8, zorder=5, label=label)
                coll.set_gid(gid)
                marks.append(coll)

        top = max([v for v in voters if not math.isnan(v)], default=3.0)
        ax.set_ylim(-0.3, top + 0.6)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel("servers")
        ax.grid(True, axis="y", color="#eeeeee", linewidth=0.8)

        _draw_marks(ax, layout)
        ax.set_title(run_title(run, "failure tolerance and voters"), pad=8 + layout.rows * ROW_PT + 4, loc="left")
        by_label = {h.get_label(): h for h in ax.get_legend_handles_labels()[0]}
        shading = [by_label[k] for k in ("no leader (API 500)", "unhealthy (API 429)",
                                         "no leader (actual)") if k in by_label]
        handles = [ftline, vline] + marks + shading + _category_legend_handles(layout)
        row_major_legend(ax, handles, ncol=5)
    return fig


def _value_at(xs: list[float], ys: list[float], x: float) -> float:
    """The step (post) value at x: the last y whose x is ≤ x (the new value at a change)."""
    value = math.nan
    for xi, yi in zip(xs, ys, strict=True):
        if xi > x:
            break
        value = yi
    return value
