"""A pure hashicorp/raft (v1.7.3) server: roles, terms, votes, log, replication, membership.

Split along hashicorp/raft's own files: this module holds the node's state, its inputs, role
transitions, the follower side, the leader's log, membership, lease and transfer; elections are
in `election.py`, replication (with `Progress`) in `replication.py`, the commit index in
`commitment.py` (mixins of `RaftNode`, as Go spreads one struct's methods over files).
Why still ~600 lines: what stays here (role transitions, the follower's receiver, the leader's
log, membership, lease and transfer) acts on the same fields, in raft.go's order; splitting it
further would scatter single rules over files.

The node does no I/O and keeps no clock. The caller (the SimPy engine, or a test) drives it:

* `on_message(src, msg, now)`, `on_timer(key, now)`, `propose(data, now)`,
  `change_configuration(op, server_id, now)`, `transfer_leadership(target, now)`;
* after each call it drains `outbox` (destination, message), `timer_requests` (the `Timer`s the
  call armed or disarmed, autopilot_sim/timer.py; on_timer later gets a timer's key: a node
  timer's name or `(kind, peer)`) and `notes` (role and configuration
  changes worth recording), and reads `writes` (stable/log store fsyncs the call performed).

Rule references (§n) are to docs/behaviour/raft.md.
"""

from __future__ import annotations

import random
from collections import deque
from typing import Final, cast

from mypy_extensions import mypyc_attr

from autopilot_sim.durations import MILLISECOND
from autopilot_sim.raft import configuration as cfg
from autopilot_sim.raft import notes
from autopilot_sim.raft.commitment import Commitment
from autopilot_sim.raft.election import Election
from autopilot_sim.raft.messages import (
    COMMAND,
    CONFIGURATION,
    NOOP,
    VOTER,
    AppendEntries,
    AppendEntriesResponse,
    Entry,
    Heartbeat,
    HeartbeatResponse,
    Message,
    RequestVote,
    RpcError,
    TimeoutNow,
    TimeoutNowResponse,
    VoteResponse,
)
from autopilot_sim.raft.quorum import quorum_size
from autopilot_sim.raft.replication import (  # noqa: F401 - re-exported for callers and tests
    FAILURE_WAIT,
    MAX_FAILURE_SCALE,
    Progress,
    Replication,
    heartbeat_backoff,
    replication_backoff,
)
from autopilot_sim.raft.roles import (  # re-exported: the node's public names
    CANDIDATE,
    FOLLOWER,
    LEADER,
    MAIN_LOOP_TIMERS,
    SHUTDOWN,
    T_ELECTION,
    T_FOLLOWER,
    T_LEASE,
    T_TRANSFER,
)
from autopilot_sim.raft.timing import RaftTiming
from autopilot_sim.raft.timing_models import random_timeout, timing_model
from autopilot_sim.raft.votes import PAPER, paper_vote
from autopilot_sim.timer import Timer

LEASE_MIN_CHECK: Final = 10 * MILLISECOND
_SENTINEL = Entry(0, 0, NOOP)


