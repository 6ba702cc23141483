"""report.md and the console table of an exploration (see `core` for the directory)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from autopilot_sim.explore.faults import Fault

if TYPE_CHECKING:
    from autopilot_sim.explore.core import Exploration


def _share(n: int, total: int) -> str:
    return f"{100 * n / total:.0f}%" if total else "-"


def class_rows(found: Exploration) -> list[tuple[str, ...]]:
    """(rank, property, faults of the minimal plan, plans, share, example) per failure class."""
    total = len(found.results)
    return [(str(i), c.prop, c.faults, str(len(c.plans)), _share(len(c.plans), total), c.example)
            for i, c in enumerate(found.classes, start=1)]


CLASS_HEADER = ("rank", "property", "minimal plan's faults", "plans", "share", "example")


def console_table(found: Exploration) -> list[str]:
    """The failure classes as an aligned plain-text table (empty when nothing failed)."""
    rows = class_rows(found)
    if not rows:
        return []
    table = [CLASS_HEADER, *rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(CLASS_HEADER))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines


def _md_row(cells: tuple[str, ...] | list[str]) -> str:
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def report_markdown(found: Exploration) -> str:
    """report.md's text."""
    plans = len(found.results) - 1
    failed = [r for r in found.failed if r["plan"] > 0]
    baseline = found.results[0]
    out = [f"# Exploration of {found.scenario}", "",
           f"- budget: `{found.budget.canonical()}`",
           f"- plans: {plans}, drawn from root seed {found.root_seed}",
           f"- properties: {', '.join(found.properties)}", "",
           "## Result", "",
           f"{len(failed)} of {plans} plans broke a property, {plans - len(failed) - len(found.invalid)} held "
           f"every property, {len([r for r in found.invalid if r['plan'] > 0])} could not be carried out.", ""]
    if baseline["status"] == "failed":
        broken = ", ".join(v["property"] for v in baseline["violations"])
        out += [f"**The scenario fails without any added fault** (plan 0, seed {baseline['seed']}): {broken}. "
                "Plans that break the same property shrink to no fault at all.", ""]
    else:
        out += [f"The scenario alone (plan 0, seed {baseline['seed']}) is {baseline['status']}.", ""]
    out += ["## Failure classes", "",
            "Each failing plan is shrunk against the first property it breaks; its class is that property and "
            "the kinds of fault left in its minimal plan.", ""]
    rows = class_rows(found)
    if rows:
        out += [_md_row(CLASS_HEADER), _md_row(["---"] * len(CLASS_HEADER))]
        out += [_md_row(r[:-1] + (f"[{r[-1]}]({r[-1]})",)) for r in rows]
    else:
        out.append("None: no plan broke a property.")
    out += ["", "## Properties broken (as found, before shrinking)", ""]
    counts = dict.fromkeys(found.properties, 0)
    for r in found.failed:
        for v in r["violations"]:
            counts[v["property"]] = counts.get(v["property"], 0) + 1
    out += [_md_row(("property", "plans", "share")), _md_row(("---",) * 3)]
    out += [_md_row((p, str(n), _share(n, len(found.results)))) for p, n in counts.items()]
    if found.failures:
        out += ["", "## Failures", ""]
    for f in found.failures:
        stem = f"{found.results[f.index]['failure'].rsplit('/', 1)[1].rsplit('.', 1)[0]}"
        out += [f"### failures/{stem}.yaml — {f.target}", "", f.story, "",
                "- minimal plan: " + ("; ".join(Fault.from_json(x).describe() for x in f.faults) or "no fault")
                + (f" (servers left out: {', '.join(f.dropped)})" if f.dropped else ""),
                "- found as: " + ("; ".join(Fault.from_json(x).describe() for x in found.plans[f.index]["faults"])
                                  or "the scenario alone"),
                f"- shrinking: {f.runs} runs" + ("" if f.shrunk else " (the shrunk plan did not fail again: "
                                                                       "the original is kept)"),
                f"- story and timeline: [failures/{stem}.md](failures/{stem}.md), "
                f"[failures/{stem}.png](failures/{stem}.png)", ""]
    invalid = found.invalid
    if invalid:
        out += ["## Plans that could not be carried out", ""]
        out += [f"- plan {r['plan']}: {r['error']}" for r in invalid]
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"
