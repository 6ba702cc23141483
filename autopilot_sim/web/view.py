"""What the web page draws: a JSON-ready picture ("frame") of a simulation at one instant.

A frame holds, per server, what RaftScope shows (role, term, vote, last and commit index, the
tail of the log coloured by term) and what autopilot adds (suffrage, health and serf status from
the latest health report), plus the cut links and the Raft messages sent recently (for the
moving dots). Frames are built on the simulation's own thread only (SimPy is not thread safe):

* live (`LiveView`): a hook on `LiveSimulation.publish_hooks` builds a frame at most every
  `FRAME_INTERVAL` wall seconds while a page is watching, and publishes it with one attribute
  assignment; request threads read it without a lock;
* replay (`autopilot_sim.web.replay`): frames taken at fixed simulated intervals while the run
  is re-simulated in virtual time.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from autopilot_sim.durations import format_duration
from autopilot_sim.raft.messages import NONVOTER, STAGING, VOTER

#: Log entries per server in a frame (the tail; the page shows where it starts).
LOG_TAIL = 24
#: Messages kept for the page between two polls (newest first when over).
MESSAGE_BUFFER = 600
#: Most messages in one frame (heartbeats are dropped first when over).
FRAME_MESSAGES = 120
#: Wall seconds between two live frames at most, and how long a request keeps frames coming.
FRAME_INTERVAL = 0.04
WATCH_SECONDS = 3.0

_SUFFRAGE = {VOTER: "voter", NONVOTER: "nonvoter", STAGING: "staging"}
_KINDS = {
    "AppendEntries": "append", "AppendEntriesResponse": "append-reply", "Heartbeat": "heartbeat",
    "HeartbeatResponse": "heartbeat-reply", "RequestVote": "vote", "VoteResponse": "vote-reply",
    "TimeoutNow": "timeout-now", "TimeoutNowResponse": "timeout-now-reply",
}


def message_kind(msg: Any) -> str:
    """A short name for a Raft message ("prevote" for a RequestVote in its pre-vote phase)."""
    name = type(msg).__name__
    if name == "RequestVote" and getattr(msg, "prevote", False):
        return "prevote"
    if name == "AppendEntries" and not getattr(msg, "entries", None):
        return "append-empty"
    return _KINDS.get(name, name)


class MessageTap:
    """Subscribes to a cluster's Raft sends (`Cluster.send_taps`); keeps the recent ones.

    Each record is ``[seq, src, dst, kind, sent_ns, arrives_ns or None (lost)]``.
    """

    def __init__(self, cluster: Any, size: int = MESSAGE_BUFFER) -> None:
        self.cluster = cluster
        self.seq = 0
        self.recent: deque[list[Any]] = deque(maxlen=size)
        cluster.send_taps.append(self._on_send)

    def _on_send(self, src: str, dst: str, msg: Any, sent: int, arrives: int | None) -> None:
        self.seq += 1
        self.recent.append([self.seq, src, dst, message_kind(msg), sent, arrives])

    def close(self) -> None:
        """Unsubscribe (the engine is back to zero cost)."""
        if self._on_send in self.cluster.send_taps:
            self.cluster.send_taps.remove(self._on_send)

    def drain(self) -> list[list[Any]]:
        """The buffered messages (oldest first); empties the buffer."""
        items = list(self.recent)
        self.recent.clear()
        return items


def pick_messages(messages: Any, since: int, limit: int = FRAME_MESSAGES) -> list[list[Any]]:
    """Messages with a sequence number above ``since``, at most ``limit`` (heartbeats go first)."""
    items = [m for m in messages if m[0] > since]
    if len(items) > limit:
        keep = [m for m in items if not m[3].startswith("heartbeat")]
        if len(keep) < limit:
            beats = [m for m in items if m[3].startswith("heartbeat")]
            keep += beats[len(beats) - (limit - len(keep)):]
            keep.sort(key=lambda m: m[0])
        items = keep[-limit:]
    return items


def _report_servers(report: Any) -> dict[str, dict[str, Any]]:
    if report is None or not isinstance(report.body, dict):
        return {}
    return {s.get("Name", "").split(".")[0] if "ID" not in s else s["ID"]: s for s in report.body.get("Servers") or []}


def build_frame(sim: Any, messages: list[list[Any]] | None = None) -> dict[str, Any]:
    """A frame of ``sim`` (a `Simulation`) now. Call on the simulation's thread only."""
    cluster = sim.cluster
    now = cluster.now
    leader = cluster.leader_name
    membership: dict[str, int] = {}
    if leader is not None:
        membership = dict(cluster.servers[leader].node.latest_config)
    else:  # no leader: the membership the most servers agree on is as good as any
        for srv in cluster.servers.values():
            if srv.up and len(srv.node.latest_config) >= len(membership):
                membership = dict(srv.node.latest_config)
    nomad = getattr(sim, "nomad", None)
    report = nomad.latest_report() if nomad is not None else None
    by_id = _report_servers(report)
    servers = []
    for name, srv in cluster.servers.items():
        node = srv.node
        log = node.log
        tail = log[max(1, len(log) - LOG_TAIL):]
        health = by_id.get(name)
        servers.append({
            "Name": name,
            "Up": srv.up,
            "Paused": srv.up and now < srv.paused_until,
            "Role": node.role if srv.up else "Down",
            "Suffrage": _SUFFRAGE.get(membership[name], "?") if name in membership else "none",
            "Term": node.current_term,
            "VotedFor": node.vote_cand if node.vote_term == node.current_term else None,
            "LastIndex": log[-1].index if log else 0,
            "CommitIndex": node.commit_index,
            "Leader": node.leader or "",
            "Log": [[e.index, e.term] for e in tail],
            "Healthy": health.get("Healthy") if health is not None else None,
            "SerfStatus": health.get("SerfStatus") if health is not None else None,
            "Version": srv.version,
        })
    blocked = sorted([list(link) for link in cluster.network.blocked])
    gossip_only = sorted([list(link) for link in cluster.network.gossip_blocked - cluster.network.blocked])
    return {
        "TimeNs": now,
        "Time": format_duration(now),
        "Leader": leader or "",
        "Servers": servers,
        "Blocked": blocked,
        "GossipBlocked": gossip_only,
        "Messages": messages or [],
        "Reports": len(nomad.reports) if nomad is not None else 0,
        "Events": len(sim.recorder.events),
        "WritesPerSecond": cluster.writes_per_second,
    }


