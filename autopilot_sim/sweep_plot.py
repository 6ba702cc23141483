"""Figures of a sweep directory: every figure against the swept parameter, one PNG each.

For a numeric figure the plot shows, at each value of the swept parameter, the median over the
runs that reported it (line and markers), the band from the 10th to the 90th percentile and
every run as a faint dot; for a
boolean figure (``quorum_lost``, ``expectation_failed``, ``run_failed``) the share of runs where
it was true. The x axis is the first parameter with more than one value: numeric when all its
values are numbers or Go durations (durations in seconds), else one position per value. When
a second parameter varies too, each of its values (with the remaining ones) is its own line.
A sweep over seeds only has no parameter axis: each numeric figure is drawn as the empirical
CDF of its runs instead. Figures that never vary across the sweep are skipped, and so are runs
that failed (``status`` error or safety_violation) except in ``run_failed``.

Nothing here touches pyplot's global state (figures are `matplotlib.figure.Figure` objects),
like `autopilot_sim.plot`, whose `save` writes the files.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from autopilot_sim.durations import SECOND, DurationError, parse_duration
from autopilot_sim.plot import DPI, PlotError, save
from autopilot_sim.sweep.aggregate import figures

C_MEDIAN = "#1f3b73"
_SERIES = ("#1f3b73", "#d62728", "#2a9d8f", "#ff9f1c", "#6a3d9a", "#8c564b", "#e377c2", "#7f7f7f")


def is_sweep_dir(path: str | Path) -> bool:
    """Whether `path` is a sweep directory (sweep.json and runs.jsonl), not a run directory."""
    root = Path(path)
    return (root / "sweep.json").is_file() and (root / "runs.jsonl").is_file()


def load_sweep(path: str | Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(sweep.json, runs.jsonl records) of a sweep directory; `PlotError` when unreadable."""
    root = Path(path)
    try:
        meta = json.loads((root / "sweep.json").read_text(encoding="utf-8"))
        records = [json.loads(line) for line in (root / "runs.jsonl").read_text(encoding="utf-8").splitlines()
                   if line.strip()]
    except (OSError, ValueError) as exc:
        raise PlotError(f"{root}: not a readable sweep directory ({exc})") from None
    if not records:
        raise PlotError(f"{root}: runs.jsonl holds no runs")
    return meta, records


def _numeric(value: Any) -> float | None:
    """A parameter value on a numeric axis: a number, or a Go duration in seconds (None: neither,
    e.g. a run without the parameter)."""
    try:
        return float(value)
    except (TypeError, ValueError):
        pass
    try:
        return parse_duration(value) / SECOND
    except (DurationError, ValueError, TypeError):
        return None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _axis_label(param: str, numeric: bool, values: list[Any]) -> str:
    if numeric and any(_numeric(v) is not None and not _plain_number(v) for v in values):
        return f"{param} (s)"
    return param


def _plain_number(value: str) -> bool:
    try:
        float(value)
        return True
    except ValueError:
        return False


def _varying(meta: dict[str, Any], records: list[dict[str, Any]]) -> list[str]:
    params = meta.get("parameters") or []
    return [p for p in params if len({r.get(p) for r in records}) > 1]


