"""``--set KEY=VALUE`` overrides on raw scenario data, by dotted key path.

``KEY`` is a path such as ``autopilot.server_stabilization_time``, ``cluster.servers``,
``events[2].at`` (``events.2.at`` works too) or ``expect[0].servers["node.1"].healthy``;
``VALUE`` is YAML (``30s``, ``7``, ``true``, ``{distribution: constant, value: 2ms}``).
Missing mappings on the way are created. The value replaces whatever was there, and its
position becomes ``--set KEY`` so a bad value is reported against the override, not the file.

This module only edits raw data; `loader.apply_overrides` and ``load_scenario(..., overrides=)``
validate the result.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from autopilot_sim.scenario.errors import LocatedError
from autopilot_sim.scenario.types import describe
from autopilot_sim.scenario.yamlsource import Location, SourceMap, YamlProblem, parse_yaml_value

_TOKEN = re.compile(r'\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]|([^.\[\]]+)|(\.)')


class OverrideError(ValueError):
    """An override that cannot be applied (bad syntax, a path through a scalar, an index out of
    range)."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key
        self.message = message

    def located(self) -> LocatedError:
        """As a `LocatedError` whose location is ``--set KEY``."""
        return LocatedError(f"--set {self.key}", None, None, self.key, self.message)


def parse_key(key: str) -> tuple[str | int, ...]:
    """``a.b[2]["x.y"].c`` → ``("a", "b", 2, "x.y", "c")``; digits after a dot stay text and
    are used as an index when they meet a list."""
    if not key:
        raise OverrideError(key, "empty key: expected KEY=VALUE such as seed=3")
    segments: list[str | int] = []
    pos = 0
    expect_name = True
    while pos < len(key):
        match = _TOKEN.match(key, pos)
        if not match:
            raise OverrideError(key, f"cannot read the key at {key[pos:]!r}")
        index, quoted, name, dot = match.groups()
        if dot:
            if expect_name:
                raise OverrideError(key, "empty segment in the key (two dots, or a leading dot)")
            expect_name = True
        elif name is not None:
            if not expect_name:
                raise OverrideError(key, f"missing '.' before {name!r}")
            segments.append(name)
            expect_name = False
        else:
            segments.append(int(index) if index is not None else quoted.replace('\\"', '"'))
            expect_name = False
        pos = match.end()
    if expect_name:
        raise OverrideError(key, "the key ends with a dot")
    return tuple(segments)


def split_override(item: str) -> tuple[str, str]:
    """``"KEY=VALUE"`` → ``("KEY", "VALUE")``."""
    if "=" not in item:
        raise OverrideError(item.strip(), f"expected KEY=VALUE, got {item!r}")
    key, value = item.split("=", 1)
    return key.strip(), value


def _set(raw: dict[str, Any], key: str, path: tuple[str | int, ...], value: Any) -> tuple[Any, ...]:
    """Set ``value`` at ``path`` in ``raw``; returns the path with list indexes as ints."""
    node: Any = raw
    real: list[Any] = []
    for depth, seg in enumerate(path):
        last = depth == len(path) - 1
        where = ".".join(str(s) for s in real) or "the scenario"
        if isinstance(node, list):
            if isinstance(seg, str) and seg.isdigit():
                seg = int(seg)
            if not isinstance(seg, int):
                raise OverrideError(key, f"{where} is a list: use an index such as {where}[0]")
            if not 0 <= seg < len(node):
                span = f"indexes 0..{len(node) - 1}" if node else "it is empty"
                raise OverrideError(key, f"{where} has {len(node)} item{'s' if len(node) != 1 else ''} ({span})")
        elif isinstance(node, dict):
            seg = str(seg)
        else:
            raise OverrideError(key, f"cannot set inside {where}: it is {describe(node)}, not a mapping or list")
        real.append(seg)
        if last:
            node[seg] = value
        else:
            if isinstance(node, dict) and (seg not in node or node[seg] is None):
                node[seg] = {}
            node = node[seg]
    return tuple(real)


def apply_to_raw(raw: dict[str, Any], smap: SourceMap, overrides: Iterable[str]) -> list[LocatedError]:
    """Apply ``overrides`` in order to ``raw`` (in place) and record their origin in ``smap``.

    Returns the overrides that could not be applied, as located errors (the others are applied).
    """
    problems: list[LocatedError] = []
    for item in overrides:
        try:
            key, text = split_override(item)
            path = parse_key(key)
            origin = Location(f"--set {key}")
            try:
                value = parse_yaml_value(text, origin)
            except YamlProblem as exc:
                raise OverrideError(key, exc.message) from None
            real = _set(raw, key, path, value)
        except OverrideError as exc:
            problems.append(exc.located())
            continue
        smap.replace(real, origin)
        for depth in range(1, len(real)):  # mappings the override created on its way (nosuch.key)
            smap.values.setdefault(real[:depth], Location(origin.file, None, None, real))
    return problems
