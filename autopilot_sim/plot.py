"""Figures of a run: failure tolerance, per-server swimlanes, contact and log lag, election CDFs.

Every figure reads one run, either a run directory (`load_run(dir)`) or a finished simulation
(`Run.from_result(result)`); every plotting function accepts either, takes an optional `ax` to
draw into and returns the `matplotlib.figure.Figure`. Nothing here touches pyplot's global state,
so notebooks, tests and sweeps can build many figures side by side::

    from autopilot_sim.plot import load_run, failure_tolerance_timeline, save
    run = load_run("runs/demo")
    save(failure_tolerance_timeline(run), "runs/demo/timeline.svg")

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

import functools
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import matplotlib
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator

from autopilot_sim import rundata as _rundata
from autopilot_sim.durations import MILLISECOND, MINUTE, SECOND
from autopilot_sim.plot_labels import (
    LABEL_FONT,
    MAX_ROWS,
    ROW_PT,
    TABLE_MAX,
    Mark,
    number_groups,
    operator_marks,
    pack_rows,
    text_width_in,
    timeline_marks,
)
from autopilot_sim.rundata import (
    Run,
    _duration_value,
    _hold_times,
    _server_order,
    _servers,
    _short_value,
    down_spans,
    event_labels,
    leaderless_spans,
    membership_changes,
    status_spans,
    threshold_steps,
)

__all__ = [
    "PlotError",
    "Run",
    "load_run",
    "failure_tolerance_timeline",
    "swimlanes",
    "contact",
    "election_time_cdf",
    "save",
    "status_spans",
    "event_labels",
    "membership_changes",
    "leaderless_spans",
    "down_spans",
    "threshold_steps",
    "SAVE_FORMATS",
]

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
_CATEGORY_COLOURS = {
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
_CATEGORY_DASHES = {"serf": (0, (1, 1.5)), "removal": (0, (5, 1.5, 1, 1.5))}
_CATEGORY_NAMES = {
    "fault": "fault injected",
    "recovery": "fault undone",
    "leader": "leader change",
    "membership": "membership / upgrade",
    "config": "autopilot config write",
    "load": "load / network change",
    "serf": "serf: member failed / left",
    "removal": "removed from Raft",
}

_BASE_FONT = 10.5
_LABEL_FONT = LABEL_FONT
_ROW_PT = ROW_PT  # vertical distance between event-label rows, in points
_LABEL_PAD_IN = 0.12  # room kept after each event label, inches


class PlotError(Exception):
    """A run directory that cannot be read, or a file name `save` cannot write."""


# --------------------------------------------------------------------------------- loading


def load_run(directory: str | Path) -> Run:
    """Read a run directory (see `autopilot_sim.rundata.load_run`); raises `PlotError`."""
    try:
        return _rundata.load_run(directory)
    except _rundata.RunDirError as exc:
        raise PlotError(str(exc)) from None


def _as_run(run: Run | str | Path | Any) -> Run:
    if isinstance(run, Run):
        return run
    if isinstance(run, (str, Path)):
        return load_run(run)
    if hasattr(run, "timeline") and hasattr(run, "recorder"):
        return Run.from_result(run)
    raise TypeError(f"expected a Run, a run directory or a RunResult, got {type(run).__name__}")


# --------------------------------------------------------------------------------- helpers


class _TimeAxis:
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


def _new_figure(height: float, ax: Axes | None) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax  # type: ignore[return-value]
    fig = Figure(figsize=(FIG_WIDTH, height), dpi=DPI, layout="constrained")
    return fig, fig.add_subplot()


def _title(run: Run, what: str) -> str:
    seed = f", seed {run.seed}" if run.seed is not None else ""
    return f"{run.name}{seed}: {what}"


def _style(ax: Axes) -> None:
    ax.grid(True, axis="x", color="#e0e0e0", linewidth=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(labelsize=_BASE_FONT - 0.5)


def _shade_status(ax: Axes, run: Run, tx: _TimeAxis, *, legend: bool = True, alpha: float = 0.22) -> None:
    """Shade no-leader (500) and unhealthy (429) spans; gids no-leader-span-N / unhealthy-span-N."""
    for status, colour, name, label in ((500, C_NO_LEADER, "no-leader-span", "no leader (API 500)"),
                                        (429, C_UNHEALTHY, "unhealthy-span", "unhealthy (API 429)")):
        for i, (a, b) in enumerate(status_spans(run, status)):
            patch = ax.axvspan(tx.x(a), tx.x(b), color=colour, alpha=alpha, linewidth=0,
                               label=label if (legend and i == 0) else None, zorder=0)
            patch.set_gid(f"{name}-{i}")


def _axes_width_in(ax: Axes) -> float:
    """A conservative estimate of the axes' final width (constrained layout only widens it)."""
    fig = ax.figure
    return max(1.0, ax.get_position().width * fig.get_figwidth())


