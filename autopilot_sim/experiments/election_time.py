"""The Raft paper's election-time experiment (Figure 16) and the thesis's simulated WAN, on the engine.

Figure 16 of the extended Raft paper (and §9.3 of Ongaro's thesis): a five-server LogCabin
cluster on a LAN; the leader is crashed at a uniformly random point of its heartbeat interval,
right after a heartbeat broadcast (so every follower's election timer restarted at about the
same instant); two of the four survivors have a shorter log, so they cannot win; the time is
measured from the crash until the other servers receive the new leader's first heartbeat.
The heartbeat interval is half the minimum election timeout and a broadcast (round trip plus
disk write) takes about 15 ms. See docs/behaviour/papers.md §2.1.

A trial here is one `Cluster` (Raft only, no Nomad layer) with the paper's timing and vote
rules (``vote_rules="paper"``, no pre-vote):

1. *Setup*: the five servers bootstrap and elect a leader with a wider timeout range
   ``[lo, max(hi, 2·lo)]`` (a fixed 150–150 ms timeout would make the *bootstrap* election
   itself take seconds) and the experiment's heartbeat interval ``lo/2``; the run continues
   until that leader has been stable for two setup timeouts.
2. At one of the leader's heartbeat instants ``t0`` every node switches to the experiment's
   range ``[lo, hi]``; the heartbeat sent at ``t0`` re-arms each follower's timer from it.
3. At ``t0 + u``, ``u`` uniform in ``(0, lo/2)``, the leader appends one entry that reaches
   two randomly chosen followers (written into their logs directly, as if replicated) and
   crashes: the two others have the shorter log.
4. The trial ends when every surviving follower has received an AppendEntries or heartbeat
   of a newer term (the new leader's first contact); the time without a leader is the last
   of those arrivals minus the crash time. Trials longer than ``cap`` simulated time stop and
   record the cap (only the 150–150 ms line gets there: see `DEFAULT_CAP_NS`).

Latency model (``LAN``): one-way network latency uniform on 0.1–0.3 ms; every disk write
(fsync) of term, vote or log normal(2.4 ms, 0.5 ms). A candidate persists its new term and
self-vote before sending RequestVote and a voter persists the term and its vote before
answering (three writes each in this model), so the RequestVote broadcast takes
≈ 2 × 7.2 ms + 0.4 ms ≈ 15 ms, the paper's figure.

The WAN experiment is the thesis's AvailSim setup (§9.3 "Simulated WAN network"): five
servers, one-way latency uniform 30–40 ms, timeouts 300–600 ms, no disk time, every server
starting with a fresh election timer and 0, 1 or 2 servers failed; the time is until a
leader is elected.

Every trial is seeded by its own stream (root seed, experiment, range, trial number), so a
trial's result does not depend on which process or worker runs it, nor on the others.
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autopilot_sim.durations import MILLISECOND, SECOND
from autopilot_sim.raft import notes
from autopilot_sim.raft.messages import COMMAND, AppendEntries, Entry, Heartbeat
from autopilot_sim.raft.roles import LEADER
from autopilot_sim.raft.timing import RaftTiming
from autopilot_sim.rng import stream, stream_seed
from autopilot_sim.sim.cluster import Cluster, ServerSpecLite, SimServer
from autopilot_sim.sim.network import Latency, Network

#: Figure 16's top panel (randomness) and bottom panel (scale), in the paper's order.
RANDOMNESS_RANGES = ("150-150", "150-151", "150-155", "150-175", "150-200", "150-300")
SCALE_RANGES = ("12-24", "25-50", "50-100", "100-200", "150-300")
DEFAULT_RANGES = RANDOMNESS_RANGES + SCALE_RANGES[:-1]
DEFAULT_TRIALS = 1000
FIXED_TRIALS = 100  # the paper ran 100 trials of the 150-150 ms line
#: A trial stops after this much simulated time (the no-randomness line can take minutes).
DEFAULT_CAP_NS = 100 * SECOND
CSV_COLUMNS = ("timeout_range_ms", "trial", "time_without_leader_ms")

LAN_LATENCY = Latency("uniform", min=100_000, max=300_000)
LAN_DISK = Latency("normal", mean=2_400_000, stddev=500_000)
WAN_LATENCY = Latency("uniform", min=30 * MILLISECOND, max=40 * MILLISECOND)
WAN_RANGE = "300-600"
WAN_FAILED = (0, 1, 2)
SERVERS = 5


class ExperimentError(ValueError):
    """Bad experiment arguments (a malformed range, a non-positive trial count)."""


def parse_range(text: str) -> tuple[int, int]:
    """``"150-300"`` → (150, 300) in ms; the low end must be ≥ 2 and at most the high end."""
    parts = text.strip().split("-")
    try:
        lo, hi = (int(p) for p in parts)
    except ValueError:
        raise ExperimentError(f"timeout range {text!r}: expected LOW-HIGH in whole ms, e.g. 150-300") from None
    if not 2 <= lo <= hi:
        raise ExperimentError(f"timeout range {text!r}: need 2 <= LOW <= HIGH")
    return lo, hi


def trial_seed(root_seed: int, experiment: str, label: str, trial: int) -> int:
    """The seed of one trial: independent of every other trial and of the backend."""
    return stream_seed(root_seed, "experiment", experiment, label, trial) % (2**63)


#: LogCabin sends nothing to an idle follower but heartbeats; hashicorp/raft's idle
#: commit-carrying AppendEntries (every CommitTimeout) would restart the followers' timers at
#: scattered instants, so the experiments push that timeout out of the way.
IDLE_COMMIT_TIMEOUT = 3600 * SECOND


def paper_timing(lo_ns: int, hi_ns: int, heartbeat_ns: int) -> RaftTiming:
    """The Raft paper's timing model with its vote rules (no pre-vote, no idle AppendEntries)."""
    return RaftTiming(prevote=False, election_timeout_range=(lo_ns, hi_ns),
                      heartbeat_interval=heartbeat_ns, vote_rules="paper",
                      commit_timeout=IDLE_COMMIT_TIMEOUT).validate()


