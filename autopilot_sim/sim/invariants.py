"""Raft safety invariants, checked incrementally while a run goes on.

* Election safety: at most one leader per term.
* Log matching: two logs holding an entry with the same index and term hold the same entry
  (together with the AppendEntries consistency check this gives identical prefixes).
* Leader completeness: a leader of term T holds every entry committed in a term below T.
* State machine safety: an index, once committed anywhere, always holds the same entry, and no
  server deletes a committed entry that its own term obliges it to keep (below).

A violation raises SafetyViolation naming the time, the servers and the entries involved.

Which term committed an index
-----------------------------
Leader completeness (Raft §5.4) is a statement about terms, not about wall-clock order: a leader
of term T must hold the entries committed *in terms below T*. A leader of an older term can be
elected late: a candidate paused with granted votes queued wins term T after a newer term has
already committed entries (hashicorp/raft's candidate loop may take the queued vote before the
newer term's RPC), and such a leader may lack those entries. So the checker records, for every
committed index, the term of the leader that first committed it -- the term in which it became
committed, not the entry's own term: in the Figure 8 pattern an entry of term 2 is committed in
term 4 (by the commit of a term-4 entry after it), and a late leader of term 3 may lack it.

The first server to report a new commit index is always the leader that advanced it (a
follower only learns a commit index from a leader's AppendEntries, delivered after the leader's
step), so its current term is the commit term. Commit terms never decrease along the log: when
a leader of term C commits index i, its log holds an entry of term C at or after i, and log
terms never decrease along a log, so every entry it holds before i has a term <= C; had a lower
index been first committed in a term above C, the leader's entry there would differ from the
committed one and the commit check would already have fired. The list is kept non-decreasing
anyway (a later, lower commit term lowers the earlier ones: holding the later committed entry
implies holding the earlier ones by log matching), so the indexes a leader of term T must hold
are a prefix, found by bisection. Each server's log prefix up to the highest index already
verified against the committed list (its own commit index, or a previous election's check)
cannot change without a deletion this checker flags, so an election only compares the entries
past that point: usually none or a few.

Deleting committed entries
--------------------------
A follower deletes a log suffix only on an AppendEntries it accepted, i.e. from the leader of
its current term T (it adopts the leader's term first). Let C be the term that first committed
a deleted entry's index:

* C < T: the leader of T must hold the committed entry (leader completeness) and so can never
  send a conflicting one: a real violation.
* C == T: the leader of T is the one that committed it; a leader's log is append-only during
  its term, so it cannot send a conflicting entry either: a real violation.
* C > T: the instruction comes from a late leader of an older term, which may legitimately lack
  the entry. The follower, still in a term below C, cannot know the index is committed
  (learning a commit index means hearing from a leader of term >= C, which would have raised
  its term), so it has not applied the entry, and dropping it is what Raft does. The entry
  stays safe on the majority that committed it: each of those is in a term >= C > T and refuses
  the late leader's AppendEntries, so the late leader can never make a majority accept a
  conflicting entry at that index, and every leader of a term above C is still checked to hold
  it. Should a conflicting entry ever be committed there, the commit check (an index always
  holds the same committed entry) fires. Not a violation.

Independently of terms, deleting an entry at or below the server's own commit index (or an
index verified for it at an election) is always a violation: it may have applied the entry.
"""

from __future__ import annotations

from bisect import bisect_left

from mypy_extensions import mypyc_attr

from autopilot_sim.durations import format_duration
from autopilot_sim.raft.messages import Entry


@mypyc_attr(native_class=False)  # mypyc: exceptions stay ordinary Python classes
class SafetyViolation(AssertionError):
    """A Raft safety property was broken; the message says where and when."""

    def __init__(self, t_ns: int, rule: str, detail: str, servers: list[str]) -> None:
        self.t_ns = t_ns
        self.rule = rule
        self.detail = detail
        self.servers = servers
        super().__init__(f"safety violation at {format_duration(t_ns)}: {rule}: {detail}")


class Seen:
    """What the checker has seen of one server (one object per server: one lookup per step)."""

    __slots__ = ("checked_upto", "commit_seen", "verified")

    def __init__(self) -> None:
        self.checked_upto = 0  # log[1..k] was checked for log matching
        self.commit_seen = 0  # its commit index at the last step
        # log[1..k] equals committed[1..k] and may not be deleted (see the module docstring).
        self.verified = 0


