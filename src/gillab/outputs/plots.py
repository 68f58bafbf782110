"""The pictures: speedup against workers, and the per-worker timeline (Gantt chart)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.patches import Patch

from gillab.harness.results import Cell, RunResult
from gillab.workloads import label as workload_label

__all__ = ["cores_busy_png", "plt", "save", "speedup_png", "timeline_png"]


def save(fig: Any, path: Path) -> None:
    """Lay out, write and close a figure: the one place pictures are saved."""
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _drawn_cells(result: RunResult) -> list[Cell]:
    return [c for c in result.cells if c.ok and not c.kind.baseline and c.speedup is not None]


def _panel(axis: Any, result: RunResult, cells: list[Cell], figure: str) -> int:
    """One panel of speedup.png (figure: speedup or parallelism): the ideal, each impl × executor's line in its
    own colour and marker; return how many cells it marked hollow."""
    cores = result.environment.usable_cores
    workers = sorted({c.workers for c in cells})
    axis.plot(
        workers,
        [min(w, cores) for w in workers],
        color="black",
        lw=1,
        ls=":",
        label=f"ideal: min(workers, {cores} cores)",
    )
    if figure == "speedup":
        _ceiling_band(axis, result, workers)
    series: dict[tuple[str, str], list[Cell]] = {}
    for c in sorted(cells, key=lambda c: c.workers):
        series.setdefault((c.impl, c.executor), []).append(c)
    for i, ((impl, ex), line) in enumerate(series.items()):
        look = {
            "color": COLOURS[i % len(COLOURS)],
            "marker": MARKERS[i % len(MARKERS)],
            "label": f"{impl} / {ex}",
        }
        _line(axis, line, figure, ex, look)
    axis.set_xlabel("workers")
    axis.set_xticks(workers)
    axis.grid(alpha=0.3)
    axis.set_ylabel("speedup over serial" if figure == "speedup" else "cores busy (CPU ÷ wall)")
    axis.set_ylim(bottom=0)
    return sum(1 for c in cells if _distrusted(c, figure))


def speedup_png(result: RunResult, path: Path) -> bool:
    """Draw speedup (left) and cores busy (right) against workers, one line per impl × executor, with the ideal
    min(workers, cores) and this machine's own ceiling as a band."""
    cells = _drawn_cells(result)
    if not cells:
        return False
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 5))
    marked = _panel(ax, result, cells, "speedup")
    _panel(bx, result, cells, "parallelism")
    title = f"{result.environment.python_version}, GIL {'on' if result.environment.gil_enabled else 'off'}"
    ax.set_title(f"{workload_label(cells[0].workload)}: speedup ({title})", fontsize=10)
    bx.set_title("how many cores the workers kept busy", fontsize=10)
    ax.legend(fontsize=7)
    hidden = sum(1 for c in cells if "speedup" in c.unsteady)
    caption = [
        "Bars: 95% intervals over the rounds. Grey band: this machine's own ceiling, measured beside the same repeats.",
        (
            f"Hollow: a figure to distrust ({marked} here)"
            if marked
            else "No figure is marked to distrust"
        )
        + (
            f"; not drawn: {hidden} speedup{'s' if hidden > 1 else ''} too unsteady to tell"
            if hidden
            else ""
        )
        + (". The reasons are in report.html." if marked else "."),
    ]
    fig.text(0.01, 0.01, "\n".join(caption), fontsize=8, va="bottom", ha="left")
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def cores_busy_png(result: RunResult, path: Path) -> bool:
    """Draw speedup.png's right panel alone: how many cores each impl × executor kept busy (the README's
    picture)."""
    cells = _drawn_cells(result)
    if not cells:
        return False
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    _panel(ax, result, cells, "parallelism")
    env = result.environment
    ax.set_title(
        f"{workload_label(cells[0].workload)}: cores the workers kept busy ({env.python_version}, "
        f"{env.usable_cores} cores)",
        fontsize=10,
    )
    ax.legend(fontsize=7)
    save(fig, path)
    return True


COLOURS = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#ff7f0e",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#7f7f7f",
    "#bcbd22",
)
"""One colour per series of speedup.png (impl × executor), none repeated below ten series."""
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "*", "h")
"""One marker per series: a series tells itself from the next by shape as well as colour."""


def _ceiling_band(ax: Any, result: RunResult, workers: list[int]) -> None:
    """This machine's own ceiling per worker count: its median, and its 95% interval as a band."""
    block = result.ceiling
    found = [block.of(w) for w in workers] if block is not None else []
    points = [(w, c) for w, c in zip(workers, found, strict=False) if c is not None]
    if not points:
        return
    xs = [w for w, _ in points]
    ax.fill_between(
        xs, [c.ci95[0] for _, c in points], [c.ci95[1] for _, c in points], color="grey", alpha=0.18
    )
    ax.plot(
        xs,
        [c.ratio for _, c in points],
        color="grey",
        lw=2,
        alpha=0.6,
        label="this machine's ceiling",
    )


