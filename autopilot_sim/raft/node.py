"""A pure hashicorp/raft (v1.7.3) server: roles, terms, votes, log, replication, membership.

The node does no I/O and keeps no clock. The caller (the SimPy engine, or a test) drives it:

* `on_message(src, msg, now)`, `on_timer(key, now)`, `propose(data, now)`,
  `change_configuration(op, server_id, now)`, `transfer_leadership(target, now)`;
* after each call it drains `outbox` (destination, message), `timer_requests` (key, absolute
  deadline or None to cancel; re-arming a key replaces it) and `notes` (role and configuration
  changes worth recording), and reads `writes` (stable/log store fsyncs the call performed).

Rule references (§n) are to docs/behaviour/raft.md.
"""

from __future__ import annotations

import random
from collections import deque

from autopilot_sim.durations import MILLISECOND
from autopilot_sim.raft import configuration as cfg
from autopilot_sim.raft.messages import (
    BARRIER,
    COMMAND,
    CONFIGURATION,
    NOOP,
    VOTER,
    AppendEntries,
    AppendEntriesResponse,
    Entry,
    Heartbeat,
    HeartbeatResponse,
    RequestVote,
    RpcError,
    TimeoutNow,
    TimeoutNowResponse,
    VoteResponse,
)
from autopilot_sim.raft.quorum import quorum_size
from autopilot_sim.raft.timing import RaftTiming
from autopilot_sim.raft.votes import PAPER, paper_vote

FOLLOWER = "Follower"
CANDIDATE = "Candidate"
LEADER = "Leader"
SHUTDOWN = "Shutdown"

# Node-level timer keys. Per-peer keys live on the Progress object.
T_FOLLOWER = "follower"
T_ELECTION = "election"
T_LEASE = "lease"
T_TRANSFER = "transfer"

FAILURE_WAIT = 10 * MILLISECOND
MAX_FAILURE_SCALE = 12
LEASE_MIN_CHECK = 10 * MILLISECOND
_SENTINEL = Entry(0, 0, NOOP)


def replication_backoff(failures: int) -> int:
    """util.go backoff(10ms, failures, 12): 10, 10, 20, 40 ... ms capped at 10.24 s."""
    if failures <= 0:
        return 0
    power = min(failures, MAX_FAILURE_SCALE)
    if power <= 2:
        return FAILURE_WAIT
    return FAILURE_WAIT * (1 << (power - 2))


def heartbeat_backoff(failures: int, cap: int) -> int:
    """util.go cappedExponentialBackoff(10ms, failures, 12, HT/2), failures counted before the bump."""
    power = min(failures, MAX_FAILURE_SCALE)
    wait = FAILURE_WAIT if power <= 2 else FAILURE_WAIT * (1 << (power - 2))
    return min(wait, cap)


class Progress:
    """The leader's view of one other server (a replication + heartbeat goroutine pair)."""

    __slots__ = (
        "peer", "next_index", "match_index", "last_contact", "failures", "hb_failures",
        "pipeline", "allow_pipeline", "inflight", "busy", "sleeping", "target_last",
        "trigger_pending", "hb_rpc", "hb_key", "ct_key", "bo_key", "removed",
    )

    def __init__(self, peer: str, next_index: int, now: int) -> None:
        self.peer = peer
        self.next_index = next_index
        self.match_index = 0
        self.last_contact = now  # a new goroutine starts with a full lease (§9 item 13)
        self.failures = 0
        self.hb_failures = 0
        self.pipeline = False
        self.allow_pipeline = False
        self.inflight: dict[int, int] = {}  # rpc id -> last index sent
        self.busy = False  # a standard-mode call is in progress (awaiting a response)
        self.sleeping = False  # waiting out a replication back-off
        self.target_last = 0
        self.trigger_pending = False
        self.hb_rpc = 0
        self.hb_key = ("hb", peer)
        self.ct_key = ("ct", peer)
        self.bo_key = ("bo", peer)
        self.removed = False


