"""`autopilot-sim operator autopilot get-config|set-config|health`: Nomad's CLI, against any
Nomad-compatible API (a served simulation, or a real Nomad).

Flags are parsed with Go's ``flag`` rules (``-flag=value``, ``-flag value``, ``--flag``; bool
flags alone mean true; parsing stops at the first argument that is not a flag) and the output
is Nomad's, byte for byte (``command/operator_autopilot_*.go``):

* ``get-config [-json]`` — ``Name = value`` lines, or the configuration as indented JSON;
* ``set-config [-cleanup-dead-servers=bool] [-max-trailing-logs=N] [-min-quorum=N]
  [-last-contact-threshold=D] [-server-stabilization-time=D] [-enable-redundancy-zones=bool]
  [-disable-upgrade-migration=bool] [-enable-custom-upgrades=bool]`` — GET, change only the
  flags given, check-and-set PUT with the fetched ModifyIndex; prints ``Configuration
  updated!`` (exit 0) or ``Configuration could not be atomically updated, please try again``
  (exit 1);
* ``health [-json]`` — Nomad's layout. Unlike Nomad's client, an unhealthy cluster (HTTP 429)
  still prints its report; the exit status is then 1.

General options: ``-address`` (or NOMAD_ADDR), ``-token`` (or NOMAD_TOKEN), ``-region`` (or
NOMAD_REGION), ``-namespace``, ``-no-color`` and the TLS options. Exit status: 0 success, 1 a
failed request, a failed check-and-set or an unhealthy cluster, 2 a usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

from autopilot_sim.commands import ExamplesFormatter
from autopilot_sim.durations import DurationError, format_duration, parse_duration, parse_rfc3339

if TYPE_CHECKING:  # the HTTP client (and the api package) load only when a command runs
    from autopilot_sim.api.client import NomadClient

# --- Go's flag package ---------------------------------------------------------------------------


class FlagError(Exception):
    """A command line Go's flag package rejects; ``str()`` is its message."""


class HelpRequested(Exception):
    """-h / -help / --help."""


@dataclass
class Flag:
    """One flag. ``boolean`` flags may stand alone (Go's IsBoolFlag); ``parse`` turns the text
    into a value or raises ValueError with the message Go's Set would return."""

    name: str
    parse: Callable[[str], Any]
    boolean: bool = False
    builtin: bool = False  # a flag.BoolVar/StringVar: Go reports its parse errors as "parse error"


_TRUE = ("1", "t", "T", "TRUE", "true", "True")
_FALSE = ("0", "f", "F", "FALSE", "false", "False")


def _go_bool(text: str) -> bool:
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f'strconv.ParseBool: parsing {json.dumps(text)}: invalid syntax')


def _go_uint(text: str) -> int:
    """strconv.ParseUint(text, 0, 64): base prefixes 0x/0o/0b, a leading 0 is octal, '_' allowed
    after a prefix."""
    s = text
    base = 10
    if len(s) > 1 and s[0] == "0":
        if s[1] in "xX":
            base, s = 16, s[2:]
        elif s[1] in "oO":
            base, s = 8, s[2:]
        elif s[1] in "bB":
            base, s = 2, s[2:]
        else:
            base, s = 8, s[1:]
        underscores = True
    else:
        underscores = False
    digits = s.replace("_", "") if underscores else s
    bad = not digits or (not underscores and "_" in s) or s.startswith("_") or s.endswith("_") or "__" in s
    try:
        value = int(digits, base) if not bad and digits.isascii() and digits.isalnum() else None
    except ValueError:
        value = None
    if value is None:
        raise ValueError(f'strconv.ParseUint: parsing {json.dumps(text)}: invalid syntax')
    if value >= 1 << 64:
        raise ValueError(f'strconv.ParseUint: parsing {json.dumps(text)}: value out of range')
    return value


def _go_duration(text: str) -> int:
    try:
        return parse_duration(text)
    except DurationError as exc:
        raise ValueError(str(exc)) from None


def _string(text: str) -> str:
    return text


