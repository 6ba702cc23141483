"""Conformance runner for raft-autopilot's fixture format (docs/conformance.md).

A case folder holds `inputs.json` (one state-update tick: the previous state and everything
autopilot gathered) and optionally `state.json.golden` / `actions.json.golden`. The runner
computes the state (`state` mode) or the operations of one reconcile tick (`actions` mode)
from `inputs.json` alone, and either writes `state.json` / `actions.json` or compares with
the golden file as JSON values. This is the only module of the package that reads files.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autopilot_sim.autopilot.config import AutopilotConfig
from autopilot_sim.autopilot.model import (
    GO_ZERO_TIME_NS,
    RaftServer,
    Server,
    ServerHealth,
    ServerState,
    ServerStats,
    State,
)
from autopilot_sim.autopilot.reconcile import ReconcileResult, reconcile_tick
from autopilot_sim.autopilot.state import TickInputs, build_state
from autopilot_sim.durations import format_rfc3339, parse_rfc3339

INPUTS_FILE = "inputs.json"
MODES = ("state", "actions")

#: Case folders shipped inside the package (package data), so `conformance` runs anywhere.
TESTDATA_DIR = Path(__file__).resolve().parent / "testdata"
#: hashicorp/raft-autopilot's own golden cases (MPL-2.0, see the ORIGIN.md beside them).
UPSTREAM_CASES_DIR = TESTDATA_DIR / "raft-autopilot"
#: This project's reconcile cases: upstream has no actions goldens to compare with.
ACTIONS_CASES_DIR = TESTDATA_DIR / "actions"


def default_cases_dir(mode: str) -> Path:
    """The shipped cases a mode runs on when no folder is given."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    return UPSTREAM_CASES_DIR if mode == "state" else ACTIONS_CASES_DIR


class CaseInputError(ValueError):
    """An unreadable or malformed case; the message names the file and the key."""


# --- reading inputs.json -----------------------------------------------------------------------


