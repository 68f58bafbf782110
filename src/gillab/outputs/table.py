"""The results table: rich on a terminal, plain text elsewhere."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TextIO

from gillab.harness.results import Cell, RunResult
from gillab.outputs.columns import TABLE, load_text
from gillab.outputs.findings import ceiling_note, gil_sampler_note, run_warnings


def footnotes(result: RunResult) -> list[str]:
    """Return the lines that qualify the table: what the columns mean, the machine, noise and load."""
    notes = [
        "speedup = median over rounds of (serial wall / this wall) in the same round, ± half its 95% bootstrap",
        "interval; cores busy = the workers' CPU / wall (what the GIL decides); core speed = serial CPU / this CPU",
        "for the same tasks (what the machine decides); vs ceiling = speedup / this machine's own ceiling, a",
        "native kernel that holds no GIL run alone and on as many threads right before the same repeat (1.0:",
        "all this machine allowed; flag 'allowed' where its interval holds 1.0);",
        "GIL held, switch/s = the interpreter's own GIL state, sampled from C (interpreter workers: each one's",
        "own GIL, their mean; - for processes, or where there is no GIL); GIL wait = median wait of a probe",
        "thread for the GIL (round 0 only, where the sampler runs: its wake-ups would add switches); running =",
        "mean threads of the workload in state R (running or ready to run), sampled from /proc, gillab's own",
        "instrument threads left out.",
        "task sizes: " + ", ".join(f"{impl} {size}" for impl, size in result.config.sizes.items()),
    ]
    for line in (ceiling_note(result), gil_sampler_note(result.cells)):
        if line:
            notes.append(line)
    for c in result.cells:
        if c.noisy:
            notes.append(f"NOISY {c.impl} {c.executor} w{c.workers}: {c.noise_reason}.")
    notes += run_warnings(result)
    if result.load_competing:
        notes.append(f"The load average before the run was {load_text(result.load_before)}: other work was competing.")
    if result.interrupted:
        notes.append("The run was interrupted: only the finished cells are shown.")
    return notes


def render(cells: Sequence[Cell], notes: Sequence[str], out: TextIO = sys.stdout, rich: bool | None = None) -> None:
    """Print the table, with rich when out is a terminal."""
    render_rows([col.name for col in TABLE], [tuple(col.value(c) for col in TABLE) for c in cells], out, notes, rich)


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
