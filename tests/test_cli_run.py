"""The `run` command end to end: outputs, determinism across processes, located input errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from autopilot_sim.cli import main

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "scenarios" / "demo.yaml"


def run_cli(*args: str, hash_seed: str = "0") -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONHASHSEED=hash_seed)  # different string hashing per process
    return subprocess.run([sys.executable, "-m", "autopilot_sim", *args], capture_output=True, text=True,
                          cwd=REPO, env=env, check=False)


def test_run_writes_the_run_directory(tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert main(["run", str(DEMO), "--out", str(out), "--quiet"]) == 0
    for name in ("events.jsonl", "summary.json", "scenario.yaml", "timeline.jsonl"):
        assert (out / name).exists(), name
    summary = json.loads((out / "summary.json").read_text())
    assert summary["scenario"] == "demo" and summary["seed"] == 1
    assert summary["duration"] == "3m0s"
    assert summary["leaders_elected"] >= 2  # the first election and the one after the partition
    kinds = [json.loads(line)["kind"] for line in (out / "events.jsonl").read_text().splitlines()]
    assert kinds.count("crash") == 1 and kinds.count("restart") == 1 and "partition" in kinds
    assert "leader_stepped_down" in kinds  # the isolated leader loses its lease


def test_same_scenario_and_seed_are_byte_identical_across_processes(tmp_path: Path) -> None:
    outs = [tmp_path / "a", tmp_path / "b"]
    for out, hash_seed in zip(outs, ("1", "2"), strict=True):
        proc = run_cli("run", str(DEMO), "--out", str(out), "--quiet", "--seed", "7", hash_seed=hash_seed)
        assert proc.returncode == 0, proc.stderr
    for name in ("events.jsonl", "summary.json", "scenario.yaml", "timeline.jsonl"):
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name
    other = tmp_path / "c"
    assert run_cli("run", str(DEMO), "--out", str(other), "--quiet", "--seed", "8").returncode == 0
    assert (other / "events.jsonl").read_bytes() != (outs[0] / "events.jsonl").read_bytes()


def test_resolved_scenario_reproduces_the_run(tmp_path: Path) -> None:
    first = tmp_path / "first"
    assert main(["run", str(DEMO), "--out", str(first), "--quiet", "--seed", "3"]) == 0
    again = tmp_path / "again"
    assert main(["run", str(first / "scenario.yaml"), "--out", str(again), "--quiet"]) == 0
    assert (first / "events.jsonl").read_bytes() == (again / "events.jsonl").read_bytes()
    assert (first / "summary.json").read_bytes() == (again / "summary.json").read_bytes()


BAD = {
    "unknown_key": ("name: x\nduration: 1m\ncluster:\n  servers: 3\n  sever_count: 2\n",
                    ["bad.yaml:5:", "cluster.sever_count", "unknown key"]),
    "bad_duration": ("name: x\nduration: 1m\nevents:\n  - {at: 10parsecs, crash: node1}\n",
                     ["bad.yaml:4:", "events[0].at", 'time: unknown unit "parsecs" in duration "10parsecs"']),
    "unknown_server": ("name: x\nduration: 1m\ncluster: {servers: 3}\nevents:\n  - {at: 10s, crash: node9}\n",
                       ["bad.yaml:5:", "events[0].crash", "node9"]),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_scenario_exits_2_with_file_line_and_key(tmp_path: Path, case: str, capsys) -> None:
    text, needles = BAD[case]
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    assert main(["run", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    for needle in needles:
        assert needle in err, (needle, err)
    assert not (tmp_path / "out").exists()  # nothing half-written


def test_bad_until_is_a_usage_error(capsys) -> None:
    assert main(["run", str(DEMO), "--until", "5 minutes"]) == 2
    assert 'time: unknown unit " minutes"' in capsys.readouterr().err


def test_runtime_target_error_names_line_and_time(tmp_path: Path, capsys) -> None:
    # Crashing a server twice is known before the run: the same located error as `validate`.
    path = tmp_path / "s.yaml"
    path.write_text("name: x\nduration: 1m\ncluster: {servers: 3}\nevents:\n"
                    "  - {at: 10s, crash: node1}\n  - {at: 20s, crash: node1}\n")
    assert main(["run", str(path), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{path}:6:22: events[1].crash: node1 is not running at 20s: it crashed "
                          "(events[0] crash at 10s)")
    # Who leads at 30s only the run knows: the error then has the same form.
    path.write_text("name: x\nduration: 1m\ncluster: {servers: 3}\nevents:\n"
                    "  - {at: 10s, crash: leader}\n  - {at: 20s, crash: leader}\n  - {at: 30s, crash: leader}\n")
    assert main(["run", str(path), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err == f"{path}:7:22: events[2].crash: at 30s: there is no leader at this time\n"


def test_explain_prints_the_story_of_a_run_directory(tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    assert main(["run", str(DEMO), "--out", str(out), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["explain", str(out)]) == 0
    text = capsys.readouterr().out
    assert "crashed" in text and "elected leader" in text and "time without a leader" in text
    assert main(["explain", str(tmp_path / "missing")]) == 2
    assert "not a run directory" in capsys.readouterr().err


def test_set_override_changes_the_run(tmp_path: Path) -> None:
    base, changed = tmp_path / "base", tmp_path / "changed"
    assert main(["run", str(DEMO), "--out", str(base), "--quiet", "--until", "20s"]) == 0
    assert main(["run", str(DEMO), "--out", str(changed), "--quiet", "--until", "20s",
                 "--set", "cluster.servers=3", "--set", "autopilot.server_stabilization_time=30s"]) == 0
    resolved = (changed / "scenario.yaml").read_text()
    assert "server_stabilization_time: 30s" in resolved
    first = json.loads((changed / "timeline.jsonl").read_text().splitlines()[-1])
    assert len(first["health"]["Servers"]) == 3
    assert json.loads((base / "timeline.jsonl").read_text().splitlines()[-1])["health"]["FailureTolerance"] == 2


def test_bad_set_override_is_a_located_error(tmp_path: Path, capsys) -> None:
    out = str(tmp_path / "o")
    assert main(["run", str(DEMO), "--out", out, "--set", "autopilot.server_stabilization_time=ten"]) == 2
    err = capsys.readouterr().err
    assert "--set autopilot.server_stabilization_time" in err and 'time: invalid duration "ten"' in err
    assert main(["run", str(DEMO), "--out", str(tmp_path / "o"), "--set", "autopilot.stabilisation=1s"]) == 2
    assert "did you mean" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_raft_only_simulation_handles_crash_and_restart() -> None:
    from autopilot_sim.scenario import load_scenario
    from autopilot_sim.sim.runner import Simulation

    result = Simulation(load_scenario(DEMO), nomad=False).run()
    kinds = [e["kind"] for e in result.recorder.events]
    assert "crash" in kinds and "restart" in kinds and result.timeline == []


@pytest.mark.parametrize("make, message", [
    (lambda tmp: (tmp / "afile").write_text("x") and tmp / "afile", "exists and is not a directory"),
    (lambda tmp: (tmp / "afile").write_text("x") and tmp / "afile" / "sub", "afile is not a directory"),
])
def test_an_out_path_that_cannot_be_a_directory_is_refused_before_running(tmp_path: Path, capsys,
                                                                         make, message) -> None:
    out = make(tmp_path)
    assert main(["run", str(DEMO), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"autopilot-sim run: --out {out}: ") and message in err
    assert "simulated" not in err  # nothing was run


def test_a_run_directory_that_cannot_be_written_is_a_clear_error(tmp_path: Path, capsys, monkeypatch) -> None:
    from autopilot_sim.sim import runner

    def fail(self, out):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(runner.RunResult, "write", fail)
    assert main(["run", str(DEMO), "--out", str(tmp_path / "o"), "--quiet", "--until", "5s"]) == 2
    assert "cannot write the run directory" in capsys.readouterr().err
