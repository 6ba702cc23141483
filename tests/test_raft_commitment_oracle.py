"""The leader's commit index, kept incrementally from ack counts (node.py `_acks`), equals the
quorum arithmetic of `raft/quorum.committed_index` over the voters' match indexes — the oracle —
at every moment of engine runs with crashes, restarts, pauses and partitions (fixed membership:
the configuration never changes, so the majority match only grows within a term)."""

from __future__ import annotations

import pytest
from engine_harness import make_cluster, names

from autopilot_sim.durations import MILLISECOND, SECOND
from autopilot_sim.raft.messages import VOTER
from autopilot_sim.raft.node import LEADER
from autopilot_sim.raft.quorum import committed_index


def oracle(node) -> int:
    """hashicorp/raft commitment.go: the majority match of the latest configuration's voters."""
    matches = []
    for sid, suffrage in node.latest_config:
        if suffrage != VOTER:
            continue
        matches.append(node.last_index if sid == node.id else node.progress[sid].match_index)
    return committed_index(matches)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_incremental_commit_index_matches_the_quorum_oracle(seed: int) -> None:
    c = make_cluster(5, seed=seed, writes_per_second=40)
    checked = 0
    for step in range(1, 1200):
        c.run(step * 13 * MILLISECOND)
        if step % 300 == 100:
            c.crash(c.leader_name or "node1")
        elif step % 300 == 150:
            c.network.partition([names(5)[:2]])
        elif step % 300 == 200:
            c.network.heal()
            for name in names(5):
                if not c.servers[name].up:
                    c.restart(name)
        elif step % 300 == 250:
            c.pause(names(5)[step % 5], 300 * MILLISECOND)
        for server in c.servers.values():
            node = server.node
            if not server.up or node.role != LEADER:
                continue
            majority = oracle(node)
            if majority >= node.start_index:  # the current-term rule: only then may it commit
                assert node.commit_index == majority, (c.now, node.id)
                checked += 1
            else:
                assert node.commit_index < node.start_index  # nothing of this term committed yet
    assert checked > 500 and c.now > 15 * SECOND
