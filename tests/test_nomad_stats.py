"""The autopilot's stats inputs are typed: `server_stats(node, now)` equals what Nomad computes
from the Stats() strings (`stats_from_raft`), at every moment of a run with faults."""

from __future__ import annotations

from engine_harness import make_cluster, names
from hypothesis import given
from hypothesis import strategies as st

from autopilot_sim.durations import MILLISECOND, SECOND, format_duration, parse_duration
from autopilot_sim.sim.nomad import server_stats, stats_from_raft


@given(st.integers(min_value=0, max_value=10**15))
def test_go_durations_round_trip_exactly(ns: int) -> None:
    assert parse_duration(format_duration(ns)) == ns


def test_typed_stats_equal_the_parsed_stats_strings() -> None:
    c = make_cluster(5, seed=3, writes_per_second=10)
    checked = 0
    for step in range(1, 200):
        c.run(step * 37 * MILLISECOND)
        if step == 60:
            c.crash(c.leader_name or "node1")
        if step == 120:
            for name in names(5):
                if not c.servers[name].up:
                    c.restart(name)  # a restarted server has never heard from a leader
        for name in names(5):
            node = c.servers[name].node
            for later in (0, 3 * SECOND):
                assert server_stats(node, c.now + later) == stats_from_raft(node.stats(c.now + later))
                checked += 1
    assert checked > 1000