class RaftNode:
    """One Raft server. Persistent: term, vote, log. Everything else is lost on `crash()`."""

    def __init__(self, node_id: str, timing: RaftTiming, rng: random.Random) -> None:
        self.id = node_id
        self.timing = timing
        self._rng = rng
        # Persistent state (survives restart).
        self.current_term = 0
        self.vote_term = 0
        self.vote_cand: str | None = None
        self.log: list[Entry] = [_SENTINEL]
        # Outputs drained by the caller.
        self.outbox: list[tuple[str, object]] = []
        self.timer_requests: list[tuple[object, int | None]] = []
        self.notes: list[tuple] = []
        self.writes = 0
        self._rpc_seq = 0
        self._reset_volatile()

    # ------------------------------------------------------------------ state helpers

    def _reset_volatile(self) -> None:
        self.role = FOLLOWER
        self.leader: str | None = None
        self.last_contact: int | None = None
        self.leader_contact: int | None = None  # last accepted leader RPC (paper vote rules)
        self.commit_index = 0
        self.latest_config: cfg.Configuration = ()
        self.latest_config_index = 0
        self.committed_config: cfg.Configuration = ()
        self.committed_config_index = 0
        # Candidate round.
        self._round_rpcs: set[int] = set()
        self._prevote_phase = False
        self._granted = 0
        self._refused = 0
        self._votes_needed = 0
        self._transfer_candidate = False
        self._election_at = 0  # the candidate's election deadline (paper timing)
        # Leader state.
        self.progress: dict[str, Progress] = {}
        self._retired: dict[str, Progress] = {}
        self.start_index = 0
        self._voter_set: set[str] = set()
        self._self_votes = 0
        self._quorum = 1
        self._acks: dict[int, int] = {}
        self._config_queue: deque[tuple[str, str]] = deque()
        self._transfer_target: str | None = None
        self._transfer_sent = False
        self._rebuild_configurations()

    def _rebuild_configurations(self) -> None:
        """§5.2 on restart: latest = last configuration entry in the log, committed = the one before."""
        found = [e for e in self.log if e.kind == CONFIGURATION]
        if found:
            self.latest_config, self.latest_config_index = found[-1].data, found[-1].index
        if len(found) > 1:
            self.committed_config, self.committed_config_index = found[-2].data, found[-2].index

    @property
    def last_index(self) -> int:
        return self.log[-1].index

    @property
    def last_term(self) -> int:
        return self.log[-1].term

    def is_voter(self) -> bool:
        """Whether this node is a Voter in its latest configuration."""
        return cfg.suffrage_of(self.latest_config, self.id) == VOTER

    def _voters(self) -> list[str]:
        return [sid for sid, s in self.latest_config if s == VOTER]

    def _random_timeout(self, d: int) -> int:
        """util.go randomTimeout: d + (r mod d), uniform on [d, 2d) in integer ns."""
        return d + self._rng.getrandbits(63) % d

    def _paper_timeout(self) -> int:
        lo, hi = self.timing.election_timeout_range  # type: ignore[misc]
        if hi == lo:
            return lo  # a fixed timeout (the paper's 150-150 ms case) draws nothing
        return lo + self._rng.getrandbits(63) % (hi - lo)

    def _arm(self, key: object, deadline: int | None) -> None:
        self.timer_requests.append((key, deadline))

    def _next_rpc(self) -> int:
        self._rpc_seq += 1
        return self._rpc_seq

    def _set_term(self, term: int) -> None:
        self.current_term = term
        self.writes += 1  # setCurrentTerm persists first (§8.1)

    def _note(self, *item: object) -> None:
        self.notes.append(item)

    # ------------------------------------------------------------------ lifecycle

    def bootstrap(self, servers: cfg.Configuration, now: int) -> None:
        """BootstrapCluster on a server without state: term 1, configuration entry at index 1."""
        if self.last_index != 0 or self.current_term != 0:
            return  # HasExistingState: bootstrap is a no-op
        self.current_term = 1
        self.writes += 2
        entry = Entry(1, 1, CONFIGURATION, tuple(servers))
        self.log.append(entry)
        self.latest_config, self.latest_config_index = entry.data, 1

    def start(self, now: int) -> None:
        """Process start (also after a restart): enter the follower loop."""
        self._enter_follower(now)

    def crash(self) -> None:
        """The process dies: volatile state is lost; persistent term, vote and log are kept."""
        self.outbox.clear()
        self.timer_requests.clear()
        self._reset_volatile()
        self.role = SHUTDOWN

    def restart(self, now: int) -> None:
        """Start again after a crash (§7.2): follower, no leader, lastContact never, commit 0."""
        self._reset_volatile()
        self._enter_follower(now)

    # ------------------------------------------------------------------ role transitions

    def _enter_follower(self, now: int) -> None:
        """A new follower-loop entry: fresh heartbeat-check timer (§2.1)."""
        self.role = FOLLOWER
        self.leader = None
        if self.timing.paper:
            self._arm(T_FOLLOWER, now + self._paper_timeout())
        else:
            self._arm(T_FOLLOWER, now + self._random_timeout(self.timing.heartbeat_timeout))

    def _become_follower(self, now: int, reason: str) -> None:
        """setState(Follower): from follower it only clears the leader (the loop keeps its timer)."""
        if self.role == FOLLOWER:
            self.leader = None
            return
        previous = self.role
        if previous == LEADER:
            self._leave_leader(now)
        elif previous == CANDIDATE:
            self._arm(T_ELECTION, None)
            self._round_rpcs.clear()
            self._transfer_candidate = False
        self._note("follower", self.current_term, previous, reason)
        self._enter_follower(now)
        if previous == CANDIDATE and self.timing.vote_rules == PAPER:
            self._arm(T_FOLLOWER, self._election_at)  # LogCabin's stepDown keeps the running timer

    def _leave_leader(self, now: int) -> None:
        """§4.10: stop replication, lastContact := now, fail queued changes."""
        for prog in list(self.progress.values()) + list(self._retired.values()):
            self._arm(prog.hb_key, None)
            self._arm(prog.ct_key, None)
            self._arm(prog.bo_key, None)
        self.progress.clear()
        self._retired.clear()
        self._arm(T_LEASE, None)
        self._arm(T_TRANSFER, None)
        self._config_queue.clear()
        self._transfer_target = None
        self.last_contact = now

    def _become_candidate(self, now: int, transfer: bool = False) -> None:
        if self.role == FOLLOWER:
            self._arm(T_FOLLOWER, None)
        elif self.role == LEADER:
            self._leave_leader(now)
        self.role = CANDIDATE
        self.leader = None
        self._transfer_candidate = transfer
        self._note("candidate", self.current_term + 1, transfer)
        self._start_round(now)

    def _start_round(self, now: int) -> None:
        """One candidate round (§3.1): quorum from the latest voters, timer, pre-vote or vote."""
        voters = self._voters()
        self._votes_needed = quorum_size(len(voters))
        self._round_rpcs = set()
        if self.timing.paper:
            self._election_at = now + self._paper_timeout()
            self._arm(T_ELECTION, self._election_at)
        else:
            self._arm(T_ELECTION, now + self._random_timeout(self.timing.election_timeout))
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
            if self.timing.paper:
                self._election_at = now + self._paper_timeout()
                self._arm(T_ELECTION, self._election_at)
            else:
                self._arm(T_ELECTION, now + self._random_timeout(self.timing.election_timeout))
        self._prevote_phase = False
        self._round_rpcs = set()
        self._set_term(self.current_term + 1)
        self.vote_term, self.vote_cand = self.current_term, self.id
        self.writes += 2
        self._granted = 1 if self.is_voter() else 0
        self._refused = 0
        self._note("election", self.current_term)
        self._send_votes(self._voters(), self.current_term, now, prevote=False)
        if self._granted >= self._votes_needed:
            self._become_leader(now)

    def _become_leader(self, now: int) -> None:
        """§4.1: start index, per-server progress with a full lease, no-op, first lease check."""
        self._arm(T_ELECTION, None)
        self._round_rpcs.clear()
        self._transfer_candidate = False
        self.role = LEADER
        self.leader = self.id
        self.start_index = self.last_index + 1
        self.progress = {}
        self._rebuild_commitment()
        for peer, _ in self.latest_config:
            if peer != self.id:
                self._add_progress(peer, now)
        self._note("leader", self.current_term)
        self._dispatch([(NOOP, None)], now)
        self._arm(T_LEASE, now + self.timing.leader_lease_timeout)

    def _add_progress(self, peer: str, now: int) -> None:
        prog = Progress(peer, self.last_index + 1, now)
        self.progress[peer] = prog
        self._retired.pop(peer, None)
        prog.trigger_pending = False
        self._replicate(prog, now)
        self._heartbeat(prog, now)

    # ------------------------------------------------------------------ inputs

    def on_timer(self, key: object, now: int) -> None:
        """A timer armed through `timer_requests` fired."""
        role = self.role
        if key == T_FOLLOWER:
            if role == FOLLOWER:
                self._follower_check(now)
        elif key == T_ELECTION:
            if role == CANDIDATE:
                self._transfer_candidate = False  # the flag ends with its round
                self._start_round(now)
        elif key == T_LEASE:
            if role == LEADER:
                self._check_lease(now)
        elif key == T_TRANSFER:
            if role == LEADER:
                self._transfer_target = None  # abandoned: "leadership transfer timeout"
                self._note("transfer_timeout", self.current_term)
                self._drain_config_queue(now)
        elif role == LEADER:
            kind, peer = key  # type: ignore[misc]
            prog = self.progress.get(peer)
            if prog is None:
                return
            if kind == "hb":
                self._heartbeat(prog, now)
            elif kind == "ct":
                self._replicate(prog, now)
            elif kind == "bo":
                prog.sleeping = False
                self._send_append(prog, now)

    def on_message(self, src: str, msg: object, now: int) -> None:
        """Deliver one RPC request, response, or transport error."""
        if self.role == SHUTDOWN:
            return
        t = type(msg)
        if t is AppendEntries:
            self._on_append(src, msg, now)  # type: ignore[arg-type]
        elif t is AppendEntriesResponse:
            self._on_append_response(src, msg, now)  # type: ignore[arg-type]
        elif t is Heartbeat:
            self._on_heartbeat(src, msg, now)  # type: ignore[arg-type]
        elif t is HeartbeatResponse:
            self._on_heartbeat_response(src, msg, now)  # type: ignore[arg-type]
        elif t is RequestVote:
            if msg.prevote:  # type: ignore[attr-defined]
                self._on_prevote(src, msg, now)  # type: ignore[arg-type]
            elif self.timing.vote_rules == PAPER:
                paper_vote(self, src, msg, now, LEADER, FOLLOWER)  # type: ignore[arg-type]
            else:
                self._on_vote(src, msg, now)  # type: ignore[arg-type]
        elif t is VoteResponse:
            self._on_vote_response(src, msg, now)  # type: ignore[arg-type]
        elif t is RpcError:
            self._on_rpc_error(src, msg, now)  # type: ignore[arg-type]
        elif t is TimeoutNow:
            self._on_timeout_now(src, msg, now)  # type: ignore[arg-type]
        elif t is TimeoutNowResponse:
            pass
        else:
            raise TypeError(f"unexpected message {msg!r}")

    # ------------------------------------------------------------------ follower

    def _touch_contact(self, now: int) -> None:
        self.last_contact = now
        if self.timing.paper and self.role == FOLLOWER:
            self._arm(T_FOLLOWER, now + self._paper_timeout())

    def _follower_check(self, now: int) -> None:
        """§2.1: free-running check, re-armed at every fire, not reset by RPCs."""
        if self.timing.paper:
            expired = True  # the paper's timer is reset on contact, so firing means expiry
        else:
            self._arm(T_FOLLOWER, now + self._random_timeout(self.timing.heartbeat_timeout))
            lc = self.last_contact
            expired = lc is None or now - lc >= self.timing.heartbeat_timeout
        if not expired:
            return
        self.leader = None
        if self.latest_config_index == 0:
            return  # no known peers
        if self.latest_config_index == self.committed_config_index and not self.is_voter():
            return  # not part of the stable configuration
        if self.is_voter():
            self._become_candidate(now)
        elif self.timing.paper:
            self._arm(T_FOLLOWER, now + self._paper_timeout())

    def _on_heartbeat(self, src: str, msg: Heartbeat, now: int) -> None:
        """processHeartbeat: appendEntries with nothing to check (§2.4)."""
        if msg.term < self.current_term:
            self.outbox.append((src, HeartbeatResponse(msg.rpc, msg.deadline, self.current_term, False)))
            return
        if msg.term > self.current_term or (self.role != FOLLOWER and not self._transfer_candidate):
            self._become_follower(now, "heartbeat from leader")
            if msg.term > self.current_term:
                self._set_term(msg.term)
        self.leader = msg.leader
        self.leader_contact = now
        self._touch_contact(now)
        self.outbox.append((src, HeartbeatResponse(msg.rpc, msg.deadline, self.current_term, True)))

    def _on_append(self, src: str, msg: AppendEntries, now: int) -> None:
        """§2.3, in order."""
        log = self.log
        last = log[-1].index
        if msg.term < self.current_term:
            self.outbox.append((src, AppendEntriesResponse(
                msg.rpc, msg.deadline, self.current_term, False, last, False, msg.prev_index)))
            return
        if msg.term > self.current_term or (self.role != FOLLOWER and not self._transfer_candidate):
            self._become_follower(now, "append entries from leader")
            if msg.term > self.current_term:
                self._set_term(msg.term)
        self.leader = msg.leader
        self.leader_contact = now
        prev = msg.prev_index
        if prev > 0:
            if prev > last or log[prev].term != msg.prev_term:
                self.outbox.append((src, AppendEntriesResponse(
                    msg.rpc, msg.deadline, self.current_term, False, last, True, prev)))
                return
        entries = msg.entries
        last_sent = prev
        if entries:
            last_sent = entries[-1].index
            first_new = None
            for i, entry in enumerate(entries):
                idx = entry.index
                if idx > last or log[idx].term != entry.term:
                    first_new = i
                    break
            if first_new is not None:
                start = entries[first_new].index
                if start <= last:
                    self._truncate_from(start)
                log.extend(entries[first_new:])
                self.writes += 1
                for entry in entries[first_new:]:
                    if entry.kind == CONFIGURATION:
                        self._append_configuration(entry)
        if msg.leader_commit > 0 and msg.leader_commit > self.commit_index:
            self.commit_index = min(msg.leader_commit, log[-1].index)
            if self.latest_config_index <= self.commit_index:
                self.committed_config = self.latest_config
                self.committed_config_index = self.latest_config_index
        self._touch_contact(now)
        self.outbox.append((src, AppendEntriesResponse(
            msg.rpc, msg.deadline, self.current_term, True, last, False, last_sent)))

    def _truncate_from(self, index: int) -> None:
        """Delete the log suffix from `index` (a DeleteRange write); revert a cut configuration."""
        removed = self.log[index:]
        del self.log[index:]
        self.writes += 1
        self._note("truncate", index, removed)
        if self.latest_config_index >= index:
            self.latest_config = self.committed_config
            self.latest_config_index = self.committed_config_index

    def _append_configuration(self, entry: Entry) -> None:
        """A configuration takes effect on append; the previous latest counts as committed."""
        if self.latest_config_index:
            self.committed_config = self.latest_config
            self.committed_config_index = self.latest_config_index
        self.latest_config = entry.data  # type: ignore[assignment]
        self.latest_config_index = entry.index
        self._note("configuration", entry.index, entry.data)

    # ------------------------------------------------------------------ votes

    def _up_to_date(self, last_index: int, last_term: int) -> bool:
        my_term = self.log[-1].term
        if my_term > last_term:
            return False
        if my_term == last_term and self.log[-1].index > last_index:
            return False
        return True

    def _on_prevote(self, src: str, msg: RequestVote, now: int) -> None:
        """§3.2: no state change, nothing persisted."""
        term = self.current_term
        granted = False
        resp_term = term
        if self.latest_config and cfg.suffrage_of(self.latest_config, msg.candidate) is None:
            pass
        elif self.leader is not None and self.leader != msg.candidate:
            pass
        elif msg.term < term:
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

    # ------------------------------------------------------------------ leader: replication

    def _send_append(self, prog: Progress, now: int) -> None:
        """setupAppendEntries + send, standard (busy until answered) or pipelined."""
        log = self.log
        nxt = prog.next_index
        last = log[-1].index
        if nxt > last + 1:
            nxt = prog.next_index = last + 1
        prev = nxt - 1
        end = min(last, nxt + self.timing.max_append_entries - 1)
        entries = tuple(log[nxt:end + 1]) if end >= nxt else ()
        rpc = self._next_rpc()
        msg = AppendEntries(
            rpc, now + self.timing.rpc_timeout, self.current_term, self.id,
            prev, log[prev].term, entries, self.commit_index,
        )
        # Remember what was sent: the last index carried, or 0 for an entry-less request.
        sent_last = end if entries else 0
        prog.inflight[rpc] = sent_last
        if prog.pipeline:
            if entries:
                prog.next_index = sent_last + 1  # optimistic, as pipelineSend does
        else:
            prog.busy = True
        self.outbox.append((prog.peer, msg))

    def _replicate(self, prog: Progress, now: int) -> None:
        """A wake-up of the replication goroutine (trigger or CommitTimeout)."""
        if prog.removed:
            return
        if prog.pipeline:
            if len(prog.inflight) >= self.timing.max_rpcs_in_flight:
                prog.trigger_pending = True  # pipelineSend blocks until a slot frees
                return
            prog.trigger_pending = False
            self._send_append(prog, now)
            self._arm_commit_timer(prog, now)
            return
        if prog.busy or prog.sleeping:
            prog.trigger_pending = True
            return
        prog.trigger_pending = False
        prog.target_last = self.log[-1].index
        self._attempt(prog, now)

    def _attempt(self, prog: Progress, now: int) -> None:
        """One replicateTo iteration: back off first if the last attempts failed (§4.4)."""
        wait = replication_backoff(prog.failures)
        if wait:
            prog.sleeping = True
            self._arm(prog.bo_key, now + wait)
        else:
            self._send_append(prog, now)

    def _arm_commit_timer(self, prog: Progress, now: int) -> None:
        self._arm(prog.ct_key, now + self._random_timeout(self.timing.commit_timeout))

    def _finish_call(self, prog: Progress, now: int) -> None:
        """replicateTo returned: maybe switch to pipelining, then back to the select loop."""
        prog.busy = False
        if prog.allow_pipeline:
            prog.allow_pipeline = False
            prog.pipeline = True
        if prog.trigger_pending:
            self._replicate(prog, now)
        else:
            self._arm_commit_timer(prog, now)

    def _on_append_response(self, src: str, msg: AppendEntriesResponse, now: int) -> None:
        if self.role != LEADER:
            return
        prog = self.progress.get(src)
        if prog is None:
            return
        sent = prog.inflight.pop(msg.rpc, None)
        if sent is None:
            return  # an answer to an aborted pipeline or an earlier leadership
        if msg.term > self.current_term:
            self._become_follower(now, f"stale term: {src} answered with term {msg.term}")
            return  # handleStaleTerm: step down, keep our own term (§4.5)
        prog.last_contact = now
        if prog.pipeline:
            if not msg.success:
                self._abort_pipeline(prog, now)
                return
            if sent > 0:
                prog.next_index = sent + 1  # updateLastAppended (may move back: upstream quirk)
                self._update_match(prog, sent, now)
            if self.role == LEADER and prog.trigger_pending:
                self._replicate(prog, now)
        else:
            if msg.success:
                if sent > 0:
                    prog.next_index = sent + 1
                    self._update_match(prog, sent, now)
                prog.failures = 0
                prog.allow_pipeline = True
            else:
                prog.next_index = max(1, min(prog.next_index - 1, msg.last_log + 1))
                if msg.no_retry_backoff:
                    prog.failures = 0
                else:
                    prog.failures += 1
            prog.busy = False
            if self.role != LEADER:
                return
            if prog.next_index <= prog.target_last:
                self._attempt(prog, now)
            else:
                self._finish_call(prog, now)
        if self._transfer_target == src and self.role == LEADER:
            self._maybe_send_timeout_now(now)

    def _abort_pipeline(self, prog: Progress, now: int) -> None:
        prog.pipeline = False
        prog.inflight.clear()
        prog.busy = False
        self._arm_commit_timer(prog, now)

    def _update_match(self, prog: Progress, index: int, now: int) -> None:
        if index > prog.match_index:
            prog.match_index = index
            self._recompute_commit(now)

    def _on_rpc_error(self, src: str, msg: RpcError, now: int) -> None:
        t = msg.kind
        if t is RequestVote:
            if self.role == CANDIDATE and msg.rpc in self._round_rpcs:
                self._round_rpcs.discard(msg.rpc)
                if msg.prevote and self._prevote_phase:
                    self._refused += 1
            return
        if self.role != LEADER:
            return
        prog = self.progress.get(src)
        if prog is None:
            return
        if t is Heartbeat:
            if prog.hb_rpc != msg.rpc:
                return
            prog.hb_rpc = 0
            wait = heartbeat_backoff(prog.hb_failures, self.timing.heartbeat_timeout // 2)
            prog.hb_failures += 1
            self._arm(prog.hb_key, now + wait + self._heartbeat_wait())
        elif t is AppendEntries:
            if msg.rpc not in prog.inflight:
                return
            del prog.inflight[msg.rpc]
            prog.failures += 1
            if prog.pipeline:
                self._abort_pipeline(prog, now)
            else:
                # A transport error ends replicateTo; the loop waits for the next wake-up.
                prog.busy = False
                self._finish_call(prog, now)

    # ------------------------------------------------------------------ leader: heartbeats

    def _heartbeat_wait(self) -> int:
        if self.timing.paper:
            return self.timing.heartbeat_interval  # type: ignore[return-value]
        return self._random_timeout(self.timing.heartbeat_timeout // 10)

    def _heartbeat(self, prog: Progress, now: int) -> None:
        """Send a heartbeat; the next waits for its response (hashicorp) or a fixed interval (paper)."""
        if prog.removed:
            return
        if self.timing.paper:
            self._arm(prog.hb_key, now + self.timing.heartbeat_interval)  # type: ignore[operator]
        elif prog.hb_rpc:
            return
        rpc = self._next_rpc()
        prog.hb_rpc = rpc
        self.outbox.append((prog.peer, Heartbeat(
            rpc, now + self.timing.rpc_timeout, self.current_term, self.id)))

    def _on_heartbeat_response(self, src: str, msg: HeartbeatResponse, now: int) -> None:
        if self.role != LEADER:
            return
        prog = self.progress.get(src)
        if prog is None or prog.hb_rpc != msg.rpc:
            return
        prog.hb_rpc = 0
        prog.last_contact = now  # whatever the content: the term is not checked (§4.3)
        prog.hb_failures = 0
        if not self.timing.paper:
            self._arm(prog.hb_key, now + self._heartbeat_wait())

    # ------------------------------------------------------------------ leader: log and commit

    def _dispatch(self, items: list[tuple[str, object]], now: int) -> None:
        """dispatchLogs: assign indexes, write our own log (one fsync), then trigger replication."""
        log = self.log
        term = self.current_term
        index = log[-1].index
        for kind, data in items:
            index += 1
            entry = Entry(index, term, kind, data)
            log.append(entry)
            if kind == CONFIGURATION:
                self._append_configuration(entry)
                self._sync_progress(now)
                self._rebuild_commitment()
        self.writes += 1
        self._recompute_commit(now)
        for prog in self.progress.values():
            self._replicate(prog, now)

    def _sync_progress(self, now: int) -> None:
        """startStopReplication: start new servers, stop removed ones after one best-effort send."""
        members = {sid for sid, _ in self.latest_config}
        for peer in [p for p in self.progress if p not in members]:
            prog = self.progress.pop(peer)
            prog.removed = False
            prog.pipeline = False
            prog.busy = False
            prog.sleeping = False
            self._arm(prog.ct_key, None)
            self._arm(prog.bo_key, None)
            self._arm(prog.hb_key, None)
            prog.next_index = min(prog.next_index, self.last_index)
            self._send_append(prog, now)  # best effort; the answer is ignored
            prog.removed = True
            self._retired[peer] = prog
        for sid in members:
            if sid != self.id and sid not in self.progress:
                self._add_progress(sid, now)

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
                self._note("configuration_committed", self.latest_config_index, self.latest_config)
                if not self.is_voter():
                    self._become_follower(now, "removed or demoted from the configuration")
                    return
            self._drain_config_queue(now)

    def propose(self, data: object, now: int) -> bool:
        """A client write (Apply). False when this node cannot accept it (not leader, transfer)."""
        if self.role != LEADER or self._transfer_target is not None:
            return False
        self._dispatch([(COMMAND, data)], now)
        return True

    def propose_batch(self, items: list[object], now: int) -> bool:
        """Group commit: up to MaxAppendEntries+1 writes dispatched as one batch."""
        if self.role != LEADER or self._transfer_target is not None:
            return False
        self._dispatch([(COMMAND, d) for d in items], now)
        return True

    def barrier(self, now: int) -> int:
        """raft.Barrier: one LogBarrier entry (Nomad issues one on every leader reconcile).

        Returns the entry's index, or 0 when this node cannot accept it."""
        return self.propose_entry(BARRIER, None, now)

    def propose_entry(self, kind: str, data: object, now: int) -> int:
        """Apply one entry of any kind (e.g. Nomad's autopilot configuration write).

        Returns the entry's index (Nomad's ModifyIndex for config writes), or 0 when this node
        is not the leader or a leadership transfer is in progress."""
        if self.role != LEADER or self._transfer_target is not None:
            return 0
        self._dispatch([(kind, data)], now)
        return self.log[-1].index

    # ------------------------------------------------------------------ leader: membership

    def change_configuration(self, op: str, server_id: str, now: int) -> bool:
        """Queue AddVoter / AddNonvoter / DemoteVoter / RemoveServer; False when not leader.

        Requests wait until the previous change committed and this term's no-op committed (§5.3).
        """
        if self.role != LEADER or self._transfer_target is not None:
            return False
        if op not in cfg.OPERATIONS:
            raise cfg.ConfigurationError(f"unknown configuration operation {op!r}")
        self._config_queue.append((op, server_id))
        self._drain_config_queue(now)
        return True

    def _drain_config_queue(self, now: int) -> None:
        while (
            self._config_queue
            and self.role == LEADER
            and self._transfer_target is None
            and self.latest_config_index == self.committed_config_index
            and self.commit_index >= self.start_index
        ):
            op, server_id = self._config_queue.popleft()
            try:
                new = cfg.next_configuration(self.latest_config, op, server_id)
            except cfg.ConfigurationError as exc:
                self._note("configuration_rejected", op, server_id, str(exc))
                continue
            self._dispatch([(CONFIGURATION, new)], now)

    def pending_configuration_changes(self) -> int:
        """Queued membership requests not yet appended."""
        return len(self._config_queue)

    # ------------------------------------------------------------------ leader: lease, transfer

    def _check_lease(self, now: int) -> None:
        """§4.7: step down below quorum; next check when the stalest counted contact expires."""
        llt = self.timing.leader_lease_timeout
        voters = self._voters()
        contacted = 0
        max_diff = 0
        for sid in voters:
            if sid == self.id:
                contacted += 1
                continue
            prog = self.progress.get(sid)
            if prog is None:
                continue
            diff = now - prog.last_contact
            if diff <= llt:
                contacted += 1
                if diff > max_diff:
                    max_diff = diff
        if contacted < quorum_size(len(voters)):
            self._become_follower(now, "leader lease expired: no contact with a quorum")
            return
        self._arm(T_LEASE, now + max(llt - max_diff, LEASE_MIN_CHECK))

    def transfer_leadership(self, target: str | None, now: int) -> bool:
        """LeadershipTransfer(ToServer): catch the target up, then TimeoutNow; abandon after ET."""
        if self.role != LEADER or self._transfer_target is not None:
            return False
        if target is None:
            candidates = [p for sid, p in self.progress.items()
                          if cfg.suffrage_of(self.latest_config, sid) == VOTER]
            if not candidates:
                return False
            target = max(candidates, key=lambda p: (p.next_index, p.peer)).peer
        if target == self.id or target not in self.progress:
            return False
        self._transfer_target = target
        self._transfer_sent = False
        self._arm(T_TRANSFER, now + self.timing.election_timeout)
        self._note("transfer", self.current_term, target)
        self._replicate(self.progress[target], now)
        self._maybe_send_timeout_now(now)
        return True

    def _maybe_send_timeout_now(self, now: int) -> None:
        target = self._transfer_target
        if target is None or self._transfer_sent:
            return
        prog = self.progress.get(target)
        # hashicorp/raft sends TimeoutNow after a synchronous replicateTo has returned, i.e.
        # never while entries to the target are still in flight: a TimeoutNow overtaking the
        # last AppendEntries would start an election the target cannot win.
        if prog is None or prog.next_index <= self.last_index or any(prog.inflight.values()):
            return
        self._transfer_sent = True
        self.outbox.append((target, TimeoutNow(
            self._next_rpc(), now + self.timing.rpc_timeout, self.current_term, self.id)))

    # ------------------------------------------------------------------ observation

    def stats(self, now: int) -> dict[str, str]:
        """hashicorp/raft Stats() with its quirks (§6): every value a string."""
        from autopilot_sim.durations import format_duration

        if self.role == LEADER:
            last_contact = "0"
        elif self.last_contact is None:
            last_contact = "never"
        else:
            last_contact = format_duration(now - self.last_contact)
        voter = self.is_voter()
        peers = sum(1 for sid, s in self.latest_config if s == VOTER and sid != self.id) if voter else 0
        return {
            "state": self.role,
            "term": str(self.current_term),
            "last_log_index": str(self.last_index),
            "last_log_term": str(self.last_term),
            "commit_index": str(self.commit_index),
            "applied_index": str(self.commit_index),
            "fsm_pending": "0",
            "last_snapshot_index": "0",
            "last_snapshot_term": "0",
            "protocol_version": "3",
            "protocol_version_min": "0",
            "protocol_version_max": "3",
            "snapshot_version_min": "0",
            "snapshot_version_max": "1",
            "latest_configuration_index": "0",
            "latest_configuration": cfg.format_configuration(self.latest_config),
            "num_peers": str(peers),
            "last_contact": last_contact,
        }
