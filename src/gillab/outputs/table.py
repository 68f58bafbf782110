"""Any table of strings: rich on a terminal, plain text elsewhere (a run's own tables: gillab.outputs.terminal)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TextIO


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
    print(
        "  ".join(f"{h:<{w}}" for h, w in zip(columns, widths, strict=False)) + f"  {last}",
        file=out,
    )
    for r in rows:
        print(
            "  ".join(f"{v:<{w}}" for v, w in zip(r, widths, strict=False)) + f"  {r[-1]}", file=out
        )
    for n in notes:
        print(n, file=out)