def report_point(report: Any) -> list[Any]:
    """One health report as the page's timeline point: [t_ns, status, FailureTolerance, voters, healthy]."""
    return timeline_point(report.t_ns, report.status, report.body)


def timeline_point(t_ns: int, status: int, body: Any) -> list[Any]:
    """[t_ns, status, FailureTolerance or None, voters or None, healthy or None] (see plot.py)."""
    if status == 500 or not isinstance(body, dict) or "FailureTolerance" not in body:
        return [t_ns, status, None, None, None]
    return [t_ns, status, body.get("FailureTolerance"), len(body.get("Voters") or []), body.get("Healthy")]


class LiveView:
    """Frames of a `LiveSimulation` for the page (see the module docstring)."""

    def __init__(self, live: Any, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.live = live
        self._clock = clock
        self._tap: MessageTap | None = None
        self._watched_until = 0.0
        self._built_at = -1.0
        self._built_key: tuple[Any, ...] | None = None
        self._fresh = threading.Event()
        self.frame: dict[str, Any] | None = None
        self.frames_built = 0
        self.messages: tuple[list[Any], ...] = ()  # recent Raft sends, oldest first (immutable)
        live.publish_hooks.append(self._on_publish)

    def watch(self, timeout: float = 1.0) -> dict[str, Any] | None:
        """Called by a request: keep frames coming, and return the latest one (waits up to
        ``timeout`` for the first)."""
        self._watched_until = self._clock() + WATCH_SECONDS
        if self.frame is None or self._built_key != self._key():
            self._fresh.clear()
            self.live.wake()  # a paused simulation thread sleeps 0.5 s
            if self.live.running or self.frame is None:
                self._fresh.wait(timeout if self.live.running else 0)
        if self.frame is None and not self.live.running:
            return None
        return self.frame

    def _key(self) -> tuple[Any, ...]:
        snap = self.live.snapshot
        return (snap.t_ns, snap.events, snap.commands, snap.paused, snap.speed)

    def _on_publish(self) -> None:
        now = self._clock()
        if now > self._watched_until:
            if self._tap is not None:  # nobody is watching: stop tapping the engine
                self._tap.close()
                self._tap = None
            return
        if self._tap is None:
            self._tap = MessageTap(self.live.sim.cluster)
        key = self._key()
        if key == self._built_key or (now - self._built_at < FRAME_INTERVAL and not self.live.paused):
            return
        new = self._tap.drain()
        if new:
            self.messages = tuple((list(self.messages) + new)[-MESSAGE_BUFFER:])
        frame = build_frame(self.live.sim)
        self._built_at = now
        self._built_key = key
        self.frames_built += 1
        self.frame = frame
        self._fresh.set()
