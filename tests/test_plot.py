"""Figures of a run (`autopilot_sim.plot`) and the `plot` command: what is drawn, not only that
something is returned.

Most checks run on real run directories (the demo: a follower crash, its cleanup and return,
then a leader partition; and a short scenario with a leader crash, a configuration write and a
join) and compare the drawn artists with the run's own files; a few use hand-made timelines
whose answers are known exactly.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

# matplotlib is a plain dependency: these tests are never skipped.
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text

from autopilot_sim import plot
from autopilot_sim.cli import main

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "scenarios" / "demo.yaml"
SECOND = 1_000_000_000

LEADER_CRASH = """\
version: 1
name: plot-leader-crash
description: the leader crashes; a config write lowers the thresholds; a new server joins
duration: 100s
cluster: {servers: 3}
load: {writes_per_second: 10}
events:
  - {at: 20s, crash: leader}
  - {at: 40s, set_autopilot: {max_trailing_logs: 50, last_contact_threshold: 100ms}}
  - {at: 50s, join: {name: node4, version: 1.11.0}}
  - {at: 51s, pause: {server: node4, for: 3s}}
"""

NO_QUORUM = """\
version: 1
name: plot-no-quorum
description: three of five servers crash at once; one comes back
duration: 50s
cluster: {servers: 5}
events:
  - {at: 10s, crash: leader}
  - {at: 10s, crash: follower}
  - {at: 10s, crash: "follower[1]"}
  - {at: 30s, restart: follower}
