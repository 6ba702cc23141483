"""Build script: the package, with its hot modules compiled by mypyc where a C compiler exists.

pyproject.toml holds the metadata; this file only adds the extension modules. The modules listed
in `autopilot_sim/native.py` (the Raft node, the engine's loop and transport, gossip) are
ordinary typed Python; mypyc turns each into a C extension next to its .py file. Python prefers
the extension when both exist, and `autopilot-sim --version` says which build runs.

Falls back to the pure-Python package, with one line on stderr, when AUTOPILOT_SIM_PURE=1 is set,
when mypyc cannot be imported, or when compiling fails (no C compiler, no Python headers).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import sys
import time
from pathlib import Path

from setuptools import setup
from setuptools.command.build_ext import build_ext

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "autopilot_sim"))
import native  # noqa: E402  (autopilot_sim/native.py, read without importing the package)

sys.path.pop(0)


def _say(message: str) -> None:
    print(f"autopilot-sim build: {message}", file=sys.stderr, flush=True)


class OptionalBuildExt(build_ext):
    """build_ext that leaves a working pure package when compiling fails, and writes the manifest
    (each compiled module's source digest) that `autopilot_sim.native` checks at import."""

    def run(self) -> None:
        if not self.extensions:
            return  # a pure build (`_pure` said why)
        start = time.monotonic()
        compiled = False
        error = ""
        inplace = self.inplace  # (setuptools' run() clears it while building and, on an error, leaves it so)
        if inplace:  # no extension from an earlier build may stay next to the sources
            _remove_inplace_extensions(keep={Path(p).resolve() for p in self.get_outputs()})
        try:
            super().run()
            compiled = True
        except Exception as exc:  # any compiler failure: fall back to pure Python
            self.inplace = inplace
            for path in self.get_outputs():  # never leave some modules compiled and others not
                Path(path).unlink(missing_ok=True)
            first = str(exc).splitlines()[0] if str(exc) else ""
            error = f"compiling failed: {type(exc).__name__}: {first}"
            _say(f"{error}; installing the pure-Python package")
        manifest = {module: hashlib.sha256((HERE / native.source_path(module)).read_bytes()).hexdigest()
                    for module in native.COMPILED_MODULES} if compiled else {native.BUILD_ERROR: error}
        root = HERE if inplace else Path(self.build_lib)
        target = root / "autopilot_sim" / native.MANIFEST
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        if compiled:
            _say(f"compiled {len(native.COMPILED_MODULES)} modules with mypyc in {time.monotonic() - start:.0f} s")


def _remove_inplace_extensions(keep: set[Path]) -> None:
    """Delete extension modules an earlier in-place build left next to the sources (but `keep`)."""
    package = HERE / "autopilot_sim"
    for path in {*package.glob("**/*.so"), *package.glob("**/*.pyd")}:
        if path.resolve() not in keep:
            path.unlink()


def _pure(reason: str) -> list:
    """No extensions: say why, and retire what an earlier in-place (editable) build left."""
    _say(f"{reason}; building the pure-Python package")
    manifest = HERE / "autopilot_sim" / native.MANIFEST
    if manifest.exists():  # only an in-place build writes it into the source tree
        _remove_inplace_extensions(keep=set())
        manifest.write_text(json.dumps({native.BUILD_ERROR: reason}, indent=1) + "\n", encoding="utf-8")
    return []


def ext_modules() -> list:
    """mypyc's extensions for the hot modules, or none (pure build)."""
    if os.environ.get("AUTOPILOT_SIM_PURE", "") not in ("", "0"):
        return _pure("AUTOPILOT_SIM_PURE is set")
    try:
        from mypyc.build import mypycify
    except ImportError:
        return _pure("mypyc is not available")
    paths = [native.source_path(module) for module in native.COMPILED_MODULES]
    cwd = os.getcwd()
    os.chdir(HERE)  # mypycify takes paths relative to the project
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):  # mypy's error lines, if any
            return mypycify(paths, opt_level="3", debug_level="0", group_name=native.GROUP, verbose=False)
    except (Exception, SystemExit) as exc:  # a type error (SystemExit) or a mypyc crash: pure
        print(out.getvalue(), end="", file=sys.stderr)
        first = next((line for line in out.getvalue().splitlines() if ": error:" in line), type(exc).__name__)
        return _pure(f"mypyc failed: {first}")
    finally:
        os.chdir(cwd)


setup(ext_modules=ext_modules(), cmdclass={"build_ext": OptionalBuildExt})
