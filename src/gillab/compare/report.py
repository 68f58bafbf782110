"""compare.png and the comparison's sections of report.html."""

from __future__ import annotations

import html
from pathlib import Path

from gillab.compare.run import CompareResult
from gillab.harness import executors
from gillab.outputs.report import Section, cell_rows, img_tag


def compare_png(merged: CompareResult, path: Path) -> bool:
    """Draw, per interpreter, each impl × executor's speedup at the largest worker count, side by side."""
    from gillab.outputs.plots import plt

    cells = [c for c in merged.cells if c.ok and not executors.lookup(c.executor).baseline and c.speedup]
    if not cells:
        return False
    top = max(c.workers for c in cells)
    cells = [c for c in cells if c.workers == top]
    interps = list(dict.fromkeys(c.interpreter for c in cells))
    series = list(dict.fromkeys(f"{c.impl} / {c.executor}" for c in cells))
    fig, ax = plt.subplots(figsize=(max(8, 2 + 1.6 * len(interps) * len(series) / 3), 4.5))
    width = 0.8 / max(1, len(series))
    noisy = []
    for j, s in enumerate(series):
        found = [
            next((c for c in cells if c.interpreter == it and f"{c.impl} / {c.executor}" == s), None) for it in interps
        ]
        xs = [i + j * width for i in range(len(interps))]
        ys = [c.speedup or 0.0 if c else 0.0 for c in found]
        lo = [max(0.0, (c.speedup or 0.0) - c.speedup_ci95[0]) if c and c.speedup_ci95 else 0.0 for c in found]
        hi = [max(0.0, c.speedup_ci95[1] - (c.speedup or 0.0)) if c and c.speedup_ci95 else 0.0 for c in found]
        bars = ax.bar(xs, ys, width, yerr=[lo, hi], capsize=3, label=s)
        for bar, c in zip(bars, found, strict=True):
            if c is not None and c.noisy:  # a figure to distrust: hatched, and named below
                bar.set_hatch("//")
                bar.set_alpha(0.5)
                noisy.append(f"{c.interpreter} {s}: {c.noise_reason}")
    cores = merged.runs[0].result.environment.usable_cores if merged.runs else top
    ax.axhline(min(top, cores), color="grey", ls=":", label=f"ideal ({min(top, cores)})")
    ax.set_xticks([i + width * (len(series) - 1) / 2 for i in range(len(interps))])
    ax.set_xticklabels(interps)
    ax.set_ylabel(f"speedup at {top} workers")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.set_title("the same matrix under each interpreter", fontsize=10)
    note = "Bars: 95% bootstrap interval over the per-round ratios."
    if noisy:
        note += " Hatched: figures to distrust. " + " | ".join(n[:140] for n in noisy)
    fig.tight_layout()
    fig.text(0.01, 0.005, note, fontsize=6.5, wrap=True, va="bottom", ha="left")
    fig.subplots_adjust(bottom=0.14 + 0.03 * min(6, len(noisy)))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def compare_sections(merged: CompareResult, out: Path) -> list[Section]:
    """Return each interpreter, the errors, the slowdowns, compare.png and every cell as report sections."""
    parts = ["<ul>"]
    for r in merged.runs:
        env = r.result.environment
        parts.append(
            f"<li>{html.escape(r.label)}: {html.escape(env.executable)}, free-threaded build: "
            f"{r.free_threaded}, GIL on: {env.gil_enabled}, {env.usable_cores} usable cores"
            + (f". {html.escape(r.switches())}" if r.switches() else "")
            + "</li>"
        )
    parts.append("</ul>")
    parts += [f"<p class='flag'>{html.escape(e)}</p>" for e in merged.errors]
    for s in merged.slowdowns:
        parts.append(
            f"<p>Single-thread cost of free threading: {html.escape(s.impl)} serial took "
            f"{s.slowdown:.2f}× as long on {html.escape(s.free_threaded)} as on "
            f"{html.escape(s.gil_build)} (same size).</p>"
        )
    parts.append(
        "<p>Each bar is one impl run by one executor at the largest worker count, under each interpreter. "
        "On a free-threaded build Python threads run at once; PYTHON_GIL=1 puts the GIL back.</p>"
    )
    parts.append(img_tag(out / "compare.png"))
    return [
        Section("gillab compare", "".join(parts)),
        Section("Every cell", cell_rows(merged.cells, label=lambda c: f"{c.interpreter} {c.impl}")),
    ]
