"""The results table: rich on a terminal, plain text elsewhere."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TextIO

from gillab.harness.results import Cell, RunResult
from gillab.outputs.report import gil_sampler_note, gil_wait_shown, run_warnings

COLUMNS = (
    "impl",
    "executor",
    "workers",
    "size",
    "wall ms (IQR)",
    "speedup ±95%",
    "eff",
    "cpu util",
    "GIL wait ms",
    "GIL held",
    "switch/s",
    "running",
    "start ms",
    "flag",
    "status",
)


def _f(x: float | None, fmt: str) -> str:
    return "-" if x is None else format(x, fmt)


def speedup_text(c: Cell) -> str:
    """Return the speedup with the half-width of its 95% interval, e.g. '1.84 ±0.04'."""
    if c.speedup is None:
        return "-"
    if c.speedup_ci95 is None:
        return f"{c.speedup:.2f}"
    return f"{c.speedup:.2f} ±{(c.speedup_ci95[1] - c.speedup_ci95[0]) / 2:.2f}"


def row(c: Cell) -> tuple[str, ...]:
    """Return a cell's figures as table text."""
    wall = "-" if c.median_wall_s is None else f"{c.median_wall_s * 1e3:.0f} ({(c.iqr_s or 0) * 1e3:.0f})"
    wait = gil_wait_shown(c)
    gil = "-" if wait is None else f"{wait:.3f}"
    status = c.status if c.ok else f"{c.status}: {c.reason}"
    if c.lost_updates:
        status += f" (lost {min(c.lost_updates)}..{max(c.lost_updates)} updates)"
    startup = None if c.startup_s is None else c.startup_s * 1e3
    return (
        c.impl,
        c.executor,
        str(c.workers),
        str(c.size),
        wall,
        speedup_text(c),
        _f(c.efficiency, ".2f"),
        _f(c.cpu_utilization, ".2f"),
        gil,
        _f(c.gil.held_fraction if c.gil else None, ".0%"),
        _f(c.gil.switches_per_s if c.gil else None, ".0f"),
        _f(c.threads_running_mean, ".2f"),
        _f(startup, ".0f"),
        "NOISY" if c.noisy else "",
        status,
    )


def footnotes(result: RunResult) -> list[str]:
    """Return the lines that qualify the table: noise, load, what the columns mean."""
    notes = [
        "speedup = median over rounds of (serial wall / this wall) in the same round, ± half its 95% bootstrap",
        "interval; eff = speedup / min(workers, tasks, usable cores);",
        "cpu util = CPU seconds / wall seconds (cores busy); GIL wait = median wait of a probe thread for the GIL",
        "(- for process pools: their workers have GILs of their own);",
        "GIL held, switch/s = the interpreter's own GIL state, sampled from C (- where its workers have GILs of",
        "their own, or there is no GIL); switch/s counts every hand-off in this process, the GIL probe's too;",
        "running = mean threads in state R (running or ready to run) sampled from /proc.",
    ]
    sampler = gil_sampler_note(result.cells)
    if sampler:
        notes.append(sampler)
    for c in result.cells:
        if c.noisy:
            notes.append(f"NOISY {c.impl} {c.executor} w{c.workers}: {c.noise_reason}.")
    notes += run_warnings(result)
    if result.load_competing:
        notes.append(f"The load average before the run was {result.load_before}: other work was competing.")
    if result.interrupted:
        notes.append("The run was interrupted: only the finished cells are shown.")
    return notes


def render(cells: Sequence[Cell], notes: Sequence[str], out: TextIO = sys.stdout, rich: bool | None = None) -> None:
    """Print the table, with rich when out is a terminal."""
    render_rows(COLUMNS, [row(c) for c in cells], out, notes, rich)


def render_rows(
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    out: TextIO = sys.stdout,
    notes: Sequence[str] = (),
    rich: bool | None = None,
) -> None:
    """Print any table of strings: rich on a terminal, aligned plain text elsewhere."""
    if rich is None:
        rich = out.isatty()
    if rich:
        from rich.console import Console
        from rich.table import Table

        table = Table(*columns)
        for r in rows:
            table.add_row(*r)
        console = Console(file=out)
        console.print(table)
        for n in notes:
            console.print(n, style="dim", highlight=False)
        return
    widths = [max(len(columns[i]), *(len(r[i]) for r in rows)) for i in range(len(columns) - 1)]
    last = columns[-1]
    print("  ".join(f"{h:<{w}}" for h, w in zip(columns, widths, strict=False)) + f"  {last}", file=out)
    for r in rows:
        print("  ".join(f"{v:<{w}}" for v, w in zip(r, widths, strict=False)) + f"  {r[-1]}", file=out)
    for n in notes:
        print(n, file=out)