def _series(records: list[dict[str, Any]], others: list[str]) -> dict[str, list[dict[str, Any]]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in records:
        label = ", ".join(f"{p}={r.get(p)}" for p in others)
        groups.setdefault(label, []).append(r)
    return groups


def figure_against_parameter(meta: dict[str, Any], records: list[dict[str, Any]], name: str,
                             boolean: bool) -> Figure:
    """One figure: `name` against the swept parameter (see the module docstring)."""
    varying = _varying(meta, records)
    x_param, others = varying[0], varying[1:]
    values = list(dict.fromkeys(r.get(x_param) for r in records))
    numeric = all(_numeric(v) is not None for v in values)
    position: dict[Any, float] = {}
    for i, v in enumerate(values):
        x = _numeric(v) if numeric else None
        position[v] = x if x is not None else float(i)
    fig = Figure(figsize=(8, 4.5), dpi=DPI)
    ax = fig.add_subplot()
    for i, (label, runs) in enumerate(sorted(_series(records, others).items())):
        colour = _SERIES[i % len(_SERIES)]
        xs: list[float] = []
        mid: list[float] = []
        lo: list[float] = []
        hi: list[float] = []
        for v in values:
            subset = [r for r in runs if r.get(x_param) == v]
            if boolean:
                if name == "run_failed":
                    flags = [r.get("status") in ("error", "safety_violation") for r in subset]
                else:
                    flags = [r[name] for r in subset if isinstance(r.get(name), bool) and _ran(r)]
                if flags:
                    xs.append(position[v])
                    mid.append(sum(flags) / len(flags))
                continue
            ys = np.array([r[name] for r in subset if _ran(r) and _is_number(r.get(name))], dtype=float)
            if len(ys):
                # Every run as a faint dot: medians alone hide lumps such as a 10 s tick grid.
                ax.scatter(np.full(len(ys), position[v]), ys, s=9, color=colour, alpha=0.22, linewidths=0)
                p10, p50, p90 = np.percentile(ys, [10, 50, 90])
                xs.append(position[v])
                mid.append(p50)
                lo.append(p10)
                hi.append(p90)
        if not xs:
            continue
        ax.plot(xs, mid, marker="o", color=colour, label=(label or None) if others else
                ("share of runs" if boolean else "median"))
        if not boolean:
            ax.fill_between(xs, lo, hi, color=colour, alpha=0.18, linewidth=0,
                            label=None if others else "p10–p90")
    if not numeric:
        ax.set_xticks(range(len(values)), [str(v) for v in values])
    ax.set_xlabel(_axis_label(x_param, numeric, values))
    ax.set_ylabel(("share of runs: " if boolean else "") + name)
    if boolean:
        ax.set_ylim(-0.03, 1.03)
    counts = {len([r for r in records if r.get(x_param) == v]) for v in values}
    per = f"{min(counts)}" if len(counts) == 1 else f"{min(counts)}–{max(counts)}"
    ax.set_title(f"{name} — {Path(meta.get('scenario', '')).name}, {per} runs per value", fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def _ran(record: dict[str, Any]) -> bool:
    return record.get("status") not in ("error", "safety_violation")


def figure_distribution(meta: dict[str, Any], records: list[dict[str, Any]], name: str) -> Figure:
    """The empirical CDF of `name` over the runs (a sweep over seeds only)."""
    ys = np.sort(np.array([r[name] for r in records if _ran(r) and _is_number(r.get(name))], dtype=float))
    fig = Figure(figsize=(8, 4.5), dpi=DPI)
    ax = fig.add_subplot()
    if len(ys):
        ax.step(ys, np.arange(1, len(ys) + 1) / len(ys), where="post", color=C_MEDIAN)
        median = float(np.percentile(ys, 50))
        ax.axvline(median, color=C_MEDIAN, linestyle=":", linewidth=1, label=f"median {median:.3g}")
        ax.legend(fontsize=8)
    ax.set_xlabel(name)
    ax.set_ylabel("share of runs ≤ x")
    ax.set_title(f"{name} — {Path(meta.get('scenario', '')).name}, {len(ys)} runs", fontsize=10)
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    return fig


def sweep_figures(path: str | Path, only: list[str] | None = None) -> dict[str, Figure]:
    """Every figure of a sweep directory that varies (or those named in `only`), by name."""
    meta, records = load_sweep(path)
    params = list(meta.get("parameters") or [])
    numeric, boolean = figures(records, params)
    boolean = ["run_failed", *boolean]
    names = only if only else [*boolean, *numeric]
    unknown = [n for n in names if n not in numeric and n not in boolean]
    if unknown:
        raise PlotError(f"no figure named {', '.join(unknown)} in {path}; known: {', '.join([*boolean, *numeric])}")
    varying = _varying(meta, records)
    out: dict[str, Figure] = {}
    for name in names:
        is_bool = name in boolean
        seen = {(r.get("status") in ("error", "safety_violation")) if name == "run_failed" else r.get(name)
                for r in records if name == "run_failed" or _ran(r)}
        if not only and len(seen) <= 1:
            continue  # constant over the whole sweep: nothing to see
        if varying:
            out[name] = figure_against_parameter(meta, records, name, is_bool)
        elif not is_bool:
            out[name] = figure_distribution(meta, records, name)
    return out


def write_sweep_plots(path: str | Path, out_dir: str | Path | None = None,
                      only: list[str] | None = None) -> list[Path]:
    """Write one PNG per figure into `out_dir` (default SWEEP_DIR/plots); returns the paths."""
    target = Path(out_dir) if out_dir is not None else Path(path) / "plots"
    written = []
    for name, fig in sweep_figures(path, only).items():
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name)
        written.append(save(fig, target / f"{safe}.png"))
    return written
