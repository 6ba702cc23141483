"""The election-time experiment (Figure 16), the WAN experiment and the split-vote analytic check."""

from __future__ import annotations

import csv
import math

import pytest

from autopilot_sim.cli import main as cli_main
from autopilot_sim.durations import MILLISECOND as MS
from autopilot_sim.experiments import election_time as et
from autopilot_sim.experiments.compare import compare, ks_distance, paper_curves
from autopilot_sim.sim.network import Latency


def test_split_vote_formula_matches_the_thesis_worked_values():
    assert et.split_vote_probability(5, 4, 0.05) == pytest.approx(0.0140, abs=5e-5)
    assert et.split_vote_probability(5, 4, 0.10) == pytest.approx(0.0523, abs=5e-5)
    assert et.split_vote_probability(5, 4, 0.20) == pytest.approx(0.1808, abs=5e-5)
    assert et.split_vote_probability(5, 4, 0.01) == pytest.approx(0.0006, abs=5e-5)
    assert et.split_vote_probability(5, 5, 0.0) == 0.0


def _split_rate(lat: float, trials: int, seed: int) -> float:
    """First-round split votes: 5 servers, leader crashed just after a heartbeat, fixed one-way
    latency lat x (100 ms range), no disk, equal logs."""
    latency = Latency("constant", value=int(lat * 100 * MS))
    splits = 0
    for trial in range(trials):
        _, terms = et.crash_trial(100, 200, et.trial_seed(seed, "split", str(lat), trial),
                                  latency=latency, disk=None, shorter_logs=0)
        assert terms >= 1
        splits += terms > 1
    return splits / trials


@pytest.mark.parametrize("lat", [0.1, 0.2])
def test_simulated_split_votes_match_the_analytic_probability(lat):
    # Seeded, so deterministic; the bound is 4 binomial standard deviations of the formula's p.
    trials = 600
    p = et.split_vote_probability(5, 4, lat)
    rate = _split_rate(lat, trials, seed=11)
    assert abs(rate - p) <= 4 * math.sqrt(p * (1 - p) / trials), (rate, p)


def test_trials_are_seeded_one_by_one_and_the_same_on_any_worker_count():
    lines = {"150-155": 6, "12-24": 5}
    inline = et.run_trials("election-time", lines, root_seed=3, workers=1)
    pooled = et.run_trials("election-time", lines, root_seed=3, workers=2)
    assert inline == pooled
    assert inline["150-155"][:3] == et.run_trials("election-time", {"150-155": 3}, root_seed=3)["150-155"]
    assert all(v > 0 for vs in inline.values() for v in vs)


def test_a_trial_cannot_end_before_half_the_minimum_timeout():
    # The crash falls within the heartbeat interval (lo/2) after the last heartbeat, so a follower
    # needs at least lo - lo/2 to notice, then an election.
    for trial in range(8):
        ns = et.lan_trial(150, 300, et.trial_seed(1, "t", "x", trial))
        assert 75 * MS < ns < 2000 * MS


def test_fixed_timeouts_are_capped():
    ns, terms = et.crash_trial(150, 150, et.trial_seed(1, "cap", "x", 0), cap_ns=300 * MS)
    assert ns <= 300 * MS and (terms == 0) == (ns == 300 * MS)


def test_wan_elections_take_at_least_a_timeout_plus_a_round_trip():
    for failed in (0, 2):
        ns = et.wan_trial(failed, et.trial_seed(1, "wan", str(failed), 0))
        assert 300 * MS + 60 * MS <= ns < 5000 * MS


def test_digitized_curves_reproduce_the_papers_stated_numbers():
    curves = paper_curves()
    assert set(curves) == set(et.RANDOMNESS_RANGES) | set(et.SCALE_RANGES)
    median_155 = next(t for t, c in curves["150-155"] if c >= 0.5)
    assert median_155 == pytest.approx(287, abs=3)
    assert curves["150-200"][-1][0] == pytest.approx(513, abs=3)
    assert curves["12-24"][-1][0] == pytest.approx(152, abs=3)
    assert curves["150-150"][0][0] > 9_000  # "over 10 s"


def test_ks_distance_is_zero_against_itself_and_one_when_disjoint():
    curve = [(10.0, 0.0), (10.0, 0.5), (20.0, 0.5), (20.0, 1.0)]
    assert ks_distance([10.0, 20.0], curve) == pytest.approx(0.0)
    assert ks_distance([1000.0, 2000.0], curve) == pytest.approx(1.0)
    rows = compare({"150-300": [200.0] * 10}, cap_ms=1e9)
    assert rows[0].median == 200 and 0 < rows[0].ks <= 1


def test_cli_writes_trials_csv_summary_and_figure(tmp_path, capsys):
    out = tmp_path / "fig"
    code = cli_main(["experiment", "election-time", "--ranges", "150-300,12-24", "--trials", "3",
                     "--workers", "1", "--out", str(out)])
    assert code == 0
    with open(out / "trials.csv", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["timeout_range_ms", "trial", "time_without_leader_ms"]
    assert [r[:2] for r in rows[1:]] == [["150-300", "0"], ["150-300", "1"], ["150-300", "2"],
                                         ["12-24", "0"], ["12-24", "1"], ["12-24", "2"]]
    assert (out / "election-time.png").stat().st_size > 10_000
    assert "| 150-300 | 3 |" in (out / "summary.md").read_text()
    assert "150-300" in capsys.readouterr().out


def test_cli_rejects_a_bad_range(tmp_path, capsys):
    code = cli_main(["experiment", "election-time", "--ranges", "300-150", "--out", str(tmp_path)])
    assert code == 2
    assert "300-150" in capsys.readouterr().err


def test_the_same_trials_on_a_dask_cluster():
    distributed = pytest.importorskip("distributed")
    lines = {"150-300": 4}
    inline = et.run_trials("election-time", lines, root_seed=5, workers=1)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=40) as cluster, distributed.Client(cluster) as client:
        on_dask = et.run_trials("election-time", lines, root_seed=5, client=client)
    assert on_dask == inline
