"""A tiny deterministic event loop that runs `GossipNode`s over a simulated network (no SimPy).

Used by the gossip tests (imported as `test_gossip_harness`) and runnable as a measurement
script:

    .venv/bin/python tests/test_gossip_harness.py crash --servers 3 --runs 2000
    .venv/bin/python tests/test_gossip_harness.py leave --servers 3 --runs 500

Network model: every message gets a latency (constant, or uniform in [lo, hi]); datagrams are
lost with probability `loss`; a cut directed link drops everything sent over it (checked at send
and at delivery, so a partition also eats what is in flight). Streams (push/pull, TCP ping) are
never randomly lost, only by a cut. Timers follow the node's `timer_requests` (re-arming
replaces, None cancels). Deliveries and timers to a crashed or replaced process are dropped.

The file also tests the harness itself, so it is a legitimate test module.
"""

from __future__ import annotations

import argparse
import heapq
import random
import statistics
import sys
from collections.abc import Hashable, Iterable
from dataclasses import dataclass

import pytest

from autopilot_sim.durations import MILLISECOND, SECOND
from autopilot_sim.gossip import GossipConfig, GossipNode, SerfEvent, is_stream


@dataclass(frozen=True)
class Logged:
    observer: str
    event: SerfEvent


class Harness:
    """N gossip nodes, one heap, one seed."""

    def __init__(self, names: Iterable[str], seed: int, config: GossipConfig | None = None, *,
                 latency: int | tuple[int, int] = (1 * MILLISECOND, 5 * MILLISECOND),
                 loss: float = 0.0) -> None:
        self.names = list(names)
        self.seed = seed
        self.config = config or GossipConfig()
        self.latency = latency
        self.loss = loss
        self.now = 0
        self._net_rng = random.Random(f"{seed}/net")
        self._heap: list[tuple[int, int, str, tuple]] = []
        self._seq = 0
        self.nodes: dict[str, GossipNode] = {}
        self._gen: dict[str, int] = {}
        self._timer_token: dict[tuple[str, Hashable], int] = {}
        self.cut: set[tuple[str, str]] = set()
        self.log: list[Logged] = []
        self.sent = 0
        self._paused: dict[str, list[tuple[int, int, str, tuple]]] = {}

    # ------------------------------------------------------------------ control

    def start(self, name: str, join: Iterable[str] = (),
              tags: dict[str, str] | None = None) -> None:
        """(Re)start process `name` now: a fresh GossipNode with its own rng stream."""
        gen = self._gen.get(name, 0) + 1
        self._gen[name] = gen
        rng = random.Random(f"{self.seed}/gossip/{name}/{gen}")
        node = GossipNode(name, self.config, rng, tags=tags)
        self.nodes[name] = node
        node.start(self.now, list(join))
        self._drain(name)

    def start_all(self, seed_node: str | None = None) -> None:
        """Start every node; all but the first join the first (like retry_join = [first])."""
        first = seed_node or self.names[0]
        for name in self.names:
            self.start(name, [] if name == first else [first])

    def crash(self, name: str) -> None:
        self.nodes[name].crash()
        self._drain(name)

    def leave(self, name: str) -> None:
        self.nodes[name].leave(self.now)
        self._drain(name)

    def force_leave(self, on: str, target: str, prune: bool = False) -> None:
        self.nodes[on].force_leave(target, self.now, prune=prune)
        self._drain(on)

    def cut_link(self, a: str, b: str, both: bool = True) -> None:
        self.cut.add((a, b))
        if both:
            self.cut.add((b, a))

    def isolate(self, name: str) -> None:
        for other in self.names:
            if other != name:
                self.cut_link(name, other)

    def heal(self) -> None:
        self.cut.clear()

    def pause(self, name: str) -> None:
        """Stall the process: its packets and timers wait (OS buffers) until `resume`."""
        self._paused[name] = []

    def resume(self, name: str) -> None:
        """Hand everything that waited to the process now, in arrival order."""
        for _, _, kind, data in self._paused.pop(name):
            self._push(self.now, kind, data)

    def run_until(self, t: int) -> None:
        heap = self._heap
        while heap and heap[0][0] <= t:
            item = heapq.heappop(heap)
            at, _, kind, data = item
            self.now = at
            target = data[1] if kind == "msg" else data[0]
            if target in self._paused:
                self._paused[target].append(item)
                continue
            if kind == "msg":
                src, dst, gen, msg = data
                node = self.nodes.get(dst)
                if node is None or node.crashed or (src, dst) in self.cut:
                    continue
                node.on_message(src, msg, at)
                self._drain(dst)
            else:
                name, gen, key, token = data
                if self._gen.get(name) != gen or self._timer_token.get((name, key)) != token:
                    continue
                node = self.nodes[name]
                node.on_timer(key, at)
                self._drain(name)
        self.now = max(self.now, t)

    def run_for(self, d: int) -> None:
        self.run_until(self.now + d)

    # ------------------------------------------------------------------ plumbing

    def _push(self, at: int, kind: str, data: tuple) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (at, self._seq, kind, data))

    def _latency(self) -> int:
        if isinstance(self.latency, int):
            return self.latency
        lo, hi = self.latency
        return self._net_rng.randint(lo, hi)

    def _drain(self, name: str) -> None:
        node = self.nodes[name]
        gen = self._gen[name]
        for dst, msg in node.outbox:
            self.sent += 1
            if (name, dst) in self.cut:
                continue
            if not is_stream(msg) and self.loss and self._net_rng.random() < self.loss:
                continue
            self._push(self.now + self._latency(), "msg", (name, dst, gen, msg))
        node.outbox.clear()
        for key, at in (timer.request() for timer in dict.fromkeys(node.timer_requests)):
            token = self._timer_token.get((name, key), 0) + 1
            self._timer_token[(name, key)] = token
            if at is not None:
                self._push(at, "timer", (name, gen, key, token))
        node.timer_requests.clear()
        for ev in node.events:
            self.log.append(Logged(name, ev))
        node.events.clear()

    # ------------------------------------------------------------------ queries

    def status(self, observer: str, target: str) -> str | None:
        return self.nodes[observer].members().get(target)

    def events_of(self, observer: str | None = None, target: str | None = None,
                  kind: str | None = None, after: int = -1) -> list[SerfEvent]:
        return [x.event for x in self.log
                if (observer is None or x.observer == observer)
                and (target is None or x.event.name == target)
                and (kind is None or x.event.type == kind)
                and x.event.time > after]

    def first(self, observer: str, target: str, kind: str, after: int = -1) -> int | None:
        evs = self.events_of(observer, target, kind, after)
        return evs[0].time if evs else None

    def all_alive(self, names: Iterable[str] | None = None) -> bool:
        names = list(names or self.names)
        return all(self.status(o, t) == "alive" for o in names for t in names)


