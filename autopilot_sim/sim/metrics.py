"""Operator metrics of one run, computed from what the run recorded.

Everything here reads only the run's records — the events (`events.jsonl`), the health
timeline (`timeline.jsonl`) and the resolved scenario — so the same figures can be recomputed
from a run directory, and they are the same for the same scenario and seed on any machine.
`operator_metrics` returns the keys that `summary.json` gains:

``down_episodes``
    One record per crash of a server (a stop without leave — a rolling restart's step, an upgrade
    with ``down_for`` — is a crash to the cluster, measured as one, with cause ``stop``), and per
    pause at least as long as the gossip layer's fastest possible failure verdict
    (`detection_floor_ns`: memberlist's probe timeout plus its minimum suspicion timeout,
    ``SuspicionMult × max(1, log10 n) × ProbeInterval``; 33 s with
    the WAN defaults and up to 10 servers). Shorter pauses cannot make serf mark anyone failed
    and are not episodes. An episode of a crash ends when the server is restarted (``restart``
    or ``upgrade`` — an upgrade without ``down_for`` restarts at once, so it is no episode of its own); one of a pause
    ends when the process resumes (pause start + its length); a crash during a pause ends the
    pause's episode and starts a crash episode. An episode still open when the run ends is cut
    at the end of the run (``ended_s`` null). Fields, all times in seconds:

    * ``server``, ``cause`` (``crash`` | ``stop`` | ``pause``), ``at_s`` (when it went down),
      ``ended_s`` (restart / resume time, null when still down at the end), ``down_s``;
    * measured from ``at_s``, each null when it did not happen before the episode ended:
      ``serf_failed_after_s`` — the *leader's* serf holds the server ``failed``: the first
      ``serf_member`` event with status failed (only the serving leader's serf is narrated, so
      leader changes are followed automatically), or, if earlier, the first health report that
      shows ``SerfStatus: failed`` for it (a new leader whose serf had already decided before it
      took office; then the time is that of the report, at update-tick resolution);
      ``unhealthy_after_s`` — the first health report with ``Healthy: false`` for it;
      ``removed_after_s`` — the first committed Raft configuration without it;
    * ``reported_healthy_while_down_s`` — how long, within the episode, the health report in
      force (each report holds until the next) listed the server with ``Healthy: true``.

``longest_leaderless_s``
    The longest stretch without a leader after the first leader was elected (the bootstrap
    election is excluded); 0.0 when the first leader never lost office, null when no leader was
    ever elected. A leader is lost when it steps down, crashes, exits or is upgraded, and regained
    at the next ``leader_elected`` — the same rule as ``time_without_leader``.

``quorum_lost`` / ``quorum_lost_s``
    Whether, and for how long in total, the cluster *could not* have a working leader: no alive
    voter had two-way Raft connectivity to enough other alive voters to form a quorum with them.
    Precisely, at every instant: the voters are those of the last committed configuration (the
    bootstrap voters before the first commit); a voter is alive when its process runs and is not
    paused; voters a and b reach each other when Raft traffic (port 4647) is up in both
    directions — partitions, one-way ``cut``s of all or Raft traffic and their ``heal``s are
    replayed with the engine's own `Network` rules; random loss and latency never cut a link. The
    quorum is held when some alive voter reaches at least ``quorum - 1`` other alive voters
    (``quorum = voters // 2 + 1``): a leader needs two-way links to a majority, not links among
    its followers.

``health_status_counts``
    ``{"200": n, "429": n, "500": n}``: the health reports of the timeline by HTTP status.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, cast

from autopilot_sim.durations import SECOND, parse_duration
from autopilot_sim.gossip.config import suspicion_timeout
from autopilot_sim.sim.network import Latency, Network

_LEADER_LOSS_KINDS = ("leader_stepped_down", "crash", "stopped", "upgrade")


def _s(t_ns: int | None) -> float | None:
    return None if t_ns is None else round(t_ns / SECOND, 9)


def detection_floor_ns(probe_interval: int, probe_timeout: int, suspicion_mult: int, n: int) -> int:
    """The shortest silence after which memberlist can declare a member failed: one probe's
    timeout plus the minimum (fully confirmed) suspicion timeout for a pool of `n` members."""
    return probe_timeout + suspicion_timeout(suspicion_mult, n, probe_interval)


@dataclass
class _Episode:
    server: str
    cause: str
    at: int
    ended: int | None = None


def health_status_counts(timeline: Iterable[dict[str, Any]]) -> dict[str, int]:
    """Reports per HTTP status; the three statuses the API returns are always present."""
    counts = {"200": 0, "429": 0, "500": 0}
    for report in timeline:
        key = str(report["status"])
        counts[key] = counts.get(key, 0) + 1
    return counts


def longest_leaderless_ns(events: Iterable[dict[str, Any]], end: int) -> int | None:
    """Longest leaderless stretch after the first election (None: no leader was ever elected)."""
    current: str | None = None
    since: int | None = None  # start of the current leaderless stretch; None before the first leader
    elected = False
    longest = 0
    for e in events:
        kind, t, server = e["kind"], int(e["t_ns"]), e.get("server")
        if kind == "leader_elected":
            if elected and current is None and since is not None:
                longest = max(longest, t - since)
            elected, current = True, server
        elif kind in _LEADER_LOSS_KINDS and current is not None and server == current:
            current, since = None, t
    if not elected:
        return None
    if current is None and since is not None:
        longest = max(longest, end - since)
    return longest


def _episodes(events: list[dict[str, Any]], end: int, floor: Callable[[int], int], n: int) -> list[_Episode]:
    """Down episodes in order of their start (`floor(n)`: the pause threshold with n servers)."""
    open_: dict[str, _Episode] = {}
    out: list[_Episode] = []
    for e in events:
        kind, t, server = e["kind"], int(e["t_ns"]), e.get("server")
        if not server:
            continue
        if kind == "join":
            n += 1
        elif kind == "stopped":
            n -= 1
        episode = open_.get(server)
        if episode is not None and episode.cause == "pause" and episode.ended is not None and episode.ended <= t:
            del open_[server]  # resumed before this event
            episode = None
        if kind == "crash":
            if episode is not None:  # a crash during a pause: the pause episode ends here
                episode.ended = t
            # A planned stop (its crash line names the rolling restart or upgrade that caused it).
            episode = _Episode(server, "stop" if e.get("cause") else "crash", t)
            open_[server] = episode
            out.append(episode)
        elif kind in ("restart", "upgrade") and episode is not None and episode.cause in ("crash", "stop"):
            episode.ended = t
            del open_[server]
        elif kind == "pause":
            length = parse_duration(e["duration"]) if e.get("duration") else 0
            if episode is None and length >= floor(n):
                episode = _Episode(server, "pause", t, ended=t + length)
                open_[server] = episode
                out.append(episode)
    for episode in out:
        if episode.ended is not None and episode.ended > end:
            episode.ended = None
    return out


def _server_entry(report: dict[str, Any], server: str) -> dict[str, Any] | None:
    entry: dict[str, Any]
    for entry in (report.get("health") or {}).get("Servers") or []:
        if entry.get("ID") == server:
            return entry
    return None


def _measure(episode: _Episode, events: list[dict[str, Any]], timeline: list[dict[str, Any]],
             end: int) -> dict[str, Any]:
    start, stop = episode.at, episode.ended if episode.ended is not None else end
    serf_failed = unhealthy = removed = None
    for e in events:
        t = int(e["t_ns"])
        if t < start:
            continue
        if t >= stop:
            break
        if serf_failed is None and e["kind"] == "serf_member" and e.get("server") == episode.server \
                and e.get("status") == "failed":
            serf_failed = t
        if removed is None and e["kind"] == "configuration_committed" and "servers" in e \
                and episode.server not in e["servers"]:
            removed = t
    healthy_while_down = 0
    for i, report in enumerate(timeline):
        t = int(report["t_ns"])
        nxt = int(timeline[i + 1]["t_ns"]) if i + 1 < len(timeline) else end
        if nxt <= start or t >= stop:
            continue
        entry = _server_entry(report, episode.server)
        if entry is None:
            continue
        if entry.get("Healthy"):
            healthy_while_down += min(nxt, stop) - max(t, start)
        elif t >= start and unhealthy is None:
            unhealthy = t
        if t >= start and entry.get("SerfStatus") == "failed" and (serf_failed is None or t < serf_failed):
            serf_failed = t
    return {
        "server": episode.server,
        "cause": episode.cause,
        "at_s": _s(start),
        "ended_s": _s(episode.ended),
        "down_s": _s(stop - start),
        "serf_failed_after_s": _s(None if serf_failed is None else serf_failed - start),
        "unhealthy_after_s": _s(None if unhealthy is None else unhealthy - start),
        "removed_after_s": _s(None if removed is None else removed - start),
        "reported_healthy_while_down_s": _s(healthy_while_down),
    }


class _QuorumTracker:
    """Replays membership, liveness and network faults to tell when a quorum could exist."""

    def __init__(self, servers: list[str], voters: list[str]) -> None:
        self.servers = list(servers)
        self.network: Network | None = None  # built at the first network fault (most runs have none)
        self.voters = list(voters)
        self.down: set[str] = set()
        self.paused_until: dict[str, int] = {}

    def _net(self) -> Network:
        if self.network is None:
            self.network = Network(0, Latency("constant"))
            for name in self.servers:
                self.network.add_server(name)
        return self.network

    def apply(self, e: dict[str, Any]) -> None:
        kind, t = e["kind"], int(e["t_ns"])
        server = cast(str, e.get("server"))  # present on every per-server kind used below
        if kind in ("crash", "stopped"):
            self.down.add(server)
        elif kind == "restart":
            self.down.discard(server)
        elif kind == "join":
            self.servers.append(server)
            if self.network is not None:
                self.network.add_server(server)
            self.down.discard(server)
        elif kind == "pause" and e.get("duration"):
            self.paused_until[server] = max(self.paused_until.get(server, 0), t + parse_duration(e["duration"]))
        elif kind == "partition":
            self._net().partition(e["groups"])
        elif kind == "cut":
            self._net().cut(e["source"], e["target"], e.get("traffic", "all"))
        elif kind == "heal":
            self._net().heal(e.get("source"), e.get("target"))
        elif kind == "configuration_committed" and "servers" in e:
            self.voters = [sid for sid, suffrage in e["servers"].items() if suffrage == "voter"]

    def held(self, t: int) -> bool:
        """Whether some alive voter has two-way Raft links to a quorum's worth of alive voters."""
        alive = [v for v in self.voters if v not in self.down and self.paused_until.get(v, 0) <= t]
        quorum = len(self.voters) // 2 + 1
        if self.network is None:
            return len(alive) >= quorum
        up = self.network.is_up
        return any(1 + sum(1 for u in alive if u != v and up(v, u) and up(u, v)) >= quorum for v in alive)

    def resumes(self) -> list[int]:
        return list(self.paused_until.values())


