"""Load-independent engine cost: CPU instructions per delivered message, counted by valgrind.

On a shared machine timings mostly measure the neighbours; instruction counts do not. This runs
each case twice under `valgrind --tool=cachegrind` (a short and a longer simulated span) and
divides the difference by the messages delivered in between, which removes start-up costs; the
bare SimPy event (`yield env.timeout(1)`) is counted the same way, so `ratio` (instructions per
bare SimPy event / instructions per message) is comparable with bench_engine.py's ratio.

Usage: python benchmarks/count_instructions.py [--short 60] [--long 300] [--tree DIR]
(`--tree` points PYTHONPATH at another checkout's package, e.g. to compare with main; needs valgrind.)
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

RUN = """
import sys
from autopilot_sim.scenario import load_scenario_text
from autopilot_sim.sim.runner import Simulation
secs, nomad = int(sys.argv[1]), sys.argv[2] == "1"
text = f"name: c\\nduration: {secs}s\\ncluster: {{servers: 5}}\\nload: {{writes_per_second: 10}}\\n"
print(Simulation(load_scenario_text(text), nomad=nomad).run().summary["messages"]["delivered"])
"""

BARE = """
import sys
sys.path.insert(0, sys.argv[2])
from bench_engine import bare_simpy_rate
bare_simpy_rate(int(sys.argv[1]))
"""


def counted(code: str, args: list[str], tree: str | None) -> tuple[int, str]:
    """(instructions, stdout) of `python -c code args` under cachegrind."""
    env = dict(os.environ)
    if tree:
        env["PYTHONPATH"] = tree
    proc = subprocess.run(["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
                           sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, check=True)
    refs = re.search(r"I\s+refs:\s+([\d,]+)", proc.stderr)
    assert refs, proc.stderr[-2000:]
    return int(refs.group(1).replace(",", "")), proc.stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", type=int, default=60, help="simulated seconds of the short run")
    parser.add_argument("--long", type=int, default=300, help="simulated seconds of the long run")
    parser.add_argument("--tree", help="directory holding the autopilot_sim package to measure")
    args = parser.parse_args(argv)
    small, big = 100_000, 600_000
    bare = (counted(BARE, [str(big), str(HERE)], None)[0] - counted(BARE, [str(small), str(HERE)], None)[0]) \
        / (big - small)
    print(f"bare SimPy event: {bare:,.0f} instructions")
    for nomad, label in (("1", "full protocol (gossip + Nomad + autopilot, safety checks)"),
                         ("0", "Raft only, safety checks")):
        short_ir, short_out = counted(RUN, [str(args.short), nomad], args.tree)
        long_ir, long_out = counted(RUN, [str(args.long), nomad], args.tree)
        messages = int(long_out) - int(short_out)
        per = (long_ir - short_ir) / messages
        print(f"{label}: {per:,.0f} instructions/message, ratio {bare / per:.3f} "
              f"({messages / (args.long - args.short):.0f} messages per simulated second)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
