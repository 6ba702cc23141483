"""Helpers for driving pure RaftNodes by hand in tests (no SimPy).

`Driven` wraps one node and keeps the timers it asked for; `Hand` is a tiny hand-operated
network of Driven nodes in the style of etcd-io/raft's interaction tests: messages pile up in
`pending` and a test delivers, drops or inspects them one by one, and fires timers explicitly.
Nothing here has its own notion of time: every call takes `now`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from autopilot_sim.durations import MILLISECOND, SECOND
from autopilot_sim.raft.messages import (
    NONVOTER,
    VOTER,
    AppendEntries,
    AppendEntriesResponse,
    Entry,
    Heartbeat,
    HeartbeatResponse,
    RequestVote,
    VoteResponse,
)
from autopilot_sim.raft.node import (
    CANDIDATE,
    FOLLOWER,
    LEADER,
    T_ELECTION,
    T_FOLLOWER,
    T_LEASE,
    RaftNode,
)
from autopilot_sim.raft.timing import RaftTiming

__all__ = [
    "CANDIDATE",
    "FOLLOWER",
    "LEADER",
    "MS",
    "T_ELECTION",
    "T_FOLLOWER",
    "T_LEASE",
    "Driven",
    "Hand",
    "Out",
    "S",
    "ae",
    "config",
    "hb",
    "pv",
    "rv",
]

MS = MILLISECOND
S = SECOND
FAR = 10**15  # an RPC deadline nobody reaches


def config(*voters: str, nonvoters: tuple[str, ...] = ()) -> tuple[tuple[str, int], ...]:
    """A configuration: voters in order, then non-voters."""
    return tuple((v, VOTER) for v in voters) + tuple((n, NONVOTER) for n in nonvoters)


_rpc = iter(range(10_000, 10**9))


def ae(term, leader, prev_index, prev_term, entries=(), commit=0, rpc=None):
    """An AppendEntries request; entries as (index, term) pairs or Entry objects."""
    built = tuple(e if isinstance(e, Entry) else Entry(e[0], e[1], "command", f"x{e[0]}.{e[1]}") for e in entries)
    return AppendEntries(rpc or next(_rpc), FAR, term, leader, prev_index, prev_term, built, commit)


def hb(term, leader, rpc=None):
    return Heartbeat(rpc or next(_rpc), FAR, term, leader)


def rv(term, cand, last_index, last_term, transfer=False, rpc=None):
    return RequestVote(rpc or next(_rpc), FAR, term, cand, last_index, last_term, transfer, False)


def pv(term, cand, last_index, last_term, rpc=None):
    return RequestVote(rpc or next(_rpc), FAR, term, cand, last_index, last_term, False, True)


@dataclass
class Out:
    """What one call into a node produced."""

    sent: list[tuple[str, object]] = field(default_factory=list)
    timers: list[tuple[object, int | None]] = field(default_factory=list)
    notes: list = field(default_factory=list)
    writes: int = 0

    def to(self, dst: str) -> list[object]:
        return [m for d, m in self.sent if d == dst]

    def one(self, dst: str | None = None, kind: type | None = None):
        """The single message sent (to dst, of kind); fails if there is not exactly one."""
        found = [m for d, m in self.sent if (dst is None or d == dst) and (kind is None or type(m) is kind)]
        assert len(found) == 1, f"expected one {kind} to {dst}, got {found}"
        return found[0]

    def of(self, kind: type) -> list[tuple[str, object]]:
        return [(d, m) for d, m in self.sent if type(m) is kind]

    def note_kinds(self) -> list[str]:
        return [n.kind for n in self.notes]


class Driven:
    """One RaftNode plus the timers it currently has armed."""

    def __init__(self, node_id: str, timing: RaftTiming | None = None, seed: int = 1) -> None:
        self.node = RaftNode(node_id, timing or RaftTiming(), random.Random(seed))
        self.timers: dict[object, int] = {}

    @property
    def id(self) -> str:
        return self.node.id

    def _collect(self) -> Out:
        n = self.node
        # Each timer the call changed, once, in its final state: (key, deadline or None).
        requests = [timer.request() for timer in dict.fromkeys(n.timer_requests)]
        out = Out(list(n.outbox), requests, list(n.notes), n.writes)
        for key, deadline in requests:
            if deadline is None:
                self.timers.pop(key, None)
            else:
                self.timers[key] = deadline
        n.outbox.clear()
        n.timer_requests.clear()
        n.notes.clear()
        n.writes = 0
        return out

    def bootstrap(self, servers, now: int = 0) -> Out:
        self.node.bootstrap(servers, now)
        return self._collect()

    def start(self, now: int = 0) -> Out:
        self.node.start(now)
        return self._collect()

    def recv(self, src: str, msg: object, now: int) -> Out:
        self.node.on_message(src, msg, now)
        return self._collect()

    def fire(self, key: object, now: int | None = None) -> Out:
        """Fire an armed timer (at its deadline unless `now` is given)."""
        when = self.timers.pop(key) if now is None else now
        if now is not None:
            self.timers.pop(key, None)
        self.node.on_timer(key, when)
        return self._collect()

    def call(self, fn, *args) -> Out:
        """Call any node method (propose, change_configuration, ...) and collect its outputs."""
        self.result = fn(*args)
        return self._collect()


class Hand:
    """A hand-operated network of pure nodes. Messages wait in `pending` until delivered.

    Dropped messages simply vanish: unlike the engine, the harness never turns a loss into an
    RpcError, so a dropped request leaves its caller waiting (tests deliver RpcErrors by hand
    when they need them)."""

    def __init__(self, voters: list[str], nonvoters: list[str] = (), timing: RaftTiming | None = None,
                 fresh: list[str] = ()) -> None:
        self.timing = timing or RaftTiming()
        self.now = 0
        self.nodes: dict[str, Driven] = {}
        conf = config(*voters, nonvoters=tuple(nonvoters))
        for i, name in enumerate(list(voters) + list(nonvoters) + list(fresh)):
            d = Driven(name, self.timing, seed=i + 1)
            if name not in fresh:
                d.bootstrap(conf, 0)
            d.start(0)
            self.nodes[name] = d
        self.pending: list[tuple[str, str, object]] = []
        self.down: set[str] = set()

    def __getitem__(self, name: str) -> RaftNode:
        return self.nodes[name].node

    def _queue(self, src: str, out: Out) -> Out:
        for dst, msg in out.sent:
            self.pending.append((src, dst, msg))
        return out

    def fire(self, name: str, key: object, now: int | None = None) -> Out:
        """Fire a node's timer at `now`, or at its deadline (moving the clock forward to it); the
        harness clock never goes backwards."""
        when = self.nodes[name].timers[key] if now is None else now
        self.now = max(self.now, when)
        return self._queue(name, self.nodes[name].fire(key, self.now))

    def call(self, name: str, method: str, *args) -> Out:
        d = self.nodes[name]
        return self._queue(name, d.call(getattr(d.node, method), *args, self.now))

    def deliver(self, where=lambda src, dst, msg: True, drop=lambda src, dst, msg: False,
                rounds: int = 1000) -> int:
        """Deliver matching pending messages until none match (drop those `drop` selects).

        Messages to or from a node in `down` are dropped. Returns how many were delivered.
        """
        delivered = 0
        for _ in range(rounds):
            picked = None
            for i, (src, dst, msg) in enumerate(self.pending):
                if src in self.down or dst in self.down or drop(src, dst, msg):
                    picked = (i, False)
                    break
                if where(src, dst, msg):
                    picked = (i, True)
                    break
            if picked is None:
                return delivered
            i, live = picked
            src, dst, msg = self.pending.pop(i)
            if live:
                delivered += 1
                self._queue(dst, self.nodes[dst].recv(src, msg, self.now))
        raise AssertionError("messages kept flowing")

    def drop_all(self) -> None:
        self.pending.clear()

    def elect(self, name: str, now: int | None = None, among: set[str] | None = None) -> None:
        """Make `name` leader: fire its follower check (after the others lost their leader) and
        its election timer until it wins. Only vote traffic among `among` (default: all up) is
        delivered; replication messages stay pending (see `replicate`); others are dropped."""
        if now is not None:
            self.now = max(self.now, now)
        group = among or (set(self.nodes) - self.down)

        def inside(src, dst, msg):
            return src in group and dst in group and isinstance(msg, (RequestVote, VoteResponse))

        def outside(src, dst, msg):
            return not (src in group and dst in group)

        for other in group - {name}:
            self[other].leader = None  # as if their own heartbeat checks had failed
        node = self[name]
        if node.role == FOLLOWER:
            node.last_contact = None
            self.fire(name, T_FOLLOWER, self.now)
        for _ in range(20):
            self.deliver(inside, drop=outside)
            if node.role == LEADER:
                return
            self.now += 2 * self.timing.election_timeout
            self.fire(name, T_ELECTION, self.now)
        raise AssertionError(f"{name} could not win an election")

    def replicate(self, among: set[str] | None = None) -> None:
        """Deliver everything pending among `among` (default: all up) and fire every
        leader's per-follower CommitTimeout timers a few times, until quiet. Messages that
        leave the group stay pending (their RPCs are still outstanding)."""
        group = among or (set(self.nodes) - self.down)

        def inside(src, dst, msg):
            return src in group and dst in group

        for _ in range(10):
            self.deliver(inside)
            for name in group:
                d = self.nodes[name]
                if d.node.role == LEADER:
                    for key in [k for k in d.timers if isinstance(k, tuple) and k[0] == "ct"]:
                        if key[1] in group:
                            self._queue(name, d.fire(key, self.now))
        self.deliver(inside)

    def crash(self, name: str) -> None:
        self.nodes[name].node.crash()
        self.nodes[name].timers.clear()
        self.down.add(name)
        self.pending = [p for p in self.pending if p[0] != name and p[1] != name]

    def restart(self, name: str) -> None:
        self.down.discard(name)
        d = self.nodes[name]
        d.node.restart(self.now)
        d._collect()


def log_terms(node: RaftNode) -> list[int]:
    """Terms of the log entries from index 1 on."""
    return [e.term for e in node.log[1:]]


def messages(pending, kind: type, src: str | None = None, dst: str | None = None):
    return [m for s, d, m in pending if type(m) is kind and (src is None or s == src) and (dst is None or d == dst)]


__all__ += [
    "NONVOTER",
    "VOTER",
    "AppendEntries",
    "AppendEntriesResponse",
    "Entry",
    "Heartbeat",
    "HeartbeatResponse",
    "RequestVote",
    "VoteResponse",
    "log_terms",
    "messages",
]
