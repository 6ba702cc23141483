"""What ``nomad operator autopilot`` prints: Go's list layout, Go's time and value formatting,
the configuration lines and the health report (``command/operator_autopilot_*.go``), byte for
byte. Pure functions of decoded JSON; `commands/health.py` reuses `health_text` for run
directories.
"""

from __future__ import annotations

from typing import Any

from autopilot_sim.durations import DurationError, format_duration, parse_duration, parse_rfc3339


def format_list(rows: list[str]) -> str:
    """Nomad's ``formatList`` (ryanuber/columnize: '|' columns, trimmed cells, "<none>" for an
    empty cell, two spaces between columns, no trailing newline)."""
    table = [[cell.strip() or "<none>" for cell in row.split("|")] for row in rows]
    widths: list[int] = []
    for cells in table:
        for i, cell in enumerate(cells):
            if i >= len(widths):
                widths.append(len(cell))
            else:
                widths[i] = max(widths[i], len(cell))
    lines = []
    for cells in table:
        parts = [cell + " " * (widths[i] - len(cell)) + "  " for i, cell in enumerate(cells[:-1])]
        lines.append("".join(parts) + cells[-1])
    return "\n".join(lines)


def go_time(text: str) -> str:
    """A JSON RFC 3339 time as Go's ``time.Time.String()`` prints it (UTC)."""
    try:
        ns = parse_rfc3339(text)
    except ValueError:
        return text
    from autopilot_sim.durations import format_rfc3339

    stamp = format_rfc3339(ns)  # 2026-01-01T00:00:10.5Z
    date, clock = stamp[:-1].split("T")
    return f"{date} {clock} +0000 UTC"


def go_value(value: Any) -> str:
    """Go's ``%v`` for the JSON values in a health report."""
    if value is None:
        return "[]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + " ".join(go_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + " ".join(go_value(v) for v in value.values()) + "}"
    return str(value)


def _go_duration_text(text: Any) -> str:
    try:
        return format_duration(parse_duration(str(text))) if text else "0s"
    except DurationError:
        return str(text)


CONFIG_KEYS = ("LastContactThreshold", "ServerStabilizationTime", "CleanupDeadServers", "MaxTrailingLogs",
               "MinQuorum", "EnableRedundancyZones", "DisableUpgradeMigration", "EnableCustomUpgrades",
               "CreateIndex", "ModifyIndex")
_CONFIG_DEFAULTS = {"LastContactThreshold": "0s", "ServerStabilizationTime": "0s", "CleanupDeadServers": False,
                    "MaxTrailingLogs": 0, "MinQuorum": 0, "EnableRedundancyZones": False,
                    "DisableUpgradeMigration": False, "EnableCustomUpgrades": False, "CreateIndex": 0,
                    "ModifyIndex": 0}


def normalize_config(body: Any) -> dict[str, Any]:
    """The GET answer as Nomad's client re-marshals it (api.AutopilotConfiguration)."""
    body = body if isinstance(body, dict) else {}
    out = {}
    for key in CONFIG_KEYS:
        value = body.get(key, _CONFIG_DEFAULTS[key])
        if key in ("LastContactThreshold", "ServerStabilizationTime"):
            value = _go_duration_text(value)
        out[key] = value
    return out


def go_bool_text(value: Any) -> str:
    """Go's %v of a bool."""
    return "true" if value else "false"


def config_lines(config: dict[str, Any]) -> str:
    """``nomad operator autopilot get-config`` plain output."""
    return "\n".join([
        f"CleanupDeadServers = {go_bool_text(config['CleanupDeadServers'])}",
        f"LastContactThreshold = {config['LastContactThreshold']}",
        f"MaxTrailingLogs = {config['MaxTrailingLogs']}",
        f"MinQuorum = {config['MinQuorum']}",
        f"ServerStabilizationTime = {config['ServerStabilizationTime']}",
        f"EnableRedundancyZones = {go_bool_text(config['EnableRedundancyZones'])}",
        f"DisableUpgradeMigration = {go_bool_text(config['DisableUpgradeMigration'])}",
        f"EnableCustomUpgrades = {go_bool_text(config['EnableCustomUpgrades'])}",
    ])


