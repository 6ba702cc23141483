"""Load scenario files: YAML → `Scenario`, with every problem reported with its position.

* `load_scenario(path, overrides=None)` — a file;
* `load_scenario_text(text, filename="<string>", overrides=None)` — YAML text;
* `apply_overrides(source, overrides)` — YAML text or an already-parsed mapping, plus
  ``--set``-style overrides.

All three return a validated `Scenario` or raise `ScenarioError` listing *every* problem found:
YAML syntax, unknown keys (with a "did you mean"), wrong types, bad durations (Go's message),
out-of-range values, missing required keys, unknown server names, events after the end or and bad overrides.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import TypeAdapter, ValidationError

from autopilot_sim.scenario.base import format_path
from autopilot_sim.scenario.cluster import ClusterSpec
from autopilot_sim.scenario.errors import LocatedError, ScenarioError, located, translate, value_at
from autopilot_sim.scenario.events import Event
from autopilot_sim.scenario.expectations import Expectation
from autopilot_sim.scenario.jsonschema import valid_keys
from autopilot_sim.scenario.network import LinkSpec
from autopilot_sim.scenario.overrides import apply_to_raw
from autopilot_sim.scenario.scenario import Scenario
from autopilot_sim.scenario.semantics import scenario_issues
from autopilot_sim.scenario.types import ScenarioDuration, describe
from autopilot_sim.scenario.yamlguard import MAX_FILE_BYTES
from autopilot_sim.scenario.yamlsource import SourceMap, YamlProblem, parse_yaml, text_from_bytes

#: Validation context telling the models that the data is YAML text (numbers in duration
#: fields are read as typed: ``30`` is Go's "missing unit" error, not 30 ns).
YAML_CONTEXT = {"yaml": True}


def load_scenario(path: str | os.PathLike[str], overrides: Sequence[str] | None = None) -> Scenario:
    """Load and validate the scenario file at ``path``, after applying ``overrides``
    (``["seed=3", "cluster.servers=7"]``)."""
    name = os.fspath(path)
    try:
        with open(name, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        problem = f"cannot read the file: {exc.strerror or exc}"
        raise ScenarioError([LocatedError(name, None, None, "", problem)]) from None
    if len(data) > MAX_FILE_BYTES:
        problem = (f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB; a scenario is a few KB "
                   "(is this the right file?)")
        raise ScenarioError([LocatedError(name, None, None, "", problem)])
    try:
        text = text_from_bytes(data, name)
    except YamlProblem as exc:
        raise ScenarioError([_yaml_error(exc)]) from None
    return load_scenario_text(text, filename=name, overrides=overrides)


def _yaml_error(exc: YamlProblem) -> LocatedError:
    loc = exc.location
    return LocatedError(loc.file, loc.line, loc.column, format_path(exc.path), exc.message)


def load_scenario_text(text: str, filename: str = "<string>", overrides: Sequence[str] | None = None) -> Scenario:
    """Load and validate a scenario from YAML text; ``filename`` is used in error messages."""
    try:
        raw, smap = parse_yaml(text, filename)
    except YamlProblem as exc:
        raise ScenarioError([_yaml_error(exc)]) from None
    return validate_document(raw, smap, overrides=overrides)


def apply_overrides(source: Mapping[str, Any] | str, overrides: Sequence[str], *,
                    filename: str = "<string>") -> Scenario:
    """Apply ``--set``-style overrides to a scenario given as YAML text or as a raw mapping (as
    parsed from YAML; it is not modified) and validate the result like a file.

    A bad override is a `LocatedError` whose location is ``--set KEY``.
    """
    if isinstance(source, str):
        return load_scenario_text(source, filename=filename, overrides=overrides)
    raw = copy.deepcopy(dict(source))
    return validate_document(raw, SourceMap("<mapping>" if filename == "<string>" else filename),
                             overrides=overrides)


def validate_document(raw: Any, smap: SourceMap, overrides: Sequence[str] | None = None) -> Scenario:
    """Validate parsed YAML data (``raw``, with positions in ``smap``) into a `Scenario`."""
    errors: list[LocatedError] = []
    if raw is None:
        raw = {}
        if not overrides:
            raise ScenarioError([LocatedError(smap.file, 1, 1, "", "the file is empty: a scenario needs at least "
                                                                   "name and duration")])
    if not isinstance(raw, dict):
        raise ScenarioError([located(smap, (), "a scenario is a mapping of keys (name:, duration:, ...), got "
                                               f"{describe(raw)}")])
    if overrides:
        errors += apply_to_raw(raw, smap, overrides)
    try:
        scenario = Scenario.model_validate(raw, context=YAML_CONTEXT)
    except ValidationError as exc:
        problems = translate(exc, raw, valid_keys=lambda p: valid_keys(p, value_at(raw, p)))
        # The whole-scenario checks did not run: run them on the parts that are valid.
        problems += _partial_issues(raw)
        errors += [located(smap, path, message, at_key=at_key) for path, message, at_key in problems]
        raise ScenarioError(errors) from None
    if errors:
        raise ScenarioError(errors)
    for event in scenario.events:  # sorted by time: each keeps its place in the file
        event._line = smap.locate(("events", scenario.event_index(event))).line or 0
    for i, exp in enumerate(scenario.expect):
        exp._line = smap.locate(("expect", i)).line or 0
    scenario._source = smap.file
    scenario._positions = smap
    return scenario


def _partial_issues(raw: dict[str, Any]) -> list[tuple[tuple[Any, ...], str, bool]]:
    """`scenario_issues` over whichever parts of ``raw`` validate on their own."""

    def attempt(validate: Any, value: Any) -> Any:
        try:
            return validate(value, context=YAML_CONTEXT)
        except (ValidationError, ValueError, TypeError):
            return None

    duration = None
    if "duration" in raw:
        duration = attempt(TypeAdapter(ScenarioDuration).validate_python, raw["duration"])
    raw_cluster = raw.get("cluster") or {}
    cluster = attempt(ClusterSpec.model_validate, raw_cluster)
    if cluster is None and isinstance(raw_cluster, dict):
        # A mistake elsewhere in the block should not hide the server names from the checks.
        cluster = attempt(ClusterSpec.model_validate,
                          {k: v for k, v in raw_cluster.items() if k in ("servers", "enterprise")})
    raw_network = raw.get("network") or {}
    raw_links = raw_network.get("links") if isinstance(raw_network, dict) else None
    links: list[tuple[int, LinkSpec]] | None = None
    if isinstance(raw_links, list):
        # One by one: a duplicate link must not hide the others' names from the checks.
        parsed = [(i, attempt(LinkSpec.model_validate, link)) for i, link in enumerate(raw_links)]
        links = [(i, link) for i, link in parsed if link is not None]

    def items(key: str, model: Any) -> list[tuple[int, Any]]:
        values = raw.get(key)
        if not isinstance(values, list):
            return []
        parsed = [(i, attempt(model.model_validate, v)) for i, v in enumerate(values)]
        return [(i, v) for i, v in parsed if v is not None]

    return scenario_issues(duration=duration, cluster=cluster, links=links,
                           events=items("events", Event), expect=items("expect", Expectation))
