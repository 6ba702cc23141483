"""Scenario files: the typed model, the loader with located errors, overrides, the JSON Schema.

Loading::

    from autopilot_sim.scenario import load_scenario, ScenarioError
    try:
        scenario = load_scenario("scenarios/demo.yaml", overrides=["seed=3"])
    except ScenarioError as exc:
        for err in exc.errors:          # LocatedError(file, line, column, path, message)
            print(err)                  # demo.yaml:12:5: events[3].crash: unknown server ...

The model (`Scenario`) holds integer nanoseconds for every duration and time; names are the YAML
keys (``from``/``for`` are ``from_``/``for_`` in Python). Everything has its default filled in:

* ``scenario.cluster.servers`` — list of `ServerSpec` (``name``, ``version``,
  ``redundancy_zone``, ``upgrade_version``, ``non_voting``); ``bootstrap_expect`` is an int;
* ``scenario.raft.effective()`` — the timeouts scaled by ``raft_multiplier`` (`RaftTimings`);
* ``scenario.gossip``, ``scenario.network`` (`Distribution` latency, loss, `LinkSpec` links),
  ``scenario.load``, ``scenario.autopilot`` (``.config()`` the API keys), ``scenario.acl``;
* ``scenario.events`` — `Event`: ``.at``, ``.kind``, ``.payload`` (typed per kind, see
  `autopilot_sim.scenario.events`), ``.target``, ``.line``; targets parse with `parse_target`;
* ``scenario.expect`` — `Expectation`: ``.mode``, ``.start``, ``.end``, ``.line`` and the checks
  ``healthy``, ``failure_tolerance``, ``leader``, ``voters``, ``servers`` (`count_matches`).

``scenario.to_resolved_yaml()`` writes it back with every default present; loading that text
gives an equal scenario.
"""

from autopilot_sim.scenario.acl import AclSpec, TokenSpec
from autopilot_sim.scenario.autopilot import CONFIG_KEYS as AUTOPILOT_CONFIG_KEYS
from autopilot_sim.scenario.autopilot import AutopilotPatch, AutopilotSpec
from autopilot_sim.scenario.cluster import DEFAULT_VERSIONS, ClusterSpec, ServerSpec
from autopilot_sim.scenario.distributions import (
    ConstantDistribution,
    Distribution,
    ExponentialDistribution,
    LognormalDistribution,
    NormalDistribution,
    UniformDistribution,
    mean_delay,
)
from autopilot_sim.scenario.errors import LocatedError, ScenarioError
from autopilot_sim.scenario.events import EVENT_KINDS, CutSpec, Event, LinkRef, PauseSpec, UpgradeSpec
from autopilot_sim.scenario.expectations import Expectation, IntRange, ServerCheck, count_matches
from autopilot_sim.scenario.gossip import GossipSpec
from autopilot_sim.scenario.jsonschema import scenario_json_schema
from autopilot_sim.scenario.load import LoadPatch, LoadSpec
from autopilot_sim.scenario.loader import apply_overrides, load_scenario, load_scenario_text
from autopilot_sim.scenario.network import LinkSpec, NetworkPatch, NetworkSpec
from autopilot_sim.scenario.raft import RaftSpec, RaftTimings
from autopilot_sim.scenario.scenario import Scenario
from autopilot_sim.scenario.types import TargetRef, canonical_target, parse_target

__all__ = [
    "AUTOPILOT_CONFIG_KEYS",
    "DEFAULT_VERSIONS",
    "EVENT_KINDS",
    "AclSpec",
    "AutopilotPatch",
    "AutopilotSpec",
    "ClusterSpec",
    "ConstantDistribution",
    "CutSpec",
    "Distribution",
    "Event",
    "Expectation",
    "ExponentialDistribution",
    "GossipSpec",
    "IntRange",
    "LinkRef",
    "LinkSpec",
    "LoadPatch",
    "LoadSpec",
    "LocatedError",
    "LognormalDistribution",
    "NetworkPatch",
    "NetworkSpec",
    "NormalDistribution",
    "PauseSpec",
    "RaftSpec",
    "RaftTimings",
    "Scenario",
    "ScenarioError",
    "ServerCheck",
    "ServerSpec",
    "TargetRef",
    "TokenSpec",
    "UniformDistribution",
    "UpgradeSpec",
    "apply_overrides",
    "canonical_target",
    "count_matches",
    "load_scenario",
    "load_scenario_text",
    "mean_delay",
    "parse_target",
    "scenario_json_schema",
]
