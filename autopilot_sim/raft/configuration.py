"""Raft cluster configurations and hashicorp/raft's one-at-a-time change rules (nextConfiguration).

A configuration is a tuple of (server id, suffrage) pairs in append order, so it can be stored in
a log entry and shared between servers without copying.
"""

from __future__ import annotations

from typing import Final

from autopilot_sim.raft.messages import NONVOTER, STAGING, SUFFRAGE_NAMES, VOTER

Configuration = tuple[tuple[str, int], ...]

ADD_VOTER: Final = "AddVoter"
ADD_NONVOTER: Final = "AddNonvoter"
DEMOTE_VOTER: Final = "DemoteVoter"
REMOVE_SERVER: Final = "RemoveServer"
OPERATIONS = (ADD_VOTER, ADD_NONVOTER, DEMOTE_VOTER, REMOVE_SERVER)


class ConfigurationError(ValueError):
    """A change hashicorp/raft's checkConfiguration would refuse."""


def voters(config: Configuration) -> list[str]:
    """Ids with Voter suffrage, in configuration order."""
    return [sid for sid, suffrage in config if suffrage == VOTER]


def suffrage_of(config: Configuration, server_id: str) -> int | None:
    """The server's suffrage, or None when it is not in the configuration."""
    for sid, suffrage in config:
        if sid == server_id:
            return suffrage
    return None


def next_configuration(config: Configuration, op: str, server_id: str) -> Configuration:
    """Apply one membership operation as hashicorp/raft's nextConfiguration does.

    AddVoter promotes a Nonvoter/Staging in place; AddNonvoter never demotes a Voter or Staging
    server; DemoteVoter and RemoveServer of an absent server change nothing (an entry is still
    written by the caller). Raises ConfigurationError when the result has no voter.
    """
    servers = list(config)
    index = next((i for i, (sid, _) in enumerate(servers) if sid == server_id), None)
    if op == ADD_VOTER:
        if index is None:
            servers.append((server_id, VOTER))
        else:
            servers[index] = (server_id, VOTER)
    elif op == ADD_NONVOTER:
        if index is None:
            servers.append((server_id, NONVOTER))
        # A Voter or Staging server keeps its suffrage (only its address would be updated).
    elif op == DEMOTE_VOTER:
        if index is not None:
            servers[index] = (server_id, NONVOTER)
    elif op == REMOVE_SERVER:
        if index is not None:
            del servers[index]
    else:
        raise ConfigurationError(f"unknown configuration operation {op!r}; use one of {OPERATIONS}")
    result = tuple(servers)
    if not any(s == VOTER for _, s in result):
        raise ConfigurationError("configuration must have at least one voter")
    return result


def format_configuration(config: Configuration) -> str:
    """Go `%+v` of the server list as Stats()['latest_configuration'] prints it (address = id)."""
    if not config:
        return "[]"
    parts = [
        f"{{Suffrage:{SUFFRAGE_NAMES.get(s, 'Staging' if s == STAGING else 'Unknown')} ID:{sid} Address:{sid}}}"
        for sid, s in config
    ]
    return "[" + " ".join(parts) + "]"
