"""Nomad-compatible HTTP API over a live simulation (`autopilot-sim serve`).

* `LiveSimulation` (``live``) — a scenario run that advances with the wall clock in its own
  thread; requests read published snapshots and send commands; `replay` re-runs a session.
* `NomadApi` (``handlers``) — the endpoints, with Nomad's exact answers and check order.
* `ApiServer` (``server``) — the HTTP server (stdlib ``ThreadingHTTPServer``) in front of both.
* `AclPolicy` (``acl``) — the scenario's ``acl:`` block as Nomad applies it.
* `openapi_document` (``openapi``) — the OpenAPI description shipped with the package.

::

    from autopilot_sim.api import ApiServer, LiveSimulation
    from autopilot_sim.scenario import load_scenario

    live = LiveSimulation(load_scenario("scenarios/demo.yaml"), speed=1.0)
    with ApiServer(live, port=0) as server:
        print(server.url)          # GET {url}/v1/operator/autopilot/health ...
    live.result().write("runs/served")
"""

from autopilot_sim.api.acl import AclPolicy, parse_token
from autopilot_sim.api.handlers import NomadApi
from autopilot_sim.api.live import LiveSimulation, ReplayError, replay
from autopilot_sim.api.openapi import openapi_document
from autopilot_sim.api.server import ApiServer

__all__ = ["AclPolicy", "ApiServer", "LiveSimulation", "NomadApi", "ReplayError", "openapi_document",
           "parse_token", "replay"]