GENERAL_FLAGS = [
    Flag("address", _string, builtin=True),
    Flag("region", _string, builtin=True),
    Flag("namespace", _string, builtin=True),
    Flag("token", _string, builtin=True),
    Flag("no-color", _go_bool, boolean=True, builtin=True),
    Flag("ca-cert", _string, builtin=True),
    Flag("ca-path", _string, builtin=True),
    Flag("client-cert", _string, builtin=True),
    Flag("client-key", _string, builtin=True),
    Flag("tls-server-name", _string, builtin=True),
    Flag("tls-skip-verify", _go_bool, boolean=True, builtin=True),
]


def parse_go_flags(args: list[str], flags: list[Flag]) -> tuple[dict[str, Any], list[str]]:
    """Parse ``args`` like Go's ``FlagSet.Parse``: (values by flag name, remaining arguments)."""
    by_name = {f.name: f for f in flags}
    values: dict[str, Any] = {}
    rest = list(args)
    while rest:
        s = rest[0]
        if len(s) < 2 or s[0] != "-":
            break
        minuses = 2 if s[1] == "-" else 1
        if minuses == 2 and len(s) == 2:
            rest.pop(0)
            break
        name = s[minuses:]
        if not name or name[0] in "-=":
            raise FlagError(f"bad flag syntax: {s}")
        rest.pop(0)
        has_value = "=" in name
        value = ""
        if has_value:
            name, value = name.split("=", 1)
        flag = by_name.get(name)
        if flag is None:
            if name in ("help", "h"):
                raise HelpRequested
            raise FlagError(f"flag provided but not defined: -{name}")
        if flag.boolean:
            text = value if has_value else "true"
            try:
                values[name] = flag.parse(text)
            except ValueError:
                raise FlagError(f'invalid boolean value {json.dumps(text)} for -{name}: parse error') from None
            continue
        if not has_value:
            if not rest:
                raise FlagError(f"flag needs an argument: -{name}")
            value = rest.pop(0)
        try:
            values[name] = flag.parse(value)
        except ValueError as exc:
            reason = "parse error" if flag.builtin else str(exc)
            raise FlagError(f"invalid value {json.dumps(value)} for flag -{name}: {reason}") from None
    return values, rest


# --- output helpers ------------------------------------------------------------------------------


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


