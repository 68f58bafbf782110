"""compare.png and the comparison's sections of report.html."""

from __future__ import annotations

import html
from pathlib import Path

from gillab.compare.findings import beside_threads, changes, cost_line, held_back, lessons
from gillab.compare.run import CompareResult
from gillab.harness import executors
from gillab.outputs import causes
from gillab.outputs.documents import ul
from gillab.outputs.report import Section, cell_rows, img_tag


def _short(reason: str, limit: int = 110) -> str:
    """A flag's reason cut to its first clause, for a picture's footnote (the table keeps it whole)."""
    first = reason.split(": ", 1)[0].split("; ", 1)[0]
    return first if len(first) <= limit else first[: limit - 1] + "…"


def compare_png(merged: CompareResult, path: Path) -> bool:
    """Draw, per impl, each executor's speedup at the largest worker count under each interpreter, side by side;
    a figure to distrust is hatched and numbered, its reason in the footnote."""
    from gillab.outputs.plots import plt

    cells = [c for c in merged.cells if c.ok and not executors.lookup(c.executor).baseline and c.speedup]
    if not cells:
        return False
    top = max(c.workers for c in cells)
    cells = [c for c in cells if c.workers == top]
    interps = list(dict.fromkeys(c.interpreter for c in cells))
    impls = list(dict.fromkeys(c.impl for c in cells))
    execs = list(dict.fromkeys(c.executor for c in cells))
    noisy: list[str] = []
    width = 0.8 / max(1, len(execs))
    fig, axes = plt.subplots(len(impls), 1, figsize=(max(8.0, 1.1 + 0.42 * len(interps) * len(execs)),
                                                     0.6 + 2.3 * len(impls)), squeeze=False)  # fmt: skip
    cores = merged.runs[0].result.environment.usable_cores if merged.runs else top
    for ax, impl in zip(axes[:, 0], impls, strict=True):
        for j, ex in enumerate(execs):
            found = [next((c for c in cells if (c.interpreter, c.impl, c.executor) == (it, impl, ex)
                           and "speedup" not in c.unsteady), None) for it in interps]  # fmt: skip
            xs = [i + j * width for i in range(len(interps))]
            ys = [c.speedup or 0.0 if c else 0.0 for c in found]
            lo = [max(0.0, (c.speedup or 0.0) - c.speedup_ci95[0]) if c and c.speedup_ci95 else 0.0 for c in found]
            hi = [max(0.0, c.speedup_ci95[1] - (c.speedup or 0.0)) if c and c.speedup_ci95 else 0.0 for c in found]
            bars = ax.bar(xs, ys, width, yerr=[lo, hi], capsize=2, label=ex, linestyle=executors.lookup(ex).style)
            for bar, c in zip(bars, found, strict=True):
                if c is not None and c.noisy:  # a figure to distrust: hatched, numbered, and named below
                    bar.set_hatch("//")
                    bar.set_alpha(0.5)
                    noisy.append(f"{len(noisy) + 1}. {c.interpreter} {impl} {ex}: {_short(c.noise_reason)}")
                    where = (bar.get_x() + bar.get_width() / 2, bar.get_height())
                    ax.annotate(str(len(noisy)), where, fontsize=5.5, ha="center", va="bottom", xytext=(0, 3),
                                textcoords="offset points")  # fmt: skip
        ax.axhline(min(top, cores), color="grey", ls=":", lw=0.8)
        ax.set_xticks([i + width * (len(execs) - 1) / 2 for i in range(len(interps))])
        ax.set_xticklabels(interps, fontsize=7)
        ax.set_ylabel(f"{impl}\nspeedup at {top}", fontsize=8)
        ax.tick_params(axis="y", labelsize=7)
    axes[0, 0].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    axes[0, 0].set_title(
        f"the same matrix under each interpreter (dotted: the ideal, {min(top, cores)}); bars: 95% bootstrap "
        "interval over the per-round ratios", fontsize=8,
    )  # fmt: skip
    fig.tight_layout()
    if noisy:
        note = "Hatched and numbered: figures to distrust (the table gives each reason whole):\n" + "\n".join(noisy)
        extra = 0.1 * (len(noisy) + 2)
        height = fig.get_size_inches()[1]
        fig.set_size_inches(fig.get_size_inches()[0], height + extra)
        fig.subplots_adjust(bottom=extra / (height + extra) + 0.04)
        fig.text(0.01, 0.005, note, fontsize=5.5, va="bottom", ha="left")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def compare_sections(merged: CompareResult, out: Path) -> list[Section]:
    """Return each interpreter, the errors, the single-thread costs and what changed, interpreters beside threads,
    compare.png and every cell as report sections."""
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
    if merged.single_thread:
        parts.append(
            "<p>The single-thread cost of free threading: each build timed the same tasks alone on one thread, "
            f"in {merged.cost_rounds} interleaved rounds (a shuffled order each round), and each ratio is the median "
            "of the per-round ratios with its 95% bootstrap interval.</p>"
        )
        parts.append("<ul>" + "".join(f"<li>{html.escape(cost_line(c))}</li>" for c in merged.single_thread) + "</ul>")
    parts += [f"<p><b>{html.escape(line)}</b></p>" for line in changes(merged)]
    beside = beside_threads(merged)
    if beside:
        parts.append("<p>Interpreters beside threads, at the most workers (cores busy = CPU ÷ wall):</p>")
        parts.append("<ul>" + "".join(f"<li>{html.escape(line)}</li>" for line in beside) + "</ul>")
    parts.append(
        "<p>Each bar is one impl run by one executor at the largest worker count, under each interpreter. "
        "On a free-threaded build Python threads run at once; PYTHON_GIL=1 puts the GIL back.</p>"
    )
    parts.append(img_tag(out / "compare.png"))
    lesson, held = lessons(merged), held_back(merged)
    intro = f"<p>{html.escape(causes.WITHOUT_GIL)}</p>" if held else ""
    first = [Section(causes.TITLE if held else "What each interpreter showed", intro + ul(lesson))] if lesson else []
    return [
        *first,
        Section("gillab compare", "".join(parts)),
        Section("Every cell", cell_rows(merged.cells, label=lambda c: f"{c.interpreter} {c.impl}")),
    ]