"""


def _run(tmp: Path, scenario: Path | str, name: str) -> Path:
    if isinstance(scenario, str):
        path = tmp / f"{name}.yaml"
        path.write_text(scenario, encoding="utf-8")
        scenario = path
    out = tmp / name
    assert main(["run", str(scenario), "--out", str(out), "--quiet"]) in (0, 1)
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("plot-runs")
    return {"demo": _run(tmp, DEMO, "demo"), "leader_crash": _run(tmp, LEADER_CRASH, "leader-crash"),
            "no_quorum": _run(tmp, NO_QUORUM, "no-quorum")}


def _gids(fig: Figure, prefix: str) -> list:
    return [a for ax in fig.axes for a in ax.get_children() if (a.get_gid() or "").startswith(prefix)]


def _one(fig: Figure, gid: str):
    found = _gids(fig, gid)
    found = [a for a in found if a.get_gid() == gid]
    assert len(found) == 1, f"{gid}: {len(found)} artists"
    return found[0]


def _xspan(patch) -> tuple[float, float]:
    """The x extent, in data units, of an axvspan (a Rectangle in a blended transform)."""
    return patch.get_x(), patch.get_x() + patch.get_width()


def _maximal_runs(timeline: list[dict], status: int) -> int:
    runs, previous = 0, None
    for record in timeline:
        if record["status"] == status and previous != status:
            runs += 1
        previous = record["status"]
    return runs


def _health(status: int, ft: int = 1, voters: int = 3, t: int = 0) -> dict:
    if status == 500:
        return {"t_ns": t, "t": "", "status": 500, "health": {"error": "No cluster leader"}}
    servers = [{"ID": f"node{i}", "Name": f"node{i}.global", "Leader": i == 1, "Voter": i <= voters,
                "Healthy": status == 200, "SerfStatus": "alive", "LastContact": "0s" if i == 1 else "10ms",
                "LastIndex": 100 if i == 1 else 100 - i, "LastTerm": 2} for i in range(1, 4)]
    return {"t_ns": t, "t": "", "status": status,
            "health": {"Healthy": status == 200, "FailureTolerance": ft, "Servers": servers,
                       "Leader": "node1", "Voters": [s["ID"] for s in servers if s["Voter"]]}}


def _synthetic() -> plot.Run:
    """Statuses 200 500 500 429 200 500 200 at 0,2,4,…,12 s; the run ends at 20 s."""
    statuses = [200, 500, 500, 429, 200, 500, 200]
    fts = [1, 0, 0, 0, 1, 0, 1]
    voters = [3, 0, 0, 2, 3, 0, 3]
    rows = zip(statuses, fts, voters, strict=True)
    timeline = [_health(s, ft, v, t=2 * SECOND * i) for i, (s, ft, v) in enumerate(rows)]
    events = [
        {"t_ns": 1 * SECOND, "kind": "leader_elected", "server": "node1", "term": 2, "message": ""},
        {"t_ns": 3 * SECOND, "kind": "crash", "server": "node1", "message": "node1 crashed (it was the leader)"},
        {"t_ns": 5 * SECOND, "kind": "leader_elected", "server": "node2", "term": 3, "message": ""},
    ]
    return plot.Run(timeline=timeline, events=events, summary={"scenario": "synthetic", "seed": 4,
                                                               "duration_ns": 20 * SECOND})


# --------------------------------------------------------------------------------- loading


def test_load_run_reads_every_file(runs):
    run = plot.load_run(runs["demo"])
    assert run.name == "demo" and run.seed == 1
    assert len(run.timeline) == len((runs["demo"] / "timeline.jsonl").read_text().splitlines())
    assert run.events and run.events[0]["t_ns"] <= run.events[-1]["t_ns"]
    assert run.scenario["autopilot"]["max_trailing_logs"] == 250
    assert run.duration_ns == json.loads((runs["demo"] / "summary.json").read_text())["duration_ns"]


def test_load_run_errors_name_the_directory(tmp_path):
    with pytest.raises(plot.PlotError, match="no run directory"):
        plot.load_run(tmp_path / "missing")
    with pytest.raises(plot.PlotError, match=r"no timeline\.jsonl"):
        plot.load_run(tmp_path)
    (tmp_path / "timeline.jsonl").write_text('{"t_ns": 1}\nnot json\n')
    with pytest.raises(plot.PlotError, match=r"timeline.jsonl:2: not a JSON line"):
        plot.load_run(tmp_path)


def test_run_from_result_matches_the_run_directory(tmp_path):
    from autopilot_sim.scenario import load_scenario
    from autopilot_sim.sim.runner import Simulation

    result = Simulation(load_scenario(DEMO), until=40 * SECOND).run()
    result.write(tmp_path)
    in_memory, on_disk = plot.Run.from_result(result), plot.load_run(tmp_path)
    assert in_memory.timeline == on_disk.timeline and in_memory.events == on_disk.events
    assert in_memory.scenario == on_disk.scenario and in_memory.name == on_disk.name


# --------------------------------------------------------------------------------- data views


def test_status_spans_hold_each_report_until_the_next():
    run = _synthetic()
    assert plot.status_spans(run, 500) == [(2 * SECOND, 6 * SECOND), (10 * SECOND, 12 * SECOND)]
    assert plot.status_spans(run, 429) == [(6 * SECOND, 8 * SECOND)]
    assert plot.status_spans(run, 200)[-1] == (12 * SECOND, 20 * SECOND)  # the last until the end


def test_leaderless_spans_add_up_to_the_summary(runs):
    for name in runs:
        run = plot.load_run(runs[name])
        total = sum(b - a for a, b in plot.leaderless_spans(run))
        assert total == round(run.summary["time_without_leader_s"] * SECOND), name


def test_event_labels_merge_same_instant_faults(runs):
    labels = plot.event_labels(plot.load_run(runs["no_quorum"]))
    crashes = [text for _, category, text in labels if text.startswith("crash")]
    assert len(crashes) == 1 and crashes[0].count("crash") == 3 and "(leader)" in crashes[0]
    assert any(category == "leader" for _, category, _ in labels)


def test_threshold_steps_follow_config_writes(runs):
    run = plot.load_run(runs["leader_crash"])
    assert plot.threshold_steps(run, "max_trailing_logs") == [(0, 250.0), (40 * SECOND, 50.0)]
    assert plot.threshold_steps(run, "last_contact_threshold") == [(0, 200e6), (40 * SECOND, 100e6)]


# --------------------------------------------------------------------------------- timeline


def test_timeline_shades_one_span_per_leaderless_and_unhealthy_period(runs):
    for name in runs:
        run = plot.load_run(runs[name])
        fig = plot.failure_tolerance_timeline(run)
        assert len(_gids(fig, "no-leader-span-")) == _maximal_runs(run.timeline, 500), name
        assert len(_gids(fig, "unhealthy-span-")) == _maximal_runs(run.timeline, 429), name
    assert _maximal_runs(plot.load_run(runs["demo"]).timeline, 500) >= 1  # the partition's election
    assert _maximal_runs(plot.load_run(runs["no_quorum"]).timeline, 500) >= 1


def test_timeline_spans_and_steps_on_a_known_timeline():
    run = _synthetic()
    fig = plot.failure_tolerance_timeline(run)
    spans = sorted(_xspan(p) for p in _gids(fig, "no-leader-span-"))
    assert spans == [(2.0, 6.0), (10.0, 12.0)]
    assert [_xspan(p) for p in _gids(fig, "unhealthy-span-")] == [(6.0, 8.0)]
    ft = _one(fig, "failure-tolerance")
    assert list(ft.get_xdata()) == [0, 2, 4, 6, 8, 10, 12, 20]
    assert [None if math.isnan(y) else y for y in ft.get_ydata()] == [1, None, None, 0, 1, None, 1, 1]
    assert ft.get_drawstyle() == "steps-post"
    voters = _one(fig, "voters")
    assert [None if math.isnan(y) else y for y in voters.get_ydata()] == [3, None, None, 2, 3, None, 3, 3]
    # The actual leaderless periods come from the events: 0–1 s and 3–5 s.
    assert sorted(_xspan(p) for p in _gids(fig, "leaderless-")) == [(0.0, 1.0), (3.0, 5.0)]
    assert fig.axes[0].get_title(loc="left").startswith("synthetic, seed 4")


def test_timeline_step_lines_match_the_timeline(runs):
    run = plot.load_run(runs["demo"])
    fig = plot.failure_tolerance_timeline(run)
    ft, voters = _one(fig, "failure-tolerance"), _one(fig, "voters")
    expected_ft = [math.nan if r["status"] == 500 else r["health"]["FailureTolerance"] for r in run.timeline]
    expected_voters = [math.nan if r["status"] == 500 else len(r["health"]["Voters"]) for r in run.timeline]
    for line, expected in ((ft, expected_ft), (voters, expected_voters)):
        ys = list(line.get_ydata())[:-1]  # the last point holds the last report to the end
        assert len(ys) == len(expected)
        assert all((math.isnan(a) and math.isnan(b)) or a == b for a, b in zip(ys, expected, strict=True))
    xs = list(ft.get_xdata())
    assert xs[:-1] == pytest.approx([r["t_ns"] / SECOND for r in run.timeline])
    assert xs[-1] == pytest.approx(run.duration_ns / SECOND)
    assert "seconds" in fig.axes[0].get_xlabel()


def test_timeline_marks_every_event_with_non_overlapping_labels(runs):
    from autopilot_sim.plot_labels import timeline_marks

    for name in ("demo", "leader_crash", "no_quorum"):
        run = plot.load_run(runs[name])
        fig = plot.failure_tolerance_timeline(run)
        marks = timeline_marks(run)
        lines, texts = _gids(fig, "event-line-"), _gids(fig, "event-label-")
        assert len(lines) == len(texts) == len(marks), name
        assert [t.get_text() for t in sorted(texts, key=lambda a: int(a.get_gid().rsplit("-", 1)[1]))] == \
            [m.text for m in marks]
        assert_labels_clear(fig, name)
    leader_lines = [t for t in plot.event_labels(plot.load_run(runs["demo"])) if t[1] == "leader"]
    assert len(leader_lines) >= 3  # first election, the partitioned leader stepping down, the new leader


def test_timeline_marks_promotions_and_removals_on_the_voters_line(runs):
    run = plot.load_run(runs["demo"])
    fig = plot.failure_tolerance_timeline(run)
    promotions = _one(fig, "promotion-markers").get_offsets()
    removals = _one(fig, "removal-markers").get_offsets()
    assert len(promotions) == run.summary["promotions"] >= 1
    assert len(removals) == run.summary["removals"] + run.summary["demotions"] >= 1
    times = sorted(e["t_ns"] / SECOND for e in run.events if e["kind"] == "promotion")
    assert sorted(promotions[:, 0]) == pytest.approx(times)


def test_long_runs_use_minutes():
    run = _synthetic()
    run.summary["duration_ns"] = 10 * 60 * SECOND
    fig = plot.failure_tolerance_timeline(run)
    ax = fig.axes[0]
    assert "minutes" in ax.get_xlabel() and ax.get_xlim() == (0, 10)
    assert list(_one(fig, "failure-tolerance").get_xdata())[:2] == pytest.approx([0, 2 / 60])


# --------------------------------------------------------------------------------- swimlanes


def test_swimlanes_mark_each_promotion_and_removal(runs):
    for name in ("demo", "leader_crash", "no_quorum"):
        run = plot.load_run(runs[name])
        fig = plot.swimlanes(run)
        for group, count in (("promotion", run.summary["promotions"]), ("removal", run.summary["removals"])):
            drawn = _gids(fig, f"marker-{group}")
            assert sum(len(c.get_offsets()) for c in drawn) == count, (name, group)
        crashes = [e for e in run.events if e["kind"] in ("crash", "stopped")]
        assert sum(len(c.get_offsets()) for c in _gids(fig, "marker-crash")) == len(crashes)


def test_swimlanes_roles_follow_the_reports(runs):
    run = plot.load_run(runs["demo"])
    fig = plot.swimlanes(run)
    ax = fig.axes[0]
    names = [t.get_text() for t in ax.get_yticklabels()]
    assert names == ["node1", "node2", "node3", "node4", "node5"]
    # Exactly one leader bar covers every reported (non-500) moment.
    leader_time = sum(w for c in _gids(fig, "role-") if c.get_gid().endswith("-leader")
                      for _, w in _bar_extents(c))
    reported = sum(b - a for a, b in plot.status_spans(run, 200) + plot.status_spans(run, 429)) / SECOND
    assert leader_time == pytest.approx(reported)
    # The crashed follower is absent from the report between its removal and its return.
    removal = next(e["t_ns"] for e in run.events if e["kind"] == "raft_remove") / SECOND
    back = next(e["t_ns"] for e in run.events if e["kind"] == "raft_add") / SECOND
    bars = [(x, x + w) for c in _gids(fig, "role-node1-") for x, w in _bar_extents(c)]
    assert not any(a < (removal + back) / 2 < b for a, b in bars)
    assert any(c.get_gid() == "role-node1-non-voter" for c in _gids(fig, "role-node1-"))  # back as non-voter
    assert _gids(fig, "down-node1-") and _gids(fig, "no-report-")
    assert any(c.get_gid() == "serf-node1-failed" for c in _gids(fig, "serf-node1-"))


def _bar_extents(collection) -> list[tuple[float, float]]:
    """(x, width) of each bar of a broken_barh collection."""
    out = []
    for path in collection.get_paths():
        xs = path.vertices[:, 0]
        out.append((float(xs.min()), float(xs.max() - xs.min())))
    return out


# --------------------------------------------------------------------------------- contact


def test_contact_thresholds_and_lag(runs):
    run = plot.load_run(runs["leader_crash"])
    fig = plot.contact(run)
    top, bottom = fig.axes[:2]
    threshold = _one(fig, "last-contact-threshold")
    assert list(threshold.get_ydata()) == [200, 100, 100]  # ms: the scenario's, then the config write's
    assert list(threshold.get_xdata())[:2] == [0, 40]
    assert list(_one(fig, "max-trailing-logs").get_ydata()) == [250, 50, 50]
    assert top.get_yscale() == "log" and bottom.get_yscale() == "symlog"
    # Lag = leader LastIndex − server LastIndex at each report; the leader itself is not drawn.
    name = "node3"
    lag = _one(fig, f"lag-{name}")
    expected = []
    for record in run.timeline:
        servers = {s["ID"]: s for s in record["health"].get("Servers", [])}
        leader = next((s for s in servers.values() if s["Leader"]), None)
        s = servers.get(name)
        expected.append(math.nan if s is None or leader is None or s["Leader"]
                        else leader["LastIndex"] - s["LastIndex"])
    ys = list(lag.get_ydata())
    assert len(ys) == len(expected)
    assert all((math.isnan(a) and math.isnan(b)) or a == b for a, b in zip(ys, expected, strict=True))


def test_contact_splits_a_given_axes_in_two():
    fig = Figure()
    ax = fig.add_subplot(1, 2, 2)
    assert plot.contact(_synthetic(), ax=ax) is fig
    assert len(fig.axes) == 2 and ax not in fig.axes


# --------------------------------------------------------------------------------- others


def test_every_figure_draws_into_a_given_axes(runs):
    run = plot.load_run(runs["demo"])
    fig = Figure(figsize=(11, 12))
    axes = fig.subplots(3, 1)
    assert plot.failure_tolerance_timeline(run, ax=axes[0]) is fig
    assert plot.swimlanes(run, ax=axes[1]) is fig
    assert plot.election_time_cdf([SECOND, 2 * SECOND], ax=axes[2]) is fig


def test_election_time_cdf():
    samples = [3 * SECOND // 2, SECOND, 2 * SECOND, SECOND // 2]
    fig = plot.election_time_cdf(samples, label="default")
    line = _one(fig, "cdf-default")
    assert list(line.get_xdata()) == [500, 500, 1000, 1500, 2000]
    assert list(line.get_ydata()) == [0, 0.25, 0.5, 0.75, 1.0]
    assert "n=4" in line.get_label() and "median 1250 ms" in line.get_label()
    plot.election_time_cdf([SECOND], ax=fig.axes[0], label="other")  # overlays on the same axes
    assert len(_gids(fig, "cdf-")) == 2
    with pytest.raises(ValueError):
        plot.election_time_cdf(samples, unit="min")


def test_empty_timeline_still_draws(tmp_path):
    out = tmp_path / "early"
    assert main(["run", str(DEMO), "--until", "1s", "--out", str(out), "--quiet"]) == 0
    run = plot.load_run(out)
    assert run.timeline == []
    for figure in (plot.failure_tolerance_timeline, plot.swimlanes, plot.contact):
        plot.save(figure(run), tmp_path / f"{figure.__name__}.png")


# --------------------------------------------------------------------------------- saving


def test_svg_and_pdf_are_byte_identical_across_renders(runs, tmp_path):
    for ext in ("svg", "pdf"):
        a, b = tmp_path / f"a.{ext}", tmp_path / f"b.{ext}"
        plot.save(plot.failure_tolerance_timeline(plot.load_run(runs["demo"])), a)
        plot.save(plot.failure_tolerance_timeline(plot.load_run(runs["demo"])), b)
        assert a.read_bytes() == b.read_bytes(), ext
    svg = (tmp_path / "a.svg").read_text()
    assert "<dc:date>" not in svg and 'id="failure-tolerance"' in svg
    assert b"CreationDate" not in (tmp_path / "a.pdf").read_bytes()


def test_svg_is_byte_identical_across_processes(runs, tmp_path):
    here = tmp_path / "here.svg"
    assert main(["plot", str(runs["demo"]), "--kind", "swimlanes", "-o", str(here)]) == 0
    there = tmp_path / "there.svg"
    code = ("import sys; from autopilot_sim import plot; "
            "plot.save(plot.swimlanes(plot.load_run(sys.argv[1])), sys.argv[2]); "
            "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot imported'")
    proc = subprocess.run([sys.executable, "-c", code, str(runs["demo"]), str(there)],
                          capture_output=True, text=True, cwd=REPO, check=False)
    assert proc.returncode == 0, proc.stderr
    assert here.read_bytes() == there.read_bytes()


def test_save_picks_the_format_and_refuses_unknown_extensions(tmp_path):
    fig = plot.failure_tolerance_timeline(_synthetic())
    assert plot.save(fig, tmp_path / "sub" / "t.PNG").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(plot.PlotError, match=r"'\.jpg'.*\.png, \.svg, \.pdf"):
        plot.save(fig, tmp_path / "t.jpg")
    assert not (tmp_path / "t.jpg").exists()


# --------------------------------------------------------------------------------- CLI


def test_plot_command_writes_the_default_and_chosen_files(runs, tmp_path, capsys):
    run_dir = runs["leader_crash"]
    assert main(["plot", str(run_dir)]) == 0
    assert (run_dir / "timeline.png").read_bytes()[:4] == b"\x89PNG"
    assert main(["plot", str(run_dir), "--kind", "contact", "-o", str(tmp_path / "c.pdf")]) == 0
    assert (tmp_path / "c.pdf").read_bytes()[:5] == b"%PDF-"
    assert f"wrote {tmp_path / 'c.pdf'}" in capsys.readouterr().out


@pytest.mark.parametrize("args, message", [
    (["{run}", "-o", "{tmp}/x.jpg"], "unknown extension '.jpg'"),
    (["{run}", "-o", "{tmp}/x"], "unknown extension '(none)'"),
    (["{tmp}/missing"], "no run directory at"),
    (["{tmp}"], "is not a run directory"),
])
def test_plot_command_errors_exit_2(runs, tmp_path, capsys, args, message):
    argv = [a.format(run=runs["demo"], tmp=tmp_path) for a in args]
    assert main(["plot", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("autopilot-sim plot: ") and message in err
    assert not list(tmp_path.glob("x*"))


def test_plot_command_rejects_an_unknown_kind(runs, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["plot", str(runs["demo"]), "--kind", "pie"])
    assert exc.value.code == 2


def test_run_with_plot_writes_both_pngs(tmp_path, capsys):
    scenario = tmp_path / "s.yaml"
    scenario.write_text(NO_QUORUM, encoding="utf-8")
    out = tmp_path / "run"
    assert main(["run", str(scenario), "--out", str(out), "--plot", "--quiet"]) == 0
    for name in ("timeline.png", "swimlanes.png"):
        assert (out / name).read_bytes()[:4] == b"\x89PNG", name
    assert "plots: " in capsys.readouterr().out
    again = tmp_path / "again"
    assert main(["run", str(scenario), "--out", str(again), "--quiet"]) == 0
    assert not (again / "timeline.png").exists()  # only with --plot


# --- event labels: geometry on the rendered figure ---------------------------------------------------


def assert_labels_clear(fig, name: str) -> None:
    """Lay out and draw `fig`, then check with real text extents that no event label, event
    number or table entry overlaps another or the title, and that no label's connector (its
    vertical from the axes' top) passes through another label."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    ax = fig.axes[0]
    labels = _gids(fig, "event-label-") + _gids(fig, "event-number-")
    boxes = [(t, Text.get_window_extent(t, renderer)) for t in labels]  # the text, not its connector
    table = list(fig.findobj(lambda a: a.get_gid() == "event-table"))
    for legend in table:
        boxes += [(t, t.get_window_extent(renderer)) for t in legend.get_texts() if t.get_text().strip()]
    title = ax.title.get_window_extent(renderer)
    for i, (ti, bi) in enumerate(boxes):
        assert not bi.overlaps(title), f"{name}: {ti.get_text()!r} overlaps the title"
        for tj, bj in boxes[i + 1:]:
            assert not bi.overlaps(bj), f"{name}: {ti.get_text()!r} / {tj.get_text()!r}"
    top = ax.get_window_extent(renderer).y1
    for t in _gids(fig, "event-label-"):
        box = Text.get_window_extent(t, renderer)
        x = ax.transData.transform((t.xy[0], 0))[0]  # the connector's x, from the axes' top to the label
        for other in _gids(fig, "event-label-"):
            if other is t:
                continue
            ob = Text.get_window_extent(other, renderer)
            crosses = ob.x0 + 0.5 < x < ob.x1 - 0.5 and ob.y0 < box.y0 and ob.y1 > top
            assert not crosses, f"{name}: the line of {t.get_text()!r} crosses {other.get_text()!r}"


