"""The simulated network: directed links with latency, loss, partitions and one-way cuts.

One `Link` per ordered pair of servers (its latency sampler and loss). Every link draws from its
own random stream, so traffic on one link never shifts the draws of another. (networkx is
imported only by `reachable`, for explanations: a run does not need it.)

Two kinds of traffic. Datagrams (gossip over UDP) use `transit`: a lost datagram is gone. Raft
RPCs run over TCP and use `transit_tcp`: `loss` is the chance that one transmission of a segment
is lost, and a lost transmission is retransmitted after the retransmission timeout (Linux's
minimum RTO, 200 ms, doubling each time), so loss shows up as latency spikes, as it does on a
real lossy link; the RPC fails only if its deadline passes first. (Head-of-line blocking between
messages on one connection is not modelled.)

What happens to a message in flight when its link is cut: it is lost. A message is delivered
only if its link is up both when it is sent and when it arrives; a heal does not resurrect
messages sent while the link was down. (A cut models a firewall or a dead switch port: bytes in
the wire are gone, and TCP connections stall until the caller's deadline.)

Partitions: `partition(groups)` splits the servers into the listed groups; servers named in no
group form one more group together. Links between different groups are cut both ways. A new
partition replaces the previous one; one-way `cut`s are kept until healed. `heal()` restores
everything, `heal(a, b)` restores the link between a and b in both directions (and takes the pair
out of any partition).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from autopilot_sim.durations import MILLISECOND, SECOND
from autopilot_sim.rng import stream

TCP_MIN_RTO: Final = 200 * MILLISECOND
TCP_MAX_RTO: Final = 120 * SECOND

Sampler = Callable[[], int]


@dataclass(frozen=True, slots=True)
class Latency:
    """A latency distribution; every duration parameter in integer ns.

    constant(value) | uniform(min, max) | normal(mean, stddev) truncated at 0 |
    lognormal(median, sigma) with sigma of the underlying normal | exponential(mean).
    """

    distribution: str
    value: int = 0
    min: int = 0
    max: int = 0
    mean: int = 0
    stddev: int = 0
    median: int = 0
    sigma: float = 0.0

    def sampler(self, rng: random.Random) -> Sampler:
        """A zero-argument function drawing one integer-ns delay from `rng`."""
        d = self.distribution
        if d == "constant":
            value = self.value
            return lambda: value
        if d == "uniform":
            lo, span = self.min, self.max - self.min
            if span <= 0:
                return lambda: lo
            rnd, width = rng.random, span + 1
            return lambda: lo + int(rnd() * width)  # uniform on [min, max] in integer ns
        if d == "normal":
            mean, sd, gauss = self.mean, self.stddev, rng.gauss
            return lambda: max(0, round(gauss(mean, sd)))
        if d == "lognormal":
            mu, sigma, lognorm = math.log(max(self.median, 1)), self.sigma, rng.lognormvariate
            return lambda: round(lognorm(mu, sigma))
        if d == "exponential":
            rate, expo = 1.0 / max(self.mean, 1), rng.expovariate
            return lambda: round(expo(rate))
        raise ValueError(
            f"unknown latency distribution {d!r}; use constant, uniform, normal, lognormal or exponential"
        )


class Link:
    """One directed link: its latency sampler, loss probability and loss draw.

    For a uniform latency, `lo` and `width` let the engine draw inline (`lo + int(random() *
    width)`, exactly what `sample()` computes); `width` is 0 for every other distribution."""

    __slots__ = ("lo", "loss", "random", "sample", "width")

    def __init__(self, sample: Sampler, loss: float, rnd: Callable[[], float], latency: Latency) -> None:
        self.sample = sample
        self.loss = loss
        self.random = rnd
        span = latency.max - latency.min
        uniform = latency.distribution == "uniform" and span > 0
        self.lo = latency.min if uniform else 0
        self.width = span + 1 if uniform else 0


class Network:
    """Directed links between named servers, with faults that can be changed during a run."""

    def __init__(self, seed: int, latency: Latency, loss: float = 0.0) -> None:
        self.seed = seed
        self.nodes: list[str] = []  # servers, in the order they were added
        self.default_latency = latency
        self.default_loss = loss
        self._overrides: dict[tuple[str, str], tuple[Latency | None, float | None]] = {}
        self.links: dict[tuple[str, str], Link] = {}
        #: The same links by source, then destination: the engine's per-message lookup (no key tuple).
        self.links_from: dict[str, dict[str, Link]] = {}
        self._rngs: dict[tuple[str, str], random.Random] = {}
        self._groups: list[set[str]] = []
        self._cuts: set[tuple[str, str]] = set()  # one-way cuts of all traffic
        self._port_cuts: dict[str, set[tuple[str, str]]] = {"raft": set(), "gossip": set()}
        self._bridges: set[frozenset[str]] = set()  # pairs healed across the current partition
        self.blocked: set[tuple[str, str]] = set()  # Raft and Nomad RPC (port 4647)
        self.gossip_blocked: set[tuple[str, str]] = set()  # serf / memberlist (port 4648)

    # ---------------------------------------------------------------- topology

    def add_server(self, name: str) -> None:
        """Connect a new server to every existing one (both directions)."""
        if name in self.nodes:
            return
        others = list(self.nodes)
        self.nodes.append(name)
        self.links_from.setdefault(name, {})
        for other in others:
            self._add_edge(name, other)
            self._add_edge(other, name)
        self._recompute_blocked()

    def _add_edge(self, src: str, dst: str) -> None:
        self._configure(src, dst)

    def _configure(self, src: str, dst: str) -> None:
        latency, loss = self._overrides.get((src, dst), (None, None))
        latency = latency or self.default_latency
        loss = self.default_loss if loss is None else loss
        rng = self._rngs.get((src, dst))
        if rng is None:
            rng = self._rngs[(src, dst)] = stream(self.seed, "link", src, dst)
        link = self.links[(src, dst)] = Link(latency.sampler(rng), loss, rng.random, latency)
        self.links_from.setdefault(src, {})[dst] = link

    def set_defaults(self, latency: Latency | None = None, loss: float | None = None) -> None:
        """Change the network-wide latency and/or loss (per-link overrides still win)."""
        if latency is not None:
            self.default_latency = latency
        if loss is not None:
            self.default_loss = loss
        for src, dst in list(self.links):
            self._configure(src, dst)

    def set_link(self, src: str, dst: str, latency: Latency | None = None, loss: float | None = None) -> None:
        """Override one directed link's latency and/or loss."""
        old_latency, old_loss = self._overrides.get((src, dst), (None, None))
        self._overrides[(src, dst)] = (latency or old_latency, old_loss if loss is None else loss)
        if (src, dst) in self.links:
            self._configure(src, dst)

    # ---------------------------------------------------------------- faults

    def partition(self, groups: list[list[str]]) -> None:
        """Split into groups (unlisted servers form one more group); replaces any partition."""
        listed = {name for group in groups for name in group}
        rest = {name for name in self.nodes if name not in listed}
        self._groups = [set(g) for g in groups] + ([rest] if rest else [])
        self._bridges.clear()
        self._recompute_blocked()

    def cut(self, src: str, dst: str, traffic: str = "all") -> None:
        """One-way failure: messages from src to dst are lost (`traffic`: all, raft or gossip)."""
        if traffic == "all":
            self._cuts.add((src, dst))
        elif traffic in self._port_cuts:
            self._port_cuts[traffic].add((src, dst))
        else:
            raise ValueError(f"unknown traffic {traffic!r}; use all, raft or gossip")
        self._recompute_blocked()

    def heal(self, a: str | None = None, b: str | None = None) -> None:
        """Heal everything, or the link between a and b in both directions."""
        if a is None or b is None:
            self._groups = []
            self._cuts.clear()
            for cuts in self._port_cuts.values():
                cuts.clear()
            self._bridges.clear()
        else:
            for cuts in (self._cuts, *self._port_cuts.values()):
                cuts.discard((a, b))
                cuts.discard((b, a))
            self._bridges.add(frozenset((a, b)))
        self._recompute_blocked()

    def _recompute_blocked(self) -> None:
        blocked = set(self._cuts)
        if self._groups:
            group_of = {}
            for i, group in enumerate(self._groups):
                for name in group:
                    group_of[name] = i
            for src, dst in self.links:
                if group_of.get(src) != group_of.get(dst) and frozenset((src, dst)) not in self._bridges:
                    blocked.add((src, dst))
        self.blocked = blocked | self._port_cuts["raft"]
        self.gossip_blocked = blocked | self._port_cuts["gossip"]

    def is_up(self, src: str, dst: str) -> bool:
        """Whether messages from src can currently reach dst."""
        return (src, dst) not in self.blocked

    def reachable(self, src: str) -> set[str]:
        """Servers src can reach over up links, possibly through others (for explanations)."""
        import networkx as nx

        up = nx.DiGraph((u, v) for u, v in self.links if (u, v) not in self.blocked)
        up.add_nodes_from(self.nodes)
        reached: set[str] = nx.descendants(up, src)
        return reached | {src}

    # ---------------------------------------------------------------- traffic

    def transit(self, src: str, dst: str) -> int | None:
        """Delay in ns for one gossip datagram, or None when it is lost (cut link or random loss)."""
        if (src, dst) in self.gossip_blocked:
            return None
        link = self.links[(src, dst)]
        if link.loss and link.random() < link.loss:
            return None
        return link.sample()

    def transit_tcp(self, src: str, dst: str, blocked: set[tuple[str, str]] | None = None) -> int | None:
        """Delay in ns for one message on a TCP connection (lost transmissions are retransmitted
        after the RTO), or None when the link is cut (`blocked`: the port's cut set, Raft's by
        default)."""
        if (src, dst) in (self.blocked if blocked is None else blocked):
            return None
        link = self.links[(src, dst)]
        delay = link.sample()
        if link.loss:
            delay = self.retransmissions(link, delay)
        return delay

    @staticmethod
    def retransmissions(link: Link, delay: int) -> int:
        """`delay` plus the retransmission timeouts of the transmissions `link` loses (TCP)."""
        rto = TCP_MIN_RTO
        while link.random() < link.loss:
            delay += rto
            rto = min(rto * 2, TCP_MAX_RTO)
            if delay > TCP_MAX_RTO:
                break
        return delay
