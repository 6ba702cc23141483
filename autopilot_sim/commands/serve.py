"""`autopilot-sim serve SCENARIO`: run a scenario against the wall clock and answer Nomad's
autopilot HTTP API (plus the /v1/sim control endpoints) while it runs.

The scenario's events fire at their times; API writes and injected events are applied at the
simulated time they arrive and logged in events.jsonl, so ``--out`` gets a run directory like
`run`'s, and ``serve SCENARIO --replay DIR/events.jsonl --out DIR2`` re-runs the session in
virtual time and reproduces it byte for byte. Exit status: 0 (1 if an expectation failed or
the simulation failed), 2 for a usage or input error.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import math
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from autopilot_sim.commands import ExamplesFormatter
from autopilot_sim.durations import DurationError, format_duration, parse_duration

EPILOG = """examples:
  autopilot-sim serve scenarios/demo.yaml --speed 5 --out runs/served   # http://127.0.0.1:4646
  curl -s localhost:4646/v1/operator/autopilot/health | jq .FailureTolerance
  autopilot-sim serve scenarios/demo.yaml --replay runs/served/events.jsonl --exit-at-end --speed 50
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `serve` subcommand."""
    p = subparsers.add_parser(
        "serve", epilog=EPILOG, formatter_class=ExamplesFormatter,
        help="serve Nomad's autopilot HTTP API from a live simulation",
        description="Run a scenario with the wall clock and serve Nomad's autopilot HTTP API "
                    "(/v1/operator/autopilot/*, /v1/status/*, /v1/operator/raft/configuration) and the "
                    "simulation control endpoints (/v1/sim/*) while it runs. Ctrl-C stops it.")
    p.add_argument("scenario", metavar="SCENARIO", help="a scenario YAML file")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1, loopback only)")
    p.add_argument("--port", type=int, default=4646, help="port (default: 4646, Nomad's; 0 picks a free one)")
    p.add_argument("--speed", type=float, default=1.0,
                   help="simulated seconds per wall-clock second (default: 1, real time)")
    p.add_argument("--seed", type=int, help="override the scenario's seed")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a scenario key by its dotted path (repeatable)")
    p.add_argument("--until", metavar="DURATION",
                   help="where simulated time stops (default: the scenario's duration; 'forever': never)")
    p.add_argument("--exit-at-end", action="store_true",
                   help="stop serving and exit when simulated time reaches its end")
    p.add_argument("--paused", action="store_true",
                   help="start with the clock stopped (POST /v1/sim/resume starts it)")
    p.add_argument("--out", metavar="DIR", help="write the run directory here when the session ends")
    p.add_argument("--replay", metavar="EVENTS_JSONL",
                   help="do not serve: re-run a served session from its events.jsonl in virtual time")
    p.add_argument("--log-requests", action="store_true", help="log every HTTP request on stderr")
    p.set_defaults(func=main)


def _fail(message: str) -> int:
    print(f"autopilot-sim serve: {message}", file=sys.stderr)
    return 2


def main(args: argparse.Namespace) -> int:
    """Serve (or replay) a scenario; see the module docstring for the exit status."""
    from autopilot_sim.scenario import ScenarioError, load_scenario

    if not (args.speed > 0 and math.isfinite(args.speed)):
        return _fail(f"--speed: must be a positive number, got {args.speed}")
    if not 0 <= args.port <= 65535:
        return _fail(f"--port: must be 0..65535, got {args.port}")
    end: Any = "scenario"
    if args.until is not None:
        if args.until == "forever":
            end = None
        else:
            try:
                end = parse_duration(args.until)
            except DurationError as exc:
                return _fail(f"--until: {exc} (a Go duration such as 10m, or 'forever')")
            if end <= 0:
                return _fail(f"--until: must be positive, got {args.until}")
    try:
        scenario = load_scenario(args.scenario, overrides=args.overrides)
    except ScenarioError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    if args.replay:
        return _replay(args, scenario)
    return _serve(args, scenario, end)


def _replay(args: argparse.Namespace, scenario: Any) -> int:
    from autopilot_sim.api.live import ReplayError, replay

    try:
        with open(args.replay, encoding="utf-8") as handle:
            events = [json.loads(line) for line in handle if line.strip()]
    except (OSError, ValueError) as exc:
        return _fail(f"--replay: cannot read {args.replay}: {exc}")
    started = time.perf_counter()
    try:
        result = replay(scenario, events, seed=args.seed)
    except (ReplayError, ValueError) as exc:
        return _fail(f"--replay {args.replay}: {exc}")
    out = Path(args.out) if args.out else Path("runs") / f"{scenario.name}-replay"
    result.write(out)
    print(f"replayed {result.summary['duration']} of {scenario.name} (seed {result.seed}) in "
          f"{time.perf_counter() - started:.2f}s wall time")
    print(f"run directory: {out}")
    return _verdict(result)


def _serve(args: argparse.Namespace, scenario: Any, end: Any) -> int:
    from autopilot_sim.api.live import LiveSimulation
    from autopilot_sim.api.server import ApiServer

    live = LiveSimulation(scenario, seed=args.seed, speed=args.speed, end=end, paused=args.paused)
    try:
        server = ApiServer(live, args.host, args.port, log_requests=args.log_requests)
    except OSError as exc:
        return _fail(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}")
    if not _is_loopback(args.host):
        print(f"warning: listening on {args.host}, reachable from other machines; the API has no TLS",
              file=sys.stderr)
    stop = threading.Event()

    def _on_signal(signum: int, frame: Any) -> None:
        stop.set()

    # Handle both: a server started in the background of a script has SIGINT ignored.
    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    server.start()
    stops = "never stops" if live.end is None else f"stops at {format_duration(live.end)}"
    acl = "on" if scenario.acl.enabled else "off"
    print(f"serving {scenario.name} (seed {live.seed}) at {server.url}: simulated time runs at "
          f"{args.speed:g}x the wall clock and {stops}{' (paused)' if args.paused else ''}; ACLs {acl}",
          flush=True)
    print(f"  dashboard: {server.url}/ui/", flush=True)
    print(f"  try: curl {server.url}/v1/operator/autopilot/health    (Ctrl-C to stop)", flush=True)
    try:
        while not stop.wait(0.2):
            if args.exit_at_end and live.ended.is_set():
                break
    except KeyboardInterrupt:
        pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        server.stop()
    result = live.result()
    print(f"session ended at simulated time {result.summary['duration']} after {live.commands} API "
          f"command{'s' if live.commands != 1 else ''}; the simulation was at most "
          f"{format_duration(live.max_lag_ns)} behind the wall clock")
    if args.out:
        result.write(args.out)
        print(f"run directory: {args.out}")
    return _verdict(result)


def _verdict(result: Any) -> int:
    if result.error:
        print(f"FAILED: {result.error}", file=sys.stderr)
        return 1
    for r in result.expectation_results:
        print(f"{'PASS' if r.passed else 'FAIL'} expectation line {r.line} ({r.description}): {r.detail}")
    return 1 if result.failed_expectations else 0


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
