"""Which build runs: the hot modules compiled by mypyc (C extensions) or pure Python.

`setup.py` compiles `COMPILED_MODULES` (ordinary typed Python) with mypyc where a C compiler
exists and writes `MANIFEST`: the SHA-256 of each compiled module's source. Python prefers an
extension module over the .py file of the same name, so an extension built from an older source
would silently run old code; `select_build()` (run by the package's `__init__`) therefore uses the
compiled modules only when every one of them exists and matches its source, and otherwise loads
every module of the package from its .py file, saying so in one line on stderr when extensions
are present but out of date. All or nothing: compiled modules call each other directly in C, so
a mix of compiled and pure copies of the same classes is never allowed.

AUTOPILOT_SIM_PURE=1 at run time forces the pure build (the byte-identity test runs both); at
build time it skips compiling.

This module imports nothing from the package: setup.py reads it before the package exists.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

#: The hot path (benchmarks/bench_engine.py: per-message delivery, the Raft node, timers, the
#: safety checks, gossip). Package __init__ modules stay pure.
COMPILED_MODULES: tuple[str, ...] = (
    "autopilot_sim.gossip.config",
    "autopilot_sim.gossip.memberlist",
    "autopilot_sim.gossip.node",
    "autopilot_sim.gossip.queue",
    "autopilot_sim.raft.commitment",
    "autopilot_sim.raft.configuration",
    "autopilot_sim.raft.election",
    "autopilot_sim.raft.messages",
    "autopilot_sim.raft.node",
    "autopilot_sim.raft.quorum",
    "autopilot_sim.raft.replication",
    "autopilot_sim.raft.roles",
    "autopilot_sim.raft.state",
    "autopilot_sim.raft.timing",
    "autopilot_sim.raft.timing_models",
    "autopilot_sim.raft.votes",
    "autopilot_sim.sim.cluster",
    "autopilot_sim.sim.invariants",
    "autopilot_sim.sim.leadership",
    "autopilot_sim.sim.load",
    "autopilot_sim.sim.loop",
    "autopilot_sim.sim.network",
    "autopilot_sim.sim.recorder",
    "autopilot_sim.sim.timers",
    "autopilot_sim.timer",
)
#: mypyc's shared library: `autopilot_sim/_native__mypyc.*.so` (the per-module extensions are shims).
GROUP = "autopilot_sim._native"
MANIFEST = "native-manifest.json"
#: The manifest's key for why a build installed no extensions (a failed compile, mypyc missing).
BUILD_ERROR = "build error"
PURE_ENV = "AUTOPILOT_SIM_PURE"

_PACKAGE_DIR = Path(__file__).resolve().parent
#: {"build": "compiled" or "pure", "reason": why} (set once by select_build).
STATUS: dict[str, str] = {"build": "pure", "reason": "not selected yet"}


def source_path(module: str) -> str:
    """`autopilot_sim.raft.node` -> `autopilot_sim/raft/node.py` (relative to the project)."""
    return module.replace(".", "/") + ".py"


def _extension_exists(module: str) -> bool:
    base = _PACKAGE_DIR.parent / module.replace(".", "/")
    return any(base.with_name(base.name + suffix).exists() for suffix in importlib.machinery.EXTENSION_SUFFIXES)


def _check() -> tuple[bool, str]:
    """(use the extensions?, reason)."""
    if os.environ.get(PURE_ENV, "") not in ("", "0"):
        return False, f"{PURE_ENV} is set"
    try:
        manifest = json.loads((_PACKAGE_DIR / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest = {}
    present = [m for m in COMPILED_MODULES if _extension_exists(m)]
    if not present:
        if BUILD_ERROR in manifest:
            return False, f"not compiled ({manifest[BUILD_ERROR]})"
        return False, "no compiled modules (built without a C compiler or mypyc, or with AUTOPILOT_SIM_PURE=1)"
    stale = [m for m in COMPILED_MODULES
             if m not in present or manifest.get(m) != hashlib.sha256(
                 (_PACKAGE_DIR.parent / source_path(m)).read_bytes()).hexdigest()]
    if stale:
        return False, (f"compiled modules are out of date with their sources ({', '.join(stale[:3])}"
                       f"{', ...' if len(stale) > 3 else ''}): rebuild them with `make native`")
    return True, f"{len(COMPILED_MODULES)} modules compiled with mypyc"


class _PureFinder:
    """Finds the package's modules as .py files only (never an extension module)."""

    @classmethod
    def find_spec(cls, fullname: str, path: Sequence[str] | None = None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if not fullname.startswith("autopilot_sim.") or path is None:
            return None
        name = fullname.rpartition(".")[2]
        for entry in path:
            base = Path(entry) / name
            for candidate in (base / "__init__.py", base.with_name(name + ".py")):
                if candidate.is_file():
                    loader = importlib.machinery.SourceFileLoader(fullname, str(candidate))
                    package = candidate.name == "__init__.py"
                    return importlib.util.spec_from_file_location(
                        fullname, candidate, loader=loader,
                        submodule_search_locations=[str(base)] if package else None)
        return None


def select_build() -> None:
    """Choose compiled or pure once per process (before any compiled module is imported)."""
    use, reason = _check()
    STATUS.update(build="compiled" if use else "pure", reason=reason)
    if use:
        return
    if _PureFinder not in sys.meta_path:
        sys.meta_path.insert(0, _PureFinder)
    if "out of date" in reason:
        print(f"autopilot-sim: running pure Python: {reason}", file=sys.stderr)


def describe() -> str:
    """One line for `--version`: which build runs and why."""
    if STATUS["build"] == "compiled":
        names = ", ".join(m.removeprefix("autopilot_sim.") for m in COMPILED_MODULES)
        return f"compiled build: {STATUS['reason']} ({names})"
    return f"pure-Python build: {STATUS['reason']}"