@mypyc_attr(allow_interpreted_subclasses=True)  # mypyc: copy.deepcopy works (notebook 06)
class RaftNode(Election, Replication, Commitment):
    """One Raft server. Persistent: term, vote, log. Everything else is lost on `crash()`."""

    def __init__(self, node_id: str, timing: RaftTiming, rng: random.Random) -> None:
        self.id = node_id
        self.timing = timing
        self._rng = rng
        self._timing_model = timing_model(timing)  # hashicorp/raft's or the paper's (timing_models.py)
        # Persistent state (survives restart).
        self.current_term = 0
        self.vote_term = 0
        self.vote_cand: str | None = None
        self.log: list[Entry] = [_SENTINEL]
        # Outputs drained by the caller.
        self.outbox: list[tuple[str, Message]] = []
        self.timer_requests: list[Timer] = []
        # The node's own timers by key; the leader's per-peer ones live on each Progress.
        self._own_timers = {key: Timer(key, main_loop=key in MAIN_LOOP_TIMERS)
                        for key in (T_FOLLOWER, T_ELECTION, T_LEASE, T_TRANSFER)}
        self.notes: list[notes.Note] = []
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
        self._election_at = 0  # the candidate round's deadline (kept as the follower timer: _become_follower)
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
            # configuration entries carry a cfg.Configuration (see change_configuration)
            self.latest_config = cast(cfg.Configuration, found[-1].data)
            self.latest_config_index = found[-1].index
        if len(found) > 1:
            self.committed_config = cast(cfg.Configuration, found[-2].data)
            self.committed_config_index = found[-2].index

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
        """util.go randomTimeout on the node's own stream: uniform on [d, 2d) in integer ns."""
        return random_timeout(self._rng, d)

    def _arm(self, key: str | Timer, deadline: int | None) -> None:
        """Arm (or, with None, disarm) a timer: a per-peer `Timer`, or one of the node's by key."""
        timer = key if isinstance(key, Timer) else self._own_timers[key]
        self.timer_requests.append(timer.disarm() if deadline is None else timer.arm(deadline))

    def _next_rpc(self) -> int:
        self._rpc_seq += 1
        return self._rpc_seq

    def _set_term(self, term: int) -> None:
        self.current_term = term
        self.writes += 1  # setCurrentTerm persists first (§8.1)

    def _note(self, note: notes.Note) -> None:
        self.notes.append(note)

    # ------------------------------------------------------------------ lifecycle

    def bootstrap(self, servers: cfg.Configuration, now: int) -> None:
        """BootstrapCluster on a server without state: term 1, configuration entry at index 1."""
        if self.last_index != 0 or self.current_term != 0:
            return  # HasExistingState: bootstrap is a no-op
        self.current_term = 1
        self.writes += 2
        config = tuple(servers)
        entry = Entry(1, 1, CONFIGURATION, config)
        self.log.append(entry)
        self.latest_config, self.latest_config_index = config, 1

    def start(self, now: int) -> None:
        """Process start (also after a restart): enter the follower loop."""
        self._enter_follower(now)

    def crash(self) -> None:
        """The process dies: volatile state is lost; persistent term, vote and log are kept."""
        self.outbox.clear()
        self.timer_requests.clear()
        for timer in self._own_timers.values():
            timer.disarm()
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
        self._arm(T_FOLLOWER, self._timing_model.follower_deadline(self.timing, self._rng, now))

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
        self._note(notes.SteppedDown(self.current_term, previous, reason))
        self._enter_follower(now)
        if previous == CANDIDATE and self.timing.vote_rules == PAPER:
            # LogCabin's stepDown keeps the running timer: the round's deadline, which both
            # timing models record.
            self._arm(T_FOLLOWER, self._election_at)

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
        self._note(notes.LeaderElected(self.current_term))
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
        if type(key) is tuple:  # per-peer timers (most of them): heartbeat, commit, back-off
            if role != LEADER:
                return
            kind, peer = key
            prog = self.progress.get(peer)
            if prog is None:
                return
            if kind == "ct":
                self._replicate(prog, now)
            elif kind == "hb":
                self._heartbeat(prog, now)
            elif kind == "bo":
                prog.sleeping = False
                self._send_append(prog, now)
        elif key == T_FOLLOWER:
            if role == FOLLOWER:
                self._follower_check(now)
        elif key == T_ELECTION:
            if role == CANDIDATE:
                self._transfer_candidate = False  # the flag ends with its round
                self._start_round(now)
        elif key == T_LEASE:
            if role == LEADER:
                self._check_lease(now)
        elif key == T_TRANSFER and role == LEADER:
            self._transfer_target = None  # abandoned: "leadership transfer timeout"
            self._note(notes.TransferTimedOut(self.current_term))
            self._drain_config_queue(now)

    def on_message(self, src: str, msg: object, now: int) -> None:
        """Deliver one RPC request, response, or transport error."""
        if self.role == SHUTDOWN:
            return
        # An if-chain in order of frequency, not a table of bound methods: compiled (mypyc) each
        # branch is a direct call, and a node holds no bound methods (copy.deepcopy copies it).
        if type(msg) is AppendEntries:
            self._on_append(src, msg, now)
        elif type(msg) is AppendEntriesResponse:
            self._on_append_response(src, msg, now)
        elif type(msg) is Heartbeat:
            self._on_heartbeat(src, msg, now)
        elif type(msg) is HeartbeatResponse:
            self._on_heartbeat_response(src, msg, now)
        elif type(msg) is RpcError:
            self._on_rpc_error(src, msg, now)
        elif type(msg) is RequestVote:
            self._on_request_vote(src, msg, now)
        elif type(msg) is VoteResponse:
            self._on_vote_response(src, msg, now)
        elif type(msg) is TimeoutNow:
            self._on_timeout_now(src, msg, now)
        elif type(msg) is not TimeoutNowResponse:  # TimeoutNowResponse: nothing to do
            raise TypeError(f"unexpected message {msg!r}")

    def _on_request_vote(self, src: str, msg: RequestVote, now: int) -> None:
        if msg.prevote:
            self._on_prevote(src, msg, now)
        elif self.timing.vote_rules == PAPER:
            paper_vote(self, src, msg, now, LEADER, FOLLOWER)
        else:
            self._on_vote(src, msg, now)

    def _touch_contact(self, now: int) -> None:
        self.last_contact = now
        self._timing_model.valid_contact(self, now)  # paper timing: the follower's timer restarts

    def _follower_check(self, now: int) -> None:
        """§2.1: the follower's timer fired (hashicorp: a free-running check, not reset by RPCs)."""
        if not self._timing_model.follower_timer_fired(self, now):
            return
        self.leader = None
        if self.latest_config_index == 0:
            return  # no known peers
        if self.latest_config_index == self.committed_config_index and not self.is_voter():
            return  # not part of the stable configuration
        if self.is_voter():
            self._become_candidate(now)
        else:
            self._timing_model.follower_waits_again(self, now)

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
        if prev > 0 and (prev > last or log[prev].term != msg.prev_term):
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
        self._note(notes.Truncated(index, removed))
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
        self._note(notes.ConfigurationAppended(entry.index, entry.data))  # type: ignore[arg-type]

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
                self._note(notes.ConfigurationRejected(op, server_id, str(exc)))
                continue
            self._dispatch([(CONFIGURATION, new)], now)

    def change_queued(self, server_id: str) -> bool:
        """Whether a membership request about `server_id` waits in the queue."""
        return any(sid == server_id for _, sid in self._config_queue)

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
                max_diff = max(max_diff, diff)
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
        self._note(notes.TransferStarted(self.current_term, target))
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

    def contact_age(self, now: int) -> int | None:
        """Stats()'s `last_contact` as a number: 0 on the leader, None when never contacted,
        else the time since the last contact (ns)."""
        if self.role == LEADER:
            return 0
        if self.last_contact is None:
            return None
        return now - self.last_contact

    def stats(self, now: int) -> dict[str, str]:
        """hashicorp/raft Stats() with its quirks (§6): every value a string."""
        from autopilot_sim.durations import format_duration

        age = self.contact_age(now)
        last_contact = "0" if self.role == LEADER else "never" if age is None else format_duration(age)
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
