"""Log replication on the leader (hashicorp/raft replication.go): one `Progress` per other
server — the state of its replication and heartbeat goroutines — and the methods that send
AppendEntries and heartbeats and handle their answers. A mixin of `RaftNode` (Go's methods of
one struct spread over files); the back-off arithmetic is in plain functions.

Rule references (§n) are to the hashicorp/raft behaviour reference (docs/).
"""

from __future__ import annotations

from typing import Final

from mypy_extensions import mypyc_attr, trait

from autopilot_sim.durations import MILLISECOND
from autopilot_sim.raft.messages import (
    AppendEntries,
    AppendEntriesResponse,
    Heartbeat,
    HeartbeatResponse,
    RequestVote,
    RpcError,
)
from autopilot_sim.raft.roles import (
    CANDIDATE,
    LEADER,
)
from autopilot_sim.raft.state import NodeState
from autopilot_sim.raft.timing_models import random_timeout
from autopilot_sim.timer import Timer

FAILURE_WAIT: Final = 10 * MILLISECOND
MAX_FAILURE_SCALE: Final = 12


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


@mypyc_attr(allow_interpreted_subclasses=True)  # mypyc: copy.deepcopy works (notebook 06)
class Progress:
    """The leader's view of one other server (a replication + heartbeat goroutine pair)."""

    __slots__ = (
        "allow_pipeline",
        "bo_key",
        "busy",
        "ct_key",
        "failures",
        "hb_failures",
        "hb_key",
        "hb_rpc",
        "inflight",
        "last_contact",
        "match_index",
        "next_index",
        "peer",
        "pipeline",
        "removed",
        "sleeping",
        "target_last",
        "trigger_pending",
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
        # This goroutine pair's timers (on_timer gets their keys: ("hb" | "ct" | "bo", peer)).
        self.hb_key = Timer(("hb", peer))
        self.ct_key = Timer(("ct", peer))
        self.bo_key = Timer(("bo", peer))
        self.removed = False


@trait  # a mixin of RaftNode: mypyc compiles multiple inheritance only from traits
@mypyc_attr(allow_interpreted_subclasses=True)  # as RaftNode (copy.deepcopy)
class Replication(NodeState):  # NodeState: what the mixin reads from RaftNode
    """RaftNode's leader-side replication and heartbeats (see the module docstring)."""

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
        """replicate()'s select waits on a fresh randomTimeout(CommitTimeout) every iteration
        (replication.go), so every wake-up draws again; the engine schedules lazily."""
        self.timer_requests.append(prog.ct_key.arm(now + random_timeout(self._rng, self.timing.commit_timeout)))

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
            self._arm(prog.hb_key, now + wait + self._timing_model.heartbeat_wait(self.timing, self._rng))
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

    def _heartbeat(self, prog: Progress, now: int) -> None:
        """Send a heartbeat; the next waits for its response (hashicorp) or a fixed interval (paper)."""
        if prog.removed or not self._timing_model.heartbeat_due(self, prog, now):
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
        self._timing_model.heartbeat_answered(self, prog, now)  # hashicorp: the next after a pause

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
