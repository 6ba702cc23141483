"""Datadriven trace tests for the pure Raft node (in the style of etcd-io/raft's testdata/):
each `tests/testdata/raft/*.txt` is a script of steps, each followed by the trace it prints —
worked examples a reader can follow message by message.

A file is a series of blocks::

    command arg...
    ----
    expected output (one or more lines; "ok" when a step prints nothing)
    <blank line>

Commands (the harness clock only moves forward; times are Go durations):

    cluster a b c         voters a, b, c bootstrapped at 0 (seeds 1, 2, 3 for their timers)
    fire a follower       fire a's timer (follower, election, lease, or hb/ct/bo + peer) at its deadline
    deliver               deliver every pending message, in order, until none is left
    drop                  forget every pending message
    propose a x           client write `x` on a
    crash b / restart b   the process dies / starts again with its persisted state
    status                role, term, last index/term and commit index of every node

Regenerate the expected outputs after a deliberate behaviour change (and say why in the commit):

    python tests/test_raft_traces.py --rewrite
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from raft_harness import Hand

from autopilot_sim.durations import format_duration
from autopilot_sim.raft.messages import (
    AppendEntries,
    AppendEntriesResponse,
    Heartbeat,
    HeartbeatResponse,
    RequestVote,
    RpcError,
    TimeoutNow,
    TimeoutNowResponse,
    VoteResponse,
)

DATA = Path(__file__).resolve().parent / "testdata" / "raft"
TIMERS = {"follower", "election", "lease", "transfer"}


def show(msg: object) -> str:
    """One message in a line."""
    if isinstance(msg, RequestVote):
        kind = "PreVote" if msg.prevote else "RequestVote"
        return f"{kind} term={msg.term} last={msg.last_index}/{msg.last_term}"
    if isinstance(msg, VoteResponse):
        kind = "PreVoteResp" if msg.prevote else "VoteResp"
        return f"{kind} term={msg.term} granted={msg.granted}"
    if isinstance(msg, AppendEntries):
        entries = " ".join(f"{e.index}/{e.term}:{e.kind}" + (f"={e.data}" if e.kind == "command" else "")
                           for e in msg.entries)
        return (f"AppendEntries term={msg.term} prev={msg.prev_index}/{msg.prev_term} "
                f"entries=[{entries}] commit={msg.leader_commit}")
    if isinstance(msg, AppendEntriesResponse):
        return f"AppendResp term={msg.term} success={msg.success} last={msg.last_log}"
    if isinstance(msg, Heartbeat):
        return f"Heartbeat term={msg.term}"
    if isinstance(msg, HeartbeatResponse):
        return f"HeartbeatResp term={msg.term} success={msg.success}"
    if isinstance(msg, TimeoutNow):
        return f"TimeoutNow term={msg.term}"
    if isinstance(msg, TimeoutNowResponse):
        return f"TimeoutNowResp term={msg.term}"
    if isinstance(msg, RpcError):
        return f"RpcError {msg.kind.__name__} {msg.reason}"
    return repr(msg)  # pragma: no cover


class Script:
    """Runs the commands of one file against a `Hand` network and prints traces."""

    def __init__(self) -> None:
        self.hand: Hand | None = None

    def outputs(self, name: str, out) -> list[str]:
        lines = [f"  {name}->{dst} {show(msg)}" for dst, msg in out.sent]
        lines += [f"  {name} note {note}" for note in out.notes]
        for key, deadline in out.timers:
            label = key if isinstance(key, str) else f"{key[0]} {key[1]}"
            when = "stopped" if deadline is None else f"at {format_duration(deadline)}"
            lines.append(f"  {name} timer {label} {when}")
        return lines

    def run(self, line: str) -> list[str]:
        cmd, *args = line.split()
        if cmd == "cluster":
            self.hand = Hand(args)
            return ["ok"]
        hand = self.hand
        assert hand is not None, "start with `cluster`"
        if cmd == "fire":
            name, key = args[0], (args[1] if args[1] in TIMERS else (args[1], args[2]))
            out = hand.fire(name, key)
            return [f"{format_duration(hand.now)} {name} fires {' '.join(args[1:])}"] + self.outputs(name, out)
        if cmd == "deliver":
            printed = []
            while hand.pending:
                src, dst, msg = hand.pending.pop(0)
                if dst in hand.down or src in hand.down:
                    printed.append(f"{src}->{dst} {show(msg)} (dropped: {dst if dst in hand.down else src} is down)")
                    continue
                printed.append(f"{src}->{dst} {show(msg)}")
                printed += self.outputs(dst, hand._queue(dst, hand.nodes[dst].recv(src, msg, hand.now)))
            return printed or ["ok"]
        if cmd == "drop":
            hand.drop_all()
            return ["ok"]
        if cmd == "propose":
            out = hand.call(args[0], "propose", args[1])
            return [f"accepted={hand.nodes[args[0]].result}"] + self.outputs(args[0], out)
        if cmd == "crash":
            hand.crash(args[0])
            return ["ok"]
        if cmd == "restart":
            hand.restart(args[0])
            return ["ok"]
        if cmd == "status":
            return [f"{n.id}: {n.role} term={n.current_term} last={n.last_index}/{n.last_term} commit={n.commit_index}"
                    for n in (d.node for d in hand.nodes.values())]
        raise ValueError(f"unknown command {cmd!r}")


def parse(text: str) -> list[tuple[str, list[str]]]:
    """(command, expected lines) blocks."""
    blocks = []
    for chunk in text.strip("\n").split("\n\n"):
        lines = chunk.split("\n")
        while lines and (not lines[0].strip() or lines[0].startswith("#")):
            lines.pop(0)
        if not lines:
            continue
        assert lines[1] == "----", f"expected ---- after {lines[0]!r}"
        blocks.append((lines[0], lines[2:]))
    return blocks


def render(path: Path) -> str:
    """The file with every expected output recomputed."""
    script = Script()
    header = [ln for ln in path.read_text(encoding="utf-8").split("\n\n")[0].split("\n") if ln.startswith("#")]
    parts = ["\n".join(header)] if header else []
    for command, _ in parse(path.read_text(encoding="utf-8")):
        parts.append("\n".join([command, "----", *script.run(command)]))
    return "\n\n".join(parts) + "\n"


FILES = sorted(DATA.glob("*.txt"))


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_trace(path: Path) -> None:
    script = Script()
    for command, expected in parse(path.read_text(encoding="utf-8")):
        assert script.run(command) == expected, f"{path.name}: {command}"


def test_there_are_traces() -> None:
    assert len(FILES) >= 2


if __name__ == "__main__":
    if sys.argv[1:] != ["--rewrite"]:
        print(__doc__)
        sys.exit(2)
    for path in FILES:
        path.write_text(render(path), encoding="utf-8")
        print(f"rewrote {path}")
