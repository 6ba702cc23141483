"""Quorum arithmetic, kept apart from the node (as etcd-io/raft's quorum/ package is)."""

from __future__ import annotations


def quorum_size(voters: int) -> int:
    """Votes needed among `voters` voting servers: floor(voters/2) + 1 (hashicorp/raft quorumSize)."""
    return voters // 2 + 1


def committed_index(match_indexes: list[int]) -> int:
    """The highest index stored by a majority: position floor((n-1)/2) of the ascending sort.

    hashicorp/raft commitment.go recalculate; 0 when there are no voters.
    """
    if not match_indexes:
        return 0
    ordered = sorted(match_indexes)
    return ordered[(len(ordered) - 1) // 2]


def failure_tolerance(voters: int) -> int:
    """How many voters can fail while a quorum remains: (voters - 1) // 2."""
    return max(0, (voters - 1) // 2)
