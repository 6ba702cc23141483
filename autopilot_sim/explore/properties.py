"""The properties an exploration checks on every run, and how each is judged.

``safety``
    No Raft safety invariant broke (always checked; the engine stops the run at a violation).
``leaderless<=D``
    After the first leader was elected, the cluster was never without a leader for longer than
    D (the stretches of `rundata.leaderless_spans`, the rule of ``longest_leaderless_s``).
``no-quorum-loss``
    ``quorum_lost`` of summary.json stayed false: at every instant some alive voter had two-way
    Raft links to a quorum of alive voters.
``no-healthy-server-removed``
    Autopilot never removed a server that was up and reachable: at each ``removal`` event
    (autopilot's decision, either a Raft RemoveServer or a serf force-leave of a failed server)
    the server's process was running and not paused, it had not been asked to leave, and the
    network (partitions and cuts replayed from the events with the engine's own rules) carried
    Raft and gossip traffic both ways between it and the leader. Random loss and latency do not
    make a server unreachable.
``alert-fires<=D``
    Every down episode of summary.json (a crash, or a pause long enough for serf to notice) that
    lasted at least D was followed within D of its start by a health report with status 429 or
    500 — the alert an operator would page on. Shorter outages need no alert.
``expect``
    Every expectation in the scenario's own ``expect`` block held.

`parse_properties` turns ``--property`` values into `Property` objects (a bad name or bound is a
`PropertyError` that says what is valid); `check` judges one finished run.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from autopilot_sim import event_kinds as kinds
from autopilot_sim.durations import SECOND, format_duration, parse_duration

#: Properties with a bound (NAME<=DURATION).
BOUNDED = ("leaderless", "alert-fires")
#: Properties without one.
PLAIN = ("safety", "no-quorum-loss", "no-healthy-server-removed", "expect")
#: Checked when no --property is given (safety is always checked).
DEFAULT = ("no-quorum-loss", "no-healthy-server-removed", "expect")


class PropertyError(ValueError):
    """A --property value that names no property or has a bad bound."""


@dataclass(frozen=True)
class Property:
    """A property to check: its name and, for bounded ones, the bound in ns."""

    name: str
    bound: int | None = None

    @property
    def label(self) -> str:
        """As written on the command line, canonical: ``leaderless<=10s``."""
        return self.name if self.bound is None else f"{self.name}<={format_duration(self.bound)}"


@dataclass(frozen=True)
class Violation:
    """One property that did not hold in a run: which, why, and when it was first seen (ns)."""

    prop: str
    detail: str
    t_ns: int | None = None

    def to_json(self) -> dict[str, Any]:
        """As results.jsonl records it."""
        return {"property": self.prop, "detail": self.detail,
                "t": None if self.t_ns is None else format_duration(self.t_ns)}


def parse_property(text: str) -> Property:
    """``leaderless<=10s`` → Property("leaderless", 10s); raises `PropertyError`."""
    raw = text.strip()
    name, sep, bound = raw.partition("<=")
    name = name.strip()
    valid = ", ".join([*PLAIN, *(f"{b}<=DURATION" for b in BOUNDED)])
    if name in PLAIN:
        if sep:
            raise PropertyError(f"--property {raw}: {name} takes no bound; valid properties: {valid}")
        return Property(name)
    if name in BOUNDED:
        if not sep or not bound.strip():
            raise PropertyError(f"--property {raw}: {name} needs a bound, e.g. {name}<=30s")
        try:
            ns = parse_duration(bound.strip())
        except ValueError:
            raise PropertyError(f"--property {raw}: the bound must be a Go duration such as 30s or 1m30s, "
                                f"got {bound.strip()!r}") from None
        if ns <= 0:
            raise PropertyError(f"--property {raw}: the bound must be positive")
        return Property(name, ns)
    close = difflib.get_close_matches(name, [*PLAIN, *BOUNDED], n=1)
    hint = f' (did you mean "{close[0]}"?)' if close else ""
    raise PropertyError(f"--property {raw}: unknown property{hint}; valid properties: {valid}")


def parse_properties(texts: list[str] | tuple[str, ...]) -> list[Property]:
    """The properties to check, safety first, in the order given (defaults when none given)."""
    props = [parse_property(t) for t in (texts or DEFAULT)]
    out = [Property("safety")]
    for p in props:
        if p.name == "safety":
            continue
        if any(q.name == p.name for q in out):
            raise PropertyError(f"--property {p.label}: {p.name} is given twice")
        out.append(p)
    return out


# ------------------------------------------------------------------------------ the checks


def _leaderless(events: list[dict[str, Any]], end: int, bound: int) -> Violation | None:
    from autopilot_sim.rundata import Run, leaderless_spans

    spans = [(a, b) for a, b in leaderless_spans(Run(timeline=[], events=events, summary={"duration_ns": end}))
             if a > 0]
    if not any(e["kind"] == kinds.LEADER_ELECTED for e in events):
        return Violation("leaderless", "no leader was ever elected", 0)
    longest = max(spans, key=lambda s: (s[1] - s[0], -s[0]), default=None)
    if longest is None or longest[1] - longest[0] <= bound:
        return None
    a, b = longest
    until = "the end of the run" if b >= end else format_duration(b)
    return Violation("leaderless", f"no leader for {format_duration(b - a)} (from {format_duration(a)} to {until}), "
                                   f"more than {format_duration(bound)}", b if b < end else a + bound)


def _removed_while_up(events: list[dict[str, Any]], servers: list[str]) -> Violation | None:
    from autopilot_sim.sim.network import Latency, Network

    net = Network(0, Latency("constant"))
    for name in servers:
        net.add_server(name)
    down: set[str] = set()
    leaving: set[str] = set()
    paused_until: dict[str, int] = {}
    leader: str | None = None
    for e in events:
        kind, t, server = e["kind"], int(e["t_ns"]), e.get("server")
        if kind in (kinds.CRASH, kinds.STOPPED):
            down.add(server or "")
            if server == leader:
                leader = None
        elif kind in (kinds.RESTART, kinds.JOIN, kinds.UPGRADE):  # an upgrade ends with the server running
            down.discard(server or "")
            leaving.discard(server or "")
            if kind == kinds.JOIN:
                net.add_server(server or "")
        elif kind == kinds.LEAVE:
            leaving.add(server or "")
        elif kind == kinds.PAUSE and e.get("duration"):
            paused_until[server or ""] = t + parse_duration(e["duration"])
        elif kind == kinds.PARTITION:
            net.partition(e["groups"])
        elif kind == kinds.CUT:
            net.cut(e["source"], e["target"], e.get("traffic", "all"))
        elif kind == kinds.HEAL:
            net.heal(e.get("source"), e.get("target"))
        elif kind == kinds.LEADER_ELECTED:
            leader = server
        elif kind == kinds.LEADER_STEPPED_DOWN and server == leader:
            leader = None
        elif kind == kinds.REMOVAL and server and leader:
            if server in down or server in leaving or paused_until.get(server, 0) > t:
                continue
            links = [(leader, server), (server, leader)]
            if all(link not in net.blocked and link not in net.gossip_blocked for link in links):
                return Violation("no-healthy-server-removed",
                                 f"autopilot on {leader} removed {server} at {format_duration(t)} "
                                 f"({e.get('rule', e.get('op', 'removal'))}) while {server} was running and "
                                 f"reachable", t)
    return None


def _alert(summary: dict[str, Any], timeline: list[dict[str, Any]], end: int, bound: int) -> Violation | None:
    for ep in summary.get("down_episodes") or []:
        start = round(ep["at_s"] * SECOND)
        stop = end if ep.get("ended_s") is None else round(ep["ended_s"] * SECOND)
        if stop - start < bound:
            continue
        if any(start <= r["t_ns"] <= start + bound and r["status"] != 200 for r in timeline):
            continue
        return Violation("alert-fires", f"{ep['server']} was down ({ep['cause']}) from {format_duration(start)} for "
                                        f"{format_duration(stop - start)} and the health endpoint answered 200 "
                                        f"throughout the first {format_duration(bound)}", start + bound)
    return None


def check(props: list[Property], result: Any, servers: list[str]) -> list[Violation]:
    """The properties (of `props`) that the finished run `result` (a `RunResult`) broke.
    `servers` are the servers at the start of the run."""
    out: list[Violation] = []
    events = result.recorder.events
    summary = result.summary
    end = int(summary["duration_ns"])
    for p in props:
        v: Violation | None = None
        if p.name == "safety":
            if result.error:
                at = next((e["t_ns"] for e in events if e["kind"] == kinds.SAFETY_VIOLATION), None)
                v = Violation("safety", f"Raft safety violation: {result.error}", at)
        elif p.name == "leaderless" and p.bound is not None:
            v = _leaderless(events, end, p.bound)
        elif p.name == "no-quorum-loss":
            if summary.get("quorum_lost"):
                v = Violation("no-quorum-loss", f"no quorum for {summary.get('quorum_lost_s')}s in total")
        elif p.name == "no-healthy-server-removed":
            v = _removed_while_up(events, servers)
        elif p.name == "alert-fires" and p.bound is not None:
            v = _alert(summary, result.timeline, end, p.bound)
        elif p.name == "expect":
            failed = result.failed_expectations
            if failed:
                first = failed[0]
                v = Violation("expect", f"expect[{first.index}] ({first.description}) failed: {first.detail}"
                              + (f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""), first.t_ns)
        if v is not None:
            out.append(Violation(p.label, v.detail, v.t_ns))
    return out
