"""RequestVote under the Raft paper's rules (``raft.vote_rules: paper``), as LogCabin runs them.

Settled from LogCabin, the Raft paper's reference implementation: logcabin/logcabin
Server/RaftConsensus.cc at commit ee6c55ae9744b82b451becd9707d26c7c1b6bbfb,
``RaftConsensus::handleRequestVote`` and ``RaftConsensus::handleAppendEntries``:

* A server that heard from a current leader less than the *minimum* election timeout ago
  refuses the vote and does not even adopt the candidate's newer term (LogCabin keeps a
  "withhold votes until" instant, pushed forward by every AppendEntries it accepts). A leader
  never grants a vote (its instant is "forever"), so a higher-term RequestVote does not depose it.
* Otherwise a newer term is adopted (stepping down), and the vote is granted on term and log
  alone: same term, candidate's log at least as up-to-date, no vote cast yet in this term (or
  already cast for this candidate). There is no hashicorp-style "I know a leader" refusal.
* Granting a vote resets the election timer.

hashicorp/raft's own rules stay in `RaftNode._on_vote`; this module is only used when the
node's timing says ``vote_rules == "paper"``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from autopilot_sim.raft.messages import RequestVote, VoteResponse

if TYPE_CHECKING:
    from autopilot_sim.raft.node import RaftNode

PAPER: Final = "paper"
HASHICORP: Final = "hashicorp"
VOTE_RULES = (HASHICORP, PAPER)


def withhold_period(node: RaftNode) -> int:
    """The minimum election timeout (ns): how long after leader contact votes are withheld."""
    timing = node.timing
    if timing.election_timeout_range is not None:
        return timing.election_timeout_range[0]
    return timing.heartbeat_timeout  # hashicorp timing: a follower's shortest wait


def withholding(node: RaftNode, now: int, leader_role: str) -> bool:
    """LogCabin's withhold rule: a leader, or a server that heard a leader within the minimum
    election timeout, ignores RequestVote (no vote, no term change)."""
    if node.role == leader_role:
        return True
    heard = node.leader_contact
    return heard is not None and now < heard + withhold_period(node)


def paper_vote(node: RaftNode, src: str, msg: RequestVote, now: int, leader_role: str,
               follower_role: str) -> None:
    """Answer one (non-pre-vote) RequestVote with the paper's rules; see the module docstring."""
    if not withholding(node, now, leader_role):
        if msg.term > node.current_term:
            if node.role == follower_role:
                node.leader = None
            else:
                node._become_follower(now, "vote request with a newer term")
            node._set_term(msg.term)
        if msg.term == node.current_term:
            voted = node.vote_term == msg.term and node.vote_cand is not None
            if not voted and node._up_to_date(msg.last_index, msg.last_term):
                node.vote_term, node.vote_cand = msg.term, msg.candidate
                node.writes += 2
                node._touch_contact(now)  # granting resets the election timer
    granted = (msg.term == node.current_term and node.vote_term == msg.term
               and node.vote_cand == msg.candidate)
    node.outbox.append((src, VoteResponse(msg.rpc, msg.deadline, node.current_term, granted, False)))
