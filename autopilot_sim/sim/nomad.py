"""Nomad's server layer over the Raft engine: gossip, the FSM, and the leader's duties.

Per server: a serf/memberlist `GossipNode` (tags role=nomad, region, id, build, raft_vsn) and an
FSM holding the autopilot configuration (`ConfigStore`), fed by committed Raft entries.

On the Raft leader (`nomad/leader.go`, docs/behaviour/gossip.md §6; the per-term
duties live in sim/nomad_leader.py):
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
from typing import Any, cast

from autopilot_sim import event_kinds as kinds
from autopilot_sim.autopilot.config import AutopilotConfig, ConfigStore
from autopilot_sim.autopilot.enterprise import (
    ENTERPRISE_PROMOTER,
    TAG_NONVOTER,
    TAG_UPGRADE_VERSION,
    TAG_ZONE,
)
from autopilot_sim.autopilot.promoter import DEFAULT_PROMOTER
from autopilot_sim.durations import SECOND
from autopilot_sim.gossip.config import GossipConfig
from autopilot_sim.gossip.node import GossipNode
from autopilot_sim.raft import configuration as raftcfg
from autopilot_sim.raft import notes
from autopilot_sim.raft.messages import BARRIER, VOTER
from autopilot_sim.raft.roles import LEADER
from autopilot_sim.rng import stream
from autopilot_sim.sim.cluster import Cluster, SimServer
from autopilot_sim.sim.nomad_leader import (  # noqa: F401 - re-exported
    AUTOPILOT_ENTRY,
    NOMAD_RECONCILE_INTERVAL,
    LeaderDuties,
    Report,
    server_stats,
    stats_from_raft,
)
from autopilot_sim.sim.recorder import Recorder

LEAVE_GRACE = 5 * SECOND  # nomad/server.go raftRemoveGracePeriod
LEAVE_POLL = 50 * 1_000_000
NO_LEADER = {"error": "No cluster leader"}


class NomadLayer:
    """Gossip, FSM and leader duties for every server of a Cluster."""

    def __init__(self, cluster: Cluster, scenario: Any, recorder: Recorder) -> None:
        self.cluster = cluster
        self.recorder = recorder
        self.seed = cluster.seed
        spec = scenario.cluster
        self.start_time: int = scenario.start_time  # wall-clock anchor: StableSince is absolute
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
        cluster.apply_marks = self._special  # the same list: proposing an entry marks it at once
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
        gossip = server.gossip = GossipNode(name, self.gossip_config, stream(self.seed, "gossip", name, generation),
                                            tags=self._tags(name))
        server.gossip_timers.clear()
        gossip.start(self.cluster.now, join)
        self.cluster.flush_gossip(server)

    def restart_gossip(self, name: str) -> None:
        """A restarted process: a new serf agent that joins the others (retry_join)."""
        others = [n for n, s in self.cluster.servers.items() if n != name and s.up]
        self._start_gossip(name, others)

    def _on_gossip_events(self, server: SimServer, events: list[Any]) -> None:
        """Serf events: narrated as the leader sees them (the view autopilot uses) and handed to
        the leader's reconcile (localMemberEvent)."""
        duties = self.duties
        if duties is None or duties.server is not server or not duties.active:
            return
        now = self.cluster.now
        for event in events:
            if event.name != server.name:
                self.recorder.event(now, kinds.SERF_MEMBER, f"serf on {server.name}: {event.name} {event.type} "
                                    f"(status {event.status})", server=event.name, observer=server.name,
                                    event=event.type, status=event.status)
            duties.member_event(event)

    # ------------------------------------------------------------------ FSM

    def propose(self, server: SimServer, kind: str, data: object) -> int:
        """Append a Nomad entry (autopilot config, barrier) on the leader; returns its index or 0.

        Only these entries matter to the FSM model, so their indexes are remembered and applying
        a commit looks them up instead of scanning every committed client write."""
        def propose_entry() -> int:
            index = server.node.propose_entry(kind, data, self.cluster.now)
            if index:  # known before the engine applies a commit (a lone voter commits at once)
                insort(self._special, index)
            return index

        return self.cluster.step(server, propose_entry)

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
                config, cas = cast(tuple[AutopilotConfig, "int | None"], entry.data)
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

    def _on_note(self, cluster: Cluster, server: SimServer, note: notes.Note) -> None:
        if type(note) is notes.LeaderElected:
            if self.duties is not None:
                self.duties.stop("a new leader was elected")
            self.duties = LeaderDuties(self, server, note.term)
        elif (type(note) is notes.SteppedDown and note.previous == LEADER
              and self.duties is not None and self.duties.server is server):
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
            cluster.step(server, node.change_configuration, raftcfg.REMOVE_SERVER, name, cluster.now)
        assert server.gossip is not None  # every server runs gossip in the Nomad layer
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
            assert server.gossip is not None  # every server runs gossip in the Nomad layer
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
        self.recorder.event(cluster.now, kinds.STOPPED, f"{name} left and its process exited"
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
        if not self.cluster.step(leader, node.change_configuration, raftcfg.REMOVE_SERVER, peer_id,
                                 self.cluster.now):
            return "leadership transfer in progress"
        return None

    def transfer_leadership(self, target: str) -> bool:
        """Raft LeadershipTransferToServer on the leader; False when it cannot start (no
        leader, the target is the leader or unknown, or a transfer is already running)."""
        leader = self.cluster.leader()
        if leader is None:
            return False
        return self.cluster.step(leader, leader.node.transfer_leadership, target, self.cluster.now)
