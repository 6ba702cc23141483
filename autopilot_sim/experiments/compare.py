"""Figure 16 as published (digitized, data/figure16.csv) and the comparison with a run's trials."""

from __future__ import annotations

import bisect
import csv
import math
from dataclasses import dataclass
from importlib import resources

from autopilot_sim.experiments.election_time import quantile

#: The paper's stated numbers (docs/behaviour/papers.md §2.1), by range.
STATED = {
    "150-150": "over 10 s (every trial)",
    "150-155": "median 287 ms",
    "150-200": "worst of 1000: 513 ms",
    "12-24": "mean 35 ms, longest 152 ms",
}


def paper_curves() -> dict[str, list[tuple[float, float]]]:
    """{range: [(time_ms, cdf), ...]} digitized from the thesis's SVGs (both panels merged; the
    150-300 line is in both and identical)."""
    text = resources.files("autopilot_sim.experiments").joinpath("data/figure16.csv").read_text("utf-8")
    out: dict[str, list[tuple[float, float]]] = {}
    for row in csv.DictReader(text.splitlines()):
        label = row["timeout_range_ms"]
        if row["panel"] == "scale" and label == "150-300":
            continue  # the same line as in the randomness panel
        out.setdefault(label, []).append((float(row["time_ms"]), float(row["cdf"])))
    return out


def curve_cdf(curve: list[tuple[float, float]], x: float) -> float:
    """The published CDF at x: the highest level the step curve reached at or before x."""
    times = [t for t, _ in curve]
    i = bisect.bisect_right(times, x)
    if i == 0:
        return 0.0
    return max(0.0, min(1.0, max(c for _, c in curve[:i])))


def curve_quantile(curve: list[tuple[float, float]], q: float) -> float:
    """The first time the published CDF reaches q."""
    for t, c in curve:
        if c >= q:
            return t
    return curve[-1][0]


def ks_distance(samples_ms: list[float], curve: list[tuple[float, float]]) -> float:
    """Kolmogorov–Smirnov statistic: the largest vertical gap between the trials' empirical CDF
    and the published curve, checked at every sample and every curve vertex (both sides)."""
    ordered = sorted(samples_ms)
    n = len(ordered)

    def ours(x: float, strict: bool = False) -> float:
        return (bisect.bisect_left(ordered, x) if strict else bisect.bisect_right(ordered, x)) / n

    worst = 0.0
    levels = []
    running = 0.0
    for t, c in curve:
        running = max(running, c)
        levels.append((t, running))
    for x in set(ordered) | {t for t, _ in curve}:
        theirs = curve_cdf(curve, x)
        worst = max(worst, abs(ours(x) - theirs), abs(ours(x, strict=True) - _left_limit(levels, x)))
    return worst


def _left_limit(levels: list[tuple[float, float]], x: float) -> float:
    i = bisect.bisect_left([t for t, _ in levels], x)
    return levels[i - 1][1] if i else 0.0


@dataclass
class Row:
    """One range: this run's statistics next to the published curve's."""

    label: str
    trials: int
    censored: int
    mean: float
    median: float
    p90: float
    max: float
    paper_median: float
    paper_p90: float
    paper_max: float
    ks: float
    stated: str


def compare(results_ms: dict[str, list[float]], cap_ms: float) -> list[Row]:
    """A row per range in `results_ms` (ranges the paper did not plot get NaN paper columns)."""
    curves = paper_curves()
    rows = []
    for label, values in results_ms.items():
        curve = curves.get(label)
        rows.append(Row(
            label, len(values), sum(1 for v in values if v >= cap_ms),
            sum(values) / len(values), quantile(values, 0.5), quantile(values, 0.9), max(values),
            curve_quantile(curve, 0.5) if curve else math.nan,
            curve_quantile(curve, 0.9) if curve else math.nan,
            curve[-1][0] if curve else math.nan,
            ks_distance(values, curve) if curve else math.nan,
            STATED.get(label, ""),
        ))
    return rows


def table(rows: list[Row]) -> str:
    """A Markdown table of `rows` (ms, KS as a fraction)."""
    def ms(v: float) -> str:
        return "—" if math.isnan(v) else (f"{v:,.0f}" if v >= 100 else f"{v:.1f}")

    lines = ["| range (ms) | trials | median | p90 | max | paper median | paper p90 | paper max | KS | paper says |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        cens = f" ({r.censored} capped)" if r.censored else ""
        lines.append(f"| {r.label} | {r.trials}{cens} | {ms(r.median)} | {ms(r.p90)} | {ms(r.max)} | "
                     f"{ms(r.paper_median)} | {ms(r.paper_p90)} | {ms(r.paper_max)} | "
                     f"{'—' if math.isnan(r.ks) else f'{r.ks:.2f}'} | {r.stated} |")
    return "\n".join(lines)
