"""The common base of every scenario model, and the error that points inside a model.

All scenario models are pydantic v2 models that

* forbid unknown keys (`extra="forbid"`), so a typo is an error with a "did you mean" hint;
* validate strictly (no "5" → 5 or "yes" → True coercion behind the user's back: YAML has
  already typed every scalar);
* compare equal on their fields only. Source positions (`Event.line`, `Expectation.line`,
  `Scenario.source`) live in private attributes, so a scenario loaded from its resolved YAML
  equals the original even though every line number moved.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class ScenarioModel(BaseModel):
    """Base class: strict, closed (unknown keys rejected), equality on fields only."""

    model_config = ConfigDict(extra="forbid", strict=True, validate_default=False)

    def __eq__(self, other: Any) -> bool:
        if type(self) is not type(other):
            return NotImplemented
        return self.__dict__ == other.__dict__

    __hash__ = None  # type: ignore[assignment]  # mutable models are not hashable


class KeyedError(ValueError):
    """A validation error about one key (or a deeper path) *inside* the model being validated.

    Pydantic reports a model validator's error at the model itself; raising this instead lets the
    loader point at the exact key, e.g. ``raft.leader_lease_timeout`` rather than ``raft``.
    `path` is relative to the model (or list / field) that raised it.
    """

    def __init__(self, path: str | int | tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.path: tuple[str | int, ...] = path if isinstance(path, tuple) else (path,)
        self.message = message


class IssueList(ValueError):
    """Several located problems found by one validator (used by `Scenario`'s own checks).

    Each issue is `(path, message, at_key)`; `at_key` asks the loader to point at the key rather
    than at its value (used for unknown names that are mapping keys).
    """

    def __init__(self, issues: list[tuple[tuple[str | int, ...], str, bool]]) -> None:
        self.issues = issues
        super().__init__("; ".join(f"{format_path(p)}: {m}" for p, m, _ in issues))


def format_path(path: tuple[str | int, ...] | list[str | int]) -> str:
    """Render a key path the way users write it: ``events[3].pause.for``, ``servers["a b"]``."""
    out = ""
    for seg in path:
        if isinstance(seg, int):
            out += f"[{seg}]"
        elif seg and all(ch.isalnum() or ch in "_-" for ch in seg):
            out += f".{seg}" if out else seg
        else:
            out += f'["{seg}"]'
    return out
