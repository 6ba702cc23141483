"""The `network:` block (and the `set_network` event's payload): latency, loss, per-link overrides.

Latency is **one-way, per message**. The default, uniform on [1ms, 5ms], is our choice (the
references do not fix one): a region whose servers sit in different availability zones of one
cloud region, and the example of `scenario-format.md`.

Message loss is a probability in [0, 1); a link that drops everything is a `cut` event.

``links`` override the defaults for one *directed* link ``from → to``; a key left out of a link
keeps the network-wide value.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from autopilot_sim.durations import MILLISECOND
from autopilot_sim.scenario.base import KeyedError, ScenarioModel
from autopilot_sim.scenario.distributions import Distribution, UniformDistribution
from autopilot_sim.scenario.types import ServerName


def default_latency() -> UniformDistribution:
    """The default one-way latency: uniform on [1ms, 5ms]."""
    return UniformDistribution(distribution="uniform", min=1 * MILLISECOND, max=5 * MILLISECOND)


class LinkSpec(ScenarioModel):
    """Overrides for the directed link ``from → to``. YAML keys: ``from``, ``to``, ``latency``, ``loss``."""

    from_: ServerName = Field(alias="from", description="Sending server.")
    to: ServerName = Field(description="Receiving server.")
    latency: Distribution | None = Field(None, description="Latency on this link; unset: the network's.")
    loss: float | None = Field(None, ge=0.0, lt=1.0, description="Loss on this link; unset: the network's.")

    @model_validator(mode="after")
    def _not_a_loop(self) -> LinkSpec:
        if self.from_ == self.to:
            raise KeyedError("to", f'a link needs two different servers; from and to are both "{self.to}"')
        return self


def _unique_links(links: list[LinkSpec]) -> None:
    seen: dict[tuple[str, str], int] = {}
    for i, link in enumerate(links):
        key = (link.from_, link.to)
        if key in seen:
            raise KeyedError(("links", i), f"duplicate link {link.from_} → {link.to} (also links[{seen[key]}])")
        seen[key] = i


class NetworkSpec(ScenarioModel):
    """Network-wide latency and loss, plus per-link overrides."""

    latency: Distribution = Field(default_factory=default_latency,
                                  description="One-way latency of every message (default uniform 1ms..5ms).")
    loss: float = Field(0.0, ge=0.0, lt=1.0, description="Probability that a message is dropped, in [0, 1).")
    links: list[LinkSpec] = Field(default_factory=list, description="Per directed link overrides.")

    @model_validator(mode="after")
    def _check_links(self) -> NetworkSpec:
        _unique_links(self.links)
        return self


class NetworkPatch(ScenarioModel):
    """The `set_network` payload: the keys given replace the current values (``links`` replaces
    the whole list of link overrides); keys left out are unchanged."""

    latency: Distribution | None = Field(None, description="New network-wide latency.")
    loss: float | None = Field(None, ge=0.0, lt=1.0, description="New network-wide loss.")
    links: list[LinkSpec] | None = Field(
        None, description="New list of link overrides (replaces the old one).")

    @model_validator(mode="after")
    def _check(self) -> NetworkPatch:
        if not self.model_fields_set & {"latency", "loss", "links"}:
            raise ValueError("set_network needs at least one of latency, loss, links")
        if self.links:
            _unique_links(self.links)
        return self

    def apply_to(self, network: NetworkSpec) -> NetworkSpec:
        """The network after this change (a new object; ``network`` is not modified)."""
        update = {k: getattr(self, k) for k in ("latency", "loss", "links") if getattr(self, k) is not None}
        return network.model_copy(update=update)
