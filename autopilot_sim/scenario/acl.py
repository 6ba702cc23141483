"""The `acl:` block: Nomad-style ACLs for `serve`'s HTTP API."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from autopilot_sim.scenario.base import KeyedError, ScenarioModel

Policy = Literal["operator-read", "operator-write", "management"]


class TokenSpec(ScenarioModel):
    """One ACL token: its secret (the X-Nomad-Token value) and what it may do."""

    name: str = Field(min_length=1, description="A label for the token.")
    secret: str = Field(min_length=1, description="The secret ID sent as X-Nomad-Token.")
    policy: Policy = Field(description="operator-read | operator-write | management.")


class AclSpec(ScenarioModel):
    """ACL settings. With ``enabled: false`` every request is allowed."""

    enabled: bool = Field(False, description="Enforce ACLs on the HTTP API.")
    anonymous: Literal["none", "operator-read", "operator-write"] = Field(
        "none", description="What a request without a token may do.")
    tokens: list[TokenSpec] = Field(default_factory=list, description="The known tokens.")

    @model_validator(mode="after")
    def _unique(self) -> AclSpec:
        names: dict[str, int] = {}
        secrets: dict[str, int] = {}
        for i, token in enumerate(self.tokens):
            if token.name in names:
                raise KeyedError(("tokens", i, "name"),
                                 f'duplicate token name "{token.name}" (also tokens[{names[token.name]}])')
            if token.secret in secrets:
                raise KeyedError(("tokens", i, "secret"),
                                 f"duplicate secret (also used by tokens[{secrets[token.secret]}])")
            names[token.name] = i
            secrets[token.secret] = i
        return self

    def token_for(self, secret: str) -> TokenSpec | None:
        """The token with this secret, if any."""
        return next((t for t in self.tokens if t.secret == secret), None)