def _distrusted(c: Cell, figure: str) -> bool:
    """Whether a cell's figure is to distrust: any of a noisy cell's, but its cores busy only where other
    processes took cores (a speedup that moved with the machine leaves cores busy standing)."""
    if figure == "parallelism":
        return any(r.disturbed for r in c.repeats)
    return c.noisy


def _line(ax: Any, line: list[Cell], figure: str, ex: str, look: dict[str, Any]) -> None:
    """One impl × executor's line of a figure (speedup or parallelism) with its intervals, in its own colour and
    marker; a figure to distrust is hollow, and one that cannot be true of the code (the cell's `unsteady`) is
    left out."""
    drawn = [c for c in line if figure not in c.unsteady and getattr(c, figure) is not None]
    if not drawn:
        return
    ys = [getattr(c, figure) for c in drawn]
    cis = [getattr(c, f"{figure}_ci95") for c in drawn]
    lo = [max(0.0, y - ci[0]) if ci else 0.0 for y, ci in zip(ys, cis, strict=True)]
    hi = [max(0.0, ci[1] - y) if ci else 0.0 for y, ci in zip(ys, cis, strict=True)]
    style = (line[0].kind.style if line else "") or "-"
    ax.errorbar([c.workers for c in drawn], ys, yerr=[lo, hi], fmt=style, capsize=3, ms=6, **look)
    for c, y in zip(drawn, ys, strict=True):
        if _distrusted(c, figure):
            ax.plot([c.workers], [y], look["marker"], ms=11, mfc="white", mec=look["color"], mew=2)


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
            bars = [
                (g.start_s * 1e3, (g.end_s - g.start_s) * 1e3)
                for g in segs
                if g.lane == lane and g.state == state
            ]
            if bars:
                ax.broken_barh(bars, (lane - 0.35, 0.7), facecolors=colour, lw=0)
    by_lane: dict[int, list[tuple[float, float]]] = {}
    for span in c.timeline:  # one collection per lane: a bar per task costs a second on a big cell
        by_lane.setdefault(span.lane, []).append(
            (span.start_s * 1e3, (span.end_s - span.start_s) * 1e3)
        )
    for lane, bars in by_lane.items():
        ax.broken_barh(
            bars,
            (lane - 0.35, 0.7),
            facecolors="none" if segs else "#9ecae1",
            edgecolors="black",
            linewidth=0.8,
        )
    lanes = max(s.lane for s in c.timeline) + 1
    ax.set_yticks(range(lanes))
    ax.set_yticklabels([f"w{i}" for i in range(lanes)], fontsize=7)
    if lo_s is not None and hi_s is not None:
        ax.set_xlim(lo_s * 1e3, hi_s * 1e3)


def _zoom_window(c: Cell) -> tuple[float, float] | None:
    """A ZOOM_S window in the middle of a cell whose workers traded the GIL often enough to see it."""
    if (
        c.gil is None
        or not c.gil.segments
        or not c.gil.switches_per_s
        or c.gil.switches_per_s < 2 / ZOOM_S
    ):
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
        baseline = c.kind.baseline
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
                (
                    f"each worker's own GIL held {c.gil.held_fraction:.0%} of the time (mean of "
                    f"{len(c.gil.per_interpreter)} GILs), {c.gil.switches_per_s or 0:.0f} switches/s"
                    if c.gil.per_interpreter
                    else f"GIL held {c.gil.held_fraction:.0%} of the time, {c.gil.switches_per_s or 0:.0f} switches/s"
                ),
                fontsize=7,
                loc="right",
                pad=2,
            )
        elif c.gil is not None and c.gil.note:
            ax.set_title(c.gil.note, fontsize=7, loc="right", pad=2)
        ax.tick_params(axis="x", labelsize=7)
    axes[-1, 0].set_xlabel("ms since the workers were released")
    handles = [
        Patch(facecolor=col, edgecolor="grey", label=STATE_LABELS[s])
        for s, col in STATE_COLOURS.items()
    ]
    handles.append(Patch(facecolor="none", edgecolor="black", label="a task"))
    fig.legend(handles=handles, loc="upper center", ncol=5, fontsize=7, bbox_to_anchor=(0.5, 0.985))
    fig.suptitle(
        f"{workload_label(cells[0].workload)}: who holds the GIL, worker by worker, at {top} workers "
        "(the repeat nearest the median wall)",
        fontsize=10,
        y=0.999,
    )
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True
