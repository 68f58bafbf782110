"""The pictures: speedup against workers, and the per-worker timeline (Gantt chart)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from gillab.harness.results import RunResult

__all__ = ["plt", "save", "speedup_png", "timeline_png"]

EXECUTOR_STYLE = {"thread": "-", "process": "--", "asyncio": ":", "interpreter": "-.", "serial": ""}


def save(fig: Any, path: Path) -> None:
    """Lay out, write and close a figure: the one place pictures are saved."""
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def speedup_png(result: RunResult, path: Path) -> bool:
    """Draw speedup against workers, one line per impl × executor, and the ideal min(workers, cores)."""
    cells = [c for c in result.cells if c.ok and c.executor != "serial" and c.speedup is not None]
    if not cells:
        return False
    cores = result.environment["usable_cores"]
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
                xs, ys, yerr=[lo, hi], fmt=EXECUTOR_STYLE.get(ex, "-") or "-", marker="o", capsize=3,
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
        f"{cells[0].workload}: speedup ({result.environment['python_version']}, "
        f"GIL {'on' if result.environment['gil_enabled'] else 'off'})"
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


def timeline_png(result: RunResult, path: Path) -> bool:
    """Draw one Gantt panel per impl × executor at the largest worker count, one lane per worker."""
    cells = [c for c in result.cells if c.ok and c.timeline]
    if not cells:
        return False
    top = max(c.workers for c in cells)
    panels = [c for c in cells if c.workers == top or c.executor == "serial"]
    fig, axes = plt.subplots(len(panels), 1, figsize=(9, 1.0 + 0.9 * len(panels)), sharex=True, squeeze=False)
    colours = plt.get_cmap("tab10")
    for ax, c in zip(axes[:, 0], panels, strict=True):
        for span in c.timeline:
            ax.barh(
                span.lane,
                (span.end_s - span.start_s) * 1e3,
                left=span.start_s * 1e3,
                color=colours(span.lane % 10),
                edgecolor="black",
                lw=0.5,
                height=0.7,
            )
        lanes = max(s.lane for s in c.timeline) + 1
        ax.set_yticks(range(lanes))
        ax.set_yticklabels([f"w{i}" for i in range(lanes)], fontsize=7)
        ax.set_ylabel(f"{c.impl}\n{c.executor}", rotation=0, ha="right", va="center", fontsize=8)
    axes[-1, 0].set_xlabel("ms since the workers were released")
    fig.suptitle(
        f"{cells[0].workload}: each task on its worker lane, at {top} workers, from the repeat nearest the median wall",
        fontsize=10,
    )
    save(fig, path)
    return True