@functools.lru_cache(maxsize=1)
def _timeline_axes_width_in() -> float:
    """The timeline axes' width once constrained layout has placed it (measured on a probe
    figure with the same axis labels), less a safety margin: event labels are packed in it."""
    with _rc():
        fig = Figure(figsize=(FIG_WIDTH, 4.8), dpi=DPI, layout="constrained")
        ax = fig.add_subplot()
        ax.set_ylim(-0.3, 99.6)  # two-digit server counts: the widest tick labels
        ax.set_ylabel("servers")
        ax.set_xlabel("time since start (seconds)")
        _style(ax)
        layout = fig.get_layout_engine()
        assert layout is not None
        layout.execute(fig)
        return ax.get_position().width * FIG_WIDTH - 0.25


def _mark_style(category: str) -> dict[str, Any]:
    leader = category == "leader"
    return {"color": _CATEGORY_COLOURS[category], "linewidth": 1.3 if leader else 1.0,
            "linestyle": "-" if leader else _CATEGORY_DASHES.get(category, (0, (4, 2)))}


class _MarkLayout:
    """Where the timeline's event labels go (see `autopilot_sim.plot_labels`): rows above the
    axes, or numbers above the axes and a table of labels under the plot."""

    def __init__(self, run: Run, tx: _TimeAxis, width_in: float) -> None:
        self.marks = timeline_marks(run)
        self.xs = [tx.x(m.t_ns) for m in self.marks]
        xmax = tx.end if tx.end > 0 else 1.0
        self.x_per_in = xmax / width_in
        widths = [(text_width_in(m.text) + _LABEL_PAD_IN) * self.x_per_in for m in self.marks]
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
        return 0.25 + rows * (_LABEL_FONT * 1.55 / 72.0)

    def more_text(self) -> str:
        """The table's last line when marks are left out of it."""
        return f"… {self.unlisted} more: see events.jsonl"

    def table_columns(self, width_in: float) -> int:
        texts = [f"{n}  {m.text}" for n, m in self.table_entries()] + ([self.more_text()] if self.unlisted else [])
        widest = max((text_width_in(text) for text in texts), default=1.0)
        return max(1, int(width_in // (widest + 0.8)))


def _draw_marks(ax: Axes, layout: _MarkLayout) -> None:
    """Vertical lines at each mark, and either labels in rows above the axes or numbers."""
    for i, (mark, x) in enumerate(zip(layout.marks, layout.xs)):
        line = ax.axvline(x, alpha=0.85, zorder=1, **_mark_style(mark.category))
        line.set_gid(f"event-line-{i}")
    if layout.table:
        for g, members in enumerate(layout.groups):
            first = layout.marks[members[0]]
            colours = {layout.marks[i].category for i in members}
            colour = _CATEGORY_COLOURS[first.category] if len(colours) == 1 else "#303030"
            ann = ax.annotate(str(g + 1), xy=(layout.xs[members[0]], 1.0), xycoords=("data", "axes fraction"),
                              xytext=(0, 3), textcoords="offset points", ha="center", va="bottom",
                              fontsize=_LABEL_FONT, fontweight="bold", color=colour, annotation_clip=False)
            ann.set_gid(f"event-number-{g}")
        return
    assert layout.placed is not None
    for i, (mark, x, place) in enumerate(zip(layout.marks, layout.xs, layout.placed)):
        colour = _CATEGORY_COLOURS[mark.category]
        ann = ax.annotate(
            mark.text, xy=(x, 1.0), xycoords=("data", "axes fraction"),
            xytext=(0, 3 + place.row * _ROW_PT), textcoords="offset points",
            ha="right" if place.right_aligned else "left", va="bottom", fontsize=_LABEL_FONT, color=colour,
            annotation_clip=False,
            arrowprops={"arrowstyle": "-", "color": colour, "linewidth": 0.8, "alpha": 0.7,
                        "shrinkA": 0, "shrinkB": 0, "relpos": (1.0 if place.right_aligned else 0.0, 0.0)},
        )
        ann.set_gid(f"event-label-{i}")


def _draw_table(ax: Axes, layout: _MarkLayout, ncol: int, *, beside: bool = False) -> None:
    """The table of numbered labels: a legend whose handles show each mark's line style."""
    entries = layout.table_entries()
    handles = [Line2D([], [], label=f"{n}  {m.text}", **_mark_style(m.category)) for n, m in entries]
    if layout.unlisted:
        handles.append(_blank(layout.more_text()))
    if beside:
        legend = ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False,
                           fontsize=_LABEL_FONT - 0.5, handlelength=1.6, labelspacing=0.3)
    else:
        # matplotlib fills a legend column by column: the table reads down, in time order.
        legend = ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.0, 1.0), ncol=ncol, frameon=False,
                           fontsize=_LABEL_FONT, handlelength=1.6, columnspacing=1.4, labelspacing=0.3,
                           title="events", title_fontproperties={"weight": "bold", "size": _LABEL_FONT},
                           alignment="left")
    legend.set_gid("event-table")
    colour_of = {f"{n}  {m.text}": _CATEGORY_COLOURS[m.category] for n, m in entries}
    for text in legend.get_texts():
        if text.get_text() in colour_of:
            text.set_color(colour_of[text.get_text()])
    if beside:
        return
    ax.axis("off")


