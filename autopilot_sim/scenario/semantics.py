"""Checks that span several parts of a scenario: names, times and their order.

These need more than one block at once (a crash target needs the server list, an event time needs
the duration), so they run after each part has validated on its own. They are written over the
parts, not over a whole `Scenario`, so the loader can still run them on the parts that are valid
when some other part is not — every problem in a file is reported in one go.

Names: servers listed in ``cluster.servers`` exist from the start; a ``join`` event adds one from
that event on. An event may only name a server that exists by then; an expectation or a
``network.links`` entry may name any server that ever exists in the scenario. What events
do to servers (a restart needs a crashed or left server, a join a new or left name, role targets
such as ``leader`` resolved when the event fires) is `lifecycle`'s check, run from here.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from autopilot_sim.durations import format_duration as fmt
from autopilot_sim.scenario.cluster import MAX_SERVER_COUNT, ClusterSpec
from autopilot_sim.scenario.events import Event
from autopilot_sim.scenario.expectations import ENTERPRISE_CHECK_KEYS, Expectation
from autopilot_sim.scenario.lifecycle import lifecycle_issues
from autopilot_sim.scenario.network import LinkSpec
from autopilot_sim.scenario.types import describe, parse_target

#: (path from the scenario root, message, point at the key rather than the value)
Issue = tuple[tuple[str | int, ...], str, bool]


def name_list(names: Sequence[str], limit: int = 12) -> str:
    """``node1, node2, node3`` (shortened after ``limit`` names)."""
    if len(names) <= limit:
        return ", ".join(names)
    return ", ".join(names[:limit]) + f" and {len(names) - limit} more"


def _numbered_sibling(a: str, b: str) -> bool:
    """node9 vs node3: same stem, other number — a different server, not a typo."""
    stem_a, stem_b = a.rstrip("0123456789"), b.rstrip("0123456789")
    return stem_a == stem_b and a != stem_a and b != stem_b


def unknown_server(name: str, known: Sequence[str]) -> str:
    """The message for a name that is not a server: a hint, then the valid names."""
    close = [c for c in difflib.get_close_matches(name, known, n=3, cutoff=0.6)
             if not _numbered_sibling(name, c)][:1]
    hint = f'; did you mean "{close[0]}"?' if close else ";"
    listing = f"servers are {name_list(known)}" if known else "there are no servers"
    return f"unknown server {describe(name)}{hint} {listing}"


def scenario_issues(
    *,
    duration: int | None,
    cluster: ClusterSpec | None,
    links: Sequence[tuple[int, LinkSpec]] | None,
    events: Sequence[tuple[int, Event]],
    expect: Sequence[tuple[int, Expectation]],
) -> list[Issue]:
    """Every cross-part problem among the parts given (None / missing parts are skipped).

    ``links`` are ``network.links`` and ``events`` / ``expect`` the items of those lists, each
    with its index in the file (items that failed their own validation are left out).
    """
    issues: list[Issue] = []
    events = time_order(events)
    issues += _event_times(duration, events)
    if cluster is not None:
        issues += _event_names(cluster, events)
        issues += lifecycle_issues(cluster, events, duration)[0]
        ever = _all_servers(cluster, events)
        if len(ever) > MAX_SERVER_COUNT:
            first = next(i for i, e in events if e.kind == "join" and e.join.name == ever[MAX_SERVER_COUNT])  # type: ignore[union-attr]
            issues.append((("events", first, "join"),
                           f"this join is server number {MAX_SERVER_COUNT + 1} of the scenario; a cluster has at "
                           f"most {MAX_SERVER_COUNT} servers, counting those that join", False))
        issues += _bootstrap(cluster, events)
        if links is not None:
            for i, link in links:
                for key, name in (("from", link.from_), ("to", link.to)):
                    if name not in ever:
                        issues.append((("network", "links", i, key), unknown_server(name, ever), False))
        issues += _expectation_names(ever, events, expect)
        issues += _expectation_enterprise(cluster, expect)
    issues += _expectation_times(duration, expect)
    return issues


def time_order(events: Sequence[tuple[int, Event]]) -> list[tuple[int, Event]]:
    """The events sorted stably by ``at`` (same-time events keep file order), with their indexes
    in the file: the order the engine fires them in, and the order every check walks."""
    return sorted(events, key=lambda item: item[1].at)


def _event_times(duration: int | None, events: Sequence[tuple[int, Event]]) -> list[Issue]:
    if duration is None:
        return []
    return [(("events", i, "at"), f"at {fmt(event.at)} is after the end of the scenario "
                                  f"(duration {fmt(duration)})", False)
            for i, event in sorted(events, key=lambda item: item[0]) if event.at > duration]


def _all_servers(cluster: ClusterSpec, events: Sequence[tuple[int, Event]]) -> list[str]:
    names = list(cluster.server_names)
    for _, event in events:
        if event.kind == "join" and event.join.name not in names:  # type: ignore[union-attr]
            names.append(event.join.name)  # type: ignore[union-attr]
    return names


def _event_names(cluster: ClusterSpec, events: Sequence[tuple[int, Event]]) -> list[Issue]:
    issues: list[Issue] = []
    known = list(cluster.server_names)
    # name -> (place in time order, index in the file, at) of its first join
    joins_later: dict[str, tuple[int, int, int]] = {}
    for pos, (i, e) in enumerate(events):
        if e.join is not None:
            joins_later.setdefault(e.join.name, (pos, i, e.at))
    for pos, (i, event) in enumerate(events):
        for subpath, target in event.references():
            name = parse_target(target).name
            if name is None or name in known:
                continue
            if name in joins_later and joins_later[name][0] > pos:
                _, j, at = joins_later[name]
                message = (f'server "{name}" does not exist yet at {fmt(event.at)}: it joins at '
                           f"{fmt(at)} (events[{j}])")
            else:
                message = unknown_server(name, known)
            issues.append((("events", i, *subpath), message, False))
        if event.kind == "join":
            spec = event.join
            assert spec is not None
            if spec.name not in known:  # whether it may join again is the lifecycle check's
                known.append(spec.name)
            if not cluster.enterprise:
                for key in ("redundancy_zone", "upgrade_version", "non_voting"):
                    if getattr(spec, key):
                        issues.append((("events", i, "join", key),
                                       f"{key} is an Enterprise feature; set cluster.enterprise: true", False))
    return issues


def _bootstrap(cluster: ClusterSpec, events: Sequence[tuple[int, Event]]) -> list[Issue]:
    voting = sum(1 for s in cluster.servers if not s.non_voting)
    joining = sum(1 for _, e in events if e.join is not None and not e.join.non_voting)
    expect = cluster.bootstrap_expect or voting
    if expect <= voting + joining:
        return []
    return [(("cluster", "bootstrap_expect"),
             f"bootstrap_expect is {expect} but the scenario only ever has {voting + joining} voting "
             "server(s); Raft would never bootstrap", False)]


def _expectation_names(ever: list[str], events: Sequence[tuple[int, Event]],
                       expect: Sequence[tuple[int, Expectation]]) -> list[Issue]:
    issues: list[Issue] = []
    for i, exp in expect:
        leader = exp.leader
        if leader is not None and leader not in ("any", "none") and leader not in ever:
            issues.append((("expect", i, "leader"), unknown_server(leader, ever), False))
        for name in exp.servers:
            if name not in ever:
                issues.append((("expect", i, "servers", name), unknown_server(name, ever), True))
    return issues


def _expectation_enterprise(cluster: ClusterSpec, expect: Sequence[tuple[int, Expectation]]) -> list[Issue]:
    """Enterprise checks need Enterprise reports: refused in a community scenario."""
    if cluster.enterprise:
        return []
    issues: list[Issue] = []
    for i, exp in expect:
        for key in ENTERPRISE_CHECK_KEYS:
            if getattr(exp, key) not in (None, {}):
                issues.append((("expect", i, key), f"{key} checks an Enterprise field of the health report; "
                                                   "set cluster.enterprise: true", True))
    return issues


def _expectation_times(duration: int | None, expect: Sequence[tuple[int, Expectation]]) -> list[Issue]:
    if duration is None:
        return []
    issues: list[Issue] = []
    for i, exp in expect:
        if exp.end > duration:
            path: tuple[str | int, ...] = ("expect", i, "at") if exp.mode == "at" else ("expect", i, exp.mode, 1)
            issues.append((path, f"{fmt(exp.end)} is after the end of the scenario (duration {fmt(duration)})",
                           False))
    return issues
