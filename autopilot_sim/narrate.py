"""The story of a run, for people: the narrated event log, what the health API showed, and a
short summary table.

`run` prints it when a run ends and `explain RUN_DIR` prints the same from a finished run
directory: both read the same records (events.jsonl, timeline.jsonl and summary.json).
"What the health API showed" lists the operator facts of `autopilot_sim.facts` (a dead server
still reported healthy and why, when autopilot could see it, what a 429 alert saw, peers a new
leader does not know yet). `explain --at T` prints the part of all this around T.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

# Event kinds worth a line in the story; the rest (e.g. election_started) stay in events.jsonl.
_QUIET_KINDS = {"election_started"}


def story_lines(events: Iterable[dict[str, Any]], verbose: bool = False) -> list[str]:
    """One line per notable event: simulated time, then the message."""
    lines = []
    for event in events:
        if not verbose and event["kind"] in _QUIET_KINDS:
            continue
        lines.append(f"{event['t']:>16}  {event['message']}")
    return lines


def summary_table(summary: dict[str, Any]) -> list[str]:
    """A short two-column table of the summary's headline numbers."""
    rows = [
        ("scenario", f"{summary.get('scenario')} (seed {summary.get('seed')})"),
        ("simulated", summary.get("duration")),
        ("elections / leader changes", f"{summary.get('elections')} / {summary.get('leader_changes')}"),
        ("time without a leader", summary.get("time_without_leader")),
        ("promotions / demotions / removals",
         f"{summary.get('promotions', 0)} / {summary.get('demotions', 0)} / {summary.get('removals', 0)}"),
        ("time unhealthy", summary.get("time_unhealthy", "-")),
        ("failure tolerance min / time-weighted",
         f"{summary.get('failure_tolerance_min', '-')} / {summary.get('failure_tolerance_time_weighted', '-')}"),
        ("messages delivered / lost",
         f"{summary.get('messages', {}).get('delivered')} / {summary.get('messages', {}).get('lost')}"),
        ("client writes accepted / rejected",
         f"{summary.get('writes', {}).get('accepted')} / {summary.get('writes', {}).get('rejected')}"),
    ]
    rows.extend(_operator_rows(summary))
    expectations = summary.get("expectations") or []
    if expectations:
        passed = sum(1 for e in expectations if e.get("passed") and not e.get("skipped"))
        skipped = sum(1 for e in expectations if e.get("skipped"))
        rows.append(("expectations held", f"{passed} of {len(expectations)}"
                     + (f" ({skipped} skipped: the run was cut short)" if skipped else "")))
    if summary.get("safety_violation"):
        rows.append(("SAFETY VIOLATION", summary["safety_violation"]))
    width = max(len(k) for k, _ in rows)
    return [f"  {k:<{width}}  {v}" for k, v in rows]


def _seconds(value: Any) -> str:
    return "-" if value is None else f"{value:.3f}s".replace(".000s", "s")


def _after(value: Any) -> str:
    return "never" if value is None else "+" + _seconds(value)


def _operator_rows(summary: dict[str, Any]) -> list[tuple[str, Any]]:
    """The operator metrics (absent from summaries written before they existed)."""
    if "health_status_counts" not in summary:
        return []
    counts = summary["health_status_counts"]
    rows: list[tuple[str, Any]] = [
        ("longest leaderless (after bootstrap)", _seconds(summary.get("longest_leaderless_s"))),
        ("quorum lost", f"yes, {_seconds(summary.get('quorum_lost_s'))}" if summary.get("quorum_lost") else "no"),
        ("health reports 200 / 429 / 500", f"{counts.get('200', 0)} / {counts.get('429', 0)} / {counts.get('500', 0)}"),
    ]
    for ep in summary.get("down_episodes") or []:
        rows.append((f"{ep['server']} {ep['cause']} at {_seconds(ep['at_s'])}",
                     (f"serf failed {_after(ep['serf_failed_after_s'])}, unhealthy {_after(ep['unhealthy_after_s'])}, "
                      f"removed {_after(ep['removed_after_s'])}, reported healthy while down "
                      f"{_seconds(ep['reported_healthy_while_down_s'])}")))
    return rows


def expectation_lines(summary: dict[str, Any], lines: dict[int, int] | None = None) -> list[str]:
    """PASS/FAIL per expectation, named by its index (and its file line when known)."""
    out = []
    for e in summary.get("expectations") or []:
        line = (lines or {}).get(e["index"])
        where = f"expect[{e['index']}]" + (f" (line {line})" if line else "")
        mark = "SKIP" if e.get("skipped") else "PASS" if e["passed"] else "FAIL"
        out.append(f"{mark} {where} {e['expectation']}: {e['detail']}")
    return out


def facts_lines(facts: Iterable[Any]) -> list[str]:
    """The operator facts (`facts.Fact`), one wrapped paragraph each, under a heading."""
    import textwrap

    out = []
    for fact in facts:
        out += textwrap.wrap(fact.text, width=110, initial_indent="  - ", subsequent_indent="    ")
    return ["What the health API showed:"] + out if out else []


def print_story(events: list[dict[str, Any]], summary: dict[str, Any], out: TextIO, verbose: bool = False,
                lines: dict[int, int] | None = None, run: Any = None) -> None:
    """The whole narration: story, what the health API showed (when `run`, a `rundata.Run`, is
    given), summary table, expectation verdicts (`lines`: index → file line)."""
    for line in story_lines(events, verbose):
        print(line, file=out)
    print(file=out)
    if run is not None:
        from autopilot_sim.facts import run_facts

        fact_lines = facts_lines(run_facts(run))
        for line in fact_lines:
            print(line, file=out)
        if fact_lines:
            print(file=out)
    for line in summary_table(summary):
        print(line, file=out)
    for line in expectation_lines(summary, lines):
        print(line, file=out)


def load_run_records(run_dir: str | Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """events.jsonl and summary.json of a run directory (raises OSError / ValueError)."""
    root = Path(run_dir)
    events = [json.loads(line) for line in (root / "events.jsonl").read_text(encoding="utf-8").splitlines() if line]
    summary = json.loads((root / "summary.json").read_text(encoding="utf-8"))
    return events, summary


def window_lines(run: Any, t_ns: int, window_ns: int, verbose: bool = False) -> list[str]:
    """`explain --at T`: the events within ±window of T, a marker line at T, and the operator
    facts whose span meets the window."""
    from autopilot_sim.durations import format_duration
    from autopilot_sim.facts import run_facts

    lo, hi = t_ns - window_ns, t_ns + window_ns
    out = [f"around {format_duration(t_ns)} (events from {format_duration(max(0, lo))} to {format_duration(hi)}):"]
    marked = False
    for event in run.events:
        if not lo <= event["t_ns"] <= hi or (not verbose and event["kind"] in _QUIET_KINDS):
            continue
        if not marked and event["t_ns"] > t_ns:
            out.append(f"{format_duration(t_ns):>16}  <-- {format_duration(t_ns)}")
            marked = True
        out.append(f"{event['t']:>16}  {event['message']}")
    if not marked:
        out.append(f"{format_duration(t_ns):>16}  <-- {format_duration(t_ns)}")
    facts = [f for f in run_facts(run) if f.t_ns <= hi and f.end_ns >= lo]
    lines = facts_lines(facts)
    if lines:
        out += [""] + lines
    return out
