"""The SWIM + Lifeguard layer (hashicorp/memberlist semantics, our own code).

Pure: no clocks, no I/O. It runs inside a `GossipNode` (its *host*), which supplies the current
time, an outbox, timers and the serf layer (memberlist's Delegate / EventDelegate). Names are
addresses: we do not model IPs, ports, protocol versions, labels, encryption or compression.

What it does, per memberlist (`state.go`, `net.go`, `suspicion.go`, `awareness.go`):

* **Probe cycle.** One ticker (period `probe_interval`); each tick probes the next node of a
  private list, walking it round-robin; self, dead and left nodes are skipped without using the
  tick, suspect nodes are probed. When the walk wraps, dead/left nodes older than
  `gossip_to_the_dead_time` are forgotten and the list is reshuffled. New nodes go in at a random
  position. A probe blocks the ticker: a tick that comes while a probe runs waits (Go keeps one
  pending tick) and starts the next probe as soon as this one ends.
* **One probe.** Ping (carrying a suspect message if the target is suspect) and wait
  `probe_timeout` (not scaled) for an ack; then ask up to `indirect_checks` random alive peers to
  ping it (they nack after their own `probe_timeout`) and try a TCP ping; the probe ends at the
  first ack, or at `started + probe_interval * (health + 1)` (Lifeguard scaling). A TCP-only
  success is accepted at that deadline. Failure makes the target suspect.
* **Lifeguard health** 0..awareness_max_multiplier-1: -1 per successful probe, + (helpers asked -
  nacks received in time) per failed probe (+1 with no helper), +1 per refutation.
* **Suspicion** with independent confirmations (k = suspicion_mult - 2, 0 when n - 2 < k):
  timer starts at max (k >= 1) or min, each new confirming prober shrinks it (log formula).
  Expiry declares the node dead.
* **Incarnations / refutation**: a node told it is suspect or dead (and not leaving) bumps its
  incarnation past the accusation and broadcasts alive; alive is accepted only with a strictly
  greater incarnation (except about a brand-new name).
* **Dissemination**: broadcasts queue in a transmit-limited queue (retransmit_mult *
  ceil(log10(n+1)) packets each) and ride on gossip packets (every `gossip_interval` to
  `gossip_nodes` random alive/suspect/recently-dead nodes) and on every ping/ack/nack/indirect
  request. Receivers re-broadcast what is new to them.
* **Push/pull** anti-entropy every `push_pull_interval` (scaled above 32 nodes) with one random
  alive node, and as the join mechanism. A remote "dead" is merged as a local suspicion.

Timers are keyed by tuples whose first element starts with "ml." (the host routes them here).

Why one module of ~670 lines: probing, suspicion, refutation and dissemination all act on the
same node table and incarnation numbers, in memberlist's `state.go` order; the transmit-limited
queue (`queue.py`) and the messages (`messages.py`) are already separate.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from autopilot_sim.gossip.config import (
    GossipConfig,
    push_pull_scale,
    remaining_suspicion_time,
    retransmit_limit,
    suspicion_timeout,
)
from autopilot_sim.gossip.messages import (
    ALIVE,
    DEAD,
    LEFT,
    SUSPECT,
    Ack,
    Alive,
    Broadcast,
    Dead,
    IndirectPing,
    Nack,
    Packet,
    Part,
    Ping,
    PushNodeState,
    PushPull,
    Suspect,
    Tags,
    TcpAck,
    TcpPing,
)
from autopilot_sim.gossip.queue import BroadcastQueue

if TYPE_CHECKING:  # pragma: no cover
    from autopilot_sim.gossip.node import GossipNode

#: Timer keys are tuples: (kind, *args); the kind names the handler.
TimerKey = tuple[Any, ...]

PROBE_TICK = ("ml.probe",)
GOSSIP_TICK = ("ml.gossip",)
PUSH_PULL_TICK = ("ml.push_pull",)


class NodeState:
    """memberlist's view of one node (`nodeState`)."""

    __slots__ = ("incarnation", "meta", "name", "state", "state_change")

    def __init__(self, name: str, incarnation: int, state: str, state_change: int,
                 meta: Tags) -> None:
        self.name = name
        self.incarnation = incarnation
        self.state = state
        self.state_change = state_change
        self.meta = meta

    @property
    def dead_or_left(self) -> bool:
        return self.state in (DEAD, LEFT)


