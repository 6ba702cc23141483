"""Collects what a run produced: the event log behind events.jsonl and parts of summary.json.

Nothing here depends on the machine (no wall time, paths or host names), so every file written
from it is byte-identical for the same scenario and seed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from autopilot_sim.durations import format_duration


@dataclass
class Recorder:
    """In-memory event log, written out at the end of a run."""

    events: list[dict[str, Any]] = field(default_factory=list)

    def event(self, t_ns: int, kind: str, message: str, **fields: Any) -> None:
        """Record one notable thing at simulated time t_ns."""
        record: dict[str, Any] = {"t_ns": t_ns, "t": format_duration(t_ns), "kind": kind, "message": message}
        record.update(fields)
        self.events.append(record)

    def events_jsonl(self) -> str:
        """The events as JSON lines (sorted keys, compact, ASCII-safe)."""
        return "".join(json.dumps(e, separators=(",", ":"), ensure_ascii=False) + "\n" for e in self.events)
