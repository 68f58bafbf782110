"""How a notebook shows gillab's results: each result class's HTML, registered for ``_repr_html_``.

The results live below the layers that draw them (a RunResult knows nothing of the report), so their HTML is
registered here when the extension loads: a run and a comparison through the report's own sections, every
other result through its kind's View (gillab.kinds), rendered by the presentation kit as report.html does.
"""

from __future__ import annotations

import html
import tempfile
from collections.abc import Sequence
from pathlib import Path

from gillab import kinds
from gillab.codec import DISPLAYS, Record
from gillab.compare.report import compare_png, compare_sections
from gillab.harness.pythons.run import CompareResult
from gillab.harness.results import RunResult
from gillab.outputs import plots
from gillab.outputs.choices import four_answers
from gillab.outputs.columns import SHORT, short_cells, table
from gillab.outputs.findings import summary
from gillab.outputs.report import Section, cell_rows
from gillab.present import page

STYLE = (
    "<style>.gillab table{border-collapse:collapse;font-size:12px}.gillab td,.gillab th{border:1px solid #ccc;"
    "padding:2px 6px;text-align:right}.gillab .flag{color:#b00}</style>"
)


def _page(sections: Sequence[Section]) -> str:
    body = "".join(
        (f"<h4>{html.escape(s.title)}</h4>" if s.title else "") + s.html for s in sections
    )
    return f"{STYLE}<div class='gillab'>{body}</div>"


def run_html(result: RunResult) -> str:
    """A run: its lesson, the four answers, the short table (as the terminal's), every cell, and speedup.png
    and timeline.png."""
    with tempfile.TemporaryDirectory(prefix="gillab-display-") as tmp:
        pictures = ""
        for name, draw in (
            ("speedup.png", plots.speedup_png),
            ("timeline.png", plots.timeline_png),
        ):
            if draw(result, Path(tmp) / name):
                pictures += page.img_tag(Path(tmp) / name)
    lesson = "".join(f"<p>{html.escape(x)}</p>" for x in summary(result))
    answers = four_answers(result)
    cells = short_cells(result)
    short = page.table_html(table(cells, SHORT)) if cells else ""
    return _page(
        [
            Section("", lesson + (f"<p>{html.escape(answers)}</p>" if answers else "") + short),
            Section("", cell_rows(result.cells)),
            Section("", pictures),
        ]
    )


def compare_html(merged: CompareResult) -> str:
    with tempfile.TemporaryDirectory(prefix="gillab-display-") as tmp:
        compare_png(merged, Path(tmp) / "compare.png")
        return _page(compare_sections(merged, Path(tmp)))


def view_html(result: object) -> str:
    """Any other result: its kind's View, as report.html shows it (its pictures live in its folder)."""
    kind = kinds.kind_of(result)
    if kind is None:
        return f"<pre>{html.escape(repr(result))}</pre>"
    return _page([Section("", page.body(kind.view(result)))])


def register() -> None:
    """Register the HTML of every result class (idempotent)."""
    DISPLAYS[RunResult] = run_html
    DISPLAYS[CompareResult] = compare_html
    for kind in kinds.DOCUMENTS:
        for cls in kind.types:
            DISPLAYS[cls] = view_html
    DISPLAYS[Record] = view_html
