"""Run a scenario: build the cluster from the typed scenario, fire its events, collect outputs.

`Simulation(scenario).run()` returns a `RunResult`; `RunResult.write(dir)` writes the run
directory files (DESIGN.md "Run directory"). Targets such as `leader` or `follower[1]` are
resolved when the event fires; a target that cannot be resolved then is a `ScenarioRunError`
that names the event's line, its time and what was there instead.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from autopilot_sim.durations import SECOND, format_duration
from autopilot_sim.raft.messages import NONVOTER, STAGING, VOTER
from autopilot_sim.raft.roles import FOLLOWER
from autopilot_sim.raft.timing import RaftTiming
from autopilot_sim.sim.cluster import Cluster, ServerSpecLite, SimulationError
from autopilot_sim.sim.collector import fewer_collections
from autopilot_sim.sim.expectations import ExpectationResult, evaluate
from autopilot_sim.sim.invariants import SafetyViolation
from autopilot_sim.sim.metrics import scenario_metrics
from autopilot_sim.sim.network import Latency, Network
from autopilot_sim.sim.nomad import NomadLayer
from autopilot_sim.sim.recorder import Recorder
from autopilot_sim.sim.rolling import RollingRestart, upgrade_with_downtime
from autopilot_sim.sim.rundir import write_run_dir


class ScenarioRunError(RuntimeError):
    """An event that cannot be carried out when it fires (e.g. `crash: leader` with no leader)."""

    def __init__(self, event: Any, index: int, t_ns: int, message: str) -> None:
        self.event = event
        self.index = index
        self.t_ns = t_ns
        self.reason = message
        line = getattr(event, "line", 0)
        where = f"line {line}: " if line else ""
        super().__init__(f"{where}events[{index}].{event.kind} at {format_duration(t_ns)}: {message}")


def latency_from_spec(spec: Any) -> Latency:
    """Convert a scenario distribution model (or a dict) into the engine's Latency."""
    get = spec.get if isinstance(spec, dict) else (lambda k, d=None: getattr(spec, k, d))
    return Latency(
        distribution=cast(str, get("distribution")),  # required by the scenario model
        value=get("value", 0) or 0,
        min=get("min", 0) or 0,
        max=get("max", 0) or 0,
        mean=get("mean", 0) or 0,
        stddev=get("stddev", 0) or 0,
        median=get("median", 0) or 0,
        sigma=float(get("sigma", 0.0) or 0.0),
    )


def timing_from_spec(raft: Any) -> RaftTiming:
    """The node timing for a scenario's `raft:` block (raft_multiplier applied)."""
    eff = raft.effective()
    return RaftTiming(
        heartbeat_timeout=eff.heartbeat_timeout,
        election_timeout=eff.election_timeout,
        commit_timeout=eff.commit_timeout,
        leader_lease_timeout=eff.leader_lease_timeout,
        max_append_entries=raft.max_append_entries,
        prevote=raft.prevote,
        rpc_timeout=raft.rpc_timeout,
        election_timeout_range=tuple(raft.election_timeout_range) if raft.election_timeout_range else None,
        heartbeat_interval=raft.heartbeat_interval,
        vote_rules=raft.vote_rules or "hashicorp",
    ).validate()


