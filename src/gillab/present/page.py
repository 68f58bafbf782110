"""A View as HTML: the body of its section in report.html, and of its cell in a notebook. The lesson leads,
the tables follow, then the listings with their bars, the pictures (embedded) after them, and the doubts and
details come last, folded."""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from pathlib import Path

from gillab.present.view import Bars, Table, View


def ul(lines: Sequence[str]) -> str:
    """A list of sentences as HTML."""
    return "<ul>" + "".join(f"<li>{html.escape(x)}</li>" for x in lines) + "</ul>"


def img_tag(path: Path) -> str:
    """Return an <img> with the PNG embedded, or "" when there is none."""
    if not path.exists():
        return ""
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<img alt="{html.escape(path.name)}" src="data:image/png;base64,{data}">'


def table_html(table: Table) -> str:
    """A table, its flagged rows marked."""
    head = "<tr>" + "".join(f"<th>{html.escape(c)}</th>" for c in table.columns) + "</tr>"
    rows = []
    for r, row in enumerate(table.rows):
        cls = " class='flag'" if table.is_flagged(r) else ""
        cells = (
            f"<td style='text-align:left'>{html.escape(v)}</td>"
            if table.left(i)
            else f"<td>{html.escape(v)}</td>"
            for i, v in enumerate(row)
        )
        rows.append(f"<tr{cls}>" + "".join(cells) + "</tr>")
    return "<div class='scroll'><table>" + head + "".join(rows) + "</table></div>"


BAR_PX = 120
"""A share of 1.0, drawn."""


def _bar(value: float | None) -> str:
    if value is None:
        return "<td></td>"
    width = round(max(0.0, min(1.0, value)) * BAR_PX)
    return (
        f"<td style='text-align:left;white-space:nowrap'><span style='display:inline-block;width:{width}px;"
        f"height:0.8em;background:#4a7ab5'></span> {value:.0%}</td>"
    )


def bars_html(bars: Bars) -> str:
    """A listing with its bars: each line in its own row, a bar per series beside it."""
    head = (
        "<tr><th></th><th style='text-align:left'>"
        + html.escape(bars.title)
        + "</th>"
        + "".join(f"<th>{html.escape(s)}</th>" for s in bars.series)
        + "</tr>"
    )
    rows = []
    for row in bars.rows:
        cls = " class='flag'" if row.flagged else ""
        code = f"<td style='text-align:left'><code style='white-space:pre'>{html.escape(row.text)}</code></td>"
        rows.append(
            f"<tr{cls}><td>{html.escape(row.label)}</td>{code}{''.join(_bar(v) for v in row.values)}</tr>"
        )
    return "<div class='scroll'><table>" + head + "".join(rows) + "</table></div>"


def body(view: View, folder: Path | None = None) -> str:
    """The view's HTML; pictures are read from folder (none are shown without one)."""
    parts = []
    if view.lesson:
        said = "".join(f"<p>{html.escape(s)}</p>" for s in view.lesson)
        parts.append(f"<div class='summary'>{said}</div>")
    parts += [table_html(t) for t in view.tables]
    parts += [bars_html(b) for b in view.bars]
    if view.notes:
        parts.append(ul(view.notes))
    if view.listing:
        parts.append(f"<pre style='overflow-x:auto'>{html.escape(view.listing)}</pre>")
    if folder is not None:
        parts += [img_tag(folder / name) for name in view.pictures]
    if view.doubts:
        items = "".join(
            f"<li>{html.escape(d.figure)}: {html.escape(d.reason)}</li>" for d in view.doubts
        )
        head = f"Figures to distrust: {len(view.doubts)}"
        parts.append(f"<details class='doubts'><summary>{head}</summary><ol>{items}</ol></details>")
    if view.details:
        parts.append(f"<details><summary>Every other figure</summary>{ul(view.details)}</details>")
    return "".join(parts)
