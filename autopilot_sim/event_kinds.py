"""Every `kind` an events.jsonl line can have, in one place.

Emitters (the engine, the Nomad layer, the runner, the live API) and readers (the narration,
the plots, the summary counts, tests) name kinds through these constants; `KINDS` lists them
all with what each records, and a test checks that no emitter uses a kind missing here.
"""

from __future__ import annotations

# Scenario events, as the runner applies them.
CRASH = "crash"
RESTART = "restart"
PAUSE = "pause"
PARTITION = "partition"
CUT = "cut"
HEAL = "heal"
SET_NETWORK = "set_network"
SET_LOAD = "set_load"
JOIN = "join"
LEAVE = "leave"
FORCE_LEAVE = "force_leave"
UPGRADE = "upgrade"
ROLLING_RESTART = "rolling_restart"
CONFIG_WRITE = "config_write"
CONFIG_WRITE_FAILED = "config_write_failed"
# Raft, from the engine.
ELECTION_STARTED = "election_started"
LEADER_ELECTED = "leader_elected"
LEADER_STEPPED_DOWN = "leader_stepped_down"
CONFIGURATION_COMMITTED = "configuration_committed"
# Nomad's server layer and autopilot.
SERF_MEMBER = "serf_member"
STOPPED = "stopped"
RAFT_ADD = "raft_add"
RAFT_REMOVE = "raft_remove"
AUTOPILOT_STARTED = "autopilot_started"
AUTOPILOT_STOPPED = "autopilot_stopped"
AUTOPILOT_STATE = "autopilot_state"
HEALTH = "health"
FAILURE_TOLERANCE = "failure_tolerance"
CLUSTER_HEALTH = "cluster_health"
PROMOTION = "promotion"
DEMOTION = "demotion"
REMOVAL = "removal"
REFUSED = "refused"
LEADERSHIP_TRANSFER = "leadership_transfer"
UPGRADE_STATUS = "upgrade_status"
# The run itself.
EXPECTATION = "expectation"
SAFETY_VIOLATION = "safety_violation"
# The live API (`serve`).
API_EVENT = "api_event"
API_EVENT_REJECTED = "api_event_rejected"
API_CONFIG_WRITE = "api_config_write"
API_CONFIG_WRITE_FAILED = "api_config_write_failed"
SCENARIO_ERROR = "scenario_error"
INTERNAL_ERROR = "internal_error"
SESSION_END = "session_end"
API_RAFT_REMOVE = "api_raft_remove"
API_RAFT_REMOVE_FAILED = "api_raft_remove_failed"
API_LEADERSHIP_TRANSFER = "api_leadership_transfer"
API_LEADERSHIP_TRANSFER_FAILED = "api_leadership_transfer_failed"
API_LEADERSHIP_TRANSFER_RETRY = "api_leadership_transfer_retry"

#: kind -> what one line of that kind records.
KINDS: dict[str, str] = {
    CRASH: "a server process died, or stopped without leaving (scenario event; a rolling restart step or an "
           "upgrade with down_for carries `cause`, and `step` k/n for a rolling restart)",
    RESTART: "a crashed server started again with its persisted state",
    PAUSE: "a server process stalled for a while",
    PARTITION: "the network split into groups",
    CUT: "one direction of a link stopped carrying (some) traffic",
    HEAL: "the network, or one link, was repaired",
    SET_NETWORK: "latency or loss changed",
    SET_LOAD: "the client write rate changed",
    JOIN: "a new server process started and joins",
    LEAVE: "a server leaves gracefully",
    FORCE_LEAVE: "the operator force-left a server",
    UPGRADE: "a server restarted on another version",
    ROLLING_RESTART: "a rolling restart began: the servers, and the order used (order_used; null when chosen "
                     "at each step)",
    CONFIG_WRITE: "an autopilot configuration write went to Raft",
    CONFIG_WRITE_FAILED: "an autopilot configuration write found no leader",
    ELECTION_STARTED: "a candidate voted for itself in a new term",
    LEADER_ELECTED: "a candidate won an election",
    LEADER_STEPPED_DOWN: "a leader became a follower (and why)",
    CONFIGURATION_COMMITTED: "the leader committed a Raft configuration",
    SERF_MEMBER: "the leader's serf saw a member event",
    STOPPED: "a server that left exited",
    RAFT_ADD: "Nomad added a serf member to Raft as a non-voter",
    RAFT_REMOVE: "Nomad removed a left or reaped member from Raft",
    AUTOPILOT_STARTED: "autopilot started on a new leader",
    AUTOPILOT_STOPPED: "autopilot stopped (leadership lost)",
    AUTOPILOT_STATE: "the first autopilot state of a leadership",
    HEALTH: "a server turned healthy or unhealthy (and the rule)",
    FAILURE_TOLERANCE: "the cluster's failure tolerance changed",
    CLUSTER_HEALTH: "the cluster turned healthy or unhealthy",
    PROMOTION: "autopilot promoted a non-voter",
    DEMOTION: "autopilot demoted a voter",
    REMOVAL: "autopilot removed a server (and the rule)",
    REFUSED: "autopilot refused an action (and why)",
    LEADERSHIP_TRANSFER: "autopilot asked for a leadership transfer (to which server, and why)",
    UPGRADE_STATUS: "Enterprise: the upgrade migration status changed",
    EXPECTATION: "a scenario expectation held, failed or was skipped",
    SAFETY_VIOLATION: "a Raft safety invariant broke (the run stops)",
    API_EVENT: "a fault injected through the live API",
    API_EVENT_REJECTED: "a live API fault that could not be applied",
    API_CONFIG_WRITE: "a configuration write through the live API",
    API_CONFIG_WRITE_FAILED: "a live API configuration write that failed",
    SCENARIO_ERROR: "a scenario event failed in a live session",
    INTERNAL_ERROR: "the live simulation stopped on an internal error",
    SESSION_END: "a live session ended",
    API_RAFT_REMOVE: "a Raft peer removed through the live API (RemoveServer)",
    API_RAFT_REMOVE_FAILED: "a live API Raft peer removal that failed",
    API_LEADERSHIP_TRANSFER: "a leadership transfer through the live API (started, done or a no-op)",
    API_LEADERSHIP_TRANSFER_FAILED: "a live API leadership transfer that failed",
    API_LEADERSHIP_TRANSFER_RETRY: "a timed-out live API leadership transfer tried again",
}
