"""Test-suite settings shared by every file."""

import os

from hypothesis import settings

# CI runs the property tests on a fixed set of examples (derandomized), so a landing never
# depends on luck; developers' runs keep drawing new examples and may find new failures, which
# Hypothesis then replays from its database. HYPOTHESIS_PROFILE=dev forces the random mode.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("dev", print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))
