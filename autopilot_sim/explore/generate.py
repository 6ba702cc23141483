"""Random fault plans within a budget, each from its own seeded stream.

Plan ``i`` of an exploration with root seed ``R`` draws from ``rng.stream(R, "explore-plan", i)``
and its run uses the seed ``stream_seed(R, "explore", i) mod 2**32`` (the sweep's convention, under
its own name): plan ``i`` is the same whatever the number of plans, the worker or the backend.

Drawing a plan: how many faults of each kind (uniform from 0 to the budget's maximum, at least one
fault in all, at most ``faults``), then for each fault, in kind order, its length (uniform in
``down_for``, in `STEP`s), its start (uniform, so that it ends by ``end``), and its target. A fault
that would overlap another of its lane (`faults.plan_conflict`) is drawn again, up to
`ATTEMPTS` times, then left out.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from autopilot_sim.explore.budget import FAULT_KINDS, Budget
from autopilot_sim.explore.faults import LEADER, STEP, Fault, plan_conflict
from autopilot_sim.rng import stream, stream_seed

ATTEMPTS = 20
#: Chance that a crash, pause or one-sided partition aims at the leader rather than a named server.
LEADER_SHARE = 0.25
TRAFFIC = ("all", "raft", "gossip")


@dataclass(frozen=True)
class Space:
    """What a plan may touch: the servers faults may name, the time window, the budget."""

    servers: tuple[str, ...]
    budget: Budget
    start: int
    end: int


def run_seed(root: int, index: int) -> int:
    """The seed of plan `index`'s run."""
    return stream_seed(root, "explore", index) % 2**32


def _steps(rng: random.Random, lo: int, hi: int) -> int:
    """A uniform multiple of STEP in [lo, hi] (lo and hi rounded inwards)."""
    a, b = -(-lo // STEP), hi // STEP
    return rng.randint(a, max(a, b)) * STEP


def _draw(rng: random.Random, kind: str, space: Space) -> Fault:
    budget = space.budget
    length = _steps(rng, budget.down_min, min(budget.down_max, space.end - space.start))
    at = _steps(rng, space.start, space.end - length)
    servers = list(space.servers)
    if kind in ("crash", "pause"):
        server = LEADER if rng.random() < LEADER_SHARE else rng.choice(servers)
        return Fault(kind, at, length, server=server)
    if kind == "partition":
        if rng.random() < LEADER_SHARE:
            return Fault(kind, at, length, groups=((LEADER,),))
        size = rng.randint(1, max(1, len(servers) // 2))
        side = sorted(rng.sample(servers, size), key=servers.index)
        return Fault(kind, at, length, groups=(tuple(side),))
    if kind == "cut":
        src, dst = rng.sample(servers, 2)
        return Fault(kind, at, length, from_=src, to=dst, traffic=rng.choice(TRAFFIC))
    loss = round(rng.uniform(budget.loss_min, budget.loss_max), 2)
    return Fault(kind, at, length, loss=min(budget.loss_max, max(budget.loss_min, loss)))


def draw_plan(root: int, index: int, space: Space) -> list[Fault]:
    """Plan `index` under root seed `root` (see the module docstring)."""
    rng = stream(root, "explore-plan", index)
    budget = space.budget
    kinds = [k for k in FAULT_KINDS if budget.counts.get(k, 0) > 0]
    if len(space.servers) < 2:  # a cut needs two servers; a partition, someone on the other side
        kinds = [k for k in kinds if k not in ("cut", "partition")]
    if not kinds:
        return []
    counts = {k: rng.randint(0, budget.counts[k]) for k in kinds}
    while sum(counts.values()) > budget.max_faults:
        counts[rng.choice([k for k in kinds if counts[k]])] -= 1
    if sum(counts.values()) == 0:
        counts[rng.choice(kinds)] = 1
    faults: list[Fault] = []
    for kind in kinds:
        for _ in range(counts[kind]):
            for _attempt in range(ATTEMPTS):
                fault = _draw(rng, kind, space)
                if plan_conflict([*faults, fault], space.start, space.end) is None:
                    faults.append(fault)
                    break
    return sorted(faults, key=lambda f: (f.at, FAULT_KINDS.index(f.kind)))
