"""The simulation side of `serve`: the live clock, /v1/sim control endpoints, the OpenAPI
description, and replaying a served session byte for byte."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from api_support import (
    ADMIN,
    READER,
    FakeClock,
    Raw,
    scenario,
    served,
    sim_time,
    token,
    wait_for,
)

from autopilot_sim.api import LiveSimulation, openapi_document, replay
from autopilot_sim.durations import SECOND

TEXT = "text/plain; charset=utf-8"


def test_the_clock_follows_the_wall_clock_times_speed() -> None:
    clock = FakeClock()
    with served(scenario(), speed=2.0, start_at="3s", clock=clock) as server:
        raw = Raw(server)
        t0 = raw.json("GET", "/v1/sim/time")[1]
        assert t0["Scenario"] == "api-test" and t0["Speed"] == 2.0 and t0["Paused"] is False
        assert t0["TimeNs"] == 3 * SECOND
        clock.advance(0.5)
        # Two simulated seconds per wall second: exactly 1 s later, once the thread has caught up.
        wait_for(lambda: raw.json("GET", "/v1/sim/time")[1]["TimeNs"] >= 4 * SECOND)
        t1 = raw.json("GET", "/v1/sim/time")[1]
        assert t1["TimeNs"] == 4 * SECOND and t1["BehindWallClockNs"] == 0
        raw.close()


def test_pause_and_resume() -> None:
    clock = FakeClock()
    with served(scenario(), speed=1.0, start_at="3s", clock=clock) as server:
        raw = Raw(server)
        status, paused = raw.json("POST", "/v1/sim/pause")
        assert status == 200 and paused["Paused"] is True and paused["TimeNs"] == 3 * SECOND
        clock.advance(10.0)
        assert raw.json("GET", "/v1/sim/time")[1]["TimeNs"] == paused["TimeNs"]
        # Reads still answer while paused; events are applied at the paused time.
        assert raw.request("GET", "/v1/operator/autopilot/health")[0] == 200
        status, result = raw.json("POST", "/v1/sim/events", {"set_load": {"writes_per_second": 50}})
        assert status == 200 and result["TimeNs"] == paused["TimeNs"]
        assert raw.json("GET", "/v1/sim/time")[1]["TimeNs"] == paused["TimeNs"]
        status, resumed = raw.json("PUT", "/v1/sim/resume")
        assert status == 200 and resumed["Paused"] is False and resumed["TimeNs"] == paused["TimeNs"]
        clock.advance(0.25)
        # No catch-up burst: the clock continues from where it stopped, the 10 paused seconds
        # are not made up.
        wait_for(lambda: raw.json("GET", "/v1/sim/time")[1]["TimeNs"] > paused["TimeNs"])
        assert raw.json("GET", "/v1/sim/time")[1]["TimeNs"] == paused["TimeNs"] + SECOND // 4
        raw.close()


def test_a_slow_or_idle_simulation_does_not_delay_requests() -> None:
    # The clock never moves: the next event is forever away, and nothing may wait for it (a
    # request that did would time out instead of answering 200).
    with served(scenario(), speed=0.001, start_at="3s", clock=FakeClock()) as server:
        raw = Raw(server)
        for method, path, body in (("GET", "/v1/operator/autopilot/health", None),
                                   ("POST", "/v1/sim/events", '{"set_load": {"writes_per_second": 1}}'),
                                   ("POST", "/v1/sim/pause", None), ("POST", "/v1/sim/resume", None)):
            assert raw.request(method, path, body)[0] == 200, path
        assert raw.json("GET", "/v1/sim/time")[1]["TimeNs"] == 3 * SECOND
        raw.close()


def test_injected_events_change_the_cluster() -> None:
    with served(scenario(servers=3), speed=5.0, start_at="5s") as server:
        raw = Raw(server)
        leader = raw.json("GET", "/v1/status/leader")[1]
        status, result = raw.json("POST", "/v1/sim/events", {"crash": "leader"})
        assert status == 200 and result["Kind"] == "crash" and result["Event"] == {"crash": "leader"}
        assert any(f"{leader} crashed" in m for m in result["Messages"])
        assert wait_for(lambda: raw.json("GET", "/v1/status/leader")[1] not in (leader, b"No cluster leader"))
        status, result = raw.json("POST", "/v1/sim/events", {"restart": leader})
        assert status == 200
        status, result = raw.json("POST", "/v1/sim/events", {"join": {"name": "node4"}})
        assert status == 200 and result["Event"]["join"]["version"] == "1.11.0"
        assert wait_for(lambda: "node4" in raw.json("GET", "/v1/status/peers")[1], timeout=30)
        status, result = raw.json("POST", "/v1/sim/events", {"set_autopilot": {"max_trailing_logs": 77}})
        assert status == 200
        assert wait_for(lambda: raw.json("GET", "/v1/operator/autopilot/configuration")[1]["MaxTrailingLogs"] == 77)
        assert raw.json("POST", "/v1/sim/events", {"partition": [["leader"]]})[0] == 200
        assert raw.json("POST", "/v1/sim/events", {"heal": "all"})[0] == 200
        assert raw.json("POST", "/v1/sim/events", {"pause": {"server": "follower", "for": "2s"}})[0] == 200
        raw.close()


@pytest.mark.parametrize("body, message", [
    (None, 'Error parsing event: Request body is empty; send one scenario event without "at", e.g. '),
    ("{", "Error parsing event: invalid JSON: "),
    ("[1]", "Error parsing event: expected a JSON object, got list"),
    ('{"at": "5s", "crash": "node1"}', 'Error parsing event: "at" is not allowed'),
    ("{}", "Error parsing event: an event needs a kind: one of crash, restart, pause,"),
    ('{"crsh": "node1"}', 'Error parsing event: crsh: unknown key "crsh"; did you mean "crash"?'),
    ('{"crash": "node1", "heal": "all"}', "Error parsing event: heal: an event has exactly one kind"),
    ('{"pause": {"server": "node1", "for": "5"}}', 'Error parsing event: pause.for: time: missing unit in duration "5"'),
    ('{"pause": {"server": "node1", "for": 5}}', 'Error parsing event: pause.for: time: missing unit in duration "5"'),
    ('{"heal": "al"}', 'Error parsing event: heal: expected "all" or {from: <server>, to: <server>}, got "al"'),
    ('{"crash": "node9"}', 'Error parsing event: crash: unknown server "node9"; did you mean "node'),
    ('{"crash": "zzz"}', 'Error parsing event: crash: unknown server "zzz" (servers: node1, node2, node3; or a role: leader'),
    ('{"partition": [["node1"], ["node7"]]}', 'Error parsing event: partition[1][0]: unknown server "node7"'),
    ('{"crash": "leader[x]"}', 'Error parsing event: crash: invalid target "leader[x]"'),
    # A huge name is not echoed whole: the answer stays short.
    ('{"crash": "%s"}' % ("n" * 1_000_000), 'Error parsing event: crash: unknown server "' + "n" * 57 + '..." ('),
    ('{"set_load": {"writes_per_second": -1}}', "Error parsing event: set_load.writes_per_second: must be >= 0"),
])
def test_bad_events_say_what_would_be_valid(body, message) -> None:
    with served(scenario(), paused=True, start_at="5s") as server:
        raw = Raw(server)
        status, headers, data = raw.request("POST", "/v1/sim/events", body)
        assert (status, headers["content-type"]) == (400, TEXT), data
        assert data.decode().startswith(message), data[:300]
        assert len(data) < 2000
        raw.close()


def test_events_that_cannot_be_applied_now_are_409() -> None:
    with served(scenario(), paused=True, start_at="5s") as server:
        raw = Raw(server)
        assert raw.request("POST", "/v1/sim/events", '{"crash": "node2"}')[0] == 200
        status, headers, data = raw.request("POST", "/v1/sim/events", '{"crash": "node2"}')
        assert (status, headers["content-type"]) == (409, TEXT)
        assert data.decode() == "cannot apply crash at 5s: node2 is already down"
        status, _, data = raw.request("POST", "/v1/sim/events", '{"restart": "node1"}')
        assert (status, data.decode()) == (409, "cannot apply restart at 5s: node1 is running (crash it first)")
        events = raw.json("GET", "/v1/sim/events?since=0")[1]["Events"]
        kinds = [e["kind"] for e in events if e["kind"].startswith("api_")]
        assert kinds == ["api_event", "api_event_rejected", "api_event_rejected"]
        raw.close()


def test_event_log_paging() -> None:
    with served(scenario(), paused=True, start_at="5s") as server:
        raw = Raw(server)
        first = raw.json("GET", "/v1/sim/events")[1]
        assert first["Next"] == len(first["Events"]) > 0
        assert all({"t_ns", "t", "kind", "message"} <= set(e) for e in first["Events"])
        raw.request("POST", "/v1/sim/events", '{"crash": "node3"}')
        more = raw.json("GET", f"/v1/sim/events?since={first['Next']}")[1]
        assert more["Events"][0]["kind"] == "api_event" and more["Next"] > first["Next"]
        assert raw.json("GET", "/v1/sim/events?since=99999")[1] == {"Events": [], "Next": 99999}
        status, _, data = raw.request("GET", "/v1/sim/events?since=-1")
        assert status == 400 and data.decode().startswith('Invalid since: expected a non-negative whole number')
        raw.close()


def test_sim_endpoints_methods_paths_and_acl() -> None:
    with served(scenario(acl=True), paused=True, start_at="5s") as server:
        raw = Raw(server)
        for path in ("/v1/sim/time", "/v1/sim/events"):
            assert raw.request("GET", path)[:3:2] == (403, b"Permission denied")
            assert raw.request("GET", path, headers=token(READER))[:3:2] == (403, b"Permission denied")
            assert raw.request("GET", path, headers=token(ADMIN))[0] == 200
        assert raw.request("POST", "/v1/sim/pause", headers=token(READER))[0] == 403
        assert raw.request("POST", "/v1/sim/events", '{"crash": "node1"}', token(READER))[0] == 403
        # The OpenAPI description is public.
        assert raw.request("GET", "/v1/sim/openapi.json")[0] == 200
        status, headers, data = raw.request("DELETE", "/v1/sim/time", headers=token(ADMIN))
        assert (status, data, headers["allow"]) == (405, b"Invalid method", "GET")
        status, headers, data = raw.request("GET", "/v1/sim/pause", headers=token(ADMIN))
        assert (status, headers["allow"]) == (405, "POST, PUT")
        status, headers, data = raw.request("GET", "/v1/sim/nothing")
        assert status == 404 and b"GET /v1/sim/time" in data and headers["content-type"] == TEXT
        raw.close()


def test_writes_while_paused_time_out_and_after_the_end_are_refused() -> None:
    with served(scenario(duration="20s"), paused=True, start_at="5s") as server:
        server.live.write_timeout = 0.3
        raw = Raw(server)
        config = raw.request("GET", "/v1/operator/autopilot/configuration")[2]
        status, _, data = raw.request("PUT", "/v1/operator/autopilot/configuration", config)
        assert status == 500 and data.decode().startswith("timed out waiting for the configuration write")
        raw.close()
    with served(scenario(duration="6s"), speed=50.0, start_at="5s") as server:
        raw = Raw(server)
        wait_for(lambda: raw.json("GET", "/v1/sim/time")[1]["Ended"])
        state = raw.json("GET", "/v1/sim/time")[1]
        assert state["TimeNs"] == state["EndNs"] == 6 * SECOND
        config = raw.request("GET", "/v1/operator/autopilot/configuration")[2]
        status, _, data = raw.request("PUT", "/v1/operator/autopilot/configuration", config)
        assert status == 409 and data.decode().startswith("the simulation ended at 6s")
        status, _, data = raw.request("POST", "/v1/sim/events", '{"crash": "node1"}')
        assert status == 409 and data.decode().startswith("the simulation ended at 6s")
        assert raw.request("GET", "/v1/operator/autopilot/health")[0] == 200
        raw.close()


def test_openapi_is_served_and_covers_every_endpoint() -> None:
    doc = openapi_document()
    with served(scenario(), paused=True) as server:
        raw = Raw(server)
        assert raw.json("GET", "/v1/sim/openapi.json")[1] == doc
        assert raw.request("GET", "/v1/sim/openapi.json?pretty")[2].endswith(b"}\n")
        routes = set(server.api._routes) | {"/v1/operator/raft/configuration", "/v1/operator/raft/peer",
                                            "/v1/operator/raft/transfer-leadership",
                                            "/v1/operator/raft/{other}"}
        raw.close()
    assert doc["openapi"].startswith("3.1")
    assert set(doc["paths"]) == routes
    import jsonschema

    for path, item in doc["paths"].items():
        assert "x-other-methods" in item, path
        for method, op in item.items():
            if method not in ("get", "put", "post", "delete", "patch", "head", "options"):
                continue
            assert op["responses"], (path, method)
            for response in op["responses"].values():
                for media in response.get("content", {}).values():
                    jsonschema.Draft202012Validator.check_schema({**media["schema"], "components": doc["components"]})
    # Every $ref points at something.
    text = json.dumps(doc)
    for ref in {part.split('"')[0] for part in text.split('"$ref": "#/')[1:]}:
        node = doc
        for key in ref.split("/"):
            node = node[key]


def test_a_served_session_replays_byte_for_byte(tmp_path: Path) -> None:
    sc = scenario(duration="10m")
    live = LiveSimulation(sc, speed=20.0)
    from autopilot_sim.api import ApiServer

    with ApiServer(live, port=0) as server:
        raw = Raw(server)
        # A leader answers the configuration once establishLeadership has written it: wait for
        # that, not just for a leader (under load the GET can land in between and get a 500).
        def configuration():
            status, body = raw.json("GET", "/v1/operator/autopilot/configuration")
            return status == 200 and body

        config = wait_for(configuration)
        assert raw.json("PUT", f"/v1/operator/autopilot/configuration?cas={config['ModifyIndex']}",
                        {**config, "MaxTrailingLogs": 10})[1] is True
        assert raw.json("PUT", f"/v1/operator/autopilot/configuration?cas={config['ModifyIndex']}", config)[1] is False
        assert raw.request("POST", "/v1/sim/events", '{"crash": "follower"}')[0] == 200
        assert raw.request("POST", "/v1/sim/events", '{"crash": "nosuch"}')[0] == 400  # never logged
        raw.request("POST", "/v1/sim/pause")
        assert raw.request("POST", "/v1/sim/events", '{"restart": "follower"}')[0] in (200, 409)
        raw.request("POST", "/v1/sim/resume")
        assert raw.json("PUT", "/v1/operator/autopilot/configuration", {"MaxTrailingLogs": 5})[1] is True
        assert raw.request("POST", "/v1/sim/events", '{"partition": [["leader"]]}')[0] == 200
        wait_for(lambda: sim_time(server) > 30 * SECOND)
        raw.close()
    served_result = live.result()
    served_result.write(tmp_path / "served")
    events = [json.loads(line) for line in (tmp_path / "served" / "events.jsonl").read_text().splitlines()]
    assert [e["kind"] for e in events if e["kind"].startswith("api_")] == [
        "api_config_write", "api_config_write", "api_event", "api_event" if any(
            e["kind"] == "api_event" and e["event"] == {"restart": "follower"} for e in events) else "api_event_rejected",
        "api_config_write", "api_event"]
    replayed = replay(sc, events)
    replayed.write(tmp_path / "replayed")
    for name in ("events.jsonl", "timeline.jsonl", "summary.json", "scenario.yaml"):
        assert (tmp_path / "served" / name).read_bytes() == (tmp_path / "replayed" / name).read_bytes(), name


def test_replay_refuses_a_log_from_another_scenario(tmp_path: Path) -> None:
    sc = scenario(duration="10m")
    live = LiveSimulation(sc, paused=True)
    live.run_until(5 * SECOND)
    from autopilot_sim.api import ApiServer

    with ApiServer(live, port=0) as server:
        raw = Raw(server)
        raw.json("POST", "/v1/sim/resume")
        assert raw.json("PUT", "/v1/operator/autopilot/configuration", {"MaxTrailingLogs": 5})[1] is True
        raw.close()
    events = live.result().recorder.events
    from autopilot_sim.api.live import ReplayError

    other = scenario(duration="10m", servers=5)
    with pytest.raises(ReplayError, match="went to Raft index"):
        replay(other, events)
    with pytest.raises(ReplayError, match="seed 1, this replay with seed 2"):
        replay(sc, events, seed=2)
    with pytest.raises(ReplayError, match="the session ran scenario 'api-test'"):
        replay(scenario(duration="10m", name="another"), events)
