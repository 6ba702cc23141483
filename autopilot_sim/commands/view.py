"""`autopilot-sim view RUN_DIR`: serve the web dashboard over a finished run, for replay.

The page (the same one `serve` shows live) gets a time slider instead of the clock controls:
scrubbing shows the recorded health report, failure tolerance and events at that time, and the
servers, logs and messages re-simulated from the run's scenario and seed
(`autopilot_sim.web.replay`). Exit status 0 when stopped with Ctrl-C, 2 for a bad run directory
or an unusable address.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from typing import Any

EXAMPLES = """examples:
  autopilot-sim run scenarios/demo.yaml --out runs/demo
  autopilot-sim view runs/demo                 # then open http://127.0.0.1:4649/ui/
  autopilot-sim view runs/served --port 0      # a `serve --out` session, on any free port
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `view` subcommand."""
    p = subparsers.add_parser(
        "view", help="replay a run directory in the web dashboard (time slider)",
        description="Serve the web dashboard over a finished run directory (from `run --out` or "
                    "`serve --out`): scrub back and forth through it on a time slider.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run_dir", metavar="RUN_DIR", help="a run directory (holds summary.json, timeline.jsonl, "
                                                      "events.jsonl, scenario.yaml)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1, loopback only)")
    p.add_argument("--port", type=int, default=4649,
                   help="port (default: 4649, next to serve's 4646 and clear of Nomad's 4647/4648; 0 picks a free one)")
    p.add_argument("--interval", metavar="DURATION",
                   help="simulated time between two frames of the server diagram (default: 100ms, "
                        "coarser for long runs)")
    p.set_defaults(func=main)


def _fail(message: str) -> int:
    print(f"autopilot-sim view: {message}", file=sys.stderr)
    return 2


def main(args: argparse.Namespace) -> int:
    """Load, re-simulate and serve the run until Ctrl-C."""
    from autopilot_sim.api.server import http_server
    from autopilot_sim.durations import DurationError, parse_duration
    from autopilot_sim.scenario import ScenarioError
    from autopilot_sim.web.replay import ReplayApi, ReplayModel, RunDirError

    if not 0 <= args.port <= 65535:
        return _fail(f"--port: must be 0..65535, got {args.port}")
    interval = None
    if args.interval is not None:
        try:
            interval = parse_duration(args.interval)
        except DurationError as exc:
            return _fail(f"--interval: {exc} (a Go duration such as 100ms)")
        if interval <= 0:
            return _fail(f"--interval: must be positive, got {args.interval}")
    try:
        model = ReplayModel(args.run_dir, interval)
    except (RunDirError, OSError, ValueError) as exc:
        return _fail(str(exc))
    started = time.perf_counter()
    try:
        model.simulate()
    except ScenarioError as exc:
        return _fail(f"{args.run_dir}/scenario.yaml: {exc}")
    except Exception as exc:
        model.note = f"the run could not be re-simulated ({type(exc).__name__}: {exc}); showing the files only"
    try:
        httpd = http_server(args.host, args.port, ReplayApi(model))
    except OSError as exc:
        return _fail(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}")
    host, port = str(httpd.server_address[0]), httpd.server_address[1]
    url = f"http://[{host}]:{port}" if ":" in str(host) else f"http://{host}:{port}"
    state = "reproduced exactly" if model.reproduced else "NOT reproduced: " + model.note
    print(f"replaying {args.run_dir} ({model.scenario_name}, {len(model.frames)} frames in "
          f"{time.perf_counter() - started:.1f}s; the re-simulation {state})", flush=True)
    print(f"open {url}/ui/   (Ctrl-C to stop)", flush=True)
    stop = threading.Event()

    def _on_signal(signum: int, frame: Any) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        while not stop.wait(0.2):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        httpd.shutdown()
        httpd.close_connections()
        httpd.server_close()
    return 0
