"""Replay of a finished run directory for the dashboard (`autopilot-sim view RUN_DIR`).

What the page shows comes from two places:

* the run's own files, as written: the health report under the slider is the ``timeline.jsonl``
  line in force at that time (the exact body ``GET /v1/operator/autopilot/health`` answered),
  the failure-tolerance chart is drawn from the same lines, the event log is ``events.jsonl``;
* the per-server picture (role, term, vote, indexes, log tails, cut links, messages), which no
  run file holds: the run is simulated again in virtual time from its ``scenario.yaml`` and seed
  (and, for a served session, the API commands in its ``events.jsonl``), and a frame is taken
  every ``interval`` of simulated time. Runs are deterministic, so this reproduces the run; the
  re-simulated health reports are compared with ``timeline.jsonl`` and the page says so when
  they differ (a run directory from another version of the simulator).

Frames are computed once, up front; scrubbing only looks one up, so it is deterministic and
moving the slider back and forth always shows the same thing at the same time.
"""

from __future__ import annotations

import bisect
import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from autopilot_sim.api.wire import JSON, Response, go_json
from autopilot_sim.durations import MILLISECOND, format_duration
from autopilot_sim.web import endpoints
from autopilot_sim.web.view import (
    MessageTap,
    build_frame,
    pick_messages,
    timeline_point,
)

#: Default simulated time between two frames, and the most frames a replay keeps.
DEFAULT_INTERVAL = 100 * MILLISECOND
MAX_FRAMES = 4000
#: Messages kept per frame (the ones sent since the previous frame).
FRAME_MESSAGES = 40


class RunDirError(ValueError):
    """A directory that is not a complete run directory."""


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    out = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                try:
                    out.append(json.loads(line))
                except ValueError as exc:
                    raise RunDirError(f"{path}:{number}: not JSON: {exc}") from None
    return out


