"""One root seed, split into independent named streams.

Each consumer (a server's election timers, one directed link's latency and loss, the client load,
one server's gossip) draws from its own `random.Random`, seeded from a SHA-256 of the root seed
and the stream's name. An extra draw in one stream therefore never shifts another, and the same
seed gives the same streams in any process, on any machine, under any sweep backend (Python's
Mersenne Twister and SHA-256 are both platform-independent).
"""

from __future__ import annotations

import hashlib
import random


def stream_seed(root_seed: int, *name: object) -> int:
    """The 256-bit seed of the stream called `name` under `root_seed`."""
    label = "\x1f".join([str(root_seed), *map(str, name)]).encode("utf-8")
    return int.from_bytes(hashlib.sha256(label).digest(), "big")


def stream(root_seed: int, *name: object) -> random.Random:
    """A fresh, independent random stream for (root_seed, *name)."""
    return random.Random(stream_seed(root_seed, *name))
