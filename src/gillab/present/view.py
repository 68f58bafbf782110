"""What every medium draws of one result, built once: the lesson's sentences, its tables, notes, a listing,
the doubts, the details and the pictures.

A View holds text only, already worded by the feature that built it. Width, wrapping, escaping and the marks'
legend belong to the renderers (gillab.present.terminal, gillab.present.page).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Table:
    """Rows of strings under named columns; a flagged row is drawn as a figure to distrust."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    flagged: tuple[bool, ...] = ()
    """Per row, whether it carries a doubt (the renderers mark it); empty: none does."""
    align: str = ""
    """Per column, "l" or "r"; by default the first column to the left, the figures to the right."""

    def __post_init__(self) -> None:
        for row in self.rows:
            if len(row) != len(self.columns):
                raise ValueError(f"a row of {len(row)} cells under {len(self.columns)} columns")

    def left(self, i: int) -> bool:
        """Whether column i is aligned to the left."""
        return self.align[i] == "l" if i < len(self.align) else i == 0

    def is_flagged(self, i: int) -> bool:
        """Whether row i carries a doubt."""
        return i < len(self.flagged) and self.flagged[i]


@dataclass(frozen=True)
class Doubt:
    """A figure to distrust, and why."""

    figure: str
    reason: str


@dataclass(frozen=True)
class BarRow:
    """One line of a listing (a function's source), with its shares beside it."""

    label: str
    """Its number, or name, in the left margin."""
    text: str
    values: tuple[float | None, ...]
    """One share (0 to 1) per series; None: nothing to draw."""
    flagged: bool = False


@dataclass(frozen=True)
class Bars:
    """A listing with a bar per series beside each line: a page draws it; the terminal's tables carry the same
    figures."""

    title: str
    series: tuple[str, ...]
    rows: tuple[BarRow, ...]


@dataclass(frozen=True)
class View:
    """One result as every medium shows it.

    The terminal prints the lesson, the tables, the notes, the listing, the doubts in one line and last the
    files; --detail adds the details and each doubt's reason. A page shows the same lesson and tables, the
    notes, the listing and the pictures, with the doubts and the details folded.
    """

    title: str
    """The kind of result, as a heading ("gillab check")."""
    lesson: tuple[str, ...] = ()
    """What holds on any machine, first: whole sentences."""
    tables: tuple[Table, ...] = ()
    notes: tuple[str, ...] = ()
    """Sentences under the tables, in every medium."""
    listing: str = ""
    """Preformatted text (a bytecode listing): kept as it is, but never wider than the terminal."""
    doubts: tuple[Doubt, ...] = ()
    details: tuple[str, ...] = ()
    """What --detail and the page's folded part add."""
    pictures: tuple[str, ...] = ()
    """File names of the pictures, in the result's folder."""
    bars: tuple[Bars, ...] = ()
    """Listings with bars beside their lines, drawn on a page after the tables."""


def interval(lo: float, hi: float, spec: str = ".2f") -> str:
    """A 95% interval as every medium spells it.

    >>> interval(1.234, 1.5)
    '[1.23-1.50]'
    """
    return f"[{lo:{spec}}-{hi:{spec}}]"


def and_list(items: Sequence[object]) -> str:
    """'a', 'a and b', 'a, b and c'.

    >>> and_list(["python"]), and_list([2, 4]), and_list(["a", "b", "c"])
    ('python', '2 and 4', 'a, b and c')
    """
    words = [str(x) for x in items]
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"