CROWDED = REPO / "tests" / "scenarios" / "crowded-timeline.yaml"


@pytest.fixture(scope="module")
def crowded(tmp_path_factory):
    out = tmp_path_factory.mktemp("crowded") / "run"
    assert main(["run", str(CROWDED), "--out", str(out), "--quiet"]) == 0
    return plot.load_run(out)


def test_a_crowded_timeline_moves_its_labels_into_a_numbered_table(crowded):
    from autopilot_sim.plot_labels import timeline_marks

    marks = timeline_marks(crowded)
    assert len(marks) >= 30
    fig = plot.failure_tolerance_timeline(crowded)
    assert not _gids(fig, "event-label-")  # no labels above the axes: they would not fit
    numbers = _gids(fig, "event-number-")
    (legend,) = list(fig.findobj(lambda a: a.get_gid() == "event-table"))
    entries = [t.get_text() for t in legend.get_texts() if t.get_text().strip()]
    assert len(entries) == len(marks) and len(_gids(fig, "event-line-")) == len(marks)
    assert entries[0].startswith("1  ") and int(entries[-1].split()[0]) == len(numbers)
    assert any("serf: node5 failed" in e for e in entries)  # serf's verdicts are marked
    assert any("set-config max_trailing_logs=100" in e for e in entries)
    assert_labels_clear(fig, "crowded")


