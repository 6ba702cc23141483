"""YAML text → plain Python data plus a map from every key path to its line and column.

PyYAML's ``compose`` gives the node tree with positions; we build the data ourselves so we can

* remember where every key and value is (`SourceMap`), for located errors;
* refuse duplicate keys (PyYAML silently keeps the last one);
* keep mapping keys as the text written (``on:`` or ``no:`` stay strings, not booleans) and
  timestamps as text (``start_time`` is parsed by the model, to nanoseconds);
* resolve ``<<`` merge keys and aliases as YAML says.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

Path = tuple[Any, ...]

_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_INDEXED_ROLE = re.compile(r"(?<![\"'])\b(leader|follower|voter|non-voter)\[")


@dataclass(frozen=True)
class Location:
    """Where something is: a file (or an override such as ``--set seed``) and 1-based line and
    column (None when the origin has no lines, like a ``--set`` override)."""

    file: str
    line: int | None = None
    column: int | None = None
    #: For an override: the key path it set (so errors exactly there need not repeat it).
    key_path: tuple[Any, ...] | None = None


@dataclass
class SourceMap:
    """Positions of the values (and of the keys) of one YAML document, by key path."""

    file: str
    values: dict[Path, Location] = field(default_factory=dict)
    keys: dict[Path, Location] = field(default_factory=dict)

    def locate(self, path: Path, *, key: bool = False) -> Location:
        """The position of ``path`` (its key when ``key`` and it has one), else of the nearest
        enclosing value that has one, else the file itself."""
        if key and tuple(path) in self.keys:
            return self.keys[tuple(path)]
        probe = tuple(path)
        while True:
            if probe in self.values:
                return self.values[probe]
            if not probe:
                return Location(self.file)
            probe = probe[:-1]

    def replace(self, path: Path, origin: Location) -> None:
        """Forget what was recorded at and under ``path``: it now comes from ``origin``."""
        path = tuple(path)
        for table in (self.values, self.keys):
            for p in [p for p in table if p[: len(path)] == path]:
                del table[p]
        self.values[path] = Location(origin.file, origin.line, origin.column, path)


class YamlProblem(Exception):
    """A YAML document that cannot become scenario data (syntax, duplicate keys, tags)."""

    def __init__(self, location: Location, message: str, path: Path = ()) -> None:
        super().__init__(message)
        self.location = location
        self.message = message
        self.path = path


def _loc(file: str, node: Node) -> Location:
    mark = node.start_mark
    return Location(file, mark.line + 1, mark.column + 1)


class _Builder:
    def __init__(self, file: str, smap: SourceMap) -> None:
        self.file = file
        self.smap = smap
        self.constructor = SafeConstructor()

    def build(self, node: Node, path: Path) -> Any:
        self.smap.values.setdefault(path, _loc(self.file, node))
        if isinstance(node, MappingNode):
            return self._mapping(node, path)
        if isinstance(node, SequenceNode):
            return [self.build(item, path + (i,)) for i, item in enumerate(node.value)]
        if node.tag == _TIMESTAMP_TAG:
            return node.value
        try:
            return self.constructor.construct_object(node, deep=True)
        except ConstructorError as exc:
            raise YamlProblem(_loc(self.file, node), f"cannot read this value: {exc.problem}", path) from None

    def _mapping(self, node: MappingNode, path: Path) -> dict[str, Any]:
        try:
            self.constructor.flatten_mapping(node)  # resolve `<<` merge keys
        except ConstructorError as exc:
            raise YamlProblem(_loc(self.file, node), f"cannot merge: {exc.problem}", path) from None
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                raise YamlProblem(_loc(self.file, key_node),
                                  "a key must be a plain name, not a list or mapping", path)
            key = key_node.value
            if key in out:
                first = self.smap.keys.get(path + (key,))
                where = f" (first at line {first.line})" if first and first.line else ""
                raise YamlProblem(_loc(self.file, key_node), f'duplicate key "{key}"{where}', path + (key,))
            self.smap.keys[path + (key,)] = _loc(self.file, key_node)
            out[key] = self.build(value_node, path + (key,))
        return out


def parse_yaml(text: str, file: str) -> tuple[Any, SourceMap]:
    """Parse one YAML document into plain data and its `SourceMap`.

    Raises `YamlProblem` (with line and column) for syntax errors, several documents, duplicate
    keys and unknown tags. An empty document gives ``None``.
    """
    smap = SourceMap(file)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or "invalid YAML"
        if exc.context:
            other = exc.context_mark if exc.context_mark is not mark else None
            problem += f" ({exc.context}" + (f" at line {other.line + 1})" if other else ")")
        location = Location(file, mark.line + 1, mark.column + 1) if mark else Location(file)
        lines = text.splitlines()
        if mark and mark.line < len(lines) and _INDEXED_ROLE.search(lines[mark.line]):
            problem += ('; inside { } or [ ] quote an indexed target: "follower[1]"')
        raise YamlProblem(location, f"YAML syntax error: {problem}") from None
    except yaml.YAMLError as exc:
        raise YamlProblem(Location(file), f"YAML error: {exc}") from None
    if node is None:
        return None, smap
    return _Builder(file, smap).build(node, ()), smap


def parse_yaml_value(text: str, origin: Location) -> Any:
    """Parse the value of a ``--set KEY=VALUE`` override as YAML (a scalar, or a flow list or
    mapping such as ``{distribution: constant, value: 2ms}``)."""
    try:
        data, _ = parse_yaml(text, origin.file)
    except YamlProblem as exc:
        raise YamlProblem(origin, exc.message.replace(" error:", " error in the value:", 1)) from None
    return data