class _Reader:
    """Typed access to a decoded JSON object, with errors that name file and key path."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, where: str, message: str) -> CaseInputError:
        return CaseInputError(f"{self.path}: {where}: {message}")

    def obj(self, value: Any, where: str) -> Mapping[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(where, f"expected an object, got {_json_kind(value)}")
        return value

    def int_(self, obj: Mapping[str, Any], key: str, where: str, *, unsigned: bool = False) -> int:
        value = obj.get(key)
        if value is None:
            return 0
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(f"{where}.{key}", f"expected an integer, got {_json_kind(value)}")
        if unsigned and value < 0:
            raise self.fail(f"{where}.{key}", f"expected a non-negative integer, got {value}")
        return int(value)  # an int already (checked above); int() tells mypy

    def bool_(self, obj: Mapping[str, Any], key: str, where: str) -> bool:
        value = obj.get(key)
        if value is None:
            return False
        if not isinstance(value, bool):
            raise self.fail(f"{where}.{key}", f"expected true or false, got {_json_kind(value)}")
        return value

    def str_(self, obj: Mapping[str, Any], key: str, where: str) -> str:
        value = obj.get(key)
        if value is None:
            return ""
        if not isinstance(value, str):
            raise self.fail(f"{where}.{key}", f"expected a string, got {_json_kind(value)}")
        return value

    def time(self, obj: Mapping[str, Any], key: str, where: str) -> int:
        value = obj.get(key)
        if value is None:
            return GO_ZERO_TIME_NS  # Go's zero time.Time
        if not isinstance(value, str):
            raise self.fail(f"{where}.{key}", f"expected an RFC 3339 time, got {_json_kind(value)}")
        try:
            return parse_rfc3339(value)
        except ValueError:
            raise self.fail(
                f"{where}.{key}",
                f"{value!r} is not an RFC 3339 time such as \"2020-11-02T15:00:00Z\"",
            ) from None


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return "null"


def _read_server(r: _Reader, obj: Mapping[str, Any], where: str, default_id: str) -> Server:
    meta = obj.get("Meta")
    if meta is not None and not (
        isinstance(meta, dict) and all(isinstance(v, str) for v in meta.values())
    ):
        raise r.fail(f"{where}.Meta", "expected an object of strings or null")
    return Server(
        id=r.str_(obj, "ID", where) or default_id,
        name=r.str_(obj, "Name", where),
        address=r.str_(obj, "Address", where),
        node_status=r.str_(obj, "NodeStatus", where),
        version=r.str_(obj, "Version", where),
        meta=meta,
        raft_version=r.int_(obj, "RaftVersion", where),
        is_leader=r.bool_(obj, "IsLeader", where),
        node_type=r.str_(obj, "NodeType", where),
        ext=obj.get("Ext"),
    )


def _read_stats(r: _Reader, obj: Mapping[str, Any], where: str) -> ServerStats:
    return ServerStats(
        last_contact=r.int_(obj, "LastContact", where),
        last_term=r.int_(obj, "LastTerm", where, unsigned=True),
        last_index=r.int_(obj, "LastIndex", where, unsigned=True),
    )


def _read_previous(r: _Reader, raw: Any, where: str) -> State | None:
    prev = r.obj(raw, where)
    servers_raw = prev.get("Servers")
    if servers_raw is None:
        return None
    servers: dict[str, ServerState] = {}
    for sid, entry in r.obj(servers_raw, f"{where}.Servers").items():
        w = f"{where}.Servers.{sid}"
        entry = r.obj(entry, w)
        health = r.obj(entry.get("Health"), f"{w}.Health")
        servers[sid] = ServerState(
            server=_read_server(r, r.obj(entry.get("Server"), f"{w}.Server"), f"{w}.Server", ""),
            state=r.str_(entry, "State", w),
            stats=_read_stats(r, r.obj(entry.get("Stats"), f"{w}.Stats"), f"{w}.Stats"),
            health=ServerHealth(
                healthy=r.bool_(health, "Healthy", f"{w}.Health"),
                stable_since=r.time(health, "StableSince", f"{w}.Health"),
            ),
        )
    return State(servers=servers, healthy=r.bool_(prev, "Healthy", where))


def load_case(case_dir: Path) -> tuple[TickInputs, State | None]:
    """Read a case's `inputs.json` into tick inputs and the previous state (None if none)."""
    path = Path(case_dir) / INPUTS_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CaseInputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CaseInputError(f"{path}: not valid JSON: {exc}") from None
    r = _Reader(path)
    top = r.obj(raw, "inputs")

    cfg = r.obj(top.get("Config"), "Config")
    config = AutopilotConfig(
        cleanup_dead_servers=r.bool_(cfg, "CleanupDeadServers", "Config"),
        last_contact_threshold=r.int_(cfg, "LastContactThreshold", "Config"),
        max_trailing_logs=r.int_(cfg, "MaxTrailingLogs", "Config", unsigned=True),
        min_quorum=r.int_(cfg, "MinQuorum", "Config", unsigned=True),
        server_stabilization_time=r.int_(cfg, "ServerStabilizationTime", "Config"),
    )

    raft_servers = []
    raft_cfg = r.obj(top.get("RaftConfig"), "RaftConfig")
    entries = raft_cfg.get("Servers") or []
    if not isinstance(entries, list):
        raise r.fail("RaftConfig.Servers", f"expected an array, got {_json_kind(entries)}")
    for i, entry in enumerate(entries):
        w = f"RaftConfig.Servers[{i}]"
        entry = r.obj(entry, w)
        raft_servers.append(
            RaftServer(
                id=r.str_(entry, "ID", w),
                address=r.str_(entry, "Address", w),
                suffrage=r.int_(entry, "Suffrage", w),
            )
        )

    known = {
        sid: _read_server(r, r.obj(obj, f"KnownServers.{sid}"), f"KnownServers.{sid}", "")
        for sid, obj in r.obj(top.get("KnownServers"), "KnownServers").items()
    }
    fetched = {}
    for sid, obj in r.obj(top.get("FetchedStats"), "FetchedStats").items():
        if obj is None:
            continue  # a nil entry: treat as a failed fetch
        fetched[sid] = _read_stats(r, r.obj(obj, f"FetchedStats.{sid}"), f"FetchedStats.{sid}")

    # Newer upstream files call the previous state "CurrentState", older ones "State".
    prev_key = "CurrentState" if "CurrentState" in top else "State"
    previous = _read_previous(r, top.get(prev_key), prev_key)

    inputs = TickInputs(
        now=r.time(top, "Now", "inputs"),
        first_state_time=r.time(top, "FirstStateTime", "inputs"),
        config=config,
        raft_servers=tuple(raft_servers),
        known_servers=known,
        latest_index=r.int_(top, "LatestIndex", "inputs", unsigned=True),
        last_term=r.int_(top, "LastTerm", "inputs", unsigned=True),
        fetched_stats=fetched,
        leader_id=r.str_(top, "LeaderID", "inputs"),
        is_leader=r.bool_(top, "IsLeader", "inputs"),
    )
    return inputs, previous


