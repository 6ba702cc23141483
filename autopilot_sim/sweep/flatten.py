"""summary.json → one flat record (a row of runs.jsonl).

The rules, applied to every key of the summary so that new figures flow into sweeps unchanged:

* numbers, booleans, null and text are kept under their own key — except a text duration that
  has a numeric twin (``time_unhealthy`` next to ``time_unhealthy_s``, ``duration`` next to
  ``duration_ns``), which is dropped, and ``duration_ns``, which becomes ``duration_s``;
* a mapping becomes one key per entry, joined by ``_`` (``messages.sent`` → ``messages_sent``,
  ``health_status_counts["500"]`` → ``health_status_counts_500``);
* a list of records (``down_episodes``) becomes its length under its own key plus, for every
  numeric field ``F`` of its records, ``<list>_first_F`` (the first record's value) and
  ``<list>_max_F`` (the largest non-null value; null when there is none) — e.g.
  ``down_episodes_first_removed_after_s``, ``down_episodes_max_serf_failed_after_s``;
* ``expectations`` becomes ``expectations_total``, ``expectations_failed``,
  ``expectations_skipped`` and the boolean ``expectation_failed``;
* ``scenario``, ``seed`` (already in the record) and ``safety_violation`` (the record's
  ``status`` and ``error`` say it) are left out.
"""

from __future__ import annotations

from typing import Any

_SKIP = {"scenario", "seed", "safety_violation", "expectations", "duration_ns"}

#: Fields of list records that are always flattened, even when every record has them null.
EPISODE_FIELDS = ("at_s", "down_s", "serf_failed_after_s", "unhealthy_after_s", "removed_after_s",
                  "reported_healthy_while_down_s")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _flatten_list(key: str, items: list[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {key: len(items)}
    fields = list(EPISODE_FIELDS) if key == "down_episodes" else []
    for item in items:
        if isinstance(item, dict):
            for name, value in item.items():
                if name not in fields and (_is_number(value) or value is None):
                    fields.append(name)
    for name in fields:
        first = items[0].get(name) if items and isinstance(items[0], dict) else None
        values: list[float] = [item[name] for item in items if isinstance(item, dict) and _is_number(item.get(name))]
        out[f"{key}_first_{name}"] = first if _is_number(first) else None
        out[f"{key}_max_{name}"] = max(values) if values else None
    return out


def flatten_summary(summary: dict[str, Any]) -> dict[str, Any]:
    """The flat figures of one run's summary (see the module docstring for the rules)."""
    out: dict[str, Any] = {}
    for key, value in summary.items():
        if key in _SKIP:
            continue
        if isinstance(value, str) and (f"{key}_s" in summary or f"{key}_ns" in summary):
            continue
        if isinstance(value, dict):
            for sub, item in value.items():
                out[f"{key}_{sub}"] = item
        elif isinstance(value, list):
            out.update(_flatten_list(key, value))
        else:
            out[key] = value
    if "duration_ns" in summary:
        out["duration_s"] = round(summary["duration_ns"] / 1e9, 9)
    expectations = summary.get("expectations") or []
    failed = sum(1 for e in expectations if not e.get("passed"))
    out["expectations_total"] = len(expectations)
    out["expectations_failed"] = failed
    out["expectations_skipped"] = sum(1 for e in expectations if e.get("skipped"))
    out["expectation_failed"] = failed > 0
    return out
