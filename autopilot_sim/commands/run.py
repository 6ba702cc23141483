"""`autopilot-sim run SCENARIO`: simulate a scenario and write its run directory."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from autopilot_sim.commands import ExamplesFormatter
from autopilot_sim.durations import DurationError, format_duration, parse_duration
from autopilot_sim.narrate import expectation_lines, print_story

EPILOG = """examples:
  autopilot-sim run scenarios/follower-crash-cleanup.yaml --plot        # story, run directory, three PNGs
  autopilot-sim run scenarios/demo.yaml --seed 7 --set autopilot.max_trailing_logs=500 --out runs/what-if
  autopilot-sim run scenarios/leader-crash.yaml --json | jq .time_without_leader_s
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `run` subcommand."""
    p = subparsers.add_parser("run", help="run a scenario and write its run directory",
                              description="Run a scenario file and write events.jsonl, timeline.jsonl, "
                                          "summary.json and scenario.yaml into the run directory.",
                              epilog=EPILOG, formatter_class=ExamplesFormatter)
    p.add_argument("scenario", metavar="SCENARIO", help="a scenario YAML file")
    p.add_argument("--seed", type=int, help="override the scenario's seed")
    p.add_argument("--until", metavar="DURATION", help="stop early, at this simulated time (Go duration)")
    p.add_argument("--out", metavar="DIR", help="run directory (default: runs/<name>-seed<seed>)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a scenario key by its dotted path (repeatable)")
    p.add_argument("--plot", action="store_true",
                   help="also write timeline.png, swimlanes.png and contact.png into the run directory "
                        "(needs matplotlib)")
    p.add_argument("--quiet", action="store_true", help="print only the run directory and the verdict")
    p.add_argument("--json", action="store_true",
                   help="print the summary (summary.json) as JSON on stdout and nothing else there; the run "
                        "directory, plots and verdicts go to stderr, the story is left out")
    p.add_argument("--no-safety-checks", dest="safety_checks", action="store_false",
                   help="skip the Raft safety invariant checks (faster; for benchmarks and sweeps; "
                        "recorded in summary.json)")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    """Run the scenario; exit 0 when it completed and every expectation held, 1 if one failed,
    2 for a usage or input error."""
    from autopilot_sim.scenario import ScenarioError, load_scenario
    from autopilot_sim.sim.runner import ScenarioRunError, Simulation

    until = None
    if args.until is not None:
        try:
            until = parse_duration(args.until)
        except DurationError as exc:
            print(f"autopilot-sim run: --until: {exc}", file=sys.stderr)
            return 2
        if until <= 0:
            print(f"autopilot-sim run: --until: must be positive, got {args.until}", file=sys.stderr)
            return 2
    try:
        scenario = load_scenario(args.scenario, overrides=args.overrides)
    except ScenarioError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"autopilot-sim run: cannot read {args.scenario}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    if args.plot:  # check before running: a broken matplotlib install must not cost a whole run
        try:
            import matplotlib  # noqa: F401
        except ImportError as exc:
            print(f"autopilot-sim run: --plot needs matplotlib, which could not be imported ({exc}); "
                  "reinstall it with: pip install matplotlib", file=sys.stderr)
            return 2
    from autopilot_sim.scenario.cost import WARN_EVENTS, estimate

    cost = estimate(scenario, until if until is not None and until < scenario.duration else None)
    if cost.events > WARN_EVENTS:
        print(f"warning: {args.scenario}: this run will take {cost.describe()}", file=sys.stderr)
    seed = scenario.seed if args.seed is None else args.seed
    out = Path(args.out) if args.out else Path("runs") / f"{scenario.name}-seed{seed}"
    problem = out_dir_problem(out)
    if problem is not None:  # checked before running: an unwritable --out must not cost a whole run
        print(f"autopilot-sim run: --out {out}: {problem}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    progress = _Progress(scenario.name) if sys.stderr.isatty() and not args.quiet and not args.json else None
    try:
        result = Simulation(scenario, seed=seed, until=until,
                            check_safety=args.safety_checks).run(progress=progress)
    except ScenarioRunError as exc:  # a check only the run could make (see scenario/lifecycle.py)
        print(scenario.located(event_path(exc.event, exc.index),
                               f"at {format_duration(exc.t_ns)}: {exc.reason}"), file=sys.stderr)
        return 2
    finally:
        if progress is not None:
            progress.close()
    wall = time.perf_counter() - started
    try:
        result.write(out)
    except OSError as exc:
        print(f"autopilot-sim run: cannot write the run directory {out}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    summary = result.summary
    lines = {r.index: r.line for r in result.expectation_results}
    # With --json, stdout carries only the summary; everything for people goes to stderr.
    console = sys.stderr if args.json else sys.stdout
    if args.quiet or args.json:
        for line in expectation_lines(summary, lines):
            print(line, file=console)
    else:
        from autopilot_sim.rundata import Run

        print_story(result.recorder.events, summary, sys.stdout, lines=lines, run=Run.from_result(result))
    print(f"simulated {summary['duration']} of {scenario.name} (seed {seed}) in {wall:.2f}s wall time",
          file=console)
    print(f"run directory: {out}", file=console)
    if args.plot:  # also after a failed expectation or a safety violation: that is when they help most
        from autopilot_sim.commands.plot import write_run_plots

        print("plots: " + ", ".join(str(path) for path in write_run_plots(out)), file=console)
    if args.json:
        print(json.dumps(summary, indent=2, sort_keys=True, ensure_ascii=False))
    if result.error:
        print(f"FAILED: {result.error}", file=sys.stderr)
        return 1
    failed = result.failed_expectations
    if failed:
        for r in failed:
            if r.report is not None:
                print(f"report at {r.report['t']} for expect[{r.index}] (line {r.line}):\n"
                      + json.dumps(r.report, indent=2, ensure_ascii=False), file=console)
        print(f"{len(failed)} of {len(result.expectation_results)} expectations failed", file=sys.stderr)
        return 1
    return 0


def out_dir_problem(out: Path) -> str | None:
    """Why `out` cannot become a run directory (None when it can): it is a file, or its
    nearest existing ancestor is not a writable directory."""
    if out.exists():
        if not out.is_dir():
            return "exists and is not a directory"
        return None if os.access(out, os.W_OK | os.X_OK) else "the directory is not writable"
    ancestor = out.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        return f"{ancestor} is not a directory"
    if not os.access(ancestor, os.W_OK | os.X_OK):
        return f"cannot create it: {ancestor} is not writable"
    return None


def event_path(event: object, index: int) -> tuple[str | int, ...]:
    """The key path of an event's target (``events[3].pause.server``), else of its kind."""
    kind = getattr(event, "kind", "")
    if kind in ("pause", "upgrade"):
        return ("events", index, kind, "server")
    if kind == "join":
        return ("events", index, kind, "name")
    return ("events", index, kind)


class _Progress:
    """A tqdm bar on stderr that appears only once a run has taken more than 2 s of wall time."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.started = time.perf_counter()
        self.bar: Any = None  # a tqdm bar once the run is slow enough to show one

    def __call__(self, now: int, end: int) -> None:
        if self.bar is None:
            if time.perf_counter() - self.started < 2.0:
                return
            try:
                from tqdm import tqdm
            except ImportError:  # a dependency, but a bar is not worth failing a run for
                self.started = float("inf")
                return
            self.bar = tqdm(total=end / 1e9, unit="sim s", desc=self.name, leave=False, file=sys.stderr,
                            bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.0f}/{total:.0f} sim s "
                                       "[{elapsed}<{remaining}]")
        self.bar.n = now / 1e9
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
