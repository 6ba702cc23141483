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
from typing import TYPE_CHECKING, Any, TextIO

from autopilot_sim.commands import ExamplesFormatter
from autopilot_sim.commands.goflag import (
    GENERAL_FLAGS,
    Flag,
    FlagError,
    HelpRequested,
    go_bool,
    go_duration,
    go_string,
    go_uint,
    parse_go_flags,
)
from autopilot_sim.commands.operator_output import (  # noqa: F401  (format_list: part of this module's API)
    config_lines,
    format_list,
    health_json,
    health_text,
    normalize_config,
)
from autopilot_sim.durations import format_duration

if TYPE_CHECKING:  # the HTTP client (and the api package) load only when a command runs
    from autopilot_sim.api.client import NomadClient

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
    Flag("cleanup-dead-servers", go_bool),
    Flag("max-trailing-logs", go_uint),
    Flag("last-contact-threshold", go_duration),
    Flag("server-stabilization-time", go_duration),
    Flag("enable-redundancy-zones", go_bool),
    Flag("disable-upgrade-migration", go_bool),
    Flag("enable-custom-upgrades", go_bool),
    Flag("min-quorum", go_uint),
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
        own = [Flag("json", go_bool, boolean=True, builtin=True)]
        if command == "get-config":
            own.append(Flag("t", go_string, builtin=True))
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


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