def config_lines(config: dict[str, Any]) -> str:
    """``nomad operator autopilot get-config`` plain output."""
    b = lambda v: "true" if v else "false"  # noqa: E731
    return "\n".join([
        f"CleanupDeadServers = {b(config['CleanupDeadServers'])}",
        f"LastContactThreshold = {config['LastContactThreshold']}",
        f"MaxTrailingLogs = {config['MaxTrailingLogs']}",
        f"MinQuorum = {config['MinQuorum']}",
        f"ServerStabilizationTime = {config['ServerStabilizationTime']}",
        f"EnableRedundancyZones = {b(config['EnableRedundancyZones'])}",
        f"DisableUpgradeMigration = {b(config['DisableUpgradeMigration'])}",
        f"EnableCustomUpgrades = {b(config['EnableCustomUpgrades'])}",
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
    b = lambda v: "true" if v else "false"  # noqa: E731
    out = f"Healthy: {b(report.get('Healthy'))}\n"
    out += f"FailureTolerance: {report.get('FailureTolerance', 0)}\n"
    out += f"Leader: {report.get('Leader', '')}\n"
    out += f"Voters:  \n\t{_id_list(report.get('Voters'))}\n"
    rows = ["ID|Name|Address|SerfStatus|Version|Leader|Voter|Healthy|LastContact|LastTerm|LastIndex|StableSince"]
    for s in report.get("Servers") or []:
        rows.append("|".join([
            str(s.get("ID", "")), str(s.get("Name", "")), str(s.get("Address", "")),
            str(s.get("SerfStatus", "")), str(s.get("Version", "")), b(s.get("Leader")), b(s.get("Voter")),
            b(s.get("Healthy")), _go_duration_text(s.get("LastContact", "0s")), str(s.get("LastTerm", 0)),
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


# --- the commands --------------------------------------------------------------------------------

_GENERAL_OPTIONS = """General Options:

  -address=<addr>   The address of the Nomad server (NOMAD_ADDR; default http://127.0.0.1:4646).
  -token=<token>    The SecretID of an ACL token (NOMAD_TOKEN).
  -region=<region>  The region of the servers (NOMAD_REGION).
"""

HELP = {
    "get-config": """Usage: autopilot-sim operator autopilot get-config [options]

  Displays the current Autopilot configuration.

  If ACLs are enabled, this command requires a token with the 'operator:read'
  capability.

{general}
Get Config Options:

  -json
    Output the Autopilot configuration in JSON format.

Examples:

  autopilot-sim operator autopilot get-config
  autopilot-sim operator autopilot get-config -json -address=http://127.0.0.1:4646""",
    "set-config": """Usage: autopilot-sim operator autopilot set-config [options]

  Modifies the current Autopilot configuration: reads it, changes the flags given, and
  writes it back with a check-and-set on its ModifyIndex.

  If ACLs are enabled, this command requires a token with the 'operator:write'
  capability.

{general}
Set Config Options:

  -cleanup-dead-servers=[true|false]
  -disable-upgrade-migration=[true|false]   (Enterprise-only)
  -enable-custom-upgrades=[true|false]      (Enterprise-only)
  -enable-redundancy-zones=[true|false]     (Enterprise-only)
  -last-contact-threshold=200ms
  -max-trailing-logs=<value>
  -min-quorum=<value>
  -server-stabilization-time=10s

Examples:

  autopilot-sim operator autopilot set-config -cleanup-dead-servers=false
  autopilot-sim operator autopilot set-config -max-trailing-logs=500 -last-contact-threshold=500ms""",
    "health": """Usage: autopilot-sim operator autopilot health [options]

  Displays the current Autopilot state. Unlike Nomad's CLI, an unhealthy cluster's report
  (HTTP 429) is printed too; the exit status is then 1.

  If ACLs are enabled, this command requires a token with the 'operator:read'
  capability.

{general}
Output Options:

  -json
    Output the autopilot health in JSON format.

Examples:

  autopilot-sim operator autopilot health
  autopilot-sim operator autopilot health -json | jq .FailureTolerance
  NOMAD_ADDR=http://127.0.0.1:4647 autopilot-sim operator autopilot health""",
}
HELP = {name: text.replace("{general}", _GENERAL_OPTIONS) for name, text in HELP.items()}

SET_FLAGS = [
    Flag("cleanup-dead-servers", _go_bool),
    Flag("max-trailing-logs", _go_uint),
    Flag("last-contact-threshold", _go_duration),
    Flag("server-stabilization-time", _go_duration),
    Flag("enable-redundancy-zones", _go_bool),
    Flag("disable-upgrade-migration", _go_bool),
    Flag("enable-custom-upgrades", _go_bool),
    Flag("min-quorum", _go_uint),
]
_SET_KEYS = {
    "cleanup-dead-servers": "CleanupDeadServers",
    "max-trailing-logs": "MaxTrailingLogs",
    "min-quorum": "MinQuorum",
    "last-contact-threshold": "LastContactThreshold",
    "server-stabilization-time": "ServerStabilizationTime",
    "enable-redundancy-zones": "EnableRedundancyZones",
    "disable-upgrade-migration": "DisableUpgradeMigration",
    "enable-custom-upgrades": "EnableCustomUpgrades",
}


def run_operator(command: str, args: list[str], *, out: TextIO | None = None, err: TextIO | None = None,
                 environ: dict[str, str] | None = None) -> int:
    """Run ``operator autopilot <command> <args>``; returns the exit status."""
    from autopilot_sim.api.client import ClientConfig, ClientError, NomadClient

    out = out or sys.stdout
    err = err or sys.stderr
    own: list[Flag] = []
    if command in ("get-config", "health"):
        own = [Flag("json", _go_bool, boolean=True, builtin=True)]
        if command == "get-config":
            own.append(Flag("t", _string, builtin=True))
    elif command == "set-config":
        own = SET_FLAGS
    try:
        values, _ = parse_go_flags(args, GENERAL_FLAGS + own)
    except HelpRequested:
        print(HELP[command], file=out)
        return 0
    except FlagError as exc:
        print(f"Failed to parse args: {exc}", file=err)
        return 2
    if values.get("t"):
        print("autopilot-sim does not support Go templates (-t); use -json and a JSON tool", file=err)
        return 2
    try:
        client = NomadClient(ClientConfig.resolve({k.replace("-", "_"): v for k, v in values.items()}, environ))
    except ClientError as exc:
        print(f"Error initializing client: {exc}", file=err)
        return 1
    if command == "get-config":
        return _get_config(client, bool(values.get("json")), out, err)
    if command == "set-config":
        return _set_config(client, values, out, err)
    return _health(client, bool(values.get("json")), out, err)


def _get_config(client: NomadClient, as_json: bool, out: TextIO, err: TextIO) -> int:
    from autopilot_sim.api.client import ClientError

    try:
        config = normalize_config(client.autopilot_get_configuration())
    except (ClientError, ValueError) as exc:
        print(f"Error querying Autopilot configuration: {exc}", file=err)
        return 1
    if as_json:
        print(json.dumps(config, indent=4, ensure_ascii=False), file=out)
    else:
        print(config_lines(config), file=out)
    return 0


def _set_config(client: NomadClient, values: dict[str, Any], out: TextIO, err: TextIO) -> int:
    from autopilot_sim.api.client import ClientError

    try:
        config = normalize_config(client.autopilot_get_configuration())
    except (ClientError, ValueError) as exc:
        print(f"Error querying for Autopilot configuration: {exc}", file=err)
        return 1
    for flag, key in _SET_KEYS.items():
        if flag in values:
            value = values[flag]
            is_duration = key in ("LastContactThreshold", "ServerStabilizationTime")
            config[key] = format_duration(value) if is_duration else value
    try:
        applied = client.autopilot_cas_configuration(config)
    except (ClientError, ValueError) as exc:
        print(f"Error setting Autopilot configuration: {exc}", file=err)
        return 1
    if applied:
        print("Configuration updated!", file=out)
        return 0
    print("Configuration could not be atomically updated, please try again", file=out)
    return 1


def _health(client: NomadClient, as_json: bool, out: TextIO, err: TextIO) -> int:
    from autopilot_sim.api.client import ClientError

    try:
        status, report = client.autopilot_server_health()
    except (ClientError, ValueError) as exc:
        print(f"Error querying Autopilot configuration: {exc}", file=err)
        return 1
    if not isinstance(report, dict):
        print("Error querying Autopilot configuration: the health answer is not a JSON object", file=err)
        return 1
    print(health_json(report) if as_json else health_text(report), file=out)
    return 0 if status == 200 else 1


# --- registration --------------------------------------------------------------------------------


_EPILOG = """examples:
  autopilot-sim operator autopilot health                     # against `serve` on 127.0.0.1:4646
  autopilot-sim operator autopilot get-config -json
  autopilot-sim operator autopilot set-config -min-quorum=3
"""


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``operator autopilot get-config|set-config|health``."""
    operator = subparsers.add_parser(
        "operator", help="Nomad's operator commands against a Nomad-compatible API (e.g. `serve`)",
        description="Nomad's `nomad operator autopilot` commands, with Nomad's flags and output, "
                    "against any Nomad-compatible HTTP API (a served simulation or a real Nomad).",
        epilog=_EPILOG, formatter_class=ExamplesFormatter)
    operator_sub = operator.add_subparsers(dest="operator_command", metavar="SUBCOMMAND")
    autopilot = operator_sub.add_parser(
        "autopilot", help="autopilot configuration and health",
        description="Read or change the autopilot configuration, or show the health report.",
        epilog=_EPILOG, formatter_class=ExamplesFormatter)
    autopilot_sub = autopilot.add_subparsers(dest="autopilot_command", metavar="SUBCOMMAND")
    summaries = {
        "get-config": "display the current Autopilot configuration",
        "set-config": "modify the current Autopilot configuration (GET, then check-and-set PUT)",
        "health": "display the current Autopilot health",
    }
    for name, summary in summaries.items():
        leaf = autopilot_sub.add_parser(name, help=summary, add_help=False, prefix_chars="\0",
                                        description=summary, usage=HELP[name].splitlines()[0][7:])
        leaf.add_argument("args", nargs="*", help="Nomad-style flags, e.g. -address=http://127.0.0.1:4646")
        leaf.set_defaults(func=lambda ns, _name=name: run_operator(_name, list(ns.args)))

    def _usage(parser: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
        def show(_: argparse.Namespace) -> int:
            parser.print_help(sys.stderr)
            return 2
        return show

    operator.set_defaults(func=_usage(operator))
    autopilot.set_defaults(func=_usage(autopilot))
