"""Located errors, and the translation of pydantic's errors into messages for people.

Every problem becomes a `LocatedError` — file, line, column, key path, message — and one load
raises a single `ScenarioError` holding all of them::

    demo.yaml:12:5: events[3].crash: unknown server "node9"; servers are node1, node2, node3
    --set autopilot.server_stabilization_time: time: invalid duration "soon"
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from autopilot_sim.scenario.base import IssueList, KeyedError, format_path
from autopilot_sim.scenario.types import describe
from autopilot_sim.scenario.yamlsource import Location, SourceMap

Path = tuple[Any, ...]


@dataclass(frozen=True)
class LocatedError:
    """One problem in a scenario. ``line``/``column`` are 1-based, None when unknown (e.g. for a
    ``--set`` override, whose ``file`` is ``--set KEY``)."""

    file: str
    line: int | None
    column: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}:{self.column}"
        # For an override the location already names the key: don't repeat it.
        if self.path and not (self.line is None and self.file == f"--set {self.path}"):
            return one_line(f"{where}: {self.path}: {self.message}")
        return one_line(f"{where}: {self.message}")


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def one_line(text: str) -> str:
    """An error stays one line whatever the user's values hold: control characters (a newline or
    tab inside a quoted name) are shown escaped, as ``\\n``, ``\\t`` or ``\\x1b``."""
    return _CONTROL.sub(lambda m: _ESCAPES.get(m.group(), f"\\x{ord(m.group()):02x}"), text)


class ScenarioError(ValueError):
    """A scenario that cannot be used; ``errors`` lists every problem found, in file order."""

    def __init__(self, errors: Iterable[LocatedError]) -> None:
        unique = list(dict.fromkeys(errors))
        unique.sort(key=lambda e: (e.line is None, e.file if e.line is None else "", e.line or 0, e.column or 0))
        self.errors: list[LocatedError] = unique
        super().__init__("\n".join(str(e) for e in unique))


def located(smap: SourceMap, path: Path, message: str, *, at_key: bool = False) -> LocatedError:
    """A `LocatedError` for ``path`` using the positions in ``smap``."""
    loc: Location = smap.locate(path, key=at_key)
    shown = format_path(path)
    if loc.key_path is not None and tuple(path) == loc.key_path and loc.file.startswith("--set "):
        shown = loc.file[len("--set "):]  # the override's own spelling of the key
    return LocatedError(loc.file, loc.line, loc.column, shown, message)


# --- pydantic errors → (path, message, at_key) ---------------------------------------------------

_QUOTED = re.compile(r"'((?:[^'\\]|\\.)*)'")


def _loc_to_path(loc: tuple[Any, ...], raw: Any, keep_last: bool) -> Path:
    """Map pydantic's ``loc`` onto the raw data: keep the segments that are real keys/indexes,
    drop union tags and validator names (``uniform``, ``function-after[...]``)."""
    path: list[Any] = []
    node = raw
    for i, seg in enumerate(loc):
        if _has(node, seg):
            path.append(seg)
            node = node[seg]
        elif keep_last and i == len(loc) - 1:
            path.append(seg)
    return tuple(path)


def _has(node: Any, seg: Any) -> bool:
    """Whether `seg` is a key of the mapping `node` or an index of the list `node`."""
    if isinstance(node, dict):
        return isinstance(seg, str) and seg in node
    if isinstance(node, (list, tuple)):
        return isinstance(seg, int) and 0 <= seg < len(node)
    return False


def value_at(raw: Any, path: Path) -> Any:
    node = raw
    for seg in path:
        try:
            node = node[seg]
        except (KeyError, IndexError, TypeError):
            return None
    return node


_TYPE_WORDS = {
    "int_type": "a whole number",
    "int_from_float": "a whole number",
    "int_parsing": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "text",
    "list_type": "a list",
    "tuple_type": "a list",
    "dict_type": "a mapping (key: value)",
    "model_type": "a mapping (key: value)",
    "model_attributes_type": "a mapping (key: value)",
}


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return f'; did you mean "{close[0]}"?' if close else ""


def translate(
    exc: ValidationError,
    raw: Any,
    *,
    base: Path = (),
    valid_keys: Callable[[Path], list[str]] | None = None,
) -> list[tuple[Path, str, bool]]:
    """Turn a pydantic ``ValidationError`` on ``raw`` (found at ``base`` in the whole document)
    into ``(path, message, at_key)`` triples with messages for people."""
    out: list[tuple[Path, str, bool]] = []
    for err in exc.errors():
        kind = err["type"]
        loc = tuple(err["loc"])
        ctx = err.get("ctx") or {}
        path = base + _loc_to_path(loc, raw, keep_last=kind in ("missing", "extra_forbidden"))
        value = err.get("input")
        original = ctx.get("error")
        if isinstance(original, IssueList):
            out.extend((path + p, m, k) for p, m, k in original.issues)
            continue
        if isinstance(original, KeyedError):
            out.append((path + original.path, original.message, False))
            continue
        out.append((path, _message(kind, err, value, ctx, path, valid_keys), kind == "extra_forbidden"))
    return _drop_explained_missing(out, valid_keys)


def _drop_explained_missing(problems: list[tuple[Path, str, bool]],
                            valid_keys: Callable[[Path], list[str]] | None) -> list[tuple[Path, str, bool]]:
    """``stdev:`` for ``stddev:`` gives "unknown key stdev; did you mean stddev?" *and* "stddev:
    missing"; the first explains the second, so keep only the first."""
    missing = {p for p, m, _ in problems if m == "missing required key"}
    explained: set[Path] = set()
    for path, _, at_key in problems:
        if at_key and path and valid_keys is not None:
            for close in difflib.get_close_matches(str(path[-1]), valid_keys(path[:-1]), n=1, cutoff=0.6):
                if path[:-1] + (close,) in missing:
                    explained.add(path[:-1] + (close,))
    return [p for p in problems if not (p[1] == "missing required key" and p[0] in explained)]


