"""The engine's own event loop (sim/loop.py) keeps SimPy's ordering and `run(until)` rules, and
`run --no-safety-checks` is recorded in summary.json only when used."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import simpy

from autopilot_sim.cli import main
from autopilot_sim.sim.loop import EmptySchedule, EventLoop

REPO = Path(__file__).resolve().parents[1]


def _script(loop_at, log):
    """The same schedule for both loops: ties, zero delays and events scheduled by events."""
    def fire(name, again=None):
        log.append(name)
        if again:
            loop_at(*again)

    return [(5, fire, ("a",)), (5, fire, ("b", (5, fire, ("b2",)))), (0, fire, ("z", (3, fire, ("z2",)))),
            (10, fire, ("end",)), (7, fire, ("c",))]


BOTH_HEAPS = pytest.mark.parametrize("native_heap", [True, False], ids=["event-heap", "heapq-tuples"])


@BOTH_HEAPS
def test_order_and_until_match_simpy(native_heap: bool) -> None:
    env = simpy.Environment()
    simpy_log: list[str] = []

    def simpy_at(when, fn, args):
        env.timeout(when - env.now).callbacks.append(lambda _e: fn(*args))

    for when, fn, args in _script(simpy_at, simpy_log):
        simpy_at(when, fn, args)
    loop = EventLoop(native_heap)
    log: list[str] = []
    for when, fn, args in _script(loop.at, log):
        loop.at(when, fn, args)
    for until in (5, 7, 12):
        env.run(until=until)
        loop.run(until)
        assert log == simpy_log and loop.now == env.now == until
    assert log == ["z", "z2", "a", "b", "b2", "c", "end"]


@BOTH_HEAPS
def test_step_and_peek_drive_the_loop_by_hand(native_heap: bool) -> None:
    loop = EventLoop(native_heap)
    seen: list[int] = []
    assert loop.peek() == math.inf
    with pytest.raises(EmptySchedule):
        loop.step()
    loop.at(4, lambda: seen.append(loop.now))
    loop.at(2, lambda: seen.append(loop.now))
    assert loop.peek() == 2
    loop.step()
    assert seen == [2] and loop.now == 2 and loop.peek() == 4
    loop.run(10)
    assert seen == [2, 4] and loop.now == 10
    loop.at(3, lambda: seen.append(loop.now))  # a time in the past runs now
    loop.step()
    assert seen == [2, 4, 10]


def test_both_queue_representations_pop_in_the_same_order() -> None:
    """The compiled build's Event heap and the pure build's heapq tuples: same order on a busy
    schedule with many ties, events scheduling events, and runs stopped part-way."""
    import random

    def play(native_heap: bool) -> list[tuple[int, int]]:
        rng = random.Random(7)  # seeded: the same schedule for both
        loop = EventLoop(native_heap)
        log: list[tuple[int, int]] = []

        def fire(tag: int) -> None:
            log.append((loop.now, tag))
            for _ in range(rng.randrange(3)):
                loop.push(loop.now + rng.choice((0, 0, 1, 5, 50)), fire, (rng.randrange(10**6),))

        for tag in range(200):
            loop.at(rng.randrange(100), fire, (tag,))
        for until in range(0, 400, 37):
            loop.run(until)
            log.append((loop.now, -1))
        while len(loop) and len(log) < 20_000:
            loop.step()
        return log

    native, tuples = play(True), play(False)
    assert len(native) > 1000 and native == tuples


def test_no_safety_checks_is_recorded_only_when_used(tmp_path: Path) -> None:
    demo = REPO / "scenarios" / "healthy-baseline.yaml"
    assert main(["run", str(demo), "--out", str(tmp_path / "on"), "--quiet", "--until", "20s"]) == 0
    assert main(["run", str(demo), "--out", str(tmp_path / "off"), "--quiet", "--until", "20s",
                 "--no-safety-checks"]) == 0
    on = json.loads((tmp_path / "on" / "summary.json").read_text())
    off = json.loads((tmp_path / "off" / "summary.json").read_text())
    assert "safety_checks" not in on and off.pop("safety_checks") is False
    assert on == off  # the checks only observe
    for name in ("events.jsonl", "timeline.jsonl"):
        assert (tmp_path / "on" / name).read_bytes() == (tmp_path / "off" / name).read_bytes()


def test_cli_start_up_and_a_run_import_no_heavy_module() -> None:
    """networkx (explanations only), the HTTP API and pydantic (scenario files) load only when a
    command needs them: `--help` imports none, and a run imports neither networkx nor the API."""
    import subprocess
    import sys

    probe = ("import sys\nfrom autopilot_sim.cli import build_parser\nbuild_parser()\n"
             "heavy = ('networkx', 'autopilot_sim.api', 'http.server', 'pydantic')\n"
             "print(sorted(m for m in heavy if m in sys.modules))\n"
             "import autopilot_sim.sim.runner\n"
             "print(sorted(m for m in heavy[:3] if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == ["[]", "[]"]


def test_a_run_raises_the_collector_threshold_and_restores_it() -> None:
    import gc

    from autopilot_sim.sim.collector import RUN_THRESHOLD, fewer_collections

    before = gc.get_threshold()
    with fewer_collections():
        assert gc.get_threshold()[0] == max(RUN_THRESHOLD, before[0])
        assert gc.get_threshold()[1:] == before[1:]
    assert gc.get_threshold() == before
    with pytest.raises(RuntimeError), fewer_collections():
        raise RuntimeError("a failing run")
    assert gc.get_threshold() == before
