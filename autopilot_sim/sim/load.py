"""Client load: Poisson writes sent to the cluster's leader.

Clients write at `writes_per_second` on average (exponential gaps drawn from the run's "load"
stream). Each write goes to the current leader (sim/leadership.py) as one Raft Apply:
* no leader, or the leader's process is down: the write is rejected;
* the leader's main loop is blocked (the process is paused, or an fsync is in progress): the
  apply channel is not read, so the write waits in the server's `pending_writes` and joins the
  next group-commit batch of at most MaxAppendEntries + 1 entries (hashicorp/raft's leader loop
  drains the apply channel in such batches) once the loop runs again;
* otherwise the node takes it (accepted) or refuses it (rejected: not the leader any more, a
  leadership transfer in progress).

Writes carry a sequence number (every attempt takes one, accepted or not) as their data.
"""

from __future__ import annotations

from collections.abc import Callable
from random import Random
from typing import TYPE_CHECKING

from autopilot_sim.raft.timing import RaftTiming
from autopilot_sim.sim.leadership import Leadership
from autopilot_sim.sim.loop import EventLoop

if TYPE_CHECKING:
    from autopilot_sim.sim.cluster import SimServer


class ClientLoad:
    """Client writes at a changeable rate, with their accepted / rejected counts.

    One per `Cluster` (its `load` attribute). `flush(server)` is the engine's "take the node's
    outputs" step, run after a node accepted writes."""

    def __init__(self, env: EventLoop, timing: RaftTiming, rng: Random, leadership: Leadership,
                 flush: Callable[[SimServer], None]) -> None:
        self.env = env
        self.timing = timing
        self.leadership = leadership
        self.flush = flush
        self.writes_per_second = 0.0
        self.writes_accepted = 0
        self.writes_rejected = 0
        self._rng = rng
        # Bumped by every set_rate: a write scheduled under an older rate is dropped when it fires.
        self._generation = 0
        self._seq = 0

    def set_rate(self, writes_per_second: float) -> None:
        """Poisson client writes to the leader at this rate from now on (0 stops them)."""
        self.writes_per_second = float(writes_per_second)
        self._generation += 1
        if self.writes_per_second > 0:
            self._schedule(self._generation)

    def on_crash(self, server: SimServer) -> None:
        """`server`'s process died: the writes waiting for its main loop are lost (rejected)."""
        rejected = len(server.pending_writes)
        server.pending_writes.clear()
        self.writes_rejected += rejected

    def _schedule(self, generation: int) -> None:
        env = self.env
        gap = round(self._rng.expovariate(self.writes_per_second) * 1e9)
        env.push(env.now + gap, self._write, (generation,))

    def _write(self, generation: int) -> None:
        """One client write arrives (and the next one is drawn first, before anything else)."""
        if generation != self._generation:
            return
        self._schedule(generation)
        server = self.leadership.leader()
        self._seq += 1
        if server is None or not server.up:
            self.writes_rejected += 1
            return
        now = self.env.now
        if now < server.paused_until or now < server.busy_until:
            # The apply channel is not read while the leader loop is blocked: the write waits and
            # joins the next group-commit batch (at most MaxAppendEntries + 1 entries).
            if not server.pending_writes:
                self.env.push(max(server.paused_until, server.busy_until), self._flush_pending, (server,))
            server.pending_writes.append(self._seq)
            return
        if server.node.propose(self._seq, now):
            self.writes_accepted += 1
            self.flush(server)
        else:
            self.writes_rejected += 1

    def _flush_pending(self, server: SimServer) -> None:
        """The leader loop may run again: hand it the next batch of waiting writes."""
        env = self.env
        now = env.now
        if not server.pending_writes:
            return
        if now < server.paused_until or now < server.busy_until:
            env.push(max(server.paused_until, server.busy_until), self._flush_pending, (server,))
            return
        limit = self.timing.max_append_entries + 1
        batch, server.pending_writes = server.pending_writes[:limit], server.pending_writes[limit:]
        if server.up and server.node.propose_batch(batch, now):
            self.writes_accepted += len(batch)
            self.flush(server)
        else:
            self.writes_rejected += len(batch)
        if server.pending_writes:
            env.push(now, self._flush_pending, (server,))


__all__ = ["ClientLoad"]
