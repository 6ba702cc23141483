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
* ``absent``  — named by a ``join`` that has not happened yet;
* ``stopped`` — down for a while and coming back by itself: a step of a ``rolling_restart``, or
  an ``upgrade`` with ``down_for``. Nothing else may start it (restart, join) or need it running
  (crash, pause, leave, upgrade) in that window: those are errors that name the step.

The walk follows time, not the file: the events sorted stably by ``at`` (the caller passes them
so), and the deferred halves of the events that take a server down for a while — a rolling
restart's later steps, every step's start, an upgrade's start after ``down_for`` — in the order
the engine runs them: after the scenario's own events of the same instant, in the order they
were scheduled (see `rolling`). A rolling restart whose order is chosen by the run
(``leader-last``, ``followers-first``, or ``servers: all`` when who is running is uncertain) may
have any of its servers down from its first step to its last start: those servers *may* be
stopped then, and an event that needs one of them running is a note.

What it requires:

=================  =========================================================================
crash, pause,      the server is running
leave, upgrade
restart            the server crashed or left (a running one cannot be restarted)
rolling_restart    each server of a step is running when its step stops it (as-listed, checked
                   per step), or when the event fires (an order chosen by the run); at least one
                   server; every step stops its server before the end of the scenario; steps may
                   overlap (``down_for`` > ``interval``): a note says how many servers are down
                   at once
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

import heapq
from collections.abc import Callable, Sequence
from functools import partial

from autopilot_sim.durations import format_duration as fmt
from autopilot_sim.scenario.cluster import ClusterSpec
from autopilot_sim.scenario.events import Event
from autopilot_sim.scenario.rolling import RollingRestartSpec, Step, plan_steps
from autopilot_sim.scenario.types import canonical_target, parse_target

#: (path from the scenario root, message, point at the key rather than the value)
Issue = tuple[tuple[str | int, ...], str, bool]

UP, CRASHED, LEFT, ABSENT, STOPPED = "up", "crashed", "left", "absent", "stopped"
_NEEDS_UP = ("crash", "pause", "leave", "upgrade")


class _Walk:
    def __init__(self, cluster: ClusterSpec, events: Sequence[tuple[int, Event]],
                 duration: int | None = None) -> None:
        self.duration = duration
        #: deferred halves of events: (time, scheduling order, action)
        self.pending: list[tuple[int, int, Callable[[], None]]] = []
        self.seq = 0
        self.states: dict[str, set[str]] = {name: {UP} for name in cluster.server_names}
        for _, event in events:
            if event.join is not None:
                self.states.setdefault(event.join.name, {ABSENT})
        #: every server in the scenario's order (cluster.servers, then joins): servers: all's order
        self.order = list(self.states)
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

    def defer(self, when: int, action: Callable[[], None]) -> None:
        """Run ``action`` at ``when``, after the file's events of that instant (engine order)."""
        self.seq += 1
        heapq.heappush(self.pending, (when, self.seq, action))

    def run_deferred(self, before: int | None) -> None:
        """Run the deferred actions due before ``before`` (all of them for None)."""
        while self.pending and (before is None or self.pending[0][0] < before):
            heapq.heappop(self.pending)[2]()


def lifecycle_issues(cluster: ClusterSpec, events: Sequence[tuple[int, Event]],
                     duration: int | None = None) -> tuple[list[Issue], list[Issue]]:
    """``(errors, notes)`` for the events (with their indexes in the file), in time order (sorted
    stably by ``at``): errors for what no run can do, notes for what only the run can tell (see
    the module docstring). ``duration``: the scenario's, to refuse steps after its end."""
    walk = _Walk(cluster, events, duration)
    for i, event in events:
        walk.run_deferred(event.at)
        _step(walk, i, event)
    walk.run_deferred(None)
    return walk.issues, walk.notes


def _step(walk: _Walk, i: int, event: Event) -> None:
    kind, at = event.kind, fmt(event.at)
    if kind == "join":
        _join(walk, i, event)
        return
    if kind == "rolling_restart":
        _rolling(walk, i, event)
        return
    target = event.target
    if target is None:  # partition, cut, heal, set_network: roles are resolved when they fire
        for where, text in event.references():
            if parse_target(text).is_role:
                _role_note(walk, i, event, (*where,), text)
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
        _needs_up(walk, path, name, at, kind)
        if kind == "crash":
            walk.set(name, CRASHED, i, f"crash at {at}")
        elif kind == "leave":
            walk.set(name, LEFT, i, f"leave at {at}")
        elif kind == "upgrade" and event.upgrade is not None and event.upgrade.down_for is not None:
            back = event.at + event.upgrade.down_for
            walk.set(name, STOPPED, i, f"upgrade at {at}, down until {fmt(back)}")
            walk.defer(back, partial(_back_up, walk, name, i, f"upgrade done at {fmt(back)}"))
    elif kind == "restart":
        if states == {UP}:
            walk.issues.append((path, f"{name} is running at {at}; restart starts a server that crashed "
                                      f"or left: crash it first", False))
        elif states == {STOPPED}:
            walk.issues.append((path, f"{name} is down for a while at {at}{walk.why(name)} and starts again "
                                      "by itself; restart is for a server that crashed or left", False))
        elif UP in states or ABSENT in states or STOPPED in states:
            walk.notes.append((path, f"checked at run time: {name} may be running at {at} "
                                     f"(an earlier event aimed at a role may not have hit it)", False))
        walk.set(name, UP, i, f"restart at {at}")
    # force_leave: no requirement, and the process (if any) keeps running or stays down


