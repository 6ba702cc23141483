"""The `cluster:` block: which servers exist at the start and how they bootstrap.

``servers`` is a count (``5`` → node1..node5) or a list of server mappings; after validation it
is always a list of `ServerSpec`. A server whose ``version`` is not given gets the default version
of the cluster's ``nomad_version`` profile (`DEFAULT_VERSIONS`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, field_validator, model_validator

from autopilot_sim.scenario.base import KeyedError, ScenarioModel
from autopilot_sim.scenario.types import ServerName, UpgradeVersion, Version, describe

#: The Version reported for servers that do not set one, per behaviour profile.
DEFAULT_VERSIONS: dict[str, str] = {"1.11": "1.11.0", "2.0": "2.0.0"}
#: Servers when none are given: three, the usual small production region.
DEFAULT_SERVER_COUNT = 3
#: Most servers a cluster may ever have (listed or counted, plus those that join).
MAX_SERVER_COUNT = 100
_WHY_MAX = "a Nomad region runs 3, 5 or 7 servers; every extra server multiplies the simulated messages"


class ServerSpec(ScenarioModel):
    """One Nomad server (also the payload of a `join` event)."""

    name: ServerName = Field(description="Unique server name; the report's Name is <name>.<region>.")
    version: Version = Field(
        DEFAULT_VERSIONS["1.11"],
        description="The Nomad version the server runs (the report's Version field). Default: "
                    "1.11.0, or 2.0.0 when cluster.nomad_version is \"2.0\".",
    )
    redundancy_zone: str = Field("", description="Enterprise: the server's redundancy zone.")
    upgrade_version: UpgradeVersion = Field(
        "", description="Enterprise: custom upgrade version (semver X, X.Y or X.Y.Z).")
    non_voting: bool = Field(
        False, description="Enterprise: a read replica, never promoted to voter.")

    @property
    def version_given(self) -> bool:
        """True when the version was set explicitly rather than defaulted."""
        return "version" in self.model_fields_set


def expand_servers(value: Any) -> Any:
    """``servers: 5`` → five servers named node1..node5; a list is passed through."""
    if isinstance(value, bool):
        raise ValueError(f"expected a server count or a list of servers, got {describe(value)}")
    if isinstance(value, int):
        if not 1 <= value <= MAX_SERVER_COUNT:
            raise ValueError(f"server count must be between 1 and {MAX_SERVER_COUNT}, got {value}")
        return [{"name": f"node{i}"} for i in range(1, value + 1)]
    if isinstance(value, list):
        if not value:
            raise ValueError("the cluster needs at least one server")
        return value
    raise ValueError(f"expected a server count or a list of servers, got {describe(value)}")


class ClusterSpec(ScenarioModel):
    """The servers present at the start and the cluster-wide identity and behaviour profile."""

    model_config = {
        "json_schema_extra": lambda schema: schema["properties"].__setitem__(
            "servers",
            {
                "description": schema["properties"]["servers"].get("description", ""),
                "anyOf": [
                    {"type": "integer", "minimum": 1, "maximum": MAX_SERVER_COUNT},
                    {**schema["properties"]["servers"], "minItems": 1},
                ],
            },
        ),
    }

    servers: Annotated[list[ServerSpec], BeforeValidator(expand_servers)] = Field(
        default_factory=lambda: [ServerSpec.model_validate({"name": f"node{i}"})
                                 for i in range(1, DEFAULT_SERVER_COUNT + 1)],
        description="A count (servers named node1..nodeN) or a list of servers. Default: 3. At most "
                    "100, counting those that join later: a Nomad region runs 3, 5 or 7 servers, and "
                    "each extra one multiplies the simulated messages.",
    )
    bootstrap_expect: int | None = Field(
        None, ge=1,
        description="Voting servers needed to bootstrap Raft; these bootstrap as voters. Default: "
                    "every voting (not non_voting) server listed. Always an int after validation. "
                    "More than are listed is allowed when join events bring the rest.",
    )
    region: str = Field("global", min_length=1,
                        description="Nomad region; the report's Name is <name>.<region>.")
    enterprise: bool = Field(False, description="Enable enterprise autopilot features and fields.")
    nomad_version: Literal["1.11", "2.0"] = Field(
        "1.11",
        json_schema_extra={"enum": ["1.11", "2.0", 1.11, 2.0], "type": ["string", "number"]},
        description='Behaviour profile: "1.11" (failed servers reported "failed", pruned by '
                    'force-leave) or "2.0" (failed servers reported "left", removed as stale).',
    )

    @field_validator("nomad_version", mode="before")
    @classmethod
    def _float_profile(cls, value: Any) -> Any:
        # `nomad_version: 1.11` unquoted is a YAML float; 1.11 and 2.0 read back exactly.
        if isinstance(value, float) and repr(value) in DEFAULT_VERSIONS:
            return repr(value)
        return value

    @model_validator(mode="after")
    def _resolve(self) -> ClusterSpec:
        if len(self.servers) > MAX_SERVER_COUNT:
            raise KeyedError("servers", f"at most {MAX_SERVER_COUNT} servers, got {len(self.servers)} "
                                        f"({_WHY_MAX})")
        seen: dict[str, int] = {}
        for i, server in enumerate(self.servers):
            if server.name in seen:
                raise KeyedError(("servers", i, "name"),
                                 f'duplicate server name "{server.name}" (also servers[{seen[server.name]}])')
            seen[server.name] = i
            if not self.enterprise:
                for key in ("redundancy_zone", "upgrade_version", "non_voting"):
                    if getattr(server, key):
                        raise KeyedError(("servers", i, key),
                                         f"{key} is an Enterprise feature; set cluster.enterprise: true")
            if not server.version_given:
                server.version = DEFAULT_VERSIONS[self.nomad_version]
                server.model_fields_set.discard("version")
        voting = sum(1 for s in self.servers if not s.non_voting)
        if voting == 0:
            raise KeyedError("servers", "at least one server must be a voter (not non_voting)")
        if self.bootstrap_expect is None:
            self.bootstrap_expect = voting
        return self

    @property
    def server_names(self) -> list[str]:
        """Names of the servers present at the start, in file order."""
        return [s.name for s in self.servers]
