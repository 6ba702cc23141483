"""`Scenario`: the whole scenario file, validated and with every default filled in."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import yaml
from pydantic import Field, PrivateAttr, field_validator, model_validator

from autopilot_sim.scenario.acl import AclSpec
from autopilot_sim.scenario.autopilot import AutopilotSpec
from autopilot_sim.scenario.base import IssueList, ScenarioModel, format_path
from autopilot_sim.scenario.cluster import DEFAULT_VERSIONS, ClusterSpec
from autopilot_sim.scenario.cost import too_costly
from autopilot_sim.scenario.errors import located
from autopilot_sim.scenario.events import Event
from autopilot_sim.scenario.expectations import Expectation
from autopilot_sim.scenario.gossip import GossipSpec
from autopilot_sim.scenario.lifecycle import lifecycle_issues
from autopilot_sim.scenario.load import LoadSpec
from autopilot_sim.scenario.network import NetworkSpec
from autopilot_sim.scenario.raft import RaftSpec
from autopilot_sim.scenario.rolling import expansion_comment
from autopilot_sim.scenario.semantics import scenario_issues
from autopilot_sim.scenario.types import DEFAULT_START_TIME, ScenarioDuration, Slug, Timestamp
from autopilot_sim.scenario.yamlsource import SourceMap

#: The scenario format version this code reads.
FORMAT_VERSION = 1
RESOLVED_HEADER = (
    "# Resolved scenario (autopilot-sim): every default filled in. Loading this file again gives\n"
    "# the same scenario, so a run can be repeated byte for byte with the same seed.\n"
)

M = TypeVar("M", bound=ScenarioModel)


def defaults_of(model: type[M]) -> Callable[[], M]:
    """A block with every default (what an absent key means), validated like a written one."""
    return lambda: model.model_validate({})


class Scenario(ScenarioModel):
    """A whole scenario. Durations and times are integer nanoseconds (times since the run's
    start, except ``start_time``: ns since the Unix epoch)."""

    version: int = Field(FORMAT_VERSION, description="The scenario format version (1).")
    name: Slug = Field(description="Required: the scenario's name, a slug.")
    description: str = Field("", description="Shown by `run` and in notebooks.")
    seed: int = Field(1, ge=0, lt=2**64, description="Root random seed; `--seed` overrides.")
    duration: ScenarioDuration = Field(
        description="Required: how much simulated time to run; at most 720h (30 days: ten times the "
                    "longest default timer, serf's 72h reconnect_timeout; longer runs only repeat "
                    "themselves for hours of wall time).")
    start_time: Timestamp = Field(
        DEFAULT_START_TIME, description="Wall-clock time at the start of the run (StableSince anchor).")
    cluster: ClusterSpec = Field(default_factory=defaults_of(ClusterSpec), description="The servers (default: 3).")
    raft: RaftSpec = Field(default_factory=defaults_of(RaftSpec), description="hashicorp/raft knobs.")
    gossip: GossipSpec = Field(default_factory=defaults_of(GossipSpec), description="Serf/memberlist timing.")
    network: NetworkSpec = Field(default_factory=defaults_of(NetworkSpec), description="Latency, loss, links.")
    load: LoadSpec = Field(default_factory=defaults_of(LoadSpec), description="Client writes.")
    autopilot: AutopilotSpec = Field(default_factory=defaults_of(AutopilotSpec), description="Nomad's autopilot block.")
    acl: AclSpec = Field(default_factory=defaults_of(AclSpec), description="ACLs for `serve`.")
    events: list[Event] = Field(
        default_factory=list, description="Faults and changes, in any order: sorted stably by `at` (events at "
                                          "the same time keep file order); the resolved file shows the order used.")
    expect: list[Expectation] = Field(default_factory=list, description="Checks on the health reports.")

    _source: str | None = PrivateAttr(None)
    _positions: SourceMap | None = PrivateAttr(None)

    @field_validator("version")
    @classmethod
    def _known_version(cls, value: int) -> int:
        if value != FORMAT_VERSION:
            raise ValueError(f"unsupported scenario format version {value}; this autopilot-sim "
                             f"reads version {FORMAT_VERSION}")
        return value

    @model_validator(mode="after")
    def _resolve_and_check(self) -> Scenario:
        default_version = DEFAULT_VERSIONS[self.cluster.nomad_version]
        for i, event in enumerate(self.events):
            event._index = i  # its place in the file: messages point there after the sort below
            if event.join is not None and not event.join.version_given:
                event.join.version = default_version
                event.join.model_fields_set.discard("version")
        issues = scenario_issues(
            duration=self.duration,
            cluster=self.cluster,
            links=list(enumerate(self.network.links)),
            events=list(enumerate(self.events)),
            expect=list(enumerate(self.expect)),
        )
        if issues:
            raise IssueList(issues)
        costly = too_costly(self)
        if costly is not None:
            raise IssueList([(("duration",), costly, False)])
        self.events.sort(key=lambda event: event.at)  # stable: same-time events keep file order
        return self

    @property
    def source(self) -> str | None:
        """The file this scenario was loaded from (``None`` if built in Python)."""
        return self._source

    def located(self, path: tuple[str | int, ...], message: str) -> str:
        """``file:line:col: key.path: message`` for ``path`` in the file this scenario was loaded
        from (``key.path: message`` when it was built in Python)."""
        if self._positions is None:
            return f"{format_path(path)}: {message}"
        return str(located(self._positions, path, message))

    def notes(self) -> list[str]:
        """What only the run can check (role targets, states an earlier role event may have
        changed), one located line each: see `lifecycle`."""
        _, notes = lifecycle_issues(self.cluster, [(self.event_index(e), e) for e in self.events], self.duration)
        return [self.located(path, message) for path, message, _ in notes]

    def event_index(self, event: Event) -> int:
        """``event``'s index in the file's ``events`` list (the list here is sorted by time)."""
        return event.index if event.index is not None else self.events.index(event)

    def server_names(self) -> list[str]:
        """Every server that ever exists: the initial ones, then those joined by events."""
        names = list(self.cluster.server_names)
        for event in self.events:
            if event.join is not None and event.join.name not in names:
                names.append(event.join.name)
        return names

    def to_resolved_dict(self) -> dict[str, Any]:
        """The scenario as plain YAML-ready data: every default present, durations as Go
        duration strings, ``start_time`` as RFC 3339, keys in the model's (documented) order."""
        data = self.model_dump(mode="json", by_alias=True, exclude_none=True)
        for exp in data["expect"]:
            if not exp.get("servers"):
                exp.pop("servers", None)
        return data

    def to_resolved_yaml(self) -> str:
        """The resolved scenario as YAML text (deterministic); loading it gives an equal Scenario.

        Blocks are written in block style; list items (servers, links, tokens, events,
        expectations), lists of scalars and distributions in flow style, one item per line.
        """
        body = yaml.dump(_flowed(self.to_resolved_dict()), Dumper=_ResolvedDumper, sort_keys=False,
                         allow_unicode=True, default_flow_style=False, width=120)
        return RESOLVED_HEADER + self._comment_expansions(body)

    def _comment_expansions(self, body: str) -> str:
        """A comment above each rolling restart with its expansion (`rolling.expansion_comment`).
        Comments only: loading the file again reads the same events."""
        if not any(e.rolling_restart is not None for e in self.events):
            return body
        out: list[str] = []
        in_events, k = False, -1
        for line in body.splitlines(keepends=True):
            if not line.startswith((" ", "-")):
                in_events = line.startswith("events:")
            elif in_events and line.startswith("- "):
                k += 1
                event = self.events[k]
                if event.rolling_restart is not None:
                    out += [f"# events[{k}] {text}\n" if n == 0 else f"#   {text}\n"
                            for n, text in enumerate(expansion_comment(event.rolling_restart, event.at))]
            out.append(line)
        return "".join(out)


class _Flow(dict):  # type: ignore[type-arg]
    """A mapping written in flow style ``{a: 1, b: 2}``."""


class _FlowList(list):  # type: ignore[type-arg]
    """A list written in flow style ``[a, b]``."""


class _ResolvedDumper(yaml.SafeDumper):
    """SafeDumper that writes `_Flow` / `_FlowList` in flow style."""


_ResolvedDumper.add_representer(
    _Flow, lambda d, data: d.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=True))
_ResolvedDumper.add_representer(
    str, lambda d, data: d.represent_scalar("tag:yaml.org,2002:str", data, style="|" if "\n" in data else None))
_ResolvedDumper.add_representer(
    _FlowList, lambda d, data: d.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True))


def _flowed(node: Any, in_list: bool = False) -> Any:
    """Mark list items, scalar lists and distributions for flow style."""
    if isinstance(node, dict):
        mapping = {k: _flowed(v) for k, v in node.items()}
        return _Flow(mapping) if in_list or "distribution" in node else mapping
    if isinstance(node, list):
        items = [_flowed(v, in_list=True) for v in node]
        return _FlowList(items) if all(not isinstance(v, dict) for v in node) and node else items
    return node
