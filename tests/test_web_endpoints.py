"""The web dashboard's HTTP side (no browser): the page and its assets, GET /v1/sim/view,
POST /v1/sim/speed and /v1/sim/step, the engine's send taps, and replay of run directories."""

from __future__ import annotations

import json
from pathlib import Path

from api_support import ADMIN, FakeClock, Raw, scenario, served, token, wait_for

from autopilot_sim.api import LiveSimulation
from autopilot_sim.durations import MILLISECOND, SECOND
from autopilot_sim.sim.runner import Simulation
from autopilot_sim.web.replay import ReplayApi, ReplayModel
from autopilot_sim.web.view import MessageTap, build_frame, pick_messages


def test_root_redirects_to_the_page_and_assets_are_served() -> None:
    with served(scenario(), start_at="2s", paused=True) as server:
        raw = Raw(server)
        status, headers, body = raw.request("GET", "/")
        assert status == 307 and headers["location"] == "/ui/" and body == b""
        status, headers, _ = raw.request("GET", "/ui")
        assert status == 307 and headers["location"] == "/ui/"
        status, headers, body = raw.request("GET", "/ui/")
        assert status == 200 and headers["content-type"].startswith("text/html") and b"app.js" in body
        status, headers, body = raw.request("GET", "/ui/app.js")
        assert status == 200 and headers["content-type"].startswith("text/javascript")
        assert raw.request("GET", "/ui/style.css")[0] == 200
        status, _, body = raw.request("GET", "/ui/../handlers.py")
        assert status in (301, 404)
        assert raw.request("GET", "/ui/nothing.js")[0] == 404
        assert raw.request("POST", "/ui/")[0] == 405
        raw.close()


def test_view_frame_holds_what_the_page_draws() -> None:
    with served(scenario(servers=3), start_at="10s", paused=True) as server:
        raw = Raw(server)
        status, view = raw.json("GET", "/v1/sim/view")
        assert status == 200 and view["Mode"] == "live"
        frame = view["Frame"]
        assert frame["TimeNs"] == 10 * SECOND and frame["Leader"]
        servers = {s["Name"]: s for s in frame["Servers"]}
        assert set(servers) == {"node1", "node2", "node3"}
        leader = servers[frame["Leader"]]
        assert leader["Role"] == "Leader" and leader["Suffrage"] == "voter" and leader["Healthy"] is True
        assert leader["SerfStatus"] == "alive" and leader["CommitIndex"] <= leader["LastIndex"]
        assert leader["Log"] and all(len(e) == 2 for e in leader["Log"])
        assert view["Timeline"] and view["NextReport"] == len(view["Timeline"])
        assert view["Timeline"][-1][1] == 200 and view["Timeline"][-1][2] == 1  # FailureTolerance of 3 voters
        # incremental: nothing new at the same instant
        _, again = raw.json("GET", f"/v1/sim/view?reports={view['NextReport']}")
        assert again["Timeline"] == []
        assert raw.request("GET", "/v1/sim/view?reports=x")[0] == 400
        raw.close()


def test_view_shows_cut_links_and_needs_management_with_acls() -> None:
    with served(scenario(acl=True, anonymous="operator-read"), start_at="5s", paused=True) as server:
        raw = Raw(server)
        status, _, body = raw.request("GET", "/v1/sim/view")
        assert status == 403 and body == b"Permission denied"
        assert raw.json("POST", "/v1/sim/events", {"cut": {"from": "node1", "to": "node2"}}, token(ADMIN))[0] == 200
        status, view = raw.json("GET", "/v1/sim/view", headers=token(ADMIN))
        assert status == 200 and ["node1", "node2"] in view["Frame"]["Blocked"]
        assert ["node2", "node1"] not in view["Frame"]["Blocked"]
        raw.close()