class SafetyChecker:
    """Tracks what every server has shown so far and checks each change against it."""

    def __init__(self) -> None:
        self.leaders: dict[int, str] = {}
        self.committed: list[Entry] = [Entry(0, 0, "noop")]
        # commit_terms[i]: the term in which index i was first committed; non-decreasing.
        self.commit_terms: list[int] = [0]
        #: The first entry seen at each index, and any later one with another term at that
        #: index by (index, term) (conflicting uncommitted entries are rare).
        self.by_index: list[Entry] = [self.committed[0]]
        self.by_index_term: dict[tuple[int, int], Entry] = {}
        self.seen: dict[str, Seen] = {}

    def _seen(self, server: str) -> Seen:
        seen = self.seen.get(server)
        if seen is None:
            seen = self.seen[server] = Seen()
        return seen

    @property
    def verified(self) -> dict[str, int]:
        """Per server: how much of its log is verified as committed (for tests and reports)."""
        return {name: seen.verified for name, seen in self.seen.items()}

    def on_leader(self, now: int, server: str, term: int, log: list[Entry]) -> None:
        """A server won an election: one leader per term, and its log holds every entry
        committed in an earlier term."""
        holder = self.leaders.get(term)
        if holder is not None and holder != server:
            raise SafetyViolation(now, "election safety", f"{holder} and {server} both leader in term {term}",
                                  [holder, server])
        self.leaders[term] = server
        must_hold = bisect_left(self.commit_terms, term) - 1  # last index committed before term
        if must_hold >= len(log):
            raise SafetyViolation(
                now, "leader completeness",
                f"{server} (term {term}) lacks entries {len(log)}..{must_hold} committed in earlier terms", [server])
        committed = self.committed
        seen = self._seen(server)
        start = min(seen.verified, must_hold)
        for index in range(start + 1, must_hold + 1):
            if not log[index].same_as(committed[index]):
                raise SafetyViolation(
                    now, "leader completeness",
                    f"{server} (term {term}) holds {log[index]!r} where {committed[index]!r} was committed "
                    f"in term {self.commit_terms[index]}", [server])
        if must_hold > start:
            seen.verified = must_hold

    def on_truncate(self, now: int, server: str, removed: list[Entry], term: int) -> None:
        """A follower in `term` deleted a log suffix: none of it may be an entry committed in a
        term <= `term`, nor one it had verified as committed (see the module docstring)."""
        committed = self.committed
        commit_terms = self.commit_terms
        seen = self._seen(server)
        verified = seen.verified
        for entry in removed:
            index = entry.index
            if (index < len(committed) and committed[index].same_as(entry)
                    and (commit_terms[index] <= term or index <= verified)):
                raise SafetyViolation(
                    now, "state machine safety",
                    f"{server} (term {term}) deleted {entry!r}, committed in term {commit_terms[index]}", [server])
        if removed:
            first = removed[0].index
            seen.checked_upto = min(seen.checked_upto, first - 1)
            if verified >= first:  # pragma: no cover - such a deletion raised above
                seen.verified = first - 1

    def after_step(self, now: int, server: str, log: list[Entry], commit_index: int, term: int) -> None:
        """Check entries appended and indexes committed since the last call for this server,
        whose current term is `term` (the commit term of any index it is the first to commit)."""
        seen = self._seen(server)
        last = len(log) - 1
        start = min(seen.checked_upto, last)
        if last > start:
            by_index = self.by_index
            for index in range(start + 1, last + 1):
                entry = log[index]
                if index == len(by_index):
                    by_index.append(entry)  # the first entry anyone holds at this index
                    continue
                first = by_index[index]
                if first is entry:
                    continue
                other = first if first.term == entry.term else self.by_index_term.get((index, entry.term))
                if other is None:
                    self.by_index_term[(index, entry.term)] = entry
                elif other is not entry and not other.same_as(entry):
                    raise SafetyViolation(now, "log matching",
                                          f"{server} holds {entry!r} but another server holds {other!r}", [server])
        seen.checked_upto = last
        seen_commit = seen.commit_seen
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
                else:
                    self._record_commit(entry, term)
            seen.verified = max(seen.verified, commit_index)
        seen.commit_seen = commit_index

    def _record_commit(self, entry: Entry, term: int) -> None:
        """Append a newly committed entry with the term that committed it, keeping the commit
        terms non-decreasing (a no-op in a correct run, where the first reporter is the leader)."""
        self.committed.append(entry)
        terms = self.commit_terms
        back = len(terms) - 1
        while back > 0 and terms[back] > term:  # pragma: no cover - see the module docstring
            terms[back] = term
            back -= 1
        terms.append(term)

    def on_restart(self, server: str) -> None:
        """A restarted server's commit index starts at 0 again (v1.7.3 does not persist it);
        its log, and so what was verified of it, survives."""
        self._seen(server).commit_seen = 0
