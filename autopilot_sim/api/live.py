"""A simulation that runs with the wall clock, driven by its own thread, for the HTTP API.

SimPy is not thread safe, so one thread owns the simulation and nothing else touches it:

* **Time.** The thread steps the SimPy environment up to ``speed × (wall time since start)``
  (never past the end), in slices of a few milliseconds of CPU, then sleeps on a condition
  variable for at most `TICK` seconds. A command wakes it at once, so an idle simulation never
  delays a request.
* **Reads.** After every slice the thread publishes a `Snapshot` (one attribute assignment);
  request threads read the latest one and take no lock at all.
* **Writes** are commands (an autopilot configuration write, a scenario event, pause /
  resume). A request enqueues one and waits (bounded) for its result. The thread first brings
  the simulation up to the wall-clock time of arrival, then applies the command at that
  definite simulated time and records it in the run's event log (``events.jsonl``) with
  everything needed to apply it again.

**Replay.** Commands are applied only at a *clean boundary*: every event before the current
time processed, none at or after it — exactly the state ``env.run(until=now)`` leaves. Where the
slices stop in between cannot change what happens (SimPy orders events by time, priority and
creation order, and slicing creates none), so `replay` re-runs a served session from its
``events.jsonl`` in virtual time and reproduces its run directory byte for byte.

Why one module of ~750 lines: the thread loop, the command handlers and `replay` act on the same
private state (pending writes and transfers, the failure, the clean-boundary clock), and `replay`
drives the very handlers the thread uses, so a replay cannot drift from a session. Splitting them
would make that state a public surface for one caller.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from autopilot_sim.api.snapshot import Snapshot, SnapshotBuilder
from autopilot_sim.autopilot.config import AutopilotConfig
from autopilot_sim.durations import SECOND, format_duration
from autopilot_sim.raft import notes
from autopilot_sim.raft.roles import LEADER
from autopilot_sim.sim.cluster import SimulationError
from autopilot_sim.sim.invariants import SafetyViolation
from autopilot_sim.sim.runner import RunResult, ScenarioRunError, Simulation

if TYPE_CHECKING:
    from autopilot_sim.sim.nomad import NomadLayer

#: Longest wall-clock sleep of the simulation thread between slices (seconds). Bounds how
#: stale a snapshot's clock can be.
TICK = 0.01
#: CPU budget of one slice when catching up (seconds): bounds how long a command can wait.
SLICE_BUDGET = 0.005
#: CPU budget to reach the arrival time of a command before applying it (seconds).
COMMAND_BUDGET = 0.05
#: How long a write waits for its Raft entry to be applied (wall seconds).
WRITE_TIMEOUT = 10.0
#: How long any other command waits for the simulation thread (wall seconds).
COMMAND_TIMEOUT = 10.0

#: Event-log kinds that `replay` applies again (everything else is output).
REPLAYED_KINDS = ("api_event", "api_event_rejected", "api_config_write", "api_config_write_failed",
                  "api_raft_remove", "api_raft_remove_failed", "api_leadership_transfer",
                  "api_leadership_transfer_failed")
#: Attempts Nomad makes at a leadership transfer before giving up (nomad/leader.go).
TRANSFER_ATTEMPTS = 3

_FOREVER = float("inf")
SCENARIO_END = "scenario"


class ReplayError(RuntimeError):
    """A recorded session that cannot be replayed (a different scenario or seed, or an edited log)."""


@dataclass
class CommandResult:
    """What a command produced: an HTTP status and either a JSON value or an error text."""

    status: int
    value: Any = None
    error: str | None = None


@dataclass
class _Command:
    kind: str  # "write" | "event" | "pause" | "resume" | "speed" | "step"
    payload: Any = None
    done: threading.Event = field(default_factory=threading.Event)
    result: CommandResult | None = None

    def finish(self, result: CommandResult) -> None:
        self.result = result
        self.done.set()


@dataclass
class _PendingTransfer:
    """A leadership transfer the API asked for: answered once the old leader stepped down, or
    with an error after `TRANSFER_ATTEMPTS` timed-out attempts."""

    command: _Command
    leader: str
    term: int
    target: str
    reply: dict[str, Any]
    attempts: int = 1
    error: str | None = None


@dataclass
class _PendingWrite:
    command: _Command
    index: int
    cas: int | None
    leader: str
    term: int


def _reason(exc: BaseException) -> str:
    """The human part of a ScenarioRunError ("events[3].crash at 1s: node1 is down" → the end)."""
    text = str(exc)
    if isinstance(exc, ScenarioRunError):
        head = f"events[{exc.index}].{exc.event.kind} at {format_duration(exc.t_ns)}: "
        if head in text:
            return text.split(head, 1)[1]
    return text


class LiveSimulation:
    """One scenario run against the wall clock; see the module docstring.

    ``end`` is where simulated time stops: the scenario's ``duration`` by default, a number of
    ns, or None to run until stopped. ``clock`` (seconds, monotonic) is injectable for tests.
    """

    def __init__(self, scenario: Any, *, seed: int | None = None, speed: float = 1.0,
                 end: int | str | None = SCENARIO_END, paused: bool = False,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if not speed > 0:
            raise ValueError(f"speed must be positive, got {speed}")
        self.sim = Simulation(scenario, seed=seed)
        self.scenario = self.sim.scenario
        self.seed = self.sim.seed
        self.speed = float(speed)
        self.end: int | None = self.scenario.duration if end == SCENARIO_END else end  # type: ignore[assignment]
        self._clock = clock
        self._cond = threading.Condition()
        self._queue: list[_Command] = []
        self._pending: list[_PendingWrite] = []
        self._paused = paused
        self._anchor_wall = clock()
        self._anchor_sim = 0
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None
        self.error: str | None = None
        self.ended = threading.Event()
        self.commands = 0
        self.max_lag_ns = 0
        self.write_timeout = WRITE_TIMEOUT  # wall seconds a PUT waits for its entry to apply
        self._live_index = len(self.scenario.events)
        self._builder = SnapshotBuilder(self.sim)
        self._finished: RunResult | None = None
        self._done: list[tuple[_Command, CommandResult]] = []
        self._snapshot = self._build_snapshot(0)
        self._transfers: list[_PendingTransfer] = []
        self.sim.cluster.observers.append(self._on_note)
        #: Callables run on the simulation thread after every published snapshot (the web view
        #: builds its frames there: only that thread may read the simulation).
        self.publish_hooks: list[Callable[[], None]] = []

    # ------------------------------------------------------------------ public, any thread

    @property
    def snapshot(self) -> Snapshot:
        """The latest published snapshot (no lock: one attribute read)."""
        return self._snapshot

    @property
    def running(self) -> bool:
        """Whether the simulation thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def nomad(self) -> NomadLayer:
        """The run's Nomad layer (a live simulation always runs one)."""
        layer = self.sim.nomad
        assert layer is not None, "a live simulation runs the Nomad layer"
        return layer

    @property
    def paused(self) -> bool:
        """Whether simulated time is held (``/v1/sim/pause``)."""
        return self._paused

    def wake(self) -> None:
        """Wake the simulation thread now (a paused one otherwise sleeps up to 0.5 s), e.g. so
        that it publishes a fresh snapshot for a viewer that just arrived."""
        with self._cond:
            self._cond.notify_all()

    def start(self) -> None:
        """Start the simulation thread; simulated time starts advancing now."""
        if self._thread is not None:
            raise RuntimeError("already started")
        self._anchor_wall = self._clock()
        self._thread = threading.Thread(target=self._run, name="autopilot-sim-live", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the simulation thread (the simulation keeps its state for `result`)."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)

    def run_until(self, t_ns: int) -> Snapshot:
        """Advance in virtual time (as fast as possible) to ``t_ns``, before `start`: e.g. serve
        a cluster that has already run for a minute. The wall-clock anchor moves along, so the
        clock continues from there once started."""
        if self.running:
            raise RuntimeError("run_until is for a simulation whose thread is not running")
        self._advance(t_ns, None)
        self._anchor_sim = self.sim.cluster.now
        self._anchor_wall = self._clock()
        self._publish()
        return self._snapshot

    def submit_write(self, config: AutopilotConfig, cas: int | None,
                     timeout: float | None = None) -> CommandResult:
        """PUT /v1/operator/autopilot/configuration: propose the write, wait until its Raft
        entry is applied on the leader. 200 with True/False, or an error status and text."""
        return self._submit(_Command("write", (config, cas)), self.write_timeout if timeout is None else timeout,
                            "timed out waiting for the configuration write to be applied "
                            "(the simulation is paused, or slower than the wall clock)")

    def submit_remove_peer(self, peer_id: str, timeout: float = COMMAND_TIMEOUT) -> CommandResult:
        """DELETE /v1/operator/raft/peer?id=: Raft RemoveServer on the leader. 200 once the
        leader accepted the change (Nomad waits for the commit; here it is milliseconds away)."""
        return self._submit(_Command("remove_peer", peer_id), timeout, "timed out waiting for the simulation")

    def submit_transfer(self, by: str, value: str, timeout: float | None = None) -> CommandResult:
        """PUT /v1/operator/raft/transfer-leadership?id= (by "id") or ?address= (by "address"):
        answered once the old leader stepped down, with Nomad's LeadershipTransferResponse."""
        return self._submit(_Command("transfer", (by, value)), self.write_timeout if timeout is None else timeout,
                            "timed out waiting for the leadership transfer "
                            "(the simulation is paused, or slower than the wall clock)")

    def submit_event(self, event: Any, timeout: float = COMMAND_TIMEOUT) -> CommandResult:
        """Apply a scenario event (its ``at`` is ignored: it fires now)."""
        return self._submit(_Command("event", event), timeout, "timed out waiting for the simulation")

    def pause(self, timeout: float = COMMAND_TIMEOUT) -> CommandResult:
        """Stop the simulated clock (reads keep answering; events can still be injected)."""
        return self._submit(_Command("pause"), timeout, "timed out waiting for the simulation")

    def resume(self, timeout: float = COMMAND_TIMEOUT) -> CommandResult:
        """Restart the simulated clock from where it stopped (no catch-up burst)."""
        return self._submit(_Command("resume"), timeout, "timed out waiting for the simulation")

    def set_speed(self, speed: float, timeout: float = COMMAND_TIMEOUT) -> CommandResult:
        """Change how many simulated seconds pass per wall second, from now on."""
        return self._submit(_Command("speed", float(speed)), timeout, "timed out waiting for the simulation")

    def step(self, by_ns: int | None = None, timeout: float = COMMAND_TIMEOUT) -> CommandResult:
        """While paused: process the next instant that has events (every event at that time), or
        advance ``by_ns`` of simulated time. Stops at a clean boundary, so replay is unaffected."""
        return self._submit(_Command("step", by_ns), timeout, "timed out waiting for the simulation")

    def state(self) -> dict[str, Any]:
        """GET /v1/sim/time: the clock and the session, as a JSON-ready dict."""
        snap = self._snapshot
        return {
            "Scenario": self.scenario.name,
            "Seed": self.seed,
            "Time": format_duration(snap.t_ns),
            "TimeNs": snap.t_ns,
            "End": format_duration(snap.end_ns) if snap.end_ns is not None else None,
            "EndNs": snap.end_ns,
            "Speed": snap.speed,
            "Paused": snap.paused,
            "Ended": snap.ended,
            "BehindWallClock": format_duration(snap.lag_ns),
            "BehindWallClockNs": snap.lag_ns,
            "Leader": snap.leader or "",
            "Commands": snap.commands,
            "Events": snap.events,
            "Reports": snap.reports,
            "Error": snap.error,
        }

    def result(self) -> RunResult:
        """Finish the session (stops the thread) and build its `RunResult` (run directory).

        The event log ends with a ``session_end`` line at the final simulated time; expectations
        are evaluated over the reports up to then, as `run` does.
        """
        if self._finished is not None:
            return self._finished
        self.stop()
        sim = self.sim
        cluster = sim.cluster
        now = cluster.now
        sim.recorder.event(now, "session_end",
                           f"served session ended at {format_duration(now)} after {self.commands} API "
                           f"command{'s' if self.commands != 1 else ''}", commands=self.commands,
                           scenario=self.scenario.name, seed=self.seed)
        sim.duration = now
        failure = self._failure

        def _already_there(until: int) -> None:  # Simulation.run() must not step any further
            if isinstance(failure, SafetyViolation):
                raise failure

        result = sim.run(advance=_already_there)
        if self.error is not None and result.error is None:
            result.error = self.error
        self._finished = result
        return result

    # ------------------------------------------------------------------ simulation thread

    def _submit(self, command: _Command, timeout: float, timeout_text: str) -> CommandResult:
        with self._cond:
            if self._stopping or self._thread is None or not self._thread.is_alive():
                return CommandResult(503, error="the simulation is not running")
            self._queue.append(command)
            self._cond.notify_all()
        if not command.done.wait(timeout):
            return CommandResult(500, error=timeout_text)
        assert command.result is not None
        return command.result

    def _wall_target(self) -> float:
        """Where simulated time should be now (ns, may be fractional; inf never)."""
        if self._paused or self.ended.is_set() or self._failure is not None:
            return self.sim.cluster.now
        target = self._anchor_sim + (self._clock() - self._anchor_wall) * self.speed * SECOND
        end = self.end if self.end is not None else _FOREVER
        return min(target, end)

    def _run(self) -> None:
        try:
            while True:
                with self._cond:
                    if self._stopping:
                        break
                    commands, self._queue = self._queue, []
                if commands:
                    self._advance(self._wall_target(), COMMAND_BUDGET)
                    for command in commands:
                        self._execute(command)
                else:
                    self._advance(self._wall_target(), SLICE_BUDGET)
                self._resolve_writes()
                self._resolve_transfers()
                behind = self._publish()
                self._flush_done()  # after publishing: a client sees its own write
                with self._cond:
                    if self._stopping or self._queue:
                        continue
                    if self._paused or self.ended.is_set():
                        self._cond.wait(0.5)
                    elif not behind:
                        self._cond.wait(TICK)
        finally:
            self._abort_waiting("the simulation stopped")

    def _finish(self, command: _Command, result: CommandResult) -> None:
        """Answer ``command`` once the next snapshot is published."""
        self._done.append((command, result))

    def _flush_done(self) -> None:
        done, self._done = self._done, []
        for command, result in done:
            command.finish(result)

    def _abort_waiting(self, text: str) -> None:
        self._flush_done()
        with self._cond:
            queued, self._queue = self._queue, []
        for command in queued:
            command.finish(CommandResult(503, error=text))
        for pending in self._pending:
            pending.command.finish(CommandResult(503, error=text))
        self._pending.clear()
        for transfer in self._transfers:
            transfer.command.finish(CommandResult(503, error=text))
        self._transfers.clear()

    def _advance(self, target: float, budget: float | None) -> None:
        """Step the simulation towards ``target`` ns; stop early (at a clean boundary) when the
        CPU ``budget`` (seconds, None = unbounded) is spent. Never raises: a failure stops the
        clock and is kept in ``error``."""
        if self._failure is not None:
            return
        try:
            self._step_to(int(target), budget)
        except BaseException as exc:  # keep serving; report the failure
            self._fail(exc)
        else:
            if self.end is not None and self.sim.cluster.now >= self.end:
                self.ended.set()

    def _step_to(self, target: int, budget: float | None) -> None:
        cluster = self.sim.cluster
        env = cluster.env
        if target <= env.now:
            return
        deadline = None if budget is None else time.perf_counter() + budget
        peek, step = env.peek, env.step
        count = 0
        while peek() < target:
            step()
            count += 1
            if deadline is not None and not count & 15 and time.perf_counter() > deadline:
                # Finish every event at the current time, then stop right before the next one:
                # the same state env.run(until=<that time>) leaves.
                while peek() == env.now:
                    step()
                target = min(target, int(peek()))
                break
        if target > env.now:
            cluster.run(target)

    def _fail(self, exc: BaseException) -> None:
        cluster = self.sim.cluster
        self._failure = exc
        if isinstance(exc, SafetyViolation):
            self.error = str(exc)
        elif isinstance(exc, ScenarioRunError):
            self.error = str(exc)
            self.sim.recorder.event(cluster.now, "scenario_error", f"scenario event failed: {exc}")
        else:
            self.error = f"internal error: {type(exc).__name__}: {exc}"
            self.sim.recorder.event(cluster.now, "internal_error", self.error)
        self.ended.set()

    def _publish(self) -> bool:
        """Publish a new snapshot; returns whether the simulation is behind the wall clock."""
        lag = 0
        if not (self._paused or self.ended.is_set() or self._failure is not None):
            lag = max(0, int(self._wall_target()) - self.sim.cluster.now)
            self.max_lag_ns = max(self.max_lag_ns, lag)
        self._snapshot = self._build_snapshot(lag)
        for hook in self.publish_hooks:
            hook()
        return lag > int(TICK * self.speed * SECOND)

    def _build_snapshot(self, lag: int) -> Snapshot:
        return self._builder.build(paused=self._paused, ended=self.ended.is_set(), error=self.error,
                                   speed=self.speed, end_ns=self.end, lag_ns=lag, commands=self.commands)

    # ------------------------------------------------------------------ commands

    def _stopped_text(self) -> str | None:
        now = format_duration(self.sim.cluster.now)
        if self._failure is not None:
            return f"the simulation stopped at {now}: {self.error}"
        if self.ended.is_set():
            return (f"the simulation ended at {now} (serve with a later --until, or --until forever, "
                    "to keep the cluster running)")
        return None

    def _execute(self, command: _Command) -> None:
        kind = command.kind
        if kind == "pause":
            self._paused = True
            self._finish(command, CommandResult(200))
            return
        if kind == "resume":
            if self._paused:
                self._paused = False
                self._anchor_wall = self._clock()
                self._anchor_sim = self.sim.cluster.now
            self._finish(command, CommandResult(200))
            return
        if kind == "speed":
            if not self._paused:  # re-anchor: the new rate applies from the current instant
                self._anchor_wall = self._clock()
                self._anchor_sim = self.sim.cluster.now
            self.speed = command.payload
            self._finish(command, CommandResult(200))
            return
        stopped = self._stopped_text()
        if stopped is None and kind == "step":
            self._step(command)
            return
        if stopped is not None:
            self._finish(command, CommandResult(409, error=stopped))
            return
        try:
            if kind == "write":
                self._write(command)
            elif kind == "remove_peer":
                self._remove_peer(command)
            elif kind == "transfer":
                self._transfer(command)
            else:
                self._inject(command)
        except BaseException as exc:
            self._fail(exc)
            self._finish(command, CommandResult(500, error=self.error))

    def _step(self, command: _Command) -> None:
        if not self._paused:
            self._finish(command, CommandResult(409, error="step needs a paused simulation (POST /v1/sim/pause first)"))
            return
        env = self.sim.cluster.env
        # The next instant with a simulation event (the engine's loop holds only the model's).
        upcoming = env.peek() if len(env) else _FOREVER
        if not command.payload and upcoming == _FOREVER:
            self._finish(command, CommandResult(409, error="nothing is scheduled: there is no next event"))
            return
        target = env.now + command.payload if command.payload else int(upcoming) + 1
        if self.end is not None:
            target = min(target, self.end)
        self._advance(target, None)
        self._anchor_sim = self.sim.cluster.now
        self._finish(command, CommandResult(200))

    def _write(self, command: _Command) -> None:
        config, cas = command.payload
        sim = self.sim
        cluster = sim.cluster
        now = cluster.now
        leader = cluster.leader()
        wire = {k: v for k, v in config.to_wire().items() if k not in ("CreateIndex", "ModifyIndex")}
        self.commands += 1
        index = self.nomad.write_full_config(config, cas) if leader is not None else 0
        if not index:
            sim.recorder.event(now, "api_config_write_failed",
                               "API: autopilot configuration write refused: No cluster leader",
                               cas=cas, config=wire)
            self._finish(command, CommandResult(500, error="No cluster leader"))
            return
        how = f"check-and-set on ModifyIndex {cas}" if cas is not None else "full replacement"
        sim.recorder.event(now, "api_config_write",
                           f"API: autopilot configuration written to Raft at index {index} ({how})",
                           index=index, cas=cas, config=wire)
        assert leader is not None
        self._pending.append(_PendingWrite(command, index, cas, leader.name, leader.node.current_term))

    def _resolve_writes(self) -> None:
        if not self._pending:
            return
        cluster = self.sim.cluster
        results = self.nomad.write_results
        keep = []
        for pending in self._pending:
            ok = results.get(pending.index)
            if ok is not None:
                self._finish(pending.command, CommandResult(200, value=ok if pending.cas is not None else True))
                continue
            leader = cluster.leader()
            if leader is None or leader.name != pending.leader or leader.node.current_term != pending.term:
                self._finish(pending.command, CommandResult(500, error="leadership lost while committing log"))
                continue
            keep.append(pending)
        self._pending = keep

    def _remove_peer(self, command: _Command) -> None:
        peer = command.payload
        sim = self.sim
        now = sim.cluster.now
        self.commands += 1
        error = self.nomad.remove_raft_peer(peer)
        if error is None:
            sim.recorder.event(now, "api_raft_remove", f"API: Raft peer {peer} removed (RemoveServer)",
                               server=peer, peer=peer)
            self._finish(command, CommandResult(200))
        else:
            sim.recorder.event(now, "api_raft_remove_failed", f"API: removing Raft peer {peer} failed: {error}",
                               peer=peer, error=error)
            self._finish(command, CommandResult(500, error=error))

    def _transfer(self, command: _Command) -> None:
        """Operator.TransferLeadershipToPeer on the leader (nomad/operator_endpoint.go)."""
        by, value = command.payload
        sim = self.sim
        cluster = sim.cluster
        now = cluster.now
        self.commands += 1
        leader = cluster.leader()

        def failed(status: int, error: str) -> None:
            sim.recorder.event(now, "api_leadership_transfer_failed",
                               f"API: leadership transfer to {by} {value} failed: {error}",
                               by=by, value=value, error=error)
            self._finish(command, CommandResult(status, error=error))

        if leader is None:
            failed(500, "No cluster leader")
            return
        # In the simulator a server's Raft ID and address are both its name.
        target = next((sid for sid, _ in leader.node.latest_config if sid == value), None)
        if target is None:
            failed(400, f'{by} "{value}" was not found in the Raft configuration')
            return
        reply: dict[str, Any] = {"From": {"Address": leader.name, "ID": leader.name},
                                 "To": {"Address": target, "ID": target}, "Noop": target == leader.name,
                                 "Err": None}
        if target == leader.name:
            sim.recorder.event(now, "api_leadership_transfer",
                               f"API: leadership transfer to {target}: already the leader (no-op)",
                               by=by, value=value, target=target, noop=True)
            self._finish(command, CommandResult(200, value=reply))
            return
        if not self.nomad.transfer_leadership(target):
            failed(500, "leadership transfer in progress")
            return
        sim.recorder.event(now, "api_leadership_transfer",
                           f"API: leadership transfer from {leader.name} to {target} requested",
                           by=by, value=value, target=target, noop=False)
        self._transfers.append(_PendingTransfer(command, leader.name, leader.node.current_term, target, reply))

    def _on_note(self, cluster: Any, server: Any, note: object) -> None:
        """A timed-out transfer attempt is retried (Nomad tries `TRANSFER_ATTEMPTS` times)."""
        if type(note) is not notes.TransferTimedOut or not self._transfers:
            return
        for transfer in self._transfers:
            if transfer.leader != server.name or transfer.term != note.term or transfer.error is not None:
                continue
            if transfer.attempts >= TRANSFER_ATTEMPTS:
                transfer.error = (f"failed to transfer leadership in {TRANSFER_ATTEMPTS} attempts. "
                                  "last error: leadership transfer timeout")
            else:
                transfer.attempts += 1
                cluster.call_at(cluster.now, self._retry_transfer, transfer)

    def _retry_transfer(self, transfer: _PendingTransfer) -> None:
        sim = self.sim
        leader = sim.cluster.leader()
        if leader is None or leader.name != transfer.leader or leader.node.current_term != transfer.term:
            return  # leadership moved anyway: resolved as done
        sim.recorder.event(sim.cluster.now, "api_leadership_transfer_retry",
                           f"API: leadership transfer to {transfer.target} timed out; attempt "
                           f"{transfer.attempts} of {TRANSFER_ATTEMPTS}", target=transfer.target)
        if not self.nomad.transfer_leadership(transfer.target):
            transfer.error = "leadership transfer in progress"

    def _resolve_transfers(self) -> None:
        if not self._transfers:
            return
        servers = self.sim.cluster.servers
        keep = []
        for transfer in self._transfers:
            node = servers[transfer.leader].node
            moved = not servers[transfer.leader].up or node.role != LEADER or node.current_term != transfer.term
            if moved:
                self._finish(transfer.command, CommandResult(200, value=transfer.reply))
            elif transfer.error is not None:
                reply = dict(transfer.reply, Err={})  # a Go error value marshals as {}
                self._finish(transfer.command, CommandResult(500, value=reply, error=transfer.error))
            else:
                keep.append(transfer)
        self._transfers = keep

    def _inject(self, command: _Command) -> None:
        sim = self.sim
        recorder = sim.recorder
        now = sim.cluster.now
        event = command.payload.model_copy(update={"at": now})
        data = {k: v for k, v in event.model_dump(mode="json", by_alias=True, exclude_none=True).items()
                if k != "at"}
        index = self._live_index
        self._live_index += 1
        self.commands += 1
        before = len(recorder.events)
        try:
            sim.apply_event(index, event)
        except (ScenarioRunError, SimulationError) as exc:
            reason = _reason(exc)
            recorder.event(now, "api_event_rejected", f"API: {event.kind} rejected: {reason}", event=data)
            self._finish(command, CommandResult(
                409, error=f"cannot apply {event.kind} at {format_duration(now)}: {reason}"))
            return
        messages = [e["message"] for e in recorder.events[before:]]
        # The API line goes before what the event caused, so the log reads in order.
        recorder.event(now, "api_event", f"API: {event.kind} injected", event=data)
        recorder.events.insert(before, recorder.events.pop())
        self._finish(command, CommandResult(200, value={
            "Time": format_duration(now), "TimeNs": now, "Kind": event.kind, "Event": data,
            "Messages": messages,
        }))


# --- replay -------------------------------------------------------------------------------------


def replay(scenario: Any, events: Iterable[dict[str, Any]], *, seed: int | None = None,
           observe: Callable[[Simulation], None] | None = None, every: int = 0) -> RunResult:
    """Re-run a served session in virtual time from its ``events.jsonl`` records.

    Every API command in the log is applied again at its recorded time, in the recorded order;
    the session ends where its ``session_end`` line says. With the same scenario and seed the
    result's files are byte-identical to the served session's. Raises `ReplayError` when the
    log does not fit the scenario (e.g. a write lands at another Raft index).
    ``observe(sim)`` (optional) is called every ``every`` ns of simulated time, at clean
    boundaries (the web replay takes its frames there; observing changes nothing).
    """
    from autopilot_sim.scenario.events import Event
    from autopilot_sim.scenario.loader import YAML_CONTEXT

    records = list(events)
    live = LiveSimulation(scenario, seed=seed, end=None, paused=True)
    cluster = live.sim.cluster
    next_frame = [0]

    def advance(t_ns: int) -> None:
        while observe is not None and every > 0 and next_frame[0] <= t_ns and live._failure is None:
            live._advance(next_frame[0], None)
            observe(live.sim)
            next_frame[0] += every
        live._advance(t_ns, None)

    end: int | None = None
    for record in records:
        if record.get("kind") == "session_end":
            end = int(record["t_ns"])
            if record.get("scenario", live.scenario.name) != live.scenario.name:
                raise ReplayError(f"the session ran scenario {record['scenario']!r}, not {live.scenario.name!r}")
            if record.get("seed", live.seed) != live.seed:
                raise ReplayError(f"the session ran with seed {record['seed']}, this replay with seed {live.seed}: "
                                  "give the same seed (or use the session's scenario.yaml)")
    for record in records:
        kind = record.get("kind")
        if kind not in REPLAYED_KINDS:
            continue
        t_ns = int(record["t_ns"])
        advance(t_ns)
        if live._failure is not None:
            raise ReplayError(f"the replay stopped at {format_duration(cluster.now)}: {live.error}")
        if cluster.now != t_ns:
            raise ReplayError(f"cannot go back to {record.get('t')}: the log is not in time order")
        if kind.startswith("api_raft_remove"):
            live._remove_peer(_Command("remove_peer", record["peer"]))
            live._flush_done()
            continue
        if kind.startswith("api_leadership_transfer"):
            live._transfer(_Command("transfer", (record["by"], record["value"])))
            live._flush_done()
            continue
        if kind in ("api_event", "api_event_rejected"):
            event = Event.model_validate({"at": format_duration(t_ns), **record["event"]}, context=YAML_CONTEXT)
            command = _Command("event", event)
            live._inject(command)
            live._flush_done()
            applied = command.result is not None and command.result.status == 200
            if applied != (kind == "api_event"):
                raise ReplayError(f"the {event.kind} at {record.get('t')} was "
                                  f"{'accepted' if kind == 'api_event' else 'rejected'} in the session "
                                  "but not in the replay (another scenario or seed?)")
        else:
            config = AutopilotConfig.from_wire(record["config"])
            command = _Command("write", (config, record.get("cas")))
            live._write(command)
            index = live._pending[-1].index if live._pending and live._pending[-1].command is command else 0
            if index != record.get("index", 0):
                raise ReplayError(f"the configuration write at {record.get('t')} went to Raft index {index}, "
                                  f"the session's went to {record.get('index', 0)} (another scenario or seed?)")
            live._pending.clear()
            live._flush_done()
    if end is not None:
        advance(end)
    live.ended.set()
    return live.result()
