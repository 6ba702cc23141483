"""Nomad's server layer over the Raft engine: gossip, the FSM, and the leader's duties.

Per server: a serf/memberlist `GossipNode` (tags role=nomad, region, id, build, raft_vsn) and an
FSM holding the autopilot configuration (`ConfigStore`), fed by committed Raft entries.

On the Raft leader (`nomad/leader.go`, docs/behaviour/gossip.md §6):
* leaderLoop: a Raft barrier; once it is applied, establishLeadership writes the autopilot
  configuration if the FSM has none (getOrCreateAutopilotConfig) and starts autopilot; then a
  full reconcile of serf members, again every 60 s (ReconcileInterval), and member events as
  they come (localMemberEvent → reconcileMember: alive → AddNonvoter when absent from Raft,
  left/reap → RemoveServer, failed/leaving → nothing);
* autopilot (`raft-autopilot` v0.1.6 `run.go`): a state at once, then one every update
  interval; reconcile + prune every reconcile interval; everything dropped when leadership is
  lost. Stats are fetched from each known, non-left server over the network with a deadline of
  half the update interval; a missed fetch keeps the previous stats.

Nomad profiles (`cluster.nomad_version`): "1.11" — autopilot knows serf members in every
status (a failed server shows "failed" and is removed through force-leave); "2.0" — autopilot
knows only alive members (a failed server shows "left" and is removed as a stale peer).
"""

from __future__ import annotations

import dataclasses
from bisect import bisect_left, bisect_right, insort
from typing import Any

from autopilot_sim.autopilot.config import AutopilotConfig, ConfigStore
from autopilot_sim.autopilot.enterprise import (
    ENTERPRISE_PROMOTER,
    TAG_NONVOTER,
    TAG_UPGRADE_VERSION,
    TAG_ZONE,
)
from autopilot_sim.autopilot.model import RaftServer, Server, ServerStats, State
from autopilot_sim.autopilot.promoter import DEFAULT_PROMOTER
from autopilot_sim.autopilot.reconcile import reconcile_tick
from autopilot_sim.autopilot.report import health_body, health_status
from autopilot_sim.autopilot.state import TickInputs, build_state
from autopilot_sim.durations import SECOND, DurationError, format_duration, parse_duration
from autopilot_sim.gossip.config import GossipConfig
from autopilot_sim.gossip.node import GossipNode
from autopilot_sim.raft import configuration as raftcfg
from autopilot_sim.raft.messages import BARRIER, VOTER
from autopilot_sim.raft.node import LEADER
from autopilot_sim.rng import stream
from autopilot_sim.sim.cluster import Cluster, SimServer
from autopilot_sim.sim.recorder import Recorder

AUTOPILOT_ENTRY = "autopilot"
NOMAD_RECONCILE_INTERVAL = 60 * SECOND  # nomad/config.go ReconcileInterval
LEAVE_GRACE = 5 * SECOND  # nomad/server.go raftRemoveGracePeriod
LEAVE_POLL = 50 * 1_000_000
NO_LEADER = {"error": "No cluster leader"}

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


@dataclasses.dataclass
class Report:
    """One autopilot update tick as the API would serve it."""

    t_ns: int
    status: int
    body: dict[str, Any]
    serf: dict[str, str]  # the leader's serf view at that tick (for expectations on absent servers)


