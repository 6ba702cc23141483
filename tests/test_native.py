"""The compiled build (mypyc, autopilot_sim/native.py) and the pure-Python build.

* Outputs are byte-identical: every run-directory file of the scenario library (and the other
  runs guarded by tests/test_golden_digests.py) has the same SHA-256 under the build this suite
  runs on (compiled where a C compiler exists) and under the pure-Python build of the same
  sources (a subprocess with AUTOPILOT_SIM_PURE=1), and both equal the recorded digests.
* The build in use is the one `--version` names; compiled modules really are extension modules.
* Extensions out of date with their sources are never used: the whole package then runs pure.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from autopilot_sim import native

REPO = Path(__file__).resolve().parents[1]
PURE_ENV = dict(os.environ, AUTOPILOT_SIM_PURE="1")

DIGESTS = """
import json, sys
sys.path.insert(0, "tests")
from autopilot_sim import native
import test_golden_digests as golden
digests = {name: run() for name, run in sorted(golden.cases().items())}
print(json.dumps({"build": native.STATUS["build"], "digests": digests}))
"""


def _pure_digests() -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", DIGESTS], cwd=REPO, env=PURE_ENV, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_pure_and_compiled_builds_write_byte_identical_outputs() -> None:
    sys.path.insert(0, str(REPO / "tests"))
    import test_golden_digests as golden

    pure = _pure_digests()  # runs alongside this process's own runs
    here = {name: run() for name, run in sorted(golden.cases().items())}
    out, err = pure.communicate()
    assert pure.returncode == 0, err[-3000:]
    other = json.loads(out)
    assert other["build"] == "pure"
    recorded = json.loads(golden.GOLDEN.read_text(encoding="utf-8"))
    for name in sorted(recorded):
        for file, digest in recorded[name].items():
            assert other["digests"][name][file] == digest, f"pure build: {name}/{file} differs from the record"
            assert here[name][file] == digest, f"{native.STATUS['build']} build: {name}/{file} differs"


def _compiler_available() -> bool:
    cc = (sysconfig.get_config_var("CC") or "cc").split()[0]
    return shutil.which(cc) is not None and importlib.util.find_spec("mypyc") is not None


def test_the_compiled_build_is_in_use_where_it_can_be_built() -> None:
    """CI runs the suite on the compiled build; a silent fallback to pure Python fails here."""
    if os.environ.get("AUTOPILOT_SIM_PURE", "") not in ("", "0"):
        pytest.skip("AUTOPILOT_SIM_PURE is set: the pure build is requested")
    if not _compiler_available():
        pytest.skip("no C compiler or no mypyc: the pure build is expected")
    assert native.STATUS["build"] == "compiled", native.STATUS["reason"]
    for module in native.COMPILED_MODULES:
        path = importlib.import_module(module).__file__ or ""
        assert not path.endswith(".py"), f"{module} was loaded from {path}"


def test_version_names_the_build() -> None:
    compiled = subprocess.run([sys.executable, "-m", "autopilot_sim", "--version"], cwd=REPO,
                              capture_output=True, text=True, check=True).stdout
    pure = subprocess.run([sys.executable, "-m", "autopilot_sim", "--version"], cwd=REPO, env=PURE_ENV,
                          capture_output=True, text=True, check=True).stdout
    assert "pure-Python build: AUTOPILOT_SIM_PURE is set" in " ".join(pure.split())
    if native.STATUS["build"] == "compiled":
        text = " ".join(compiled.split())
        assert "compiled build:" in text and "raft.node" in text and "sim.loop" in text


def test_the_pure_build_loads_every_module_from_source() -> None:
    code = ("import autopilot_sim.sim.runner, sys\n"
            "mods = [m for m in sys.modules.values() if (m.__name__ or '').startswith('autopilot_sim')]\n"
            "print(sorted({(m.__file__ or '').rsplit('.', 1)[-1] for m in mods}))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=PURE_ENV, capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "['py']"


def _fake_tree(tmp_path: Path, stale: str | None) -> Path:
    """A package directory with every compiled module's source, an extension file and a manifest."""
    package = tmp_path / "autopilot_sim"
    suffix = importlib.machinery.EXTENSION_SUFFIXES[0]
    manifest = {}
    for module in native.COMPILED_MODULES:
        source = tmp_path / native.source_path(module)
        source.parent.mkdir(parents=True, exist_ok=True)
        source.write_text(f"# {module}\n", encoding="utf-8")
        source.with_name(source.stem + suffix).write_bytes(b"")
        manifest[module] = hashlib.sha256(source.read_bytes()).hexdigest()
    if stale is not None:
        (tmp_path / native.source_path(stale)).write_text("# edited after the build\n", encoding="utf-8")
    (package / native.MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    return package


def test_extensions_matching_their_sources_are_used(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("AUTOPILOT_SIM_PURE", raising=False)
    monkeypatch.setattr(native, "_PACKAGE_DIR", _fake_tree(tmp_path, stale=None))
    assert native._check()[0] is True


def test_an_extension_older_than_its_source_makes_the_whole_package_pure(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("AUTOPILOT_SIM_PURE", raising=False)
    monkeypatch.setattr(native, "_PACKAGE_DIR", _fake_tree(tmp_path, stale="autopilot_sim.raft.node"))
    use, reason = native._check()
    assert use is False and "out of date" in reason and "autopilot_sim.raft.node" in reason


def _copy_project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(REPO / "autopilot_sim", root / "autopilot_sim",
                    ignore=shutil.ignore_patterns("*.so", "*.pyd", "__pycache__", native.MANIFEST))
    for name in ("setup.py", "pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, root / name)
    return root


def _build_in_place(root: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full = dict(os.environ, **env)
    if "AUTOPILOT_SIM_PURE" not in env:
        full.pop("AUTOPILOT_SIM_PURE", None)  # the suite itself may run on the pure build
    return subprocess.run([sys.executable, "setup.py", "-q", "build_ext", "--inplace"], cwd=root,
                          env=full, capture_output=True, text=True, check=False)


def _version_in(root: Path) -> str:
    env = dict(os.environ, PYTHONPATH=str(root))
    env.pop("AUTOPILOT_SIM_PURE", None)
    out = subprocess.run([sys.executable, "-c", "from autopilot_sim import native; print(native.describe())"],
                         cwd=root, env=env, capture_output=True, text=True, check=True)
    return out.stdout.strip() + out.stderr


def test_a_build_without_a_working_compiler_installs_the_pure_package_and_says_so(tmp_path) -> None:
    if importlib.util.find_spec("mypyc") is None:
        pytest.skip("mypyc is not installed: nothing is compiled anyway")
    root = _copy_project(tmp_path)
    proc = _build_in_place(root, CC=str(tmp_path / "no-such-cc"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = [line for line in proc.stderr.splitlines() if line.startswith("autopilot-sim build:")]
    assert len(lines) == 1 and "compiling failed" in lines[0] and "pure-Python package" in lines[0]
    assert not list((root / "autopilot_sim").glob("**/*.so"))
    assert _version_in(root).startswith("pure-Python build: not compiled (compiling failed")


def test_a_pure_build_removes_an_earlier_in_place_build(tmp_path) -> None:
    root = _copy_project(tmp_path)
    stale = root / native.source_path("autopilot_sim.sim.loop")
    fake = stale.with_name(stale.stem + importlib.machinery.EXTENSION_SUFFIXES[0])
    fake.write_bytes(b"")  # as an earlier in-place build leaves it
    (root / "autopilot_sim" / native.MANIFEST).write_text("{}", encoding="utf-8")
    proc = _build_in_place(root, AUTOPILOT_SIM_PURE="1")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "autopilot-sim build: AUTOPILOT_SIM_PURE is set; building the pure-Python package" in proc.stderr
    assert not fake.exists()
    assert _version_in(root) == "pure-Python build: not compiled (AUTOPILOT_SIM_PURE is set)"
