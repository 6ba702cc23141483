"""runs.jsonl records → summary.csv: the distribution of every figure per parameter combination.

summary.csv is long-form: one row per (parameter combination, figure), with the swept
parameters first, then ``figure``, ``runs`` (runs of the combination), ``count`` (runs that
reported the figure: not null, not a failed run), and

* for a numeric figure: ``mean``, ``median``, ``p10``, ``p90``, ``p99``, ``max`` (percentiles
  interpolate linearly between order statistics, numpy's default);
* for a boolean figure (``quorum_lost``, ``expectation_failed``, and ``run_failed`` — the run
  ended in an error or a safety violation, over all runs): ``share``, the fraction of ``count``
  that was true.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import numpy as np

#: Record keys that identify a run rather than measure it.
IDENTITY = ("combination", "seed_index", "seed", "key", "status", "exit", "error")
STATS = ("mean", "median", "p10", "p90", "p99", "max")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def figures(records: list[dict[str, Any]], params: list[str]) -> tuple[list[str], list[str]]:
    """(numeric figures, boolean figures) present in the records, in first-seen order."""
    numeric: list[str] = []
    boolean: list[str] = []
    skip = set(IDENTITY) | set(params)
    for record in records:
        for key, value in record.items():
            if key in skip or key in numeric or key in boolean:
                continue
            if isinstance(value, bool):
                boolean.append(key)
            elif _is_number(value):
                numeric.append(key)
    return numeric, boolean


def _r(value: float) -> float:
    return round(float(value), 9)


def aggregate(records: list[dict[str, Any]], params: list[str]) -> list[dict[str, Any]]:
    """The summary rows (see the module docstring), combinations in plan order."""
    groups: dict[int, list[dict[str, Any]]] = {}
    for record in sorted(records, key=lambda r: (r["combination"], r["seed_index"])):
        groups.setdefault(record["combination"], []).append(record)
    numeric, boolean = figures(records, params)
    rows: list[dict[str, Any]] = []
    for runs in groups.values():
        head = {p: runs[0].get(p) for p in params}
        failed = [r.get("status") in ("error", "safety_violation") for r in runs]
        rows.append({**head, "figure": "run_failed", "runs": len(runs), "count": len(runs),
                     "share": _r(sum(failed) / len(runs))})
        for name in boolean:
            values = [r[name] for r in runs if isinstance(r.get(name), bool)]
            rows.append({**head, "figure": name, "runs": len(runs), "count": len(values),
                         "share": _r(sum(values) / len(values)) if values else None})
        for name in numeric:
            numbers = np.array([r[name] for r in runs if _is_number(r.get(name))], dtype=float)
            row: dict[str, Any] = {**head, "figure": name, "runs": len(runs), "count": len(numbers)}
            if len(numbers):
                p10, median, p90, p99 = np.percentile(numbers, [10, 50, 90, 99])
                row.update(mean=_r(numbers.mean()), median=_r(median), p10=_r(p10), p90=_r(p90),
                           p99=_r(p99), max=_r(numbers.max()))
            rows.append(row)
    return rows


def summary_csv(records: list[dict[str, Any]], params: list[str]) -> str:
    """summary.csv's text."""
    columns = [*params, "figure", "runs", "count", *STATS, "share"]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for row in aggregate(records, params):
        writer.writerow({c: ("" if row.get(c) is None else row.get(c)) for c in columns})
    return buffer.getvalue()
