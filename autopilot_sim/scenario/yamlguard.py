"""Limits that keep hostile YAML from exhausting memory, the stack or the reader.

YAML aliases let ten short lines stand for a billion values ("billion laughs"); an alias inside
the node it names (``events: &e [*e]``) stands for an infinite one; and a thousand nested
brackets overflow Python's recursion limit in PyYAML's recursive composer. `GuardedLoader`
counts while it composes, before anything is expanded:

* **values** — every value the document would hold once its aliases are expanded, counted as
  each alias is read (an alias adds the whole size of the node it names);
* **alias references** — how many ``*name`` the document uses;
* **depth** — how deeply lists and mappings nest;
* **cycles** — an alias to a node that is still open (it would contain itself).

Each limit is far above any scenario a person writes (the largest bundled scenario has a few
hundred values and no nesting deeper than 6) and low enough that reaching it costs milliseconds
and a few megabytes. `decode_text` turns the file's bytes into text with the same care: a byte
that is not UTF-8, a UTF-16 file, a NUL or another control character is reported at its line and
column, not as a bare codec error.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode

#: Values a document may hold once its aliases are expanded.
MAX_NODES = 100_000
#: Alias references (``*name``) a document may use.
MAX_ALIASES = 10_000
#: How deeply lists and mappings may nest (far below Python's recursion limit).
MAX_DEPTH = 100
#: Largest scenario file read (the bundled ones are a few KB; PyYAML reads ~1 MB a second).
MAX_FILE_BYTES = 4 * 1024 * 1024

#: What PyYAML's reader refuses (YAML 1.1's printable set, complemented).
NON_PRINTABLE = re.compile("[^\x09\x0A\x0D\x20-\x7E\x85\xA0-\uD7FF\uE000-\uFFFD\U00010000-\U0010FFFF]")

_CONTROL_NAMES = {0: "NUL", 0x1B: "ESC", 0x7F: "DEL", 0x08: "backspace", 0x0C: "form feed", 0x0B: "vertical tab"}


class GuardError(Exception):
    """A limit was hit: ``mark`` is PyYAML's position (0-based), ``path`` the key path there."""

    def __init__(self, mark: Any, path: tuple[Any, ...], message: str) -> None:
        super().__init__(message)
        self.mark = mark
        self.path = path
        self.message = message


