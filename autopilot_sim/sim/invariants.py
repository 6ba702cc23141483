"""Raft safety invariants, checked incrementally while a run goes on.

* Election safety: at most one leader per term.
* Log matching: two logs holding an entry with the same index and term hold the same entry
  (together with the AppendEntries consistency check this gives identical prefixes).
* Leader completeness: a new leader's log holds every entry committed so far.
* State machine safety: an index, once committed anywhere, always holds the same entry, and no
  server ever deletes a committed entry from its log.

A violation raises SafetyViolation naming the time, the servers and the entries involved.
"""

from __future__ import annotations

from autopilot_sim.durations import format_duration
from autopilot_sim.raft.messages import Entry


class SafetyViolation(AssertionError):
    """A Raft safety property was broken; the message says where and when."""

    def __init__(self, t_ns: int, rule: str, detail: str, servers: list[str]) -> None:
        self.t_ns = t_ns
        self.rule = rule
        self.detail = detail
        self.servers = servers
        super().__init__(f"safety violation at {format_duration(t_ns)}: {rule}: {detail}")


class SafetyChecker:
    """Tracks what every server has shown so far and checks each change against it."""

    def __init__(self) -> None:
        self.leaders: dict[int, str] = {}
        self.committed: list[Entry] = [Entry(0, 0, "noop")]
        self.by_index_term: dict[tuple[int, int], Entry] = {}
        self.checked_upto: dict[str, int] = {}
        self.commit_seen: dict[str, int] = {}

    def on_leader(self, now: int, server: str, term: int, log: list[Entry]) -> None:
        """A server won an election: one leader per term, and its log holds all committed entries."""
        holder = self.leaders.get(term)
        if holder is not None and holder != server:
            raise SafetyViolation(now, "election safety", f"{holder} and {server} both leader in term {term}", [holder, server])
        self.leaders[term] = server
        last_committed = len(self.committed) - 1
        if last_committed >= len(log):
            raise SafetyViolation(
                now, "leader completeness",
                f"{server} (term {term}) lacks committed entries {len(log)}..{last_committed}", [server])
        for index in range(1, last_committed + 1):
            if not log[index].same_as(self.committed[index]):
                raise SafetyViolation(
                    now, "leader completeness",
                    f"{server} (term {term}) holds {log[index]!r} where {self.committed[index]!r} was committed",
                    [server])

    def on_truncate(self, now: int, server: str, removed: list[Entry]) -> None:
        """A follower deleted a log suffix: none of it may be a committed entry."""
        committed = self.committed
        for entry in removed:
            if entry.index < len(committed) and committed[entry.index].same_as(entry):
                raise SafetyViolation(now, "state machine safety",
                                      f"{server} deleted committed {entry!r}", [server])
        self.checked_upto[server] = min(self.checked_upto.get(server, 0), removed[0].index - 1 if removed else 0)

    def after_step(self, now: int, server: str, log: list[Entry], commit_index: int) -> None:
        """Check entries appended and indexes committed since the last call for this server."""
        start = self.checked_upto.get(server, 0)
        last = len(log) - 1
        if start > last:
            start = last
        if last > start:
            table = self.by_index_term
            for entry in log[start + 1:]:
                key = (entry.index, entry.term)
                seen = table.get(key)
                if seen is None:
                    table[key] = entry
                elif seen is not entry and not seen.same_as(entry):
                    raise SafetyViolation(now, "log matching",
                                          f"{server} holds {entry!r} but another server holds {seen!r}", [server])
        self.checked_upto[server] = last
        seen_commit = self.commit_seen.get(server, 0)
        if commit_index > seen_commit:
            committed = self.committed
            for index in range(seen_commit + 1, commit_index + 1):
                entry = log[index]
                if index < len(committed):
                    if not committed[index].same_as(entry):
                        raise SafetyViolation(
                            now, "state machine safety",
                            f"{server} committed {entry!r} at index {index} where {committed[index]!r} was committed",
                            [server])
                elif index == len(committed):
                    committed.append(entry)
                else:  # pragma: no cover - commit indexes only grow one entry list at a time
                    committed.extend(log[len(committed):index + 1])
        self.commit_seen[server] = commit_index

    def on_restart(self, server: str) -> None:
        """A restarted server's commit index starts at 0 again (v1.7.3 does not persist it)."""
        self.commit_seen[server] = 0