def test_timeline_marks_serf_failures_removals_and_api_writes(runs):
    from autopilot_sim.plot_labels import operator_marks
    from autopilot_sim.rundata import Run

    run = plot.load_run(runs["demo"])
    marks = operator_marks(run)
    texts = [text for _, _, text in marks]
    assert "serf: node1 failed" in texts and "serf: node1 left" in texts and "remove node1" in texts
    assert texts.count("remove node1") == 1  # autopilot's decision and Nomad's Raft removal: one mark
    api = Run(timeline=[], events=[{"t_ns": 5, "t": "5ns", "kind": "api_config_write", "index": 9, "message": ""}])
    assert operator_marks(api) == [(5, "config", "API set-config (index 9)")]


def test_label_rows_keep_connectors_clear():
    from autopilot_sim.plot_labels import pack_rows

    # a burst of three events: a staircase, none of whose connectors crosses another label
    xs = [10.0, 10.5, 11.0, 11.2]
    placed = pack_rows(xs, [5.0] * 4, 100.0)
    assert placed is not None
    for i, p in enumerate(placed):
        for j, q in enumerate(placed):
            if i == j:
                continue
            assert q.row != p.row or q.right <= p.left or q.left >= p.right  # no overlap in a row
            if q.row < p.row:
                assert not q.left <= xs[i] <= q.right  # p's connector passes q's row clear of q
    assert pack_rows([float(i) for i in range(10)], [50.0] * 10, 100.0, max_rows=3) is None