def names_for(n: int) -> list[str]:
    return [f"s{i}" for i in range(1, n + 1)]


# ---------------------------------------------------------------------- measurements


def crash_to_failed(n: int, seed: int, config: GossipConfig | None = None) -> list[float]:
    """Seconds from crash to member-failed at each survivor (one run)."""
    names = names_for(n)
    h = Harness(names, seed, config)
    h.start_all()
    pick = random.Random(f"{seed}/scenario")
    # Late enough that push/pull has repaired any start-up gossip miss (possible from 6 nodes).
    crash_at = 180 * SECOND + pick.randrange(60 * SECOND)
    victim = pick.choice(names)
    h.run_until(crash_at)
    assert h.all_alive(), "cluster did not converge before the crash"
    h.crash(victim)
    h.run_until(crash_at + 120 * SECOND)
    out = []
    for obs in names:
        if obs == victim:
            continue
        t = h.first(obs, victim, "member-failed", after=crash_at)
        out.append(float("inf") if t is None else (t - crash_at) / SECOND)
    return out


def leave_to_left(n: int, seed: int) -> list[float]:
    """Seconds from a graceful leave to member-leave at each other node (one run); negative
    when the observer saw member-failed first (the leave intent lost a race, see docs)."""
    names = names_for(n)
    h = Harness(names, seed)
    h.start_all()
    pick = random.Random(f"{seed}/scenario")
    at = 180 * SECOND + pick.randrange(60 * SECOND)
    victim = pick.choice(names)
    h.run_until(at)
    assert h.all_alive(), "cluster did not converge before the leave"
    h.leave(victim)
    h.run_until(at + 180 * SECOND)
    out = []
    for obs in names:
        if obs != victim:
            t = h.first(obs, victim, "member-leave", after=at)
            d = float("inf") if t is None else (t - at) / SECOND
            out.append(-d if h.first(obs, victim, "member-failed", after=at) else d)
    return out


def _summary(samples: list[float]) -> str:
    s = sorted(samples)
    q = statistics.quantiles(s, n=1000, method="inclusive")
    return (f"n={len(s)} min={s[0]:.3f} p5={q[49]:.3f} median={statistics.median(s):.3f} "
            f"mean={statistics.fmean(s):.3f} p95={q[949]:.3f} p99={q[989]:.3f} "
            f"p99.9={q[998]:.3f} max={s[-1]:.3f} (seconds)")


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("what", choices=["crash", "leave"])
    ap.add_argument("--servers", type=int, default=3)
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    fn = crash_to_failed if args.what == "crash" else leave_to_left
    pooled: list[float] = []
    for i in range(args.runs):
        pooled.extend(fn(args.servers, args.seed + i))
    label = "crash -> member-failed" if args.what == "crash" else "leave -> member-leave"
    print(f"{label}, {args.servers} servers, {args.runs} runs, each survivor counted "
          f"(= a random leader):")
    odd = [-x for x in pooled if x < 0]
    print("  " + _summary([x for x in pooled if x >= 0]))
    if odd:
        print(f"  {len(odd)} observers saw member-failed first, then member-leave: "
              + _summary(odd))
    return 0


# ---------------------------------------------------------------------- tests of the harness


def test_harness_drops_cut_links_and_keeps_time() -> None:
    h = Harness(["a", "b"], seed=1, latency=2 * MILLISECOND)
    h.start("a")
    h.start("b", ["a"])
    h.run_for(1 * SECOND)
    assert h.status("a", "b") == "alive" and h.status("b", "a") == "alive"
    assert h.now == 1 * SECOND
    # A cut link drops a later join attempt: a new process with no path to anyone stays alone.
    h.isolate("b")
    h.crash("b")
    h.start("b", ["a"])
    h.run_for(1 * SECOND)
    assert h.nodes["b"].members() == {"b": "alive"}


@pytest.mark.pure_python  # spies on GossipNode.on_timer
def test_lone_node_is_quiet() -> None:
    h = Harness(["a"], seed=2)
    h.start("a")
    fired = 0
    real = h.nodes["a"].on_timer

    def count(key: Hashable, now: int) -> None:
        nonlocal fired
        fired += 1
        real(key, now)

    h.nodes["a"].on_timer = count  # type: ignore[method-assign]
    h.run_for(5 * 60 * SECOND)
    assert h.sent == 0
    assert h.nodes["a"].members() == {"a": "alive"}
    # probe ticks (60), push/pull (<= 5), reap (20), reconnect (10), one starved gossip tick:
    # no gossip ticker spinning every 500 ms for a broadcast nobody can receive.
    assert fired <= 100


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
