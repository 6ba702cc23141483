"""Run directories are written as one set: a re-run that fails or is killed part-way never
leaves the previous run's summary.json next to the new run's files (issue 14, item 7)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from autopilot_sim.cli import main
from autopilot_sim.durations import SECOND
from autopilot_sim.scenario import load_scenario
from autopilot_sim.sim import rundir
from autopilot_sim.sim.runner import Simulation

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "scenarios" / "demo.yaml"
RUN_FILES = ("events.jsonl", "summary.json", "timeline.jsonl", "scenario.yaml")


@pytest.fixture(scope="module")
def two_runs():
    """Two short runs of the demo whose four files all differ."""
    scenario = load_scenario(DEMO)
    a = Simulation(scenario, seed=1, until=20 * SECOND).run()
    b = Simulation(scenario, seed=2, until=20 * SECOND).run()
    return a, b


def snapshot(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if rundir._PARTIAL in p.name)


def fail_on_call(monkeypatch, target, attribute: str, call: int) -> None:
    """Make the `call`-th call of target.attribute raise OSError (a full disk, say)."""
    original = getattr(target, attribute)
    calls = []

    def failing(*args, **kwargs):
        calls.append(args)
        if len(calls) == call:
            raise OSError(28, "No space left on device")
        return original(*args, **kwargs)

    monkeypatch.setattr(target, attribute, failing)


def test_a_new_directory_appears_complete(tmp_path, two_runs):
    out = tmp_path / "runs" / "demo"
    two_runs[0].write(out)
    assert sorted(snapshot(out)) == sorted(RUN_FILES)
    assert leftovers(out.parent) == []
    # The renamed temporary directory has the mode a plain mkdir gives.
    (tmp_path / "runs" / "plain").mkdir()
    assert out.stat().st_mode == (tmp_path / "runs" / "plain").stat().st_mode


def test_a_rerun_replaces_our_files_and_keeps_the_users(tmp_path, two_runs):
    a, b = two_runs
    out, other = tmp_path / "run", tmp_path / "other"
    a.write(out)
    (out / "notes.txt").write_text("mine")
    (out / "timeline.png").write_bytes(b"plot of run a")  # as `run --plot` leaves it
    b.write(out)
    b.write(other)
    assert snapshot(out) == {**snapshot(other), "notes.txt": b"mine"}  # run a's plot went with it
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("call", [1, 2, 3, 4])
def test_a_write_that_fails_part_way_leaves_the_previous_run_untouched(tmp_path, two_runs, monkeypatch, call):
    a, b = two_runs
    out = tmp_path / "run"
    a.write(out)
    (out / "timeline.png").write_bytes(b"plot of run a")
    before = snapshot(out)
    fail_on_call(monkeypatch, Path, "write_text", call)
    with pytest.raises(OSError):
        b.write(out)
    assert snapshot(out) == before
    assert leftovers(tmp_path) == []


def test_a_first_write_that_fails_leaves_nothing(tmp_path, two_runs, monkeypatch):
    fail_on_call(monkeypatch, Path, "write_text", 3)
    with pytest.raises(OSError):
        two_runs[0].write(tmp_path / "run")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("call", [1, 2, 3, 4])
def test_a_swap_that_fails_part_way_reads_as_incomplete(tmp_path, two_runs, monkeypatch, call):
    """Moving the files in can only fail in odd cases (the directory made read-only meanwhile):
    summary.json is gone until the last move, so a mix never looks like a finished run."""
    a, b = two_runs
    out, other = tmp_path / "run", tmp_path / "other"
    a.write(out)
    b.write(other)
    fail_on_call(monkeypatch, os, "replace", call)
    with pytest.raises(OSError):
        b.write(out)
    assert not (out / "summary.json").exists()
    assert leftovers(tmp_path) == []
    monkeypatch.undo()
    b.write(out)
    assert snapshot(out) == snapshot(other)


def test_a_killed_writers_partial_directory_is_removed_by_the_next_write(tmp_path, two_runs, monkeypatch):
    dead, running = tmp_path / ".run.partial-999999-0", tmp_path / ".run.partial-999998-0"
    for d in (dead, running):
        d.mkdir()
        (d / "events.jsonl").write_text("half")
    monkeypatch.setattr(rundir, "_alive", lambda pid: pid == 999998)
    two_runs[0].write(tmp_path / "run")
    assert not dead.exists() and running.exists()  # another writer's work in progress is kept


def test_a_target_that_is_a_file_is_refused_before_anything_is_written(tmp_path, two_runs):
    (tmp_path / "run").write_text("not a directory")
    with pytest.raises(NotADirectoryError, match="not a directory"):
        two_runs[0].write(tmp_path / "run")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_a_plot_appears_whole_or_not_at_all(tmp_path):
    target = tmp_path / "timeline.png"
    target.write_bytes(b"old plot")

    def half_written(path: Path) -> None:
        path.write_bytes(b"half a pl")
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        rundir.write_file_atomically(target, half_written)
    assert target.read_bytes() == b"old plot" and sorted(p.name for p in tmp_path.iterdir()) == ["timeline.png"]
    rundir.write_file_atomically(target, lambda path: path.write_bytes(b"new plot"))
    assert target.read_bytes() == b"new plot" and sorted(p.name for p in tmp_path.iterdir()) == ["timeline.png"]


def test_run_with_plot_into_an_existing_directory(tmp_path):
    out = tmp_path / "run"
    assert main(["run", str(DEMO), "--out", str(out), "--quiet", "--until", "20s", "--plot"]) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted((*RUN_FILES, "contact.png", "swimlanes.png", "timeline.png"))
    # Run again without --plot: the plots of the earlier run go with it.
    assert main(["run", str(DEMO), "--out", str(out), "--quiet", "--until", "20s", "--seed", "2"]) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(RUN_FILES)
    assert leftovers(tmp_path) == []


def test_a_symlinked_run_directory_is_written_through(tmp_path, two_runs):
    """The partial directory goes beside the real directory, on its file system."""
    real, link = tmp_path / "elsewhere" / "real", tmp_path / "link"
    two_runs[0].write(real)
    link.symlink_to(real, target_is_directory=True)
    two_runs[1].write(link)
    two_runs[1].write(tmp_path / "other")
    assert link.is_symlink() and snapshot(real) == snapshot(tmp_path / "other")
    assert leftovers(tmp_path) == [] and leftovers(real.parent) == []
