"""The pictures: speedup against workers, and the per-worker timeline (Gantt chart)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.patches import Patch

from gillab.harness import executors
from gillab.harness.results import Cell, RunResult

__all__ = ["plt", "save", "speedup_png", "timeline_png"]


def save(fig: Any, path: Path) -> None:
    """Lay out, write and close a figure: the one place pictures are saved."""
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def speedup_png(result: RunResult, path: Path) -> bool:
    """Draw speedup against workers, one line per impl × executor, and the ideal min(workers, cores)."""
    cells = [c for c in result.cells if c.ok and not executors.lookup(c.executor).baseline and c.speedup is not None]
    if not cells:
        return False
    cores = result.environment.usable_cores
    fig, ax = plt.subplots(figsize=(8, 5))
    workers = sorted({c.workers for c in cells})
    ax.plot(
        workers,
        [min(w, cores) for w in workers],
        color="grey",
        lw=3,
        alpha=0.4,
        label=f"ideal: min(workers, {cores} cores)",
    )
    noisy = []
    for impl in dict.fromkeys(c.impl for c in cells):
        for ex in dict.fromkeys(c.executor for c in cells):
            line = sorted((c for c in cells if c.impl == impl and c.executor == ex), key=lambda c: c.workers)
            if not line:
                continue
            xs = [c.workers for c in line]
            ys = [c.speedup or 0.0 for c in line]
            lo = [max(0.0, (c.speedup or 0.0) - c.speedup_ci95[0]) if c.speedup_ci95 else 0.0 for c in line]
            hi = [max(0.0, c.speedup_ci95[1] - (c.speedup or 0.0)) if c.speedup_ci95 else 0.0 for c in line]
            drawn = ax.errorbar(
                xs, ys, yerr=[lo, hi], fmt=executors.lookup(ex).style or "-", marker="o", capsize=3,
                label=f"{impl} / {ex}",
            )  # fmt: skip
            colour = drawn[0].get_color()
            for c in line:  # a noisy cell: a hollow marker, named in the footnote
                if c.noisy:
                    ax.plot([c.workers], [c.speedup or 0.0], "o", ms=11, mfc="white", mec=colour, mew=2)
                    noisy.append(f"{impl} / {ex} at {c.workers}: {c.noise_reason}")
    ax.set_xlabel("workers")
    ax.set_ylabel("speedup over serial")
    ax.set_xticks(workers)
    ax.set_title(
        f"{cells[0].workload}: speedup ({result.environment.python_version}, "
        f"GIL {'on' if result.environment.gil_enabled else 'off'})"
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    note = "Bars: 95% bootstrap interval over the per-round ratios."
    if noisy:
        note += " Hollow markers: figures to distrust. " + " | ".join(_short(n) for n in noisy)
    fig.text(0.01, 0.005, note, fontsize=6.5, wrap=True, va="bottom", ha="left")
    fig.subplots_adjust(bottom=0.12 + 0.03 * min(6, len(noisy)))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def _short(text: str, limit: int = 140) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


STATE_COLOURS = {"holds": "#d62728", "runs": "#2ca02c", "waits": "#ffbf00", "idle": "#f2f2f2"}
STATE_LABELS = {
    "holds": "holds the GIL",
    "runs": "runs without the GIL",
    "waits": "waits (for the GIL, or a core)",
    "idle": "idle (no task)",
}
ZOOM_S = 0.05
"""The zoomed panel's width: long enough for several hand-offs at the default 5 ms switch interval."""


