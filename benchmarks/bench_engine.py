"""Engine benchmark: how fast does the simulator run on this machine?

Everything is measured in ONE process, so the ratios hold on a shared or slower machine:
  (a) the bare SimPy event rate of a tight `yield env.timeout(1)` loop (the ceiling for any
      SimPy model; it is measured before and after the protocol runs, and the best is kept);
  (b) the full protocol through the runner: 5 servers, hashicorp/raft defaults, 10 writes/s,
      gossip + Nomad layer + autopilot on, safety checks on, for --sim-seconds (1 hour): times
      real time, messages delivered per wall second, and the ratio of that message rate to (a)'s
      event rate (a message costs at least one event, so 1.0 is the SimPy ceiling); then Raft
      only (no Nomad layer) and the full protocol without safety checks;
  (c) wall cost per simulated second for 5, 9, 25 and 50 servers at 10 writes/s, full protocol
      and Raft only, and the Nomad layer's share of the full cost, in the steady state: the
      start-up (gossip join: n(n-1) push/pulls of n-member states) runs untimed first and its
      cost is printed beside it.
Each timing is the best of --repeats runs, in CPU time of this process (`time.process_time`):
on a shared machine wall time mostly measures the neighbours.

The build under test is the installed one (`autopilot-sim --version`: compiled with mypyc where a
C compiler exists, see setup.py). When it is the compiled build, (b) also times the full protocol
on the pure-Python build of the same sources (a subprocess with AUTOPILOT_SIM_PURE=1, so both
numbers come from the same run of this script); --no-pure skips that.

Usage: python benchmarks/bench_engine.py [--sim-seconds 3600] [--scale-seconds 300] [--warm-seconds 60] [--repeats 3]
                                         [--json out.json] [--quick] [--no-pure]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import simpy

from autopilot_sim.durations import SECOND, format_duration


def bare_simpy_rate(events: int = 1_000_000) -> float:
    """Events per wall second of `yield env.timeout(1)` in a single process."""
    env = simpy.Environment()

    def loop():
        timeout = env.timeout
        for _ in range(events):
            yield timeout(1)

    env.process(loop())
    gc.collect()
    start = time.process_time()
    env.run()
    return events / (time.process_time() - start)


def scenario(servers: int, sim_seconds: float, writes_per_second: float = 10.0):
    """A steady cluster: n voters, hashicorp/raft defaults, LAN latency, a constant write load."""
    from autopilot_sim.scenario import load_scenario_text

    text = (f"name: bench\nduration: {format_duration(int(sim_seconds * SECOND))}\n"
            f"cluster: {{servers: {servers}}}\nload: {{writes_per_second: {writes_per_second:g}}}\n")
    return load_scenario_text(text)


def timed_run(servers: int, sim_seconds: float, *, nomad: bool, safety: bool = True, repeats: int = 1) -> dict:
    """Best wall time of `repeats` runs of the steady scenario through the runner."""
    from autopilot_sim.sim.runner import Simulation

    best = float("inf")
    result = None
    for _ in range(repeats):
        options = {} if safety else {"check_safety": False}  # (the default: older engines run this too)
        sim = Simulation(scenario(servers, sim_seconds), nomad=nomad, **options)
        gc.collect()
        start = time.process_time()
        result = sim.run()
        best = min(best, time.process_time() - start)
    assert result is not None and result.error is None, result.error if result else "no run"
    messages = result.summary["messages"]["delivered"]
    return {
        "servers": servers, "sim_seconds": sim_seconds, "nomad": nomad, "safety_checks": safety,
        "wall_seconds": best, "speedup": sim_seconds / best,
        "wall_ms_per_sim_second": 1000 * best / sim_seconds,
        "messages_delivered": messages, "us_per_message": 1e6 * best / max(1, messages),
        "health_reports": result.summary.get("health_reports", 0),
    }


def steady_run(servers: int, warm_seconds: float, sim_seconds: float, *, nomad: bool, repeats: int = 1) -> dict:
    """Cost per simulated second in the steady state: the first `warm_seconds` (start-up, the
    gossip join: each server joins every other one, n(n-1) push/pulls of n-member states) run
    untimed, then `sim_seconds` more are timed. Best of `repeats`; the start-up's own cost is
    reported beside it."""
    from autopilot_sim.durations import SECOND
    from autopilot_sim.sim.collector import fewer_collections
    from autopilot_sim.sim.runner import Simulation

    best = start_best = float("inf")
    messages = 0
    for _ in range(repeats):
        sim = Simulation(scenario(servers, warm_seconds + sim_seconds), nomad=nomad)
        cluster = sim.cluster
        gc.collect()
        with fewer_collections():
            start = time.process_time()
            cluster.run(int(warm_seconds * SECOND))
            middle = time.process_time()
            before = cluster.messages_delivered
            cluster.run(int((warm_seconds + sim_seconds) * SECOND))
            end = time.process_time()
        start_best = min(start_best, middle - start)
        if end - middle < best:
            best, messages = end - middle, cluster.messages_delivered - before
    return {
        "servers": servers, "warm_seconds": warm_seconds, "sim_seconds": sim_seconds, "nomad": nomad,
        "wall_seconds": best, "speedup": sim_seconds / best, "wall_ms_per_sim_second": 1000 * best / sim_seconds,
        "messages_delivered": messages, "us_per_message": 1e6 * best / max(1, messages),
        "start_up_wall_seconds": start_best,
    }


def pure_build_run(sim_seconds: float, repeats: int) -> dict:
    """`timed_run` of the full protocol on the pure-Python build, in a subprocess."""
    code = ("import json, sys; sys.path.insert(0, sys.argv[1]); from bench_engine import timed_run; "
            "from autopilot_sim import native; assert native.STATUS['build'] == 'pure'; "
            "print(json.dumps(timed_run(5, float(sys.argv[2]), nomad=True, repeats=int(sys.argv[3]))))")
    env = dict(os.environ, AUTOPILOT_SIM_PURE="1")
    out = subprocess.run([sys.executable, "-c", code, str(Path(__file__).resolve().parent), str(sim_seconds),
                          str(repeats)], env=env, capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sim-seconds", type=float, default=3600.0, help="simulated time for (b)")
    parser.add_argument("--scale-seconds", type=float, default=300.0, help="simulated time per size in (c)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per timing (the best is kept)")
    parser.add_argument("--warm-seconds", type=float, default=60.0,
                        help="untimed start-up (the gossip join) before each size in (c)")
    parser.add_argument("--quick", action="store_true", help="short runs (smoke test of the script)")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    parser.add_argument("--no-pure", action="store_true", help="skip the pure-Python build's timing in (b)")
    args = parser.parse_args(argv)
    if args.quick:
        args.sim_seconds, args.scale_seconds, args.warm_seconds, args.repeats = 60.0, 20.0, 10.0, 1

    from autopilot_sim import native

    results: dict = {"python": platform.python_version(), "machine": platform.machine(),
                     "simpy": simpy.__version__, "build": native.describe()}
    print(f"build: {native.describe()}")
    events = 200_000 if args.quick else 1_000_000
    rate = bare_simpy_rate(events)
    print(f"(a) bare SimPy timeout loop: {rate:,.0f} events/s")

    print(f"(b) 5 servers, hashicorp/raft defaults, 10 writes/s, {args.sim_seconds:g} simulated s "
          f"(best of {args.repeats})")
    full = timed_run(5, args.sim_seconds, nomad=True, repeats=args.repeats)
    raft = timed_run(5, args.sim_seconds, nomad=False, repeats=args.repeats)
    try:
        unsafe = timed_run(5, args.sim_seconds, nomad=True, safety=False, repeats=args.repeats)
    except TypeError:  # an engine without --no-safety-checks (comparing with an older tree)
        unsafe = None
    pure = None
    if native.STATUS["build"] == "compiled" and not args.no_pure:
        pure = pure_build_run(args.sim_seconds, args.repeats)
    rate = max(rate, bare_simpy_rate(events))  # again after the runs: the machine may be shared
    results["bare_simpy_events_per_second"] = rate
    for label, r in (("full protocol (gossip + Nomad + autopilot, safety checks)", full),
                     ("Raft only (no Nomad layer), safety checks", raft),
                     ("full protocol, --no-safety-checks", unsafe),
                     ("full protocol on the pure-Python build (subprocess)", pure)):
        if r is None:
            continue
        r["ratio_to_bare_simpy"] = r["messages_delivered"] / r["wall_seconds"] / rate
        print(f"    {label:<60} {r['wall_seconds']:7.2f} s wall  {r['speedup']:7.0f}x real time  "
              f"ratio {r['ratio_to_bare_simpy']:.3f}  {r['us_per_message']:.2f} us/msg")
    results["five_servers"] = {"full": full, "raft_only": raft, "full_no_safety_checks": unsafe,
                               "full_pure_build": pure}
    print(f"    bare SimPy (best of before/after): {rate:,.0f} events/s; full protocol delivers "
          f"{full['messages_delivered'] / full['wall_seconds']:,.0f} messages/s = "
          f"{full['ratio_to_bare_simpy']:.3f} of it")

    print(f"(c) cost per simulated second in the steady state, 10 writes/s: {args.scale_seconds:g} simulated s "
          f"timed after {args.warm_seconds:g} s of start-up (best of {args.repeats}); start-up = the full "
          f"protocol's first {args.warm_seconds:g} s")
    print(f"    {'servers':>7} {'full ms/sim s':>14} {'raft ms/sim s':>14} {'Nomad share':>12} "
          f"{'full us/msg':>12} {'x real time':>12} {'start-up s':>11}")
    results["scaling"] = []
    for n in (5, 9, 25, 50):
        f = steady_run(n, args.warm_seconds, args.scale_seconds, nomad=True, repeats=args.repeats)
        r = steady_run(n, args.warm_seconds, args.scale_seconds, nomad=False, repeats=args.repeats)
        share = 1 - r["wall_ms_per_sim_second"] / f["wall_ms_per_sim_second"]
        results["scaling"].append({"servers": n, "full": f, "raft_only": r, "nomad_share": share})
        print(f"    {n:>7} {f['wall_ms_per_sim_second']:>14.2f} {r['wall_ms_per_sim_second']:>14.2f} "
              f"{100 * share:>11.0f}% {f['us_per_message']:>12.2f} {f['speedup']:>12.0f} "
              f"{f['start_up_wall_seconds']:>11.2f}")
    five, fifty = results["scaling"][0], results["scaling"][-1]
    g = fifty["full"]["wall_ms_per_sim_second"] / five["full"]["wall_ms_per_sim_second"]
    results["cost_growth_5_to_50"] = g
    results["per_message_cost_growth_5_to_50"] = pm = fifty["full"]["us_per_message"] / five["full"]["us_per_message"]
    print(f"    cost growth 5 -> 50 servers: x{g:.1f} (the leader talks to n-1 followers: traffic grows "
          f"about x{49 / 4:.1f}); cost per message x{pm:.2f} (1.0 = exactly linear in traffic)")

    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(results, fh, indent=2, sort_keys=True)
            fh.write("\n")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
