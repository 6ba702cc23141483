"""The registry of events.jsonl kinds (autopilot_sim/event_kinds.py) is complete: every kind an
emitter names — a string literal or an `event_kinds` constant passed to `Recorder.event` anywhere
in the package — is registered, and every kind of the library's runs too."""

from __future__ import annotations

import ast
from pathlib import Path

from autopilot_sim import event_kinds
from autopilot_sim.event_kinds import KINDS

PACKAGE = Path(__file__).resolve().parents[1] / "autopilot_sim"


def emitted_kinds() -> dict[str, str]:
    """kind -> where it is emitted, for every `<x>.event(t, KIND, ...)` call in the package."""
    found: dict[str, str] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "event" and len(node.args) >= 3):
                continue
            arg = node.args[1]
            where = f"{path.relative_to(PACKAGE.parent)}:{node.lineno}"
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                found[arg.value] = where
            elif isinstance(arg, ast.Attribute) and isinstance(arg.value, ast.Name) and arg.value.id == "kinds":
                found[getattr(event_kinds, arg.attr)] = where
    return found


def test_every_emitted_kind_is_registered() -> None:
    found = emitted_kinds()
    assert len(found) > 30
    missing = {kind: where for kind, where in found.items() if kind not in KINDS}
    assert not missing, f"register these kinds in autopilot_sim/event_kinds.py: {missing}"


def test_constants_and_registry_agree() -> None:
    constants = {value for name, value in vars(event_kinds).items() if name.isupper() and isinstance(value, str)}
    assert constants == set(KINDS)


def test_the_library_runs_emit_registered_kinds_only() -> None:
    from test_scenario_library import LIBRARY, run_of

    kinds = {e["kind"] for name in LIBRARY for e in run_of(name).events}
    assert kinds <= set(KINDS), kinds - set(KINDS)