class GuardedLoader(yaml.SafeLoader):
    """PyYAML's SafeLoader composer with the limits of the module docstring."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._count = 0
        self._aliases = 0
        self._depth = 0
        self._open: set[str] = set()  # anchors whose node is still being composed
        self._sizes: dict[int, int] = {}  # id(node) -> values it stands for, aliases expanded
        self._path: list[Any] = []

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        """Compose one node, counting it (or, for an alias, everything it stands for)."""
        self._path.append(_segment(parent, index))
        try:
            event = self.peek_event()  # type: ignore[no-untyped-call]  # PyYAML's stubs leave it untyped
            if self.check_event(AliasEvent):
                if event.anchor in self._open:
                    raise GuardError(event.start_mark, self.path(),
                                     f"alias *{event.anchor} is inside the node &{event.anchor} it "
                                     "refers to: the value would contain itself forever")
                node = super().compose_node(parent, index)  # checks that the anchor exists
                self._aliases += 1
                if self._aliases > MAX_ALIASES:
                    raise GuardError(event.start_mark, self.path(),
                                     f"more than {MAX_ALIASES:,} alias references (*name) in one "
                                     "document; write the values out")
                self._grow(self._sizes.get(id(node), 1), event.start_mark)
                return node
            self._depth += 1
            if self._depth > MAX_DEPTH:
                raise GuardError(event.start_mark, self.path()[:3],  # the outer keys say where
                                 f"lists and mappings nested more than {MAX_DEPTH} deep; a scenario "
                                 "needs fewer than 10 levels")
            before = self._count
            self._grow(1, event.start_mark)
            anchor = event.anchor
            if anchor is not None:
                self._open.add(anchor)
            node = super().compose_node(parent, index)
            if anchor is not None:
                self._open.discard(anchor)
            self._sizes[id(node)] = self._count - before
            self._depth -= 1
            return node
        finally:
            self._path.pop()

    def _grow(self, size: int, mark: Any) -> None:
        self._count += size
        if self._count > MAX_NODES:
            raise GuardError(mark, self.path(),
                             f"the document holds more than {MAX_NODES:,} values, counting each "
                             "alias (*name) as all the values of the node it repeats")

    def path(self) -> tuple[Any, ...]:
        """The key path of the node being composed (mapping keys themselves add nothing)."""
        return tuple(p for p in self._path if p is not _KEY)


_KEY = object()  # marks a mapping key in the path stack


def _segment(parent: Node | None, index: Any) -> Any:
    if parent is None:
        return _KEY  # the root: no segment
    if isinstance(index, int):
        return index
    if isinstance(index, ScalarNode):
        return index.value
    if index is None and isinstance(parent, MappingNode):
        return _KEY
    return _KEY  # a key that is itself a list or mapping: refused later


# --- bytes -> text ------------------------------------------------------------------------------


class EncodingProblem(Exception):
    """Bytes that are not usable YAML text; ``line``/``column`` 1-based (column in characters)."""

    def __init__(self, line: int, column: int, message: str, offset: int) -> None:
        super().__init__(message)
        self.line = line
        self.column = column
        self.message = message
        self.offset = offset  # character offset in the text decoded with replacements


def decode_text(data: bytes) -> str:
    """The file's bytes as text: UTF-8, with or without a byte-order mark.

    Raises `EncodingProblem` at the first byte that is not UTF-8 and for UTF-16/UTF-32 files (a
    byte-order mark, or NULs between the characters of a file written without one)."""
    for bom, name in ((b"\xff\xfe\x00\x00", "UTF-32"), (b"\x00\x00\xfe\xff", "UTF-32"),
                      (b"\xff\xfe", "UTF-16"), (b"\xfe\xff", "UTF-16")):
        if data.startswith(bom):
            raise EncodingProblem(1, 1, f"the file is {name} text (it starts with a {name} byte-order "
                                        "mark); save it as UTF-8", 0)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        start = exc.start
        line_start = data.rfind(b"\n", 0, start) + 1
        line = data.count(b"\n", 0, start) + 1
        column = len(data[line_start:start].decode("utf-8", errors="replace")) + 1
        offset = len(data[:start].decode("utf-8", errors="replace"))
        raise EncodingProblem(line, column, f"not UTF-8 text: byte 0x{data[start]:02x} ({exc.reason}); "
                                            "save the file as UTF-8", offset) from None


def control_character_problem(text: str) -> EncodingProblem | None:
    """The first character YAML does not allow (NUL and other control characters), if any."""
    match = NON_PRINTABLE.search(text)
    if match is None:
        return None
    pos = match.start()
    line = text.count("\n", 0, pos) + 1
    column = pos - (text.rfind("\n", 0, pos) + 1) + 1
    code = ord(match.group())
    name = _CONTROL_NAMES.get(code, "control character")
    message = f"{name} character U+{code:04X} is not allowed in YAML text"
    if code == 0 and _looks_utf16(text):
        message += "; the file looks like UTF-16 without a byte-order mark: save it as UTF-8"
    elif code == 0:
        message += " (is this a binary file?)"
    return EncodingProblem(line, column, message, pos)


def _looks_utf16(text: str) -> bool:
    """NULs between most characters: UTF-16 read as UTF-8."""
    sample = text[:200]
    return len(sample) >= 4 and sample.count("\x00") * 3 >= len(sample)


def without_bad_characters(text: str) -> str:
    """``text`` with the characters YAML refuses replaced by spaces (same offsets), so the rest
    can still be parsed to find the key at a bad character's line."""
    return NON_PRINTABLE.sub(" ", text)
