"""`validate` and `run` agree on what events may do to servers (scenario/lifecycle.py).

Each case goes through both commands: an error known before the run is the same located line
from both (exit 2, nothing run); a check only the run can make is a `note:` from `validate`, and
a failure there is reported by `run` in the same ``file:line:col: key: message`` form.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autopilot_sim.cli import main as cli_main

HEAD = "name: life\nduration: 1m\n"


def both(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str) -> tuple[tuple[int, str, str], tuple[int, str]]:
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    code = cli_main(["validate", str(path)])
    out, err = capsys.readouterr()
    validated = (code, out.replace(str(path), "s.yaml"), err.replace(str(path), "s.yaml"))
    code = cli_main(["run", str(path), "--out", str(tmp_path / "run"), "--quiet"])
    out, err = capsys.readouterr()
    return validated, (code, err.replace(str(path), "s.yaml"))


STATIC = {
    "restart_running": (
        "events:\n  - {at: 10s, restart: node1}\n",
        "s.yaml:4:24: events[0].restart: node1 is running at 10s; restart starts a server that crashed or "
        "left: crash it first"),
    "crash_follower_one_server": (
        "cluster: {servers: 1}\nevents:\n  - {at: 10s, crash: follower}\n",
        "s.yaml:5:22: events[0].crash: a cluster of one server has no follower at 10s: its only server is the "
        "leader (or a candidate); name the server instead"),
    "crash_twice": (
        "events:\n  - {at: 10s, crash: node2}\n  - {at: 20s, crash: node2}\n",
        "s.yaml:5:22: events[1].crash: node2 is not running at 20s: it crashed (events[0] crash at 10s); "
        "crash needs a running server"),
    "pause_left": (
        "events:\n  - {at: 10s, leave: node2}\n  - {at: 20s, pause: {server: node2, for: 1s}}\n",
        "s.yaml:5:31: events[1].pause.server: node2 is not running at 20s: it left the cluster (events[0] "
        "leave at 10s); pause needs a running server"),
    "join_running": (
        "events:\n  - {at: 10s, join: {name: node2}}\n",
        's.yaml:4:28: events[0].join.name: server "node2" is already running at 10s; a server joins under a '
        "name that is new or that left (leave event)"),
    "join_crashed": (
        "events:\n  - {at: 5s, crash: node2}\n  - {at: 10s, join: {name: node2}}\n",
        's.yaml:5:28: events[1].join.name: server "node2" crashed (events[0] crash at 5s) and is still a '
        "member at 10s: restart it (restart: node2) to bring it back, or join a new server under a new name"),
    "follower_index_too_high": (
        "events:\n  - {at: 10s, crash: 'follower[3]'}\n",
        "s.yaml:4:22: events[0].crash: follower[3] needs at least 4 running server(s) at 10s; at most 3 can "
        "be running then (node1, node2, node3)"),
    "leader_when_all_down": (
        "cluster: {servers: 1}\nevents:\n  - {at: 10s, crash: node1}\n  - {at: 20s, crash: leader}\n",
        "s.yaml:6:22: events[1].crash: leader needs at least 1 running server(s) at 20s; at most 0 can be "
        "running then (none)"),
}


@pytest.mark.parametrize("case", sorted(STATIC))
def test_known_before_the_run_same_error_from_validate_and_run(tmp_path, capsys, case):
    body, expected = STATIC[case]
    (v_code, _v_out, v_err), (r_code, r_err) = both(tmp_path, capsys, HEAD + body)
    assert (v_code, r_code) == (2, 2)
    assert v_err.splitlines()[0].startswith(expected), v_err
    assert r_err.splitlines()[0].startswith(expected), r_err
    assert v_err.splitlines()[0] == r_err.splitlines()[0]
    assert not (tmp_path / "run").exists()


def test_a_server_that_left_rejoins_under_its_name(tmp_path, capsys):
    text = HEAD + ("events:\n  - {at: 10s, leave: node3}\n  - {at: 30s, join: {name: node3}}\n"
                   "expect:\n  - at: 59s\n    servers:\n"
                   "      node3: {serf_status: alive, voter: true, healthy: true}\n")
    (v_code, v_out, _), (r_code, r_err) = both(tmp_path, capsys, text)
    assert (v_code, r_code) == (0, 0), r_err
    assert "note" not in v_out
    events = [json.loads(line) for line in (tmp_path / "run" / "events.jsonl").read_text().splitlines()]
    assert any(e["kind"] == "join" and e.get("server") == "node3" for e in events)


def test_a_server_that_left_restarts_with_its_data(tmp_path, capsys):
    text = HEAD + ("events:\n  - {at: 10s, leave: node3}\n  - {at: 11s, restart: node3}\n"
                   "expect:\n  - at: 59s\n    servers:\n      node3: {voter: true, healthy: true}\n")
    (v_code, _, _), (r_code, r_err) = both(tmp_path, capsys, text)
    assert (v_code, r_code) == (0, 0), r_err
    events = [json.loads(line) for line in (tmp_path / "run" / "events.jsonl").read_text().splitlines()]
    # At 11s the leave is still spreading: the operator's restart ends that process first.
    assert [e["message"] for e in events if e.get("server") == "node3" and e["kind"] in ("stopped", "restart")] == [
        "node3 stopped before it finished leaving", "node3 restarted with its persisted term and log"]


def test_role_targets_are_noted_and_fail_at_run_time_in_the_same_form(tmp_path, capsys):
    text = HEAD + "events:\n" + "".join(f"  - {{at: {t}s, crash: leader}}\n" for t in (10, 20, 30))
    (v_code, v_out, v_err), (r_code, r_err) = both(tmp_path, capsys, text)
    assert v_code == 0 and v_err == ""
    assert v_out.splitlines()[1:] == [
        f"  note: s.yaml:{4 + i}:22: events[{i}].crash: checked at run time: target `leader` is resolved when "
        f"the event fires at {t}s" for i, t in enumerate((10, 20, 30))]
    # Two of three servers down: no quorum, no leader at 30s.
    assert r_code == 2
    assert r_err == "s.yaml:6:22: events[2].crash: at 30s: there is no leader at this time\n"


def test_a_named_event_after_a_role_crash_is_noted(tmp_path, capsys):
    text = HEAD + "events:\n  - {at: 10s, crash: leader}\n  - {at: 20s, crash: node1}\n"
    (v_code, v_out, _), _ = both(tmp_path, capsys, text)
    assert v_code == 0
    assert ("  note: s.yaml:5:22: events[1].crash: checked at run time: node1 may not be running at 20s "
            "(an earlier event aimed at a role may have taken it down)") in v_out.splitlines()


def test_restart_of_a_role_needs_its_crash(tmp_path, capsys):
    (v_code, _, v_err), (r_code, r_err) = both(tmp_path, capsys, HEAD + "events:\n  - {at: 10s, restart: leader}\n")
    assert (v_code, r_code) == (2, 2)
    assert v_err.splitlines()[0] == r_err.splitlines()[0] == (
        's.yaml:4:24: events[0].restart: restart "leader" needs an earlier `crash: leader` to refer to (a crashed '
        "server has no role); or name the server")
