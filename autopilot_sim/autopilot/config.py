"""Autopilot configuration: the settings, Nomad's defaults, its JSON wire format and the store.

* `AutopilotConfig` holds every field of Nomad's `AutopilotConfig` (durations in ns).
* `to_wire()` / `from_wire(body)` speak the JSON of `/v1/operator/autopilot/configuration`
  (docs/behaviour/autopilot.md §9.2/§9.3): durations are Go duration strings; PUT bodies are
  decoded like Go's `encoding/json` into `api.AutopilotConfiguration` — unknown keys ignored, keys matched
  case-insensitively, last duplicate wins, unsigned integers strict, and **full replacement**
  (a field absent from the body becomes false / 0 / "0s"). Errors carry Go's texts.
* `ConfigStore` keeps the config with CreateIndex/ModifyIndex semantics and check-and-set.
* `from_scenario(**kw)` builds a config from the agent-block names used in scenario files.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from autopilot_sim.autopilot.gojson import (
    GoJSONError,
    GoNumber,
    Pairs,
    decode_first_value,
    go_fold,
    go_kind,
    go_quote,
)
from autopilot_sim.durations import (
    MILLISECOND,
    SECOND,
    DurationError,
    format_duration,
    parse_duration,
)

_UINT64_MAX = (1 << 64) - 1

# Nomad's server defaults (nomad/config.go DefaultConfig; docs/behaviour/autopilot.md §10).
DEFAULT_CLEANUP_DEAD_SERVERS = True
DEFAULT_LAST_CONTACT_THRESHOLD = 200 * MILLISECOND
DEFAULT_MAX_TRAILING_LOGS = 250
DEFAULT_MIN_QUORUM = 0
DEFAULT_SERVER_STABILIZATION_TIME = 10 * SECOND


@dataclass(frozen=True, slots=True)
class AutopilotConfig:
    """Every autopilot setting Nomad stores; the defaults are Nomad's server defaults.

    Durations are integer nanoseconds (negative values are possible through the API, as in
    Nomad, which validates nothing). `create_index` / `modify_index` are the Raft indexes of
    the write that created / last changed the stored config (0 for a config never stored).
    """

    cleanup_dead_servers: bool = DEFAULT_CLEANUP_DEAD_SERVERS
    last_contact_threshold: int = DEFAULT_LAST_CONTACT_THRESHOLD
    max_trailing_logs: int = DEFAULT_MAX_TRAILING_LOGS
    min_quorum: int = DEFAULT_MIN_QUORUM
    server_stabilization_time: int = DEFAULT_SERVER_STABILIZATION_TIME
    enable_redundancy_zones: bool = False
    disable_upgrade_migration: bool = False
    enable_custom_upgrades: bool = False
    create_index: int = 0
    modify_index: int = 0

    # --- wire format -----------------------------------------------------------------------

    def to_wire(self) -> dict[str, Any]:
        """The GET response body as a dict, keys in the order Nomad sends them.

        Nomad's `api.AutopilotConfiguration.MarshalJSON` wraps the struct in an anonymous
        struct whose two string duration fields come first and shadow the embedded ones, so
        Go's encoder writes LastContactThreshold and ServerStabilizationTime before the rest.
        (Key order carries no meaning in JSON; this just matches the real bytes.)
        """
        return {
            "LastContactThreshold": format_duration(self.last_contact_threshold),
            "ServerStabilizationTime": format_duration(self.server_stabilization_time),
            "CleanupDeadServers": self.cleanup_dead_servers,
            "MaxTrailingLogs": self.max_trailing_logs,
            "MinQuorum": self.min_quorum,
            "EnableRedundancyZones": self.enable_redundancy_zones,
            "DisableUpgradeMigration": self.disable_upgrade_migration,
            "EnableCustomUpgrades": self.enable_custom_upgrades,
            "CreateIndex": self.create_index,
            "ModifyIndex": self.modify_index,
        }

    @classmethod
    def from_wire(cls, body: bytes | str | Mapping[str, Any] | None) -> AutopilotConfig:
        """Decode a PUT body exactly as Nomad would; see the module docstring.

        `body` is the raw request body (bytes or str); an already parsed JSON object (a dict)
        is accepted too. The result has `create_index` = `modify_index` = 0: the store sets
        them. Raises `ConfigWireError`, whose message is Nomad's whole 400 body text.
        """
        return _decode_config(body)

    # --- other constructors ----------------------------------------------------------------

    @classmethod
    def zero(cls) -> AutopilotConfig:
        """All fields false / 0: what a PUT of `{}` stores."""
        return cls(False, 0, 0, 0, 0, False, False, False, 0, 0)

    @classmethod
    def from_scenario(cls, *, nomad_agent_rules: bool = True, **kwargs: Any) -> AutopilotConfig:
        """Build a config from scenario (agent `autopilot` block) names in snake_case.

        Accepts cleanup_dead_servers, last_contact_threshold, max_trailing_logs, min_quorum,
        server_stabilization_time, enable_redundancy_zones, disable_upgrade_migration and
        enable_custom_upgrades; durations as Go strings ("200ms") or integer ns. Missing keys
        take Nomad's defaults. With `nomad_agent_rules` (the default) Nomad's agent merge rule
        applies: a zero count or zero duration in the block is ignored and the default kept
        (docs/behaviour/autopilot.md §10: the agent only overrides non-zero values); booleans
        always apply.
        Raises ValueError naming the key and what would be valid.
        """
        values = _check_scenario_kwargs(kwargs)
        if nomad_agent_rules:
            values = {
                k: v
                for k, v in values.items()
                if not (k in _NUMERIC_SCENARIO_KEYS and v == 0)
            }
        return cls(**values)

    def with_changes(self, **kwargs: Any) -> AutopilotConfig:
        """A copy with the given snake_case settings changed (zeros taken literally).

        This is what `nomad operator autopilot set-config -flag=...` does: only the flags given
        change. Indexes are kept; the store sets new ones when the copy is written.
        """
        return dataclasses.replace(self, **_check_scenario_kwargs(kwargs))


# --- scenario keyword checking ----------------------------------------------------------------

_SCENARIO_KEYS = {
    "cleanup_dead_servers": "bool",
    "last_contact_threshold": "duration",
    "max_trailing_logs": "uint",
    "min_quorum": "uint",
    "server_stabilization_time": "duration",
    "enable_redundancy_zones": "bool",
    "disable_upgrade_migration": "bool",
    "enable_custom_upgrades": "bool",
}
_NUMERIC_SCENARIO_KEYS = frozenset(k for k, t in _SCENARIO_KEYS.items() if t != "bool")


def _check_scenario_kwargs(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in kwargs.items():
        kind = _SCENARIO_KEYS.get(key)
        if kind is None:
            hint = difflib.get_close_matches(key, list(_SCENARIO_KEYS), n=1)
            extra = f" (did you mean {hint[0]!r}?)" if hint else ""
            raise ValueError(
                f"autopilot: unknown key {key!r}{extra}; valid keys: {', '.join(_SCENARIO_KEYS)}"
            )
        if kind == "bool":
            if not isinstance(value, bool):
                raise ValueError(f"autopilot.{key}: expected true or false, got {value!r}")
        elif kind == "uint":
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _UINT64_MAX:
                raise ValueError(
                    f"autopilot.{key}: expected a non-negative integer, got {value!r}"
                )
        elif isinstance(value, str):
            try:
                value = parse_duration(value)
            except DurationError as exc:
                raise ValueError(
                    f"autopilot.{key}: {exc} (expected a Go duration such as \"200ms\" or \"10s\")"
                ) from None
        elif isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(
                f"autopilot.{key}: expected a Go duration string such as \"10s\", got {value!r}"
            )
        out[key] = value
    return out


# --- PUT body decoding (Go encoding/json semantics) -------------------------------------------

ERROR_PREFIX = "Error parsing autopilot config: "
CAS_ERROR_PREFIX = "Error parsing cas value: "

# Go's type name of the anonymous struct `api.AutopilotConfiguration.UnmarshalJSON` decodes
# into; it appears in errors for a body that is not an object.
_AUX_TYPE = "struct { LastContactThreshold string; ServerStabilizationTime string; *api.Alias }"

# JSON field name -> (attribute, Go type). The two durations are strings in the wire struct.
_WIRE_FIELDS: dict[str, tuple[str, str]] = {
    "LastContactThreshold": ("last_contact_threshold", "string"),
    "ServerStabilizationTime": ("server_stabilization_time", "string"),
    "CleanupDeadServers": ("cleanup_dead_servers", "bool"),
    "MaxTrailingLogs": ("max_trailing_logs", "uint64"),
    "MinQuorum": ("min_quorum", "uint"),
    "EnableRedundancyZones": ("enable_redundancy_zones", "bool"),
    "DisableUpgradeMigration": ("disable_upgrade_migration", "bool"),
    "EnableCustomUpgrades": ("enable_custom_upgrades", "bool"),
    "CreateIndex": ("create_index", "uint64"),
    "ModifyIndex": ("modify_index", "uint64"),
}
_WIRE_BY_FOLD = {go_fold(name): name for name in _WIRE_FIELDS}


class ConfigWireError(ValueError):
    """A body Nomad answers with 400. `str(err)` is the full response text.

    `go_error` is the Go error text alone (without the "Error parsing autopilot config: "
    prefix).
    """

    def __init__(self, go_error: str, prefix: str = ERROR_PREFIX) -> None:
        super().__init__(prefix + go_error)
        self.go_error = go_error


def _to_pairs(value: Any) -> Any:
    """Turn an already parsed Python JSON value into the decoder's representation."""
    if isinstance(value, Mapping):
        return Pairs((str(k), _to_pairs(v)) for k, v in value.items())
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return GoNumber(str(value))
    if isinstance(value, float):
        return GoNumber(repr(value))
    if isinstance(value, (list, tuple)):
        return [_to_pairs(v) for v in value]
    return value


