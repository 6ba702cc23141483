"""Byte-identity guard: engine changes must not change any run's output.

Runs every scenario of the library (`scenarios/*.yaml`, each with its own seed, as
`tests/test_scenario_library.py` runs them), the runs of the determinism tests (the demo with
seeds 3, 7 and 8 as `tests/test_cli_run.py` runs it; the engine fault sequence of
`tests/test_engine.py` with seeds 21 and 22), two Raft-only engine runs (a 5-server cluster at
10 writes/s, with and without disk latency) and two under the Raft paper's rules (its vote rules
with its timing and with hashicorp/raft's), and compares the SHA-256 of every run-directory file
(timeline.jsonl, events.jsonl, summary.json, scenario.yaml) — or, for engine-level runs, of the
events, stats, logs and counters — with the digests recorded in
`tests/testdata/golden-digests.json`.

Regenerate the digests with

    python tests/test_golden_digests.py --rewrite

A rewrite must come with a documented bug fix: the commit that rewrites the digests says which
behaviour changed and why the old output was wrong. A speed or structure change must leave
every digest as it is. (New summary metrics change summary.json by design; the digests are then
regenerated with the change that adds them.)
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(REPO))
SCENARIO_DIR = REPO / "scenarios"
GOLDEN = Path(__file__).resolve().parent / "testdata" / "golden-digests.json"
RUN_FILES = ("events.jsonl", "scenario.yaml", "summary.json", "timeline.jsonl")


def _sha(data: bytes | str) -> str:
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def _run_dir_digests(scenario_path: Path, seed: int | None = None) -> dict[str, str]:
    from autopilot_sim.scenario import load_scenario
    from autopilot_sim.sim.runner import Simulation

    result = Simulation(load_scenario(scenario_path), seed=seed).run()
    with tempfile.TemporaryDirectory() as tmp:
        out = result.write(Path(tmp) / "run")
        return {name: _sha((out / name).read_bytes()) for name in RUN_FILES}


def _cluster_digests(cluster) -> dict[str, str]:
    names = sorted(cluster.servers)
    stats = json.dumps([cluster.stats(n) for n in names], sort_keys=True)
    logs = json.dumps([[[e.index, e.term, repr(e.data)] for e in cluster.servers[n].node.log] for n in names])
    counters = json.dumps([cluster.messages_sent, cluster.messages_delivered, cluster.messages_lost,
                           cluster.writes_accepted, cluster.writes_rejected, cluster.elections_started,
                           cluster.leaders_elected, cluster.leader_changes, cluster.time_without_leader])
    return {"events": _sha(cluster.recorder.events_jsonl()), "stats": _sha(stats), "logs": _sha(logs),
            "counters": _sha(counters)}


def _engine_fault_sequence(seed: int) -> dict[str, str]:
    sys.path.insert(0, str(REPO / "tests"))
    from test_engine import run_scenario  # the determinism test's own fault sequence

    return _cluster_digests(run_scenario(seed))


def _raft_only(disk: bool) -> dict[str, str]:
    from autopilot_sim.durations import MILLISECOND, SECOND
    from autopilot_sim.raft.timing import RaftTiming
    from autopilot_sim.sim.cluster import Cluster, ServerSpecLite
    from autopilot_sim.sim.network import Latency, Network

    network = Network(4, Latency("uniform", min=1 * MILLISECOND, max=5 * MILLISECOND), 0.01)
    disk_latency = Latency("uniform", min=1 * MILLISECOND, max=20 * MILLISECOND) if disk else None
    cluster = Cluster([ServerSpecLite(f"node{i}") for i in range(1, 6)], RaftTiming(), network, seed=4,
                      writes_per_second=10, disk_latency=disk_latency)
    cluster.run(20 * SECOND)
    cluster.crash(cluster.leader_name or "node1")
    cluster.run(40 * SECOND)
    return _cluster_digests(cluster)


def _paper_rules(paper_timing: bool) -> dict[str, str]:
    """The Raft paper's rules, which no library scenario uses: its vote rules without pre-vote,
    with its timing (150-300 ms election timeouts, 50 ms heartbeats) or with hashicorp/raft's.
    A leader crash, then a partition of two servers and its heal, under load on a lossy LAN."""
    from autopilot_sim.durations import MILLISECOND, SECOND
    from autopilot_sim.raft.timing import RaftTiming
    from autopilot_sim.sim.cluster import Cluster, ServerSpecLite
    from autopilot_sim.sim.network import Latency, Network

    if paper_timing:
        timing = RaftTiming(prevote=False, election_timeout_range=(150 * MILLISECOND, 300 * MILLISECOND),
                            heartbeat_interval=50 * MILLISECOND, vote_rules="paper")
    else:
        timing = RaftTiming(prevote=False, vote_rules="paper")
    network = Network(5, Latency("uniform", min=1 * MILLISECOND, max=5 * MILLISECOND), 0.01)
    cluster = Cluster([ServerSpecLite(f"node{i}") for i in range(1, 6)], timing, network, seed=5,
                      writes_per_second=10)
    cluster.run(5 * SECOND)
    cluster.crash(cluster.leader_name or "node1")
    cluster.run(8 * SECOND)
    network.partition([["node1", "node2"]])
    cluster.run(12 * SECOND)
    network.heal()
    cluster.run(20 * SECOND)
    return _cluster_digests(cluster)


def cases() -> dict[str, Callable[[], dict[str, str]]]:
    """Every guarded run, by a stable name."""
    out: dict[str, Callable[[], dict[str, str]]] = {}
    for path in sorted(SCENARIO_DIR.glob("*.yaml")):
        out[f"scenario/{path.stem}"] = lambda path=path: _run_dir_digests(path)
    for seed in (3, 7, 8):
        out[f"demo/seed{seed}"] = lambda seed=seed: _run_dir_digests(SCENARIO_DIR / "demo.yaml", seed)
    for seed in (21, 22):
        out[f"engine/faults-seed{seed}"] = lambda seed=seed: _engine_fault_sequence(seed)
    out["engine/raft-only"] = lambda: _raft_only(False)
    out["engine/raft-only-disk"] = lambda: _raft_only(True)
    out["engine/paper-timing"] = lambda: _paper_rules(True)
    out["engine/paper-votes-hashicorp-timing"] = lambda: _paper_rules(False)
    return out


def _recorded() -> dict[str, dict[str, str]]:
    return json.loads(GOLDEN.read_text(encoding="utf-8"))


def test_every_case_has_a_recorded_digest() -> None:
    assert sorted(_recorded()) == sorted(cases()), "run `python tests/test_golden_digests.py --rewrite`"


@pytest.mark.parametrize("case", sorted(cases()))
def test_outputs_are_byte_identical_to_the_recorded_digests(case: str) -> None:
    recorded = _recorded().get(case)
    assert recorded is not None, f"no recorded digest for {case}"
    assert cases()[case]() == recorded, f"{case}: outputs changed (a rewrite needs a documented bug fix)"


def main(argv: list[str]) -> int:
    if argv != ["--rewrite"]:
        print(__doc__)
        return 2
    digests = {name: run() for name, run in sorted(cases().items())}
    GOLDEN.parent.mkdir(parents=True, exist_ok=True)
    GOLDEN.write_text(json.dumps(digests, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {len(digests)} digests to {GOLDEN}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
