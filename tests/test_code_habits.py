"""Habits the code keeps (issue 10): long modules say why they are long, and the Nomad layer, the
API and the web view use no private member of another module.

Both are checked from the source with `ast`, so they hold for code added later too."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "autopilot_sim"
#: A module longer than this says at the top of its docstring why it is one module.
LONG = 500
#: Modules that talk to the engine and the simulation only through public names.
PUBLIC_ONLY = ("sim/nomad.py", "sim/nomad_leader.py", "api/*.py", "web/*.py", "commands/*.py")


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_a_long_module_says_why(path: Path) -> None:
    lines = path.read_text().count("\n")
    if lines <= LONG:
        return
    doc = ast.get_docstring(ast.parse(path.read_text())) or ""
    assert "Why" in doc and "lines" in doc, (
        f"{path.relative_to(PACKAGE)} has {lines} lines: split it, or say at the top of its docstring "
        "why it is one module ('Why one module of ~N lines: ...')")


def own_names(tree: ast.AST) -> set[str]:
    """Every name a module defines itself: functions, classes, attributes it stores, slots."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("_"):
            names.add(node.value)  # __slots__ entries
    return names


def private_uses(path: Path) -> list[str]:
    """`x._name` where `_name` is not defined in this module, and `from autopilot_sim... import _name`."""
    tree = ast.parse(path.read_text())
    own = own_names(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("autopilot_sim"):
            found += [f"{node.lineno}: import {a.name}" for a in node.names
                      if a.name.startswith("_") and not a.name.startswith("__")]
        elif (isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")
              and node.attr not in own and ast.unparse(node) != "argparse._SubParsersAction"):
            found.append(f"{node.lineno}: {ast.unparse(node)}")
    return found


def public_only_modules() -> list[Path]:
    return sorted({p for pattern in PUBLIC_ONLY for p in PACKAGE.glob(pattern)})


@pytest.mark.parametrize("path", public_only_modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_private_member_of_another_module(path: Path) -> None:
    assert private_uses(path) == []


def test_the_private_use_check_can_fail(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("from autopilot_sim.x import _hidden\n"
                      "class A:\n    def __init__(self):\n        self._mine = 1\n"
                      "def f(a, cluster):\n    return a._mine + cluster._flush(1)\n")
    assert private_uses(sample) == ["1: import _hidden", "6: cluster._flush"]
