"""Commitment on the leader (hashicorp/raft commitment.go): which index a majority of the
latest configuration's voters stored, adopted only from this term's first entry on. Kept
incrementally from per-index ack counts; `raft/quorum.committed_index` is its test oracle
(tests/test_raft_commitment_oracle.py). A mixin of `RaftNode`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mypy_extensions import mypyc_attr, trait

from autopilot_sim.raft import notes
from autopilot_sim.raft.quorum import quorum_size
from autopilot_sim.raft.state import NodeState

if TYPE_CHECKING:
    from autopilot_sim.raft.replication import Progress


@trait  # a mixin of RaftNode: mypyc compiles multiple inheritance only from traits
@mypyc_attr(allow_interpreted_subclasses=True)  # as RaftNode (copy.deepcopy)
class Commitment(NodeState):  # NodeState: what the mixin reads from RaftNode
    """RaftNode's commit index bookkeeping (see the module docstring)."""

    def _rebuild_commitment(self) -> None:
        """commitment.setConfiguration: voters of the latest configuration and their acks.

        `_acks[i]` counts the other voters whose match index is >= i, for i > commit index. A
        match only grows one prefix at a time, so keeping these counts costs O(1) per replicated
        entry instead of a sort of every voter's match on every response.
        """
        voters = self._voters()
        self._voter_set = set(voters)
        self._self_votes = 1 if self.id in self._voter_set else 0
        self._quorum = quorum_size(len(voters))
        acks: dict[int, int] = {}
        for sid in voters:
            prog = self.progress.get(sid)
            if prog is not None:
                for i in range(self.commit_index + 1, prog.match_index + 1):
                    acks[i] = acks.get(i, 0) + 1
        self._acks = acks

    def _update_match(self, prog: Progress, index: int, now: int) -> None:
        old = prog.match_index
        if index <= old:
            return
        prog.match_index = index
        if prog.peer in self._voter_set:
            acks = self._acks
            for i in range(max(old, self.commit_index) + 1, index + 1):
                acks[i] = acks.get(i, 0) + 1
            self._recompute_commit(now)

    def _recompute_commit(self, now: int) -> None:
        """commitment.go: the highest index a majority of the latest voters stored, adopted only
        if it is at least this term's start index (the no-op): the current-term rule."""
        if not self._voter_set:
            return
        need = self._quorum - self._self_votes
        acks = self._acks
        last = self.log[-1].index
        old = self.commit_index
        candidate = old
        while candidate < last and acks.get(candidate + 1, 0) >= need:
            candidate += 1
        if candidate > old and candidate >= self.start_index:
            self.commit_index = candidate
            for i in range(old + 1, candidate + 1):
                acks.pop(i, None)
            if self.latest_config_index <= candidate and self.committed_config_index != self.latest_config_index:
                self.committed_config = self.latest_config
                self.committed_config_index = self.latest_config_index
                self._note(notes.ConfigurationCommitted(self.latest_config_index, self.latest_config))
                if not self.is_voter():
                    self._become_follower(now, "removed or demoted from the configuration")
                    return
            self._drain_config_queue(now)
