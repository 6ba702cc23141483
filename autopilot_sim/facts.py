"""The facts an operator cares about, read off a run's files (timeline.jsonl and events.jsonl).

The event log says what happened; the health timeline says what the API *showed*. The gap
between the two is what an operator needs to know, and no single event says it:

* a server whose process is down but which the health report still calls healthy, for how long,
  and why (its stats are the last ones the leader fetched — a failed fetch keeps them, so
  LastContact and LastIndex freeze — and serf has not declared it failed yet);
* the first report in which autopilot can see the failure, and by which rule;
* what an alert on HTTP 429 would have seen: the first 429 after the crash, or never (every
  report stayed 200 until the server was removed or came back);
* a peer the leader's serf has not learnt about (listed `left` with an empty name), which looks
  like a departure but is only a gap in the new leader's gossip view.

Each fact has a time span, so `explain --at T` can show the ones around T.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from autopilot_sim.durations import format_duration
from autopilot_sim.rundata import Run, config_at, down_spans


@dataclass(frozen=True)
class Fact:
    """One operator-facing fact: when it starts and ends (ns), its kind and its sentence."""

    t_ns: int
    end_ns: int
    kind: str  # "down-but-healthy", "failure-visible", "alert-429", "unknown-peer", "never-visible"
    server: str
    text: str


def _entry(record: dict[str, Any], sid: str) -> dict[str, Any] | None:
    if record.get("status") == 500:
        return None
    for s in record["health"].get("Servers") or []:
        if s.get("ID") == sid:
            entry: dict[str, Any] = s
            return entry
    return None


def _leader_index(record: dict[str, Any]) -> int | None:
    if record.get("status") == 500:
        return None
    for s in record["health"].get("Servers") or []:
        if s.get("Leader"):
            return int(s.get("LastIndex") or 0)
    return None


def _first_event(run: Run, after: int, kinds: tuple[str, ...], sid: str, **match: Any) -> dict[str, Any] | None:
    for e in run.events:
        if e["t_ns"] >= after and e.get("kind") in kinds and e.get("server") == sid \
                and all(e.get(k) == v for k, v in match.items()):
            return e
    return None


def _d(ns: int) -> str:
    """A duration for a sentence: to the millisecond."""
    return format_duration(ns // 1_000_000 * 1_000_000)


def _failure_reason(run: Run, index: int, sid: str) -> str:
    from autopilot_sim.why import explain_report

    for w in explain_report(run, index):
        if w.server == sid and w.reason is not None:
            return w.reason
    return "unhealthy"


def down_server_facts(run: Run) -> list[Fact]:
    """For each period a server's process was down or paused: was it reported healthy anyway,
    when could autopilot see it, and what would a 429 alert have seen."""
    facts: list[Fact] = []
    timeline = run.timeline
    end_of_run = run.duration_ns
    for sid, spans in down_spans(run).items():
        for a, b, why in spans:
            if why == "down" and _exited_after_leaving(run, sid, a):
                continue  # a graceful leave: Raft dropped it before it exited; nothing failed
            word = ("stop" if _stopped(run, sid, a) else "crash") if why == "down" else "pause"
            reports = [i for i, r in enumerate(timeline) if r["t_ns"] >= a]
            healthy: list[int] = []
            seen: int | None = None  # first report that no longer shows it healthy
            for i in reports:
                record = timeline[i]
                if record["t_ns"] >= b:
                    break
                entry = _entry(record, sid)
                if record.get("status") != 500 and entry is not None and entry.get("Healthy"):
                    if seen is None:
                        healthy.append(i)
                    continue
                seen = i
                break
            stop_at = timeline[seen]["t_ns"] if seen is not None else min(b, end_of_run)
            if healthy:
                facts.append(_down_but_healthy(run, sid, word, a, b, healthy, seen, stop_at))
            if seen is not None:
                record = timeline[seen]
                entry = _entry(record, sid)
                after = _d(record["t_ns"] - a)
                if record.get("status") == 500:
                    text = (f"{sid}'s {word} shows in the health API at {record['t']}, {after} after it, "
                            "as a 500: no cluster leader")
                else:
                    how = (f"{sid} is no longer in the report (removed from the Raft configuration)"
                           if entry is None else f"{sid} unhealthy: " + _failure_reason(run, seen, sid))
                    text = f"autopilot can see {sid}'s {word} at {record['t']}, {after} after it: {how}"
                facts.append(Fact(record["t_ns"], record["t_ns"], "failure-visible", sid, text))
            elif b < end_of_run:
                back = "restarted" if why == "down" else "resumed"
                facts.append(Fact(b, b, "never-visible", sid,
                                  f"no report showed {sid}'s {word} at {format_duration(a)}: it {back} at "
                                  f"{format_duration(b)} before autopilot noticed"))
            facts.append(_alert(run, sid, word, a, b))
    return sorted(facts, key=_order)


def _stopped(run: Run, sid: str, t_ns: int) -> bool:
    """Whether the down period of `sid` from `t_ns` is a stop without leave (a rolling restart's
    step, an upgrade with down_for), which the cluster sees as a crash."""
    return any(e.get("server") == sid and int(e["t_ns"]) == t_ns and e.get("kind") == "crash" and e.get("cause")
               for e in run.events)


def _exited_after_leaving(run: Run, sid: str, t_ns: int) -> bool:
    """Whether the down period of `sid` from `t_ns` is its exit after a `leave` (not a crash)."""
    return any(e.get("server") == sid and int(e["t_ns"]) == t_ns and e.get("kind") == "stopped"
               for e in run.events) and not any(e.get("server") == sid and int(e["t_ns"]) == t_ns
                                                and e.get("kind") == "crash" for e in run.events)


_KIND_ORDER = {"down-but-healthy": 0, "failure-visible": 1, "never-visible": 1, "alert-429": 2, "unknown-peer": 3}


def _order(fact: Fact) -> tuple[int, str, int]:
    return fact.t_ns, fact.server, _KIND_ORDER.get(fact.kind, 9)


def _down_but_healthy(run: Run, sid: str, word: str, a: int, b: int, healthy: list[int],
                      seen: int | None, stop_at: int) -> Fact:
    timeline = run.timeline
    entries = [_entry(timeline[i], sid) or {} for i in healthy]
    frozen = len({(e.get("LastContact"), e.get("LastIndex"), e.get("LastTerm")) for e in entries}) == 1
    first, last = entries[0], entries[-1]
    lead_first = _leader_index(timeline[healthy[0]])
    lead_last = _leader_index(timeline[healthy[-1]])
    config = config_at(run, timeline[healthy[-1]]["t_ns"])
    reasons = []
    if frozen:
        text = (f"stale stats: LastContact frozen at {first.get('LastContact')} and LastIndex at "
                f"{first.get('LastIndex')} (the leader keeps the last stats it fetched; every fetch since failed)")
        if lead_first is not None and lead_last is not None:
            lag = lead_last - int(last.get("LastIndex") or 0)
            text += (f" while the leader's LastIndex went {lead_first} → {lead_last} (lag {lag} ≤ MaxTrailingLogs "
                     f"{config.max_trailing_logs})")
        reasons.append(text)
    else:
        reasons.append(f"its stats still passed the checks (LastContact {last.get('LastContact')} ≤ "
                       f"{format_duration(config.last_contact_threshold)})")
    failed = _first_event(run, a, ("serf_member",), sid, status="failed")
    if all(e.get("SerfStatus") == "alive" for e in entries):
        if failed is not None and failed["t_ns"] < b:
            reasons.append(f"gossip not yet failed (serf declared it failed at {failed['t']}, "
                           f"{_d(failed['t_ns'] - a)} after the {word})")
        else:
            reasons.append("gossip never declared it failed while it was down")
    if seen is None:
        ended = "until it came back" if b < run.duration_ns else "until the end of the run"
    else:
        ended = f"until the report at {timeline[seen]['t']}"
    return Fact(a, stop_at, "down-but-healthy", sid,
                f"{sid} was down but reported healthy for {_d(stop_at - a)} (from its {word} at {format_duration(a)}, "
                f"{len(healthy)} reports, {ended}); why: " + "; ".join(reasons))


def _alert(run: Run, sid: str, word: str, a: int, b: int) -> Fact:
    """What an alert on HTTP 429 would have seen between the crash and the server's return or
    removal (or the end of the run)."""
    timeline = run.timeline
    removal = _first_event(run, a, ("raft_remove",), sid) or _first_event(run, a, ("removal",), sid,
                                                                        op="RemoveServer")
    stop = min(b, removal["t_ns"] if removal else b, run.duration_ns)
    first_500 = None
    for record in timeline:
        t = record["t_ns"]
        if t < a:
            continue
        if t > stop:
            break
        if record.get("status") == 429:
            extra = f" (a 500, no leader, came first at {first_500})" if first_500 else ""
            entry = _entry(record, sid)
            if entry is not None and entry.get("Healthy"):
                others = [s["ID"] for s in record["health"].get("Servers") or [] if not s.get("Healthy")]
                extra += (f"; but that 429 is for {', '.join(others) or 'the cluster'}: {sid} itself is still "
                          "reported healthy")
            return Fact(t, t, "alert-429", sid,
                        f"a 429-based alert would first fire at {record['t']}, {_d(t - a)} after {sid}'s {word}"
                        + extra)
        if record.get("status") == 500 and first_500 is None:
            first_500 = record["t"]
    if removal is not None and removal["t_ns"] <= b:
        until = f"until {sid} was removed at {removal['t']}"
    elif b < run.duration_ns:
        until = f"until {sid} came back at {format_duration(b)}"
    else:
        until = "until the end of the run"
    if first_500:
        return Fact(stop, stop, "alert-429", sid,
                    f"a 429-based alert would never have fired for {sid}'s {word}: no report answered 429 {until} "
                    f"(the API answered 500, no cluster leader, from {first_500})")
    return Fact(stop, stop, "alert-429", sid,
                f"a 429-based alert would never have fired for {sid}'s {word}: every report stayed 200 {until}")


def unknown_peer_facts(run: Run) -> list[Fact]:
    """Spans in which the leader's report lists a Raft peer as `left` with an empty name: the
    leader's serf has not learnt about it (typically a leader that restarted recently)."""
    facts: list[Fact] = []
    open_: dict[tuple[str, str], tuple[int, str]] = {}
    timeline = run.timeline

    def close(key: tuple[str, str], end: int, how: str) -> None:
        start, start_t = open_.pop(key)
        leader, sid = key
        restarted = None
        for e in run.events:
            if e["t_ns"] > start:
                break
            if e.get("server") == leader and e.get("kind") in ("restart", "upgrade", "join"):
                restarted = e
        why = (f"{leader} restarted at {restarted['t']} and its serf has not heard of {sid} since"
               if restarted else f"{leader}'s serf has no record of {sid}")
        facts.append(Fact(start, end, "unknown-peer", sid,
                          f"from {start_t}, {leader}'s report lists {sid} as `left` with an empty name: {why}. "
                          f"Autopilot lists every server of the Raft configuration and shows one the application "
                          f"does not know as `left`, with no name, version or stats; it has not left. {how}"))

    for record in timeline:
        t = record["t_ns"]
        leader = record["health"].get("Leader", "") if record.get("status") != 500 else ""
        current = set()
        for s in (record["health"].get("Servers") or []) if record.get("status") != 500 else []:
            if s.get("SerfStatus") == "left" and not s.get("Name"):
                key = (leader, s["ID"])
                current.add(key)
                if key not in open_:
                    open_[key] = (t, record["t"])
        for key in [k for k in open_ if k not in current]:
            entry = _entry(record, key[1])
            if entry is None:
                how = (f"At {record['t']} it is gone from the report"
                       + _removal_note(run, key[1], open_[key][0], t) + ".")
            else:
                how = f"At {record['t']} {key[0]}'s report shows it {entry.get('SerfStatus')} with its name."
            close(key, t, how)
    for key in list(open_):
        close(key, run.duration_ns, "It stays so until the end of the run.")
    return sorted(facts, key=lambda f: (f.t_ns, f.server))


def _removal_note(run: Run, sid: str, start: int, end: int) -> str:
    for e in run.events:
        if start <= e["t_ns"] <= end and e.get("server") == sid and e.get("kind") in ("removal", "raft_remove"):
            return f" (removed at {e['t']}: {e.get('rule') or e.get('message')})"
    return ""


def run_facts(run: Run) -> list[Fact]:
    """Every operator fact of a run, in time order."""
    return sorted(down_server_facts(run) + unknown_peer_facts(run), key=_order)
