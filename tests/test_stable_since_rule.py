"""autopilot.stable_since_rule: the real v0.1.6 behaviour (default) vs the intended rule."""

from __future__ import annotations

from pathlib import Path

from autopilot_sim.scenario import load_scenario
from autopilot_sim.sim.runner import Simulation

FLAPPING = Path(__file__).resolve().parents[1] / "scenarios" / "flapping-link.yaml"


def stable_since_at_flips(rule: str) -> list[tuple[str, bool, str, str]]:
    """(server, healthy after, StableSince before, StableSince after) at every health flip."""
    result = Simulation(load_scenario(FLAPPING, overrides=[f"autopilot.stable_since_rule={rule}"])).run()
    flips = []
    previous: dict[str, dict] = {}
    for line in result.timeline:
        if line["status"] == 500:
            previous = {}
            continue
        servers = {s["ID"]: s for s in line["health"]["Servers"]}
        for sid, srv in servers.items():
            before = previous.get(sid)
            if before is not None and before["Healthy"] != srv["Healthy"]:
                flips.append((sid, srv["Healthy"], before["StableSince"], srv["StableSince"]))
        previous = servers
    return flips


def test_upstream_rule_keeps_stable_since_across_health_flips() -> None:
    flips = stable_since_at_flips("upstream")
    assert flips, "the flapping-link scenario must flip some server's health"
    assert all(before == after for _, _, before, after in flips)


def test_intended_rule_resets_stable_since_on_every_flip() -> None:
    flips = stable_since_at_flips("intended")
    assert flips
    assert all(before != after for _, _, before, after in flips)