def _needs_up(walk: _Walk, path: tuple[str | int, ...], name: str, at: str, what: str) -> bool:
    """Error (False) when ``name`` cannot be running, note when it may not be; True when it may."""
    states = walk.states[name]
    if UP not in states:
        walk.issues.append((path, f"{name} is not running at {at}: it {_state_words(states)}"
                                  f"{walk.why(name)}; {what} needs a running server", False))
        return False
    if states != {UP}:
        reason = ("a rolling restart whose order the run chooses may have it down then" if STOPPED in states
                  else "an earlier event aimed at a role may have taken it down")
        walk.notes.append((path, f"checked at run time: {name} may not be running at {at} ({reason})", False))
    return True


def _rolling(walk: _Walk, i: int, event: Event) -> None:
    """A rolling restart: its steps, exactly when the order is static, else as a window in which
    any of its servers may be down (module docstring)."""
    spec = event.rolling_restart
    assert spec is not None
    base: tuple[str | int, ...] = ("events", i, "rolling_restart")
    at = fmt(event.at)
    names = spec.names
    if names is None:
        servers = [n for n in walk.order if UP in walk.states[n]]
        certain = all(walk.states[n] == {UP} for n in servers)
        if not servers:
            walk.issues.append(((*base, "servers"), f"no server is running at {at}: servers: all restarts the "
                                                    "servers running when the rolling restart starts", False))
            return
    else:
        servers = [n for n in names if n in walk.states and walk.states[n] != {ABSENT}]
        if len(servers) < len(names):
            return  # an unknown name, or one that joins later: reported by the name checks
        certain = True
    steps = plan_steps(spec, event.at, servers)
    _rolling_bounds(walk, base, spec, steps, certain)
    if spec.static and certain:
        for k, step in enumerate(steps):
            down = partial(_rolling_down, walk, i, base, spec, step)
            if k == 0:
                down()
            else:
                walk.defer(step.down_at, down)
            walk.defer(step.up_at, partial(_rolling_up, walk, i, step))
        return
    # The run chooses the order: each server must be running now; any may be down until the end.
    if names is not None:  # (all means the servers running then: nothing to require of them)
        for j, name in enumerate(servers):
            _needs_up(walk, (*base, "servers", j), name, at, "a rolling restart")
    elif not certain:
        walk.notes.append(((*base, "servers"), f"checked at run time: which servers are running at {at} (so "
                                               "which servers all means) depends on an earlier event aimed at "
                                               "a role", False))
    for name in servers:
        walk.states[name] |= {STOPPED}
        walk.cause.setdefault(name, (i, f"rolling restart at {at}"))

    def done() -> None:
        for name in servers:
            states = walk.states[name]
            if STOPPED in states:
                states.discard(STOPPED)
                states.add(UP)

    walk.defer(steps[-1].up_at, done)


def _rolling_bounds(walk: _Walk, base: tuple[str | int, ...], spec: RollingRestartSpec, steps: list[Step],
                    certain: bool) -> None:
    """Steps after the end of the scenario are refused; overlapping steps get a note."""
    last = steps[-1]
    if certain and walk.duration is not None and last.down_at > walk.duration:
        walk.issues.append(((*base, "interval"), f"the last of {len(steps)} steps would stop its server at "
                                                 f"{fmt(last.down_at)}, after the end of the scenario (duration "
                                                 f"{fmt(walk.duration)}): at most "
                                                 f"{fmt((walk.duration - steps[0].down_at) // max(1, len(steps) - 1))}"
                                                 " between steps fits, or make the scenario longer", False))
    if spec.down_for > spec.interval and len(steps) > 1:
        at_once = min(len(steps), -(-spec.down_for // spec.interval))
        walk.notes.append(((*base, "down_for"), f"steps overlap: down_for {fmt(spec.down_for)} is longer than "
                                                f"interval {fmt(spec.interval)}, so up to {at_once} servers are "
                                                "down at once (allowed: it is what this run shows)", False))


def _rolling_down(walk: _Walk, i: int, base: tuple[str | int, ...], spec: RollingRestartSpec, step: Step) -> None:
    assert step.server is not None
    name = step.server
    names = spec.names
    path = (*base, "servers", names.index(name)) if names is not None else (*base, "servers")
    if _needs_up(walk, path, name, fmt(step.down_at), f"rolling restart step {step.label}"):
        walk.set(name, STOPPED, i, f"rolling restart step {step.label}, down {fmt(step.down_at)} to {fmt(step.up_at)}")


def _rolling_up(walk: _Walk, i: int, step: Step) -> None:
    assert step.server is not None
    _back_up(walk, step.server, i, f"rolling restart step {step.label} done at {fmt(step.up_at)}")


def _back_up(walk: _Walk, name: str, i: int, what: str) -> None:
    """A stopped server starts again by itself (unless an error already said otherwise)."""
    if walk.states[name] == {STOPPED}:
        walk.set(name, UP, i, what)


def _join(walk: _Walk, i: int, event: Event) -> None:
    spec = event.join
    assert spec is not None
    name, at = spec.name, fmt(event.at)
    states = walk.states.get(name, {ABSENT})
    path = ("events", i, "join", "name")
    if states <= {ABSENT, LEFT}:
        pass
    elif not states & {ABSENT, LEFT}:
        if states == {STOPPED}:
            walk.issues.append((path, f'server "{name}" is down for a while at {at}{walk.why(name)} and starts '
                                      "again by itself, still a member: join a new server under a new name", False))
        elif CRASHED in states and UP not in states:
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
    if states == {STOPPED}:
        return "is down for a while"
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
    elif kind == "upgrade" and event.upgrade is not None and event.upgrade.down_for is not None:
        for name in running:
            walk.states[name] |= {STOPPED}

        def back() -> None:
            for name in running:
                if STOPPED in walk.states[name]:
                    walk.states[name] = (walk.states[name] - {STOPPED}) | {UP}

        walk.defer(event.at + event.upgrade.down_for, back)