class ReplayModel:
    """A run directory loaded for the page: the files, and frames from re-simulating it."""

    def __init__(self, run_dir: str | Path, interval: int | None = None) -> None:
        self.run_dir = Path(run_dir)
        for name in ("summary.json", "timeline.jsonl", "events.jsonl", "scenario.yaml"):
            if not (self.run_dir / name).is_file():
                raise RunDirError(f"{self.run_dir}: no {name}: not a run directory (made by `autopilot-sim run "
                                  "--out DIR` or `serve --out DIR`)")
        self.summary = json.loads((self.run_dir / "summary.json").read_text(encoding="utf-8"))
        self.timeline = _read_jsonl(self.run_dir / "timeline.jsonl")
        self.events = _read_jsonl(self.run_dir / "events.jsonl")
        self.report_times = [int(line["t_ns"]) for line in self.timeline]
        self.end_ns = max([int(self.summary.get("duration_ns", 0) or 0)]
                          + [int(e["t_ns"]) for e in self.events] + self.report_times)
        self.interval = interval or max(DEFAULT_INTERVAL, -(-self.end_ns // MAX_FRAMES))
        self.frames: list[dict[str, Any]] = []
        self.frame_times: list[int] = []
        self.reproduced = False
        self.note = ""
        self.scenario_name = str(self.summary.get("scenario", ""))
        self.seed = self.summary.get("seed")

    # ------------------------------------------------------------------ re-simulation

    def simulate(self) -> None:
        """Run the scenario again and take the frames (seconds for a few minutes of a small cluster)."""
        from autopilot_sim.api.live import replay
        from autopilot_sim.scenario import load_scenario
        from autopilot_sim.sim.runner import Simulation

        scenario = load_scenario(str(self.run_dir / "scenario.yaml"))
        self.scenario_name = scenario.name
        seed = self.seed if isinstance(self.seed, int) else None
        tap: list[MessageTap] = []

        def observe(sim: Any) -> None:
            if not tap:
                tap.append(MessageTap(sim.cluster, size=FRAME_MESSAGES * 20))
            messages = pick_messages(tap[0].drain(), 0, FRAME_MESSAGES)
            frame = build_frame(sim, messages)
            self.frames.append(frame)
            self.frame_times.append(frame["TimeNs"])

        served = any(e.get("kind") == "session_end" for e in self.events)
        if served:
            result = replay(scenario, self.events, seed=seed, observe=observe, every=self.interval)
        else:
            sim = Simulation(scenario, seed=seed)
            t = 0
            while t <= sim.duration:
                sim.cluster.run(t)
                observe(sim)
                t += self.interval
            result = sim.run()
        again = [{"t_ns": r["t_ns"], "status": r["status"], "health": r["health"]} for r in result.timeline]
        recorded = [{"t_ns": r.get("t_ns"), "status": r.get("status"), "health": r.get("health")}
                    for r in self.timeline]
        self.reproduced = again == recorded
        if not self.reproduced:
            self.note = ("The server diagram and logs are re-simulated from scenario.yaml, and this simulator's "
                         "health reports differ from the recorded timeline.jsonl (a run from another version?): "
                         "the health report, chart and events shown are the recorded ones.")

    # ------------------------------------------------------------------ lookups

    def frame_at(self, t_ns: int) -> dict[str, Any] | None:
        """The last frame at or before ``t_ns`` (the first one before any)."""
        if not self.frames:
            return None
        i = bisect.bisect_right(self.frame_times, t_ns) - 1
        return self.frames[max(0, i)]

    def health_at(self, t_ns: int) -> dict[str, Any] | None:
        """The recorded health answer in force at ``t_ns``: {"status", "text", "t"} or None."""
        i = bisect.bisect_right(self.report_times, t_ns) - 1
        if i < 0:
            return None
        line = self.timeline[i]
        health = line.get("health")
        status = int(line.get("status", 200))
        if status == 500 or not isinstance(health, dict) or ("error" in health and len(health) == 1):
            text = health.get("error", "No cluster leader") if isinstance(health, dict) else "No cluster leader"
        else:
            text = go_json(health).decode("utf-8")
        return {"status": status, "text": text, "t": line.get("t"), "t_ns": line.get("t_ns")}

    def meta(self) -> dict[str, Any]:
        """GET /v1/sim/replay: everything the page needs once."""
        return {
            "Scenario": self.scenario_name, "Seed": self.seed, "RunDir": str(self.run_dir),
            "EndNs": self.end_ns, "End": format_duration(self.end_ns), "FrameIntervalNs": self.interval,
            "Frames": len(self.frames), "Reproduced": self.reproduced, "Note": self.note,
            "Timeline": [timeline_point(int(r["t_ns"]), int(r.get("status", 200)), r.get("health"))
                         for r in self.timeline],
            "Events": self.events, "Summary": self.summary,
        }


class ReplayApi:
    """The `handle(method, target, headers, body)` of the replay server (read-only, no ACL: the
    files are the user's own)."""

    def __init__(self, model: ReplayModel) -> None:
        self.model = model
        self._meta = go_json(model.meta())

    def handle(self, method: str, target: str, headers: Any, body: bytes | None) -> Response:
        """Answer one request."""
        parts = urlsplit(target)
        path = parts.path
        page = endpoints.ui(path, method)
        if page is not None:
            return page
        if method not in ("GET", "HEAD"):
            return Response(405, b"Invalid method: a replay is read-only", "text/plain; charset=utf-8",
                            [("Allow", "GET")])
        query = parse_qs(parts.query)
        model = self.model
        if path == "/v1/sim/time":
            return Response.json({"Replay": True, "Scenario": model.scenario_name, "Seed": model.seed,
                                  "EndNs": model.end_ns, "End": format_duration(model.end_ns)})
        if path == "/v1/sim/replay":
            return Response(200, self._meta, JSON)
        if path == "/v1/sim/events":
            return Response.json({"Events": model.events, "Next": len(model.events)})
        if path == "/v1/sim/view":
            raw = (query.get("at") or ["0"])[0]
            if not raw.isdigit():
                return Response.text(
                    400, f"Invalid at: expected a time in ns (a non-negative whole number), got {raw!r}")
            at = min(int(raw), model.end_ns)
            return Response.json({"Mode": "replay", "AtNs": at, "At": format_duration(at),
                                  "Frame": model.frame_at(at), "Health": model.health_at(at)})
        return Response.text(404, f"not found: {path}; a replay serves /ui/, /v1/sim/replay, /v1/sim/view?at=NS, "
                                  "/v1/sim/events, /v1/sim/time")