class _WatchedCluster(Cluster):
    """A Cluster that notes, per server, the first leader contact of a term above `after_term`."""

    after_term: int | None = None
    first_contact: dict[str, int]

    def _deliver(self, src: str, server: Any, msg: Any) -> None:
        if self.after_term is not None and type(msg) in (Heartbeat, AppendEntries) \
                and msg.term > self.after_term:
            self.first_contact.setdefault(server.name, self.env.now)
        super()._deliver(src, server, msg)


def _names(n: int) -> list[str]:
    return [f"s{i}" for i in range(1, n + 1)]


def _stable_leader(cluster: Cluster, settle: int, step: int, limit: int) -> tuple[str, int, int]:
    """Run until one leader has held for `settle` ns; returns (name, term, election time)."""
    elected: dict[str, Any] = {}

    def watch(_cluster: Cluster, server: Any, note: Any) -> None:
        if type(note) is notes.LeaderElected:
            elected.update(name=server.name, term=note.term, at=cluster.now)

    cluster.observers.append(watch)
    try:
        while cluster.now < limit:
            cluster.run(cluster.now + step)
            leader = cluster.leader()
            if leader is not None and elected.get("name") == leader.name \
                    and cluster.now - elected["at"] >= settle:
                return leader.name, elected["term"], elected["at"]
    finally:
        cluster.observers.remove(watch)
    raise RuntimeError("setup: no stable leader")  # pragma: no cover - the setup range is wide


