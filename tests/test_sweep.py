"""Sweeps: the plan, identical records on every backend, resume, failing runs, summary.csv."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from autopilot_sim.cli import main
from autopilot_sim.sweep import SweepError, sweep
from autopilot_sim.sweep.flatten import flatten_summary
from autopilot_sim.sweep.plan import (
    PlanError,
    combinations,
    parse_set,
    plan,
    seeds_for,
    split_values,
)

#: A small, fast scenario: a follower crash in a 3-server cluster, removed after serf's verdict.
SCENARIO_TEXT = """version: 1
name: sweep-test
seed: 1
duration: 75s
cluster: {servers: 3}
load: {writes_per_second: 1}
events:
  - {at: 10s, crash: node3}
expect:
  - {at: 60s, voters: 2}
"""
SHORT = "duration=70s"


@pytest.fixture(scope="module")
def SCENARIO(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("scenario") / "sweep-test.yaml"
    path.write_text(SCENARIO_TEXT)
    return path


def _read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


# ------------------------------------------------------------------ plan


def test_split_values_keeps_commas_inside_brackets_and_quotes() -> None:
    assert split_values("1, 2,3") == ["1", "2", "3"]
    assert split_values("{distribution: constant, value: 2ms},[a, b],'x,y'") == [
        "{distribution: constant, value: 2ms}", "[a, b]", "'x,y'"]


def test_parse_set_errors_name_the_option() -> None:
    assert parse_set("a.b=1,2") == ("a.b", ["1", "2"])
    with pytest.raises(PlanError, match=r"^--set a\.b: expected KEY=VALUE"):
        parse_set("a.b")
    with pytest.raises(PlanError, match=r"^--set a\.b=1,,2: empty value"):
        parse_set("a.b=1,,2")
    with pytest.raises(PlanError, match="listed twice"):
        parse_set("a=1,1")
    with pytest.raises(PlanError, match="use --seed ROOT"):
        parse_set("seed=1,2")
    with pytest.raises(PlanError, match="empty segment"):
        parse_set("a..b=1")


def test_grid_and_zip() -> None:
    sets = [("a", ["1", "2"]), ("b", ["x", "y", "z"])]
    assert len(combinations(sets, "grid")) == 6
    assert combinations(sets, "grid")[:2] == [(("a", "1"), ("b", "x")), (("a", "1"), ("b", "y"))]
    with pytest.raises(PlanError, match="--zip needs the same number of values"):
        combinations(sets, "zip")
    assert combinations([("a", ["1", "2"]), ("b", ["x", "y"])], "zip") == [
        (("a", "1"), ("b", "x")), (("a", "2"), ("b", "y"))]
    assert combinations([], "grid") == [()]


def test_seeds_derive_from_the_root_seed_and_are_shared_by_combinations() -> None:
    assert seeds_for(7, 3) == seeds_for(7, 5)[:3]  # more seeds extend the list
    assert seeds_for(7, 3) != seeds_for(8, 3)
    runs = plan([("a", ["1", "2"])], 3, 7)
    assert [r.seed for r in runs[:3]] == [r.seed for r in runs[3:]] == seeds_for(7, 3)
    assert len({r.key for r in runs}) == 6


def test_flatten_down_episodes() -> None:
    summary = {"seed": 1, "scenario": "x", "duration": "1m0s", "duration_ns": 60 * 10**9,
               "time_unhealthy": "2s", "time_unhealthy_s": 2.0, "messages": {"sent": 3},
               "expectations": [{"passed": True}, {"passed": False}],
               "down_episodes": [
                   {"server": "a", "at_s": 1.0, "serf_failed_after_s": 40.0, "removed_after_s": None},
                   {"server": "b", "at_s": 5.0, "serf_failed_after_s": 50.0, "removed_after_s": 9.0}]}
    flat = flatten_summary(summary)
    assert "duration" not in flat and "time_unhealthy" not in flat and "seed" not in flat
    assert flat["duration_s"] == 60.0 and flat["messages_sent"] == 3
    assert flat["down_episodes"] == 2
    assert flat["down_episodes_first_serf_failed_after_s"] == 40.0
    assert flat["down_episodes_max_serf_failed_after_s"] == 50.0
    assert flat["down_episodes_first_removed_after_s"] is None
    assert flat["down_episodes_max_removed_after_s"] == 9.0
    assert flat["expectations_failed"] == 1 and flat["expectation_failed"] is True
    empty = flatten_summary({"down_episodes": []})
    assert empty["down_episodes"] == 0 and empty["down_episodes_first_removed_after_s"] is None


# ------------------------------------------------------------------ runs


@pytest.fixture(scope="module")
def local_sweep(tmp_path_factory: pytest.TempPathFactory, SCENARIO: Path) -> Path:
    out = tmp_path_factory.mktemp("sweep") / "local"
    sweep(SCENARIO, seeds=3, sets=[SHORT, "gossip.suspicion_mult=4,6"], workers=2, out=out)
    return out


def test_sweep_directory(local_sweep: Path) -> None:
    records = _read(local_sweep / "runs.jsonl")
    assert len(records) == 6
    assert [(r["combination"], r["seed_index"]) for r in records] == [(c, i) for c in (0, 1) for i in range(3)]
    assert {r["gossip.suspicion_mult"] for r in records} == {"4", "6"}
    assert all(r["status"] in ("ok", "expectation_failed") and r["duration_s"] == 70.0 for r in records)
    meta = json.loads((local_sweep / "sweep.json").read_text())
    assert meta["root_seed"] == 1 and meta["seeds"] == 3 and meta["seed_values"] == seeds_for(1, 3)
    rows = list(csv.DictReader((local_sweep / "summary.csv").open()))
    removed = [r for r in rows if r["figure"] == "down_episodes_first_serf_failed_after_s"]
    assert [r["gossip.suspicion_mult"] for r in removed] == ["4", "6"]
    values = sorted(r["down_episodes_first_serf_failed_after_s"] for r in records
                    if r["gossip.suspicion_mult"] == "6" and r["down_episodes_first_serf_failed_after_s"] is not None)
    row = removed[1]
    assert int(row["runs"]) == 3 and int(row["count"]) == len(values)
    if values:
        assert float(row["max"]) == max(values)
    shares = {r["figure"]: r["share"] for r in rows if r["gossip.suspicion_mult"] == "4" and r["share"]}
    assert set(shares) >= {"run_failed", "quorum_lost", "expectation_failed"}


def test_one_worker_and_a_pool_give_identical_records(local_sweep: Path, SCENARIO: Path, tmp_path: Path) -> None:
    sweep(SCENARIO, seeds=3, sets=[SHORT, "gossip.suspicion_mult=4,6"], workers=1, out=tmp_path / "one")
    assert (tmp_path / "one" / "runs.jsonl").read_bytes() == (local_sweep / "runs.jsonl").read_bytes()
    assert (tmp_path / "one" / "summary.csv").read_bytes() == (local_sweep / "summary.csv").read_bytes()


def test_dask_local_cluster_gives_identical_records(local_sweep: Path, SCENARIO: Path, tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=40) as cluster:
        records = sweep(SCENARIO, seeds=3, sets=[SHORT, "gossip.suspicion_mult=4,6"],
                        scheduler=cluster.scheduler_address, out=tmp_path / "dask")
    assert records.executed == 6
    assert (tmp_path / "dask" / "runs.jsonl").read_bytes() == (local_sweep / "runs.jsonl").read_bytes()
    assert _read(tmp_path / "dask" / "runs.jsonl") == list(records)


def test_resume_skips_finished_runs(local_sweep: Path, SCENARIO: Path, tmp_path: Path) -> None:
    out = tmp_path / "resumed"
    first = sweep(SCENARIO, seeds=2, sets=[SHORT, "gossip.suspicion_mult=4,6"], workers=1, out=out)
    assert first.executed == 4
    # An interrupted sweep leaves a cut-off last line: that run is simply done again.
    with (out / "runs.jsonl").open("a") as f:
        f.write('{"key": "cut sh')
    again = sweep(SCENARIO, seeds=3, sets=[SHORT, "gossip.suspicion_mult=4,6"], workers=1, out=out, resume=True)
    assert again.executed == 2  # only seed index 2 of each combination
    assert (out / "runs.jsonl").read_bytes() == (local_sweep / "runs.jsonl").read_bytes()
    assert sweep(SCENARIO, seeds=3, sets=[SHORT, "gossip.suspicion_mult=4,6"], workers=1, out=out,
                 resume=True).executed == 0
    with pytest.raises(SweepError, match="not the same sweep"):
        sweep(SCENARIO, seeds=3, sets=[SHORT, "gossip.suspicion_mult=4,5"], workers=1, out=out, resume=True)
    with pytest.raises(SweepError, match="already holds a sweep"):
        sweep(SCENARIO, seeds=3, sets=[SHORT], workers=1, out=out)


def test_a_failing_run_is_recorded_and_the_others_go_on(tmp_path: Path, SCENARIO: Path) -> None:
    # cluster.servers=2 makes `crash: node3` name a server that does not exist (an error found
    # when the scenario is loaded); "abc" is a bad override value.
    records = sweep(SCENARIO, seeds=2, sets=[SHORT, "cluster.servers=abc,3,2"], workers=2, out=tmp_path / "f")
    by = {}
    for r in records:
        by.setdefault(r["cluster.servers"], []).append(r)
    assert [r["status"] for r in by["abc"]] == ["error", "error"]
    assert by["abc"][0]["error"].startswith("--set cluster.servers: expected a server count")
    assert by["abc"][0]["exit"] == 2 and by["abc"][0]["seed"] == seeds_for(1, 2)[0]
    assert all(r["status"] == "error" and "node3" in r["error"] for r in by["2"])
    assert all(r["status"] in ("ok", "expectation_failed") for r in by["3"])
    rows = list(csv.DictReader((tmp_path / "f" / "summary.csv").open()))
    failed = {r["cluster.servers"]: r["share"] for r in rows if r["figure"] == "run_failed"}
    assert failed == {"abc": "1.0", "3": "0.0", "2": "1.0"}


def test_cli(tmp_path: Path, SCENARIO: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cli"
    assert main(["sweep", str(SCENARIO), "--seeds", "2", "--set", SHORT, "--workers", "1", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "2 runs (2 run now, 0 already done)" in text and str(out) in text
    assert main(["sweep", str(SCENARIO), "--seeds", "2", "--set", "cluster.servers", "--out", str(tmp_path / "x")]) == 2
    assert "--set cluster.servers: expected KEY=VALUE" in capsys.readouterr().err
    assert main(["sweep", str(SCENARIO), "--seeds", "1", "--set", "cluster.servers=abc", "--set", SHORT,
                 "--workers", "1", "--out", str(tmp_path / "y")]) == 1
    assert "FAILED cluster.servers=abc, duration=70s" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["sweep", str(SCENARIO), "--seeds", "2", "--workers", "2", "--scheduler", "tcp://x:1"])


def test_plot_a_sweep_directory(local_sweep: Path, SCENARIO: Path, tmp_path: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("matplotlib")
    out = tmp_path / "plots"
    assert main(["plot", str(local_sweep), "-o", str(out)]) == 0
    names = {p.name for p in out.iterdir()}
    assert "down_episodes_first_serf_failed_after_s.png" in names
    assert "seed.png" not in names and "combination.png" not in names  # identity, not figures
    assert main(["plot", str(local_sweep), "-o", str(out), "--figure", "quorum_lost",
                 "--figure", "down_episodes_first_removed_after_s"]) == 0
    assert main(["plot", str(local_sweep), "--figure", "nope"]) == 2
    assert "no figure named nope" in capsys.readouterr().err
    # Seeds only: each figure as the distribution of its runs.
    sweep(SCENARIO, seeds=3, workers=1, out=tmp_path / "seeds")
    assert main(["plot", str(tmp_path / "seeds")]) == 0
    assert (tmp_path / "seeds" / "plots" / "down_episodes_first_serf_failed_after_s.png").is_file()


def test_a_sweep_record_is_the_standalone_run(local_sweep: Path, SCENARIO: Path) -> None:
    from autopilot_sim.scenario import load_scenario
    from autopilot_sim.sim.runner import Simulation

    record = _read(local_sweep / "runs.jsonl")[4]  # suspicion_mult 6, seed index 1
    assert record["gossip.suspicion_mult"] == "6"
    scenario = load_scenario(SCENARIO, overrides=[SHORT, "gossip.suspicion_mult=6"])
    summary = Simulation(scenario, seed=record["seed"]).run().summary
    flat = flatten_summary(summary)
    assert {k: record[k] for k in flat} == flat