_SERVER_KEYS = ("LastContact", "ID", "Name", "Address", "SerfStatus", "Version", "Leader", "LastTerm",
                "LastIndex", "Healthy", "Voter", "StableSince")
_UPGRADE_KEYS = ("Status", "TargetVersion", "TargetVersionVoters", "TargetVersionNonVoters",
                 "TargetVersionReadReplicas", "OtherVersionVoters", "OtherVersionNonVoters",
                 "OtherVersionReadReplicas", "RedundancyZones")


def health_json(report: dict[str, Any]) -> str:
    """``health -json``: Go's ``json.Marshal`` of api.OperatorHealthReply (compact; the
    enterprise keys omitted when empty)."""
    from autopilot_sim.api.wire import go_json

    servers = report.get("Servers")
    out: dict[str, Any] = {
        "Healthy": bool(report.get("Healthy")),
        "FailureTolerance": report.get("FailureTolerance", 0),
        "Servers": [{k: s.get(k) for k in _SERVER_KEYS} for s in servers] if servers else None,
        "Leader": report.get("Leader", ""),
        "Voters": report.get("Voters"),
    }
    if report.get("ReadReplicas"):
        out["ReadReplicas"] = report["ReadReplicas"]
    if report.get("RedundancyZones"):
        out["RedundancyZones"] = report["RedundancyZones"]
    if report.get("Upgrade") is not None:
        out["Upgrade"] = {k: report["Upgrade"].get(k) for k in _UPGRADE_KEYS}
    if report.get("OptimisticFailureTolerance"):
        out["OptimisticFailureTolerance"] = report["OptimisticFailureTolerance"]
    return go_json(out).decode("utf-8")


def _id_list(ids: Any) -> str:
    return format_list([f"\t{i}" for i in ids or []])


def health_text(report: dict[str, Any]) -> str:
    """``nomad operator autopilot health`` plain output (formatAutopilotState), quirks kept:
    only the first voter is tab-indented (columnize trims the others)."""
    out = f"Healthy: {go_bool_text(report.get('Healthy'))}\n"
    out += f"FailureTolerance: {report.get('FailureTolerance', 0)}\n"
    out += f"Leader: {report.get('Leader', '')}\n"
    out += f"Voters:  \n\t{_id_list(report.get('Voters'))}\n"
    rows = ["ID|Name|Address|SerfStatus|Version|Leader|Voter|Healthy|LastContact|LastTerm|LastIndex|StableSince"]
    for s in report.get("Servers") or []:
        rows.append("|".join([
            str(s.get("ID", "")), str(s.get("Name", "")), str(s.get("Address", "")),
            str(s.get("SerfStatus", "")), str(s.get("Version", "")),
            go_bool_text(s.get("Leader")), go_bool_text(s.get("Voter")),
            go_bool_text(s.get("Healthy")), _go_duration_text(s.get("LastContact", "0s")), str(s.get("LastTerm", 0)),
            str(s.get("LastIndex", 0)), go_time(str(s.get("StableSince", ""))),
        ]))
    out += f"Servers: \n{format_list(rows)}\n"
    # formatCommandToEnt
    if report.get("ReadReplicas"):
        out += "\nReadReplicas:" + format_list(list(report["ReadReplicas"]))
    zones = report.get("RedundancyZones") or {}
    if zones:
        out += "\nRedundancyZones:"
        for name in sorted(zones):
            out += f"  {go_value(zones[name])}"
    upgrade = report.get("Upgrade")
    if upgrade is not None:
        out += "Upgrade: \n"
        out += f" \tStatus: {upgrade.get('Status', '')}\n"
        out += f" \tTargetVersion: {upgrade.get('TargetVersion', '')}\n"
        for key in _UPGRADE_KEYS[2:8]:
            if upgrade.get(key):
                out += f" \t{key}: \n\t\t{_id_list(upgrade[key])}\n"
        if upgrade.get("RedundancyZones"):
            out += " \tRedundancyZones:\n"
            for name in sorted(upgrade["RedundancyZones"]):
                out += f"  \t\t{go_value(upgrade['RedundancyZones'][name])}"
    return out