def _category_legend_handles(layout: _MarkLayout) -> list[Line2D]:
    seen = {c for m in layout.marks for c in m.categories}
    return [Line2D([], [], label=_CATEGORY_NAMES[c], **_mark_style(c)) for c in _CATEGORY_COLOURS if c in seen]


def _row_major_legend(ax: Axes, handles: Sequence[Any], ncol: int) -> None:
    """A legend under the axes that reads left to right, row by row, in the order given
    (matplotlib fills legends column by column, so the handles are transposed first)."""
    ncol = max(1, min(ncol, len(handles)))
    nrow = -(-len(handles) // ncol)
    padded = list(handles) + [_blank() for _ in range(nrow * ncol - len(handles))]
    ordered = [padded[row * ncol + col] for col in range(ncol) for row in range(nrow)]
    ax.legend(handles=ordered, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=ncol,
              frameon=False, fontsize=_BASE_FONT - 1, handlelength=2.0, columnspacing=1.6)


def _blank(label: str = " ") -> Line2D:
    return Line2D([], [], linestyle="none", label=label)


def _rc() -> Any:
    return matplotlib.rc_context({"font.size": _BASE_FONT, "svg.hashsalt": "autopilot-sim",
                                  "svg.fonttype": "path", "axes.titlesize": _BASE_FONT + 2,
                                  "axes.titleweight": "bold", "axes.labelsize": _BASE_FONT})


# --------------------------------------------------------------------------------- figures


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
    run = _as_run(run)
    with _rc():
        tx = _TimeAxis(run.duration_ns)
        given = ax is not None
        if ax is not None:
            fig = ax.figure
            layout = _MarkLayout(run, tx, _axes_width_in(ax))
        else:
            layout = _MarkLayout(run, tx, _timeline_axes_width_in())
            if layout.table:
                ncol = layout.table_columns(FIG_WIDTH - 1.0)
                table_h = layout.table_height_in(ncol)
                fig = Figure(figsize=(FIG_WIDTH, 4.8 + table_h), dpi=DPI, layout="constrained")
                ax, table_ax = fig.subplots(2, 1, height_ratios=[4.8, table_h])
                _draw_table(table_ax, layout, ncol)
            else:
                fig, ax = _new_figure(4.8, None)
        if given and layout.table:
            _draw_table(ax, layout, 1, beside=True)
            ax.add_artist(ax.get_legend())
        tx.apply(ax)
        _style(ax)
        _shade_status(ax, run, tx)
        for i, (a, b) in enumerate(leaderless_spans(run)):
            bar = ax.axvspan(tx.x(a), tx.x(b), ymin=0, ymax=0.035, color=C_NO_LEADER, linewidth=0, zorder=2,
                             label="no leader (actual)" if i == 0 else None)
            bar.set_gid(f"leaderless-{i}")

        xs, ft, voters = [], [], []
        for record, (a, _) in zip(run.timeline, _hold_times(run)):
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
        ax.set_title(_title(run, "failure tolerance and voters"), pad=8 + layout.rows * _ROW_PT + 4, loc="left")
        by_label = {h.get_label(): h for h in ax.get_legend_handles_labels()[0]}
        shading = [by_label[k] for k in ("no leader (API 500)", "unhealthy (API 429)",
                                         "no leader (actual)") if k in by_label]
        handles = [ftline, vline] + marks + shading + _category_legend_handles(layout)
        _row_major_legend(ax, handles, ncol=5)
    return fig


def _value_at(xs: list[float], ys: list[float], x: float) -> float:
    """The step (post) value at x: the last y whose x is ≤ x (the new value at a change)."""
    value = math.nan
    for xi, yi in zip(xs, ys):
        if xi > x:
            break
        value = yi
    return value


def _role(server: dict[str, Any]) -> str:
    if server.get("Leader"):
        return "leader"
    return "voter" if server.get("Voter") else "non-voter"


_ROLE_COLOURS = {"leader": C_LEADER, "voter": C_VOTER, "non-voter": C_NONVOTER}


def _segments(spans: list[tuple[float, float, Any]]) -> list[tuple[float, float, Any]]:
    """Merge adjacent (start, end, state) spans with the same state."""
    out: list[tuple[float, float, Any]] = []
    for a, b, state in spans:
        if out and out[-1][2] == state and out[-1][1] == a:
            out[-1] = (out[-1][0], b, state)
        else:
            out.append((a, b, state))
    return out


_SWIM_MARKERS = (
    # group, marker, colour, size, legend label
    ("promotion", "^", "#1b7837", 80, "promoted to voter"),
    ("demotion", "v", "#762a83", 80, "demoted"),
    ("addition", "P", "#1f78b4", 80, "added to Raft (non-voter)"),
    ("removal", "X", "#000000", 80, "removed from Raft"),
    ("crash", "*", C_SICK, 150, "crashed / exited"),
    ("start", "o", "#2e7d32", 50, "restarted / upgraded / joined"),
)


def _header(text: str) -> Line2D:
    """A legend entry with no handle: a section heading."""
    return Line2D([], [], linestyle="none", label=text)


def swimlanes(run: Run | str | Path, ax: Axes | None = None) -> Figure:
    """One lane per server, as the health report shows it: its role (leader / voter /
    non-voter; nothing while the report does not list it) as a thick bar, with two thin strips
    under it for its health and its serf status.

    Periods without a report (no leader) are hatched across every lane; periods when the
    server's process was down or paused (from the events) are hatched over its bar, since the
    report keeps showing a crashed server until autopilot or serf notice. Promotions, removals,
    demotions, additions to Raft, crashes and (re)starts are marked on the lane of their server.

    Artist gids: "role-<server>-<role>", "health-<server>-<healthy|unhealthy>",
    "serf-<server>-<status>", "down-<server>-N", "no-report-N", "marker-<group>" (groups as in
    `membership_changes`).
    """
    run = _as_run(run)
    names = _server_order(run)
    with _rc():
        fig, ax = _new_figure(1.5 + 0.62 * max(len(names), 4), ax)
        tx = _TimeAxis(run.duration_ns)
        tx.apply(ax)
        _style(ax)
        lane = {name: i for i, name in enumerate(names)}

        per: dict[str, list[tuple[float, float, Any]]] = {n: [] for n in names}
        for record, (a, b) in zip(run.timeline, _hold_times(run)):
            if record["status"] == 500:
                continue
            present = _servers(record)
            for name in names:
                s = present.get(name)
                state = None if s is None else (_role(s), bool(s.get("Healthy")), s.get("SerfStatus", "alive"))
                per[name].append((tx.x(a), tx.x(b), state))

        down = down_spans(run)
        # Lane geometry (the y axis is inverted: lane i is centred on y = i).
        role_top, role_h = -0.40, 0.40
        health_top, serf_top, strip_h = 0.05, 0.21, 0.12
        for name in names:
            y = lane[name]
            for part, key, top, height in (("role", 0, role_top, role_h), ("health", 1, health_top, strip_h),
                                           ("serf", 2, serf_top, strip_h)):
                groups: dict[Any, list[tuple[float, float]]] = {}
                for a, b, state in _segments([(a, b, None if st is None else st[key]) for a, b, st in per[name]]):
                    if state is not None:
                        groups.setdefault(state, []).append((a, b - a))
                for state, bars in groups.items():
                    if part == "role":
                        colour, tag = _ROLE_COLOURS[state], state
                    elif part == "health":
                        colour, tag = (C_HEALTHY if state else C_SICK), ("healthy" if state else "unhealthy")
                    else:
                        colour, tag = C_SERF.get(state, "#999999"), state
                    coll = ax.broken_barh(bars, (y + top, height), facecolors=colour, edgecolors="none", zorder=2)
                    coll.set_gid(f"{part}-{name}-{tag}")
            lane_height = serf_top + strip_h - role_top  # the bar and both strips
            for i, (a, b, why) in enumerate(down[name] if name in down else []):
                patch = ax.broken_barh([(tx.x(a), tx.x(b) - tx.x(a))], (y + role_top, lane_height),
                                       facecolors="none", edgecolors="#303030" if why == "down" else "#7f7f7f",
                                       hatch="xx" if why == "down" else "...", linewidth=0, alpha=0.8, zorder=5)
                patch.set_gid(f"down-{name}-{i}")

        for i, (a, b) in enumerate(status_spans(run, 500)):
            patch = ax.axvspan(tx.x(a), tx.x(b), facecolor="white", edgecolor=C_NO_LEADER, hatch="////",
                               linewidth=0, alpha=0.75, zorder=4)
            patch.set_gid(f"no-report-{i}")

        marker_handles = []
        for group, marker, colour, size, label in _SWIM_MARKERS:
            pts = [(e["t_ns"], e["server"]) for e in membership_changes(run, group) if e.get("server") in lane]
            if not pts:
                continue
            # Raft membership changes sit on top of the lane, process events on the role bar, so
            # that a join and its addition to Raft a few milliseconds later stay apart.
            above = group not in ("crash", "start")
            offset = role_top - 0.07 if above else role_top + role_h / 2
            coll = ax.scatter([tx.x(t) for t, _ in pts], [lane[s] + offset for _, s in pts],
                              marker=marker, s=size, color=colour, edgecolors="white", linewidths=0.9,
                              zorder=6, label=label, clip_on=False)
            coll.set_gid(f"marker-{group}")
            marker_handles.append(coll)

        ax.set_yticks(range(len(names)), names)
        ax.set_ylim(len(names) - 0.55, -0.75)
        ax.tick_params(axis="y", length=0, labelsize=_BASE_FONT)
        ax.spines["left"].set_visible(False)
        ax.set_title(_title(run, "servers as the autopilot health report shows them"), loc="left")

        used = {st for spans in per.values() for _, _, st in spans if st is not None}
        handles: list[Any] = [_header("role (bar)")]
        handles += [Patch(color=_ROLE_COLOURS[r], label=r) for r in ("leader", "voter", "non-voter")
                    if any(st[0] == r for st in used)]
        handles += [_header("health (upper strip)"), Patch(color=C_HEALTHY, label="healthy"),
                    Patch(color=C_SICK, label="unhealthy")]
        handles.append(_header("serf (lower strip)"))
        handles += [Patch(color=C_SERF[s], label=s) for s in C_SERF if any(st[2] == s for st in used)]
        overlays = []
        whys = {why for spans in down.values() for _, _, why in spans}
        if "down" in whys:
            overlays.append(Patch(facecolor="white", edgecolor="#303030", hatch="xx", linewidth=0,
                                  label="process down"))
        if "paused" in whys:
            overlays.append(Patch(facecolor="white", edgecolor="#7f7f7f", hatch="...", linewidth=0,
                                  label="process paused"))
        if status_spans(run, 500):
            overlays.append(Patch(facecolor="white", edgecolor=C_NO_LEADER, hatch="////", linewidth=0,
                                  label="no leader: no report"))
        if overlays:
            handles += [_header("overlays")] + overlays
        if marker_handles:
            handles += [_header("events")] + marker_handles
        legend = ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.005, 1.02), frameon=False,
                           fontsize=_BASE_FONT - 1.5, handlelength=1.6, labelspacing=0.3)
        headers = {h.get_label() for h in handles if isinstance(h, Line2D) and h.get_linestyle() == "None"
                   and h.get_marker() in ("None", None, "")}
        for text in legend.get_texts():
            if text.get_text() in headers:
                text.set_fontweight("bold")
    return fig