class _Probe:
    """The one probe in flight (memberlist probes synchronously, one at a time)."""

    __slots__ = (
        "deadline",
        "expected_nacks",
        "incarnation",
        "indirect",
        "nacks",
        "seq",
        "target",
        "tcp_ok",
    )

    def __init__(self, seq: int, target: str, incarnation: int, deadline: int) -> None:
        self.seq = seq
        self.target = target
        self.incarnation = incarnation  # the value when the probe started (memberlist copies)
        self.deadline = deadline
        self.indirect = False
        self.expected_nacks = 0
        self.nacks = 0
        self.tcp_ok = False


class _Suspicion:
    """Per-target suspicion timer state (memberlist `suspicion`)."""

    __slots__ = ("change", "confirmations", "fired", "hi", "k", "lo", "start")

    def __init__(self, sender: str, k: int, lo: int, hi: int, start: int) -> None:
        self.k = k
        self.lo = lo
        self.hi = hi
        self.start = start
        self.change = start  # the state-change time this timer belongs to
        self.confirmations = {sender}  # the accuser itself never counts as a confirmation
        self.fired = False

    @property
    def n(self) -> int:
        return len(self.confirmations) - 1


class _Call:
    """A push/pull exchange we started and are waiting on."""

    __slots__ = ("dest", "on_done")

    def __init__(self, dest: str, on_done: Callable[[bool], None]) -> None:
        self.dest = dest
        self.on_done = on_done


