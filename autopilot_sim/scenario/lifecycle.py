"""The one static check of what events do to servers: up, crashed, left, not yet joined.

`validate` and `run` both load a scenario through this check, so they agree on what is legal.
It walks the events in order, keeping for every named server the set of states it *may* be in
(one state when the file says exactly; several after an event aimed at a role such as
``crash: leader``, which may hit any running server):

* ``up``      — running (a paused server is running, just stalled);
* ``crashed`` — its process died (``crash``); ``restart`` brings it back with its data;
* ``left``    — it left gracefully (``leave``) and its process exited; ``restart`` starts it
  again with its data dir, and ``join`` under the same name starts a *new* server (an empty
  data dir) — both are what a Nomad operator can do, and the leader adds it back to Raft;
* ``absent``  — named by a ``join`` that has not happened yet.

What it requires:

=================  =========================================================================
crash, pause,      the server is running
leave, upgrade
restart            the server crashed or left (a running one cannot be restarted)
join               the name is new, or the server left (a crashed server is still a member
                   of Raft under that ID — the simulator's Raft IDs are the names, where
                   Nomad's are node IDs — so it is restarted instead)
force_leave,       nothing: the operator may force-leave any member, and the network events
partition, cut,    may name any server that exists
heal, set_network
=================  =========================================================================

A state the file fixes exactly gives an error; a state that depends on who held a role when an
event fired gives a *note* ("checked at run time"), and `run` reports a failure there in the same
``file:line:col: key: message`` form. Role targets are notes too, except where no run can
satisfy them: ``follower`` in a one-server cluster, or ``follower[2]`` when at most two servers
can be running.
"""

from __future__ import annotations

from collections.abc import Sequence

from autopilot_sim.durations import format_duration as fmt
from autopilot_sim.scenario.cluster import ClusterSpec
from autopilot_sim.scenario.events import Event
from autopilot_sim.scenario.types import canonical_target, parse_target

#: (path from the scenario root, message, point at the key rather than the value)
Issue = tuple[tuple[str | int, ...], str, bool]

UP, CRASHED, LEFT, ABSENT = "up", "crashed", "left", "absent"
_NEEDS_UP = ("crash", "pause", "leave", "upgrade")


class _Walk:
    def __init__(self, cluster: ClusterSpec, events: Sequence[tuple[int, Event]]) -> None:
        self.states: dict[str, set[str]] = {name: {UP} for name in cluster.server_names}
        for _, event in events:
            if event.join is not None:
                self.states.setdefault(event.join.name, {ABSENT})
        #: name -> (event index, what happened) of the last event that changed it
        self.cause: dict[str, tuple[int, str]] = {}
        #: canonical role target of a crash -> the servers that crash may have taken down
        self.crashed_by_role: dict[str, set[str]] = {}
        self.issues: list[Issue] = []
        self.notes: list[Issue] = []

    def may_run(self) -> list[str]:
        return sorted(n for n, s in self.states.items() if UP in s)

    def members(self) -> list[str]:
        """Servers that may be in the cluster (running or crashed, not left or absent)."""
        return sorted(n for n, s in self.states.items() if s & {UP, CRASHED})

    def why(self, name: str) -> str:
        cause = self.cause.get(name)
        return f" (events[{cause[0]}] {cause[1]})" if cause else ""

    def set(self, name: str, state: str, index: int, what: str) -> None:
        self.states[name] = {state}
        self.cause[name] = (index, what)


def lifecycle_issues(cluster: ClusterSpec,
                     events: Sequence[tuple[int, Event]]) -> tuple[list[Issue], list[Issue]]:
    """``(errors, notes)`` for the events (with their indexes in the file), in order: errors for
    what no run can do, notes for what only the run can tell (see the module docstring)."""
    walk = _Walk(cluster, events)
    for i, event in events:
        _step(walk, i, event)
    return walk.issues, walk.notes


