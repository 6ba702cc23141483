"""Nomad's leader duties for one leadership term (nomad/leader.go leaderLoop, and the
raft-autopilot v0.1.6 loops it starts: state updates with stats fetched over the network,
reconcile and prune), plus the types they share with the Nomad layer (sim/nomad.py).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from autopilot_sim import event_kinds as kinds
from autopilot_sim.autopilot.config import ConfigStore
from autopilot_sim.autopilot.model import (
    RaftServer,
    Server,
    ServerStats,
    State,
    unhealthy_reason,
)
from autopilot_sim.autopilot.reconcile import reconcile_tick
from autopilot_sim.autopilot.report import health_body, health_status
from autopilot_sim.autopilot.state import TickInputs, build_state
from autopilot_sim.durations import (
    SECOND,
    DurationError,
    parse_duration,
)
from autopilot_sim.raft import configuration as raftcfg
from autopilot_sim.raft.messages import BARRIER
from autopilot_sim.raft.roles import LEADER
from autopilot_sim.sim.cluster import SimServer

if TYPE_CHECKING:
    from autopilot_sim.sim.nomad import NomadLayer

AUTOPILOT_ENTRY = "autopilot"
NOMAD_RECONCILE_INTERVAL = 60 * SECOND  # nomad/config.go ReconcileInterval

# serf status -> autopilot NodeStatus (nomad/autopilot.go): leaving counts as alive on purpose.
_NODE_STATUS = {"alive": "alive", "leaving": "alive", "left": "left", "failed": "failed"}


def stats_from_raft(raw: dict[str, str]) -> ServerStats:
    """nomad/structs ToAutopilotServerStats: parse Stats() strings; "never" fails to parse and
    the error is ignored, so it becomes 0."""
    try:
        contact = parse_duration(raw["last_contact"])
    except DurationError:
        contact = 0
    return ServerStats(last_contact=contact, last_term=int(raw["last_log_term"]),
                       last_index=int(raw["last_log_index"]))


def server_stats(node: Any, now: int) -> ServerStats:
    """What `stats_from_raft(node.stats(now))` gives, without the string round trip: a server
    never contacted ("never") counts as 0, like Nomad's ignored parse error."""
    age = node.contact_age(now)
    return ServerStats(last_contact=age or 0, last_term=node.last_term, last_index=node.last_index)


@dataclasses.dataclass
class Report:
    """One autopilot update tick as the API would serve it."""

    t_ns: int
    status: int
    body: dict[str, Any]
    serf: dict[str, str]  # the leader's serf view at that tick (for expectations on absent servers)