def lan_trial(lo_ms: int, hi_ms: int, seed: int, cap_ns: int = DEFAULT_CAP_NS,
              latency: Latency = LAN_LATENCY, disk: Latency | None = LAN_DISK,
              shorter_logs: int = 2) -> int:
    """One Figure 16 trial (module docstring): ns from the leader's crash until every surviving
    follower heard from the new leader, or `cap_ns` when that had not happened by then."""
    return crash_trial(lo_ms, hi_ms, seed, cap_ns, latency, disk, shorter_logs)[0]


def crash_trial(lo_ms: int, hi_ms: int, seed: int, cap_ns: int = DEFAULT_CAP_NS,
                latency: Latency = LAN_LATENCY, disk: Latency | None = LAN_DISK,
                shorter_logs: int = 2) -> tuple[int, int]:
    """`lan_trial`, also returning how many terms the election took (1: no split vote; 0 when
    capped before any new leader)."""
    lo, hi = lo_ms * MILLISECOND, hi_ms * MILLISECOND
    heartbeat = lo // 2
    setup_hi = max(hi, 2 * lo)
    cluster = _WatchedCluster([ServerSpecLite(n) for n in _names(SERVERS)],
                              paper_timing(lo, setup_hi, heartbeat), Network(seed, latency),
                              seed=seed, disk_latency=disk)
    cluster.first_contact = {}
    leader, term, elected_at = _stable_leader(cluster, 2 * setup_hi, heartbeat, 600 * SECOND)
    # The leader heartbeats every `heartbeat` from its election: pick the next instant.
    t0 = elected_at + heartbeat * (-(-(cluster.now - elected_at) // heartbeat) + 1)
    cluster.run(t0)  # stops before the events due at t0: the heartbeat is not sent yet
    timing = paper_timing(lo, hi, heartbeat)
    for server in cluster.servers.values():
        server.node.timing = timing
    rng = stream(seed, "experiment")
    crash_at = t0 + 1 + rng.randrange(heartbeat - 1)
    cluster.run(crash_at)
    lead = cluster.servers[leader]
    if lead.node.role != LEADER or lead.node.current_term != term:  # pragma: no cover
        raise RuntimeError("setup: the leader changed before the crash")
    survivors = [n for n in _names(SERVERS) if n != leader]
    longer = rng.sample(survivors, len(survivors) - shorter_logs)
    entry = Entry(lead.node.last_index + 1, term, COMMAND, "figure16")
    for name in [leader, *longer]:
        cluster.servers[name].node.log.append(entry)
    cluster.after_term = term
    cluster.crash(leader)
    deadline = crash_at + cap_ns
    step = max(heartbeat, 5 * MILLISECOND)
    while cluster.now < deadline:
        cluster.run(min(deadline, cluster.now + step))
        new = cluster.leader()
        if new is not None:
            waiting = [n for n in survivors if n != new.name and n not in cluster.first_contact]
            if not waiting:
                others = [cluster.first_contact[n] for n in survivors if n != new.name]
                return max(others) - crash_at, new.node.current_term - term
    return cap_ns, 0


def wan_trial(failed: int, seed: int, cap_ns: int = DEFAULT_CAP_NS,
              latency: Latency = WAN_LATENCY, timeout_range: str = WAN_RANGE) -> int:
    """One AvailSim-style WAN election: fresh timers, `failed` of five servers down, no disk;
    ns until a leader is elected (or `cap_ns`)."""
    lo_ms, hi_ms = parse_range(timeout_range)
    lo, hi = lo_ms * MILLISECOND, hi_ms * MILLISECOND
    names = _names(SERVERS)
    cluster = Cluster([ServerSpecLite(n) for n in names], paper_timing(lo, hi, lo // 2),
                      Network(seed, latency), seed=seed)
    for name in stream(seed, "experiment").sample(names, failed):
        cluster.crash(name)
    elected: list[int] = []

    def on_note(c: Cluster, server: SimServer, note: notes.Note) -> None:
        if type(note) is notes.LeaderElected:
            elected.append(c.now)

    cluster.observers.append(on_note)
    step = 10 * MILLISECOND
    while not elected and cluster.now < cap_ns:
        cluster.run(min(cap_ns, cluster.now + step))
    return elected[0] if elected else cap_ns


def split_vote_probability(n: int, s: int, latency: float) -> float:
    """The thesis's first-round split-vote probability with a fixed one-way latency (§9.2):
    `s` live servers of `n`, one-way `latency` l as a fraction of the timeout range. A split
    happens when at least c = s - floor(n/2) + 1 servers time out within l of the first, i.e.
    Pr(T(c) - T(1) < l) for s uniform timeouts, which equals
    sum_{k=c-1..s} C(s, k) l^k (1-l)^(s-k)."""
    c = s - n // 2 + 1
    if c <= 1:
        return 0.0
    x = min(max(latency, 0.0), 1.0)
    return sum(math.comb(s, k) * x**k * (1 - x) ** (s - k) for k in range(c - 1, s + 1))


# ---------------------------------------------------------------------- running many trials

@dataclass(frozen=True)
class Task:
    """A chunk of trials of one line, as plain data (crosses process boundaries)."""

    experiment: str  # "election-time" or "wan"
    label: str  # "150-300", or for wan "failed=1"
    first: int
    count: int
    root_seed: int
    cap_ns: int


def run_task(task: Task) -> list[int]:
    """Run a chunk of trials; ns per trial, in trial order."""
    out = []
    for trial in range(task.first, task.first + task.count):
        seed = trial_seed(task.root_seed, task.experiment, task.label, trial)
        if task.experiment == "wan":
            out.append(wan_trial(int(task.label.split("=")[1]), seed, task.cap_ns))
        else:
            lo, hi = parse_range(task.label)
            out.append(lan_trial(lo, hi, seed, task.cap_ns))
    return out


def plan_tasks(experiment: str, lines: dict[str, int], root_seed: int, cap_ns: int,
               chunk: int = 25) -> list[Task]:
    """Split each line's trials into chunks (small enough for load balance on a few workers)."""
    tasks = []
    for label, trials in lines.items():
        for first in range(0, trials, chunk):
            tasks.append(Task(experiment, label, first, min(chunk, trials - first), root_seed, cap_ns))
    # Long chunks first (the fixed-timeout line), so no worker is left with them at the end.
    tasks.sort(key=lambda t: (t.label != "150-150", 0))
    return tasks


def run_trials(experiment: str, lines: dict[str, int], root_seed: int = 1,
               cap_ns: int = DEFAULT_CAP_NS, workers: int | None = 1, client: Any = None,
               progress: Callable[[int], None] | None = None) -> dict[str, list[int]]:
    """All trials of every line: {label: [ns per trial, in trial order]}; the same for any
    number of workers or a Dask client (each trial owns its seed)."""
    from autopilot_sim.sweep.backends import map_tasks

    tasks = plan_tasks(experiment, lines, root_seed, cap_ns)
    results: dict[str, list[int]] = {label: [0] * n for label, n in lines.items()}
    for position, values in map_tasks(run_task, tasks, workers=workers, client=client):
        task = tasks[position]
        results[task.label][task.first:task.first + task.count] = values
        if progress is not None:
            progress(task.count)
    return results


def write_csv(path: Path, results: dict[str, list[int]], label_column: str = CSV_COLUMNS[0]) -> None:
    """One row per trial; times in ms with microsecond resolution."""
    tmp = path.with_suffix(".csv.tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow((label_column, CSV_COLUMNS[1], CSV_COLUMNS[2]))
        for label, values in results.items():
            for trial, ns in enumerate(values):
                writer.writerow((label, trial, f"{ns / MILLISECOND:.3f}"))
    os.replace(tmp, path)


def quantile(values: Iterable[float], q: float) -> float:
    """The q-quantile with linear interpolation (numpy's default)."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    pos = q * (len(ordered) - 1)
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)
