"""What a request sees: an immutable picture of the cluster, taken between simulation steps.

The simulation thread builds a new `Snapshot` after every slice of simulated time and publishes
it with one attribute assignment; request threads read that attribute and never touch SimPy.
Everything a hot endpoint needs is rendered ahead: the health answer's bytes are built once per
autopilot report (not once per request), the configuration's bytes once per configuration write.

Which server answers (Nomad forwards most requests to the leader):

* ``leader`` views — the cluster's leader (the running server in the Leader role with the
  highest term). Used for every request that Nomad forwards to the leader.
* ``stale`` views — the *agent* server: the first running server in scenario order. With
  ``?stale`` Nomad lets the server that received the request answer from its own state; the
  simulator's HTTP API is one agent attached to the cluster, and this is the server it sits on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from autopilot_sim.api.wire import go_json
from autopilot_sim.autopilot.config import AutopilotConfig
from autopilot_sim.autopilot.report import NO_LEADER_ERROR
from autopilot_sim.raft.messages import VOTER


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The cluster at simulated time ``t_ns`` (never mutated after publication)."""

    t_ns: int
    paused: bool
    ended: bool
    error: str | None
    speed: float
    end_ns: int | None
    lag_ns: int
    leader: str | None
    servers: tuple[str, ...]
    agent: str | None
    health_status: int
    health_body: dict[str, Any] | None
    health_bytes: bytes
    config: AutopilotConfig | None
    config_bytes: bytes | None
    stale_config: AutopilotConfig | None
    raft: dict[str, Any] | None
    raft_stale: dict[str, Any] | None
    peers: list[str] | None
    peers_stale: list[str] | None
    stale_leader: str
    events: int
    commands: int
    reports: int


class SnapshotBuilder:
    """Builds snapshots for one `Simulation`, reusing rendered bytes while they still hold."""

    def __init__(self, sim: Any) -> None:
        self.sim = sim
        self.region = sim.scenario.cluster.region
        self._report: Any = None
        self._health: tuple[int, dict[str, Any] | None, bytes] = (500, None, NO_LEADER_ERROR.encode())
        self._config: AutopilotConfig | None = None
        self._config_bytes: bytes | None = None

    def build(self, *, paused: bool, ended: bool, error: str | None, speed: float,
              end_ns: int | None, lag_ns: int, commands: int) -> Snapshot:
        """A snapshot of the simulation now. Call from the simulation's own thread only."""
        sim = self.sim
        cluster = sim.cluster
        nomad = sim.nomad
        leader = cluster.leader_name
        agent = next((name for name, srv in cluster.servers.items() if srv.up), None)

        report = nomad.latest_report()
        # Health is the current leader's autopilot state: until that leader has produced a
        # report (a few ms after its election) there is none to serve.
        if (leader is None or report is None or report.status == 500
                or report.body.get("Leader") != leader):
            health: tuple[int, dict[str, Any] | None, bytes] = (500, None, NO_LEADER_ERROR.encode())
        else:
            if report is not self._report:
                self._report = report
                self._health = (report.status, report.body, go_json(report.body))
            health = self._health

        config = nomad.stores[leader].get() if leader is not None and leader in nomad.stores else None
        if config is not self._config:
            self._config = config
            self._config_bytes = go_json(config.to_wire()) if config is not None else None
        stale_config = nomad.stores[agent].get() if agent is not None and agent in nomad.stores else None

        return Snapshot(
            t_ns=cluster.now, paused=paused, ended=ended, error=error, speed=speed, end_ns=end_ns,
            lag_ns=lag_ns, leader=leader, servers=tuple(cluster.servers), agent=agent,
            health_status=health[0], health_body=health[1], health_bytes=health[2],
            config=config, config_bytes=self._config_bytes, stale_config=stale_config,
            raft=self._raft_view(leader), raft_stale=self._raft_view(agent),
            peers=self._peers(leader), peers_stale=self._peers(agent),
            stale_leader=(cluster.servers[agent].node.leader or "") if agent is not None else "",
            events=len(sim.recorder.events), commands=commands, reports=len(nomad.reports),
        )

    def _peers(self, name: str | None) -> list[str] | None:
        """Status.Peers on server ``name``: the addresses of its latest Raft configuration."""
        if name is None:
            return None
        return [sid for sid, _ in self.sim.cluster.servers[name].node.latest_config]

    def _raft_view(self, name: str | None) -> dict[str, Any] | None:
        """Operator.RaftGetConfiguration on server ``name`` (nomad/operator_endpoint.go).

        Node is the serf member's name (``<name>.<region>``, as in the health report) and
        RaftProtocol its ``raft_vsn`` tag, or "(unknown)" / "unknown" for a Raft peer the
        server's serf does not know. Addresses are server names, as in the health report.
        """
        if name is None:
            return None
        server = self.sim.cluster.servers[name]
        node = server.node
        gossip = server.gossip
        members = gossip.members() if gossip is not None else {}
        leader = node.leader or ""
        servers = []
        for sid, suffrage in node.latest_config:
            known = sid in members
            info = gossip.member_info(sid) if known and gossip is not None else None
            servers.append({
                "ID": sid,
                "Node": f"{sid}.{self.region}" if known else "(unknown)",
                "Address": sid,
                "Leader": sid == leader,
                "Voter": suffrage == VOTER,
                "RaftProtocol": (dict(info.tags).get("raft_vsn", "unknown") if info is not None else "unknown"),
            })
        return {"Servers": servers or None, "Index": node.latest_config_index}