def _draw_lanes(ax: Any, c: Cell, lo_s: float | None = None, hi_s: float | None = None) -> None:
    """Draw a cell's lanes: the GIL states where they were sampled, the task spans as outlines over them."""
    segs = c.gil.segments if c.gil is not None else ()
    for state, colour in STATE_COLOURS.items():
        for lane in sorted({g.lane for g in segs}):
            bars = [(g.start_s * 1e3, (g.end_s - g.start_s) * 1e3) for g in segs if g.lane == lane and g.state == state]
            if bars:
                ax.broken_barh(bars, (lane - 0.35, 0.7), facecolors=colour, lw=0)
    for span in c.timeline:
        ax.barh(
            span.lane,
            (span.end_s - span.start_s) * 1e3,
            left=span.start_s * 1e3,
            color="none" if segs else "#9ecae1",
            edgecolor="black",
            lw=0.8,
            height=0.7,
        )
    lanes = max(s.lane for s in c.timeline) + 1
    ax.set_yticks(range(lanes))
    ax.set_yticklabels([f"w{i}" for i in range(lanes)], fontsize=7)
    if lo_s is not None and hi_s is not None:
        ax.set_xlim(lo_s * 1e3, hi_s * 1e3)


def _zoom_window(c: Cell) -> tuple[float, float] | None:
    """A ZOOM_S window in the middle of a cell whose workers traded the GIL often enough to see it."""
    if c.gil is None or not c.gil.segments or not c.gil.switches_per_s or c.gil.switches_per_s < 2 / ZOOM_S:
        return None
    holders = {g.lane for g in c.gil.segments if g.state == "holds"}
    if len(holders) < 2:
        return None
    end = max(s.end_s for s in c.timeline)
    mid = end / 2
    return max(0.0, mid - ZOOM_S / 2), max(0.0, mid - ZOOM_S / 2) + ZOOM_S


def timeline_png(result: RunResult, path: Path) -> bool:
    """Draw one Gantt panel per impl × executor at the largest worker count, one lane per worker.

    Where the GIL state was sampled, each lane shows, moment by moment, whether its worker held the GIL, ran
    without it, waited, or had no task; black outlines are the tasks. A cell whose threads traded the GIL
    gets a second, zoomed panel of ZOOM_S, where the hand-offs every switch interval can be seen.
    """
    cells = [c for c in result.cells if c.ok and c.timeline]
    if not cells:
        return False
    top = max(c.workers for c in cells)
    panels: list[tuple[Cell, tuple[float, float] | None]] = []
    for c in cells:
        baseline = executors.lookup(c.executor).baseline
        if c.workers == top or baseline:
            panels.append((c, None))
            zoom = _zoom_window(c) if not baseline else None
            if zoom is not None:
                panels.append((c, zoom))
    fig, axes = plt.subplots(len(panels), 1, figsize=(10, 1.4 + 0.95 * len(panels)), squeeze=False)
    full = max(s.end_s for c in cells for s in c.timeline) * 1e3
    for ax, (c, zoom) in zip(axes[:, 0], panels, strict=True):
        _draw_lanes(ax, c, *(zoom or (None, None)))
        if zoom is None:
            ax.set_xlim(0, full * 1.02)
        label = f"{c.impl}\n{c.executor}" + (f"\nzoom {ZOOM_S * 1e3:.0f} ms" if zoom else "")
        ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)
        if c.gil is not None and c.gil.available and c.gil.held_fraction is not None:
            ax.set_title(
                f"GIL held {c.gil.held_fraction:.0%} of the time, {c.gil.switches_per_s or 0:.0f} switches/s",
                fontsize=7,
                loc="right",
                pad=2,
            )
        elif c.gil is not None and c.gil.note:
            ax.set_title(c.gil.note, fontsize=7, loc="right", pad=2)
        ax.tick_params(axis="x", labelsize=7)
    axes[-1, 0].set_xlabel("ms since the workers were released")
    handles = [Patch(facecolor=col, edgecolor="grey", label=STATE_LABELS[s]) for s, col in STATE_COLOURS.items()]
    handles.append(Patch(facecolor="none", edgecolor="black", label="a task"))
    fig.legend(handles=handles, loc="upper center", ncol=5, fontsize=7, bbox_to_anchor=(0.5, 0.985))
    fig.suptitle(
        f"{cells[0].workload}: who holds the GIL, worker by worker, at {top} workers "
        "(the repeat nearest the median wall)",
        fontsize=10,
        y=0.999,
    )
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True