class NomadLayer:
    """Gossip, FSM and leader duties for every server of a Cluster."""

    def __init__(self, cluster: Cluster, scenario: Any, recorder: Recorder) -> None:
        self.cluster = cluster
        self.recorder = recorder
        self.seed = cluster.seed
        spec = scenario.cluster
        self.start_time = scenario.start_time  # wall-clock anchor: StableSince is absolute
        self.region = spec.region
        self.enterprise = spec.enterprise
        # Enterprise: the documented enterprise promoter, fed by the servers' Serf tags.
        self.promoter = ENTERPRISE_PROMOTER if spec.enterprise else DEFAULT_PROMOTER
        self.enterprise_tags: dict[str, dict[str, str]] = {}
        self.profile = spec.nomad_version
        self.gossip_config = GossipConfig(**{
            f.name: getattr(scenario.gossip, f.name)
            for f in dataclasses.fields(GossipConfig) if hasattr(scenario.gossip, f.name)
        })
        self.agent_config = AutopilotConfig.from_scenario(**scenario.autopilot.config())
        self.update_interval = scenario.autopilot.update_interval
        self.reconcile_interval = scenario.autopilot.reconcile_interval
        # raft-autopilot v0.1.6 only resets StableSince for servers new to the state
        # (docs/behaviour/autopilot.md §4); the intended rule (reset on every health flip) is
        # an opt-in teaching setting.
        self.intended_stable_since = scenario.autopilot.stable_since_rule == "intended"
        self.rpc_timeout = scenario.raft.rpc_timeout
        self.stores: dict[str, ConfigStore] = {}
        self.versions: dict[str, str] = {s.name: s.version for s in spec.servers}
        for s in spec.servers:
            self.set_enterprise_options(s)
        self.reports: list[Report] = []
        self.duties: LeaderDuties | None = None
        self.write_results: dict[int, bool] = {}
        self._gossip_generation: dict[str, int] = {}
        self._special: list[int] = []  # indexes of autopilot-config and barrier entries ever proposed
        cluster.on_apply = self._apply
        cluster.on_gossip_events = self._on_gossip_events
        cluster.observers.append(self._on_note)
        names = list(cluster.servers)
        for name in names:
            self.stores[name] = ConfigStore()
            self._start_gossip(name, [n for n in names if n != name])
        cluster.call_at(self.update_interval, self._no_leader_tick)

    # ------------------------------------------------------------------ gossip

    def _tags(self, name: str) -> dict[str, str]:
        tags = {"role": "nomad", "region": self.region, "id": name, "build": self.versions.get(name, ""),
                "raft_vsn": "3", "port": "4647"}
        tags.update(self.enterprise_tags.get(name, {}))
        return tags

    def set_enterprise_options(self, spec: Any) -> None:
        """Enterprise server options as Nomad gossips them (nomad/server.go): `ap_zone` for
        redundancy_zone, `ap_version` for upgrade_version, `nonvoter` for non_voting_server.
        Community runs set no tags (their gossip stays byte-identical)."""
        if not self.enterprise:
            return
        tags: dict[str, str] = {}
        if spec.redundancy_zone:
            tags[TAG_ZONE] = spec.redundancy_zone
        if spec.upgrade_version:
            tags[TAG_UPGRADE_VERSION] = spec.upgrade_version
        if spec.non_voting:
            tags[TAG_NONVOTER] = "1"
        self.enterprise_tags[spec.name] = tags

    def set_upgrade_version(self, name: str, upgrade_version: str) -> None:
        """An upgrade event's new custom upgrade version (gossiped when the server restarts)."""
        if self.enterprise:
            tags = self.enterprise_tags.setdefault(name, {})
            if upgrade_version:
                tags[TAG_UPGRADE_VERSION] = upgrade_version
            else:
                tags.pop(TAG_UPGRADE_VERSION, None)

    def _start_gossip(self, name: str, join: list[str]) -> None:
        server = self.cluster.servers[name]
        generation = self._gossip_generation.get(name, 0) + 1
        self._gossip_generation[name] = generation
        server.gossip = GossipNode(name, self.gossip_config, stream(self.seed, "gossip", name, generation),
                                   tags=self._tags(name))
        server.gtimers.clear()
        server.gscheduled.clear()
        server.gossip.start(self.cluster.now, join)
        self.cluster.flush_gossip(server)

    def restart_gossip(self, name: str) -> None:
        """A restarted process: a new serf agent that joins the others (retry_join)."""
        others = [n for n, s in self.cluster.servers.items() if n != name and s.up]
        self._start_gossip(name, others)

    def _on_gossip_events(self, server: SimServer, events: list) -> None:
        """Serf events: narrated as the leader sees them (the view autopilot uses) and handed to
        the leader's reconcile (localMemberEvent)."""
        duties = self.duties
        if duties is None or duties.server is not server or not duties.active:
            return
        now = self.cluster.now
        for event in events:
            if event.name != server.name:
                self.recorder.event(now, "serf_member", f"serf on {server.name}: {event.name} {event.type} "
                                    f"(status {event.status})", server=event.name, observer=server.name,
                                    event=event.type, status=event.status)
            duties.member_event(event)

    # ------------------------------------------------------------------ FSM

    def propose(self, server: SimServer, kind: str, data: object) -> int:
        """Append a Nomad entry (autopilot config, barrier) on the leader; returns its index or 0.

        Only these entries matter to the FSM model, so their indexes are remembered and applying
        a commit looks them up instead of scanning every committed client write."""
        index = server.node.propose_entry(kind, data, self.cluster.now)
        if index:
            insort(self._special, index)
        self.cluster._flush(server)
        return index

    def _apply(self, server: SimServer, first: int, last: int) -> None:
        special = self._special
        lo = bisect_left(special, first)
        if lo == len(special) or special[lo] > last:
            return
        store = self.stores.setdefault(server.name, ConfigStore())
        log = server.node.log
        for index in special[lo:bisect_right(special, last)]:
            entry = log[index]
            if entry.kind == AUTOPILOT_ENTRY:
                config, cas = entry.data
                if cas is None:
                    store.set(config, entry.index)
                    ok = True
                else:
                    ok = store.cas(config, cas, entry.index)
                if server.node.role == LEADER:
                    self.write_results[entry.index] = ok
            elif entry.kind == BARRIER:
                duties = self.duties
                if duties is not None and duties.server is server and entry.term == duties.term:
                    duties.barrier_applied(entry.index)

    def reset_fsm(self, name: str) -> None:
        """A restarted server replays its log into a fresh FSM (no snapshots are modelled)."""
        self.stores[name] = ConfigStore()

    # ------------------------------------------------------------------ leadership

    def _on_note(self, cluster: Cluster, server: SimServer, note: tuple) -> None:
        kind = note[0]
        if kind == "leader":
            if self.duties is not None:
                self.duties.stop("a new leader was elected")
            self.duties = LeaderDuties(self, server, note[1])
        elif kind == "follower" and note[2] == LEADER:
            if self.duties is not None and self.duties.server is server:
                self.duties.stop("leadership lost")
                self.duties = None

    def server_crashed(self, name: str) -> None:
        """Forget leader duties held by a crashed process."""
        if self.duties is not None and self.duties.server.name == name:
            self.duties.stop("the leader's process died")
            self.duties = None

    def _no_leader_tick(self) -> None:
        """While there is no leader, the API answers 500 "No cluster leader" at every interval."""
        cluster = self.cluster
        if cluster.leader_name is None:
            self.record(Report(cluster.now, 500, dict(NO_LEADER), {}))
        cluster.call_at(cluster.now + self.update_interval, self._no_leader_tick)

    def record(self, report: Report) -> None:
        """Append one timeline line (the run's timeline.jsonl)."""
        self.reports.append(report)

    # ------------------------------------------------------------------ scenario operations

    def write_config(self, changes: dict[str, Any], cas: int | None = None) -> int:
        """Change some configuration keys (like `nomad operator autopilot set-config`) through
        Raft on the leader; returns the entry's index, 0 if there is no leader."""
        leader = self.cluster.leader()
        if leader is None:
            return 0
        current = self.stores[leader.name].get() or self.agent_config
        config = current.with_changes(**changes) if changes else current
        return self.write_full_config(config, cas)

    def write_full_config(self, config: AutopilotConfig, cas: int | None = None) -> int:
        """PUT /v1/operator/autopilot/configuration: full replacement, optionally check-and-set on
        ModifyIndex. Returns the Raft index of the entry (0 if there is no leader); once that index
        is applied on the leader, `write_results[index]` says whether the write (or CAS) succeeded."""
        leader = self.cluster.leader()
        if leader is None:
            return 0
        return self.propose(leader, AUTOPILOT_ENTRY, (config, cas))

    def current_config(self) -> AutopilotConfig | None:
        """The leader's FSM copy of the autopilot configuration (what GET returns), or None."""
        leader = self.cluster.leader()
        return self.stores[leader.name].get() if leader is not None else None

    def latest_report(self) -> Report | None:
        """The last health report (what GET /v1/operator/autopilot/health serves now)."""
        return self.reports[-1] if self.reports else None

    def join(self, spec: Any) -> None:
        """A new server process starts and joins the gossip pool; the leader adds it to Raft."""
        self.versions[spec.name] = spec.version
        self.set_enterprise_options(spec)
        server = self.cluster.add_server(spec.name)
        server.version = spec.version
        self.stores[spec.name] = ConfigStore()
        others = [n for n, s in self.cluster.servers.items() if n != spec.name and s.up]
        self._start_gossip(spec.name, others)

    def leave(self, name: str) -> None:
        """nomad/server.go Leave: a leader removes itself from Raft first; then serf leave;
        a follower waits (≤ 5 s) until it is out of the Raft configuration; then the process exits."""
        cluster = self.cluster
        server = cluster.servers[name]
        node = server.node
        if node.role == LEADER and sum(1 for _, s in node.latest_config if s == VOTER) > 1:
            node.change_configuration(raftcfg.REMOVE_SERVER, name, cluster.now)
            cluster._flush(server)
        server.gossip.leave(cluster.now)
        cluster.flush_gossip(server)
        cluster.call_at(cluster.now + LEAVE_POLL, self._leave_poll, name, None, server.epoch)

    def _leave_poll(self, name: str, deadline: int | None, epoch: int) -> None:
        """serf.Leave() returns once the leave has propagated; then (not leader) wait up to 5 s
        to see ourselves out of the Raft configuration; then the process exits."""
        cluster = self.cluster
        server = cluster.servers[name]
        if not server.up or server.epoch != epoch:
            return
        if deadline is None:
            if not server.gossip.leave_finished:
                cluster.call_at(cluster.now + LEAVE_POLL, self._leave_poll, name, None, epoch)
                return
            deadline = cluster.now + LEAVE_GRACE
        still_in = raftcfg.suffrage_of(server.node.latest_config, name) is not None
        if still_in and cluster.now < deadline:
            cluster.call_at(cluster.now + LEAVE_POLL, self._leave_poll, name, deadline, epoch)
            return
        self.server_crashed(name)
        cluster.stop(name)
        self.recorder.event(cluster.now, "stopped", f"{name} left and its process exited"
                            + ("" if not still_in else " (still in the Raft configuration after 5s)"),
                            server=name)

    def force_leave(self, name: str) -> bool:
        """The operator's `nomad server force-leave` on the leader (serf RemoveFailedNode)."""
        leader = self.cluster.leader()
        if leader is None or leader.gossip is None:
            return False
        leader.gossip.force_leave(name, self.cluster.now)
        self.cluster.flush_gossip(leader)
        return True


    # ------------------------------------------------------------------ operator Raft API

    def remove_raft_peer(self, peer_id: str) -> str | None:
        """`Operator.RaftRemovePeerByID` on the leader: Raft RemoveServer. Returns None when the
        leader accepted the change, else Nomad's error text (what the API answers with 500)."""
        leader = self.cluster.leader()
        if leader is None:
            return "No cluster leader"
        node = leader.node
        if raftcfg.suffrage_of(node.latest_config, peer_id) is None:
            return f'id "{peer_id}" was not found in the Raft configuration'
        try:
            raftcfg.next_configuration(node.latest_config, raftcfg.REMOVE_SERVER, peer_id)
        except raftcfg.ConfigurationError as exc:
            return str(exc)
        if not node.change_configuration(raftcfg.REMOVE_SERVER, peer_id, self.cluster.now):
            return "leadership transfer in progress"
        self.cluster._flush(leader)
        return None

    def transfer_leadership(self, target: str) -> bool:
        """Raft LeadershipTransferToServer on the leader; False when it cannot start (no
        leader, the target is the leader or unknown, or a transfer is already running)."""
        leader = self.cluster.leader()
        if leader is None:
            return False
        ok = leader.node.transfer_leadership(target, self.cluster.now)
        self.cluster._flush(leader)
        return ok


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
        self._pending_members: list = []
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
            self.recorder.event(self.cluster.now, "autopilot_stopped",
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
            self.recorder.event(now, "config_write",
                                f"{self.name} wrote the agent's autopilot configuration to Raft (index {idx})",
                                server=self.name, index=idx)
        self.recorder.event(now, "autopilot_started", f"autopilot started on {self.name} (term {self.term})",
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
        queued = any(sid == name for _, sid in node._config_queue)
        if status == "alive" and not present and not queued:
            node.change_configuration(raftcfg.ADD_NONVOTER, name, now)
            self.cluster._flush(self.server)
            self.recorder.event(now, "raft_add", f"{name} added to Raft as a non-voter (serf member alive)",
                                server=name, op="AddNonvoter")
        elif status in ("left", "reap") and present and not queued:
            node.change_configuration(raftcfg.REMOVE_SERVER, name, now)
            self.cluster._flush(self.server)
            self.recorder.event(now, "raft_remove", f"{name} removed from Raft (serf member {status})",
                                server=name, op="RemoveServer", rule=f"serf member {status}")

    # ------------------------------------------------------------------ autopilot state

    def known_servers(self) -> dict[str, Server]:
        """autopilotServers: serf members of the region (1.11: every status; 2.0: alive only)."""
        gossip = self.server.gossip
        known: dict[str, Server] = {}
        if gossip is None:
            return known
        for name, status in gossip.members().items():
            if self.layer.profile == "2.0" and status not in ("alive", "leaving"):
                continue
            info = gossip.member_info(name)
            tags = dict(info.tags) if info is not None else {}
            if tags.get("role") != "nomad" or tags.get("region") != self.layer.region:
                continue
            known[name] = Server(id=name, name=f"{name}.{self.layer.region}", address=name,
                                 node_status=_NODE_STATUS.get(status, "unknown"),
                                 version=tags.get("build", ""), meta=tags, raft_version=3)
        return known

    def raft_servers(self) -> list[RaftServer]:
        return [RaftServer(sid, sid, suffrage) for sid, suffrage in self.server.node.latest_config]

    def update_tick(self) -> None:
        """One state update: fetch stats (deadline interval/2), then build the state."""
        if not self._alive():
            return
        cluster = self.cluster
        now = cluster.now
        interval = self.layer.update_interval
        cluster.call_at(now + interval, self.update_tick)
        known = self.known_servers()
        fetched: dict[str, ServerStats] = {self.name: stats_from_raft(self.server.node.stats(now))}
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
                handle=lambda srv: srv.node.stats(self.cluster.now),
                on_reply=lambda raw, n=name, t=tick: self._fetched(t, n, raw),
                on_error=lambda reason, n=name, t=tick: self._fetched(t, n, None),
                timeout=self.layer.rpc_timeout,
            )
        if not pending:
            self._build(tick)
        else:
            cluster.call_at(now + interval // 2, self._fetch_deadline, tick)

    def _fetched(self, tick: _Tick, name: str, raw: dict[str, str] | None) -> None:
        self.outstanding.discard(name)
        if tick.done or not self._alive():
            return
        if raw is not None:
            tick.fetched[name] = stats_from_raft(raw)
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

    def _log_upgrade_status(self, previous: State | None, body: dict[str, Any]) -> None:
        """Enterprise: narrate each change of the upgrade migration status."""
        status = body["Upgrade"]["Status"]
        before = getattr(previous.ext, "upgrade", {}).get("Status") if previous is not None else None
        if status != before:
            target = body["Upgrade"]["TargetVersion"]
            self.recorder.event(self.cluster.now, "upgrade_status",
                                f"upgrade migration status {before or 'none'} -> {status} "
                                f"(target version {target})", before=before, after=status, target=target)

    def layer_time(self, sim_ns: int) -> int:
        """Wall-clock ns for autopilot (StableSince is an absolute time): start_time + sim time."""
        return self.layer.start_time + sim_ns

    def _log_changes(self, previous: State | None, state: State, tick: _Tick) -> None:
        now = self.cluster.now
        if previous is None:
            word = "healthy" if state.healthy else "unhealthy"
            unhealthy = sorted(sid for sid, srv in (state.servers or {}).items() if not srv.health.healthy)
            self.recorder.event(now, "autopilot_state",
                                f"first autopilot state on {self.name}: cluster {word}, failure tolerance "
                                f"{state.failure_tolerance}" + (f"; unhealthy: {', '.join(unhealthy)}" if unhealthy else ""),
                                healthy=state.healthy, failure_tolerance=state.failure_tolerance)
            return
        old = previous.servers or {}
        for sid, srv in (state.servers or {}).items():
            before = old.get(sid)
            if before is not None and before.health.healthy != srv.health.healthy:
                word = "healthy" if srv.health.healthy else "unhealthy"
                why = _health_reason(srv, self.layer, self.name, tick) if not srv.health.healthy else ""
                self.recorder.event(now, "health", f"{sid} turned {word}" + (f": {why}" if why else ""),
                                    server=sid, healthy=srv.health.healthy)
        if previous.failure_tolerance != state.failure_tolerance:
            self.recorder.event(now, "failure_tolerance",
                                f"failure tolerance {previous.failure_tolerance} -> {state.failure_tolerance}",
                                before=previous.failure_tolerance, after=state.failure_tolerance)
        if previous.healthy != state.healthy:
            self.recorder.event(now, "cluster_health",
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
                self.recorder.event(now, "refused", f"{refusal.id}: {refusal.reason}", server=refusal.id,
                                    op=refusal.op, rule=refusal.reason)
        self._last_refusals = seen

    def _act(self, action: Any, node: Any, now: int) -> None:
        op = action.op
        rec = self.recorder
        if op in (raftcfg.ADD_VOTER, raftcfg.ADD_NONVOTER, raftcfg.DEMOTE_VOTER, raftcfg.REMOVE_SERVER):
            node.change_configuration(op, action.id, now)
            self.cluster._flush(self.server)
            kind = {"AddVoter": "promotion", "DemoteVoter": "demotion", "RemoveServer": "removal",
                    "AddNonvoter": "raft_add"}[op]
            rec.event(now, kind, f"{action.id}: {action.reason}", server=action.id, op=op, rule=action.reason)
        elif op == "RemoveFailedServer":
            gossip = self.server.gossip
            rec.event(now, "removal", f"{action.id}: {action.reason} (force-leave of {action.name or action.id})",
                      server=action.id, op=op, rule=action.reason)
            if gossip is not None:
                gossip.force_leave(action.id, now)
                self.cluster.flush_gossip(self.server)
        elif op == "LeadershipTransfer":
            rec.event(now, "leadership_transfer",
                      f"autopilot asked for a leadership transfer to {action.id}: {action.reason}",
                      server=self.name, target=action.id, rule=action.reason)
            node.transfer_leadership(action.id, now)
            self.cluster._flush(self.server)


@dataclasses.dataclass
class _Tick:
    now: int
    known: dict[str, Server]
    fetched: dict[str, ServerStats]
    pending: set[str]
    latest_index: int  # the leader's own last index and last log term at the tick's start
    last_term: int
    raft_servers: list[RaftServer]  # the Raft configuration at the tick's start
    done: bool = False


def _health_reason(srv: Any, layer: NomadLayer, leader: str, tick: _Tick) -> str:
    """Which rule of the health check failed (docs/behaviour/autopilot.md §3, in order)."""
    config = layer.stores.get(leader, ConfigStore()).get() or layer.agent_config
    status = srv.server.node_status
    if tick.latest_index == 0 or tick.last_term == 0:
        return "no leader reference index or term yet"
    if status != "alive":
        return f"serf status {status}"
    stats = srv.stats
    if stats.last_contact < 0 or stats.last_contact > config.last_contact_threshold:
        return (f"last contact {format_duration(stats.last_contact)} > LastContactThreshold "
                f"{format_duration(config.last_contact_threshold)}")
    if stats.last_term != tick.last_term:
        return f"last log term {stats.last_term} != the leader's {tick.last_term}"
    if stats.last_index + config.max_trailing_logs < tick.latest_index:
        return (f"{tick.latest_index - stats.last_index} entries behind > MaxTrailingLogs "
                f"{config.max_trailing_logs}")
    return "unhealthy"
