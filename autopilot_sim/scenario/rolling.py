"""The ``rolling_restart`` event: an operator restarting (or upgrading) servers one at a time.

YAML::

    - {at: 30s, rolling_restart: {servers: all, order: leader-last, interval: 20s, down_for: 10s}}
    - {at: 30s, rolling_restart: {servers: [node1, node3], order: as-listed, version: 1.11.0}}

Keys and defaults:

* ``servers`` — ``all`` (default): every server of the scenario that is running when the rolling
  restart starts, in the scenario's order (``cluster.servers``, then servers that joined); or a
  list of server names (names only: where the leader goes is what ``order`` says).
* ``order`` — ``leader-last`` (default), ``followers-first`` or ``as-listed``; see below.
* ``interval`` — from the *start* of one step to the start of the next (stop to stop, like an
  operator's ``for s in ...; do systemctl restart nomad; sleep N; done`` where the restart itself
  is quick); default 60s. Step k (1-based) stops its server at ``at + (k-1) × interval``.
* ``down_for`` — how long each server stays down before it starts again; default 10s (a process
  stop, a host's package upgrade and a process start). Steps may overlap (``down_for`` longer
  than ``interval``): then two servers are down at once, which is exactly the mistake a what-if
  run should show; the check before the run says so in a note, it is not refused.
* ``version`` — optional: each server starts again on this Nomad version, so the same event is a
  rolling *upgrade* with downtime (unset: a plain restart, the version is unchanged).

What a step does. ``systemctl restart nomad`` sends SIGTERM and starts the process again. A
Nomad server does not leave on SIGTERM or SIGINT by default (agent ``leave_on_terminate`` and
``leave_on_interrupt`` are false, docs/behaviour/gossip.md §6.7): it stops Raft and serf without
a word to its peers, so to the rest of the cluster a stop *is* a crash — no leave message, no
Raft RemoveServer, serf has to detect it by failed probes, and its Raft state (term, vote, log)
is on disk when it starts again. A step is therefore a ``crash`` record when it stops and a ``restart`` (or, with
``version``, an ``upgrade``) record when it starts; both lines carry ``step: "k/n"`` and say
"rolling restart step k/n" in the story.

Order, and why the resolved scenario keeps one event. ``leader-last`` and ``followers-first``
depend on who leads *when the run gets there*, which no static rewrite of the file can know,
and role targets would not do either: ``follower[1]`` picks a server again once it is back. So
the event stays one event in the resolved ``scenario.yaml`` (every default filled in) and is
expanded when it fires; the expansion is written where it is known:

* ``as-listed`` — the servers in the order given (with ``all``: the scenario's order). Static:
  the resolved ``scenario.yaml`` lists the steps (server, down, up) in a comment under the
  event, and the check before the run follows each server through its step.
* ``leader-last`` — resolved once, when the event fires: the running servers in the listed
  order with the leader of that moment moved to the end (no leader then: as listed). The order
  chosen is recorded in ``events.jsonl`` (a ``rolling_restart`` line with ``order_used``) and
  the story. Leadership that moves during the restart does not change the order.
* ``followers-first`` — resolved at each step, as a careful operator who looks at
  ``nomad operator raft list-peers`` before each restart does: the first server not restarted
  yet (in the listed order) that is not the leader at that moment; the leader only when it is
  the last one left. Each step's line names the server chosen.

The run is deterministic, so re-running the resolved ``scenario.yaml`` with the same seed makes
the same choices and writes the same files, byte for byte.

Timing rules (the engine and the check before the run share them, through `plan_steps`):
step 1 stops its server when the event fires, at its place among the events of that time;
every later stop and every start is scheduled when the event fires, so it comes after the
scenario's own events of the same instant. When one step's start and the next step's stop fall
on the same instant (``down_for == interval``), the start comes first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BeforeValidator, Field, WithJsonSchema

from autopilot_sim import durations
from autopilot_sim.scenario.base import KeyedError, ScenarioModel
from autopilot_sim.scenario.types import ServerName, Version, describe, duration_type, parse_target

#: The orders a rolling restart can take its servers in.
ORDERS = ("leader-last", "followers-first", "as-listed")
Order = Literal["leader-last", "followers-first", "as-listed"]

DEFAULT_INTERVAL = 60 * durations.SECOND
DEFAULT_DOWN_FOR = 10 * durations.SECOND
#: Longest interval / down_for: a step spaced or lasting more than a day is no rolling restart.
MAX_STEP = 24 * durations.HOUR
STEP_WHY = "a step longer than a day is no rolling restart: write crash and restart events"
if TYPE_CHECKING:  # to mypy a duration field is the int of ns it holds
    StepDuration = int
else:
    StepDuration = duration_type(0, exclusive=True, maximum=MAX_STEP, why=STEP_WHY)


def _server_list(value: Any) -> Any:
    """``all`` or a non-empty list of distinct server names (checked before the names' own type)."""
    if value == "all" or not isinstance(value, list):
        return value
    if not value:
        raise ValueError("the list of servers is empty: list at least one server name, or write servers: all")
    if "all" in value:
        raise KeyedError(value.index("all"), "servers is either all or a list of server names, not both: "
                                             "write servers: all, or list the names without all")
    seen: dict[str, int] = {}
    for j, name in enumerate(value):
        if isinstance(name, str) and parse_target(name).is_role:
            raise KeyedError(j, f"servers lists server names, not roles ({describe(name)}): where the leader "
                                "goes is what order says (leader-last, followers-first, as-listed)")
        if isinstance(name, str) and name in seen:
            raise KeyedError(j, f'"{name}" is listed twice (also at servers[{seen[name]}]); each server is '
                                "restarted once")
        if isinstance(name, str):
            seen[name] = j
    return value


def _not_other_string(value: Any) -> Any:
    if isinstance(value, str) and value != "all":
        raise ValueError(f"servers is all or a list of server names, got {describe(value)}: write "
                         f"servers: all, or servers: [{value}] for one server")
    return value


Servers = Annotated[
    Literal["all"] | list[ServerName],
    BeforeValidator(_server_list),
    BeforeValidator(_not_other_string),
    WithJsonSchema({"oneOf": [{"const": "all"},
                              {"type": "array", "minItems": 1, "uniqueItems": True,
                               "items": {"type": "string"}}],
                    "description": "all (the servers running when it starts), or a list of server names."}),
]


class RollingRestartSpec(ScenarioModel):
    """Restart (or upgrade) servers one at a time. YAML: ``{servers, order, interval, down_for[,
    version]}``. Step k stops its server at ``at + (k-1) × interval`` without a leave (what
    ``systemctl restart nomad`` does: a Nomad server does not leave on SIGTERM by default) and starts
    it ``down_for`` later with its Raft state. ``as-listed`` is fixed before the run (the resolved
    scenario.yaml lists the steps in a comment); ``leader-last`` is chosen when the event fires and
    ``followers-first`` at each step, and events.jsonl records the servers chosen."""

    servers: Servers = Field(
        "all", description="all (default: every server running when it starts, in the scenario's order) "
                           "or a list of server names.")
    order: Order = Field(
        "leader-last", description="leader-last (default: the leader when it starts goes last), "
                                   "followers-first (each step takes a server that is not the leader then) "
                                   "or as-listed.")
    interval: StepDuration = Field(
        DEFAULT_INTERVAL, description="From the start of one step (a server stops) to the start of the next; "
                                      "default 60s, at most 24h.")
    down_for: StepDuration = Field(
        DEFAULT_DOWN_FOR, description="How long each server stays down; default 10s, at most 24h. Longer "
                                      "than interval: steps overlap (two servers down at once).")
    version: Version | None = Field(
        None, description="Each server starts again on this Nomad version (a rolling upgrade); unset: "
                          "the version is unchanged.")

    @property
    def names(self) -> list[str] | None:
        """The servers listed, or None for ``all``."""
        return None if self.servers == "all" else list(self.servers)

    @property
    def static(self) -> bool:
        """True when the order needs nothing from the run (``as-listed``)."""
        return self.order == "as-listed"


@dataclass(frozen=True)
class Step:
    """One step of a rolling restart: step ``number`` of ``of`` stops a server at ``down_at`` and
    starts it at ``up_at``; ``server`` is None when the run chooses it (leader-last,
    followers-first)."""

    number: int
    of: int
    down_at: int
    up_at: int
    server: str | None

    @property
    def label(self) -> str:
        """``2/5``."""
        return f"{self.number}/{self.of}"


def plan_steps(spec: RollingRestartSpec, at: int, servers: list[str]) -> list[Step]:
    """The steps for ``servers`` (the set the event covers, in listed order), starting at ``at``.
    Servers are named only for ``as-listed``."""
    n = len(servers)
    return [Step(k + 1, n, at + k * spec.interval, at + k * spec.interval + spec.down_for,
                 servers[k] if spec.static else None) for k in range(n)]


def leader_last(servers: list[str], leader: str | None) -> list[str]:
    """``servers`` in their order with ``leader`` (if among them) moved to the end."""
    return [s for s in servers if s != leader] + [s for s in servers if s == leader]


def next_follower_first(remaining: list[str], leader: str | None) -> str:
    """The first of ``remaining`` that is not ``leader``; the leader when it is the only one left."""
    return next((s for s in remaining if s != leader), remaining[0])


_ORDER_WORDS = {
    "leader-last": "the server that leads when it fires goes last",
    "followers-first": "each step takes the first server left that does not lead at that moment",
    "as-listed": "in the order listed",
}


def expansion_comment(spec: RollingRestartSpec, at: int) -> list[str]:
    """The expansion in words, for the comment under the event in the resolved scenario: the
    step times, and the servers where they are known before the run (``as-listed`` with names)."""
    fmt = durations.format_duration
    lines = [f"expands when it fires at {fmt(at)}: {spec.order}, {_ORDER_WORDS[spec.order]}"
             + (f", each starting on version {spec.version}" if spec.version else "")]
    names = spec.names
    if names is None:
        lines.append(f"step k of n (n = the servers running at {fmt(at)}, in the scenario's order): down at "
                     f"{fmt(at)} + (k-1) x {fmt(spec.interval)}, up {fmt(spec.down_for)} later")
    else:
        for step in plan_steps(spec, at, names):
            who = f"{step.server} " if step.server is not None else ""
            lines.append(f"step {step.label}: {who}down {fmt(step.down_at)}, up {fmt(step.up_at)}")
    if not spec.static or names is None:
        lines.append("the servers chosen are in events.jsonl (the rolling_restart line's order_used, and each "
                     "step's line)")
    return lines