def _message(kind: str, err: Mapping[str, Any], value: Any, ctx: dict[str, Any], path: Path,
             valid_keys: Callable[[Path], list[str]] | None) -> str:
    if kind == "missing":
        return "missing required key"
    if kind == "extra_forbidden":
        key = path[-1] if path else "?"
        choices = valid_keys(path[:-1]) if valid_keys else []
        hint = _did_you_mean(key, choices)
        if not hint and choices:
            hint = "; valid keys are " + ", ".join(choices)
        return f'unknown key "{key}"{hint}'
    if kind in ("value_error", "assertion_error"):
        return str(ctx.get("error", err["msg"]))
    if kind == "literal_error":
        choices = _QUOTED.findall(str(ctx.get("expected", "")))
        hint = _did_you_mean(value, choices) if isinstance(value, str) else ""
        return f"expected {' | '.join(choices)}, got {describe(value)}{hint}"
    if kind == "union_tag_invalid":
        tags = _QUOTED.findall(str(ctx.get("expected_tags", "")))
        hint = _did_you_mean(ctx.get("tag", ""), tags)
        return f"unknown distribution {describe(ctx.get('tag'))}{hint} (one of {', '.join(tags)})"
    if kind == "union_tag_not_found":
        return "missing key \"distribution\": one of constant, uniform, normal, lognormal, exponential"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        sign = {"greater_than_equal": ">=", "greater_than": ">", "less_than_equal": "<=", "less_than": "<"}[kind]
        bound = next(v for k, v in ctx.items() if k in ("ge", "gt", "le", "lt"))
        return f"must be {sign} {bound}, got {describe(value)}"
    if kind == "string_too_short":
        return "must not be empty"
    if kind in ("too_short", "too_long"):
        return f"expected {ctx.get('min_length', ctx.get('max_length'))} items, got {ctx.get('actual_length')}"
    if kind in ("model_type", "model_attributes_type", "dict_type") and valid_keys is not None \
            and "distribution" in valid_keys(path):
        example = f"{{distribution: constant, value: {value}}}" if isinstance(value, str) else \
            "{distribution: uniform, min: 1ms, max: 5ms}"
        return f"expected a distribution such as {example}, got {describe(value)}"
    if kind in _TYPE_WORDS:
        return f"expected {_TYPE_WORDS[kind]}, got {describe(value)}"
    if kind in ("count_or_range", "heal_form"):
        return f"{err['msg']}, got {describe(value)}"
    return str(err["msg"])
