"""Scenario events: ``{at: 30s, <kind>: <payload>}``, one kind per event.

In YAML an event is a mapping with ``at`` and exactly one kind key; the model keeps that shape (one
optional field per kind) so errors point at the key the user wrote. The engine reads:

* ``event.at``      — when it fires (ns since the start of the run);
* ``event.kind``    — one of `EVENT_KINDS`;
* ``event.payload`` — the value of that kind's field, typed per kind (table below);
* ``event.target``  — the one server target of crash/restart/leave/force_leave/pause/upgrade,
  else None; `parse_target` turns it into a `TargetRef`;
* ``event.line``    — the line of the event in its file (0 if not loaded from a file);
* ``event.index``   — its index in the file's ``events`` list (the scenario sorts events by time).

========================  ===================================================================
kind                      payload
========================  ===================================================================
crash, leave, force_leave  ``str`` target: a server name or a role (leader, follower[1], ...)
restart                   ``str`` a server name (a server that crashed or left), or the role
                          target of an earlier ``crash`` event: then it means *the server that
                          crash took down* (a crashed server has no role to select it by)
pause                     `PauseSpec` — ``.server`` target, ``.for_`` ns (YAML key ``for``)
partition                 ``list[list[str]]`` groups of targets; servers named in no group form
                          one more group together (so ``[[leader]]`` isolates the leader)
cut                       `LinkRef` — ``.from_`` → ``.to``: that one direction drops everything
heal                      ``"all"`` (every partition and cut) or a `LinkRef` (the link between
                          the two servers, both directions: cuts removed, partition bridged)
set_network               `NetworkPatch` — keys given replace the current network's
set_load                  `LoadPatch` — ``.writes_per_second``
join                      `ServerSpec` — a new server joins (version defaults per profile); the
                          name may be that of a server that left (a new server, empty data dir)
upgrade                   `UpgradeSpec` — ``.server`` target restarts on ``.version``; with
                          ``.down_for`` it stays down that long first (None: at once)
rolling_restart           `RollingRestartSpec` — servers restarted one at a time (`rolling`)
set_autopilot             `AutopilotPatch` — ``.changes()`` the config keys written
========================  ===================================================================

A scenario's events may be written in any order: `Scenario` sorts them stably by ``at`` (events
at the same time keep file order) and each keeps its place in the file (``event.index``) and its
line, so messages point at what the user wrote. Events at the same time apply in file order.
What each kind needs of its server (running, crashed, left, down for a while) is checked before
the run, in `lifecycle`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, cast

from pydantic import AfterValidator, BeforeValidator, Discriminator, Field, PrivateAttr, Tag, model_validator

from autopilot_sim.scenario.autopilot import AutopilotPatch
from autopilot_sim.scenario.base import KeyedError, ScenarioModel
from autopilot_sim.scenario.cluster import ServerSpec
from autopilot_sim.scenario.load import LoadPatch
from autopilot_sim.scenario.network import NetworkPatch
from autopilot_sim.scenario.rolling import RollingRestartSpec, StepDuration
from autopilot_sim.scenario.types import (
    Duration,
    PositiveDuration,
    Target,
    UpgradeVersion,
    Version,
    canonical_target,
)

#: Every event kind, in the order the format documents them.
EVENT_KINDS = (
    "crash",
    "restart",
    "pause",
    "partition",
    "cut",
    "heal",
    "set_network",
    "set_load",
    "leave",
    "force_leave",
    "join",
    "upgrade",
    "rolling_restart",
    "set_autopilot",
)

EventKind = Literal[
    "crash", "restart", "pause", "partition", "cut", "heal", "set_network", "set_load",
    "leave", "force_leave", "join", "upgrade", "rolling_restart", "set_autopilot",
]


class PauseSpec(ScenarioModel):
    """A stalled process: no timers, no messages, for a while. YAML: ``{server, for}``."""

    server: Target = Field(description="The server to pause.")
    for_: PositiveDuration = Field(alias="for", description="How long it stays paused.")


class LinkRef(ScenarioModel):
    """One direction of a link, ``from → to``. YAML: ``{from, to}``."""

    from_: Target = Field(alias="from", description="Sending server.")
    to: Target = Field(description="Receiving server.")

    @model_validator(mode="after")
    def _two_ends(self) -> LinkRef:
        if canonical_target(self.from_) == canonical_target(self.to):
            raise KeyedError("to", f'from and to are the same server ("{self.to}")')
        return self


class CutSpec(LinkRef):
    """A one-way link failure. YAML: ``{from, to[, traffic]}``.

    ``traffic`` picks what the cut drops: ``all`` (default), ``raft`` (Nomad's RPC port 4647:
    Raft and the stats RPCs) or ``gossip`` (serf's port 4648, UDP and TCP) — a firewall that
    blocks only one port is a classic misconfiguration, and the only way serf can call servers
    failed while Raft still reaches them.
    """

    traffic: Literal["all", "raft", "gossip"] = Field(
        "all", description="What is dropped: all | raft (port 4647) | gossip (port 4648).")


class UpgradeSpec(ScenarioModel):
    """Restart a server on a new version. YAML: ``{server, version[, upgrade_version][, down_for]}``.

    Without ``down_for`` the server stops and starts again at the same instant; with it, it stops
    without leaving (a Nomad server does not leave on SIGTERM by default) and starts on the new
    version that much later, with its Raft state.
    """

    server: Target = Field(description="The server to upgrade.")
    version: Version = Field(description="Its new Nomad version.")
    upgrade_version: UpgradeVersion | None = Field(
        None, description="Enterprise: its new custom upgrade version; unset: unchanged.")
    down_for: StepDuration | None = Field(
        None, description="How long the server is down before it starts on the new version (at most "
                          "24h); unset: it restarts at once.")


def _check_groups(groups: list[list[str]]) -> list[list[str]]:
    if not groups:
        raise ValueError("a partition needs at least one group of servers")
    seen: dict[str, tuple[int, int]] = {}
    for g, group in enumerate(groups):
        if not group:
            raise KeyedError(g, "a partition group cannot be empty")
        for j, target in enumerate(group):
            key = canonical_target(target)
            if key in seen:
                first = seen[key]
                raise KeyedError((g, j), f'"{target}" is in the partition twice (also at '
                                         f"partition[{first[0]}][{first[1]}])")
            seen[key] = (g, j)
    return groups


def _groups_not_names(value: Any) -> Any:
    """`partition: [leader]` is a common slip for `[[leader]]`: say so with the fix."""
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        names = ", ".join(value)
        raise ValueError(f"a partition is a list of groups, each a list of servers: write [[{names}]] for "
                         f"one group (servers named in no group form the other side), or "
                         f"[[{value[0]}], [...]] for several groups")
    return value


Partition = Annotated[list[list[Target]], BeforeValidator(_groups_not_names), AfterValidator(_check_groups)]


def _heal_tag(value: Any) -> str | None:
    if value == "all":
        return "all"
    if isinstance(value, (dict, LinkRef)):
        return "link"
    return None


Heal = Annotated[
    Annotated[Literal["all"], Tag("all")] | Annotated[LinkRef, Tag("link")],
    Discriminator(_heal_tag, custom_error_type="heal_form",
                  custom_error_message='expected "all" or {from: <server>, to: <server>}'),
]


class Event(ScenarioModel):
    """One scheduled fault or change. Exactly one kind field is set; see the module docstring."""

    model_config = {
        "json_schema_extra": lambda schema: schema.update(
            oneOf=[{"required": [kind]} for kind in EVENT_KINDS]),
    }

    at: Duration = Field(description="When the event fires, since the start of the run.")
    crash: Target | None = Field(None, description="Kill a server's process without leaving.")
    restart: Target | None = Field(
        None, description="Start a crashed server (or one that left) again, with its persisted term, "
                          "vote and log: a name, or the target of an earlier crash (the server that "
                          "crash took down). A running server cannot be restarted.")
    pause: PauseSpec | None = Field(None, description="Stall a server: {server, for}.")
    partition: Partition | None = Field(
        None, description="Split the network into groups; unnamed servers form one more group.")
    cut: CutSpec | None = Field(
        None, description="Drop messages from → to (one way); `traffic` limits it to raft or gossip.")
    heal: Heal | None = Field(
        None, description='"all", or {from, to} to heal the link between two servers (both directions).')
    set_network: NetworkPatch | None = Field(None, description="Change latency, loss or links.")
    set_load: LoadPatch | None = Field(None, description="Change the client write rate.")
    leave: Target | None = Field(None, description="Gracefully leave the cluster.")
    force_leave: Target | None = Field(
        None, description="The operator's force-leave of a (failed) server, issued on the leader.")
    join: ServerSpec | None = Field(
        None, description="A new server joins: under a new name, or under the name of a server that "
                          "left (a new server with an empty data dir; a crashed one is restarted instead).")
    upgrade: UpgradeSpec | None = Field(
        None, description="Restart a server on a new version: {server, version}.")
    rolling_restart: RollingRestartSpec | None = Field(
        None, description="Restart (or, with version, upgrade) servers one at a time: {servers: all | [names], "
                          "order: leader-last | followers-first | as-listed, interval, down_for[, version]}.")
    set_autopilot: AutopilotPatch | None = Field(
        None, description="Write the autopilot configuration (through Raft, like the API).")

    _line: int = PrivateAttr(0)
    _index: int | None = PrivateAttr(None)

    @model_validator(mode="after")
    def _one_kind(self) -> Event:
        kinds = [k for k in EVENT_KINDS if getattr(self, k) is not None]
        if not kinds:
            raise ValueError("an event needs a kind: one of " + ", ".join(EVENT_KINDS))
        if len(kinds) > 1:
            raise KeyedError(kinds[1], f"an event has exactly one kind, this one has {' and '.join(kinds)}; "
                                       "write one event per kind (same `at` keeps file order)")
        return self

    @property
    def kind(self) -> EventKind:
        """The event's kind (the one kind field that is set)."""
        return cast(EventKind, next(k for k in EVENT_KINDS if getattr(self, k) is not None))

    @property
    def payload(self) -> Any:
        """The value of the kind's field (typed per kind; see the module docstring)."""
        return getattr(self, self.kind)

    @property
    def target(self) -> str | None:
        """The single server target of crash/restart/leave/force_leave/pause/upgrade, else None."""
        kind = self.kind
        if kind in ("crash", "restart", "leave", "force_leave"):
            return cast(str, self.payload)
        if kind in ("pause", "upgrade"):
            return cast(str, self.payload.server)
        return None

    @property
    def line(self) -> int:
        """The event's line in its scenario file (1-based; 0 when not loaded from a file)."""
        return self._line

    @property
    def index(self) -> int | None:
        """The event's index in the scenario file's ``events`` list (None outside a `Scenario`)."""
        return self._index

    def references(self) -> list[tuple[tuple[str | int, ...], str]]:
        """Every server target or name in the payload with its path inside the event, e.g.
        ``(("partition", 1, 0), "node3")``. Join's new name is not a reference."""
        kind, p = self.kind, self.payload
        if kind in ("crash", "restart", "leave", "force_leave"):
            return [((kind,), p)]
        if kind in ("pause", "upgrade"):
            return [((kind, "server"), p.server)]
        if kind == "rolling_restart":
            return [(("rolling_restart", "servers", j), name) for j, name in enumerate(p.names or [])]
        if kind == "partition":
            return [(("partition", g, j), t) for g, group in enumerate(p) for j, t in enumerate(group)]
        if kind == "cut" or (kind == "heal" and p != "all"):
            return [((kind, "from"), p.from_), ((kind, "to"), p.to)]
        if kind == "set_network" and p.links:
            return [r for i, link in enumerate(p.links)
                    for r in ((("set_network", "links", i, "from"), link.from_),
                              (("set_network", "links", i, "to"), link.to))]
        return []
