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
