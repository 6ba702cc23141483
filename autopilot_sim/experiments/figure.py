"""Draw the election-time CDFs like Figure 16 (two panels), with the published curves dashed.

Figures are `matplotlib.figure.Figure` objects (no pyplot global state), written atomically."""

from __future__ import annotations

import os
from pathlib import Path

from autopilot_sim.experiments.compare import paper_curves
from autopilot_sim.experiments.election_time import RANDOMNESS_RANGES, SCALE_RANGES


def _cdf(values: list[float]) -> tuple[list[float], list[float]]:
    ordered = sorted(values)
    n = len(ordered)
    return ordered, [(i + 1) / n for i in range(n)]


def draw(results_ms: dict[str, list[float]], path: Path, cap_ms: float | None = None) -> None:
    """Write the two-panel PNG: randomness (log x) on top, scale (linear 0–600 ms) below."""
    import matplotlib
    from matplotlib.figure import Figure

    curves = paper_curves()
    fig = Figure(figsize=(8, 7.5))
    axes = fig.subplots(2, 1)
    colours = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
    panels = (
        (axes[0], RANDOMNESS_RANGES, "randomness in the election timeout (log scale)"),
        (axes[1], SCALE_RANGES, "scale of the election timeout"),
    )
    for ax, labels, title in panels:
        shown = [label for label in labels if label in results_ms]
        extra = [label for label in results_ms if label not in RANDOMNESS_RANGES + SCALE_RANGES]
        if ax is axes[1]:
            shown += extra
        for i, label in enumerate(shown):
            colour = colours[i % len(colours)]
            xs, ys = _cdf(results_ms[label])
            ax.step(xs, ys, where="post", color=colour, lw=1.4, label=f"{label} ms")
            if label in curves:
                px, py = zip(*curves[label], strict=False)
                ax.plot(px, py, color=colour, lw=1.0, ls="--", alpha=0.8)
        ax.set_ylim(0, 1)
        ax.set_ylabel("cumulative fraction")
        ax.set_title(title, fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8, loc="lower right", title="timeout range", title_fontsize=8)
    axes[0].set_xscale("log")
    axes[0].set_xlim(80, max(1e5, cap_ms or 0) * 1.2 if "150-150" in results_ms else None)
    axes[0].set_xlabel("time without leader (ms)")
    axes[1].set_xlim(0, 600)
    axes[1].set_xlabel("time without leader (ms)")
    fig.suptitle("Time to elect a new leader after the leader crashes (5 servers)\n"
                 "solid: this simulator; dashed: Raft paper Figure 16 (LogCabin), digitized",
                 fontsize=10)
    fig.tight_layout()
    tmp = path.with_name(path.name + ".tmp.png")
    fig.savefig(tmp, dpi=110)
    os.replace(tmp, path)


def draw_wan(results_ms: dict[str, list[float]], path: Path) -> None:
    """CDFs of the WAN election times, one line per number of failed servers."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4))
    ax = fig.subplots()
    for label, values in results_ms.items():
        xs, ys = _cdf(values)
        mean = sum(values) / len(values)
        ax.step(xs, ys, where="post", lw=1.4, label=f"{label.split('=')[1]} failed (mean {mean:.0f} ms)")
    ax.set_xlabel("election time (ms)")
    ax.set_ylabel("cumulative fraction")
    ax.set_ylim(0, 1)
    ax.set_xlim(0, 3000)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title("Simulated WAN (thesis §9.3): 5 servers, latency 30–40 ms, timeouts 300–600 ms",
                 fontsize=10)
    fig.tight_layout()
    tmp = path.with_name(path.name + ".tmp.png")
    fig.savefig(tmp, dpi=110)
    os.replace(tmp, path)
