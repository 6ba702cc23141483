"""The node's two timing models, as strategy objects chosen once from `RaftTiming`.

* `HashicorpTimers` (hashicorp/raft v1.7.3, the default): the follower's check is free-running,
  re-armed every randomTimeout(HT) and never reset by an RPC; it declares the leader lost when
  the last contact is at least HT old. Candidate rounds last randomTimeout(ET). A heartbeat
  goroutine sends one heartbeat at a time and waits randomTimeout(HT/10) after each answer.
* `PaperTimers` (the Raft paper's experiments, LogCabin-like): one election timer, reset by every
  valid contact and drawn from U[lo, hi); its firing means expiry. The leader sends a heartbeat
  every fixed `heartbeat_interval`, answered or not.

Each method is named after what happens to the node and either returns a deadline (pure: the
timing and the `random.Random` are arguments) or arms the node's timers through `node._arm`.
The models hold nothing: the node's own generator makes every draw, in the order the node
makes them, and the durations are read from `node.timing` at each use (the election-time
experiment gives its nodes new values between setup and trial; the model itself, like the
`_paper` flag it replaces, is chosen once, when the node is built). So one instance of each
serves every node, and a deep copy of a node shares it.

The commit-timeout timer (randomTimeout(CT) per replication wake-up) and the leader lease run
the same way under both models, so they stay in `replication.py` and `node.py`.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Final

from mypy_extensions import i64

from autopilot_sim.raft.roles import FOLLOWER, T_ELECTION, T_FOLLOWER
from autopilot_sim.raft.timing import RaftTiming

if TYPE_CHECKING:
    from autopilot_sim.raft.replication import Progress
    from autopilot_sim.raft.state import NodeState


def random_timeout(rng: random.Random, d: int) -> int:
    """util.go randomTimeout: d + (r mod d), uniform on [d, 2d) in integer ns (one draw).

    Go's r is rand.Int63(): the draw is 63 bits, held in an i64 (compiled: machine arithmetic
    instead of a big integer's)."""
    r: i64 = rng.getrandbits(63)
    span: i64 = d
    return d + int(r % span)


class TimingModel:
    """What a node's timers do; `HashicorpTimers` and `PaperTimers` implement it (no state)."""

    def __copy__(self) -> TimingModel:
        return self  # stateless (see the module docstring)

    def __deepcopy__(self, memo: dict[int, object]) -> TimingModel:
        return self

    def follower_deadline(self, timing: RaftTiming, rng: random.Random, now: int) -> int:
        """A follower loop starts (start, restart, step-down): when its timer first fires."""
        raise NotImplementedError

    def candidate_deadline(self, timing: RaftTiming, rng: random.Random, now: int) -> int:
        """A candidate round starts (pre-vote or vote): when it times out."""
        raise NotImplementedError

    def heartbeat_wait(self, timing: RaftTiming, rng: random.Random) -> int:
        """The pause before the next heartbeat (also added to a failed heartbeat's back-off)."""
        raise NotImplementedError

    def valid_contact(self, node: NodeState, now: int) -> None:
        """The node accepted a leader's RPC or granted a vote (`last_contact` is already `now`)."""
        raise NotImplementedError

    def follower_timer_fired(self, node: NodeState, now: int) -> bool:
        """The follower's timer fired: whether the leader now counts as lost."""
        raise NotImplementedError

    def follower_waits_again(self, node: NodeState, now: int) -> None:
        """A follower lost its leader but may not campaign (not a voter): keep waiting."""
        raise NotImplementedError

    def candidate_round_started(self, node: NodeState, now: int) -> None:
        """Arm the round's election timer."""
        raise NotImplementedError

    def heartbeat_due(self, node: NodeState, prog: Progress, now: int) -> bool:
        """The leader's heartbeat timer for `prog` fired (or its replication started): whether to
        send a heartbeat now; arms the next one when the model schedules by the clock."""
        raise NotImplementedError

    def heartbeat_answered(self, node: NodeState, prog: Progress, now: int) -> None:
        """A heartbeat to `prog`'s server was answered: schedule the next when the model waits
        for answers."""
        raise NotImplementedError


