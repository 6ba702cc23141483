"""Faults of a plan and the scenario events they become.

A fault is one thing that goes wrong for a while, then is undone:

==========  ==========================================  ===========================================
kind        fields                                      scenario events
==========  ==========================================  ===========================================
crash       ``server``                                  ``crash`` at ``at``; ``restart`` at ``at + for``
pause       ``server``                                  ``pause: {server, for}`` at ``at``
partition   ``groups`` (lists of servers; the rest      ``partition`` at ``at``; ``heal: all`` at
            form one more group)                        ``at + for``
cut         ``from``, ``to``, ``traffic``               ``cut`` at ``at``; ``heal: {from, to}`` at
            (all | raft | gossip)                       ``at + for``
loss        ``loss`` (probability)                      ``set_network: {loss}`` at ``at``; back to the
                                                        scenario's loss at ``at + for``
==========  ==========================================  ===========================================

``server`` may be ``leader`` (the leader when the fault starts; the restart then brings back the
server that crash took down). Two faults of a plan never overlap where they would interfere: the
crash or pause faults of one server (a ``leader`` target counts as every server), the network
faults (partitions and cuts, since a heal undoes them all) and the loss windows each follow one
another, at least `GAP` apart. `plan_conflict` checks that.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from autopilot_sim.durations import MILLISECOND, SECOND, format_duration, parse_duration

#: Plans are drawn and shrunk in steps of this many ns (keeps the scenario files readable).
STEP = 100 * MILLISECOND
#: Faults that must not overlap keep at least this much time between them.
GAP = 1 * SECOND
LEADER = "leader"


@dataclass(frozen=True)
class Fault:
    """One fault: its kind, when it starts (`at`, ns), how long it lasts (`length`, ns), and the
    kind's fields (see the module docstring)."""

    kind: str
    at: int
    length: int
    server: str = ""
    groups: tuple[tuple[str, ...], ...] = ()
    from_: str = ""
    to: str = ""
    traffic: str = "all"
    loss: float = 0.0

    @property
    def end(self) -> int:
        """When the fault is undone."""
        return self.at + self.length

    def servers(self) -> set[str]:
        """The server names the fault refers to (not `leader`)."""
        if self.kind in ("crash", "pause"):
            return {self.server} - {LEADER}
        if self.kind == "partition":
            return {s for g in self.groups for s in g} - {LEADER}
        if self.kind == "cut":
            return {self.from_, self.to}
        return set()

    def lane(self) -> str:
        """Which faults this one must not overlap: ``server:NAME``, ``network`` or ``loss``."""
        if self.kind in ("crash", "pause"):
            return f"server:{self.server}"
        return "network" if self.kind in ("partition", "cut") else "loss"

    def to_json(self) -> dict[str, Any]:
        """The fault as plans.jsonl records it (times as Go durations)."""
        out: dict[str, Any] = {"kind": self.kind, "at": format_duration(self.at), "for": format_duration(self.length)}
        if self.kind in ("crash", "pause"):
            out["server"] = self.server
        elif self.kind == "partition":
            out["groups"] = [list(g) for g in self.groups]
        elif self.kind == "cut":
            out.update({"from": self.from_, "to": self.to, "traffic": self.traffic})
        else:
            out["loss"] = self.loss
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Fault:
        """The inverse of `to_json`."""
        return cls(kind=data["kind"], at=parse_duration(data["at"]), length=parse_duration(data["for"]),
                   server=data.get("server", ""), groups=tuple(tuple(g) for g in data.get("groups", [])),
                   from_=data.get("from", ""), to=data.get("to", ""), traffic=data.get("traffic", "all"),
                   loss=float(data.get("loss", 0.0)))

    def events(self, base_loss: float) -> list[dict[str, Any]]:
        """The scenario events (YAML-ready mappings) of this fault."""
        at, end = format_duration(self.at), format_duration(self.end)
        if self.kind == "crash":
            return [{"at": at, "crash": self.server}, {"at": end, "restart": self.server}]
        if self.kind == "pause":
            return [{"at": at, "pause": {"server": self.server, "for": format_duration(self.length)}}]
        if self.kind == "partition":
            return [{"at": at, "partition": [list(g) for g in self.groups]}, {"at": end, "heal": "all"}]
        if self.kind == "cut":
            return [{"at": at, "cut": {"from": self.from_, "to": self.to, "traffic": self.traffic}},
                    {"at": end, "heal": {"from": self.from_, "to": self.to}}]
        return [{"at": at, "set_network": {"loss": self.loss}}, {"at": end, "set_network": {"loss": base_loss}}]

    def describe(self) -> str:
        """One line for people: ``node3 crashed at 1m5s, restarted 20s later``."""
        at, length = format_duration(self.at), format_duration(self.length)
        if self.kind == "crash":
            who = "the leader" if self.server == LEADER else self.server
            return f"{who} crashed at {at}, restarted {length} later"
        if self.kind == "pause":
            who = "the leader" if self.server == LEADER else self.server
            return f"{who} paused at {at} for {length}"
        if self.kind == "partition":
            sides = " | ".join(", ".join(g) for g in self.groups)
            return f"partition [{sides}] from the rest at {at}, healed {length} later"
        if self.kind == "cut":
            what = "" if self.traffic == "all" else f" ({self.traffic} traffic)"
            return f"link {self.from_} -> {self.to} cut{what} at {at}, healed {length} later"
        return f"{self.loss:g} packet loss from {at} for {length}"

    def with_(self, **changes: Any) -> Fault:
        """A copy with some fields changed."""
        return replace(self, **changes)


def signature(faults: list[Fault]) -> str:
    """The fault-kind signature of a plan: ``crash×2 + partition`` (kinds in a fixed order)."""
    from autopilot_sim.explore.budget import FAULT_KINDS

    parts = []
    for kind in FAULT_KINDS:
        n = sum(1 for f in faults if f.kind == kind)
        if n:
            parts.append(kind if n == 1 else f"{kind}×{n}")
    return " + ".join(parts) or "no fault"


def _overlaps(a: Fault, b: Fault) -> bool:
    return a.at < b.end + GAP and b.at < a.end + GAP


def _same_lane(a: Fault, b: Fault) -> bool:
    la, lb = a.lane(), b.lane()
    if la.startswith("server:") and lb.startswith("server:"):
        return la == lb or LEADER in (a.server, b.server)
    return la == lb


def plan_conflict(faults: list[Fault], start: int, end: int) -> str | None:
    """Why the plan is not a valid plan within [start, end], or None: a fault outside the
    window, or two faults in the same lane that overlap."""
    for i, f in enumerate(faults):
        if f.at < start or f.end > end or f.length <= 0:
            return f"fault {i} ({f.describe()}) is outside [{format_duration(start)}, {format_duration(end)}]"
        for j in range(i):
            if _same_lane(f, faults[j]) and _overlaps(f, faults[j]):
                return f"faults {j} and {i} overlap"
    return None


def plan_events(faults: list[Fault], base_loss: float) -> list[dict[str, Any]]:
    """Every event of the plan, in time order (faults in plan order at equal times)."""
    events = [(parse_duration(e["at"]), i, e) for i, f in enumerate(faults) for e in f.events(base_loss)]
    return [e for _, _, e in sorted(events, key=lambda item: (item[0], item[1]))]


def seconds(ns: int) -> float:
    """ns → seconds, for figures."""
    return ns / SECOND
