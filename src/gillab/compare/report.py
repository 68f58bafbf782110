"""compare.png and the comparison's sections of report.html."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from gillab.compare.findings import beside_threads, changes, cost_line, held_back, lessons, lines
from gillab.harness.diagnosis import causes
from gillab.harness.pythons.run import CompareResult
from gillab.harness.results import Cell
from gillab.outputs.columns import fmt, mark, speedup_interval
from gillab.outputs.report import Section, cell_rows
from gillab.present import page
from gillab.present.page import img_tag, ul
from gillab.present.view import Doubt, Table, View


def _short(reason: str, limit: int = 110) -> str:
    """A flag's reason cut to its first clause, for a picture's footnote (the table keeps it whole)."""
    first = reason.split(": ", 1)[0].split("; ", 1)[0]
    return first if len(first) <= limit else first[: limit - 1] + "…"


def compare_png(merged: CompareResult, path: Path) -> bool:
    """Draw, per impl, each executor's speedup at the largest worker count under each interpreter, side by side;
    a figure to distrust is hatched and numbered, its reason in the footnote."""
    from gillab.outputs.plots import plt

    cells = [c for c in merged.cells if c.ok and not c.kind.baseline and c.speedup]
    if not cells:
        return False
    top = max(c.workers for c in cells)
    cells = [c for c in cells if c.workers == top]
    interps = list(dict.fromkeys(c.interpreter for c in cells))
    impls = list(dict.fromkeys(c.impl for c in cells))
    execs = list(dict.fromkeys(c.executor for c in cells))
    noisy: list[str] = []
    width = 0.8 / max(1, len(execs))
    fig, axes = plt.subplots(
        len(impls),
        1,
        figsize=(max(8.0, 1.1 + 0.42 * len(interps) * len(execs)), 0.6 + 2.3 * len(impls)),
        squeeze=False,
    )
    cores = merged.runs[0].result.environment.usable_cores if merged.runs else top
    for ax, impl in zip(axes[:, 0], impls, strict=True):
        for j, ex in enumerate(execs):
            found = [_cell(cells, (it, impl, ex)) for it in interps]
            xs = [i + j * width for i in range(len(interps))]
            _bars(ax, xs, width, found, ex, noisy)
        ax.axhline(min(top, cores), color="grey", ls=":", lw=0.8)
        ax.set_xticks([i + width * (len(execs) - 1) / 2 for i in range(len(interps))])
        ax.set_xticklabels(interps, fontsize=7)
        ax.set_ylabel(f"{impl}\nspeedup at {top}", fontsize=8)
        ax.tick_params(axis="y", labelsize=7)
    axes[0, 0].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    axes[0, 0].set_title(
        f"the same matrix under each interpreter (dotted: the ideal, {min(top, cores)}); bars: 95% bootstrap "
        "interval over the per-round ratios",
        fontsize=8,
    )
    fig.tight_layout()
    if noisy:
        _footnote(fig, noisy)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def _cell(cells: list[Cell], key: tuple[str, str, str]) -> Cell | None:
    """The cell of (interpreter, impl, executor) whose speedup is shown (not one too unsteady to tell)."""
    return next(
        (
            c
            for c in cells
            if (c.interpreter, c.impl, c.executor) == key and "speedup" not in c.unsteady
        ),
        None,
    )


def _bars(
    ax: Any, xs: list[float], width: float, found: list[Cell | None], ex: str, noisy: list[str]
) -> None:
    """One executor's bars, one per interpreter, with their intervals; a figure to distrust is hatched,
    numbered, and its reason added to noisy (named below the picture)."""
    ys = [c.speedup or 0.0 if c else 0.0 for c in found]
    lo = [
        max(0.0, (c.speedup or 0.0) - c.speedup_ci95[0]) if c and c.speedup_ci95 else 0.0
        for c in found
    ]
    hi = [
        max(0.0, c.speedup_ci95[1] - (c.speedup or 0.0)) if c and c.speedup_ci95 else 0.0
        for c in found
    ]
    style = next((c.kind.style for c in found if c is not None), "-")
    bars = ax.bar(xs, ys, width, yerr=[lo, hi], capsize=2, label=ex, linestyle=style)
    for bar, c in zip(bars, found, strict=True):
        if c is None or not c.noisy:
            continue
        bar.set_hatch("//")
        bar.set_alpha(0.5)
        noisy.append(f"{len(noisy) + 1}. {c.interpreter} {c.impl} {ex}: {_short(c.noise_reason)}")
        where = (bar.get_x() + bar.get_width() / 2, bar.get_height())
        ax.annotate(
            str(len(noisy)),
            where,
            fontsize=5.5,
            ha="center",
            va="bottom",
            xytext=(0, 3),
            textcoords="offset points",
        )


def _footnote(fig: Any, noisy: list[str]) -> None:
    """Name each figure to distrust below the picture, growing it to make room."""
    head = "Hatched and numbered: figures to distrust (the table gives each reason whole):"
    note = "\n".join([head, *noisy])
    extra = 0.1 * (len(noisy) + 2)
    height = fig.get_size_inches()[1]
    fig.set_size_inches(fig.get_size_inches()[0], height + extra)
    fig.subplots_adjust(bottom=extra / (height + extra) + 0.04)
    fig.text(0.01, 0.005, note, fontsize=5.5, va="bottom", ha="left")


def compare_sections(merged: CompareResult, out: Path) -> list[Section]:
    """Return each interpreter, the errors, the single-thread costs and what changed, interpreters beside threads,
    compare.png and every cell as report sections; the terminal's table (every cell at the most workers) leads
    its section."""
    parts = [*(page.table_html(t) for t in view(merged).tables), "<ul>"]
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
        parts.append(
            "<ul>"
            + "".join(f"<li>{html.escape(cost_line(c))}</li>" for c in merged.single_thread)
            + "</ul>"
        )
    parts += [f"<p><b>{html.escape(line)}</b></p>" for line in changes(merged)]
    beside = beside_threads(merged)
    if beside:
        parts.append(
            "<p>Interpreters beside threads, at the most workers (cores busy = CPU ÷ wall):</p>"
        )
        parts.append("<ul>" + "".join(f"<li>{html.escape(line)}</li>" for line in beside) + "</ul>")
    parts.append(
        "<p>Each bar is one impl run by one executor at the largest worker count, under each interpreter. "
        "On a free-threaded build Python threads run at once; PYTHON_GIL=1 puts the GIL back.</p>"
    )
    parts.append(img_tag(out / "compare.png"))
    lesson, held = lessons(merged), held_back(merged)
    intro = f"<p>{html.escape(causes.WITHOUT_GIL)}</p>" if held else ""
    first = (
        [Section(causes.TITLE if held else "What each interpreter showed", intro + ul(lesson))]
        if lesson
        else []
    )
    return [
        *first,
        Section("gillab compare", "".join(parts)),
        Section("Every cell", cell_rows(merged.cells, label=lambda c: f"{c.interpreter} {c.impl}")),
    ]


def view(merged: CompareResult) -> View:
    """The comparison as the terminal shows it: what each interpreter's run says, the single-thread costs and
    what changed, then every cell at the most workers (a figure to distrust marked), each run's switches."""
    top = max((c.workers for c in merged.cells), default=0)
    cells = [c for c in merged.cells if c.workers == top and not c.kind.baseline and c.ok]
    columns = ("python", "impl", "executor", f"speedup, {top} workers", "cores busy")
    rows = tuple(
        (c.interpreter, c.impl, c.executor, speedup_interval(c), fmt(c.parallelism, ".2f"))
        for c in cells
    )
    doubts = tuple(
        Doubt(
            f"{c.interpreter} {c.impl} {c.executor} w{top}",
            c.noise_reason or "too unsteady to tell",
        )
        for c in cells
        if mark(c)
    )
    return View(
        "gillab compare",
        lesson=tuple(lines(merged)),
        tables=(Table(columns, rows, tuple(bool(mark(c)) for c in cells)),) if rows else (),
        notes=tuple(f"{r.label}: {r.switches()}" for r in merged.runs if r.switches()),
        doubts=doubts,
        details=tuple(merged.errors),
        pictures=("compare.png",),
    )
