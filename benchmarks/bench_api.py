"""API benchmark: health polling against a served 5-server cluster running at real time.

This process serves the scenario (default scenarios/demo.yaml, 5 servers, 10 writes/s) with
`LiveSimulation` + `ApiServer` on 127.0.0.1 at speed 1. A second process polls
GET /v1/operator/autopilot/health over keep-alive connections (raw sockets, one request in
flight per connection) for a fixed time and records every latency. Meanwhile this process
samples how far the simulated clock is behind the wall clock.

Printed: requests/s, latency percentiles (p50/p90/p99/max), non-200/429 answers, the
simulation's lag behind the wall clock after each slice (max and mean), simulated seconds per
wall second over the run, and the age of the state a request sees (snapshot time vs wall clock).
Targets (from the issue): >= 1,000 requests/s with p99 < 50 ms, the simulation keeping up.

Usage: python benchmarks/bench_api.py [--seconds 10] [--connections 4] [--scenario FILE]
                                      [--json out.json]
Loopback only; the load stops by itself after --seconds.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import platform
import socket
import statistics
import sys
import threading
import time

from autopilot_sim.api import ApiServer, LiveSimulation
from autopilot_sim.api.live import TICK
from autopilot_sim.durations import SECOND, format_duration
from autopilot_sim.scenario import load_scenario


def _read_response(sock: socket.socket, buf: bytearray) -> tuple[int, bytearray]:
    """Read one HTTP response (Content-Length framed); returns (status, leftover bytes)."""
    while True:
        end = buf.find(b"\r\n\r\n")
        if end >= 0:
            break
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("server closed the connection")
        buf += chunk
    head = bytes(buf[:end]).decode("latin-1")
    status = int(head[9:12])
    length = 0
    for line in head.split("\r\n")[1:]:
        name, _, value = line.partition(":")
        if name.lower() == "content-length":
            length = int(value)
    total = end + 4 + length
    while len(buf) < total:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("server closed the connection")
        buf += chunk
    return status, buf[total:]


def _poll(port: int, seconds: float, path: str, token: str, out: list, start_at: float) -> None:
    request = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: bench_api\r\n"
               + (f"X-Nomad-Token: {token}\r\n" if token else "") + "\r\n").encode()
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    while time.time() < start_at:
        time.sleep(0.001)
    deadline = time.perf_counter() + seconds
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    buf = bytearray()
    try:
        while True:
            t0 = time.perf_counter()
            if t0 >= deadline:
                break
            sock.sendall(request)
            status, buf = _read_response(sock, buf)
            latencies.append(time.perf_counter() - t0)
            statuses[status] = statuses.get(status, 0) + 1
    finally:
        sock.close()
    out.append((latencies, statuses))


def load_process(port: int, seconds: float, connections: int, token: str, start_at: float, queue) -> None:
    """The second process: `connections` threads polling health until `seconds` have passed."""
    results: list = []
    threads = [threading.Thread(target=_poll, args=(port, seconds, "/v1/operator/autopilot/health", token,
                                                    results, start_at)) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    latencies = [x for lat, _ in results for x in lat]
    statuses: dict[int, int] = {}
    for _, st in results:
        for k, v in st.items():
            statuses[k] = statuses.get(k, 0) + v
    queue.put((latencies, statuses))


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[index]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", default="scenarios/demo.yaml")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the polling run (wall seconds)")
    parser.add_argument("--connections", type=int, default=4, help="keep-alive connections in the load process")
    parser.add_argument("--warmup", type=float, default=3.0, help="simulated (= wall) seconds before polling starts")
    parser.add_argument("--json", metavar="FILE", help="also write the numbers as JSON")
    args = parser.parse_args()

    scenario = load_scenario(args.scenario, overrides=["duration=2h"])
    live = LiveSimulation(scenario, speed=1.0)
    token = ""
    if scenario.acl.enabled:
        token = next((t.secret for t in scenario.acl.tokens if t.policy != "operator-write"), "")
    server = ApiServer(live, "127.0.0.1", 0)
    server.start()
    time.sleep(args.warmup)

    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    start_at = time.time() + 1.0
    proc = ctx.Process(target=load_process, args=(server.port, args.seconds, args.connections, token, start_at, queue))
    proc.start()

    # Sample the simulation's lag behind the wall clock while the load runs.
    lags: list[int] = []
    ages: list[int] = []  # how old the simulated state a request sees is (snapshot vs wall clock)
    while time.time() < start_at:
        time.sleep(0.005)
    sim0, wall0 = live.snapshot.t_ns, time.perf_counter()
    while time.perf_counter() - wall0 < args.seconds:
        snap = live.snapshot
        lags.append(snap.lag_ns)
        ages.append(max(0, int(live._wall_target()) - snap.t_ns))
        time.sleep(0.003)
    sim1, wall1 = live.snapshot.t_ns, time.perf_counter()
    latencies, statuses = queue.get(timeout=args.seconds + 60)
    proc.join(30)
    server.stop()
    errors = server.errors

    latencies.sort()
    total = len(latencies)
    rate = total / args.seconds
    ok = statuses.get(200, 0) + statuses.get(429, 0)
    results = {
        "scenario": scenario.name,
        "servers": len(scenario.cluster.servers),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "seconds": args.seconds,
        "connections": args.connections,
        "requests": total,
        "requests_per_second": round(rate, 1),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "unexpected_answers": total - ok,
        "server_exceptions": errors,
        "latency_ms": {
            "mean": round(statistics.fmean(latencies) * 1000, 3) if latencies else None,
            "p50": round(percentile(latencies, 0.50) * 1000, 3),
            "p90": round(percentile(latencies, 0.90) * 1000, 3),
            "p99": round(percentile(latencies, 0.99) * 1000, 3),
            "max": round(latencies[-1] * 1000, 3) if latencies else None,
        },
        "simulation": {
            "sim_seconds_per_wall_second": round((sim1 - sim0) / SECOND / (wall1 - wall0), 4),
            "max_lag": format_duration(max(lags) if lags else 0),
            "mean_lag": format_duration(int(statistics.fmean(lags)) if lags else 0),
            "max_lag_whole_session": format_duration(live.max_lag_ns),
            "snapshot_age_max": format_duration(max(ages) if ages else 0),
            "snapshot_age_mean": format_duration(int(statistics.fmean(ages)) if ages else 0),
            "final_time": format_duration(live.snapshot.t_ns),
        },
    }
    lat = results["latency_ms"]
    sim = results["simulation"]
    print(f"scenario {scenario.name}: {results['servers']} servers at real time; {args.connections} keep-alive "
          f"connections from a second process for {args.seconds:g}s")
    print(f"  health requests: {total} ({rate:,.0f}/s); answers {results['statuses']}; "
          f"unexpected {results['unexpected_answers']}; server exceptions {errors}")
    print(f"  latency ms: mean {lat['mean']}  p50 {lat['p50']}  p90 {lat['p90']}  p99 {lat['p99']}  max {lat['max']}")
    print(f"  simulation: {sim['sim_seconds_per_wall_second']} simulated s per wall s; behind the wall clock "
          f"max {sim['max_lag']}, mean {sim['mean_lag']} (whole session max {sim['max_lag_whole_session']})")
    print(f"  age of the state a request sees: max {sim['snapshot_age_max']}, mean {sim['snapshot_age_mean']} "
          f"(snapshots are published at least every {format_duration(int(TICK * SECOND))})")
    verdict = rate >= 1000 and lat["p99"] < 50 and results["unexpected_answers"] == 0 and errors == 0
    print(f"  target (>= 1,000 req/s, p99 < 50 ms, no errors): {'met' if verdict else 'NOT met'}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(results, handle, indent=2)
            handle.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