def _step(walk: _Walk, i: int, event: Event) -> None:
    kind, at = event.kind, fmt(event.at)
    if kind == "join":
        _join(walk, i, event)
        return
    target = event.target
    if target is None:  # partition, cut, heal, set_network: roles are resolved when they fire
        for subpath, ref in event.references():
            if parse_target(ref).is_role:
                _role_note(walk, i, event, (*subpath,), ref)
        return
    subpath: tuple[str | int, ...] = (kind, "server") if kind in ("pause", "upgrade") else (kind,)
    path = ("events", i, *subpath)
    ref = parse_target(target)
    if ref.is_role:
        _role_event(walk, i, event, subpath, target)
        return
    name = ref.name
    assert name is not None
    states = walk.states.get(name)
    if states is None or states == {ABSENT}:
        return  # an unknown name or one that joins later: reported by the name checks
    if kind in _NEEDS_UP:
        if UP not in states:
            walk.issues.append((path, f"{name} is not running at {at}: it {_state_words(states)}"
                                      f"{walk.why(name)}; {kind} needs a running server", False))
        elif states != {UP}:
            walk.notes.append((path, f"checked at run time: {name} may not be running at {at} "
                                     f"(an earlier event aimed at a role may have taken it down)", False))
        if kind == "crash":
            walk.set(name, CRASHED, i, f"crash at {at}")
        elif kind == "leave":
            walk.set(name, LEFT, i, f"leave at {at}")
    elif kind == "restart":
        if states == {UP}:
            walk.issues.append((path, f"{name} is running at {at}; restart starts a server that crashed "
                                      f"or left: crash it first", False))
        elif UP in states or ABSENT in states:
            walk.notes.append((path, f"checked at run time: {name} may be running at {at} "
                                     f"(an earlier event aimed at a role may not have hit it)", False))
        walk.set(name, UP, i, f"restart at {at}")
    # force_leave: no requirement, and the process (if any) keeps running or stays down


def _join(walk: _Walk, i: int, event: Event) -> None:
    spec = event.join
    assert spec is not None
    name, at = spec.name, fmt(event.at)
    states = walk.states.get(name, {ABSENT})
    path = ("events", i, "join", "name")
    if states <= {ABSENT, LEFT}:
        pass
    elif not states & {ABSENT, LEFT}:
        if CRASHED in states and UP not in states:
            walk.issues.append((path, f'server "{name}" crashed{walk.why(name)} and is still a member at {at}: '
                                      f"restart it (restart: {name}) to bring it back, or join a new server "
                                      "under a new name (the simulator names a server's Raft ID after it, so "
                                      "only a server that left frees its name)", False))
        else:
            walk.issues.append((path, f'server "{name}" is already running at {at}{walk.why(name)}; a server '
                                      "joins under a name that is new or that left (leave event)", False))
    else:
        walk.notes.append((path, f'checked at run time: server "{name}" may still be a member at {at}', False))
    walk.set(name, UP, i, f"join at {at}")


def _state_words(states: set[str]) -> str:
    if states == {CRASHED}:
        return "crashed"
    if states == {LEFT}:
        return "left the cluster"
    return "is down or gone"


def _role_note(walk: _Walk, i: int, event: Event, subpath: tuple[str | int, ...], target: str) -> None:
    path = ("events", i, *subpath)
    impossible = _impossible_role(walk, target, fmt(event.at))
    if impossible:
        walk.issues.append((path, impossible, False))
    else:
        walk.notes.append((path, f"checked at run time: target `{target}` is resolved when the event fires "
                                 f"at {fmt(event.at)}", False))


def _impossible_role(walk: _Walk, target: str, at: str) -> str | None:
    """Why no run can resolve ``target`` at that point, or None when a run may."""
    ref = parse_target(target)
    running = walk.may_run()
    if ref.role == "follower" and len(walk.members()) == 1:
        return (f"a cluster of one server has no follower at {at}: its only server is the leader "
                f"(or a candidate); name the server instead")
    if len(running) < ref.index + 1:
        have = ", ".join(running) or "none"
        return (f"{target} needs at least {ref.index + 1} running server(s) at {at}; at most "
                f"{len(running)} can be running then ({have})")
    return None


def _role_event(walk: _Walk, i: int, event: Event, subpath: tuple[str | int, ...], target: str) -> None:
    kind = event.kind
    key = canonical_target(target)
    path = ("events", i, *subpath)
    if kind == "restart":
        hit = walk.crashed_by_role.get(key)
        if hit is None:
            walk.issues.append((path, f'restart "{target}" needs an earlier `crash: {target}` to refer to '
                                      "(a crashed server has no role); or name the server", False))
            return
        for name in hit:  # the server that crash took down: nothing left for the run to check
            walk.states[name] |= {UP}
        return
    _role_note(walk, i, event, subpath, target)
    running = walk.may_run()
    if kind == "crash":
        walk.crashed_by_role[key] = set(running)
        for name in running:
            walk.states[name] |= {CRASHED}
    elif kind == "leave":
        for name in running:
            walk.states[name] |= {LEFT}