class Memberlist:
    """SWIM/Lifeguard membership for one process. Created and driven by `GossipNode`."""

    def __init__(self, host: GossipNode, name: str, config: GossipConfig, rng: random.Random,
                 meta: Tags) -> None:
        self._host = host
        self.name = name
        self._cfg = config
        self._rng = rng
        self._meta = meta
        self.incarnation = 0
        self._seq = 0
        self.nodes: list[NodeState] = []
        self.node_map: dict[str, NodeState] = {}
        self._probe_index = 0
        self.health = 0
        self._probe: _Probe | None = None
        self._probe_pending = False
        self._probe_phase = 0
        self._relays: dict[int, tuple[str, int, bool]] = {}
        self._suspicions: dict[str, _Suspicion] = {}
        self.queue: BroadcastQueue[Broadcast] = BroadcastQueue()
        self.left = False
        self._calls: dict[int, _Call] = {}
        self._leave_notify: Callable[[], None] | None = None
        self._gossip_phase = 0
        self._gossip_armed = False
        self._gossip_starved = False  # last tick found no target; wait for a node to revive
        self._timer_handlers: dict[str, Callable[[TimerKey, int], None]] = {
            "ml.probe": self._on_probe_tick,
            "ml.probe_wait": self._on_probe_wait,
            "ml.relay": self._on_relay_timeout,
            "ml.suspicion": self._on_suspicion_timeout,
            "ml.gossip": self._on_gossip_tick,
            "ml.push_pull": self._on_push_pull_tick,
            "ml.tcp": self._on_tcp_timeout,
        }
        self._part_handlers: dict[type, Callable[[Any], None]] = {
            Ping: self._handle_ping,
            Ack: self._handle_ack,
            Nack: self._handle_nack,
            IndirectPing: self._handle_indirect_ping,
            Alive: self.alive_node,
            Suspect: self.suspect_node,
            Dead: self.dead_node,
        }

    # ------------------------------------------------------------------ life cycle

    def create(self, now: int) -> None:
        """memberlist.Create: start the tickers and mark ourselves alive (incarnation 1)."""
        cfg = self._cfg
        if cfg.randomize_ticker_phase:
            self._probe_phase = now + 1 + self._rng.randrange(cfg.probe_interval)
            self._gossip_phase = now + 1 + self._rng.randrange(cfg.gossip_interval)
        else:
            self._probe_phase = now + cfg.probe_interval
            self._gossip_phase = now + cfg.gossip_interval
        self._host._arm(PROBE_TICK, self._probe_phase)
        # pushPullTrigger sleeps a random stagger, then loops on time.After(interval): unlike
        # the tickers, this stagger does shift the phase.
        stagger = self._rng.randrange(cfg.push_pull_interval)
        self._host._arm(PUSH_PULL_TICK,
                        now + stagger + push_pull_scale(cfg.push_pull_interval, len(self.nodes)))
        self.incarnation += 1
        self.alive_node(Alive(self.name, self.incarnation, self._meta), bootstrap=True)

    def on_timer(self, key: TimerKey, now: int) -> None:
        self._timer_handlers[key[0]](key, now)

    def handles(self, key: object) -> bool:
        return isinstance(key, tuple) and bool(key) and key[0] in self._timer_handlers

    # ------------------------------------------------------------------ sending

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def get_broadcasts(self) -> list[Broadcast]:
        """What one outgoing packet carries: memberlist's queue, then serf's (the delegate)."""
        out = self.queue.take(retransmit_limit(self._cfg.retransmit_mult, len(self.nodes)))
        serf = self._host._serf_take_broadcasts()
        if serf:
            out.extend(serf)
        return out

    def _send_udp(self, dest: str, part: Part) -> None:
        """memberlist `sendMsg`: one message plus whatever broadcasts are queued."""
        extra = self.get_broadcasts()
        self._host._send(dest, Packet((part, *extra)) if extra else Packet((part,)))

    def _queue_broadcast(self, node: str, msg: Broadcast,
                         notify: Callable[[], None] | None = None) -> None:
        self.queue.queue(msg, name=node, notify=notify)

    def ensure_gossip_tick(self, now: int) -> None:
        """Arm the gossip ticker if there is something to send.

        A gossip tick with nothing queued does nothing, so we only keep the timer armed while
        a queue is non-empty, at the ticker's own grid (phase + k * gossip_interval): the same
        behaviour with no idle timer events in long runs. Likewise, after a tick that found no
        one to send to (a lone or cut-off node), it waits until some node turns alive.
        """
        if not self._gossip_armed and not self._gossip_starved:
            self._gossip_armed = True
            self._host._arm(GOSSIP_TICK,
                            _next_grid(self._gossip_phase, self._cfg.gossip_interval, now))

    # ------------------------------------------------------------------ incoming

    def handle_packet(self, src: str, packet: Packet) -> None:
        """Handle each part of a datagram in order (memberlist `handleCompound`)."""
        handlers = self._part_handlers
        for part in packet.parts:
            handler = handlers.get(type(part))
            if handler is None:  # serf's user messages (join/leave intents)
                self._host._serf_notify_msg(part)
            else:
                handler(part)

    def handle_push_pull(self, src: str, msg: PushPull) -> None:
        if msg.reply:
            call = self._calls.pop(msg.seq, None)
            if call is None or call.dest != src:
                return  # answer to an exchange we already gave up on
            self._host._cancel(("ml.tcp", msg.seq))
            self._merge_remote(msg)
            call.on_done(True)
            return
        # Answer with our state as it was *before* merging theirs (memberlist handleConn).
        self._host._send(src, PushPull(msg.seq, msg.join, True, self.local_nodes(),
                                       self._host._serf_local_state()))
        self._merge_remote(msg)

    def handle_tcp_ping(self, src: str, msg: TcpPing) -> None:
        if msg.target == self.name:
            self._host._send(msg.source, TcpAck(msg.seq))

    def handle_tcp_ack(self, msg: TcpAck) -> None:
        probe = self._probe
        if probe is not None and probe.seq == msg.seq and self._host._now <= probe.deadline:
            probe.tcp_ok = True

    def _handle_ping(self, ping: Ping) -> None:
        if ping.target and ping.target != self.name:
            return
        self._send_udp(ping.source, Ack(ping.seq))

    def _handle_ack(self, ack: Ack) -> None:
        probe = self._probe
        if probe is not None and probe.seq == ack.seq:
            self._finish_probe(-1)
            return
        relay = self._relays.pop(ack.seq, None)
        if relay is not None:  # we are a helper: pass the ack on under the requester's seq
            self._host._cancel(("ml.relay", ack.seq))
            self._send_udp(relay[0], Ack(relay[1]))

    def _handle_nack(self, nack: Nack) -> None:
        # Counted only while the probe is still waiting (memberlist drops the handler at the
        # deadline, so late nacks are lost).
        probe = self._probe
        if probe is not None and probe.seq == nack.seq:
            probe.nacks += 1

    def _handle_indirect_ping(self, ind: IndirectPing) -> None:
        local = self._next_seq()
        self._relays[local] = (ind.source, ind.seq, ind.nack)
        self._send_udp(ind.target, Ping(local, ind.target, self.name))
        self._host._arm(("ml.relay", local), self._host._now + self._cfg.probe_timeout)

    def _on_relay_timeout(self, key: TimerKey, now: int) -> None:
        relay = self._relays.pop(key[1], None)
        if relay is not None and relay[2]:
            self._send_udp(relay[0], Nack(relay[1]))

    # ------------------------------------------------------------------ probing

    def _on_probe_tick(self, key: TimerKey, now: int) -> None:
        self._host._arm(PROBE_TICK, _next_grid(self._probe_phase, self._cfg.probe_interval, now))
        if self._probe is not None:
            self._probe_pending = True  # Go's ticker channel holds one missed tick
            return
        self._probe_round()

    def _probe_round(self) -> None:
        """memberlist `probe`: pick the next probe-able node, reshuffling at each wrap."""
        num_check = 0
        nodes = self.nodes
        while True:
            if num_check >= len(nodes):
                return
            if self._probe_index >= len(nodes):
                self._reset_nodes()
                nodes = self.nodes
                self._probe_index = 0
                num_check += 1
                continue
            node = nodes[self._probe_index]
            self._probe_index += 1
            if node.name == self.name or node.dead_or_left:
                num_check += 1
                continue
            self._probe_node(node)
            return

    def _reset_nodes(self) -> None:
        """Forget dead/left nodes past gossip-to-the-dead, then shuffle (memberlist resetNodes)."""
        now = self._host._now
        gtd = self._cfg.gossip_to_the_dead_time
        keep: list[NodeState] = []
        for node in self.nodes:
            if node.dead_or_left and now - node.state_change > gtd:
                del self.node_map[node.name]
            else:
                keep.append(node)
        self._rng.shuffle(keep)
        self.nodes = keep

    def _probe_node(self, node: NodeState) -> None:
        now = self._host._now
        cfg = self._cfg
        seq = self._next_seq()
        deadline = now + cfg.probe_interval * (self.health + 1)
        probe = _Probe(seq, node.name, node.incarnation, deadline)
        self._probe = probe
        if node.state == ALIVE:
            self._send_udp(node.name, Ping(seq, node.name, self.name))
        else:
            # A suspect target gets the accusation with the ping so it can refute at once
            # (memberlist sends this compound raw, without piggy-backed broadcasts).
            self._host._send(node.name, Packet((Ping(seq, node.name, self.name),
                                                Suspect(node.name, node.incarnation, self.name))))
        # One timer per probe: first the direct-ack wait, then (re-armed) the probe deadline.
        self._host._arm(("ml.probe_wait", seq), min(now + cfg.probe_timeout, deadline))

    def _on_probe_wait(self, key: TimerKey, now: int) -> None:
        probe = self._probe
        if probe is None or probe.seq != key[1]:
            return
        if not probe.indirect and now < probe.deadline:
            self._start_indirect(probe, tcp=True)
            self._host._arm(key, probe.deadline)
            return
        self._on_probe_deadline(probe)

    def _start_indirect(self, probe: _Probe, tcp: bool) -> None:
        probe.indirect = True
        target = probe.target
        me = self.name
        helpers = self._k_random(
            self._cfg.indirect_checks,
            lambda n: n.state == ALIVE and n.name not in (me, target))
        for helper in helpers:
            self._send_udp(helper.name, IndirectPing(probe.seq, target, me, True))
        probe.expected_nacks = len(helpers)
        if tcp and not self._cfg.disable_tcp_pings:
            self._host._send(target, TcpPing(probe.seq, target, me))

    def _on_probe_deadline(self, probe: _Probe) -> None:
        if not probe.indirect:  # probe_timeout >= scaled interval: memberlist still asks helpers
            self._start_indirect(probe, tcp=False)
        if probe.tcp_ok:  # only TCP got through: success (memberlist warns UDP is broken)
            self._finish_probe(-1)
            return
        delta = max(0, probe.expected_nacks - probe.nacks) if probe.expected_nacks > 0 else 1
        self._finish_probe(delta, start_next=False)
        self.suspect_node(Suspect(probe.target, probe.incarnation, self.name))
        self._start_pending_probe()

    def _finish_probe(self, awareness_delta: int, start_next: bool = True) -> None:
        probe = self._probe
        assert probe is not None
        self._probe = None
        self._host._cancel(("ml.probe_wait", probe.seq))
        self._apply_awareness(awareness_delta)
        if start_next:
            self._start_pending_probe()

    def _start_pending_probe(self) -> None:
        if self._probe_pending and self._probe is None:
            self._probe_pending = False
            self._probe_round()

    def _apply_awareness(self, delta: int) -> None:
        score = self.health + delta
        top = self._cfg.awareness_max_multiplier - 1
        self.health = 0 if score < 0 else top if score > top else score

    def _k_random(self, k: int, keep: Callable[[NodeState], bool]) -> list[NodeState]:
        """Up to k distinct random nodes passing `keep` (memberlist kRandomNodes)."""
        eligible = [n for n in self.nodes if keep(n)]
        if len(eligible) > k:
            return self._rng.sample(eligible, k)
        self._rng.shuffle(eligible)
        return eligible

    # ------------------------------------------------------------------ state changes

    def _insert_node(self, state: NodeState) -> None:
        """Append, then swap with a random position (memberlist aliveNode, randomOffset)."""
        n = len(self.nodes)
        offset = self._rng.randrange(n) if n else 0
        self.nodes.append(state)
        self.nodes[offset], self.nodes[n] = self.nodes[n], self.nodes[offset]
        self.node_map[state.name] = state

    def _clear_suspicion(self, name: str) -> None:
        if self._suspicions.pop(name, None) is not None:
            self._host._cancel(("ml.suspicion", name))

    def alive_node(self, a: Alive, bootstrap: bool = False) -> None:
        """memberlist `aliveNode`."""
        if self.left and a.node == self.name:
            return  # a queued alive about us must not undo our leave
        state = self.node_map.get(a.node)
        if state is None:
            state = NodeState(a.node, 0, DEAD, self._host._now, a.meta)
            self._insert_node(state)
        is_local = a.node == self.name
        if a.incarnation <= state.incarnation and not is_local:
            return
        if a.incarnation < state.incarnation and is_local:
            return
        self._clear_suspicion(a.node)
        old_state, old_meta = state.state, state.meta
        if not bootstrap and is_local:
            # Our own alive at our incarnation: ignore if identical; otherwise it is a stale
            # copy of us (e.g. from before a restart with other tags) and we out-bid it.
            if a.incarnation == state.incarnation and a.meta == state.meta:
                return
            self.refute(state, a.incarnation)
        else:
            self._queue_broadcast(a.node, a)
            state.incarnation = a.incarnation
            state.meta = a.meta
            if state.state != ALIVE:
                state.state = ALIVE
                state.state_change = self._host._now
                self._gossip_starved = False  # a new gossip target
        if old_state in (DEAD, LEFT):
            self._host._ml_notify_join(state)
        elif old_meta != state.meta:
            self._host._ml_notify_update(state)

    def suspect_node(self, s: Suspect) -> None:
        """memberlist `suspectNode`: start (or confirm) a suspicion, or refute one about us."""
        state = self.node_map.get(s.node)
        if state is None or s.incarnation < state.incarnation:
            return
        susp = self._suspicions.get(s.node)
        if susp is not None:
            if self._confirm(s.node, susp, s.sender):
                self._queue_broadcast(s.node, s)
            return
        if state.state != ALIVE:
            return
        if s.node == self.name:
            self.refute(state, s.incarnation)
            return
        self._queue_broadcast(s.node, s)
        now = self._host._now
        state.incarnation = s.incarnation
        state.state = SUSPECT
        state.state_change = now
        cfg = self._cfg
        n = len(self.nodes)
        k = cfg.suspicion_mult - 2
        if n - 2 < k:  # not enough other nodes to expect k confirmations
            k = 0
        lo = suspicion_timeout(cfg.suspicion_mult, n, cfg.probe_interval)
        hi = cfg.suspicion_max_timeout_mult * lo
        self._suspicions[s.node] = _Suspicion(s.sender, k, lo, hi, now)
        self._host._arm(("ml.suspicion", s.node), now + (hi if k >= 1 else lo))

    def _confirm(self, name: str, susp: _Suspicion, sender: str) -> bool:
        """suspicion.Confirm: count an independent accuser and shorten the timer."""
        if susp.n >= susp.k or sender in susp.confirmations:
            return False
        susp.confirmations.add(sender)
        now = self._host._now
        remaining = remaining_suspicion_time(susp.n, susp.k, now - susp.start, susp.lo, susp.hi)
        if not susp.fired:
            self._host._arm(("ml.suspicion", name), now + max(0, remaining))
        return True

    def _on_suspicion_timeout(self, key: TimerKey, now: int) -> None:
        name = key[1]
        susp = self._suspicions.get(name)
        if susp is None:
            return
        susp.fired = True
        state = self.node_map.get(name)
        if state is not None and state.state == SUSPECT and state.state_change == susp.change:
            self.dead_node(Dead(name, state.incarnation, self.name))

    def dead_node(self, d: Dead) -> None:
        """memberlist `deadNode`: declare dead (or left, if it says so itself), or refute."""
        state = self.node_map.get(d.node)
        if state is None or d.incarnation < state.incarnation:
            return
        self._clear_suspicion(d.node)
        if state.dead_or_left:
            return
        if d.node == self.name:
            if not self.left:
                self.refute(state, d.incarnation)
                return
            self._queue_broadcast(d.node, d, self._leave_notify)
        else:
            self._queue_broadcast(d.node, d)
        state.incarnation = d.incarnation
        state.state = LEFT if d.node == d.sender else DEAD
        state.state_change = self._host._now
        self._host._ml_notify_leave(state)

    def refute(self, me: NodeState, accused: int) -> None:
        """Out-bid an accusation about ourselves and tell everyone we are alive."""
        self.incarnation += 1
        if accused >= self.incarnation:
            self.incarnation = accused + 1
        me.incarnation = self.incarnation
        self._apply_awareness(1)
        self._queue_broadcast(me.name, Alive(me.name, me.incarnation, me.meta))

    def merge_state(self, remote: Iterable[PushNodeState]) -> None:
        """memberlist `mergeState`: a remote dead or suspect becomes *our* suspicion."""
        me = self.name
        node_map = self.node_map
        for r in remote:
            if r.state == ALIVE:
                known = node_map.get(r.name)
                if known is not None and r.incarnation <= known.incarnation and r.name != me:
                    continue  # what aliveNode does first with it (a join merges n states n times)
                self.alive_node(Alive(r.name, r.incarnation, r.meta))
            elif r.state == LEFT:
                self.dead_node(Dead(r.name, r.incarnation, r.name))
            else:
                self.suspect_node(Suspect(r.name, r.incarnation, me))

    # ------------------------------------------------------------------ gossip, push/pull

    def _on_gossip_tick(self, key: TimerKey, now: int) -> None:
        self._gossip_armed = False
        gtd = self._cfg.gossip_to_the_dead_time
        me = self.name

        def keep(n: NodeState) -> bool:
            if n.name == me:
                return False
            if n.state in (ALIVE, SUSPECT):
                return True
            return n.state == DEAD and now - n.state_change <= gtd

        targets = self._k_random(self._cfg.gossip_nodes, keep)
        if not targets:
            self._gossip_starved = True
        for node in targets:
            msgs = self.get_broadcasts()
            if not msgs:
                break
            self._host._send(node.name, Packet(tuple(msgs)))
        # The host re-arms the ticker after this input if anything is still queued.

    def _on_push_pull_tick(self, key: TimerKey, now: int) -> None:
        me = self.name
        peers = self._k_random(1, lambda n: n.state == ALIVE and n.name != me)
        if not peers:
            self._arm_push_pull(now)
            return
        # The trigger loop waits for the exchange to finish before sleeping again.
        self.push_pull(peers[0].name, join=False,
                       on_done=lambda ok: self._arm_push_pull(self._host._now))

    def _arm_push_pull(self, now: int) -> None:
        interval = push_pull_scale(self._cfg.push_pull_interval, len(self.nodes))
        self._host._arm(PUSH_PULL_TICK, now + interval)

    def push_pull(self, dest: str, join: bool, on_done: Callable[[bool], None]) -> None:
        """Start a full state exchange with `dest`; `on_done(ok)` when answered or timed out."""
        seq = self._next_seq()
        self._calls[seq] = _Call(dest, on_done)
        self._host._send(dest, PushPull(seq, join, False, self.local_nodes(),
                                        self._host._serf_local_state()))
        self._host._arm(("ml.tcp", seq), self._host._now + self._cfg.tcp_timeout)

    def _on_tcp_timeout(self, key: TimerKey, now: int) -> None:
        call = self._calls.pop(key[1], None)
        if call is not None:
            call.on_done(False)

    def local_nodes(self) -> tuple[PushNodeState, ...]:
        return tuple(PushNodeState(n.name, n.incarnation, n.state, n.meta) for n in self.nodes)

    def _merge_remote(self, msg: PushPull) -> None:
        self.merge_state(msg.nodes)
        self._host._serf_merge_remote_state(msg.serf)

    # ------------------------------------------------------------------ leave

    def leave(self, notify: Callable[[], None]) -> bool:
        """memberlist Leave: broadcast "dead, from = self". True if the caller should wait for
        `notify` (the broadcast fully sent), False if nobody is alive to tell."""
        if self.left:
            return False
        self.left = True
        me = self.node_map[self.name]
        self._leave_notify = notify
        self.dead_node(Dead(self.name, me.incarnation, self.name))
        return any(not n.dead_or_left and n.name != self.name for n in self.nodes)


def _next_grid(phase: int, period: int, now: int) -> int:
    """The first tick of the grid phase + k*period (k >= 0) strictly after `now`."""
    if now < phase:
        return phase
    return phase + ((now - phase) // period + 1) * period
