"""The pure autopilot core: raft-autopilot v0.1.6 as Nomad runs it, with `now` passed in.

Modules, one concern each:

* `model` — servers, stats, health, the `State` snapshot, the health rule, voter ordering;
* `config` — `AutopilotConfig`, Nomad defaults, the JSON wire format, `ConfigStore` (CAS);
* `state` — `TickInputs` and `build_state` (one state-update tick);
* `promoter` — the promoter protocol and Nomad CE's `StablePromoter`;
* `enterprise` — the documented Enterprise promoter (redundancy zones, upgrade migration,
  custom upgrade versions, read replicas); `versions` — the version ordering it uses;
* `reconcile` — promotions / demotions / leader transfer and dead-server pruning;
* `report` — the body and status of GET /v1/operator/autopilot/health;
* `add_server` — the library's AddServer helper as a pure plan (Consul uses it, Nomad not);
* `gojson` — Go `encoding/json`-compatible decoding of request bodies (syntax and errors);
* `conformance` — the runner for upstream's fixture format (the only module doing I/O).

No SimPy, clocks or I/O here (except `conformance`, which reads case files).
"""

from autopilot_sim.autopilot.config import AutopilotConfig, ConfigStore, ConfigWireError
from autopilot_sim.autopilot.model import (
    EMPTY_STATE,
    RaftServer,
    Server,
    ServerHealth,
    ServerState,
    ServerStats,
    State,
)
from autopilot_sim.autopilot.promoter import RaftChanges, StablePromoter
from autopilot_sim.autopilot.reconcile import (
    Action,
    ReconcileResult,
    Refusal,
    prune_dead_servers,
    reconcile,
    reconcile_tick,
)
from autopilot_sim.autopilot.report import health_body, health_status
from autopilot_sim.autopilot.state import TickInputs, build_state

__all__ = [
    "EMPTY_STATE",
    "Action",
    "AutopilotConfig",
    "ConfigStore",
    "ConfigWireError",
    "RaftChanges",
    "RaftServer",
    "ReconcileResult",
    "Refusal",
    "Server",
    "ServerHealth",
    "ServerState",
    "ServerStats",
    "StablePromoter",
    "State",
    "TickInputs",
    "build_state",
    "health_body",
    "health_status",
    "prune_dead_servers",
    "reconcile",
    "reconcile_tick",
]
