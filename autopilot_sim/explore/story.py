"""The story of a failure, for people: one paragraph (what the plan did, what happened, which
property broke and how), the failure's scenario file with that story in its header, and a
Markdown page with the narrated events (`narrate.story_lines`) and the operator facts
(`narrate.facts_lines`) around it."""

from __future__ import annotations

import textwrap
from typing import Any

from autopilot_sim import event_kinds as kinds
from autopilot_sim.durations import format_duration
from autopilot_sim.explore.faults import Fault
from autopilot_sim.explore.properties import Violation

#: The faults themselves: always told.
FAULT_KINDS = (kinds.CRASH, kinds.RESTART, kinds.PAUSE, kinds.PARTITION, kinds.CUT, kinds.HEAL, kinds.SET_NETWORK)
#: What follows from them: the last `TOLD` before the violation are told.
CONSEQUENCE_KINDS = (kinds.LEADER_ELECTED, kinds.LEADER_STEPPED_DOWN, kinds.SERF_MEMBER, kinds.REMOVAL,
                     kinds.RAFT_REMOVE, kinds.SAFETY_VIOLATION)
TOLD = 8


def _told_events(result: Any, faults: list[Fault], violation: Violation) -> list[dict[str, Any]]:
    """The events the paragraph tells: every fault event from the first fault to the violation,
    and the last `TOLD` consequences (elections, serf verdicts, removals) in that span."""
    if result is None:
        return []
    start = min((f.at for f in faults), default=0)
    stop = violation.t_ns if violation.t_ns is not None else result.summary["duration_ns"]
    span = [e for e in result.recorder.events if start <= e["t_ns"] <= stop]
    told = {id(e) for e in [e for e in span if e["kind"] in CONSEQUENCE_KINDS][-TOLD:]}
    return [e for e in span if e["kind"] in FAULT_KINDS or id(e) in told]


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith(".") else text + "."


def story_paragraph(scenario: str, index: int, prop: str, violation: Violation, faults: list[Fault],
                    original: list[Fault], dropped: tuple[str, ...], result: Any) -> str:
    """One paragraph: the minimal plan, the events that led to the violation, the violation."""
    plan = "; ".join(f.describe() for f in faults) if faults else "no fault at all (the scenario fails as it is)"
    def count(n: int) -> str:
        return f"{n} fault{'' if n == 1 else 's'}"

    if not original:
        head = f"The scenario {scenario} breaks {prop} without any added fault"
    else:
        how = (f"shrunk from {count(len(original))} to {count(len(faults))}" if len(faults) != len(original)
               else f"its {count(len(faults))} shrunk")
        head = f"Plan {index} of {scenario} breaks {prop}; {how}: {plan}"
    parts = [head + (f", with {', '.join(dropped)} left out of the cluster" if dropped else "") + "."]
    told = _told_events(result, faults, violation)
    if told:
        parts.append("What happened: " + "; ".join(f"at {e['t']} {e['message']}" for e in told) + ".")
    parts.append(f"So {prop} fails: {_sentence(violation.detail)}")
    return " ".join(parts)


def _comment(text: str, width: int = 96) -> list[str]:
    return ["# " + line for line in textwrap.wrap(text, width=width, break_on_hyphens=False)] or ["#"]


def failure_yaml(resolved: str, file_name: str, prop: str, paragraph: str, faults: list[Fault],
                 original: list[Fault], index: int, seed: int, dropped: tuple[str, ...]) -> str:
    """The failure's scenario file: a comment header (the story, the plan before and after
    shrinking, how to run and check it) above the resolved scenario."""
    stem = file_name.rsplit(".", 1)[0]
    lines = [f"# explore failure {stem}: {prop}", "#"]
    lines += _comment(paragraph)
    lines += ["#", f"# Minimal plan (seed {seed}{'; servers left out: ' + ', '.join(dropped) if dropped else ''}):"]
    lines += [f"#   - {f.describe()}" for f in faults] or ["#   (no fault)"]
    lines += [f"# Found as plan {index}:"] + [f"#   - {f.describe()}" for f in original]
    lines += ["#", f"# Run:    autopilot-sim run failures/{file_name} --out runs/{stem} --plot",
              f"# Check:  autopilot-sim explore failures/{file_name} --plans 0 --property '{prop}' "
              f"--out runs/{stem}-check",
              "#"]
    body = resolved.split("\n", 2)[2] if resolved.startswith("# Resolved") else resolved
    return "\n".join(lines) + "\n" + body


def story_markdown(file_name: str, prop: str, paragraph: str, violation: Violation, faults: list[Fault],
                   result: Any) -> str:
    """The failure's page: the paragraph, the plan, the narrated events up to the violation,
    what the health API showed."""
    from autopilot_sim.narrate import facts_lines, story_lines

    stem = file_name.rsplit(".", 1)[0]
    out = [f"# Failure {stem}: {prop}", "", paragraph, "", "## Plan", ""]
    out += [f"- {f.describe()}" for f in faults] or ["- (no fault)"]
    out += ["", f"Scenario file: `{file_name}`; timeline plot: `{stem}.png`.", ""]
    if result is not None:
        stop = violation.t_ns if violation.t_ns is not None else result.summary["duration_ns"]
        events = [e for e in result.recorder.events if e["t_ns"] <= stop]
        out += ["## Events up to the failure", "", "```"] + story_lines(events) + ["```", ""]
        from autopilot_sim.facts import run_facts
        from autopilot_sim.rundata import Run

        facts = facts_lines(run_facts(Run.from_result(result)))
        if facts:
            out += ["## " + facts[0].rstrip(":"), "", "```"] + facts[1:] + ["```", ""]
    out += ["## Reproduce", "", "```", f"autopilot-sim run failures/{file_name} --out runs/{stem} --plot"]
    if violation.t_ns is not None:
        out.append(f"autopilot-sim explain runs/{stem} --at {format_duration(violation.t_ns)}")
    out += ["```", ""]
    return "\n".join(out)
