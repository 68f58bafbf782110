"""A View as terminal lines, none wider than WIDTH: the lesson first, then the tables, the notes, the listing,
the doubts in one line (each with its reason under --detail), the details, and last the files written."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from gillab.present.view import Table, View

WIDTH = 100
"""No line a command prints is wider than this."""

DISTRUST = "*"
"""The mark of a row that carries a doubt."""


def wrap(text: str, width: int = WIDTH) -> list[str]:
    """A paragraph as lines no wider than width (a word longer than that is broken); a line that fits is kept
    as it is.

    >>> wrap("a " * 3, 4)
    ['a a', '  a']
    """
    if len(text) <= width:
        return [text]
    return textwrap.wrap(text, width, break_on_hyphens=False, subsequent_indent="  ") or [""]


def table_lines(table: Table, width: int = WIDTH) -> list[str]:
    """A table as aligned rows under its header: the first column to the left, figures to the right; a flagged
    row ends with the mark. A table wider than width is shown a row per block, "column: value" a line."""
    marked = [
        (*row[:-1], f"{row[-1]} {DISTRUST}".strip()) if table.is_flagged(i) else row
        for i, row in enumerate(table.rows)
    ]
    rows = [table.columns, *marked]
    widths = [max(len(r[i]) for r in rows) for i in range(len(table.columns))]
    if sum(widths) + 2 * (len(widths) - 1) > width:
        return _blocks(table.columns, marked, width)
    out = []
    for r in rows:
        pairs = enumerate(zip(r, widths, strict=True))
        cells = [v.ljust(w) if table.left(i) else v.rjust(w) for i, (v, w) in pairs]
        out.append("  ".join(cells).rstrip())
    return out


def _blocks(columns: Sequence[str], rows: Sequence[Sequence[str]], width: int) -> list[str]:
    out: list[str] = []
    for row in rows:
        out += wrap(f"{columns[0]} {row[0]}", width)
        for name, value in zip(columns[1:], row[1:], strict=True):
            if value:
                out += wrap(f"  {name}: {value}", width)
    return out


def listing_lines(text: str, width: int = WIDTH) -> list[str]:
    """Preformatted text, line by line; a line wider than width is wrapped under its own indent."""
    out = []
    for line in text.split("\n"):
        if len(line) <= width:
            out.append(line)
            continue
        indent = len(line) - len(line.lstrip())
        out += textwrap.wrap(
            line, width, break_on_hyphens=False, subsequent_indent=" " * (indent + 2)
        )
    return out


WHY = "--detail, report.html"
"""Where the doubts' reasons are, by default."""


def doubts_line(view: View, why: str = WHY) -> str:
    """The doubts in one line: the figures to distrust (or how many, where their names would not fit), and
    where their reasons are."""
    if not view.doubts:
        return ""
    names = "; ".join(d.figure for d in view.doubts)
    said = f"{DISTRUST} to distrust: {names} (why: {why})"
    if len(said) <= WIDTH:
        return said
    return f"{DISTRUST} to distrust: {len(view.doubts)} figures (why: {why})"


def lines(view: View, files: str = "", detail: bool = False, why: str = WHY) -> list[str]:
    """The view as the terminal shows it: files, the line that says what was written, comes last; why names
    where the doubts' reasons are (--detail prints them)."""
    out = [line for sentence in view.lesson for line in wrap(sentence)]
    body: list[str] = []
    for table in view.tables:
        body += table_lines(table)
    body += [line for note in view.notes for line in wrap(note)]
    if view.listing:
        body += listing_lines(view.listing)
    if out and body:
        out.append("")
    out += body
    if detail:
        out += [line for d in view.details for line in wrap(d)]
        out += [line for d in view.doubts for line in wrap(f"{DISTRUST} {d.figure}: {d.reason}")]
    elif view.doubts:
        out += wrap(doubts_line(view, why))
    if files:
        out += wrap(files)
    return out


def show(view: View, files: str = "", detail: bool = False, why: str = WHY) -> None:
    """Print the view."""
    for line in lines(view, files, detail, why):
        print(line)