def test_given_axes_put_a_crowded_table_beside_the_plot(crowded):
    fig = Figure(figsize=(11, 5))
    ax = fig.add_subplot()
    plot.failure_tolerance_timeline(crowded, ax=ax)
    assert list(fig.findobj(lambda a: a.get_gid() == "event-table"))
    assert _gids(fig, "event-number-")


def test_run_plot_writes_the_contact_figure_too(tmp_path):
    out = tmp_path / "run"
    assert main(["run", str(REPO / "scenarios" / "follower-crash-cleanup.yaml"), "--out", str(out), "--plot",
                 "--quiet"]) == 0
    for name in ("timeline.png", "swimlanes.png", "contact.png"):
        assert (out / name).stat().st_size > 10_000, name


def test_hundreds_of_marks_keep_a_bounded_table(crowded):
    from autopilot_sim.plot_labels import TABLE_MAX
    from autopilot_sim.rundata import Run

    events = [{"t_ns": 10**9 + i * 1_500_000_000, "t": "", "kind": "crash" if i % 2 == 0 else "restart",
               "server": f"node{i % 5 + 1}", "message": ""} for i in range(150)]
    run = Run(timeline=crowded.timeline, events=events, summary=crowded.summary, scenario=crowded.scenario)
    fig = plot.failure_tolerance_timeline(run)
    assert len(_gids(fig, "event-line-")) == 150  # every moment keeps its line
    (legend,) = list(fig.findobj(lambda a: a.get_gid() == "event-table"))
    entries = [t.get_text() for t in legend.get_texts() if t.get_text().strip()]
    assert len(entries) <= TABLE_MAX + 1 and entries[-1].startswith(f"… {150 - (len(entries) - 1)} more")
    assert_labels_clear(fig, "hundreds")


def test_contact_marks_the_crash_serf_verdict_and_removal(runs):
    run = plot.load_run(runs["demo"])
    fig = plot.contact(run)
    marks = _gids(fig, "contact-mark-")
    xs = sorted({round(m.get_xdata()[0], 3) for m in marks})
    crash = next(e for e in run.events if e["kind"] == "crash")["t_ns"] / SECOND
    failed = next(e for e in run.events if e["kind"] == "serf_member" and e["status"] == "failed")["t_ns"] / SECOND
    assert round(crash, 3) in xs and round(failed, 3) in xs
    assert len(marks) % 2 == 0  # each moment in both panels
    labels = [t.get_text() for t in fig.axes[1].get_legend().get_texts()]
    assert {"crash / pause", "serf: failed / left", "removed from Raft"} <= set(labels)
