"""Swimlanes: one lane per server as the health report shows it (role, health, serf status),
with process-down periods, no-report periods and membership events."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from autopilot_sim.plot_common import (
    BASE_FONT,
    C_HEALTHY,
    C_LEADER,
    C_NO_LEADER,
    C_NONVOTER,
    C_SERF,
    C_SICK,
    C_VOTER,
    TimeAxis,
    as_run,
    header_handle,
    new_figure,
    plot_rc,
    run_title,
    style_axes,
)
from autopilot_sim.rundata import (
    Run,
    down_spans,
    hold_times,
    membership_changes,
    server_order,
    servers_of,
    status_spans,
)


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
    run = as_run(run)
    names = server_order(run)
    with plot_rc():
        fig, ax = new_figure(1.5 + 0.62 * max(len(names), 4), ax)
        tx = TimeAxis(run.duration_ns)
        tx.apply(ax)
        style_axes(ax)
        lane = {name: i for i, name in enumerate(names)}

        per: dict[str, list[tuple[float, float, Any]]] = {n: [] for n in names}
        for record, (a, b) in zip(run.timeline, hold_times(run), strict=True):
            if record["status"] == 500:
                continue
            present = servers_of(record)
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
                spans = [(start, end, None if st is None else st[key]) for start, end, st in per[name]]
                for x0, x1, state in _segments(spans):
                    if state is not None:
                        groups.setdefault(state, []).append((x0, x1 - x0))
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
            for i, (a, b, why) in enumerate(down.get(name, [])):
                patch = ax.broken_barh([(tx.x(a), tx.x(b) - tx.x(a))], (y + role_top, lane_height),
                                       facecolors="none", edgecolors="#303030" if why == "down" else "#7f7f7f",
                                       hatch="xx" if why == "down" else "...", linewidth=0, alpha=0.8, zorder=5)
                patch.set_gid(f"down-{name}-{i}")

        for i, (a, b) in enumerate(status_spans(run, 500)):
            span = ax.axvspan(tx.x(a), tx.x(b), facecolor="white", edgecolor=C_NO_LEADER, hatch="////",
                              linewidth=0, alpha=0.75, zorder=4)
            span.set_gid(f"no-report-{i}")

        marker_handles = []
        for group, marker, colour, size, label in _SWIM_MARKERS:
            pts = [(e["t_ns"], e["server"]) for e in membership_changes(run, group) if e.get("server") in lane]
            if not pts:
                continue
            # Raft membership changes sit on top of the lane, process events on the role bar, so
            # that a join and its addition to Raft a few milliseconds later stay apart.
            above = group not in ("crash", "start")
            offset = role_top - 0.07 if above else role_top + role_h / 2
            dots = ax.scatter([tx.x(t) for t, _ in pts], [lane[s] + offset for _, s in pts],
                              marker=marker, s=size, color=colour, edgecolors="white", linewidths=0.9,
                              zorder=6, label=label, clip_on=False)
            dots.set_gid(f"marker-{group}")
            marker_handles.append(dots)

        ax.set_yticks(range(len(names)), names)
        ax.set_ylim(len(names) - 0.55, -0.75)
        ax.tick_params(axis="y", length=0, labelsize=BASE_FONT)
        ax.spines["left"].set_visible(False)
        ax.set_title(run_title(run, "servers as the autopilot health report shows them"), loc="left")

        used = {st for spans in per.values() for _, _, st in spans if st is not None}
        handles: list[Any] = [header_handle("role (bar)")]
        handles += [Patch(color=_ROLE_COLOURS[r], label=r) for r in ("leader", "voter", "non-voter")
                    if any(st[0] == r for st in used)]
        handles += [header_handle("health (upper strip)"), Patch(color=C_HEALTHY, label="healthy"),
                    Patch(color=C_SICK, label="unhealthy")]
        handles.append(header_handle("serf (lower strip)"))
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
            handles += [header_handle("overlays")] + overlays
        if marker_handles:
            handles += [header_handle("events")] + marker_handles
        legend = ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.005, 1.02), frameon=False,
                           fontsize=BASE_FONT - 1.5, handlelength=1.6, labelspacing=0.3)
        headers = {h.get_label() for h in handles if isinstance(h, Line2D) and h.get_linestyle() == "None"
                   and h.get_marker() in ("None", None, "")}
        for text in legend.get_texts():
            if text.get_text() in headers:
                text.set_fontweight("bold")
    return fig
