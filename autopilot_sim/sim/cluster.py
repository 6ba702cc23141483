"""The engine: servers, transport, timers and faults.

A `Cluster` runs the servers' Raft nodes on one event loop: it delivers their messages (the
transport below), fires their timers, and applies faults (crash, restart, pause, disk stalls).
Two concerns it owns but keeps apart: `Leadership` (sim/leadership.py) turns the nodes' notes into
run events, safety checks and observer calls and tracks the leader and the time without one;
`ClientLoad` (sim/load.py) sends the client writes to the leader. The cluster's `leader()`,
`leader_name`, `set_load()`, `writes_accepted` ... are read-only views of those two.

Why one module of ~600 lines: the per-message path (delivery, the node call, draining its
outputs into the transport) is deliberately fused into a few functions — each extra call per
message costs measurable speed (benchmarks/bench_engine.py) — and the fault rules (crash, pause,
disk stall) act on the same per-server fields as that path.

The event loop (sim/loop.py) only moves time and delivers things: every scheduled item is a plain
heap entry `(time, seq, handler, args)`. The pure Raft node and the gossip node never schedule
anything themselves: after each call the engine drains their outbox (messages), their timer
requests and their notes or serf events. Both cores' timers live in one `CoreTimers` per core
and process (sim/timers.py), which keeps the lazy-timer, epoch, pause and main-loop rules once.

Transport (hashicorp/raft NetworkTransport over TCP, as Nomad configures it):
* RPCs run over TCP: random loss delays a message by retransmissions (Network.transit_tcp);
* a message that cannot arrive before its deadline (a cut link, a link cut while the message is
  in flight, retransmissions past the deadline) makes the caller's RPC fail at that deadline
  (Nomad's RaftTimeout, 10 s): the connection just stalls;
* a request to a crashed process is refused: the caller sees the error one network transit later;
* a paused (stalled) process accepts connections but answers nothing until it resumes; callers
  whose deadline passes meanwhile see a timeout, and late answers are ignored.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from mypy_extensions import mypyc_attr

from autopilot_sim.raft import notes
from autopilot_sim.raft.messages import VOTER, Message, rpc_error_for
from autopilot_sim.raft.node import RaftNode
from autopilot_sim.raft.timing import RaftTiming
from autopilot_sim.rng import stream
from autopilot_sim.sim.invariants import SafetyChecker
from autopilot_sim.sim.leadership import Leadership
from autopilot_sim.sim.load import ClientLoad
from autopilot_sim.sim.loop import EventLoop
from autopilot_sim.sim.network import Latency, Network
from autopilot_sim.sim.recorder import Recorder
from autopilot_sim.sim.timers import CoreTimers
from autopilot_sim.timer import Timer

if TYPE_CHECKING:
    from autopilot_sim.gossip.node import GossipNode

T = TypeVar("T")


@mypyc_attr(native_class=False)  # mypyc: exceptions stay ordinary Python classes
class SimulationError(RuntimeError):
    """A scenario asked for something impossible at run time (e.g. crash a server that is down)."""


@dataclass
class ServerSpecLite:
    """What the engine needs to know about one server."""

    name: str
    voter: bool = True  # bootstraps as a voter


class SimServer:
    """One simulated Nomad server process wrapping a pure RaftNode."""

    __slots__ = (
        "applied",
        "busy_until",
        "disk",
        "epoch",
        "gossip",
        "gossip_timers",
        "name",
        "node",
        "paused_queue",
        "paused_until",
        "pending_writes",
        "raft_timers",
        "seen_commit",
        "seen_len",
        "up",
        "version",
    )

    def __init__(self, name: str, node: RaftNode, disk: Any) -> None:
        self.name = name
        self.node = node
        self.up = True
        self.paused_until = 0
        # (handler or None = raft, src, msg)
        self.paused_queue: list[tuple[Callable[[SimServer, str, Any], None] | None, str, Any]] = []
        self.epoch = 0
        self.raft_timers = CoreTimers()
        self.busy_until = 0
        self.disk = disk  # a sampler of one fsync's latency, or None (no disk latency)
        self.version = ""
        self.pending_writes: list[object] = []
        self.gossip: GossipNode | None = None  # a GossipNode when the Nomad layer runs gossip
        self.gossip_timers = CoreTimers()
        self.applied = 0  # last log index handed to the FSM hook
        self.seen_len = -1  # log length and commit index at the last safety check
        self.seen_commit = -1


@mypyc_attr(allow_interpreted_subclasses=True)  # experiments/election_time.py watches deliveries
class Cluster:
    """A cluster of simulated servers on one SimPy environment (one run owns one environment)."""

    def __init__(
        self,
        servers: list[ServerSpecLite],
        timing: RaftTiming,
        network: Network,
        seed: int,
        recorder: Recorder | None = None,
        writes_per_second: float = 0.0,
        disk_latency: Latency | None = None,
        check_safety: bool = True,
    ) -> None:
        #: The run's event loop (`now`, `peek()`, `step()`, `run(until)`, like a SimPy Environment).
        self.env = EventLoop()
        self.timing = timing
        self.network = network
        self.seed = seed
        self.recorder = recorder or Recorder()
        self.safety = SafetyChecker() if check_safety else None
        self.disk_latency = disk_latency
        self.servers: dict[str, SimServer] = {}
        # Counters on the hot path are plain attributes (cheaper than a dict).
        self.messages_sent = 0
        self.messages_delivered = 0
        self.messages_lost = 0
        #: The leader, leaderless time and election counters, kept from the nodes' notes.
        self.leadership = Leadership(self)
        #: Client writes to the leader.
        self.load = ClientLoad(self.env, timing, stream(seed, "load"), self.leadership, self._flush)
        # callables(cluster, server, note) for notes (autopilot, API)
        self.observers: list[Callable[[Cluster, SimServer, notes.Note], None]] = []
        # callable(server, first, last): indexes newly committed (the FSM)
        self.on_apply: Callable[[SimServer, int, int], None] | None = None
        # The indexes the FSM hook cares about, sorted, or None for all: with marks, a newly
        # committed range without one is not handed over (the Nomad layer's FSM looks only at its
        # autopilot-config and barrier entries; a call per commit was a Python call per write).
        self.apply_marks: list[int] | None = None
        # callable(server, events): serf events from a gossip node
        self.on_gossip_events: Callable[[SimServer, list[Any]], None] | None = None
        # Read-only taps on Raft sends (the web view): callables(src, dst, msg, sent_ns, arrives_ns or
        # None when lost). Empty unless someone subscribed: the hot path pays one truth test.
        self.send_taps: list[Callable[[str, str, Any, int, int | None], None]] = []
        # The per-message loop handlers, bound once: reading a method off `self` in compiled code
        # is a generic attribute lookup (the class allows interpreted subclasses), a field is not.
        self._deliver_handler = self._deliver
        self._fire_timer_handler = self._fire_timer
        for spec in servers:
            self._add_server(spec.name)
        voters = tuple((s.name, VOTER) for s in servers if s.voter)
        for spec in servers:
            if spec.voter:
                self.servers[spec.name].node.bootstrap(voters, 0)
        for server in self.servers.values():
            server.node.start(0)
            self._flush(server)
        self.load.set_rate(writes_per_second)

    # ------------------------------------------------------------------ construction

    def _add_server(self, name: str) -> SimServer:
        node = RaftNode(name, self.timing, stream(self.seed, "raft", name))
        disk = None
        if self.disk_latency is not None:
            disk = self.disk_latency.sampler(stream(self.seed, "disk", name))
        server = SimServer(name, node, disk)
        self.servers[name] = server
        self.network.add_server(name)
        return server

    def add_server(self, name: str) -> SimServer:
        """A new server process joins the simulation: empty Raft state, follower, no peers.

        The name may be that of a stopped server (one that left): the new process replaces it,
        with an empty data dir."""
        if name in self.servers and self.servers[name].up:
            raise SimulationError(f"a server named {name} is already running")
        server = self._add_server(name)
        if self.safety is not None:
            self.safety.on_restart(name)  # its commit index starts from 0 again
        server.node.start(self.now)
        self._flush(server)
        return server

    def stop(self, name: str) -> None:
        """The process exits after a graceful leave (the network then refuses it, like a crash)."""
        self.crash(name)

    def __deepcopy__(self, memo: dict[int, object]) -> Cluster:
        """Refused, the same way on both builds: a running cluster's latency samplers and random
        draws are closures over its random streams, which copy.deepcopy shares rather than copies,
        so a copy would silently advance the original's streams. Re-run with the same seed to
        replay a run, or deep-copy Raft nodes (notebook 6)."""
        raise TypeError("a running Cluster cannot be deep-copied: its random streams would be shared with "
                        "the copy; re-run the scenario with the same seed instead")

    @property
    def now(self) -> int:
        """Simulated time in integer nanoseconds."""
        return self.env.now

    # ------------------------------------------------------------------ scheduling

    def _at(self, delay: int, fn: Callable[..., Any], *args: Any) -> None:
        """Run fn(*args) after `delay` ns (>= 0); ties keep scheduling order."""
        env = self.env
        env.push(env.now + delay, fn, args)

    def step(self, server: SimServer, fn: Callable[..., T], *args: Any) -> T:
        """One input to `server`'s Raft node from outside the transport (a client write, a
        membership change, a leadership transfer: `fn(*args)`, e.g. `server.node.propose_entry`),
        then the engine takes the node's outputs (messages, timers, notes, writes). Returns
        what `fn` returned."""
        result = fn(*args)
        self._flush(server)
        return result

    def call_at(self, when: int, func: Callable[..., Any], *args: Any) -> None:
        """Run func(*args) at simulated time `when` (scenario events, observers)."""
        self.env.at(when, func, args)

    def run(self, until: int) -> None:
        """Advance the simulation to `until` ns (nothing happens if it is not in the future)."""
        if until > self.env.now:
            self.env.run(until=until)
        self.leadership.account(self.now)

    # ------------------------------------------------------------------ after every node call

    def _flush(self, server: SimServer) -> None:
        node = server.node
        now = self.env.now
        delay = 0
        if node.writes:
            if server.disk is not None:
                start = max(now, server.busy_until)
                total = 0
                fsync = server.disk  # (called through a local: a callable attribute is looked up generically)
                for _ in range(node.writes):
                    total += fsync()
                server.busy_until = start + total
                delay = server.busy_until - now
            node.writes = 0
        outbox = node.outbox
        if outbox:
            # The transport, inlined (one message costs a link draw and one heap entry).
            name = server.name
            net = self.network
            blocked = net.blocked
            links = net.links_from[name]
            env = self.env
            deliver = self._deliver_handler
            servers = self.servers
            taps = self.send_taps  # observers of every send (the live page); usually empty
            self.messages_sent += len(outbox)
            for dst, msg in outbox:
                if blocked and (name, dst) in blocked:
                    if taps:
                        self._tap(taps, name, dst, msg, now, None)
                    self._lost(name, dst, msg)
                    continue
                link = links[dst]
                width = link.width
                if width:
                    draw = link.random
                    wire = link.lo + int(draw() * width)
                else:
                    sample = link.sample
                    wire = sample()
                if link.loss:
                    wire = net.retransmissions(link, wire)
                at = now + wire + delay
                deadline = msg.deadline
                if taps:
                    self._tap(taps, name, dst, msg, now, at if at <= deadline else None)
                if at > deadline:
                    self._lost(name, dst, msg)
                    continue
                env.push(at, deliver, (name, servers[dst], msg))
            outbox.clear()
        if node.timer_requests:
            server.raft_timers.arm(self.env, server, node.timer_requests, self._fire_timer_handler)
        if node.notes:
            self.leadership.on_notes(server)
        commit = node.commit_index
        if commit > server.applied and self.on_apply is not None:
            first = server.applied + 1
            server.applied = commit
            marks = self.apply_marks
            if marks is None:
                self.on_apply(server, first, commit)
            else:
                after = bisect_left(marks, first)
                if after < len(marks) and marks[after] <= commit:
                    self.on_apply(server, first, commit)
        safety = self.safety
        if safety is not None:
            log = node.log
            log_len = len(log)
            if log_len != server.seen_len or commit != server.seen_commit:
                server.seen_len = log_len
                server.seen_commit = commit
                safety.after_step(now, server.name, log, commit, node.current_term)

    # ------------------------------------------------------------------ transport

    @staticmethod
    def _tap(taps: list[Callable[[str, str, Any, int, int | None], None]], src: str, dst: str, msg: Any,
             sent: int, arrives: int | None) -> None:
        """Tell each send observer about one Raft message (`arrives` None: it is lost)."""
        for tap in taps:
            tap(src, dst, msg, sent, arrives)

    def _lost(self, src: str, dst: str, msg: Message) -> None:
        """A lost request or response: the caller's RPC fails at its deadline."""
        self.messages_lost += 1
        caller, peer = (src, dst) if msg.is_request else (dst, src)
        self._at(max(0, msg.deadline - self.env.now), self._rpc_error, caller, peer, msg, "timeout")

    def _rpc_error(self, caller: str, peer: str, msg: Message, reason: str) -> None:
        server = self.servers.get(caller)
        if server is None or not server.up:
            return
        self._enqueue(server, peer, rpc_error_for(msg, reason))

    def _deliver(self, src: str, server: SimServer, msg: Message) -> None:
        """A Raft message arrives at `server` (the delivery path of `_enqueue`, fused)."""
        blocked = self.network.blocked
        if blocked and (src, server.name) in blocked:
            self._lost(src, server.name, msg)  # the link was cut while the message was in flight
            return
        if not server.up:
            self.messages_lost += 1
            if msg.is_request:  # connection refused: the caller learns it one transit later
                self._refuse(src, server.name, msg)
            return
        self.messages_delivered += 1
        now = self.env.now
        if now < server.paused_until or (now < server.busy_until and msg.main_loop):
            self._enqueue(server, src, msg)
            return
        server.node.on_message(src, msg, now)
        self._flush(server)

    def _refuse(self, caller: str, peer: str, msg: Message) -> None:
        """`peer`'s process is gone: the caller's RPC fails one transit later (a refused or reset
        connection), or at its deadline when nothing can get back to it."""
        back = self.network.transit_tcp(peer, caller)
        if back is None:
            back = max(0, msg.deadline - self.env.now)
        self._at(back, self._rpc_error, caller, peer, msg, "refused")

    def _enqueue(self, server: SimServer, src: str, msg: Message) -> None:
        now = self.env.now
        if now < server.paused_until:
            server.paused_queue.append((None, src, msg))
            if msg.is_request:
                self._at(max(0, msg.deadline - now), self._stalled_request, src, server.name, msg)
            return
        if now < server.busy_until and msg.main_loop:
            # The main loop is blocked on a disk write; heartbeats take the fast path
            # (docs/behaviour/raft.md §2.4).
            self._at(server.busy_until - now, self._redeliver, src, server, msg, server.epoch)
            return
        server.node.on_message(src, msg, now)
        self._flush(server)

    def _redeliver(self, src: str, server: SimServer, msg: Message, epoch: int) -> None:
        if server.up and epoch == server.epoch:
            self._enqueue(server, src, msg)
        elif msg.is_request:
            # The process that accepted the request crashed before handling it (and may have been
            # restarted since): its connection was reset, so the caller's RPC fails. Dropping it
            # silently would leave the caller waiting forever (no deadline timer covers it).
            self._refuse(src, server.name, msg)

    def _stalled_request(self, caller: str, peer: str, msg: Message) -> None:
        """A request sat in a paused server's queue until the caller's deadline."""
        server = self.servers[peer]
        if self.env.now < server.paused_until and any(m is msg for _, _, m in server.paused_queue):
            self._rpc_error(caller, peer, msg, "timeout")

    # ------------------------------------------------------------------ timers

    def _fire_timer(self, server: SimServer, timer: Timer, at: int, epoch: int) -> None:
        """A Raft timer's loop event (`CoreTimers.due` keeps the lazy-timer rules)."""
        if server.raft_timers.due(self.env, server, timer, at, epoch, self._fire_timer_handler):
            server.node.on_timer(timer.key, self.env.now)
            self._flush(server)

    # ------------------------------------------------------------------ faults

    def crash(self, name: str) -> None:
        """The process dies: timers stop, volatile state is lost, the network refuses it."""
        server = self.servers[name]
        if not server.up:
            raise SimulationError(f"cannot crash {name}: it is already down")
        server.up = False
        server.epoch += 1
        server.raft_timers.clear()
        # Requests waiting in a paused process's queue die with it: the connections are reset, so
        # each caller's RPC fails (as if refused). Without this the callers would wait forever:
        # the deadline check (_stalled_request) only fires while the server is still paused, and
        # e.g. a leader's heartbeat / replication loop to this server would never run again.
        for handler, src, msg in server.paused_queue:
            if handler is None and msg.is_request:  # Raft RPCs only; gossip datagrams just vanish
                self._refuse(src, name, msg)
        server.paused_queue.clear()
        server.paused_until = 0
        server.busy_until = 0
        self.load.on_crash(server)
        server.node.crash()
        server.applied = 0
        if server.gossip is not None:
            server.gossip.crash()
            server.gossip.outbox.clear()
            server.gossip.timer_requests.clear()
        server.gossip_timers.clear()
        self.leadership.update()

    def restart(self, name: str) -> None:
        """Start a crashed server again with its persisted term, vote and log."""
        server = self.servers[name]
        if server.up:
            raise SimulationError(f"cannot restart {name}: it is running")
        server.up = True
        server.node.restart(self.now)
        if self.safety is not None:
            self.safety.on_restart(name)
        self._flush(server)

    def pause(self, name: str, duration: int) -> None:
        """Stall the process for `duration` ns: no timers fire, no message is handled."""
        server = self.servers[name]
        if not server.up:
            raise SimulationError(f"cannot pause {name}: it is down")
        server.paused_until = max(server.paused_until, self.now + duration)
        self._at(server.paused_until - self.now, self._resume, server, server.epoch)

    def _resume(self, server: SimServer, epoch: int) -> None:
        now = self.env.now
        if epoch != server.epoch or now < server.paused_until:
            return
        queued, server.paused_queue = server.paused_queue, []
        for handler, src, msg in queued:
            if not server.up:
                break
            if handler is None:
                server.node.on_message(src, msg, now)
                self._flush(server)
            else:
                handler(server, src, msg)
        # Timers that came due during the pause fire now, in deadline order: gossip, then Raft.
        gossip = server.gossip
        if gossip is not None and server.up:
            for timer in server.gossip_timers.take_overdue(now):
                gossip.on_timer(timer.key, now)
                self.flush_gossip(server)
        for timer in server.raft_timers.take_overdue(now):
            server.node.on_timer(timer.key, now)
            self._flush(server)

    # ------------------------------------------------------------------ gossip (serf / memberlist)

    def flush_gossip(self, server: SimServer) -> None:
        """Drain a gossip node's outbox, timer requests and serf events."""
        g = server.gossip
        assert g is not None, "flush_gossip on a server without gossip"
        if g.outbox:
            name = server.name
            for dst, msg in g.outbox:
                self._gossip_send(name, dst, msg)
            g.outbox.clear()
        if g.timer_requests:
            server.gossip_timers.arm(self.env, server, g.timer_requests, self._fire_gtimer)
        if g.events:
            events = list(g.events)
            g.events.clear()
            if self.on_gossip_events is not None:
                self.on_gossip_events(server, events)

    def _gossip_send(self, src: str, dst: str, msg: Any) -> None:
        """Datagrams may be lost; streams (TCP) are delayed by retransmissions instead."""
        self.messages_sent += 1
        if getattr(msg, "stream", False):
            delay = self.network.transit_tcp(src, dst, self.network.gossip_blocked)
        else:
            delay = self.network.transit(src, dst)
        if delay is None:
            self.messages_lost += 1
            return
        self._at(delay, self._gossip_deliver, src, dst, msg)

    def _gossip_deliver(self, src: str, dst: str, msg: Any) -> None:
        server = self.servers.get(dst)
        if (src, dst) in self.network.gossip_blocked or server is None or not server.up or server.gossip is None:
            self.messages_lost += 1
            return
        self.messages_delivered += 1
        if self.env.now < server.paused_until:
            server.paused_queue.append((self._gossip_handle, src, msg))
            return
        self._gossip_handle(server, src, msg)

    def _gossip_handle(self, server: SimServer, src: str, msg: Any) -> None:
        assert server.gossip is not None  # _gossip_deliver checked it
        server.gossip.on_message(src, msg, self.env.now)
        self.flush_gossip(server)

    def _fire_gtimer(self, server: SimServer, timer: Timer, at: int, epoch: int) -> None:
        """A gossip timer's loop event (same rules as Raft's; gossip has no main-loop timers)."""
        gossip = server.gossip
        if gossip is not None and server.gossip_timers.due(self.env, server, timer, at, epoch, self._fire_gtimer):
            gossip.on_timer(timer.key, self.env.now)
            self.flush_gossip(server)

    # ------------------------------------------------------------------ application RPCs

    def app_rpc(self, src: str, dst: str, handle: Callable[[SimServer], Any], on_reply: Callable[..., None],
                on_error: Callable[..., None], timeout: int) -> None:
        """One Nomad RPC (msgpack over TCP) from src to dst: `handle(server)` computes the answer
        at dst when the request arrives; `on_reply(answer)` or `on_error(reason)` runs at src.

        Lost on a cut link or to a stalled process → timeout after `timeout`; refused at once by
        a crashed process. Handled outside the Raft main loop (Status.RaftStats reads Stats()).
        """
        deadline = self.now + timeout
        delay = self.network.transit_tcp(src, dst)
        self.messages_sent += 1
        if delay is None or self.now + delay > deadline:
            self.messages_lost += 1
            self._at(timeout, on_error, "timeout")
            return
        self._at(delay, self._app_arrive, src, dst, handle, on_reply, on_error, deadline)

    def _app_arrive(self, src: str, dst: str, handle: Callable[[SimServer], Any], on_reply: Callable[[Any], None],
                    on_error: Callable[[str], None], deadline: int) -> None:
        now = self.now
        server = self.servers[dst]
        if (src, dst) in self.network.blocked:
            self.messages_lost += 1
            self._at(max(0, deadline - now), on_error, "timeout")
            return
        if not server.up:
            back = self.network.transit_tcp(dst, src)
            self._at(back if back is not None else max(0, deadline - now), on_error, "refused")
            return
        if now < server.paused_until:
            wait = server.paused_until - now
            if now + wait > deadline:
                self._at(max(0, deadline - now), on_error, "timeout")
                return
            self._at(wait, self._app_arrive, src, dst, handle, on_reply, on_error, deadline)
            return
        self.messages_delivered += 1
        answer = handle(server)
        back = self.network.transit_tcp(dst, src)
        self.messages_sent += 1
        if back is None or now + back > deadline:
            self.messages_lost += 1
            self._at(max(0, deadline - now), on_error, "timeout")
            return
        self._at(back, self._app_reply, src, on_reply, answer)

    def _app_reply(self, src: str, on_reply: Callable[[Any], None], answer: Any) -> None:
        if self.servers[src].up:  # a caller that crashed meanwhile hears nothing
            on_reply(answer)

    # ------------------------------------------------------------------ observation

    def stats(self, name: str) -> dict[str, str]:
        """hashicorp/raft Stats() of one server at the current time."""
        return self.servers[name].node.stats(self.now)

    # Read-only views of `leadership` and `load`, kept here because scenarios, the Nomad layer,
    # tests and notebooks ask the cluster.

    def leader(self) -> SimServer | None:
        """The current leader's server, or None (`leadership.leader()`)."""
        return self.leadership.leader()

    @property
    def leader_name(self) -> str | None:
        """The current leader's name, or None."""
        return self.leadership.leader_name

    @property
    def leader_term(self) -> int:
        """The current (or, while there is none, the last) leader's term; 0 before the first."""
        return self.leadership.leader_term

    @property
    def time_without_leader(self) -> int:
        """Simulated ns without a leader (up to the last `run`)."""
        return self.leadership.time_without_leader

    @property
    def elections_started(self) -> int:
        """Elections started by any server (each candidate's vote for itself)."""
        return self.leadership.elections_started

    @property
    def leaders_elected(self) -> int:
        """Elections won."""
        return self.leadership.leaders_elected

    @property
    def leader_changes(self) -> int:
        """How many times a (new) leader became known, the first one included."""
        return self.leadership.leader_changes

    def set_load(self, writes_per_second: float) -> None:
        """Poisson client writes to the leader at this rate (0 stops them)."""
        self.load.set_rate(writes_per_second)

    @property
    def writes_per_second(self) -> float:
        """The current client write rate."""
        return self.load.writes_per_second

    @property
    def writes_accepted(self) -> int:
        """Client writes the leader took."""
        return self.load.writes_accepted

    @property
    def writes_rejected(self) -> int:
        """Client writes refused or lost (no leader, not the leader any more, a crash)."""
        return self.load.writes_rejected


__all__ = ["Cluster", "ServerSpecLite", "SimServer", "SimulationError"]
