"""The engine's side of events that take a server down for a while: ``rolling_restart`` and
``upgrade`` with ``down_for``.

The scenario side (`autopilot_sim.scenario.rolling`) says what they mean and why a rolling
restart stays one event that expands when it fires. Here it fires: the servers and their order
are chosen then (``leader-last``: the leader of that moment last; ``followers-first``: at each
step), written to events.jsonl in a ``rolling_restart`` line, and every later stop and every
start is scheduled at once — so they run after the scenario's own events of their instant, in
step order, a step's start before the next step's stop at the same instant (the order the check
before the run assumes). A stop is a crash to the cluster (SIGTERM without leave); its line is a
``crash`` with ``step: "k/n"``, the start a ``restart`` (or ``upgrade`` with a version).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from autopilot_sim.durations import format_duration as fmt
from autopilot_sim.scenario.rolling import Step, leader_last, next_follower_first, plan_steps

if TYPE_CHECKING:
    from autopilot_sim.sim.runner import Simulation


def _fail(event: Any, index: int, t_ns: int, message: str) -> Exception:
    from autopilot_sim.sim.runner import ScenarioRunError

    return ScenarioRunError(event, index, t_ns, message)


class RollingRestart:
    """One ``rolling_restart`` event while it runs."""

    def __init__(self, sim: Simulation, index: int, event: Any) -> None:
        self.sim, self.index, self.event = sim, index, event
        self.spec = event.rolling_restart
        self.chosen: list[str | None] = []
        self.remaining: list[str] = []

    def begin(self) -> None:
        """Choose the servers (and, except for followers-first, the order), record the choice,
        take the first server down and schedule the rest."""
        sim, spec, cluster = self.sim, self.spec, self.sim.cluster
        now = cluster.now
        if spec.names is None:
            servers = sim.running_servers()
            if not servers:
                raise _fail(self.event, self.index, now, "no server is running: servers: all has nothing to restart")
        else:
            servers = [sim.resolve(n, self.event, self.index) for n in spec.names]
        leader = cluster.leader_name
        if spec.order == "as-listed":
            order: list[str] | None = servers
            how = "as listed"
        elif spec.order == "leader-last":
            order = leader_last(servers, leader)
            how = (f"leader-last: {leader} leads now, it goes last" if leader in servers
                   else "leader-last: no leader among them now, so as listed")
        else:
            order = None
            how = "followers-first: each step takes the first server left that does not lead then"
        self.remaining = list(servers)
        steps = plan_steps(spec, now, servers)
        self.chosen = list(order) if order is not None else [None] * len(steps)
        listing = ", ".join(order) if order is not None else ", ".join(servers) + " (order chosen at each step)"
        what = f"upgrade to {spec.version}" if spec.version else "restart"
        sim.recorder.event(now, "rolling_restart",
                           f"rolling {what} of {len(steps)} servers, one every {fmt(spec.interval)}, each down for "
                           f"{fmt(spec.down_for)}: {listing} ({how})",
                           servers=servers, order=spec.order, order_used=order, interval=fmt(spec.interval),
                           down_for=fmt(spec.down_for), **({"version": spec.version} if spec.version else {}))
        for k, step in enumerate(steps):
            if k == 0:
                self.down(step)
            else:
                cluster.call_at(step.down_at, self.down, step)
            cluster.call_at(step.up_at, self.up, step)

    def down(self, step: Step) -> None:
        """Stop step's server (chosen now for followers-first)."""
        sim, cluster = self.sim, self.sim.cluster
        now = cluster.now
        name = self.chosen[step.number - 1]
        if name is None:
            name = next_follower_first(self.remaining, cluster.leader_name)
            self.chosen[step.number - 1] = name
        self.remaining.remove(name)
        if not cluster.servers[name].up:
            raise _fail(self.event, self.index, now, f"rolling restart step {step.label}: {name} is already down "
                                                     "(an earlier event took it down); a step stops a running server")
        was_leader = name == cluster.leader_name
        sim.stop_server(name)
        sim.recorder.event(now, "crash", f"rolling restart step {step.label}: {name} down for "
                           f"{fmt(self.spec.down_for)} (stopped without leaving"
                           + ("; it was the leader)" if was_leader else ")"),
                           server=name, step=step.label, cause="rolling_restart")

    def up(self, step: Step) -> None:
        """Start step's server again (on the new version, for a rolling upgrade)."""
        sim, cluster = self.sim, self.sim.cluster
        now = cluster.now
        name = self.chosen[step.number - 1]
        assert name is not None  # its stop ran first: it was scheduled earlier, at an earlier time
        if cluster.servers[name].up:
            raise _fail(self.event, self.index, now, f"rolling restart step {step.label}: {name} is running again "
                                                     "before its step ends (an earlier event started it)")
        version = self.spec.version
        old = sim.start_server(name, version)
        if version is None:
            sim.recorder.event(now, "restart", f"rolling restart step {step.label}: {name} started again with its "
                               "persisted term and log", server=name, step=step.label, cause="rolling_restart")
        else:
            sim.recorder.event(now, "upgrade", f"rolling restart step {step.label}: {name} started on version "
                               f"{version} (was {old})", server=name, version=version, step=step.label,
                               cause="rolling_restart")


def upgrade_with_downtime(sim: Simulation, index: int, event: Any, name: str) -> None:
    """``upgrade`` with ``down_for``: stop ``name`` now, start it on the new version later."""
    spec = event.upgrade
    cluster = sim.cluster
    now = cluster.now
    was_leader = name == cluster.leader_name
    sim.stop_server(name)
    sim.recorder.event(now, "crash", f"{name} stopped for its upgrade to {spec.version}, down for "
                       f"{fmt(spec.down_for)}" + (" (it was the leader)" if was_leader else ""),
                       server=name, cause="upgrade")

    def start() -> None:
        if cluster.servers[name].up:
            raise _fail(event, index, cluster.now, f"{name} is running again before its upgrade's down_for ends")
        old = sim.start_server(name, spec.version, spec.upgrade_version)
        sim.recorder.event(cluster.now, "upgrade", f"{name} restarted on version {spec.version} (was {old}) "
                           f"after {fmt(spec.down_for)} down", server=name, version=spec.version)

    cluster.call_at(now + spec.down_for, start)
