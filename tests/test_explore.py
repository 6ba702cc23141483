"""Explore: the budget grammar, plans within it, the properties, shrinking to a planted fault, the
failure files, byte-identical explorations on every backend, the command's exit status."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

from autopilot_sim.cli import main
from autopilot_sim.durations import SECOND
from autopilot_sim.explore import BudgetError, ExploreError, PropertyError, explore, parse_budget, parse_properties
from autopilot_sim.explore.faults import Fault, plan_conflict
from autopilot_sim.explore.generate import Space, draw_plan, run_seed
from autopilot_sim.explore.properties import Property, check
from autopilot_sim.explore.worker import FAILED, INVALID, PASSED, Context, evaluate, shrink
from autopilot_sim.scenario import load_scenario, load_scenario_text

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
#: Three servers for a minute: small and fast (a run is ~0.05 s of wall time).
SCENARIO_TEXT = """version: 1
name: explore-test
seed: 1
duration: 1m
cluster: {servers: 3}
load: {writes_per_second: 1}
"""


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("scenario") / "explore-test.yaml"
    path.write_text(SCENARIO_TEXT, encoding="utf-8")
    return path


def ctx_for(path: Path, *props: str, droppable: tuple[str, ...] = ()) -> Context:
    return Context(path.read_text(encoding="utf-8"), str(path), ("safety", *props), 10 * SECOND, 60 * SECOND,
                   1 * SECOND, 0.01, droppable)


# ----------------------------------------------------------------------------------- budget


def test_budget_parses_every_term_and_writes_the_defaults_out() -> None:
    b = parse_budget("crash<=2, partition<=1, down_for<=90s, loss<=0.2")
    assert b.counts == {"crash": 2, "pause": 0, "partition": 1, "cut": 0, "loss": 1}
    assert (b.down_min, b.down_max, b.loss_max, b.start, b.end) == (SECOND, 90 * SECOND, 0.2, 10 * SECOND, None)
    assert b.canonical() == ("crash<=2, pause<=0, partition<=1, cut<=0, loss_windows<=1, faults<=4, "
                             "down_for>=1s, down_for<=1m30s, loss>=0.01, loss<=0.2, start>=10s")
    b = parse_budget("pause<=3,faults<=2,down_for>=5s,down_for<=20s,start>=15s,end<=50s,cut<=1")
    assert (b.max_faults, b.down_min, b.down_max, b.start, b.end) == (2, 5 * SECOND, 20 * SECOND, 15 * SECOND,
                                                                       50 * SECOND)


@pytest.mark.parametrize("text, message", [
    ("crash<=2, partiton<=1", "--budget: term 2 'partiton<=1' (column 11): unknown key \"partiton\" "
                              "(did you mean \"partition\"?); valid keys: crash, pause, partition, cut, loss_windows, "
                              "faults, down_for, loss, start, end"),
    ("crash=2", "--budget: term 1 'crash=2' (column 1): \"=\": write crash<=VALUE"),
    ("crash 2", "--budget: term 1 'crash 2' (column 1): no operator: write crash<=VALUE"),
    ("start<=5s", "--budget: term 1 'start<=5s' (column 1): \"<=\": write start>=VALUE"),
    ("crash<=two", "--budget: term 1 'crash<=two' (column 1): crash needs a whole number of faults (0 or more), "
                   "got 'two'"),
    ("crash<=1, down_for<=90", "--budget: term 2 'down_for<=90' (column 11): down_for needs a Go duration such "
                               "as 90s or 1m30s, got '90'"),
    ("loss<=1.5", "--budget: term 1 'loss<=1.5' (column 1): loss needs a probability between 0 and 1 "
                  "(exclusive), got '1.5'"),
    ("crash<=1, crash<=2", "--budget: term 2 'crash<=2' (column 11): crash<= is given twice (also term 1)"),
    ("crash<=1,,pause<=1", "--budget: term 2 '' (column 10): empty term (two commas in a row, or a trailing comma)"),
    ("crash<=", "--budget: term 1 'crash<=' (column 1): crash<= needs a value"),
    ("", "--budget is empty"),
    ("crash<=0, down_for<=9s", "--budget allows no fault"),
    ("crash<=1, down_for>=2m", "--budget: down_for>=2m is longer than the default down_for<=1m0s"),
    ("crash<=1, down_for>=20s, down_for<=10s", "--budget: down_for>=20s is longer than down_for<=10s"),
    ("crash<=1, start>=30s, end<=20s", "--budget: start>=30s is not before end<=20s"),
])
def test_budget_errors_name_the_term_and_what_is_valid(text: str, message: str) -> None:
    with pytest.raises(BudgetError) as info:
        parse_budget(text)
    assert str(info.value).startswith(message)


def test_budget_must_fit_the_scenario() -> None:
    with pytest.raises(BudgetError, match=r"end<=2m0s is after the scenario's end \(1m0s\)"):
        parse_budget("crash<=1, end<=2m").for_duration(60 * SECOND)
    with pytest.raises(BudgetError, match="no fault fits"):
        parse_budget("crash<=1, start>=55s, down_for>=10s").for_duration(60 * SECOND)


def test_properties_parse_with_safety_first_and_errors_say_what_is_valid() -> None:
    assert [p.label for p in parse_properties(["leaderless<=10s", "no-quorum-loss"])] == [
        "safety", "leaderless<=10s", "no-quorum-loss"]
    assert [p.label for p in parse_properties([])] == [
        "safety", "no-quorum-loss", "no-healthy-server-removed", "expect"]
    for text, message in [("leaderles<=1s", 'unknown property (did you mean "leaderless"?)'),
                          ("leaderless", "leaderless needs a bound, e.g. leaderless<=30s"),
                          ("no-quorum-loss<=3s", "no-quorum-loss takes no bound"),
                          ("alert-fires<=soon", "the bound must be a Go duration")]:
        with pytest.raises(PropertyError, match=re.escape(message)):
            parse_properties([text])
    with pytest.raises(PropertyError, match="given twice"):
        parse_properties(["expect", "expect"])


# ------------------------------------------------------------------------------------ plans


def test_plans_stay_within_the_budget_and_do_not_depend_on_how_many_are_drawn() -> None:
    budget = parse_budget("crash<=2, pause<=1, partition<=1, cut<=1, loss<=0.2, down_for>=2s, down_for<=30s, "
                          "faults<=4").for_duration(120 * SECOND)
    space = Space(("node1", "node2", "node3", "node4", "node5"), budget, budget.start, 120 * SECOND)
    kinds_seen = set()
    for i in range(1, 200):
        faults = draw_plan(7, i, space)
        assert faults == draw_plan(7, i, space)
        assert 1 <= len(faults) <= 4
        assert plan_conflict(faults, space.start, space.end) is None
        for kind, most in budget.counts.items():
            assert sum(1 for f in faults if f.kind == kind) <= most
        for f in faults:
            kinds_seen.add(f.kind)
            assert 2 * SECOND <= f.length <= 30 * SECOND and f.at >= 10 * SECOND and f.end <= 120 * SECOND
            assert f.kind != "loss" or 0.01 <= f.loss <= 0.2
            assert Fault.from_json(f.to_json()) == f
    assert kinds_seen == {"crash", "pause", "partition", "cut", "loss"}
    assert draw_plan(8, 1, space) != draw_plan(7, 1, space)
    assert run_seed(7, 1) != run_seed(7, 2)


# ------------------------------------------------------------------------------- properties


def _result(events: list[dict[str, Any]], error: str | None = None, timeline: Any = (),
            summary: dict[str, Any] | None = None) -> Any:
    for e in events:
        e.setdefault("t", "")
    return SimpleNamespace(recorder=SimpleNamespace(events=events), error=error, timeline=list(timeline),
                           failed_expectations=[], summary={"duration_ns": 100 * SECOND, **(summary or {})})


def test_a_safety_violation_is_reported_not_raised() -> None:
    result = _result([{"t_ns": 5 * SECOND, "kind": "safety_violation"}], error="two leaders in term 3")
    [v] = check([Property("safety")], result, ["node1"])
    assert (v.prop, v.t_ns) == ("safety", 5 * SECOND) and "two leaders in term 3" in v.detail


def test_removing_a_server_counts_only_when_it_was_up_and_reachable() -> None:
    servers = ["node1", "node2", "node3"]
    prop = [Property("no-healthy-server-removed")]
    elected = {"t_ns": 1, "kind": "leader_elected", "server": "node1"}
    removal = {"t_ns": 50 * SECOND, "kind": "removal", "server": "node3", "rule": "failed voter"}
    cut_off = {"t_ns": 10 * SECOND, "kind": "partition", "groups": [["node3"]]}
    healed = {"t_ns": 40 * SECOND, "kind": "heal"}
    crashed = {"t_ns": 10 * SECOND, "kind": "crash", "server": "node3"}
    paused = {"t_ns": 10 * SECOND, "kind": "pause", "server": "node3", "duration": "1m"}
    gossip_cut = {"t_ns": 10 * SECOND, "kind": "cut", "source": "node3", "target": "node1", "traffic": "gossip"}
    assert check(prop, _result([dict(elected), dict(cut_off), dict(removal)]), servers) == []
    assert check(prop, _result([dict(elected), dict(crashed), dict(removal)]), servers) == []
    assert check(prop, _result([dict(elected), dict(paused), dict(removal)]), servers) == []
    assert check(prop, _result([dict(elected), dict(gossip_cut), dict(removal)]), servers) == []
    [v] = check(prop, _result([dict(elected), dict(cut_off), dict(healed), dict(removal)]), servers)
    assert v.detail == ("autopilot on node1 removed node3 at 50s (failed voter) while node3 was running and "
                        "reachable")


def test_a_server_back_from_an_upgrade_is_up_again() -> None:
    prop = [Property("no-healthy-server-removed")]
    events = [{"t_ns": 1, "kind": "leader_elected", "server": "node1"},
              {"t_ns": 10 * SECOND, "kind": "crash", "server": "node3", "cause": "stop"},
              {"t_ns": 20 * SECOND, "kind": "upgrade", "server": "node3"},
              {"t_ns": 30 * SECOND, "kind": "removal", "server": "node3", "rule": "failed voter"}]
    [v] = check(prop, _result(events), ["node1", "node2", "node3"])
    assert v.t_ns == 30 * SECOND


def test_alert_fires_only_asks_for_an_alert_on_outages_longer_than_the_bound() -> None:
    prop = [Property("alert-fires", 20 * SECOND)]
    episode = {"server": "node2", "cause": "crash", "at_s": 10.0, "ended_s": 40.0}
    ok = [{"t_ns": 12 * SECOND, "status": 200}, {"t_ns": 25 * SECOND, "status": 429}]
    late = [{"t_ns": 12 * SECOND, "status": 200}, {"t_ns": 31 * SECOND, "status": 429}]
    assert check(prop, _result([], timeline=ok, summary={"down_episodes": [episode]}), []) == []
    [v] = check(prop, _result([], timeline=late, summary={"down_episodes": [episode]}), [])
    assert v.prop == "alert-fires<=20s" and v.t_ns == 30 * SECOND
    short = {**episode, "ended_s": 25.0}
    assert check(prop, _result([], timeline=late, summary={"down_episodes": [short]}), []) == []


def test_a_plan_that_cannot_be_carried_out_is_invalid_not_an_error(scenario: Path) -> None:
    ctx = ctx_for(scenario, "no-quorum-loss")
    outcome = evaluate(ctx, [Fault("crash", 100_000_000, SECOND, server="leader")], 5)
    assert outcome.status == INVALID and "there is no leader at this time" in (outcome.error or "")


# -------------------------------------------------------------------------------- shrinking

PLANTED = Fault("partition", 30 * SECOND, 15 * SECOND, groups=(("node1",), ("node2",)))
NOISE = [Fault("loss", 12 * SECOND, 10 * SECOND, loss=0.05),
         Fault("pause", 14 * SECOND, 2 * SECOND, server="node3"),
         Fault("cut", 50 * SECOND, 5 * SECOND, from_="node2", to="node3", traffic="gossip")]


def test_shrinking_finds_the_single_planted_fault(scenario: Path) -> None:
    """Every server alone loses the quorum; the loss window, the short pause and the gossip cut
    do not. Shrinking keeps the partition only, as short and as early as the budget allows."""
    ctx = ctx_for(scenario, "no-quorum-loss")
    plan = [NOISE[0], NOISE[1], PLANTED, NOISE[2]]
    assert evaluate(ctx, plan, 11).fails("no-quorum-loss")
    for fault in NOISE:
        assert evaluate(ctx, [fault], 11).status == PASSED
    faults, dropped, runs = shrink(ctx, plan, 11, "no-quorum-loss")
    assert dropped == ()
    assert faults == [PLANTED.with_(at=10 * SECOND, length=1 * SECOND)]
    assert evaluate(ctx, faults, 11).fails("no-quorum-loss")
    assert 0 < runs <= ctx.max_runs


def test_shrinking_never_returns_a_plan_that_passes(scenario: Path) -> None:
    """Whatever the property and plan, the result was run and failed (checked again here)."""
    ctx = ctx_for(scenario, "no-quorum-loss", "leaderless<=2s", droppable=("node1", "node2", "node3"))
    plans = [[PLANTED, NOISE[2]], [Fault("crash", 20 * SECOND, 30 * SECOND, server="leader"), NOISE[0]]]
    for plan in plans:
        outcome = evaluate(ctx, plan, 3)
        assert outcome.status == FAILED
        for v in outcome.violations:
            faults, dropped, _ = shrink(ctx, plan, 3, v.prop)
            assert evaluate(ctx, faults, 3, dropped).fails(v.prop), (plan, v.prop, faults, dropped)


def test_shrinking_leaves_out_two_servers_at_a_time_but_never_one_a_fault_names(tmp_path: Path) -> None:
    """Three servers each alone (of five) lose the quorum; of three, too. The two servers no
    fault names go; a cluster never shrinks below three."""
    path = tmp_path / "five.yaml"
    path.write_text(SCENARIO_TEXT.replace("servers: 3", "servers: 5"), encoding="utf-8")
    ctx = ctx_for(path, "no-quorum-loss", droppable=("node1", "node2", "node3", "node4", "node5"))
    planted = Fault("partition", 10 * SECOND, 1 * SECOND, groups=(("node1",), ("node2",), ("node3",)))
    faults, dropped, _ = shrink(ctx, [planted], 11, "no-quorum-loss")
    assert (faults, dropped) == ([planted], ("node5", "node4"))
    assert evaluate(ctx, faults, 11, dropped).fails("no-quorum-loss")


def test_servers_are_left_out_only_when_the_scenario_aims_at_none() -> None:
    from autopilot_sim.explore.core import fault_servers

    demo = load_scenario(SCENARIOS / "demo.yaml")  # crash: follower, partition: [[leader]]
    assert fault_servers(demo) == (["node1", "node2", "node3", "node4", "node5"], [])
    stale = load_scenario(SCENARIOS / "stale-suspicion-removal.yaml")  # names node1 and node4
    assert fault_servers(stale) == (["node1", "node2", "node3", "node4", "node5"], [])
    crash = load_scenario(SCENARIOS / "follower-crash-cleanup.yaml")  # crash: node5
    assert fault_servers(crash)[0] == ["node1", "node2", "node3", "node4"]
    rolling = load_scenario_text(
        SCENARIO_TEXT + "events:\n  - {at: 20s, rolling_restart: {servers: all, interval: 5s, down_for: 2s}}\n")
    assert fault_servers(rolling)[1] == []  # a smaller cluster would be another rolling restart
    loaded = load_scenario_text(SCENARIO_TEXT + "events:\n  - {at: 20s, set_load: {writes_per_second: 5}}\n")
    assert fault_servers(loaded)[1] == ["node1", "node2", "node3"]


# ----------------------------------------------------------------------------- exploration

BUDGET = "crash<=1, loss<=0.05, down_for>=30s, down_for<=40s"


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def explored(scenario: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    out = tmp_path_factory.mktemp("explore") / "serial"
    found = explore(scenario, budget=BUDGET, plans=6, properties=["alert-fires<=20s"], workers=1, out=out,
                    root_seed=4)
    return found, out


def test_a_follower_crash_that_must_break_alert_fires_is_found_and_shrunk_to_it(explored: tuple[Any, Path]) -> None:
    """A follower down for 30 s or more: serf needs longer than 20 s to call it failed, so the
    health endpoint answers 200 throughout (a leader crash gives a 500 at once). Every failing
    plan shrinks to that one crash, at the earliest time the budget allows, on a smaller
    cluster when that still fails."""
    found, _out = explored
    assert [f.index for f in found.failures] == [4]  # node3 down 37.6 s, with a loss window beside it
    assert len(found.plans[4]["faults"]) == 2
    for f in found.failures:
        assert f.target == "alert-fires<=20s"
        [fault] = f.faults
        assert fault["kind"] == "crash" and fault["for"] == "30s" and fault["at"] == "10s"
    assert [c.faults for c in found.classes] == ["crash"]
    planned = [r for r in found.results if r["plan"] > 0]
    assert {r["plan"] for r in planned if r["status"] == FAILED} == {f.index for f in found.failures}


def test_failure_files_are_scenarios_that_run_and_still_fail(explored: tuple[Any, Path],
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    from autopilot_sim.sim.runner import Simulation

    found, out = explored
    for f in found.failures:
        stem = f"{f.index:03d}"
        path = out / "failures" / f"{stem}.yaml"
        scenario = load_scenario(path)
        result = Simulation(scenario).run()
        servers = [s.name for s in scenario.cluster.servers]
        assert [v.prop for v in check([Property("alert-fires", 20 * SECOND)], result, servers)] == ["alert-fires<=20s"]
        assert (out / "failures" / f"{stem}.png").read_bytes().startswith(b"\x89PNG")
        md = (out / "failures" / f"{stem}.md").read_text(encoding="utf-8")
        assert md.startswith(f"# Failure {stem}: alert-fires<=20s") and f.story in md
        header = path.read_text(encoding="utf-8").split("\nversion: 1\n")[0]
        assert "breaks alert-fires<=20s" in header and "# Check:" in header
    first = f"{found.failures[0].index:03d}"
    assert main(["explore", str(out / "failures" / f"{first}.yaml"), "--plans", "0", "--property",
                 "alert-fires<=20s", "--workers", "1", "--quiet", "--out", str(out.parent / "check")]) == 1
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "| 1 | alert-fires<=20s | crash |" in report
    assert capsys.readouterr().out


def test_the_same_seed_gives_the_same_files_on_a_process_pool(explored: tuple[Any, Path], scenario: Path) -> None:
    _found, serial = explored
    pooled = serial.parent / "pool"
    explore(scenario, budget=BUDGET, plans=6, properties=["alert-fires<=20s"], workers=2, out=pooled, root_seed=4)
    assert _files(pooled) == _files(serial)
    other = serial.parent / "other-seed"
    explore(scenario, budget=BUDGET, plans=6, properties=["alert-fires<=20s"], workers=1, out=other, root_seed=5)
    assert (other / "plans.jsonl").read_bytes() != (serial / "plans.jsonl").read_bytes()


def test_the_same_seed_gives_the_same_files_on_dask(explored: tuple[Any, Path], scenario: Path) -> None:
    distributed = pytest.importorskip("distributed")
    _, serial = explored
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=40) as cluster:
        explore(scenario, budget=BUDGET, plans=6, properties=["alert-fires<=20s"], out=serial.parent / "dask",
                scheduler=cluster.scheduler_address, root_seed=4)
    assert _files(serial.parent / "dask") == _files(serial)


def test_plans_and_results_are_recorded(explored: tuple[Any, Path]) -> None:
    import json

    _found, out = explored
    plans = [json.loads(line) for line in (out / "plans.jsonl").read_text(encoding="utf-8").splitlines()]
    results = [json.loads(line) for line in (out / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [p["plan"] for p in plans] == [r["plan"] for r in results] == list(range(7))
    assert plans[0]["faults"] == [] and plans[0]["seed"] == 1
    for p in plans[1:]:
        assert p["events"] and all("at" in e for e in p["events"])
        assert yaml.safe_load(yaml.safe_dump(p["events"])) == p["events"]
    meta = json.loads((out / "explore.json").read_text(encoding="utf-8"))
    assert meta["budget"].startswith("crash<=1, pause<=0") and meta["properties"] == ["safety", "alert-fires<=20s"]


# ---------------------------------------------------------------------------------- the CLI


def test_exit_status_zero_when_nothing_breaks_one_when_something_does(scenario: Path, tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explore", str(scenario), "--plans", "2", "--budget", "pause<=1, down_for<=2s",
                 "--property", "no-quorum-loss", "--workers", "1", "--quiet", "--out", str(tmp_path / "ok")]) == 0
    assert "0 plans broke a property" in capsys.readouterr().out
    # plan 4 of root seed 4 crashes node3 for 37.6 s (see the `explored` fixture)
    assert main(["explore", str(scenario), "--plans", "4", "--budget", BUDGET, "--property", "alert-fires<=20s",
                 "--workers", "1", "--quiet", "--seed", "4", "--out", str(tmp_path / "bad")]) == 1
    out = capsys.readouterr().out
    assert "1 plans broke a property" in out and "alert-fires<=20s  crash" in out


@pytest.mark.parametrize("argv, message", [
    (["--budget", "crash<=1, partiton<=1"], 'unknown key "partiton"'),
    (["--property", "leaderless"], "leaderless needs a bound"),
    (["--plans", "-1"], "--plans must be 0 or more"),
    (["--budget", "crash<=1, end<=5m"], "is after the scenario's end"),
])
def test_bad_input_exits_2_with_the_reason(scenario: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                           argv: list[str], message: str) -> None:
    args = ["explore", str(scenario), "--plans", "1", "--out", str(tmp_path / "x"), *argv]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and not (tmp_path / "x" / "results.jsonl").exists()


def test_keep_servers_leaves_the_cluster_whole(tmp_path: Path) -> None:
    import json

    path = tmp_path / "five.yaml"
    path.write_text(SCENARIO_TEXT.replace("servers: 3", "servers: 5"), encoding="utf-8")
    assert main(["explore", str(path), "--plans", "0", "--workers", "1", "--quiet", "--property", "safety",
                 "--out", str(tmp_path / "whole"), "--keep-servers"]) == 0
    meta = json.loads((tmp_path / "whole" / "explore.json").read_text(encoding="utf-8"))
    assert meta["keep_servers"] is True and meta["droppable_servers"] == []
    explore(path, plans=0, properties=["safety"], workers=1, out=tmp_path / "shrinkable")
    meta = json.loads((tmp_path / "shrinkable" / "explore.json").read_text(encoding="utf-8"))
    assert meta["droppable_servers"] == ["node1", "node2", "node3", "node4", "node5"]


def test_an_existing_exploration_is_not_overwritten(scenario: Path, tmp_path: Path) -> None:
    (tmp_path / "explore.json").write_text("{}", encoding="utf-8")
    with pytest.raises(ExploreError, match="already holds an exploration"):
        explore(scenario, plans=1, out=tmp_path, workers=1)


# ------------------------------------------------------------------ the scenarios it found

@pytest.mark.parametrize("name, removed, heal, verdict", [
    ("stale-suspicion-removal", "node1", 82 * SECOND, 93_920_134_025),
    ("failed-just-before-heal", "node5", 46_900_000_000, 46_312_892_868),
])
def test_library_scenarios_found_by_explore_remove_a_live_server_after_the_heal(
        name: str, removed: str, heal: int, verdict: int) -> None:
    """The two library scenarios explore found: the leader's serf holds a live server failed
    (a verdict from the partition) after the heal, and the reconcile tick removes it while it
    is up and reachable — what no-healthy-server-removed reports."""
    from autopilot_sim.sim.runner import Simulation

    scenario = load_scenario(SCENARIOS / f"{name}.yaml")
    result = Simulation(scenario).run()
    [v] = check([Property("no-healthy-server-removed")], result, [s.name for s in scenario.cluster.servers])
    failed = [e["t_ns"] for e in result.recorder.events
              if e["kind"] == "serf_member" and e.get("server") == removed and e.get("status") == "failed"]
    assert failed[0] == verdict
    assert v.t_ns is not None and heal < v.t_ns < heal + 13 * SECOND and f"removed {removed}" in v.detail
