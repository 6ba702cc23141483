"""Engine benchmark: how fast does the simulator run on this machine?

Measures, in one process on one core:
  (a) the bare SimPy event rate of a tight timeout loop (the ceiling for any SimPy model);
  (b) a 5-server cluster with hashicorp/raft default timings, idle and at 10 writes/s:
      simulated seconds per wall second and messages delivered per wall second, and the ratio
      of that message rate to (a)'s event rate;
  (c) wall cost per simulated second for 3, 5, 9, 25 and 50 servers (10 writes/s).
Optionally (--autopilot) the same 5-server hour with the autopilot controller on, when the
engine supports it.

Usage: python benchmarks/bench_engine.py [--sim-seconds 3600] [--json out.json] [--quick]
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import sys
import time

import simpy

from autopilot_sim.durations import MILLISECOND, SECOND
from autopilot_sim.raft.timing import RaftTiming
from autopilot_sim.sim.cluster import Cluster, ServerSpecLite
from autopilot_sim.sim.network import Latency, Network


def bare_simpy_rate(events: int = 1_000_000) -> float:
    """Events per wall second of `yield env.timeout(1)` in a single process."""
    env = simpy.Environment()

    def loop():
        timeout = env.timeout
        for _ in range(events):
            yield timeout(1)

    env.process(loop())
    start = time.perf_counter()
    env.run()
    return events / (time.perf_counter() - start)


def make_cluster(n: int, writes_per_second: float, seed: int = 1) -> Cluster:
    """n voters, hashicorp/raft defaults, LAN latency 1-5 ms."""
    network = Network(seed, Latency("uniform", min=1 * MILLISECOND, max=5 * MILLISECOND))
    servers = [ServerSpecLite(f"node{i}") for i in range(1, n + 1)]
    return Cluster(servers, RaftTiming(), network, seed=seed, writes_per_second=writes_per_second)


def run_cluster(n: int, writes_per_second: float, sim_seconds: float) -> dict:
    """Run one cluster; returns wall time, speed-up and message rate."""
    gc.collect()
    cluster = make_cluster(n, writes_per_second)
    start = time.perf_counter()
    cluster.run(int(sim_seconds * SECOND))
    wall = time.perf_counter() - start
    return {
        "servers": n,
        "writes_per_second": writes_per_second,
        "sim_seconds": sim_seconds,
        "wall_seconds": wall,
        "speedup": sim_seconds / wall,
        "messages_delivered": cluster.messages_delivered,
        "messages_per_wall_second": cluster.messages_delivered / wall,
        "wall_ms_per_sim_second": 1000 * wall / sim_seconds,
        "elections": cluster.elections_started,
    }


def autopilot_overhead(sim_seconds: float, repeats: int = 2) -> dict:
    """Wall time of the same scenario run with and without the Nomad layer (gossip, FSM,
    autopilot on the leader); the best of `repeats` runs each, interleaved."""
    from autopilot_sim.durations import format_duration
    from autopilot_sim.scenario import load_scenario_text
    from autopilot_sim.sim.runner import Simulation

    text = (f"name: overhead\nduration: {format_duration(int(sim_seconds * SECOND))}\n"
            "cluster: {servers: 5}\nload: {writes_per_second: 10}\n")
    scenario = load_scenario_text(text)
    best = {False: float("inf"), True: float("inf")}
    reports = 0
    for _ in range(repeats):
        for with_nomad in (False, True):
            gc.collect()
            start = time.perf_counter()
            result = Simulation(scenario, nomad=with_nomad).run()
            best[with_nomad] = min(best[with_nomad], time.perf_counter() - start)
            if with_nomad:
                reports = len(result.timeline)
    return {
        "raft_only_wall_seconds": best[False],
        "with_autopilot_wall_seconds": best[True],
        "overhead": best[True] / best[False] - 1,
        "health_reports": reports,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sim-seconds", type=float, default=3600.0, help="simulated time for (b)")
    parser.add_argument("--scale-seconds", type=float, default=300.0, help="simulated time per size in (c)")
    parser.add_argument("--quick", action="store_true", help="short runs (smoke test of the script)")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args(argv)
    if args.quick:
        args.sim_seconds, args.scale_seconds = 60.0, 20.0

    results: dict = {"python": platform.python_version(), "machine": platform.machine()}
    rate = bare_simpy_rate(200_000 if args.quick else 1_000_000)
    results["bare_simpy_events_per_second"] = rate
    print(f"(a) bare SimPy timeout loop: {rate:,.0f} events/s")

    print(f"(b) 5 servers, hashicorp/raft defaults, {args.sim_seconds:g} simulated s")
    print(f"    {'load':>10} {'wall s':>8} {'x real time':>12} {'msgs/wall s':>12} {'% of (a)':>9}")
    results["five_servers"] = []
    for wps in (0.0, 10.0):
        r = run_cluster(5, wps, args.sim_seconds)
        r["ratio_to_bare_simpy"] = r["messages_per_wall_second"] / rate
        results["five_servers"].append(r)
        print(f"    {wps:>7g} w/s {r['wall_seconds']:>8.2f} {r['speedup']:>12.0f} "
              f"{r['messages_per_wall_second']:>12,.0f} {100 * r['ratio_to_bare_simpy']:>8.1f}%")

    print(f"(c) cost per simulated second, 10 writes/s, {args.scale_seconds:g} simulated s each")
    print(f"    {'servers':>7} {'wall ms/sim s':>14} {'per follower':>13} {'msgs/sim s':>11} {'us/msg':>7}")
    results["scaling"] = []
    for n in (3, 5, 9, 25, 50):
        r = run_cluster(n, 10.0, args.scale_seconds)
        results["scaling"].append(r)
        r["wall_ms_per_follower_sim_second"] = r["wall_ms_per_sim_second"] / (n - 1)
        r["us_per_message"] = 1e6 * r["wall_seconds"] / max(1, r["messages_delivered"])
        print(f"    {n:>7} {r['wall_ms_per_sim_second']:>14.2f} {r['wall_ms_per_follower_sim_second']:>13.3f} "
              f"{r['messages_delivered'] / r['sim_seconds']:>11.0f} {r['us_per_message']:>7.2f}")
    five = next(r for r in results["scaling"] if r["servers"] == 5)
    fifty = next(r for r in results["scaling"] if r["servers"] == 50)
    growth = fifty["wall_ms_per_sim_second"] / five["wall_ms_per_sim_second"]
    per_msg = fifty["us_per_message"] / five["us_per_message"]
    results["growth_5_to_50"] = growth
    results["per_message_cost_growth_5_to_50"] = per_msg
    print(f"    cost growth 5 -> 50 servers: x{growth:.1f}; the leader talks to n-1 followers, so the "
          f"message count grows x{49 / 4:.2f}")
    print(f"    cost per message 5 -> 50 servers: x{per_msg:.2f} (1.0 = cost exactly linear in traffic)")

    print(f"(d) autopilot overhead: 5 servers, 10 writes/s, {args.sim_seconds:g} simulated s, through the runner")
    results["autopilot_overhead"] = overhead = autopilot_overhead(args.sim_seconds)
    print(f"    Raft only {overhead['raft_only_wall_seconds']:.2f}s, with Nomad's gossip + autopilot "
          f"{overhead['with_autopilot_wall_seconds']:.2f}s: +{100 * overhead['overhead']:.0f}% wall time "
          f"({overhead['health_reports']} health reports)")

    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(results, fh, indent=2, sort_keys=True)
            fh.write("\n")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
