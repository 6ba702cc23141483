"""Delay distributions (network latency, disk fsync latency), tagged on the `distribution` key.

```yaml
latency: {distribution: uniform, min: 1ms, max: 5ms}
```

All delays are integer nanoseconds in the model. The models only describe a distribution; the
engine samples them from its own seeded streams. Intended sampling semantics, for the engine:

* ``constant``    — always ``value``.
* ``uniform``     — uniform on [``min``, ``max``].
* ``normal``      — normal(``mean``, ``stddev``) truncated at 0 (negative draws become 0).
* ``lognormal``   — exp(N(ln ``median``, ``sigma``)): ``median`` is the distribution's median,
  ``sigma`` the standard deviation of the underlying normal (dimensionless float).
* ``exponential`` — exponential with mean ``mean``.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import Field, model_validator

from autopilot_sim.durations import format_duration
from autopilot_sim.scenario.base import KeyedError, ScenarioModel
from autopilot_sim.scenario.types import Delay, PositiveDelay


class _DistributionModel(ScenarioModel):
    """Base: the `distribution` tag is required in YAML (it selects the class) even though the
    Python classes default it, so `UniformDistribution(min=..., max=...)` works."""

    model_config = {
        "json_schema_extra": lambda schema: schema.setdefault("required", []).insert(0, "distribution"),
    }


class ConstantDistribution(_DistributionModel):
    """Always the same delay."""

    distribution: Literal["constant"] = Field("constant", description="constant: always `value`.")
    value: Delay = Field(description="The delay (at most 1h: a message held longer is lost; use a cut).")


class UniformDistribution(_DistributionModel):
    """Uniform on [min, max]."""

    distribution: Literal["uniform"] = Field("uniform", description="uniform on [min, max].")
    min: Delay = Field(description="Smallest delay.")
    max: Delay = Field(description="Largest delay (at least min; at most 1h: a message held longer is lost, "
                                   "use a cut).")

    @model_validator(mode="after")
    def _ordered(self) -> UniformDistribution:
        if self.min > self.max:
            raise KeyedError("max", f"max ({format_duration(self.max)}) must be at least min "
                                    f"({format_duration(self.min)})")
        return self


class NormalDistribution(_DistributionModel):
    """Normal, truncated at zero."""

    distribution: Literal["normal"] = Field("normal", description="normal(mean, stddev), truncated at 0.")
    mean: Delay = Field(description="Mean of the normal (at most 1h).")
    stddev: Delay = Field(description="Standard deviation of the normal (at most 1h).")


class LognormalDistribution(_DistributionModel):
    """Log-normal given by its median and the sigma of the underlying normal."""

    distribution: Literal["lognormal"] = Field("lognormal", description="exp(N(ln median, sigma)).")
    median: PositiveDelay = Field(description="Median delay (at most 1h).")
    sigma: float = Field(ge=0, le=10, description="Standard deviation of the underlying normal.")


class ExponentialDistribution(_DistributionModel):
    """Exponential with the given mean."""

    distribution: Literal["exponential"] = Field("exponential", description="exponential with mean `mean`.")
    mean: PositiveDelay = Field(description="Mean delay (at most 1h).")


#: Any delay distribution; pydantic picks the class from the `distribution` key.
Distribution = Annotated[
    ConstantDistribution | UniformDistribution | NormalDistribution | LognormalDistribution | ExponentialDistribution,
    Field(discriminator="distribution"),
]

DISTRIBUTION_KINDS = ("constant", "uniform", "normal", "lognormal", "exponential")


def mean_delay(dist: ConstantDistribution | UniformDistribution | NormalDistribution
               | LognormalDistribution | ExponentialDistribution) -> float:
    """The mean of a distribution in ns (for the normal: of the untruncated normal)."""
    if isinstance(dist, ConstantDistribution):
        return float(dist.value)
    if isinstance(dist, UniformDistribution):
        return float(dist.min + dist.max) / 2
    if isinstance(dist, LognormalDistribution):
        return float(dist.median) * math.exp(dist.sigma**2 / 2)
    return float(dist.mean)
