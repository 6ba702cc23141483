"""Digitize Figure 16's CDF curves from the thesis sources' SVGs (cairo output of R/ggplot2).

Usage: python -m autopilot_sim.experiments.digitize_figure16 benchmarks-randomness.svg \
           benchmarks-scale.svg > autopilot_sim/experiments/data/figure16.csv

Each curve is one long stroked path of straight segments (a step function); its colour is the
one of a legend key, and the legend keys are listed top to bottom in the order of
`RANDOMNESS_RANGES` / `SCALE_RANGES`. Axes are calibrated from the gridlines whose tick labels
were read off the figure: y from 0.0 (y = 145.140625) to 1.0 (y = 12.242188) in both panels;
x in the randomness panel is log10: 100 ms at 54.425781 and 1000 ms at 127.074219; in the
scale panel linear: 0 ms at 41.910156 and 600 ms at 323.304688 + 11.72... (25 ms per gridline).
The output keeps every vertex: ``panel,timeout_range_ms,time_ms,cdf``.
"""

from __future__ import annotations

import math
import re
import sys

from autopilot_sim.experiments.election_time import RANDOMNESS_RANGES, SCALE_RANGES

Y0, Y1 = 145.140625, 12.242188  # cdf 0.0 and 1.0


def _x_randomness(px: float) -> float:
    return 10 ** (2 + (px - 54.425781) / (127.074219 - 54.425781))


def _x_scale(px: float) -> float:
    return (px - 41.910156) * 25.0 / (53.636719 - 41.910156)


PANELS = {"randomness": (RANDOMNESS_RANGES, _x_randomness), "scale": (SCALE_RANGES, _x_scale)}
_PATH = re.compile(r'<path style="([^"]*)" d="([^"]*)"')
_POINT = re.compile(r"[ML] ([-\d.]+) ([-\d.]+)")


def curves(svg: str, panel: str) -> dict[str, list[tuple[float, float]]]:
    """{range label: [(time_ms, cdf), ...]} for one panel's SVG text."""
    labels, to_ms = PANELS[panel]
    body = svg[svg.index("</defs>"):]
    keys, long_paths = [], []
    for style, d in _PATH.findall(body):
        colour = re.search(r"stroke:(rgb\([^)]*\))", style)
        if colour is None:
            continue
        points = [(float(x), float(y)) for x, y in _POINT.findall(d)]
        if len(points) > 50:
            long_paths.append((colour.group(1), points))
        elif len(points) == 2 and points[0][0] > 345 and points[0][1] == points[1][1]:
            keys.append((points[0][1], colour.group(1)))  # a legend key's line
    label_of = {colour: label for (_, colour), label in zip(sorted(keys), labels, strict=False)}
    out = {}
    for stroke, points in long_paths:
        out[label_of[stroke]] = [(round(to_ms(x), 3), round((Y0 - y) / (Y0 - Y1), 5)) for x, y in points]
    return out


def main(argv: list[str]) -> int:
    """Print the CSV for the two SVGs (randomness panel first)."""
    print("panel,timeout_range_ms,time_ms,cdf")
    for path, panel in zip(argv, ("randomness", "scale"), strict=False):
        with open(path, encoding="utf-8") as fh:
            found = curves(fh.read(), panel)
        for label in PANELS[panel][0]:
            for ms, cdf in found[label]:
                if math.isfinite(ms):
                    print(f"{panel},{label},{ms},{cdf}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