def _split_axes(ax: Axes | Sequence[Axes] | None, height: float) -> tuple[Figure, Axes, Axes]:
    if ax is None:
        fig = Figure(figsize=(FIG_WIDTH, height), dpi=DPI, layout="constrained")
        top, bottom = fig.subplots(2, 1, sharex=True)
        return fig, top, bottom
    if isinstance(ax, Axes):
        fig = ax.figure
        spec = ax.get_subplotspec()
        if spec is None:
            raise TypeError("contact(ax=...) needs an Axes from a grid (add_subplot) or a pair of Axes")
        ax.remove()
        gs = spec.subgridspec(2, 1)
        top = fig.add_subplot(gs[0])
        bottom = fig.add_subplot(gs[1], sharex=top)
        return fig, top, bottom  # type: ignore[return-value]
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
    run = _as_run(run)
    names = _server_order(run)
    colours = _server_colours(names)
    with _rc():
        fig, top, bottom = _split_axes(ax, 7.0)
        tx = _TimeAxis(run.duration_ns)
        contact_series: dict[str, tuple[list[float], list[float]]] = {n: ([], []) for n in names}
        lag_series: dict[str, tuple[list[float], list[float]]] = {n: ([], []) for n in names}
        for record in run.timeline:
            servers = _servers(record)
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
                c = _duration_value(s.get("LastContact")) if follower else None
                contact_series[n][0].append(x)
                contact_series[n][1].append(c / MILLISECOND if c else math.nan)  # 0 → no contact yet
                lag_series[n][0].append(x)
                lag_series[n][1].append(float(leader_index - s["LastIndex"])
                                        if follower and leader_index is not None else math.nan)

        for panel in (top, bottom):
            tx.apply(panel, label=panel is bottom)
            _style(panel)
            _shade_status(panel, run, tx, legend=panel is top, alpha=0.16)
        # Dots mark the ticks while they can be told apart; long runs get plain lines.
        style = dict(linewidth=1.3, marker=".", markersize=4) if len(run.timeline) <= 150 else \
            dict(linewidth=1.0, alpha=0.9)
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
                    panel.annotate(f"set to {_short_value(key, int(v))}", xy=(tx.x(t), v / scale),
                                   xytext=(4, 4), textcoords="offset points", fontsize=_LABEL_FONT,
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
        top.set_title(_title(run, "follower contact and log lag (leader not shown)"), loc="left")
        top.legend(loc="upper left", bbox_to_anchor=(1.005, 1.0), frameon=False, fontsize=_BASE_FONT - 1)
        moments = _contact_moments(run)
        for i, (t, category, _) in enumerate(moments):
            for panel in (top, bottom):
                line = panel.axvline(tx.x(t), alpha=0.7, zorder=1, **_mark_style(category))
                line.set_gid(f"contact-mark-{i}")
        seen = {category for _, category, _ in moments}
        moment_handles = [Line2D([], [], label=_CONTACT_MOMENTS[c], **_mark_style(c)) for c in _CONTACT_MOMENTS
                          if c in seen]
        bottom.legend(handles=[h for h in bottom.get_legend_handles_labels()[0]
                               if h.get_label() == "MaxTrailingLogs"] + moment_handles,
                      loc="upper left", bbox_to_anchor=(1.005, 1.0), frameon=False, fontsize=_BASE_FONT - 1)
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


def election_time_cdf(samples_ns: Iterable[int | float], ax: Axes | None = None, *, label: str | None = None,
                      unit: str = "ms") -> Figure:
    """Empirical CDF of leader-election times (nanoseconds), e.g. one sample per seed of a
    sweep. Call again with the same `ax` to overlay another configuration; `unit` is "ms" or
    "s". The median is marked. Artist gids: "cdf-<label>", "median-<label>"."""
    if unit not in ("ms", "s"):
        raise ValueError(f'unit must be "ms" or "s", got {unit!r}')
    samples = sorted(float(s) for s in samples_ns)
    scale = MILLISECOND if unit == "ms" else SECOND
    with _rc():
        fig, ax = _new_figure(4.5, ax)
        _style(ax)
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
        ax.legend(loc="lower right", frameon=False, fontsize=_BASE_FONT - 1)
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
