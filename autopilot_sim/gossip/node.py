"""`GossipNode`: one server's serf agent (serf member table, intents, events) over memberlist.

Pure and deterministic: the engine feeds inputs (`start`, `on_message`, `on_timer`, `leave`,
`force_leave`, `crash`) with the current time; the node answers by appending to three lists
the engine drains after every call:

* `outbox` — `(destination name, message)`; see `messages.py` for datagram vs stream.
* `timer_requests` — the `Timer`s (autopilot_sim/timer.py) the call armed, re-armed (re-arming
  a key replaces its deadline) or disarmed. The engine calls `on_timer(key, now)` at the deadline.
* `events` — `SerfEvent`s, what serf puts on Nomad's EventCh (member-join, member-leave,
  member-failed, member-update, member-reap). Suspect never shows: it is memberlist-internal.

Serf behaviour follows hashicorp/serf `serf/serf.go` and `serf/delegate.go`
(docs/behaviour/gossip.md §4): statuses alive / leaving / left / failed; leave intents (graceful
leave, force-leave, prune) and join intents ordered by a Lamport clock; intents about unknown members buffered for
`recent_intent_timeout`; reaping of failed members after `reconnect_timeout` and of left ones
after `tombstone_timeout`, checked every `reap_interval`; reconnect attempts to failed members
every `reconnect_interval`; serf's part of push/pull (left members, status Lamport times).

Why one module of ~630 lines: it is serf's one `Serf` struct (member table, intents, Lamport
clocks, reaping) and memberlist's delegate callbacks into it; they update the same member
records in one order, as `serf.go` and `delegate.go` do. Memberlist itself is `memberlist.py`.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass

from autopilot_sim.gossip.config import GossipConfig, retransmit_limit
from autopilot_sim.gossip.memberlist import Memberlist, NodeState, TimerKey
from autopilot_sim.gossip.messages import (
    Broadcast,
    JoinIntent,
    LeaveIntent,
    Packet,
    Part,
    PushPull,
    SerfPushPull,
    Tags,
    TcpAck,
    TcpPing,
)
from autopilot_sim.gossip.queue import BroadcastQueue
from autopilot_sim.timer import Timer

# serf member statuses (MemberStatus.String())
STATUS_ALIVE = "alive"
STATUS_LEAVING = "leaving"
STATUS_LEFT = "left"
STATUS_FAILED = "failed"

# serf event types (EventType.String())
MEMBER_JOIN = "member-join"
MEMBER_LEAVE = "member-leave"
MEMBER_FAILED = "member-failed"
MEMBER_UPDATE = "member-update"
MEMBER_REAP = "member-reap"

_REAP_TICK = ("serf.reap",)
_RECONNECT_TICK = ("serf.reconnect",)
_JOIN_RETRY = ("serf.join_retry",)


@dataclass(frozen=True, slots=True)
class SerfEvent:
    """One serf member event as Nomad's serfEventHandler receives it.

    `status` is the member's serf status right after the event (for member-reap: the status it
    had when erased). `tags` are the member's serf tags (memberlist metadata).
    """

    type: str
    name: str
    time: int
    status: str
    tags: Tags = ()

    def tag(self, key: str, default: str | None = None) -> str | None:
        for k, v in self.tags:
            if k == key:
                return v
        return default


@dataclass(frozen=True, slots=True)
class MemberInfo:
    """Everything this node knows about one member, for engines, tests and traces.

    serf side: `status`, `tags`, `status_ltime` (Lamport time of its last intent),
    `leave_time` (ns when it turned failed or left, None otherwise). memberlist side (None once
    memberlist has forgotten the node, 60 s after it died/left): `state` ("alive", "suspect",
    "dead", "left"), `incarnation`, `state_change` (ns).
    """

    name: str
    status: str
    tags: Tags
    status_ltime: int
    leave_time: int | None
    state: str | None
    incarnation: int | None
    state_change: int | None


class _Member:
    __slots__ = ("leave_time", "name", "status", "status_ltime", "tags")

    def __init__(self, name: str, status: str, status_ltime: int, tags: Tags) -> None:
        self.name = name
        self.status = status
        self.status_ltime = status_ltime
        self.leave_time: int | None = None
        self.tags = tags


class _JoinAttempt:
    """One serf Join over several seeds: done when every seed answered or timed out."""

    __slots__ = ("ok", "pending", "retry", "seeds")

    def __init__(self, seeds: tuple[str, ...], retry: bool) -> None:
        self.pending = len(seeds)
        self.ok = 0
        self.seeds = seeds
        self.retry = retry


class GossipNode:
    """A Nomad server's gossip agent: serf on memberlist, driven by the engine.

    `tags` are the serf tags (Nomad: role, region, id, port, build, ...); they are fixed for the
    life of the process, as in Nomad. All randomness comes from `rng`.
    """

    def __init__(self, name: str, config: GossipConfig, rng: random.Random, *,
                 tags: Mapping[str, str] | None = None) -> None:
        self.name = name
        self.config = config
        self.rng = rng
        self.outbox: list[tuple[str, object]] = []
        self.timer_requests: list[Timer] = []
        self.events: list[SerfEvent] = []
        #: True once a graceful leave has run to its end (serf state "left"); Nomad's agent
        #: then shuts the process down, which the engine models with `crash()`.
        self.leave_finished = False
        self._now = 0
        self._armed: dict[Hashable, int] = {}  # key -> the deadline asked for
        self._timers: dict[Hashable, Timer] = {}  # key -> its Timer, while armed
        self._started = False
        self._crashed = False
        self._tags: Tags = tuple(sorted((tags or {}).items()))
        self._state = STATUS_ALIVE  # serf's own state: alive, leaving, left, shutdown
        self._clock = 0  # serf Lamport clock
        self._members: dict[str, _Member] = {}
        self._failed: list[_Member] = []
        self._left: list[_Member] = []
        self._intents: dict[str, tuple[str, int, int]] = {}  # name -> (kind, ltime, wall ns)
        self._queue: BroadcastQueue[Broadcast] = BroadcastQueue()
        self._deferred: list[Callable[[], None]] = []
        self._leave_stage: str | None = None
        self._retry_seeds: tuple[str, ...] = ()
        self._ml = Memberlist(self, name, config, rng, self._tags)
        self._timer_handlers: dict[str, Callable[[TimerKey], None]] = {
            "serf.reap": self._on_reap_tick,
            "serf.reconnect": self._on_reconnect_tick,
            "serf.leave": self._on_leave_timer,
            "serf.prune": self._on_prune_timer,
            "serf.join_retry": self._on_join_retry,
        }

    # ================================================================== public API

    def start(self, now: int, join: Iterable[str] = ()) -> None:
        """Process start: create serf + memberlist (we become alive at incarnation 1, and serf
        emits member-join for ourselves), then join the given names by push/pull.

        Our own name in `join` is skipped (memberlist would "join" itself and call that a
        success, which would stop the agent's retry_join). If no seed answers within
        `tcp_timeout`, the join is retried every `join_retry_interval` (Nomad retry_join).
        """
        if self._started:
            raise RuntimeError(f"gossip node {self.name!r} already started")
        self._started = True
        self._now = now
        self._clock = 1  # serf.Create increments its clock once
        self._ml.create(now)
        self._arm(_REAP_TICK, now + self.config.reap_interval)
        self._arm(_RECONNECT_TICK, now + self.config.reconnect_interval)
        self._join(join, retry=True)
        self._flush()

    def join(self, names: Iterable[str], now: int) -> None:
        """An extra serf Join (e.g. `nomad server join`); not retried on failure."""
        if not self._live(now):
            return
        if self._state == STATUS_ALIVE:
            self._join(names, retry=False)
        self._flush()

    def on_message(self, src: str, msg: object, now: int) -> None:
        """Deliver one message from `src` (datagram or stream)."""
        if not self._live(now):
            return
        if isinstance(msg, Packet):
            self._ml.handle_packet(src, msg)
        elif isinstance(msg, PushPull):
            self._ml.handle_push_pull(src, msg)
        elif isinstance(msg, TcpPing):
            self._ml.handle_tcp_ping(src, msg)
        elif isinstance(msg, TcpAck):
            self._ml.handle_tcp_ack(msg)
        else:
            raise TypeError(f"not a gossip message: {msg!r}")
        self._flush()

    def on_timer(self, key: Hashable, now: int) -> None:
        """A timer armed through `timer_requests` is due. Stale or unknown keys are ignored."""
        if not self._live(now):
            return
        due = self._armed.get(key)
        if due is None or due > now:
            return  # cancelled, or an older arming the engine failed to replace
        del self._armed[key]
        self._timers.pop(key, None)
        assert isinstance(key, tuple)
        if self._ml.handles(key):
            self._ml.on_timer(key, now)
        else:
            self._timer_handlers[key[0]](key)
        self._flush()

    def leave(self, now: int) -> None:
        """Graceful leave (serf Leave): leave intent, then memberlist "dead from self", then
        `leave_propagate_delay`; others see leaving (no event) then left (member-leave).

        Each broadcast wait ends when the broadcast has used its transmit budget or after
        `broadcast_timeout`. The node keeps answering probes until the engine calls `crash()`.
        """
        if not self._live(now):
            return
        if self._state != STATUS_ALIVE:
            return  # serf: already left (no-op) or leave in progress (error)
        self._state = STATUS_LEAVING
        msg = LeaveIntent(self.name, self._clock)
        self._clock += 1
        self._handle_leave_intent(msg)
        if self._has_alive_members():
            self._leave_stage = "intent"
            self._queue.queue(msg, notify=self._leave_intent_sent)
            self._arm(("serf.leave", "intent"), now + self.config.broadcast_timeout)
        else:
            self._leave_memberlist()
        self._flush()

    def force_leave(self, name: str, now: int, prune: bool = False) -> None:
        """serf RemoveFailedNode / RemoveFailedNodePrune on this node.

        The intent is applied here at once (failed -> left emits member-leave now; alive ->
        leaving, which a live target refutes), then gossiped. `prune` also erases the member
        (member-reap), after broadcast_timeout + leave_propagate_delay if it was leaving.
        """
        if not self._live(now):
            return
        msg = LeaveIntent(name, self._clock, prune)
        self._clock += 1
        self._handle_leave_intent(msg)
        if self._has_alive_members():
            self._queue.queue(msg)
        self._flush()

    def crash(self) -> None:
        """The process dies: it stops handling anything and cancels its timers.

        Nothing is announced. A restart is a new `GossipNode` with the same name (incarnation
        starts again at 1; it wins by refuting the stale state it finds at join).
        """
        if self._crashed:
            return
        self._crashed = True
        self._state = "shutdown"
        for timer in self._timers.values():
            self.timer_requests.append(timer.disarm())
        self._armed.clear()
        self._timers.clear()
        self._queue.clear()
        self._ml.queue.clear()
        self._deferred.clear()

    def members(self) -> dict[str, str]:
        """This node's serf view (self included): name -> alive | leaving | left | failed."""
        return {name: m.status for name, m in self._members.items()}

    def tags_of(self, name: str) -> Tags | None:
        """The serf tags `name` gossips (an immutable tuple of pairs), or None if serf does not know it."""
        m = self._members.get(name)
        return m.tags if m is not None else None

    def member_info(self, name: str) -> MemberInfo | None:
        """Serf and memberlist details about `name`, or None if serf does not know it."""
        m = self._members.get(name)
        if m is None:
            return None
        ns = self._ml.node_map.get(name)
        return MemberInfo(
            name=name, status=m.status, tags=m.tags, status_ltime=m.status_ltime,
            leave_time=m.leave_time,
            state=ns.state if ns else None,
            incarnation=ns.incarnation if ns else None,
            state_change=ns.state_change if ns else None,
        )

    @property
    def incarnation(self) -> int:
        """Our own memberlist incarnation (1 after start; each refutation raises it)."""
        return self._ml.incarnation

    @property
    def health_score(self) -> int:
        """Lifeguard local health (0 = healthy); probe deadlines scale by (score + 1)."""
        return self._ml.health

    @property
    def serf_state(self) -> str:
        """serf's own state: "alive", "leaving", "left" or "shutdown" (after crash)."""
        return self._state

    @property
    def crashed(self) -> bool:
        return self._crashed

    # ================================================================== host services

    def _live(self, now: int) -> bool:
        if self._crashed or not self._started:
            return False
        self._now = now
        return True

    def _send(self, dest: str, msg: object) -> None:
        self.outbox.append((dest, msg))

    def _arm(self, key: Hashable, at: int) -> None:
        self._armed[key] = at
        timer = self._timers.get(key)
        if timer is None:
            timer = self._timers[key] = Timer(key)
        self.timer_requests.append(timer.arm(at))

    def _cancel(self, key: Hashable) -> None:
        if self._armed.pop(key, None) is not None:
            self.timer_requests.append(self._timers.pop(key).disarm())

    def _emit(self, kind: str, member: _Member) -> None:
        self.events.append(SerfEvent(kind, member.name, self._now, member.status, member.tags))

    def _flush(self) -> None:
        """End of an input: run broadcast-finished notifications and deferred work, then make
        sure the gossip ticker runs while anything is queued."""
        ml_queue = self._ml.queue
        while self._deferred or ml_queue.finished or self._queue.finished:
            work = ml_queue.finished + self._queue.finished + self._deferred
            ml_queue.finished.clear()
            self._queue.finished.clear()
            self._deferred.clear()
            for fn in work:
                if self._crashed:
                    return
                fn()
        if len(ml_queue) or len(self._queue):
            self._ml.ensure_gossip_tick(self._now)

    # ================================================================== memberlist delegate

    def _serf_take_broadcasts(self) -> list[Broadcast]:
        if not len(self._queue):
            return []
        return self._queue.take(retransmit_limit(self.config.retransmit_mult, len(self._members)))

    def _serf_notify_msg(self, part: Part) -> None:
        """serf delegate NotifyMsg: handle an intent; re-broadcast it if it was news."""
        if isinstance(part, LeaveIntent):
            rebroadcast = self._handle_leave_intent(part)
        elif isinstance(part, JoinIntent):
            rebroadcast = self._handle_join_intent(part)
        else:
            raise TypeError(f"not a gossip message part: {part!r}")
        if rebroadcast:
            self._queue.queue(part)

    def _serf_local_state(self) -> SerfPushPull:
        return SerfPushPull(
            self._clock,
            tuple((name, m.status_ltime) for name, m in self._members.items()),
            tuple(m.name for m in self._left),
        )

    def _serf_merge_remote_state(self, pp: SerfPushPull) -> None:
        """serf delegate MergeRemoteState: left members as leave intents, others as joins."""
        if pp.ltime > 0:
            self._witness(pp.ltime - 1)
        ltimes = dict(pp.status_ltimes)
        left = set(pp.left_members)
        for name in pp.left_members:
            self._handle_leave_intent(LeaveIntent(name, ltimes.get(name, 0) + 1))
        for name, ltime in pp.status_ltimes:
            if name not in left:
                self._handle_join_intent(JoinIntent(name, ltime))

    def _ml_notify_join(self, node: NodeState) -> None:
        """serf handleNodeJoin: a new member, or dead/left -> alive in memberlist."""
        member = self._members.get(node.name)
        if member is None:
            member = _Member(node.name, STATUS_ALIVE, 0, node.meta)
            intent = self._intents.get(node.name)
            if intent is not None:
                member.status_ltime = intent[1]
                if intent[0] == "leave":
                    member.status = STATUS_LEAVING
            self._members[node.name] = member
        else:
            if member.status in (STATUS_FAILED, STATUS_LEFT):
                self._drop_from_lists(member)
            member.status = STATUS_ALIVE
            member.leave_time = None
            member.tags = node.meta
        self._emit(MEMBER_JOIN, member)

    def _ml_notify_leave(self, node: NodeState) -> None:
        """serf handleNodeLeave: memberlist says dead or left."""
        member = self._members.get(node.name)
        if member is None:
            return
        if member.status == STATUS_LEAVING:
            member.status = STATUS_LEFT
            member.leave_time = self._now
            self._left.append(member)
            self._emit(MEMBER_LEAVE, member)
        elif member.status == STATUS_ALIVE:
            member.status = STATUS_FAILED
            member.leave_time = self._now
            self._failed.append(member)
            self._emit(MEMBER_FAILED, member)

    def _ml_notify_update(self, node: NodeState) -> None:
        member = self._members.get(node.name)
        if member is None:
            return
        member.tags = node.meta
        self._emit(MEMBER_UPDATE, member)

    # ================================================================== serf intents

    def _witness(self, ltime: int) -> None:
        if ltime >= self._clock:
            self._clock = ltime + 1

    def _upsert_intent(self, name: str, kind: str, ltime: int) -> bool:
        cur = self._intents.get(name)
        if cur is None or ltime > cur[1]:
            self._intents[name] = (kind, ltime, self._now)
            return True
        return False

    def _handle_leave_intent(self, msg: LeaveIntent) -> bool:
        """serf handleNodeLeaveIntent; True if the intent should be re-broadcast."""
        state = self._state
        self._witness(msg.ltime)
        member = self._members.get(msg.node)
        if member is None:
            return self._upsert_intent(msg.node, "leave", msg.ltime)
        if msg.ltime <= member.status_ltime:
            return False
        if msg.node == self.name and state == STATUS_ALIVE:
            # Someone says we are leaving and we are not: refute with a newer join intent.
            ltime = self._clock
            self._deferred.append(lambda: self._broadcast_join(ltime))
            return False
        member.status_ltime = msg.ltime
        if member.status == STATUS_ALIVE:
            member.status = STATUS_LEAVING  # no event: Nomad keeps treating it as alive
        elif member.status == STATUS_FAILED:
            # Keeps the failure time as leave_time, as serf does (tombstone counts from it).
            member.status = STATUS_LEFT
            self._failed.remove(member)
            self._left.append(member)
            self._emit(MEMBER_LEAVE, member)
        elif member.status not in (STATUS_LEAVING, STATUS_LEFT):
            return False
        if msg.prune:
            self._handle_prune(member)
        return True

    def _handle_join_intent(self, msg: JoinIntent) -> bool:
        """serf handleNodeJoinIntent: a newer join intent cancels a leaving status."""
        self._witness(msg.ltime)
        member = self._members.get(msg.node)
        if member is None:
            return self._upsert_intent(msg.node, "join", msg.ltime)
        if msg.ltime <= member.status_ltime:
            return False
        member.status_ltime = msg.ltime
        if member.status == STATUS_LEAVING:
            member.status = STATUS_ALIVE
        return True

    def _broadcast_join(self, ltime: int) -> None:
        msg = JoinIntent(self.name, ltime)
        self._witness(ltime)
        self._handle_join_intent(msg)
        self._queue.queue(msg)

    def _has_alive_members(self) -> bool:
        me = self.name
        return any(m.status == STATUS_ALIVE and m.name != me for m in self._members.values())

    def _handle_prune(self, member: _Member) -> None:
        """serf handlePrune. serf sleeps broadcast_timeout + leave_propagate_delay *holding its
        member lock* before erasing a leaving member; we only delay the erase (we do not block
        the rest of serf for those 6 s)."""
        if member.status == STATUS_LEAVING:
            self._arm(("serf.prune", member.name),
                      self._now + self.config.broadcast_timeout + self.config.leave_propagate_delay)
        else:
            self._erase(member)

    def _on_prune_timer(self, key: TimerKey) -> None:
        member = self._members.get(key[1])
        if member is not None:
            self._erase(member)

    def _erase(self, member: _Member) -> None:
        self._drop_from_lists(member)
        if self._members.get(member.name) is member:
            del self._members[member.name]
        self._emit(MEMBER_REAP, member)

    def _drop_from_lists(self, member: _Member) -> None:
        if member in self._failed:
            self._failed.remove(member)
        if member in self._left:
            self._left.remove(member)

    # ================================================================== join, leave

    def _join(self, names: Iterable[str], retry: bool) -> None:
        seeds = tuple(dict.fromkeys(n for n in names if n != self.name))
        if not seeds:
            return
        attempt = _JoinAttempt(seeds, retry)
        for seed in seeds:
            self._ml.push_pull(seed, join=True, on_done=lambda ok: self._join_done(attempt, ok))

    def _join_done(self, attempt: _JoinAttempt, ok: bool) -> None:
        attempt.pending -= 1
        if ok:
            attempt.ok += 1
        if attempt.pending:
            return
        if attempt.ok:
            if self._state == STATUS_ALIVE:
                self._broadcast_join(self._clock)
        elif attempt.retry and self.config.join_retry_interval > 0:
            self._retry_seeds = attempt.seeds
            self._arm(_JOIN_RETRY, self._now + self.config.join_retry_interval)

    def _on_join_retry(self, key: TimerKey) -> None:
        if self._state == STATUS_ALIVE:
            self._join(self._retry_seeds, retry=True)

    def _leave_intent_sent(self) -> None:
        if self._leave_stage == "intent":
            self._cancel(("serf.leave", "intent"))
            self._leave_memberlist()

    def _leave_memberlist(self) -> None:
        self._leave_stage = "dead"
        if self._ml.leave(notify=self._leave_dead_sent):
            self._arm(("serf.leave", "dead"), self._now + self.config.broadcast_timeout)
        else:
            self._leave_propagate()

    def _leave_dead_sent(self) -> None:
        if self._leave_stage == "dead":
            self._cancel(("serf.leave", "dead"))
            self._leave_propagate()

    def _leave_propagate(self) -> None:
        # Stay up a little so we can still answer probes while the news spreads.
        self._leave_stage = "propagate"
        self._arm(("serf.leave", "propagate"), self._now + self.config.leave_propagate_delay)

    def _on_leave_timer(self, key: TimerKey) -> None:
        stage = key[1]
        if stage != self._leave_stage:
            return
        if stage == "intent":
            self._leave_memberlist()
        elif stage == "dead":
            self._leave_propagate()
        else:
            self._leave_stage = None
            self._state = STATUS_LEFT
            self.leave_finished = True

    # ================================================================== reap, reconnect

    def _on_reap_tick(self, key: TimerKey) -> None:
        now = self._now
        self._failed = self._reap(self._failed, self.config.reconnect_timeout)
        self._left = self._reap(self._left, self.config.tombstone_timeout)
        limit = self.config.recent_intent_timeout
        for name in [n for n, (_, _, wall) in self._intents.items() if now - wall > limit]:
            del self._intents[name]
        self._arm(_REAP_TICK, now + self.config.reap_interval)

    def _reap(self, members: list[_Member], timeout: int) -> list[_Member]:
        keep: list[_Member] = []
        for m in members:
            assert m.leave_time is not None
            if self._now - m.leave_time <= timeout:
                keep.append(m)
                continue
            if self._members.get(m.name) is m:
                del self._members[m.name]
            self._emit(MEMBER_REAP, m)
        return keep

    def _on_reconnect_tick(self, key: TimerKey) -> None:
        """serf reconnect: with probability failed / alive, try to join one random failed
        member; the next pass is scheduled when that attempt ends (serf's loop blocks on it)."""
        n = len(self._failed)
        if n:
            num_alive = len(self._members) - n - len(self._left)
            prob = n / (num_alive if num_alive > 0 else 1)
            if self.rng.random() <= prob:
                target = self._failed[self.rng.randrange(n)].name
                self._ml.push_pull(target, join=True, on_done=self._reconnect_done)
                return
        self._arm(_RECONNECT_TICK, self._now + self.config.reconnect_interval)

    def _reconnect_done(self, ok: bool) -> None:
        self._arm(_RECONNECT_TICK, self._now + self.config.reconnect_interval)