def _decode_config(body: bytes | str | Mapping[str, Any] | None) -> AutopilotConfig:
    if body is None or (isinstance(body, (bytes, bytearray, str)) and len(body) == 0):
        # Nomad checks for an empty body before decoding.
        raise ConfigWireError("Request body is empty")
    if isinstance(body, Mapping):
        value = _to_pairs(body)
    else:
        try:
            value = decode_first_value(body)
        except GoJSONError as exc:
            raise ConfigWireError(str(exc)) from None
    if value is None:
        # Go decodes a top-level null into the interface and never touches the struct.
        return AutopilotConfig.zero()
    if not isinstance(value, Pairs):
        raise ConfigWireError(
            f"json: cannot unmarshal {go_kind(value)} into Go value of type {_AUX_TYPE}"
        )

    fields: dict[str, Any] = {}
    first_error: str | None = None
    for key, item in value:
        name = _WIRE_BY_FOLD.get(go_fold(key))
        if name is None:
            continue  # unknown keys are ignored
        if item is None:
            continue  # null leaves a non-pointer Go field untouched
        attr, go_type = _WIRE_FIELDS[name]
        decoded, error_value = _decode_field(item, go_type)
        if error_value is not None:
            # Go keeps decoding after a type error and reports the first one.
            if first_error is None:
                first_error = (
                    f"json: cannot unmarshal {error_value} into Go struct field .{name} "
                    f"of type {go_type}"
                )
            continue
        fields[attr] = decoded
    if first_error is not None:
        raise ConfigWireError(first_error)

    # Durations arrive as strings; "" (or absent) means 0, anything else must parse.
    for attr in ("last_contact_threshold", "server_stabilization_time"):
        text = fields.get(attr, "")
        if text == "":
            fields[attr] = 0
            continue
        try:
            fields[attr] = parse_duration(text)
        except DurationError as exc:
            raise ConfigWireError(str(exc)) from None

    # Full replacement: start from zero values; indexes in the body are ignored.
    fields.pop("create_index", None)
    fields.pop("modify_index", None)
    return dataclasses.replace(AutopilotConfig.zero(), **fields)


