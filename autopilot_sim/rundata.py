"""A finished run as data: the run directory's files and the views the figures and the story
read off them (no matplotlib here).

`load_run(dir)` reads a run directory written by `autopilot-sim run --out DIR`; `Run.from_result`
wraps an in-memory result. The views (`status_spans`, `down_spans`, `event_labels`, ...) are
pure functions of a `Run`; `autopilot_sim.plot` draws them and `autopilot_sim.narrate` tells them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autopilot_sim.durations import MILLISECOND, SECOND, DurationError, parse_duration


class RunDirError(Exception):
    """A run directory (or one of its files) that cannot be read."""


# --------------------------------------------------------------------------------- loading


@dataclass
class Run:
    """What the figures need from one run: the timeline, the events, the summary and the
    resolved scenario (as a plain dict, the content of `scenario.yaml`)."""

    timeline: list[dict[str, Any]]
    events: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    scenario: dict[str, Any] = field(default_factory=dict)
    name: str = ""
    path: Path | None = None

    def __post_init__(self) -> None:
        if not self.name:
            self.name = str(self.summary.get("scenario") or self.scenario.get("name") or "run")

    @property
    def duration_ns(self) -> int:
        """How long the run lasted: the summary's duration, else the last thing recorded."""
        if isinstance(self.summary.get("duration_ns"), int):
            return int(self.summary["duration_ns"])
        last = [r["t_ns"] for r in self.timeline[-1:]] + [e["t_ns"] for e in self.events[-1:]]
        return max(last, default=0)

    @property
    def seed(self) -> int | None:
        """The run's seed, if known."""
        seed = self.summary.get("seed", self.scenario.get("seed"))
        return int(seed) if isinstance(seed, int) else None

    @classmethod
    def from_result(cls, result: Any) -> Run:
        """A Run from an in-memory `RunResult` (`Simulation(...).run()`), without files."""
        scenario: dict[str, Any] = {}
        if hasattr(result.scenario, "to_resolved_yaml"):
            import yaml

            scenario = yaml.safe_load(result.scenario.to_resolved_yaml()) or {}
        return cls(timeline=list(result.timeline), events=list(result.recorder.events),
                   summary=dict(result.summary), scenario=scenario)


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    rows = []
    with path.open(encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise RunDirError(f"{path}:{number}: not a JSON line: {exc.msg}") from None
    return rows


def load_run(directory: str | Path) -> Run:
    """Read a run directory written by `autopilot-sim run --out DIR`.

    `timeline.jsonl` is required; `events.jsonl`, `summary.json` and `scenario.yaml` are used
    when present. Raises `RunDirError` naming the directory or file when it cannot be read.
    """
    path = Path(directory)
    if not path.exists():
        raise RunDirError(f"no run directory at {path}")
    if not path.is_dir():
        raise RunDirError(f"{path} is not a directory (give the run directory that `run --out` wrote)")
    timeline_file = path / "timeline.jsonl"
    if not timeline_file.is_file():
        raise RunDirError(f"{path} is not a run directory: it has no timeline.jsonl "
                        "(write one with `autopilot-sim run SCENARIO --out DIR`)")
    timeline = _read_jsonl(timeline_file)
    events = _read_jsonl(path / "events.jsonl") if (path / "events.jsonl").is_file() else []
    summary: dict[str, Any] = {}
    if (path / "summary.json").is_file():
        try:
            summary = json.loads((path / "summary.json").read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise RunDirError(f"{path / 'summary.json'}: not JSON: {exc.msg}") from None
    scenario: dict[str, Any] = {}
    if (path / "scenario.yaml").is_file():
        import yaml

        try:
            scenario = yaml.safe_load((path / "scenario.yaml").read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise RunDirError(f"{path / 'scenario.yaml'}: not YAML: {exc}") from None
    return Run(timeline=timeline, events=events, summary=summary, scenario=scenario, path=path)


# --------------------------------------------------------------------------------- data views


def status_spans(run: Run, status: int) -> list[tuple[int, int]]:
    """Maximal periods (start_ns, end_ns) in which the API answered `status` (200, 429, 500).

    Each report holds from its tick until the next report (the last until the end of the run),
    as in summary.json.
    """
    spans: list[tuple[int, int]] = []
    timeline = run.timeline
    end = max(run.duration_ns, timeline[-1]["t_ns"]) if timeline else 0
    for i, record in enumerate(timeline):
        if record["status"] != status:
            continue
        stop = timeline[i + 1]["t_ns"] if i + 1 < len(timeline) else end
        if spans and spans[-1][1] == record["t_ns"]:
            spans[-1] = (spans[-1][0], stop)
        else:
            spans.append((record["t_ns"], stop))
    return spans


def hold_times(run: Run) -> list[tuple[int, int]]:
    """(start, end) of every timeline record under the hold-until-next convention."""
    tl = run.timeline
    end = max(run.duration_ns, tl[-1]["t_ns"]) if tl else 0
    return [(r["t_ns"], tl[i + 1]["t_ns"] if i + 1 < len(tl) else end) for i, r in enumerate(tl)]


def servers_of(record: dict[str, Any]) -> dict[str, dict[str, Any]]:
    if record.get("status") == 500:
        return {}
    return {s["ID"]: s for s in record.get("health", {}).get("Servers", [])}


def server_order(run: Run) -> list[str]:
    """Servers in scenario order, then any that joined later in order of first appearance."""
    names: list[str] = []
    servers = run.scenario.get("cluster", {}).get("servers", [])
    if isinstance(servers, list):
        names += [s["name"] if isinstance(s, dict) else str(s) for s in servers]
    elif isinstance(servers, int):
        names += [f"node{i}" for i in range(1, servers + 1)]
    for e in run.events:
        if e.get("kind") == "join" and e.get("server") and e["server"] not in names:
            names.append(e["server"])
    for r in run.timeline:
        for sid in servers_of(r):
            if sid not in names:
                names.append(sid)
    return names


def duration_value(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return parse_duration(value)
        except DurationError:
            return None
    return None


def threshold_steps(run: Run, key: str) -> list[tuple[int, float]]:
    """The autopilot setting `key` (e.g. "last_contact_threshold", "max_trailing_logs") over
    time: the scenario's value at 0, then each configuration write that changed it. Durations
    are in nanoseconds. Empty when the run directory has no scenario.yaml."""
    steps: list[tuple[int, float]] = []
    is_duration = key not in {"max_trailing_logs", "min_quorum"}
    start = run.scenario.get("autopilot", {}).get(key)
    value = duration_value(start) if is_duration else start
    if value is not None:
        steps.append((0, float(value)))
    for e in run.events:
        changes = e.get("changes") if e.get("kind") == "config_write" else None
        if isinstance(changes, dict) and key in changes:
            new = duration_value(changes[key]) if is_duration else changes[key]
            if new is not None:
                steps.append((int(e["t_ns"]), float(new)))
    return steps


def short_value(key: str, value: Any) -> str:
    if key.endswith(("_threshold", "_time", "_interval")) and isinstance(value, int) and not isinstance(value, bool):
        if value % SECOND == 0:
            return f"{value // SECOND}s"
        if value % MILLISECOND == 0:
            return f"{value // MILLISECOND}ms"
    return str(value)


def event_labels(run: Run) -> list[tuple[int, str, str]]:
    """The events the failure-tolerance timeline marks, as (t_ns, category, short label).

    Scenario events (faults and what undoes them, membership changes, configuration writes,
    load and network changes) and leader changes. Categories: fault, recovery, leader,
    membership, config, load. Events of one category at the same instant share one label
    ("crash node2 (leader); crash node1").
    """
    out: list[tuple[int, str, str]] = []
    for e in run.events:
        kind, t, server = e.get("kind"), int(e["t_ns"]), e.get("server", "")
        message = e.get("message", "")
        step = f" ({e['step']})" if e.get("step") else ""  # a rolling restart's step k/n
        leader = " (leader)" if "was the leader" in message else ""
        if kind == "crash":
            verb = "crash" if not e.get("cause") else "stop"  # rolling restart step, upgrade with downtime
            out.append((t, "fault", f"{verb} {server}{step}{leader}"))
        elif kind == "restart":
            out.append((t, "recovery", f"restart {server}{step}"))
        elif kind == "rolling_restart":
            out.append((t, "membership", f"rolling {'upgrade' if e.get('version') else 'restart'} ({e.get('order')})"))
        elif kind == "pause":
            out.append((t, "fault", f"pause {server} {e.get('duration', '')}".rstrip()))
        elif kind == "partition":
            sides = e.get("groups") or []
            out.append((t, "fault", "partition " + " | ".join(",".join(g) for g in sides)))
        elif kind == "cut":
            out.append((t, "fault", f"cut {e.get('source', '')}→{e.get('target', '')}"))
        elif kind == "heal":
            pair = f" {e['source']}↔{e['target']}" if e.get("source") else ""
            out.append((t, "recovery", "heal" + pair))
        elif kind == "set_network":
            out.append((t, "load", "network: " + message.split(": ", 1)[-1]))
        elif kind == "set_load":
            out.append((t, "load", f"load {e.get('writes_per_second', 0):g}/s"))
        elif kind == "join":
            out.append((t, "membership", f"join {server}"))
        elif kind == "leave":
            out.append((t, "membership", f"leave {server}"))
        elif kind == "force_leave":
            out.append((t, "membership", f"force-leave {server}"))
        elif kind == "upgrade":
            out.append((t, "membership", f"upgrade {server}→{e.get('version', '')}{step}"))
        elif kind == "config_write" and isinstance(e.get("changes"), dict):
            changes = ", ".join(f"{k}={short_value(k, v)}" for k, v in e["changes"].items())
            out.append((t, "config", f"set-config {changes}"))
        elif kind == "config_write_failed":
            out.append((t, "config", "set-config failed"))
        elif kind == "leader_elected":
            out.append((t, "leader", f"{server} leader (term {e.get('term', '?')})"))
        elif kind == "leader_stepped_down":
            out.append((t, "leader", f"{server} steps down"))
        elif kind == "leadership_transfer":
            out.append((t, "leader", message))
        elif kind == "safety_violation":
            out.append((t, "fault", "SAFETY VIOLATION"))
        elif kind == "expectation" and e.get("passed") is False:
            out.append((t, "fault", f"expect[{e.get('index', '?')}] failed"))
    groups: list[tuple[int, str, list[str]]] = []
    for t, category, text in out:  # one label for same-instant events of one category
        if groups and groups[-1][0] == t and groups[-1][1] == category:
            groups[-1][2].append(text)
        else:
            groups.append((t, category, [text]))
    return [(t, category, merge_labels(texts)) for t, category, texts in groups]


def merge_labels(texts: list[str]) -> str:
    """Join same-instant labels; many of one kind (e.g. twelve cuts) become "12 × cut ..."."""
    if len(texts) <= 3:
        return "; ".join(texts)
    verbs = {text.split(" ", 1)[0] for text in texts}
    if len(verbs) == 1:
        return f"{len(texts)} × {verbs.pop()}"
    return f"{texts[0]}; … (+{len(texts) - 1} more)"


_CHANGE_KINDS = {
    "promotion": ("promotion",),
    "demotion": ("demotion",),
    "addition": ("raft_add",),
    "removal": ("raft_remove", "removal"),
    "crash": ("crash", "stopped"),
    "start": ("restart", "upgrade", "join"),
}


def membership_changes(run: Run, group: str) -> list[dict[str, Any]]:
    """The events of one group: "promotion", "demotion", "addition" (to Raft), "removal"
    (from Raft), "crash" (crash or exit) or "start" (restart, upgrade, join).

    Removals are counted as summary.json counts them: each `raft_remove` (Nomad's serf path,
    which also carries out autopilot's failed-server decisions) plus each autopilot `removal`
    that removes directly (op RemoveServer, stale peers); a failed-server decision is not
    counted twice.
    """
    kinds = _CHANGE_KINDS[group]
    out = []
    for e in run.events:
        if e.get("kind") not in kinds:
            continue
        if e.get("kind") == "removal" and e.get("op") != "RemoveServer":
            continue
        out.append(e)
    return out


def leaderless_spans(run: Run) -> list[tuple[int, int]]:
    """Periods (start_ns, end_ns) in which the cluster actually had no leader, from the events.

    The cluster loses its leader when the leader steps down, crashes, exits or is restarted for
    an upgrade, and has one again at the next `leader_elected` (the run starts leaderless).
    Unlike `status_spans(run, 500)` this is not sampled at autopilot ticks: it catches elections
    shorter than the update interval, which the API never reports as 500. Its total is the
    summary's `time_without_leader`.
    """
    spans: list[tuple[int, int]] = []
    current: str | None = None
    since = 0
    for e in run.events:
        kind, t, server = e.get("kind"), int(e["t_ns"]), e.get("server")
        if kind == "leader_elected":
            if current is None and t > since:
                spans.append((since, t))
            current = server
        elif kind in ("leader_stepped_down", "crash", "stopped", "upgrade") and current is not None \
                and server == current:
            current, since = None, t
    end = run.duration_ns
    if current is None and end > since:
        spans.append((since, end))
    return spans


def down_spans(run: Run) -> dict[str, list[tuple[int, int, str]]]:
    """Per server, the periods its process was not running, from the events, as
    (start_ns, end_ns, why) with why "down" (crash until restart, exit after a leave) or
    "paused" (a `pause` event, for its duration). An upgrade restarts at once: no period."""
    out: dict[str, list[tuple[int, int, str]]] = {}
    down_since: dict[str, int] = {}
    for e in run.events:
        kind, t, server = e.get("kind"), int(e["t_ns"]), e.get("server")
        if not server:
            continue
        if kind in ("crash", "stopped"):
            down_since.setdefault(server, t)
        elif kind in ("restart", "join") and server in down_since:
            out.setdefault(server, []).append((down_since.pop(server), t, "down"))
        elif kind == "pause":
            length = duration_value(e.get("duration"))
            if length:
                out.setdefault(server, []).append((t, t + length, "paused"))
    for server, t in down_since.items():
        out.setdefault(server, []).append((t, max(run.duration_ns, t), "down"))
    return out


# --------------------------------------------------------------------------------- moments


def report_index_at(run: Run, t_ns: int) -> int | None:
    """Index of the last timeline report at or before `t_ns` (None if there is none yet)."""
    found = None
    for i, record in enumerate(run.timeline):
        if record["t_ns"] > t_ns:
            break
        found = i
    return found


def _config_value(key: str, value: Any) -> Any:
    """A config_write event's value back to what `AutopilotConfig.with_changes` accepts."""
    if value in ("true", "false"):
        return value == "true"
    return value


def config_at(run: Run, t_ns: int) -> Any:
    """The autopilot configuration in force at `t_ns` (an `AutopilotConfig`).

    The scenario's agent block (Nomad's agent merge rules), then every configuration write
    recorded at or before `t_ns`: scenario `set_autopilot` writes (`config_write`, the keys
    changed) and API writes (`api_config_write`, a full replacement). A write takes effect when
    Raft applies it, a few milliseconds after the event; a check-and-set write that lost its
    race is counted as applied (the events do not record the outcome).
    """
    from autopilot_sim.autopilot.config import AutopilotConfig

    block = {k: v for k, v in (run.scenario.get("autopilot") or {}).items()
             if k in _AGENT_KEYS}
    try:
        config = AutopilotConfig.from_scenario(**block)
    except ValueError:
        config = AutopilotConfig()
    for e in run.events:
        if e["t_ns"] > t_ns:
            break
        kind = e.get("kind")
        try:
            if kind == "config_write" and isinstance(e.get("changes"), dict):
                changes = {k: _config_value(k, v) for k, v in e["changes"].items() if k in _AGENT_KEYS}
                config = config.with_changes(**changes)
            elif kind == "api_config_write" and isinstance(e.get("config"), dict):
                config = AutopilotConfig.from_wire(e["config"])
        except ValueError:
            continue  # an unreadable write in a hand-edited file: keep what was in force
    return config


_AGENT_KEYS = ("cleanup_dead_servers", "last_contact_threshold", "max_trailing_logs", "min_quorum",
               "server_stabilization_time", "enable_redundancy_zones", "disable_upgrade_migration",
               "enable_custom_upgrades")


def start_time_ns(run: Run) -> int:
    """The run's wall-clock anchor (scenario `start_time`, ns since the epoch); StableSince
    in the reports is this plus simulated time. Nomad's default anchor when unknown."""
    from autopilot_sim.durations import parse_rfc3339

    value = run.scenario.get("start_time")
    try:
        return parse_rfc3339(str(value)) if value else parse_rfc3339("2026-01-01T00:00:00Z")
    except ValueError:
        return parse_rfc3339("2026-01-01T00:00:00Z")