class LeaderDuties:
    """What the Nomad leader runs for one leadership term: leaderLoop + autopilot."""

    def __init__(self, layer: NomadLayer, server: SimServer, term: int) -> None:
        self.layer = layer
        self.cluster = layer.cluster
        self.recorder = layer.recorder
        self.server = server
        self.term = term
        self.active = True
        self.established = False
        self.state: State | None = None
        self.first_state_time: int | None = None
        self.outstanding: set[str] = set()
        self._last_refusals: dict[str, str] = {}
        self._pending_members: list[Any] = []
        #: known_servers' last record per member: (serf status, tags, Server), reused while unchanged.
        self._known: dict[str, tuple[str, Any, Server]] = {}
        self._raft_config: object = None  # raft_servers' source configuration and its records
        self._raft_servers: tuple[RaftServer, ...] = ()
        layer.propose(server, BARRIER, None)  # establishLeadership waits for it to be applied

    @property
    def name(self) -> str:
        return self.server.name

    def stop(self, reason: str) -> None:
        """Stop: autopilot state is reset to empty (a new leader starts fresh)."""
        if not self.active:
            return
        self.active = False
        if self.established:
            self.recorder.event(self.cluster.now, kinds.AUTOPILOT_STOPPED,
                                f"autopilot stopped on {self.name}: {reason}; its state is discarded",
                                server=self.name)

    def _alive(self) -> bool:
        return self.active and self.server.up and self.server.node.role == LEADER \
            and self.server.node.current_term == self.term

    # ------------------------------------------------------------------ leaderLoop

    def barrier_applied(self, index: int) -> None:
        if self.established or not self._alive():
            return
        self.established = True
        now = self.cluster.now
        store = self.layer.stores[self.name]
        if store.get() is None:  # getOrCreateAutopilotConfig
            config = self.layer.agent_config
            idx = self.layer.propose(self.server, AUTOPILOT_ENTRY, (config, None))
            self.recorder.event(now, kinds.CONFIG_WRITE,
                                f"{self.name} wrote the agent's autopilot configuration to Raft (index {idx})",
                                server=self.name, index=idx)
        self.recorder.event(now, kinds.AUTOPILOT_STARTED, f"autopilot started on {self.name} (term {self.term})",
                            server=self.name, term=self.term)
        self.update_tick()
        self.cluster.call_at(now + self.layer.reconcile_interval, self._reconcile_loop)
        self.full_reconcile()
        self.cluster.call_at(now + NOMAD_RECONCILE_INTERVAL, self._nomad_reconcile_loop)
        for event in self._pending_members:
            self.member_event(event)
        self._pending_members.clear()

    def member_event(self, event: Any) -> None:
        """localMemberEvent: reconcile one member (2.0 does not forward member-failed)."""
        if not self.established:
            self._pending_members.append(event)
            return
        if self.layer.profile == "2.0" and event.type == "member-failed":
            return
        status = "reap" if event.type == "member-reap" else event.status
        self.reconcile_member(event.name, status, dict(event.tags))

    def full_reconcile(self) -> None:
        """A full pass over serf.Members()."""
        gossip = self.server.gossip
        if gossip is None:
            return
        for name, status in sorted(gossip.members().items()):
            info = gossip.member_info(name)
            tags = dict(info.tags) if info is not None else {}
            self.reconcile_member(name, status, tags)

    def _nomad_reconcile_loop(self) -> None:
        if not self._alive():
            return
        self.layer.propose(self.server, BARRIER, None)
        self.full_reconcile()
        self.cluster.call_at(self.cluster.now + NOMAD_RECONCILE_INTERVAL, self._nomad_reconcile_loop)

    def reconcile_member(self, name: str, status: str, tags: dict[str, str]) -> None:
        """reconcileMember: alive → addRaftPeer; left or reap → removeRaftPeer; else nothing."""
        if not self._alive() or tags.get("role") != "nomad" or tags.get("region") != self.layer.region:
            return
        node = self.server.node
        now = self.cluster.now
        present = raftcfg.suffrage_of(node.latest_config, name) is not None
        queued = node.change_queued(name)
        if status == "alive" and not present and not queued:
            self.cluster.step(self.server, node.change_configuration, raftcfg.ADD_NONVOTER, name, now)
            self.recorder.event(now, kinds.RAFT_ADD, f"{name} added to Raft as a non-voter (serf member alive)",
                                server=name, op="AddNonvoter")
        elif status in ("left", "reap") and present and not queued:
            self.cluster.step(self.server, node.change_configuration, raftcfg.REMOVE_SERVER, name, now)
            self.recorder.event(now, kinds.RAFT_REMOVE, f"{name} removed from Raft (serf member {status})",
                                server=name, op="RemoveServer", rule=f"serf member {status}")

    # ------------------------------------------------------------------ autopilot state

    def known_servers(self) -> dict[str, Server]:
        """autopilotServers: serf members of the region (1.11: every status; 2.0: alive only).

        Each record carries the NodeType the promoter gave the server at the last tick. Nomad's
        records have none; the state builder overwrites it with the promoter's value every tick
        and no rule reads it, so the state is the same, and an unchanged server then needs no
        copy (two per server per tick otherwise)."""
        gossip = self.server.gossip
        known: dict[str, Server] = {}
        if gossip is None:
            return known
        seen = self._known
        typed = self.state.servers if self.state is not None else {}
        for name, status in gossip.members().items():
            if self.layer.profile == "2.0" and status not in ("alive", "leaving"):
                continue
            tags = gossip.tags_of(name) or ()
            before = typed.get(name)
            node_type = before.server.node_type if before is not None else ""
            last = seen.get(name)
            if last is not None and last[0] == status and last[1] == tags and last[2].node_type == node_type:
                known[name] = last[2]  # unchanged member: the same (frozen) record as last tick
                continue
            meta = dict(tags)
            if meta.get("role") != "nomad" or meta.get("region") != self.layer.region:
                continue
            server = Server(id=name, name=f"{name}.{self.layer.region}", address=name,
                            node_status=_NODE_STATUS.get(status, "unknown"),
                            version=meta.get("build", ""), meta=meta, raft_version=3, node_type=node_type)
            seen[name] = (status, tags, server)
            known[name] = server
        return known

    def raft_servers(self) -> tuple[RaftServer, ...]:
        """The leader's latest Raft configuration as autopilot's records (rebuilt only when the
        configuration changes: it is an immutable tuple, replaced on every change)."""
        config = self.server.node.latest_config
        if config is not self._raft_config:
            self._raft_config = config
            self._raft_servers = tuple(RaftServer(sid, sid, suffrage) for sid, suffrage in config)
        return self._raft_servers

    def update_tick(self) -> None:
        """One state update: fetch stats (deadline interval/2), then build the state."""
        if not self._alive():
            return
        cluster = self.cluster
        now = cluster.now
        interval = self.layer.update_interval
        cluster.call_at(now + interval, self.update_tick)
        known = self.known_servers()
        fetched: dict[str, ServerStats] = {self.name: server_stats(self.server.node, now)}
        waiting = {name for name, srv in known.items() if srv.node_status != "left" and name != self.name}
        todo = sorted(waiting - self.outstanding)
        pending = set(todo)
        # raft-autopilot gathers the leader's LastIndex and last_log_term right before fetching
        # the remote stats (state.go gatherNextStateInputs), not when the fetch completes.
        node = self.server.node
        tick = _Tick(now, known, fetched, pending, node.last_index, node.last_term, self.raft_servers())
        for name in todo:
            self.outstanding.add(name)
            cluster.app_rpc(
                self.name, name,
                handle=lambda srv: server_stats(srv.node, self.cluster.now),
                on_reply=lambda stats, n=name, t=tick: self._fetched(t, n, stats),
                on_error=lambda reason, n=name, t=tick: self._fetched(t, n, None),
                timeout=self.layer.rpc_timeout,
            )
        if not pending:
            self._build(tick)
        else:
            cluster.call_at(now + interval // 2, self._fetch_deadline, tick)

    def _fetched(self, tick: _Tick, name: str, stats: ServerStats | None) -> None:
        self.outstanding.discard(name)
        if tick.done or not self._alive():
            return
        if stats is not None:
            tick.fetched[name] = stats
        tick.pending.discard(name)
        if not tick.pending:
            self._build(tick)

    def _fetch_deadline(self, tick: _Tick) -> None:
        if not tick.done and self._alive():
            self._build(tick)

    def _build(self, tick: _Tick) -> None:
        tick.done = True
        config = self.layer.stores[self.name].get() or self.layer.agent_config
        inputs = TickInputs(
            now=self.layer_time(tick.now), config=config, raft_servers=tick.raft_servers,
            known_servers=tick.known, latest_index=tick.latest_index, last_term=tick.last_term,
            fetched_stats=tick.fetched, leader_id=self.name, is_leader=True,
            first_state_time=self.first_state_time,
        )
        previous = self.state
        state = build_state(inputs, previous, promoter=self.layer.promoter,
                            intended_stable_since=self.layer.intended_stable_since)
        if self.first_state_time is None:
            self.first_state_time = state.first_state_time
        self.state = state
        self._log_changes(previous, state, tick)
        body = health_body(state, enterprise=self.layer.enterprise)
        if self.layer.enterprise:
            self._log_upgrade_status(previous, body)
        members = self.server.gossip.members() if self.server.gossip is not None else {}
        self.layer.record(Report(self.cluster.now, health_status(state), body, dict(members)))

    def layer_time(self, sim_ns: int) -> int:
        """Wall-clock ns for autopilot (StableSince is an absolute time): start_time + sim time."""
        return self.layer.start_time + sim_ns

    def _log_upgrade_status(self, previous: State | None, body: dict[str, Any]) -> None:
        """Enterprise: narrate each change of the upgrade migration status."""
        status = body["Upgrade"]["Status"]
        before = getattr(previous.ext, "upgrade", {}).get("Status") if previous is not None else None
        if status != before:
            target = body["Upgrade"]["TargetVersion"]
            self.recorder.event(self.cluster.now, kinds.UPGRADE_STATUS,
                                f"upgrade migration status {before or 'none'} -> {status} "
                                f"(target version {target})", before=before, after=status, target=target)

    def _log_changes(self, previous: State | None, state: State, tick: _Tick) -> None:
        now = self.cluster.now
        if previous is None:
            word = "healthy" if state.healthy else "unhealthy"
            unhealthy = sorted(sid for sid, srv in (state.servers or {}).items() if not srv.health.healthy)
            listed = f"; unhealthy: {', '.join(unhealthy)}" if unhealthy else ""
            self.recorder.event(now, kinds.AUTOPILOT_STATE,
                                f"first autopilot state on {self.name}: cluster {word}, failure tolerance "
                                f"{state.failure_tolerance}" + listed,
                                healthy=state.healthy, failure_tolerance=state.failure_tolerance)
            return
        old = previous.servers or {}
        for sid, srv in (state.servers or {}).items():
            before = old.get(sid)
            if before is not None and before.health.healthy != srv.health.healthy:
                word = "healthy" if srv.health.healthy else "unhealthy"
                why = _health_reason(srv, self.layer, self.name, tick) if not srv.health.healthy else ""
                self.recorder.event(now, kinds.HEALTH, f"{sid} turned {word}" + (f": {why}" if why else ""),
                                    server=sid, healthy=srv.health.healthy)
        if previous.failure_tolerance != state.failure_tolerance:
            self.recorder.event(now, kinds.FAILURE_TOLERANCE,
                                f"failure tolerance {previous.failure_tolerance} -> {state.failure_tolerance}",
                                before=previous.failure_tolerance, after=state.failure_tolerance)
        if previous.healthy != state.healthy:
            self.recorder.event(now, kinds.CLUSTER_HEALTH,
                                "cluster " + ("healthy" if state.healthy else "unhealthy"), healthy=state.healthy)

    # ------------------------------------------------------------------ reconcile + prune

    def _reconcile_loop(self) -> None:
        if not self._alive():
            return
        cluster = self.cluster
        now = cluster.now
        cluster.call_at(now + self.layer.reconcile_interval, self._reconcile_loop)
        if self.state is None:
            return
        config = self.layer.stores[self.name].get() or self.layer.agent_config
        result = reconcile_tick(config, self.state, self.raft_servers(), self.known_servers(), self.layer_time(now),
                                self.layer.promoter)
        node = self.server.node
        for action in result.actions:
            self._act(action, node, now)
        seen: dict[str, str] = {}
        for refusal in result.refusals:
            seen[refusal.id] = refusal.reason
            if self._last_refusals.get(refusal.id) != refusal.reason:
                self.recorder.event(now, kinds.REFUSED, f"{refusal.id}: {refusal.reason}", server=refusal.id,
                                    op=refusal.op, rule=refusal.reason)
        self._last_refusals = seen

    def _act(self, action: Any, node: Any, now: int) -> None:
        op = action.op
        rec = self.recorder
        if op in (raftcfg.ADD_VOTER, raftcfg.ADD_NONVOTER, raftcfg.DEMOTE_VOTER, raftcfg.REMOVE_SERVER):
            self.cluster.step(self.server, node.change_configuration, op, action.id, now)
            kind = {"AddVoter": kinds.PROMOTION, "DemoteVoter": kinds.DEMOTION, "RemoveServer": kinds.REMOVAL,
                    "AddNonvoter": kinds.RAFT_ADD}[op]
            rec.event(now, kind, f"{action.id}: {action.reason}", server=action.id, op=op, rule=action.reason)
        elif op == "RemoveFailedServer":
            gossip = self.server.gossip
            rec.event(now, kinds.REMOVAL, f"{action.id}: {action.reason} (force-leave of {action.name or action.id})",
                      server=action.id, op=op, rule=action.reason)
            if gossip is not None:
                gossip.force_leave(action.id, now)
                self.cluster.flush_gossip(self.server)
        elif op == "LeadershipTransfer":
            rec.event(now, kinds.LEADERSHIP_TRANSFER,
                      f"autopilot asked for a leadership transfer to {action.id}: {action.reason}",
                      server=self.name, target=action.id, rule=action.reason)
            self.cluster.step(self.server, node.transfer_leadership, action.id, now)


@dataclasses.dataclass
class _Tick:
    now: int
    known: dict[str, Server]
    fetched: dict[str, ServerStats]
    pending: set[str]
    latest_index: int  # the leader's own last index and last log term at the tick's start
    last_term: int
    raft_servers: tuple[RaftServer, ...]  # the Raft configuration at the tick's start
    done: bool = False


def _health_reason(srv: Any, layer: NomadLayer, leader: str, tick: _Tick) -> str:
    """Which rule of the health check failed: the autopilot model's words for its own rule."""
    config = layer.stores.get(leader, ConfigStore()).get() or layer.agent_config
    reason = unhealthy_reason(srv.server, srv.stats, tick.last_term, tick.latest_index,
                              config.last_contact_threshold, config.max_trailing_logs)
    return reason or "unhealthy"