@dataclass
class RunResult:
    """Everything a finished run produced (machine-independent)."""

    scenario: Any
    seed: int
    duration: int
    recorder: Recorder
    summary: dict[str, Any]
    timeline: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    expectation_results: list[ExpectationResult] = field(default_factory=list)

    @property
    def failed_expectations(self) -> list[ExpectationResult]:
        """The expectations that did not hold."""
        return [r for r in self.expectation_results if not r.passed]

    def write(self, out_dir: str | Path) -> Path:
        """Write events.jsonl, summary.json, timeline.jsonl and scenario.yaml into out_dir, as one
        set: a failure part-way leaves the previous run's files as they were (see `rundir`)."""
        resolved = self.scenario.to_resolved_yaml() if hasattr(self.scenario, "to_resolved_yaml") else ""
        return write_run_dir(out_dir, {
            "events.jsonl": self.recorder.events_jsonl(),
            "summary.json": json.dumps(self.summary, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
            "timeline.jsonl": "".join(json.dumps(line, separators=(",", ":"), ensure_ascii=False) + "\n"
                                      for line in self.timeline),
            "scenario.yaml": resolved,
        })


class Simulation:
    """One run of one scenario with one seed; owns its SimPy environment."""

    def __init__(self, scenario: Any, seed: int | None = None, until: int | None = None,
                 *, nomad: bool = True, check_safety: bool = True) -> None:
        """`nomad=False` runs the Raft cluster alone (no gossip, no autopilot; for benchmarks);
        `check_safety=False` skips the Raft safety checks (benchmarks, sweeps; noted in summary.json)."""
        self.check_safety = check_safety
        self.seed = scenario.seed if seed is None else seed
        if self.seed != scenario.seed:  # the resolved scenario.yaml must reproduce this run
            scenario = scenario.model_copy(update={"seed": self.seed})
        self.scenario = scenario
        self.duration = scenario.duration if until is None else min(until, scenario.duration)
        self.recorder = Recorder()
        net_spec = scenario.network
        self.network = Network(self.seed, latency_from_spec(net_spec.latency), net_spec.loss)
        servers = scenario.cluster.servers
        bootstrap = scenario.cluster.bootstrap_expect or len(servers)
        # Read replicas (enterprise non_voting) never bootstrap as voters; they join as non-voters.
        voting = [s.name for s in servers if not s.non_voting]
        specs = [ServerSpecLite(s.name, voter=s.name in voting[:bootstrap]) for s in servers]
        disk = scenario.raft.disk_write_latency
        self.cluster = Cluster(
            specs,
            timing_from_spec(scenario.raft),
            self.network,
            seed=self.seed,
            recorder=self.recorder,
            writes_per_second=scenario.load.writes_per_second,
            disk_latency=latency_from_spec(disk) if disk is not None else None,
            check_safety=check_safety,
        )
        for s in servers:
            self.cluster.servers[s.name].version = s.version
        for link in net_spec.links:
            self._set_link(link)
        self.nomad = NomadLayer(self.cluster, scenario, self.recorder) if nomad else None
        # `restart: follower` after `crash: follower` means the server that crash took down.
        self._crashed_by_target: dict[str, str] = {}
        self._left: set[str] = set()  # servers a leave event was aimed at (maybe still leaving)
        for position, event in enumerate(scenario.events):  # sorted by time (stable) by the scenario
            index = getattr(event, "index", None)
            if event.at <= self.duration:  # messages name the event's place in the file
                self.cluster.call_at(event.at, self._fire, position if index is None else index, event)

    # ------------------------------------------------------------------ events

    def _set_link(self, link: Any) -> None:
        latency = latency_from_spec(link.latency) if link.latency is not None else None
        self.network.set_link(link.from_, link.to, latency=latency, loss=link.loss)

    def resolve(self, target: str, event: Any, index: int) -> str:
        """A server name for `target` at the current time (roles are resolved now)."""
        from autopilot_sim.scenario.types import parse_target

        ref = parse_target(target)
        cluster = self.cluster
        now = cluster.now
        if ref.name is not None:
            if ref.name not in cluster.servers:
                raise ScenarioRunError(event, index, now, f'no server "{ref.name}" in the cluster now')
            return ref.name
        if ref.role == "leader":
            if cluster.leader_name is None:
                raise ScenarioRunError(event, index, now, "there is no leader at this time")
            return cluster.leader_name
        candidates = sorted(name for name, server in cluster.servers.items()
                            if server.up and self._has_role(name, ref.role))
        if ref.index >= len(candidates):
            have = ", ".join(candidates) or "none"
            raise ScenarioRunError(event, index, now,
                                   f"{target} does not exist at this time ({ref.role}s by name: {have})")
        return candidates[ref.index]

    def _has_role(self, name: str, role: str | None) -> bool:
        node = self.cluster.servers[name].node
        if role == "follower":
            return node.role == FOLLOWER
        leader = self.cluster.leader()
        config = (leader.node if leader else node).latest_config
        suffrage = next((s for sid, s in config if sid == name), None)
        if role == "voter":
            return suffrage == VOTER
        if role == "non-voter":
            return suffrage in (NONVOTER, STAGING)
        return False

    def _fire(self, index: int, event: Any) -> None:
        """Apply one scenario event; an error propagates out of env.run and stops the run."""
        try:
            self.apply_event(index, event)
        except SimulationError as exc:
            raise ScenarioRunError(event, index, self.cluster.now, str(exc)) from exc

    def apply_event(self, index: int, event: Any) -> None:
        """Carry out scenario event `index` now (the live API applies its injected events here)."""
        cluster, rec, now = self.cluster, self.recorder, self.cluster.now
        kind, payload = event.kind, event.payload
        if kind == "crash":
            name = self.resolve(payload, event, index)
            self._guard(event, index, cluster.servers[name].up, f"{name} is already down")
            was_leader = name == cluster.leader_name
            from autopilot_sim.scenario.types import canonical_target

            self._crashed_by_target[canonical_target(payload)] = name
            if self.nomad is not None:
                self._layer.server_crashed(name)
            cluster.crash(name)
            rec.event(now, "crash", f"{name} crashed" + (" (it was the leader)" if was_leader else ""), server=name)
        elif kind == "restart":
            from autopilot_sim.scenario.types import canonical_target, parse_target

            if parse_target(payload).is_role:
                crashed = self._crashed_by_target.get(canonical_target(payload))
                if crashed is None:
                    raise ScenarioRunError(event, index, now, f"no earlier crash of {payload} to undo")
                name = crashed
            else:
                name = self.resolve(payload, event, index)
            self._end_leave(name)
            self._guard(event, index, not cluster.servers[name].up, f"{name} is running (crash it first)")
            if self.nomad is not None:
                self._layer.reset_fsm(name)
            cluster.restart(name)
            self._left.discard(name)
            if self.nomad is not None:
                self._layer.restart_gossip(name)
            rec.event(now, "restart", f"{name} restarted with its persisted term and log", server=name)
        elif kind == "pause":
            name = self.resolve(payload.server, event, index)
            self._guard(event, index, cluster.servers[name].up, f"{name} is down")
            cluster.pause(name, payload.for_)
            rec.event(now, "pause", f"{name} paused for {format_duration(payload.for_)}", server=name,
                      duration=format_duration(payload.for_))
        elif kind == "partition":
            groups = [[self.resolve(t, event, index) for t in group] for group in payload]
            self.network.partition(groups)
            rec.event(now, "partition", "network partitioned: " + " | ".join(", ".join(g) for g in groups),
                      groups=groups)
        elif kind == "cut":
            src, dst = self.resolve(payload.from_, event, index), self.resolve(payload.to, event, index)
            traffic = getattr(payload, "traffic", "all")
            self.network.cut(src, dst, traffic)
            what = "" if traffic == "all" else f" for {traffic} traffic"
            rec.event(now, "cut", f"link {src} -> {dst} cut (one way){what}", source=src, target=dst, traffic=traffic)
        elif kind == "heal":
            if payload == "all":
                self.network.heal()
                rec.event(now, "heal", "network healed")
            else:
                a, b = self.resolve(payload.from_, event, index), self.resolve(payload.to, event, index)
                self.network.heal(a, b)
                rec.event(now, "heal", f"link {a} <-> {b} healed", source=a, target=b)
        elif kind == "set_network":
            latency = latency_from_spec(payload.latency) if payload.latency is not None else None
            self.network.set_defaults(latency=latency, loss=payload.loss)
            for link in payload.links or []:
                self._set_link(link)
            rec.event(now, "set_network", "network changed: " + _describe_patch(payload))
        elif kind == "set_load":
            cluster.set_load(payload.writes_per_second)
            rec.event(now, "set_load", f"client load set to {payload.writes_per_second:g} writes/s",
                      writes_per_second=payload.writes_per_second)
        elif self.nomad is None and (kind in ("join", "leave", "force_leave", "upgrade", "set_autopilot")
                                     or (kind == "rolling_restart" and payload.version is not None)):
            raise ScenarioRunError(event, index, now, f"{kind} needs the Nomad layer (gossip and autopilot), "
                                                      "which this Raft-only simulation runs without")
        elif kind == "join":
            self._end_leave(payload.name)  # a server that left may join again, as a new server
            self._guard(event, index, payload.name not in cluster.servers or not cluster.servers[payload.name].up,
                        f"a server named {payload.name} is already running")
            self._left.discard(payload.name)
            self._layer.join(payload)
            rec.event(now, "join", f"{payload.name} (version {payload.version}) started and joins the cluster",
                      server=payload.name, version=payload.version)
        elif kind == "leave":
            name = self.resolve(payload, event, index)
            self._guard(event, index, cluster.servers[name].up, f"{name} is down")
            rec.event(now, "leave", f"{name} leaves the cluster gracefully", server=name)
            self._left.add(name)
            self._layer.leave(name)
        elif kind == "force_leave":
            name = self.resolve(payload, event, index)
            ok = self._layer.force_leave(name)
            rec.event(now, "force_leave", f"operator force-leave of {name}"
                      + ("" if ok else " failed: no cluster leader"), server=name)
        elif kind == "upgrade":
            name = self.resolve(payload.server, event, index)
            self._guard(event, index, cluster.servers[name].up, f"{name} is down")
            down_for = getattr(payload, "down_for", None)
            if down_for is None:
                self.stop_server(name)
                old = self.start_server(name, payload.version, payload.upgrade_version)
                rec.event(now, "upgrade", f"{name} restarted on version {payload.version} (was {old})",
                          server=name, version=payload.version)
            else:
                upgrade_with_downtime(self, index, event, name)
        elif kind == "rolling_restart":
            RollingRestart(self, index, event).begin()
        elif kind == "set_autopilot":
            changes = payload.changes()
            index = self._layer.write_config(changes)
            described = ", ".join(f"{k}={_show(k, v)}" for k, v in changes.items())
            if index:
                rec.event(now, "config_write", f"autopilot configuration write at index {index}: {described}",
                          index=index, changes={k: _show(k, v) for k, v in changes.items()})
            else:
                rec.event(now, "config_write_failed",
                          f"autopilot configuration write failed: No cluster leader ({described})")
        else:  # pragma: no cover - the schema admits no other kind
            raise ScenarioRunError(event, index, now, f"unknown event kind {kind}")

    @property
    def _layer(self) -> NomadLayer:
        """The Nomad layer, for events that need it (`_apply` refuses them in a Raft-only run)."""
        assert self.nomad is not None
        return self.nomad

    def running_servers(self) -> list[str]:
        """The servers whose process runs now and that are not leaving, in the scenario's order
        (``cluster.servers``, then joins): what a rolling restart's ``servers: all`` covers."""
        names = self.scenario.server_names()
        return [n for n in names if n in self.cluster.servers and self.cluster.servers[n].up and n not in self._left]

    def stop_server(self, name: str) -> None:
        """Stop a running server's process without a leave: to its peers, a crash."""
        if self.nomad is not None:
            self._layer.server_crashed(name)
        self.cluster.crash(name)

    def start_server(self, name: str, version: str | None = None, upgrade_version: str | None = None) -> str:
        """Start a stopped server with its persisted state, on ``version`` when given (and the
        Enterprise ``upgrade_version``); returns the version it ran before."""
        old = self._layer.versions.get(name, "") if self.nomad is not None else ""
        if version is not None:
            self._layer.versions[name] = version
            if upgrade_version is not None:
                self._layer.set_upgrade_version(name, upgrade_version)
            self.cluster.servers[name].version = version
        if self.nomad is not None:
            self._layer.reset_fsm(name)
        self.cluster.restart(name)
        if self.nomad is not None:
            self._layer.restart_gossip(name)
        return old

    def _end_leave(self, name: str) -> None:
        """Starting a server that is still leaving (its process waits for the leave to spread)
        first ends that process, as an operator's restart would."""
        server = self.cluster.servers.get(name)
        if name in self._left and server is not None and server.up:
            self._layer.server_crashed(name)
            self.cluster.stop(name)
            self.recorder.event(self.cluster.now, "stopped", f"{name} stopped before it finished leaving",
                                server=name)

    def _guard(self, event: Any, index: int, ok: bool, message: str) -> None:
        if not ok:
            raise ScenarioRunError(event, index, self.cluster.now, message)

    # ------------------------------------------------------------------ run

    def run(self, progress: Callable[[int, int], None] | None = None,
            advance: Callable[[int], None] | None = None) -> RunResult:
        """Run to the scenario's duration (or --until); safety violations stop the run.

        `progress(now, end)` is called about 200 times along the way when given (running in
        chunks does not change the outcome: SimPy keeps the relative order of all events).
        `advance(until)` replaces `cluster.run` (a served session that stepped the clock itself)."""
        error: str | None = None
        if advance is None:
            advance = self.cluster.run
        try:
            with fewer_collections():
                if progress is None:
                    advance(self.duration)
                else:
                    step = max(1, self.duration // 200)
                    t = 0
                    while t < self.duration:
                        t = min(self.duration, t + step)
                        advance(t)
                        progress(t, self.duration)
        except SafetyViolation as exc:
            error = str(exc)
            self.recorder.event(exc.t_ns, "safety_violation", str(exc), rule=exc.rule, servers=exc.servers)
        reports = self._layer.reports if self.nomad is not None else []
        end = self.cluster.now
        results = evaluate(list(self.scenario.expect), reports, end) if error is None else []
        for r in results:
            verdict = "skipped" if r.skipped else "held" if r.passed else "FAILED"
            self.recorder.event(end, "expectation", f"expect[{r.index}] ({r.description}) {verdict}"
                                + ("" if r.passed else f": {r.detail}"),
                                index=r.index, passed=r.passed, detail=r.detail)
        timeline = [{"t_ns": r.t_ns, "t": format_duration(r.t_ns), "status": r.status, "health": r.body}
                    for r in reports]
        summary = self.summary(error)
        if not self.check_safety:  # recorded only when off, so default summaries keep their bytes
            summary["safety_checks"] = False
        summary.update(health_summary(reports, end))
        summary.update(scenario_metrics(self.scenario, self.recorder.events, timeline, end))
        summary["expectations"] = [r.to_json() for r in results]
        counts: dict[str, int] = {}
        for e in self.recorder.events:
            counts[e["kind"]] = counts.get(e["kind"], 0) + 1
        summary["promotions"] = counts.get("promotion", 0)
        summary["demotions"] = counts.get("demotion", 0)
        # Servers taken out of Raft: by Nomad's serf path (graceful leave, force-leave, reap) or
        # by autopilot directly (stale peers); a failed-server decision executes via the first.
        summary["removals"] = counts.get("raft_remove", 0) + sum(
            1 for e in self.recorder.events if e["kind"] == "removal" and e.get("op") == "RemoveServer")
        result = RunResult(self.scenario, self.seed, self.duration, self.recorder, summary, timeline, error=error)
        result.expectation_results = results
        return result

    def summary(self, error: str | None = None) -> dict[str, Any]:
        """summary.json: counts and times, nothing machine-dependent."""
        c = self.cluster
        end = c.now
        return {
            "scenario": self.scenario.name,
            "seed": self.seed,
            "duration": format_duration(end),
            "duration_ns": end,
            "servers": len(c.servers),
            "elections": c.elections_started,
            "leaders_elected": c.leaders_elected,
            "leader_changes": c.leader_changes,
            "final_leader": c.leader_name,
            "final_term": c.leader_term,
            "messages": {"sent": c.messages_sent, "delivered": c.messages_delivered, "lost": c.messages_lost},
            "writes": {"accepted": c.writes_accepted, "rejected": c.writes_rejected},
            "time_without_leader": format_duration(c.time_without_leader),
            "time_without_leader_s": round(c.time_without_leader / SECOND, 9),
            "safety_violation": error,
        }


_DURATION_KEYS = {"last_contact_threshold", "server_stabilization_time"}


def _show(key: str, value: Any) -> Any:
    """A configuration value as the user wrote it: durations as Go duration strings."""
    if isinstance(value, bool):
        return str(value).lower()
    return format_duration(value) if key in _DURATION_KEYS and isinstance(value, int) else value


def _describe_patch(patch: Any) -> str:
    parts = []
    if patch.latency is not None:
        parts.append(f"latency {patch.latency.distribution}")
    if patch.loss is not None:
        parts.append(f"loss {patch.loss:g}")
    for link in patch.links or []:
        parts.append(f"link {link.from_} -> {link.to}")
    return ", ".join(parts) or "no change"


def health_summary(reports: list[Any], end: int) -> dict[str, Any]:
    """Time unhealthy and failure tolerance over the timeline.

    Each report holds until the next one (the last until the end of the run). A 500 "No
    cluster leader" report counts as unhealthy; the failure-tolerance figures cover only the
    reports that had a leader (a 500 carries no FailureTolerance: it is not "tolerance 0"), and
    the leaderless time is `time_without_leader`.
    """
    unhealthy = 0
    weighted = 0
    covered = 0
    minimum: int | None = None
    for i, r in enumerate(reports):
        nxt = reports[i + 1].t_ns if i + 1 < len(reports) else end
        span = max(0, nxt - r.t_ns)
        if r.status != 200:
            unhealthy += span
        if r.status == 500:
            continue
        ft = r.body.get("FailureTolerance", 0)
        weighted += ft * span
        covered += span
        minimum = ft if minimum is None else min(minimum, ft)
    return {
        "health_reports": len(reports),
        "time_unhealthy": format_duration(unhealthy),
        "time_unhealthy_s": round(unhealthy / SECOND, 9),
        "failure_tolerance_min": minimum,
        "failure_tolerance_time_weighted": round(weighted / covered, 6) if covered else None,
    }