def test_speed_changes_the_rate_and_refuses_bad_values() -> None:
    clock = FakeClock()
    with served(scenario(), start_at="1s", clock=clock) as server:
        raw = Raw(server)
        status, state = raw.json("POST", "/v1/sim/speed", {"Speed": 4})
        assert status == 200 and state["Speed"] == 4.0
        t0 = state["TimeNs"]
        clock.advance(0.5)
        wait_for(lambda: raw.json("GET", "/v1/sim/time")[1]["TimeNs"] >= t0 + 2 * SECOND)
        assert raw.json("GET", "/v1/sim/time")[1]["TimeNs"] == t0 + 2 * SECOND
        assert raw.json("POST", "/v1/sim/speed", {"Speed": 0.5})[1]["Speed"] == 0.5
        for bad in ('{"Speed": 0}', '{"Speed": 5000}', '{"Speed": "fast"}', '{"Speed": true}', '{"Sped": 2}',
                    '{"speed": 2}', "{}", "[1]", "{"):
            status, _, body = raw.request("POST", "/v1/sim/speed", bad)
            assert status == 400 and body.startswith(b"Error parsing"), (bad, body)
        status, _, body = raw.request("POST", "/v1/sim/speed")
        assert status == 400 and b'{"Speed": X}' in body
        assert raw.request("GET", "/v1/sim/speed")[0] == 405
        raw.close()


def test_step_processes_the_next_instant_only_when_paused() -> None:
    with served(scenario(), start_at="3s") as server:
        raw = Raw(server)
        status, _, body = raw.request("POST", "/v1/sim/step")
        assert status == 409 and b"paused" in body
        t0 = raw.json("POST", "/v1/sim/pause")[1]["TimeNs"]
        t1 = raw.json("POST", "/v1/sim/step")[1]["TimeNs"]
        assert t0 < t1 < t0 + SECOND  # the next instant with an event, plus 1 ns
        t2 = raw.json("POST", "/v1/sim/step?by=250ms")[1]["TimeNs"]
        assert t2 == t1 + 250 * MILLISECOND
        t3 = raw.json("POST", "/v1/sim/step?by=1s")[1]["TimeNs"]
        assert t3 == t2 + SECOND
        for bad in ("soon", "2h", "0s", "1000s", "1m", "-5s"):
            assert raw.request("POST", f"/v1/sim/step?by={bad}")[0] == 400, bad
        raw.close()


def test_stepping_leaves_a_served_session_replayable(tmp_path: Path) -> None:
    from autopilot_sim.api import replay

    sc = scenario(duration="30s")
    with served(sc, start_at="4s", paused=True, end=None) as server:
        raw = Raw(server)
        for _ in range(5):
            raw.json("POST", "/v1/sim/step")
        raw.json("POST", "/v1/sim/events", {"crash": "leader"})
        raw.json("POST", "/v1/sim/step?by=3s")
        raw.close()
    result = server.live.result()
    again = replay(sc, result.recorder.events)
    assert again.timeline == result.timeline


def test_send_taps_cost_nothing_when_empty_and_observing_changes_nothing() -> None:
    sc = scenario(servers=3, duration="20s")
    plain = Simulation(sc)
    assert plain.cluster.send_taps == []
    plain_result = plain.run()
    watched = Simulation(sc)
    tap = MessageTap(watched.cluster)
    frames = []
    for t in range(0, 20 * SECOND, 500 * MILLISECOND):
        watched.cluster.run(t)
        frames.append(build_frame(watched, pick_messages(tap.drain(), 0)))
    result = watched.run()
    assert result.timeline == plain_result.timeline
    assert result.summary == plain_result.summary
    kinds = {m[3] for f in frames for m in f["Messages"]}
    assert {"vote", "heartbeat"} & kinds
    tap.close()
    assert watched.cluster.send_taps == []


def test_live_view_stops_tapping_when_nobody_watches() -> None:
    from autopilot_sim.web.view import WATCH_SECONDS, LiveView

    clock = FakeClock()
    live = LiveSimulation(scenario(), paused=True, clock=clock)
    live.run_until(2 * SECOND)
    view = LiveView(live, clock=clock)
    assert view.watch(timeout=0) is None  # no thread running and no frame yet: no wait, no frame
    live._publish()
    assert view.frame is not None and live.sim.cluster.send_taps
    clock.advance(WATCH_SECONDS + 1)
    live._publish()
    assert live.sim.cluster.send_taps == []