# --- computing and rendering ---------------------------------------------------------------------


def compute_state(inputs: TickInputs, previous: State | None) -> State:
    """The state after the case's tick."""
    return build_state(inputs, previous)


def compute_actions(inputs: TickInputs, previous: State | None) -> ReconcileResult:
    """One main-loop tick after the state is built: reconcile (StablePromoter), then prune."""
    state = build_state(inputs, previous)
    return reconcile_tick(
        inputs.config, state, inputs.raft_servers, inputs.known_servers, inputs.now
    )


def state_to_json(state: State) -> dict[str, Any]:
    """A state in upstream's `state.json` shape and key order (servers sorted by ID)."""
    servers = {}
    for sid in sorted(state.servers):
        srv = state.servers[sid]
        s = srv.server
        servers[sid] = {
            "Server": {
                "ID": s.id,
                "Name": s.name,
                "Address": s.address,
                "NodeStatus": s.node_status,
                "Version": s.version,
                "Meta": dict(sorted(s.meta.items())) if s.meta is not None else None,
                "RaftVersion": s.raft_version,
                "IsLeader": s.is_leader,
                "NodeType": s.node_type,
                "Ext": s.ext,
            },
            "State": srv.state,
            "Stats": {
                "LastContact": srv.stats.last_contact,
                "LastTerm": srv.stats.last_term,
                "LastIndex": srv.stats.last_index,
            },
            "Health": {
                "Healthy": srv.health.healthy,
                "StableSince": format_rfc3339(srv.health.stable_since, nano=True),
            },
        }
    return {
        "Healthy": state.healthy,
        "FailureTolerance": state.failure_tolerance,
        "Servers": servers,
        "Leader": state.leader,
        "Voters": list(state.voters) or None,  # Go: a nil slice when nobody votes
        "Ext": state.ext,
    }


def actions_to_json(result: ReconcileResult) -> list[dict[str, str]]:
    """The ordered operations as `[{"Op": ..., "ID": ...}, ...]`."""
    return [{"Op": a.op, "ID": a.id} for a in result.actions]


def dumps_go(value: Any) -> str:
    """JSON text as Go's `json.MarshalIndent(v, "", "   ")` writes it (upstream goldens)."""
    text = json.dumps(value, indent=3, ensure_ascii=False)
    # Go escapes these characters even inside strings; they can only occur inside strings.
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                    ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(ch, esc)
    return text


# --- comparing -------------------------------------------------------------------------------


def diff_json(expected: Any, actual: Any, path: str = "") -> list[str]:
    """Differences between two JSON values, as "path: expected X, got Y" lines."""
    where = path or "(top)"
    if isinstance(expected, dict) and isinstance(actual, dict):
        out = []
        for key in expected:
            sub = f"{path}.{key}" if path else key
            if key not in actual:
                out.append(f"{sub}: missing")
            else:
                out.extend(diff_json(expected[key], actual[key], sub))
        for key in actual:
            if key not in expected:
                out.append(f"{path}.{key}: unexpected" if path else f"{key}: unexpected")
        return out
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return [f"{where}: expected {_short(expected)}, got {_short(actual)}"]
        out = []
        for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
            out.extend(diff_json(e, a, f"{path}[{i}]"))
        return out
    if type(expected) is not type(actual) or expected != actual:
        return [f"{where}: expected {_short(expected)}, got {_short(actual)}"]
    return []


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text if len(text) <= 200 else text[:197] + "..."


