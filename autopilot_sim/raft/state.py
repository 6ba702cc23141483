"""The `RaftNode` fields and methods its mixins (election, replication, commitment) use, for mypy.

Go spreads one struct's methods over several files; Python mixins do the same, but a type
checker sees each mixin alone. `NodeState` declares what the mixins read from the node, and the
mixins inherit from it. All four are mypyc traits (`@trait`): mypyc compiles multiple inheritance
only from traits, and a trait's base must be a trait (under plain Python `trait` does nothing).
`RaftNode` defines every member below; mypy checks that its definitions match these declarations.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from mypy_extensions import mypyc_attr, trait

if TYPE_CHECKING:
    from autopilot_sim.raft import configuration as cfg
    from autopilot_sim.raft import notes
    from autopilot_sim.raft.messages import Entry, Message
    from autopilot_sim.raft.replication import Progress
    from autopilot_sim.raft.timing import RaftTiming
    from autopilot_sim.raft.timing_models import TimingModel
    from autopilot_sim.timer import Timer


@trait  # the mixins (traits for mypyc) may only derive from traits
@mypyc_attr(allow_interpreted_subclasses=True)  # as RaftNode (copy.deepcopy)
class NodeState:
    """Declarations only (no values, no behaviour): see the module docstring."""

    id: str
    timing: RaftTiming
    _timing_model: TimingModel  # hashicorp/raft's timers or the paper's, chosen once from `timing`
    _rng: random.Random  # its own stream; a deep copy of the node draws from a copy of it
    current_term: int
    vote_term: int
    vote_cand: str | None
    log: list[Entry]
    outbox: list[tuple[str, Message]]
    timer_requests: list[Timer]
    writes: int
    role: str
    leader: str | None
    last_contact: int | None
    commit_index: int
    latest_config: cfg.Configuration
    latest_config_index: int
    committed_config: cfg.Configuration
    committed_config_index: int
    _round_rpcs: set[int]
    _prevote_phase: bool
    _granted: int
    _refused: int
    _votes_needed: int
    _transfer_candidate: bool
    _election_at: int
    progress: dict[str, Progress]
    _retired: dict[str, Progress]
    start_index: int
    _voter_set: set[str]
    _self_votes: int
    _quorum: int
    _acks: dict[int, int]
    _transfer_target: str | None

    @property
    def last_index(self) -> int:
        raise NotImplementedError
    @property
    def last_term(self) -> int:
        raise NotImplementedError
    def is_voter(self) -> bool:
        raise NotImplementedError
    def _voters(self) -> list[str]:
        raise NotImplementedError
    def _arm(self, key: str | Timer, deadline: int | None) -> None: ...
    def _next_rpc(self) -> int:
        raise NotImplementedError
    def _set_term(self, term: int) -> None: ...
    def _note(self, note: notes.Note) -> None: ...
    def _become_follower(self, now: int, reason: str) -> None: ...
    def _leave_leader(self, now: int) -> None: ...
    def _become_leader(self, now: int) -> None: ...
    def _add_progress(self, peer: str, now: int) -> None: ...
    def _touch_contact(self, now: int) -> None: ...
    def _drain_config_queue(self, now: int) -> None: ...
    def _maybe_send_timeout_now(self, now: int) -> None: ...
    def _update_match(self, prog: Progress, index: int, now: int) -> None: ...
