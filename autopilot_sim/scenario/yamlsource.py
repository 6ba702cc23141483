"""YAML text → plain Python data plus a map from every key path to its line and column.

PyYAML's ``compose`` gives the node tree with positions; we build the data ourselves so we can

* remember where every key and value is (`SourceMap`), for located errors;
* refuse duplicate keys (PyYAML silently keeps the last one);
* keep mapping keys as the text written (``on:`` or ``no:`` stay strings, not booleans) and
  timestamps as text (``start_time`` is parsed by the model, to nanoseconds);
* resolve ``<<`` merge keys and aliases as YAML says, within the limits of `yamlguard` (values
  after alias expansion, alias references, nesting depth, no alias cycles);
* refuse tags (``!foo``, ``!!binary``, ``!!set``): a scenario holds plain text, numbers,
  booleans, lists and mappings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from autopilot_sim.scenario.yamlguard import (
    EncodingProblem,
    GuardedLoader,
    GuardError,
    control_character_problem,
    decode_text,
    without_bad_characters,
)

Path = tuple[Any, ...]

_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_STD = "tag:yaml.org,2002:"
_MERGE_TAG = _STD + "merge"
#: The scalar tags plain YAML resolves to (and that may be written explicitly, as ``!!str 30``).
_SCALAR_TAGS = frozenset(_STD + t for t in ("str", "int", "float", "bool", "null", "timestamp"))
#: PyYAML's wording of common mistakes -> the same in plain words (its own text follows in
#: parentheses, for searching). Matched on the start of the parser's `problem`.
_PLAIN_YAML = (
    ("found character '\\t' that cannot start any token",
     "a tab character: YAML indents with spaces only"),
    ("expected ',' or '}'",
     "a { } mapping is not closed, or a ',' is missing between its entries"),
    ("expected ',' or ']'",
     "a [ ] list is not closed, or a ',' is missing between its items"),
    ("expected <block end>, but found '<block mapping start>'",
     "this line is indented differently from the keys above it (keys of one mapping start in the "
     "same column)"),
    ("expected <block end>, but found '<block sequence start>'",
     "this list item is indented differently from the items above it"),
    ("expected <block end>, but found '-'",
     "a list item ('- ') where a key was expected: check the indentation of the lines above"),
    ("mapping values are not allowed here",
     "a ':' inside a value: quote the value, or start a new line for a nested key"),
    ("found unexpected end of stream",
     "the file ends inside a quoted string or an open [ ] / { }"),
    ("found undefined alias",
     "an alias (*name) without an anchor (&name) before it"),
    ("could not find expected ':'",
     "a key without ':' (or a quoted string that is not closed)"),
)


def plain_yaml_problem(raw_problem: str, detail: str) -> str:
    """A PyYAML syntax problem in plain words, with the parser's text after it in parentheses."""
    for start, plain in _PLAIN_YAML:
        if raw_problem.startswith(start):
            return f"{plain} (parser: {detail})"
    return detail


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
        self._merged: dict[int, list[tuple[ScalarNode, Node, bool]]] = {}

    def build(self, node: Node, path: Path) -> Any:
        self.smap.values.setdefault(path, _loc(self.file, node))
        if isinstance(node, MappingNode):
            self._check_tag(node, _STD + "map", path)
            return self._mapping(node, path)
        if isinstance(node, SequenceNode):
            self._check_tag(node, _STD + "seq", path)
            return [self.build(item, path + (i,)) for i, item in enumerate(node.value)]
        self._check_tag(node, None, path)
        if node.tag == _TIMESTAMP_TAG:
            return node.value
        try:
            return self.constructor.construct_object(node, deep=True)
        except ConstructorError as exc:
            raise YamlProblem(_loc(self.file, node), f"cannot read this value: {exc.problem}", path) from None
        except ValueError:  # an integer of more than 4300 digits (Python's conversion limit)
            raise YamlProblem(_loc(self.file, node), f"cannot read this value: a number of "
                                                     f"{len(node.value):,} characters is too long", path) from None

    def _check_tag(self, node: Node, expected: str | None, path: Path) -> None:
        ok = node.tag in _SCALAR_TAGS if expected is None else node.tag == expected
        if not ok:
            shown = "!!" + node.tag[len(_STD):] if node.tag.startswith(_STD) else node.tag
            kinds: dict[type[Node], str] = {MappingNode: "mapping", SequenceNode: "list"}
            what = kinds.get(type(node), "value")
            raise YamlProblem(_loc(self.file, node),
                              f'unknown tag "{shown}" on a {what}: scenario files use plain YAML '
                              "(text, numbers, true/false, lists, mappings); remove the tag", path)

    def _mapping(self, node: MappingNode, path: Path) -> dict[str, Any]:
        out: dict[str, Any] = {}
        own: set[str] = set()
        for key_node, value_node, merged in self._pairs(node, path):
            key = key_node.value
            if not merged:
                if key in own:
                    first = self.smap.keys.get(path + (key,))
                    where = f" (first at line {first.line})" if first and first.line else ""
                    raise YamlProblem(_loc(self.file, key_node), f'duplicate key "{key}"{where}',
                                      path + (key,))
                own.add(key)
            elif key in own:
                continue
            self.smap.keys[path + (key,)] = _loc(self.file, key_node)
            out[key] = self.build(value_node, path + (key,))
        return out

    def _pairs(self, node: MappingNode, path: Path) -> list[tuple[ScalarNode, Node, bool]]:
        """The mapping's (key, value, came-from-a-merge) pairs with ``<<`` merge keys resolved as
        YAML says: the mapping's own keys override merged ones, and of several merged mappings
        the first listed wins. Nodes are not modified (an aliased node is built again as is)."""
        cached = self._merged.get(id(node))
        if cached is not None:
            return cached
        merged: list[tuple[ScalarNode, Node, bool]] = []
        seen: set[str] = set()
        own: list[tuple[ScalarNode, Node, bool]] = []
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                raise YamlProblem(_loc(self.file, key_node),
                                  "a key must be a plain name, not a list or mapping", path)
            if key_node.tag != _MERGE_TAG:
                own.append((key_node, value_node, False))
                continue
            sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
            for source in sources:
                if not isinstance(source, MappingNode):
                    raise YamlProblem(_loc(self.file, source),
                                      "cannot merge: << takes a mapping or a list of mappings", path)
                for key, value, _ in self._pairs(source, path):
                    if key.value not in seen:
                        seen.add(key.value)
                        merged.append((key, value, True))
        pairs = merged + own
        self._merged[id(node)] = pairs
        return pairs