def _op_runs(ops: list[Any]) -> list[tuple[str, list[str]]] | None:
    """Group consecutive operations of the same kind: [(op, sorted IDs), ...]."""
    runs: list[tuple[str, list[str]]] = []
    for entry in ops:
        if not isinstance(entry, dict) or set(entry) != {"Op", "ID"}:
            return None
        if runs and runs[-1][0] == entry["Op"]:
            runs[-1][1].append(entry["ID"])
        else:
            runs.append((entry["Op"], [entry["ID"]]))
    return [(op, sorted(ids)) for op, ids in runs]


def diff_actions(expected: Any, actual: list[dict[str, str]]) -> list[str]:
    """Compare operation lists; a run of consecutive same-kind operations is a set."""
    if not isinstance(expected, list):
        return ["(top): expected golden file to hold a JSON array"]
    exp_runs = _op_runs(expected)
    act_runs = _op_runs(actual)
    if exp_runs is None:
        return ['(top): golden entries must be objects with exactly "Op" and "ID"']
    if exp_runs != act_runs:
        return [f"expected {_short(expected)}, got {_short(actual)}"]
    return []


# --- the runner --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CaseOutcome:
    """The result line of one case."""

    name: str
    status: str  # PASS, FAIL, WROTE, SKIP, ERROR
    detail: str = ""

    def line(self) -> str:
        return f"{self.status} {self.name}" + (f": {self.detail}" if self.detail else "")


def find_cases(root: Path) -> list[Path]:
    """`root` itself if it is a case, else its sub-folders holding `inputs.json` (sorted)."""
    root = Path(root)
    if (root / INPUTS_FILE).is_file():
        return [root]
    if not root.is_dir():
        raise CaseInputError(f"{root}: no such directory")
    cases = sorted(p for p in root.iterdir() if p.is_dir() and (p / INPUTS_FILE).is_file())
    if not cases:
        raise CaseInputError(f"{root}: no case folders (folders holding {INPUTS_FILE}) found")
    return cases


def run_case(mode: str, case_dir: Path, *, write: bool = False) -> CaseOutcome:
    """Compute one case and write or compare it. Raises CaseInputError for bad input."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    case_dir = Path(case_dir)
    name = case_dir.name
    inputs, previous = load_case(case_dir)
    if mode == "state":
        result: Any = state_to_json(compute_state(inputs, previous))
    else:
        result = actions_to_json(compute_actions(inputs, previous))
    out_file = case_dir / f"{mode}.json"
    if write:
        out_file.write_text(dumps_go(result), encoding="utf-8")
        return CaseOutcome(name, "WROTE", str(out_file))
    golden = case_dir / f"{mode}.json.golden"
    if not golden.is_file():
        return CaseOutcome(name, "SKIP", f"no {golden.name} to compare with")
    try:
        expected = json.loads(golden.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CaseInputError(f"{golden}: cannot read as JSON: {exc}") from None
    diffs = diff_json(expected, result) if mode == "state" else diff_actions(expected, result)
    if diffs:
        more = f" (and {len(diffs) - 3} more)" if len(diffs) > 3 else ""
        return CaseOutcome(name, "FAIL", "; ".join(diffs[:3]) + more)
    return CaseOutcome(name, "PASS")


def run(
    mode: str,
    root: Path,
    *,
    write: bool = False,
    out: Callable[[str], None] = print,
    err: Callable[[str], None] = print,
) -> int:
    """Run every case under `root`; print one line per case. Exit status: 0 all passed,
    1 some case failed, 2 unreadable input (the other cases still run)."""
    try:
        cases = find_cases(Path(root))
    except CaseInputError as exc:
        err(f"error: {exc}")
        return 2
    status = 0
    for case in cases:
        try:
            outcome = run_case(mode, case, write=write)
        except CaseInputError as exc:
            err(f"ERROR {case.name}: {exc}")
            status = 2
            continue
        out(outcome.line())
        if outcome.status == "FAIL" and status == 0:
            status = 1
    return status
