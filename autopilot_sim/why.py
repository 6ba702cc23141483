"""Why each server of a recorded health report is healthy or not, with the rule and the numbers.

A report in timeline.jsonl is the exact body of `/v1/operator/autopilot/health`; it says *that*
a server is healthy, not *why*. `explain_report` re-applies autopilot's health rule
(`autopilot.model.unhealthy_reason`, the one the simulation uses) to the numbers in the report,
with the configuration in force at that moment, and says which check decided and by how much:

* the leader reference (the leader's own LastTerm / LastIndex, as the report lists them),
* SerfStatus (must be alive),
* LastContact against LastContactThreshold,
* LastTerm against the leader's,
* LastIndex lag against MaxTrailingLogs,
* and, for promotion, how long since StableSince against ServerStabilizationTime.

It also notices what the report cannot say by itself: a server whose process is down but whose
stats are the last ones the leader fetched before (frozen LastContact / LastIndex: a failed
stats fetch keeps the previous values), and a peer the leader's serf has not learnt about yet
(shown `left` with an empty name).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from autopilot_sim.autopilot.model import (
    NODE_ALIVE,
    NODE_FAILED,
    NODE_LEFT,
    Server,
    ServerHealth,
    ServerStats,
    State,
    unhealthy_reason,
)
from autopilot_sim.durations import (
    DurationError,
    format_duration,
    parse_duration,
    parse_rfc3339,
)
from autopilot_sim.rundata import Run, config_at, down_spans, start_time_ns

_NODE_STATUS = {"alive": NODE_ALIVE, "failed": NODE_FAILED, "left": NODE_LEFT}


@dataclass(frozen=True)
class ServerWhy:
    """The verdict on one server of one report, and the sentence explaining it."""

    server: str
    healthy: bool  # as the report says
    reason: str | None  # the failing rule and its numbers, as re-applied (None: every check passed)
    text: str  # one line: the rule and the numbers
    notes: tuple[str, ...] = ()  # what the report alone does not show (stale stats, unknown peer)


def _ms(text: Any) -> int:
    try:
        return parse_duration(str(text))
    except DurationError:
        return 0


def server_stats(entry: dict[str, Any]) -> tuple[Server, ServerStats]:
    """The autopilot model's view of one `Servers` entry of a health body."""
    server = Server(id=str(entry.get("ID", "")), name=str(entry.get("Name", "")),
                    node_status=_NODE_STATUS.get(str(entry.get("SerfStatus")), "unknown"))
    stats = ServerStats(last_contact=_ms(entry.get("LastContact", "0s")),
                        last_term=int(entry.get("LastTerm") or 0), last_index=int(entry.get("LastIndex") or 0))
    return server, stats


def _frozen_since(run: Run, index: int, sid: str) -> int | None:
    """Time of the earliest report, going back from `index` without a break, in which `sid`
    had the same LastContact / LastTerm / LastIndex as at `index` (None if they just changed)."""
    def key(record: dict[str, Any]) -> tuple[Any, ...] | None:
        if record.get("status") == 500:
            return None
        for s in record["health"].get("Servers") or []:
            if s.get("ID") == sid:
                return (s.get("LastContact"), s.get("LastTerm"), s.get("LastIndex"))
        return None

    now = key(run.timeline[index])
    since = None
    i = index - 1
    while i >= 0 and now is not None and key(run.timeline[i]) == now:
        since = run.timeline[i]["t_ns"]
        i -= 1
    return since


def _down_at(run: Run, sid: str, t_ns: int) -> tuple[int, str] | None:
    """(since, "down" | "paused") when the server's process was not running at `t_ns`."""
    for a, b, why in down_spans(run).get(sid, []):
        if a <= t_ns < b:
            return a, why
    return None


