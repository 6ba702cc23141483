"""Test-suite settings shared by every file.

Hypothesis profiles (HYPOTHESIS_PROFILE=<name>):

* ``deterministic`` (the default) -- what `make test` and CI run: derandomized (the examples are
  a fixed function of each test) and without the example database, so a verdict never depends
  on luck or on what an earlier run happened to find. ``ci`` is the same profile.
* ``fuzz`` -- what `make fuzz` runs: new random examples every run, each property's example
  count multiplied (see `fuzzing.examples`), failures saved to and replayed from the local
  database (.hypothesis/).
"""

import os

from hypothesis import settings
from hypothesis.database import DirectoryBasedExampleDatabase

settings.register_profile("deterministic", derandomize=True, database=None, print_blob=True)
settings.register_profile("ci", settings.get_profile("deterministic"))
# The database is named explicitly: Hypothesis's own default turns it off where CI is set.
settings.register_profile("fuzz", derandomize=False, print_blob=True,
                          database=DirectoryBasedExampleDatabase(".hypothesis/examples"))
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "deterministic"))


# ---------------------------------------------------------------- compiled and pure builds
# Tests marked `pure_python` spy on the engine's internals by replacing methods or attributes of
# instances, or by subclassing its classes (`node.on_message = spy`, `monkeypatch.setattr(module,
# "quorum_size", ...)`). Classes and functions compiled by mypyc (autopilot_sim/native.py) cannot
# be patched that way, so under the compiled build such a test runs, unchanged, in a subprocess
# on the pure-Python build (AUTOPILOT_SIM_PURE=1) of the same sources; the compiled build's
# outputs are held to the pure build's by tests/test_golden_digests.py and tests/test_native.py.


def pytest_configure(config):
    config.addinivalue_line("markers", "pure_python: patches internals; runs on the pure-Python build "
                                       "(in a subprocess when the compiled build is in use)")


def pytest_pyfunc_call(pyfuncitem):
    import subprocess
    import sys

    from autopilot_sim import native

    if pyfuncitem.get_closest_marker("pure_python") is None or native.STATUS["build"] != "compiled":
        return None
    env = dict(os.environ, AUTOPILOT_SIM_PURE="1")
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "",
                           pyfuncitem.nodeid], cwd=pyfuncitem.config.rootpath, env=env,
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        import pytest

        pytest.fail(f"on the pure-Python build (AUTOPILOT_SIM_PURE=1):\n{proc.stdout[-4000:]}{proc.stderr[-2000:]}",
                    pytrace=False)
    return True
