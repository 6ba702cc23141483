"""Event marks on the failure-tolerance timeline: which moments get a line, and where their
labels go so that no two labels overlap and no connector crosses a label.

Marks are the scenario's events and leader changes (`rundata.event_labels`) plus what the
operator needs to see on the same axis: serf declaring a server failed or left, autopilot and
Nomad removing servers from Raft, and configuration writes through the API. Each label starts
with its time.

Layout, in order of preference:

1. **Rows above the axes.** Labels run right from their line (left near the right edge) and are
   packed into at most `MAX_ROWS` rows such that labels in one row do not overlap, and no
   label's connector (from the axes' top up to its row) passes through a label in a lower row.
2. **A numbered table.** When that is impossible, each line (or a group of lines too close
   together to carry separate numbers) gets a small number above the axes, and the labels go
   into a table under the plot, "number  time  label", coloured by category.

Everything is measured with Agg's font metrics (the same on every machine), so the choice and
the positions are deterministic.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from autopilot_sim.durations import SECOND, format_duration
from autopilot_sim.rundata import Run, event_labels, merge_labels

#: Most rows of labels above the axes before the labels move into a table.
MAX_ROWS = 5
#: Most entries in the table under the plot; later marks keep their lines and are counted.
TABLE_MAX = 80
LABEL_FONT = 9.0
ROW_PT = 12.5  # vertical distance between label rows, in points
_PAD_IN = 0.10  # horizontal room kept around each label, inches


@dataclass(frozen=True)
class Mark:
    """One marked moment: time, category (colour and line style) and label text."""

    t_ns: int
    category: str  # of the first event: the label's colour and the line's style
    text: str
    categories: tuple[str, ...] = ()  # every category merged into this mark


def _short_time(t_ns: int) -> str:
    """A label's time: Go duration to 0.1 s (the axis cannot show finer)."""
    return format_duration(t_ns // (SECOND // 10) * (SECOND // 10))


def operator_marks(run: Run) -> list[tuple[int, str, str]]:
    """Serf failed/left verdicts, removals from Raft and API configuration writes, as
    (t_ns, category, text). A server's serf status is marked when it changes (whichever server
    observed it first); an autopilot removal and Nomad's Raft removal of the same server within
    a second are one mark."""
    out: list[tuple[int, str, str]] = []
    serf_seen: dict[str, str] = {}
    removed_at: dict[str, int] = {}
    for e in run.events:
        kind, t, server = e.get("kind"), int(e["t_ns"]), e.get("server", "")
        if kind == "serf_member":
            status = e.get("status", "")
            if serf_seen.get(server) == status:
                continue
            serf_seen[server] = status
            if status in ("failed", "left"):
                out.append((t, "serf", f"serf: {server} {status}"))
        elif kind in ("removal", "raft_remove"):
            if server in removed_at and t - removed_at[server] <= SECOND:
                continue
            removed_at[server] = t
            out.append((t, "removal", f"remove {server}"))
        elif kind == "api_config_write":
            out.append((t, "config", f"API set-config (index {e.get('index', '?')})"))
        elif kind == "api_config_write_failed":
            out.append((t, "config", "API set-config failed"))
    return out


def timeline_marks(run: Run) -> list[Mark]:
    """Every mark of the timeline, in time order, one per instant: same-instant marks of one
    category share a phrase ("12 × cut"), phrases of different categories are joined with "; "
    (one line cannot carry two labels), and each label starts with its time."""
    raw = [(t, c, text) for t, c, text in event_labels(run)] + operator_marks(run)
    raw.sort(key=lambda m: m[0])  # stable: scenario events before operator marks at one instant
    groups: list[tuple[int, list[tuple[str, list[str]]]]] = []
    for t, category, text in raw:
        if not groups or groups[-1][0] != t:
            groups.append((t, []))
        phrases = groups[-1][1]
        if phrases and phrases[-1][0] == category:
            phrases[-1][1].append(text)
        else:
            phrases.append((category, [text]))
    return [Mark(t, phrases[0][0], f"{_short_time(t)} " + "; ".join(merge_labels(texts) for _, texts in phrases),
                 tuple(dict.fromkeys(c for c, _ in phrases)))
            for t, phrases in groups]


@functools.lru_cache(maxsize=1)
def _renderer() -> Any:
    from matplotlib.backends.backend_agg import RendererAgg

    return RendererAgg(10, 10, 72)  # type: ignore[no-untyped-call]  # matplotlib ships it untyped


@functools.lru_cache(maxsize=4096)
def text_width_in(text: str, size: float = LABEL_FONT) -> float:
    """Rendered width of `text` in inches (Agg's font metrics)."""
    from matplotlib.font_manager import FontProperties

    w, _, _ = _renderer().get_text_width_height_descent(text, FontProperties(size=size), ismath=False)
    return float(w) / 72.0


@dataclass(frozen=True)
class Placed:
    """A label placed above the axes: its row and whether it runs left of its line."""

    row: int
    right_aligned: bool
    left: float  # extent in data units
    right: float


def _fits(placed: dict[int, Placed], xs: list[float], x: float, row: int, left: float, right: float) -> bool:
    for j, p in placed.items():
        if p.row == row and not (right <= p.left or left >= p.right):
            return False  # (1) overlaps a label in its row
        if p.row < row and p.left <= x <= p.right:
            return False  # (2) its connector would cross a lower label
        if p.row > row and left <= xs[j] <= right:
            return False  # (3) it would cover the connector of a higher label
    return True


def pack_rows(xs: list[float], widths: list[float], xmax: float, max_rows: int = MAX_ROWS,
              max_steps: int = 20_000) -> list[Placed] | None:
    """Rows for labels at `xs` (time order) of `widths` (data units), or None if they do not fit.

    Each label runs right of its line or left of it, in one of `max_rows` rows, such that
    (1) it overlaps no label in its row, (2) its connector — the vertical from the axes' top at
    x up to its row — crosses no label in a lower row, and (3) it covers no connector of a label
    in a higher row. A depth-first search places the latest label first, preferring low rows and
    labels that run right (a burst of events becomes a staircase that climbs back in time); it
    gives up after `max_steps` tries, and the caller then uses a table instead.
    """
    order = sorted(range(len(xs)), key=lambda k: (-xs[k], -k))
    placed: dict[int, Placed] = {}
    steps = 0

    def options(i: int) -> list[Placed]:
        x, width = xs[i], widths[i]
        out = []
        for row in range(max_rows):
            if x + width <= xmax:
                out.append(Placed(row, False, x, x + width))
            if x - width >= 0 or x + width > xmax:
                out.append(Placed(row, True, x - width, x))
        return out

    def place(k: int) -> bool:
        nonlocal steps
        if k == len(order):
            return True
        i = order[k]
        for option in options(i):
            steps += 1
            if steps > max_steps:
                return False
            if _fits(placed, xs, xs[i], option.row, option.left, option.right):
                placed[i] = option
                if place(k + 1):
                    return True
                del placed[i]
        return False

    if not place(0):
        return None
    return [placed[i] for i in range(len(xs))]


def number_groups(xs: list[float], min_sep: float) -> list[list[int]]:
    """Indices of `xs` (sorted) grouped so that consecutive groups' first x are at least
    `min_sep` apart: each group carries one number above the axes."""
    groups: list[list[int]] = []
    start = None
    for i, x in enumerate(xs):
        if groups and start is not None and x - start < min_sep:
            groups[-1].append(i)
        else:
            groups.append([i])
            start = x
    return groups
