"""Example counts for the Hypothesis properties: fixed in the default run, scaled up by `make fuzz`."""

from __future__ import annotations

import os

#: How many times more examples each property draws under HYPOTHESIS_PROFILE=fuzz
#: (override with HYPOTHESIS_FUZZ_FACTOR).
FUZZ_FACTOR = 10


def examples(n: int) -> int:
    """`n` in the default (derandomized) run; `n` x the fuzz factor under the fuzz profile."""
    if os.environ.get("HYPOTHESIS_PROFILE") != "fuzz":
        return n
    return n * int(os.environ.get("HYPOTHESIS_FUZZ_FACTOR", FUZZ_FACTOR))
