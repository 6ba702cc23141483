"""Elections (hashicorp/raft raft.go: runCandidate, electSelf, requestVote and requestPreVote
handling): candidate rounds, pre-vote, vote requests and answers, TimeoutNow. A mixin of
`RaftNode`.
"""

from __future__ import annotations

from mypy_extensions import mypyc_attr, trait

from autopilot_sim.raft import configuration as cfg
from autopilot_sim.raft import notes
from autopilot_sim.raft.messages import (
    VOTER,
    RequestVote,
    TimeoutNow,
    TimeoutNowResponse,
    VoteResponse,
)
from autopilot_sim.raft.quorum import quorum_size
from autopilot_sim.raft.roles import (
    CANDIDATE,
    FOLLOWER,
    LEADER,
    T_FOLLOWER,
)
from autopilot_sim.raft.state import NodeState


@trait  # a mixin of RaftNode: mypyc compiles multiple inheritance only from traits
@mypyc_attr(allow_interpreted_subclasses=True)  # as RaftNode (copy.deepcopy)
class Election(NodeState):  # NodeState: what the mixin reads from RaftNode
    """RaftNode's candidate side and vote handling (see the module docstring)."""

    def _become_candidate(self, now: int, transfer: bool = False) -> None:
        if self.role == FOLLOWER:
            self._arm(T_FOLLOWER, None)
        elif self.role == LEADER:
            self._leave_leader(now)
        self.role = CANDIDATE
        self.leader = None
        self._transfer_candidate = transfer
        self._note(notes.CandidateStarted(self.current_term + 1, transfer))
        self._start_round(now)

    def _start_round(self, now: int) -> None:
        """One candidate round (§3.1): quorum from the latest voters, timer, pre-vote or vote."""
        voters = self._voters()
        self._votes_needed = quorum_size(len(voters))
        self._round_rpcs = set()
        self._timing_model.candidate_round_started(self, now)
        if self.timing.prevote and not self._transfer_candidate:
            self._prevote_phase = True
            self._granted, self._refused = 1, 0
            term = self.current_term + 1
            self._send_votes(voters, term, now, prevote=True)
            if self._granted >= self._votes_needed:
                self._start_election(now, rearm=True)
        else:
            self._start_election(now, rearm=False)

    def _send_votes(self, voters: list[str], term: int, now: int, prevote: bool) -> None:
        deadline = now + self.timing.rpc_timeout
        for peer in voters:
            if peer == self.id:
                continue
            rpc = self._next_rpc()
            self._round_rpcs.add(rpc)
            self.outbox.append((peer, RequestVote(
                rpc, deadline, term, self.id, self.last_index, self.last_term,
                self._transfer_candidate, prevote,
            )))

    def _start_election(self, now: int, rearm: bool) -> None:
        """electSelf: term+1 (persisted), self-vote (persisted), RequestVote to other voters."""
        if rearm:
            self._timing_model.candidate_round_started(self, now)
        self._prevote_phase = False
        self._round_rpcs = set()
        self._set_term(self.current_term + 1)
        self.vote_term, self.vote_cand = self.current_term, self.id
        self.writes += 2
        self._granted = 1 if self.is_voter() else 0
        self._refused = 0
        self._note(notes.ElectionStarted(self.current_term))
        self._send_votes(self._voters(), self.current_term, now, prevote=False)
        if self._granted >= self._votes_needed:
            self._become_leader(now)

    # ------------------------------------------------------------------ votes

    def _up_to_date(self, last_index: int, last_term: int) -> bool:
        my_term = self.log[-1].term
        if my_term > last_term:
            return False
        return not (my_term == last_term and self.log[-1].index > last_index)

    def _on_prevote(self, src: str, msg: RequestVote, now: int) -> None:
        """§3.2: no state change, nothing persisted."""
        term = self.current_term
        granted = False
        resp_term = term
        if ((self.latest_config and cfg.suffrage_of(self.latest_config, msg.candidate) is None)
                or (self.leader is not None and self.leader != msg.candidate) or msg.term < term):
            pass
        else:
            if msg.term > term:
                resp_term = msg.term
            if cfg.suffrage_of(self.latest_config, msg.candidate) not in (VOTER, None):
                pass
            elif self._up_to_date(msg.last_index, msg.last_term):
                granted = True
        self.outbox.append((src, VoteResponse(msg.rpc, msg.deadline, resp_term, granted, True)))

    def _on_vote(self, src: str, msg: RequestVote, now: int) -> None:
        """§3.3, rules in order."""
        cand = msg.candidate
        granted = False
        if self.latest_config and cfg.suffrage_of(self.latest_config, cand) is None:
            pass  # not in configuration: refuse before any term change
        elif self.leader is not None and self.leader != cand and not msg.transfer:
            pass  # known-leader rule, before the term check
        elif msg.term < self.current_term:
            pass
        else:
            if msg.term > self.current_term:
                if self.role == FOLLOWER:
                    self.leader = None
                else:
                    self._become_follower(now, "vote request with a newer term")
                self._set_term(msg.term)
            suffrage = cfg.suffrage_of(self.latest_config, cand)
            if suffrage is not None and suffrage != VOTER:
                pass
            elif self.vote_term == msg.term and self.vote_cand is not None:
                granted = self.vote_cand == cand  # repeat grant: not re-persisted, no contact
            elif self._up_to_date(msg.last_index, msg.last_term):
                self.vote_term, self.vote_cand = msg.term, cand
                self.writes += 2
                granted = True
                self._touch_contact(now)
        self.outbox.append((src, VoteResponse(msg.rpc, msg.deadline, self.current_term, granted, False)))

    def _on_vote_response(self, src: str, msg: VoteResponse, now: int) -> None:
        if self.role != CANDIDATE or msg.rpc not in self._round_rpcs:
            return
        self._round_rpcs.discard(msg.rpc)
        if msg.prevote:
            if not self._prevote_phase:
                return
            if msg.term > self.current_term + 1:
                self._become_follower(now, "pre-vote response with a newer term")
                self._set_term(msg.term)
                return
            if msg.granted:
                self._granted += 1
                if self._granted >= self._votes_needed:
                    self._start_election(now, rearm=True)
            else:
                self._refused += 1
            return
        if self._prevote_phase:
            return
        if msg.term > self.current_term:
            self._become_follower(now, "vote response with a newer term")
            self._set_term(msg.term)
            return
        if msg.granted:
            self._granted += 1
            if self._granted >= self._votes_needed:
                self._become_leader(now)

    def _on_timeout_now(self, src: str, msg: TimeoutNow, now: int) -> None:
        """§7.1: clear the leader, become a transfer candidate (no pre-vote)."""
        self.outbox.append((src, TimeoutNowResponse(msg.rpc, msg.deadline, self.current_term)))
        if self.role == CANDIDATE:
            self._transfer_candidate = True  # the current round continues
            return
        self._become_candidate(now, transfer=True)