class HashicorpTimers(TimingModel):
    """hashicorp/raft's timers (see the module docstring)."""

    def follower_deadline(self, timing: RaftTiming, rng: random.Random, now: int) -> int:
        return now + random_timeout(rng, timing.heartbeat_timeout)

    def candidate_deadline(self, timing: RaftTiming, rng: random.Random, now: int) -> int:
        return now + random_timeout(rng, timing.election_timeout)

    def heartbeat_wait(self, timing: RaftTiming, rng: random.Random) -> int:
        return random_timeout(rng, timing.heartbeat_timeout // 10)  # heartbeat(): randomTimeout(HT/10)

    def valid_contact(self, node: NodeState, now: int) -> None:
        pass  # the free-running check only reads last_contact

    def follower_timer_fired(self, node: NodeState, now: int) -> bool:
        # runFollower re-arms its check at every fire, then compares the last contact with HT.
        timing = node.timing
        node._arm(T_FOLLOWER, self.follower_deadline(timing, node._rng, now))
        lc = node.last_contact
        return lc is None or now - lc >= timing.heartbeat_timeout

    def follower_waits_again(self, node: NodeState, now: int) -> None:
        pass  # follower_timer_fired has re-armed the check already

    def candidate_round_started(self, node: NodeState, now: int) -> None:
        # Remembered as under paper timing: with the paper's vote rules a candidate that steps
        # down keeps this timer running as its follower timer (RaftNode._become_follower).
        node._election_at = self.candidate_deadline(node.timing, node._rng, now)
        node._arm(T_ELECTION, node._election_at)

    def heartbeat_due(self, node: NodeState, prog: Progress, now: int) -> bool:
        return not prog.hb_rpc  # one heartbeat at a time: the next waits for this one's answer

    def heartbeat_answered(self, node: NodeState, prog: Progress, now: int) -> None:
        node._arm(prog.hb_key, now + self.heartbeat_wait(node.timing, node._rng))


def paper_election_timeout(timing: RaftTiming, rng: random.Random) -> int:
    """U[lo, hi) in integer ns; a fixed timeout (lo == hi, the paper's 150-150 ms case) draws nothing."""
    lo, hi = timing.election_timeout_range  # type: ignore[misc]  # PaperTimers: set (RaftTiming.paper)
    if hi == lo:
        return lo
    return lo + rng.getrandbits(63) % (hi - lo)


class PaperTimers(TimingModel):
    """The Raft paper's (LogCabin's) timers (see the module docstring)."""

    def follower_deadline(self, timing: RaftTiming, rng: random.Random, now: int) -> int:
        return now + paper_election_timeout(timing, rng)

    def candidate_deadline(self, timing: RaftTiming, rng: random.Random, now: int) -> int:
        return now + paper_election_timeout(timing, rng)

    def heartbeat_wait(self, timing: RaftTiming, rng: random.Random) -> int:
        return timing.heartbeat_interval  # type: ignore[return-value]  # set with the range

    def valid_contact(self, node: NodeState, now: int) -> None:
        if node.role == FOLLOWER:  # the election timer restarts
            node._arm(T_FOLLOWER, self.follower_deadline(node.timing, node._rng, now))

    def follower_timer_fired(self, node: NodeState, now: int) -> bool:
        return True  # reset on every contact, so firing means expiry

    def follower_waits_again(self, node: NodeState, now: int) -> None:
        node._arm(T_FOLLOWER, self.follower_deadline(node.timing, node._rng, now))

    def candidate_round_started(self, node: NodeState, now: int) -> None:
        # Remembered: under the paper's vote rules a candidate that steps down keeps this
        # timer running as its follower timer (RaftNode._become_follower).
        node._election_at = self.candidate_deadline(node.timing, node._rng, now)
        node._arm(T_ELECTION, node._election_at)

    def heartbeat_due(self, node: NodeState, prog: Progress, now: int) -> bool:
        node._arm(prog.hb_key, now + self.heartbeat_wait(node.timing, node._rng))
        return True  # by the clock, answered or not

    def heartbeat_answered(self, node: NodeState, prog: Progress, now: int) -> None:
        pass  # the next heartbeat is already armed


HASHICORP_TIMERS: Final = HashicorpTimers()
PAPER_TIMERS: Final = PaperTimers()


def timing_model(timing: RaftTiming) -> TimingModel:
    """The model `timing` selects: paper timing when it sets an election-timeout range."""
    return PAPER_TIMERS if timing.paper else HASHICORP_TIMERS
