"""Check a scenario's `expect` entries against the run's health reports.

A report is one timeline line: the status and body of GET /v1/operator/autopilot/health at an
autopilot update tick (status 500 "No cluster leader" while there is none). Modes:
* `at: T` — the last report at or before T;
* `within: [A, B]` — at least one report in [A, B] satisfies every check;
* `always: [A, B]` — every report in [A, B] does (and there is at least one).

A server missing from the report (not in the Raft configuration) is not healthy, not a voter and
not the leader; its `serf_status` is what the leader's serf saw at that tick ("none" if unknown).
Enterprise checks read `Upgrade`, `OptimisticFailureTolerance`, `ReadReplicas` and
`RedundancyZones`; a zone missing from the report counts 0 servers, voters and tolerance.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from autopilot_sim.durations import format_duration
from autopilot_sim.scenario.expectations import count_matches


@dataclass
class ExpectationResult:
    """The verdict of one expectation, with the report that decided it."""

    index: int
    line: int
    description: str
    passed: bool
    detail: str
    t_ns: int | None
    report: dict[str, Any] | None
    skipped: bool = False  # the run stopped (--until) before the expectation's time

    def to_json(self) -> dict[str, Any]:
        """The verdict for summary.json. The source line is left out on purpose: the resolved
        scenario.yaml has other line numbers, and re-running it must reproduce the files."""
        return {
            "index": self.index,
            "expectation": self.description,
            "passed": self.passed,
            "skipped": self.skipped,
            "detail": self.detail,
            "t": format_duration(self.t_ns) if self.t_ns is not None else None,
            "t_ns": self.t_ns,
        }


def _failures(exp: Any, report: Any) -> list[str]:
    """Every check of `exp` that `report` does not satisfy, as readable text."""
    body = report.body
    ok_body = report.status != 500
    servers = {s["ID"]: s for s in (body.get("Servers") or [])} if ok_body else {}
    leader = next((sid for sid, s in servers.items() if s.get("Leader")), None)
    out = []
    if exp.healthy is not None:
        healthy = bool(body.get("Healthy")) if ok_body else False
        if healthy != exp.healthy:
            out.append(f"healthy is {str(healthy).lower()}, expected {str(exp.healthy).lower()}")
    if exp.failure_tolerance is not None:
        value = body.get("FailureTolerance", 0) if ok_body else 0
        if not count_matches(exp.failure_tolerance, value):
            out.append(f"failure_tolerance is {value}, expected {_show_count(exp.failure_tolerance)}")
    if exp.voters is not None:
        value = len(body.get("Voters") or []) if ok_body else 0
        if not count_matches(exp.voters, value):
            out.append(f"voters is {value}, expected {_show_count(exp.voters)}")
    if exp.leader is not None:
        want = exp.leader
        if want == "any" and leader is None:
            out.append("there is no leader, expected one")
        elif want == "none" and leader is not None:
            out.append(f"{leader} is leader, expected none")
        elif want not in ("any", "none") and leader != want:
            out.append(f"leader is {leader or 'none'}, expected {want}")
    out += _enterprise_failures(exp, body if ok_body else {})
    for name, check in (exp.servers or {}).items():
        srv = servers.get(name)
        if check.healthy is not None:
            value = bool(srv and srv.get("Healthy"))
            if value != check.healthy:
                out.append(f"{name}.healthy is {str(value).lower()}" + ("" if srv else " (not in the report)"))
        if check.voter is not None:
            value = bool(srv and srv.get("Voter"))
            if value != check.voter:
                out.append(f"{name}.voter is {str(value).lower()}" + ("" if srv else " (not in the report)"))
        if check.leader is not None:
            value = bool(srv and srv.get("Leader"))
            if value != check.leader:
                out.append(f"{name}.leader is {str(value).lower()}")
        if check.serf_status is not None:
            value = srv.get("SerfStatus") if srv else report.serf.get(name, "none")
            if value != check.serf_status:
                out.append(f"{name}.serf_status is {value}, expected {check.serf_status}")
    return out


def _enterprise_failures(exp: Any, body: dict[str, Any]) -> list[str]:
    """The failed Enterprise checks (a report without Enterprise fields has none of them:
    no status, counts 0)."""
    out = []
    upgrade = body.get("Upgrade") or {}
    if getattr(exp, "upgrade_status", None) is not None:
        value = upgrade.get("Status")
        if value != exp.upgrade_status:
            out.append(f"upgrade_status is {value or 'absent'}, expected {exp.upgrade_status}")
    if getattr(exp, "target_version", None) is not None:
        value = upgrade.get("TargetVersion")
        if value != exp.target_version:
            out.append(f"target_version is {value or 'absent'}, expected {exp.target_version}")
    if getattr(exp, "optimistic_failure_tolerance", None) is not None:
        value = body.get("OptimisticFailureTolerance", 0)
        if not count_matches(exp.optimistic_failure_tolerance, value):
            out.append(f"optimistic_failure_tolerance is {value}, "
                       f"expected {_show_count(exp.optimistic_failure_tolerance)}")
    if getattr(exp, "read_replicas", None) is not None:
        value = len(body.get("ReadReplicas") or [])
        if not count_matches(exp.read_replicas, value):
            out.append(f"read_replicas is {value}, expected {_show_count(exp.read_replicas)}")
    zones = body.get("RedundancyZones") or {}
    for name, check in (getattr(exp, "redundancy_zones", None) or {}).items():
        zone = zones.get(name) or {}
        values = {"servers": len(zone.get("Servers") or []), "voters": len(zone.get("Voters") or []),
                  "failure_tolerance": zone.get("FailureTolerance", 0)}
        for key, value in values.items():
            want = getattr(check, key)
            if want is not None and not count_matches(want, value):
                out.append(f"zone {name}.{key} is {value}, expected {_show_count(want)}"
                           + ("" if zone else " (zone not in the report)"))
    return out


def _show_count(check: Any) -> str:
    if isinstance(check, int):
        return str(check)
    parts = []
    if check.min is not None:
        parts.append(f"≥ {check.min}")
    if check.max is not None:
        parts.append(f"≤ {check.max}")
    return " and ".join(parts)


def evaluate(expectations: list[Any], reports: list[Any], end: int | None = None) -> list[ExpectationResult]:
    """Verdicts for every expectation, in file order. An expectation whose time (or window
    start) lies after `end`, where a shortened run (--until) stopped, is skipped, not failed."""
    results = []
    for i, exp in enumerate(expectations):
        desc = exp.describe_when() if hasattr(exp, "describe_when") else exp.mode
        if end is not None and exp.start > end:
            results.append(ExpectationResult(i, exp.line, desc, True,
                                             f"skipped: the run stopped at {format_duration(end)}",
                                             None, None, skipped=True))
            continue
        if exp.mode == "at":
            before = [r for r in reports if r.t_ns <= exp.start]
            if not before:
                results.append(ExpectationResult(i, exp.line, desc, False,
                                                 "no health report at or before this time", None, None))
                continue
            report = before[-1]
            fails = _failures(exp, report)
            results.append(ExpectationResult(i, exp.line, desc, not fails,
                                              "; ".join(fails) or "held", report.t_ns, _as_line(report)))
            continue
        window = [r for r in reports if exp.start <= r.t_ns <= exp.end]
        if not window:
            results.append(ExpectationResult(i, exp.line, desc, False, "no health report in the window", None, None))
            continue
        if exp.mode == "within":
            good = next((r for r in window if not _failures(exp, r)), None)
            if good is not None:
                results.append(ExpectationResult(i, exp.line, desc, True, "held", good.t_ns, _as_line(good)))
            else:
                last = window[-1]
                detail = "never held; last report: " + "; ".join(_failures(exp, last))
                results.append(ExpectationResult(i, exp.line, desc, False, detail, last.t_ns, _as_line(last)))
        else:
            bad = next((r for r in window if _failures(exp, r)), None)
            if bad is None:
                results.append(ExpectationResult(i, exp.line, desc, True, "held", window[-1].t_ns, None))
            else:
                detail = "broken: " + "; ".join(_failures(exp, bad))
                results.append(ExpectationResult(i, exp.line, desc, False, detail, bad.t_ns, _as_line(bad)))
    return results


def _as_line(report: Any) -> dict[str, Any]:
    return {"t_ns": report.t_ns, "t": format_duration(report.t_ns), "status": report.status, "health": report.body}