def _decode_field(item: Any, go_type: str) -> tuple[Any, str | None]:
    """Decode one JSON value into a Go field type: (value, None) or (None, error kind text)."""
    kind = go_kind(item)
    if go_type == "bool":
        return (item, None) if kind == "bool" else (None, kind)
    if go_type == "string":
        return (item, None) if kind == "string" else (None, kind)
    # Unsigned integers: Go runs strconv.ParseUint on the literal, so signs, fractions and
    # exponents are all rejected, and the error names the literal.
    if kind != "number":
        return None, kind
    text = str(item)
    if not text.isdigit() or not text.isascii() or int(text) > _UINT64_MAX:
        return None, f"number {text}"
    return int(text), None


def parse_cas_param(value: str) -> int:
    """Parse the `cas` query parameter like Nomad (strconv.ParseUint(v, 10, 64)).

    Raises ConfigWireError with Nomad's 400 text, e.g.
    `Error parsing cas value: strconv.ParseUint: parsing "x": invalid syntax`.
    """
    reason = "invalid syntax" if not value else ""
    number = 0
    for ch in value:
        # Go checks character by character and stops at the first problem, so an overflow
        # before a bad character reports "value out of range".
        if not ("0" <= ch <= "9"):
            reason = "invalid syntax"
            break
        number = number * 10 + (ord(ch) - 48)
        if number > _UINT64_MAX:
            reason = "value out of range"
            break
    if not reason:
        return number
    raise ConfigWireError(
        f"strconv.ParseUint: parsing {go_quote(value)}: {reason}", prefix=CAS_ERROR_PREFIX
    )


# --- the stored configuration ------------------------------------------------------------------


class ConfigStore:
    """The autopilot config as Nomad's state store keeps it (docs/behaviour/autopilot.md §9.3).

    * `set(cfg, index)`: always writes; ModifyIndex = `index`; CreateIndex = the existing
      CreateIndex, or `index` when nothing was stored yet.
    * `cas(cfg, expected, index)`: writes like `set` only if a config is stored and its
      ModifyIndex equals `expected`; otherwise nothing changes and it returns False.
    * `get()`: the stored config, or None before the first write (Nomad then answers 500
      "autopilot config not initialized yet").
    """

    __slots__ = ("_config",)

    def __init__(self, config: AutopilotConfig | None = None) -> None:
        self._config = config

    def get(self) -> AutopilotConfig | None:
        """The stored config (with its indexes) or None."""
        return self._config

    def set(self, cfg: AutopilotConfig, index: int) -> AutopilotConfig:
        """Store `cfg` at Raft index `index`; returns the stored value."""
        existing = self._config
        create = existing.create_index if existing is not None else index
        self._config = dataclasses.replace(cfg, create_index=create, modify_index=index)
        return self._config

    def cas(self, cfg: AutopilotConfig, expected_modify_index: int, index: int) -> bool:
        """Check-and-set: store `cfg` only if the stored ModifyIndex is `expected_modify_index`."""
        existing = self._config
        if existing is None or existing.modify_index != expected_modify_index:
            return False
        self.set(cfg, index)
        return True