def quorum_lost_ns(events: list[dict[str, Any]], end: int, servers: list[str], voters: list[str]) -> int:
    """Total time in which no quorum of alive, mutually reachable voters existed (see module doc)."""
    tracker = _QuorumTracker(servers, voters)
    lost = 0
    t_prev = 0
    held = tracker.held(0)
    pending_resumes: list[int] = []

    def advance(t: int) -> None:
        # Pauses end between events: re-evaluate at each resume time up to t.
        nonlocal t_prev, held, lost
        for r in sorted(x for x in pending_resumes if t_prev < x <= t):
            if not held:
                lost += r - t_prev
            t_prev, held = r, tracker.held(r)
        if not held:
            lost += t - t_prev
        t_prev = t

    for e in events:
        t = min(int(e["t_ns"]), end)
        advance(t)
        tracker.apply(e)
        pending_resumes = tracker.resumes()
        held = tracker.held(t)
    advance(end)
    return lost


def operator_metrics(events: list[dict[str, Any]], timeline: list[dict[str, Any]], end: int, *,
                     servers: list[str], voters: list[str], probe_interval: int, probe_timeout: int,
                     suspicion_mult: int) -> dict[str, Any]:
    """The operator metrics of a run (see the module docstring for each definition).

    `servers` are the servers at the start, `voters` the bootstrap voters; the gossip figures
    set the pause threshold for a down episode."""
    def floor(n: int) -> int:
        return detection_floor_ns(probe_interval, probe_timeout, suspicion_mult, n)

    episodes = [_measure(ep, events, timeline, end) for ep in _episodes(events, end, floor, len(servers))]
    leaderless = longest_leaderless_ns(events, end)
    lost = quorum_lost_ns(events, end, servers, voters)
    return {
        "down_episodes": episodes,
        "longest_leaderless_s": _s(leaderless),
        "quorum_lost": lost > 0,
        "quorum_lost_s": _s(lost),
        "health_status_counts": health_status_counts(timeline),
    }


def scenario_metrics(scenario: Any, events: list[dict[str, Any]], timeline: list[dict[str, Any]],
                     end: int) -> dict[str, Any]:
    """`operator_metrics` with the server list, bootstrap voters and gossip timing of a scenario."""
    servers = [s.name for s in scenario.cluster.servers]
    bootstrap = scenario.cluster.bootstrap_expect or len(servers)
    gossip = scenario.gossip
    return operator_metrics(events, timeline, end, servers=servers, voters=servers[:bootstrap],
                            probe_interval=gossip.probe_interval, probe_timeout=gossip.probe_timeout,
                            suspicion_mult=gossip.suspicion_mult)