def _stable_text(entry: dict[str, Any], healthy: bool, now_wall: int, sst: int, waived: bool) -> str:
    try:
        since = parse_rfc3339(str(entry.get("StableSince")))
    except ValueError:
        return ""
    health = ServerHealth(healthy, since)
    age = format_duration(max(0, now_wall - since) // 100_000_000 * 100_000_000)  # StableSince is whole seconds
    if not healthy:
        return f"not stable (unhealthy; StableSince {entry.get('StableSince')})"
    if waived:
        return (f"stable: ServerStabilizationTime is waived during autopilot's first {format_duration(sst)} "
                f"on this leader (StableSince {age} ago)")
    word = "stable" if health.is_stable(now_wall, sst) else "not yet stable"
    sign = "≥" if word == "stable" else "<"
    return f"{word}: StableSince {age} ago {sign} ServerStabilizationTime {format_duration(sst)}"


def explain_report(run: Run, index: int) -> list[ServerWhy]:
    """One `ServerWhy` per server of the report at `run.timeline[index]` (empty for a 500)."""
    record = run.timeline[index]
    if record.get("status") == 500:
        return []
    t_ns = int(record["t_ns"])
    body = record["health"]
    entries = body.get("Servers") or []
    config = config_at(run, t_ns)
    threshold, trailing, sst = (config.last_contact_threshold, config.max_trailing_logs,
                                config.server_stabilization_time)
    leader = next((s for s in entries if s.get("Leader")), None)
    lead_term = int(leader.get("LastTerm") or 0) if leader else 0
    lead_index = int(leader.get("LastIndex") or 0) if leader else 0
    now_wall = start_time_ns(run) + t_ns
    first_state = _first_state_time(run, t_ns)
    waived = first_state is not None and State(first_state_time=start_time_ns(run) + first_state) \
        .server_stabilization_time(sst, now_wall) == 0
    out = []
    for entry in entries:
        server, stats = server_stats(entry)
        reason = unhealthy_reason(server, stats, lead_term, lead_index, threshold, trailing)
        healthy = bool(entry.get("Healthy"))
        lag = lead_index - stats.last_index
        serf = entry.get("SerfStatus")
        if reason is not None:
            text = f"unhealthy: {reason}"
        elif entry.get("Leader"):
            text = (f"healthy: the leader (the reference: LastTerm {lead_term}, LastIndex {lead_index}); "
                    f"serf {serf}, LastContact {format_duration(stats.last_contact)}")
        else:
            text = (f"healthy: serf {serf}; LastContact {format_duration(stats.last_contact)} ≤ "
                    f"{format_duration(threshold)}; LastTerm {stats.last_term} = leader's; LastIndex "
                    f"{stats.last_index}, {lag} behind ≤ MaxTrailingLogs {trailing}")
        stable = _stable_text(entry, healthy, now_wall, sst, waived)
        if stable:
            text += f"; {stable}"
        if (reason is None) != healthy:
            text += (" [the report says " + ("healthy" if healthy else "unhealthy") + ": the configuration "
                     "or leader reference at that tick differed from what the run files show]")
        out.append(ServerWhy(server.id, healthy, reason, text, tuple(_notes(run, index, entry, serf))))
    return out


def _notes(run: Run, index: int, entry: dict[str, Any], serf: Any) -> list[str]:
    record = run.timeline[index]
    t_ns = int(record["t_ns"])
    sid = str(entry.get("ID", ""))
    notes = []
    down = _down_at(run, sid, t_ns)
    if down is not None and not entry.get("Leader"):
        since, why = down
        frozen = _frozen_since(run, index, sid)
        what = "down" if why == "down" else "paused"
        text = f"its process is {what} since {format_duration(since)}"
        if frozen is not None:
            text += (f"; LastContact and LastIndex unchanged since the report at {format_duration(frozen)}: "
                     "stale stats (a failed stats fetch keeps the last fetched values)")
        if serf == "alive":
            text += "; serf has not declared it failed yet (gossip needs tens of seconds)"
        notes.append(text)
    if serf == "left" and not entry.get("Name"):
        leader = record["health"].get("Leader", "")
        notes.append(f"{leader}'s serf does not know {sid} (no name, version or stats): autopilot shows a Raft "
                     "peer the application has not learnt about as `left`; it has not necessarily left")
    return notes


def _first_state_time(run: Run, t_ns: int) -> int | None:
    """Simulated time of the current leader's first autopilot state (the last one ≤ t_ns)."""
    found = None
    for e in run.events:
        if e["t_ns"] > t_ns:
            break
        if e.get("kind") == "autopilot_state":
            found = int(e["t_ns"])
    return found


def why_lines(run: Run, index: int) -> list[str]:
    """The per-server lines `health --at` prints under the report."""
    record = run.timeline[index]
    if record.get("status") == 500:
        return [("No cluster leader: the health API answers 500 until a leader is elected and its "
                 "autopilot has built a first state.")]
    config = config_at(run, int(record["t_ns"]))
    heading = (f"Why (LastContactThreshold {format_duration(config.last_contact_threshold)}, MaxTrailingLogs "
               f"{config.max_trailing_logs}, ServerStabilizationTime "
               f"{format_duration(config.server_stabilization_time)}):")
    lines = [heading]
    whys = explain_report(run, index)
    width = max((len(w.server) for w in whys), default=0)
    for w in whys:
        lines.append(f"  {w.server:<{width}}  {w.text}")
        for note in w.notes:
            lines.append(f"  {'':<{width}}    note: {note}")
    return lines