def _run_dir(tmp_path: Path, sc_text_events: str = "- {at: 8s, crash: leader}") -> Path:
    out = tmp_path / "run"
    result = Simulation(scenario(servers=5, duration="40s", events=sc_text_events)).run()
    result.write(out)
    return out


def test_replay_reproduces_the_run_and_scrubs_deterministically(tmp_path: Path) -> None:
    out = _run_dir(tmp_path)
    model = ReplayModel(out)
    model.simulate()
    assert model.reproduced and model.note == ""
    assert len(model.frames) == 401  # every 100 ms from 0 to 40 s
    api = ReplayApi(model)
    timeline = [json.loads(line) for line in (out / "timeline.jsonl").read_text().splitlines()]
    at = 20 * SECOND + 123
    answer = json.loads(api.handle("GET", f"/v1/sim/view?at={at}", {}, None).body)
    expected = [line for line in timeline if line["t_ns"] <= at][-1]
    assert answer["Health"]["status"] == expected["status"]
    assert json.loads(answer["Health"]["text"]) == expected["health"]
    assert answer["Frame"]["TimeNs"] == 20 * SECOND
    down = [s for s in answer["Frame"]["Servers"] if not s["Up"]]
    assert len(down) == 1  # the crashed leader
    # back and forth: the same answer every time
    early = api.handle("GET", "/v1/sim/view?at=1000", {}, None).body
    assert json.loads(api.handle("GET", f"/v1/sim/view?at={at}", {}, None).body) == answer
    assert api.handle("GET", "/v1/sim/view?at=1000", {}, None).body == early
    assert api.handle("GET", "/v1/sim/view?at=-1", {}, None).status == 400
    meta = json.loads(api.handle("GET", "/v1/sim/replay", {}, None).body)
    assert meta["Reproduced"] and len(meta["Timeline"]) == len(timeline) and meta["EndNs"] == 40 * SECOND
    assert api.handle("POST", "/v1/sim/view", {}, b"{}").status == 405
    assert api.handle("GET", "/ui/", {}, None).status == 200


def test_replay_says_when_the_files_differ_from_the_re_simulation(tmp_path: Path) -> None:
    out = _run_dir(tmp_path)
    lines = (out / "timeline.jsonl").read_text().splitlines()
    edited = json.loads(lines[3])
    edited["health"]["FailureTolerance"] = 7
    lines[3] = json.dumps(edited)
    (out / "timeline.jsonl").write_text("\n".join(lines) + "\n")
    model = ReplayModel(out)
    model.simulate()
    assert not model.reproduced and "differ" in model.note
    health = model.health_at(edited["t_ns"])
    assert json.loads(health["text"])["FailureTolerance"] == 7  # the files are what is shown


def test_view_command_rejects_a_directory_that_is_not_a_run(tmp_path: Path, capsys) -> None:
    from autopilot_sim.cli import main

    assert main(["view", str(tmp_path)]) == 2
    assert "not a run directory" in capsys.readouterr().err
    assert main(["view", str(tmp_path), "--interval", "soon"]) == 2


def test_replay_of_a_served_session_applies_its_api_commands(tmp_path: Path) -> None:
    sc = scenario(servers=3, duration="30s")
    with served(sc, start_at="4s", paused=True, end=None) as server:
        raw = Raw(server)
        raw.json("POST", "/v1/sim/events", {"crash": "leader"})
        raw.json("POST", "/v1/sim/step?by=5s")
        raw.json("POST", "/v1/sim/events", {"partition": [["node1"]]})
        raw.json("POST", "/v1/sim/step?by=3s")
        raw.close()
    out = tmp_path / "served"
    server.live.result().write(out)
    model = ReplayModel(out)
    model.simulate()
    assert model.reproduced
    at_end = model.frame_at(12 * SECOND)
    assert at_end is not None and sum(1 for s in at_end["Servers"] if not s["Up"]) == 1
    assert at_end["Blocked"]  # the partition
