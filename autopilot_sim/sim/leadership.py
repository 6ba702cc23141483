"""Who leads the cluster, and what the Raft nodes' notes turn into.

After each input to a Raft node the engine (sim/cluster.py) drains the node's typed notes
(raft/notes.py) here: `Leadership.on_notes` records them as run events (elections, leaders,
step-downs, committed configurations), feeds the safety checker, counts them and tells the note
observers (the Nomad layer, the live API). It also keeps the cluster's view of its leader — the
up server in the Leader role with the highest term — and the time spent without one.

The leader is recomputed only where it can change: when a node reports that it was elected or
stepped down as leader, and when a process crashes (a crashed leader writes no note). Time without
a leader runs from the moment there is none until the next leader is known; `account` brings it up
to date when a run stops in the middle of such a stretch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from autopilot_sim import event_kinds as kinds
from autopilot_sim.raft import notes
from autopilot_sim.raft.configuration import Configuration
from autopilot_sim.raft.roles import LEADER

if TYPE_CHECKING:
    from autopilot_sim.sim.cluster import Cluster, SimServer


class Leadership:
    """The cluster's leader, leaderless time and election counters, kept from the nodes' notes.

    One per `Cluster` (its `leadership` attribute); the cluster calls `on_notes` whenever a node
    left notes, `update` after a crash and `account` when a run stops."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        #: The current leader's name (None while there is none) and the term it leads (the last
        #: leader's term while there is none; 0 before the first).
        self.leader_name: str | None = None
        self.leader_term = 0
        #: Simulated ns without a leader so far (up to the last `account` or leader change).
        self.time_without_leader = 0
        self.elections_started = 0
        self.leaders_elected = 0
        #: How many times a (new) leader became known: the first election counts.
        self.leader_changes = 0
        # When the current leaderless stretch started (or was last accounted); None with a leader.
        # A cluster starts without one, at time 0.
        self._leaderless_since: int | None = 0

    def leader(self) -> SimServer | None:
        """The current leader's server, or None."""
        name = self.leader_name
        return self.cluster.servers[name] if name else None

    def on_notes(self, server: SimServer) -> None:
        """Take and handle every note `server`'s Raft node left, in order (each one is recorded
        and checked first, then shown to every observer)."""
        cluster = self.cluster
        node = server.node
        now = cluster.env.now
        pending = list(node.notes)
        node.notes.clear()
        for note in pending:
            if type(note) is notes.LeaderElected:
                self.leaders_elected += 1
                if cluster.safety is not None:
                    cluster.safety.on_leader(now, server.name, note.term, node.log)
                cluster.recorder.event(now, kinds.LEADER_ELECTED,
                                       f"{server.name} elected leader for term {note.term}",
                                       server=server.name, term=note.term)
                self.update()
            elif type(note) is notes.ElectionStarted:
                self.elections_started += 1
                cluster.recorder.event(now, kinds.ELECTION_STARTED,
                                       f"{server.name} started an election for term {note.term}",
                                       server=server.name, term=note.term)
            elif type(note) is notes.SteppedDown:
                if note.previous == LEADER:
                    cluster.recorder.event(now, kinds.LEADER_STEPPED_DOWN,
                                           f"{server.name} stepped down in term {note.term}: {note.reason}",
                                           server=server.name, term=note.term, reason=note.reason)
                    self.update()
            elif type(note) is notes.Truncated:
                server.seen_len = -1  # force a safety check of the rewritten suffix
                if cluster.safety is not None:
                    cluster.safety.on_truncate(now, server.name, note.removed, node.current_term)
            elif type(note) is notes.ConfigurationCommitted and node.role == LEADER:
                cluster.recorder.event(now, kinds.CONFIGURATION_COMMITTED,
                                       f"configuration at index {note.index} committed: "
                                       f"{describe_config(note.config)}",
                                       server=server.name, index=note.index, servers=config_map(note.config))
            for observer in cluster.observers:
                observer(cluster, server, note)

    def update(self) -> None:
        """Recompute the leader: the up server in the Leader role with the highest term.

        A change of leader (or of its term) counts as a leader change and ends a leaderless
        stretch; losing the leader starts one."""
        best: SimServer | None = None
        for server in self.cluster.servers.values():
            if server.up and server.node.role == LEADER and (
                    best is None or server.node.current_term > best.node.current_term):
                best = server
        name = best.name if best else None
        if name == self.leader_name and (best is None or best.node.current_term == self.leader_term):
            return
        now = self.cluster.env.now
        if name is None:
            self._leaderless_since = now
        else:
            self.account(now)
            self._leaderless_since = None
            self.leader_changes += 1
        self.leader_name = name
        self.leader_term = best.node.current_term if best else self.leader_term

    def account(self, now: int) -> None:
        """Add the leaderless time up to `now` (when there is no leader) to `time_without_leader`."""
        if self._leaderless_since is not None:
            self.time_without_leader += now - self._leaderless_since
            self._leaderless_since = now


_SUFFRAGE_NAMES = {0: "voter", 1: "non-voter", 2: "staging"}


def describe_config(config: Configuration) -> str:
    """A configuration for people: `node1 (voter), node4 (non-voter)`, or `(empty)`."""
    return ", ".join(f"{sid} ({_SUFFRAGE_NAMES.get(s, s)})" for sid, s in config) or "(empty)"


def config_map(config: Configuration) -> dict[str, str]:
    """A configuration as {server: suffrage name}, the structured twin of `describe_config`."""
    return {sid: _SUFFRAGE_NAMES.get(s, str(s)) for sid, s in config}


__all__ = ["Leadership", "config_map", "describe_config"]
