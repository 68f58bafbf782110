"""report.html: one self-contained page, images embedded, each figure explained in a sentence.

The page is a list of :class:`Section` values. This module builds the sections of a run from its
:class:`~gillab.harness.results.RunResult`; labs, check and compare build their own and hand them in, so
that the outputs never import them. The words come from gillab.outputs.findings, as the table's do.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from gillab.environment import Environment
from gillab.files import write_atomic
from gillab.harness.results import Cell, RunResult
from gillab.outputs.findings import (
    IMPL,
    REPORT,
    findings,
    gil_sampler_note,
    load_text,
    noisy_cells,
    run_warnings,
)

CSS = """body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}
th{background:#f3f3f3}td:first-child,td:nth-child(2){text-align:left}.note{color:#555}.flag{color:#b00}
img{max-width:100%;border:1px solid #ddd}code{background:#f4f4f4;padding:0 3px}
.distrust{border:2px solid #b00;padding:0 1em;margin:1em 0}pre{overflow-x:auto}"""


@dataclass(frozen=True)
class Section:
    """One part of the page: an optional heading and its HTML body (already escaped)."""

    title: str
    html: str


def img_tag(path: Path) -> str:
    """Return an <img> with the PNG embedded, or "" when there is none."""
    if not path.exists():
        return ""
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<img alt="{html.escape(path.name)}" src="data:image/png;base64,{data}">'


def cell_rows(cells: Sequence[Cell], label: Callable[[Cell], str] | None = None) -> str:
    """Return every cell as an HTML table; label(cell) replaces the impl column when given."""
    columns = [replace(IMPL, value=label) if label and col is IMPL else col for col in REPORT]
    out = ["<tr>" + "".join(f"<th>{col.name}</th>" for col in columns) + "</tr>"]
    for c in cells:
        vals = (col.value(c) if col.html else html.escape(col.value(c)) for col in columns)
        out.append("<tr>" + "".join(f"<td>{v}</td>" for v in vals) + "</tr>")
    return "<table>" + "".join(out) + "</table>"


def distrust(result: RunResult) -> str:
    """Return the "figures to distrust" box: each noisy cell and its reason, the run's warnings, or "none"."""
    items = noisy_cells(result) + run_warnings(result)
    body = "<ul>" + "".join(f"<li>{html.escape(i)}</li>" for i in items) + "</ul>" if items else "<p>none</p>"
    return f"<div class='distrust'><h2>Figures to distrust</h2>{body}</div>"


EXPLAIN = {
    "speedup": "Each point is a speedup: the median over rounds of the serial wall ÷ this cell's wall in the same "
    "round; its bar is the 95% bootstrap interval over those per-round ratios: were the run repeated, the "
    "median would most likely fall inside it. A hollow marker is a figure to distrust (see the box above). "
    "Each line is one impl run by one executor. A line that follows the grey ideal used every core; a flat "
    "line at 1 means the workers took turns. What this run showed, line by line, is said under 'What this machine "
    "showed', from its own figures.",
    "timeline": "Each lane is one worker, from the moment the workers were released together; the black outlines "
    "are its tasks. Where the interpreter's GIL state was sampled (workers in this process), each moment is coloured "
    "by what the worker was doing then.</p><p><b>Red: it holds the GIL</b> - the interpreter's own record says this "
    "thread took the GIL last and it is still locked; only this thread runs Python code.</p><p><b>Green: it runs "
    "without the GIL</b> - its CPU clock moved while another thread (or none) held the GIL: native code that let "
    "go of the lock, running on a core of its own.</p><p><b>Yellow: it waits</b> - inside a task, neither holding the "
    "GIL nor running: waiting for the GIL, or for a core the OS gave to someone else.</p><p><b>Grey: idle</b> - "
    "no task (a thread that cannot even start its task without the GIL shows idle until it gets it).</p><p>Python "
    "threads trade "
    "red and yellow every switch interval (the zoomed panel shows the hand-offs); GIL-holding native tasks hold "
    "it one after another; native code that releases it is green side by side. Process workers have GILs of "
    "their own and keep plain bars.",
    "gil": "GIL wait comes from a probe thread that sleeps 1 ms, wakes, and times how long it then waits to hold the "
    "GIL again (the OS's part of the delay is measured apart). It is shown as - for process and interpreter "
    "pools: the probe waits for the parent's GIL, which their workers do not share.",
    "states": "Thread states come from sampling /proc from a native thread that never takes the GIL. R means running "
    "or ready to run; a Python thread waiting for the GIL sleeps (S).",
}


def environment_html(env: Environment) -> str:
    """Return one paragraph naming the interpreter and the machine."""
    return (
        f"<p>{html.escape(env.python_implementation)} {html.escape(env.python_version)}, "
        f"free-threaded build: {env.free_threaded_build}, GIL on: {env.gil_enabled}, "
        f"switch interval {env.switch_interval_s * 1e3:g} ms, {env.usable_cores} usable cores "
        f"of {env.cpu_count}, Cython {html.escape(str(env.cython_version))}.</p>"
    )


def run_sections(result: RunResult, out: Path) -> list[Section]:
    """Return the sections of a run: context, findings, every cell, and the pictures found in out."""
    cfg = result.config
    parts = [
        environment_html(result.environment),
        f"<p class='note'>Workload <code>{html.escape(cfg.workload)}</code>, {cfg.n_tasks} tasks per cell, "
        f"{cfg.repeat} repeats; sizes {html.escape(str(cfg.sizes))}; load average before "
        f"{load_text(result.load_before)}, after {load_text(result.load_after)}.</p>",
    ]
    if result.interrupted:
        parts.append("<p class='flag'>This run was interrupted: only finished cells are shown.</p>")
    if result.load_competing:
        parts.append(
            "<p class='flag'>Other work was competing for the CPU when the run started (load average "
            f"{load_text(result.load_before)}): figures may be depressed.</p>"
        )
    sections = [Section("", distrust(result) + "".join(parts))]
    found = findings(result)
    if found:
        sections.append(
            Section("What this machine showed", "<ul>" + "".join(f"<li>{html.escape(s)}</li>" for s in found) + "</ul>")
        )
    sections.append(
        Section(
            "Every cell",
            cell_rows(result.cells)
            + f"<p class='note'>{EXPLAIN['gil']} {EXPLAIN['states']} {html.escape(gil_sampler_note(result.cells))}</p>",
        )
    )
    for name, key in (("speedup.png", "speedup"), ("timeline.png", "timeline")):
        img = img_tag(out / name)
        if img:
            sections.append(Section(key.title(), f"<p>{EXPLAIN[key]}</p>{img}"))
    sections.append(
        Section("", "<p class='note'>trace.json holds the same timeline for Perfetto or chrome://tracing.</p>")
    )
    return sections


def write_page(out: Path, sections: Sequence[Section], title: str = "gillab report") -> None:
    """Write out/report.html from the sections, in order."""
    parts = [
        f"<!doctype html><meta charset='utf-8'><title>{html.escape(title)}</title><style>{CSS}</style>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    for s in sections:
        parts.append((f"<h2>{html.escape(s.title)}</h2>" if s.title else "") + s.html)
    write_atomic(out / "report.html", "\n".join(parts) + "\n")
