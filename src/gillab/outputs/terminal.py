"""What `gillab run` prints: the lesson first, then a short table, the machine in one line, the marked cells in
one line and the files written in one line, none wider than WIDTH; `--detail` prints every figure as well.

Everything here is built from the run's figures by gillab.outputs.findings (the sentences) and
gillab.outputs.columns (the columns); results.json and report.html keep every figure.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from gillab.harness.results import Cell, RunResult
from gillab.outputs.columns import SHORT, TABLE, load_text, mark, short_cells, table
from gillab.outputs.findings import (
    ceiling_note,
    findings,
    gil_sampler_note,
    lesson,
    machine_note,
    run_warnings,
    sizing_note,
)
from gillab.present.terminal import WIDTH, table_lines, wrap

MARKS = {
    "~": "too unsteady to tell",
    "*": "to distrust",
    "!": "not measured",
}
"""Each mark of the short table, as the marked cells' line names it."""


def marked_note(cells: Sequence[Cell]) -> str:
    """One line naming the marked cells, by mark ('~ too unsteady to tell: python process 4'), shortened to a
    count where the names would not fit; "" where none is marked."""
    by_mark: dict[str, dict[tuple[str, str], list[int]]] = {}
    for c in cells:
        m = mark(c)
        if m:
            by_mark.setdefault(m, {}).setdefault((c.impl, c.executor), []).append(c.workers)
    if not by_mark:
        return ""
    tail = " (why: --detail, report.html)"

    def said(named: bool) -> str:
        parts = []
        for m, label in MARKS.items():
            found = by_mark.get(m)
            if not found:
                continue
            n = sum(len(w) for w in found.values())
            names = "; ".join(
                f"{impl} {ex} {','.join(map(str, ws))}" for (impl, ex), ws in found.items()
            )
            parts.append(f"{m} {label}: {names if named else f'{n} cell' + ('s' if n > 1 else '')}")
        return "Marked " + " · ".join(parts) + tail

    full = said(True)
    return full if len(full) <= WIDTH else said(False)


def files_note(files: Sequence[str], out: Path) -> str:
    """One line naming the files written (or, for a stored run, where they are)."""
    if not files:
        return f"The run's files are in {out}; report.html there shows every figure."
    return f"Wrote {', '.join(files)} in {out}"


def lines(
    result: RunResult,
    files: Sequence[str],
    out: Path,
    detail: bool = False,
    more: Sequence[str] = (),
) -> list[str]:
    """The output: the lesson, the short table (with detail, every cell with every column, and the legend, the
    sentences and every reason under it), the machine, the marked cells, more (what another result of the run
    printed: its line profile), and the files."""
    text = [line for sentence in lesson(result) for line in wrap(sentence)]
    if text:
        text.append("")
    cells = result.cells if detail else short_cells(result)
    if cells:
        for columns in TABLE if detail else (SHORT,):
            text += table_lines(table(cells, columns))
            text.append("")
    if detail:
        text += [line for note in legend(result) for line in wrap(note)] + [""]
    for note in (machine_note(result), sizing_note(result), marked_note(result.cells)):
        if note:
            text += wrap(note)
    if result.interrupted:
        text.append("The run was interrupted: only the finished cells are shown.")
    if more:
        text += ["", *more]
    text += wrap(files_note(files, out))
    return text


def legend(result: RunResult) -> list[str]:
    """What --detail adds under the full table: what each column means, the machine, and every reason."""
    notes = [
        "speedup = median over rounds of (serial wall / this wall) in the same round, ± half its 95% bootstrap "
        "interval; cores busy = the workers' CPU / wall (what the GIL decides); core speed = serial CPU / this CPU "
        "for the same tasks (what the machine decides); vs ceiling = speedup / this machine's own ceiling, a native "
        "kernel that holds no GIL run alone and on as many threads right after the same repeat (1.0: all this "
        "machine allowed; flag 'allowed' where its interval holds 1.0); 'too unsteady' where a figure cannot be "
        "true of the code (an efficiency above 1, or above 1 against the ceiling beyond its interval).",
        "GIL held, switch/s = the interpreter's own GIL state, sampled from C (interpreter workers: each one's own "
        "GIL, their mean; - for processes, or where there is no GIL); GIL wait = median wait of a probe thread for "
        "the GIL (round 0 only, where the sampler runs: its wake-ups would add switches); running = mean threads "
        "of the workload in state R (running or ready to run), sampled from /proc, gillab's own instrument threads "
        "left out.",
        "task sizes: " + ", ".join(f"{impl} {size}" for impl, size in result.config.sizes.items()),
    ]
    for line in (ceiling_note(result), gil_sampler_note(result.cells)):
        if line:
            notes.append(line)
    notes += findings(result)
    notes += [
        f"NOISY {c.impl} {c.executor} w{c.workers}: {c.noise_reason}."
        for c in result.cells
        if c.noisy
    ]
    notes += run_warnings(result)
    if result.load_competing:
        notes.append(
            f"The load average before the run was {load_text(result.load_before)}: other work was competing."
        )
    return notes


def render(
    result: RunResult,
    files: Sequence[str],
    out: Path,
    detail: bool = False,
    to: TextIO = sys.stdout,
    more: Sequence[str] = (),
) -> None:
    """Print what gillab run prints."""
    for line in lines(result, files, out, detail, more):
        print(line, file=to)
