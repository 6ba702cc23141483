"""`make test` never depends on luck: the Hypothesis properties run derandomized and without the
example database unless `make fuzz` (HYPOTHESIS_PROFILE=fuzz) asks for random exploration."""

from __future__ import annotations

import os

import pytest
import test_api_fuzz
import test_raft_properties
from fuzzing import FUZZ_FACTOR, examples
from hypothesis import settings

PROPERTIES = [getattr(module, name) for module in (test_raft_properties, test_api_fuzz) for name in dir(module)
              if name.startswith("test_") and hasattr(getattr(module, name), "hypothesis")]

pytestmark = pytest.mark.skipif(os.environ.get("HYPOTHESIS_PROFILE", "deterministic") not in ("deterministic", "ci"),
                                reason="checks the default profile")


def test_the_default_profile_is_derandomized_without_a_database():
    assert settings.default.derandomize is True
    assert settings.default.database is None


@pytest.mark.parametrize("prop", PROPERTIES, ids=lambda p: p.__name__)
def test_every_property_runs_derandomized_with_its_default_count(prop):
    used = prop._hypothesis_internal_use_settings
    assert used.derandomize is True and used.database is None


def test_the_fuzz_profile_explores(monkeypatch):
    fuzz = settings.get_profile("fuzz")
    assert fuzz.derandomize is False and fuzz.database is not None
    assert examples(250) == 250
    monkeypatch.setenv("HYPOTHESIS_PROFILE", "fuzz")
    assert examples(250) == 250 * FUZZ_FACTOR
    monkeypatch.setenv("HYPOTHESIS_FUZZ_FACTOR", "3")
    assert examples(250) == 750


def test_properties_found():
    assert len(PROPERTIES) == 5
