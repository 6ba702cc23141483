"""docs/scenario-format.md is the generated reference: it must match the schema."""

from pathlib import Path

from autopilot_sim.scenario import scenario_json_schema
from autopilot_sim.scenario.reference import markdown

DOC = Path(__file__).resolve().parents[1] / "docs" / "scenario-format.md"


def test_committed_reference_matches_the_schema() -> None:
    assert DOC.read_text(encoding="utf-8") == markdown(scenario_json_schema()), (
        "regenerate with: autopilot-sim schema --markdown -o docs/scenario-format.md")


def test_reference_lists_every_block_and_key_defaults() -> None:
    text = DOC.read_text(encoding="utf-8")
    for block in ("cluster", "raft", "gossip", "network", "load", "autopilot", "acl", "events", "expect"):
        assert f"## `{block}`" in text
    assert "| `server_stabilization_time` | duration | `\"10s\"` |" in text
    assert "| `probe_interval` | duration | `\"5s\"` |" in text