def parse_yaml(text: str, file: str) -> tuple[Any, SourceMap]:
    """Parse one YAML document into plain data and its `SourceMap`.

    Raises `YamlProblem` (with line and column) for syntax errors, several documents, duplicate
    keys, unknown tags, control characters and the limits of `yamlguard`. An empty document
    gives ``None``.
    """
    smap = SourceMap(file)
    bad = control_character_problem(text)
    if bad is not None:
        raise _encoding_problem(bad, without_bad_characters(text), file)
    try:
        node = yaml.compose(text, Loader=GuardedLoader)
    except GuardError as exc:
        location = Location(file, exc.mark.line + 1, exc.mark.column + 1)
        raise YamlProblem(location, exc.message, exc.path) from None
    except RecursionError:  # pragma: no cover - MAX_DEPTH stops nesting long before this
        raise YamlProblem(Location(file), "the document is nested too deeply") from None
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
        raise YamlProblem(location, f"YAML syntax error: {plain_yaml_problem(exc.problem or '', problem)}") from None
    except yaml.YAMLError as exc:
        raise YamlProblem(Location(file), f"YAML error: {exc}") from None
    if node is None:
        return None, smap
    return _Builder(file, smap).build(node, ()), smap


def text_from_bytes(data: bytes, file: str) -> str:
    """A scenario file's bytes as text; a byte that is not UTF-8 (or a UTF-16 file) is a
    `YamlProblem` at its line and column, with the key there when the rest of the file parses."""
    try:
        return decode_text(data)
    except EncodingProblem as exc:
        raise _encoding_problem(exc, data.decode("utf-8", errors="replace"), file) from None


def _encoding_problem(problem: EncodingProblem, readable: str, file: str) -> YamlProblem:
    """A located `YamlProblem` for ``problem``; ``readable`` is the text with the bad characters
    replaced, parsed (if it can be) only to name the key at the problem's position."""
    path: Path = ()
    try:
        _, smap = parse_yaml(without_bad_characters(readable), file)
    except YamlProblem:
        smap = None
    if smap is not None:
        path = _path_at(smap, problem.line, problem.column)
    return YamlProblem(Location(file, problem.line, problem.column), problem.message, path)


def _path_at(smap: SourceMap, line: int, column: int) -> Path:
    """The deepest key path whose value starts at or before (line, column), on that line if any."""
    best: tuple[tuple[int, int], Path] | None = None
    for path, loc in smap.values.items():
        if loc.line is None or loc.column is None or (loc.line, loc.column) > (line, column):
            continue
        rank = (loc.line, loc.column)
        if best is None or rank > best[0] or (rank == best[0] and len(path) > len(best[1])):
            best = (rank, path)
    return best[1] if best is not None else ()


def parse_yaml_value(text: str, origin: Location) -> Any:
    """Parse the value of a ``--set KEY=VALUE`` override as YAML (a scalar, or a flow list or
    mapping such as ``{distribution: constant, value: 2ms}``)."""
    try:
        data, _ = parse_yaml(text, origin.file)
    except YamlProblem as exc:
        raise YamlProblem(origin, exc.message.replace(" error:", " error in the value:", 1)) from None
    return data
