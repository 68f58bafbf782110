"""report.html: one self-contained page, images embedded, each figure explained in a sentence.

The page is a list of :class:`Section` values. This module builds the sections of a run from its
:class:`~gillab.harness.results.RunResult`; labs, check and compare build their own and hand them in, so
that the outputs never import them. The words come from gillab.outputs.findings, as the table's do.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from gillab.environment import Environment
from gillab.files import write_atomic
from gillab.harness.diagnosis import causes
from gillab.harness.results import Cell, RunResult
from gillab.outputs.choices import four_answers
from gillab.outputs.columns import (
    DETAILS,
    IMPL,
    MAIN,
    SHORT,
    Column,
    flag_html,
    load_text,
    short_cells,
    table,
)
from gillab.outputs.findings import (
    ceiling_note,
    doubt_line,
    families,
    findings,
    gil_sampler_note,
    machine_note,
    run_warnings,
    sizing_note,
    summary,
)
from gillab.present import page
from gillab.present.page import img_tag, ul
from gillab.workloads import label as workload_label

CSS = """body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}
th{background:#f3f3f3;vertical-align:bottom}td{white-space:nowrap}
td:first-child,td:nth-child(2),td:last-child{text-align:left}td.text{white-space:normal;text-align:left;min-width:14em}
.note{color:#555}.flag{color:#b00}.ok{color:#070}
img{max-width:100%;border:1px solid #ddd}code{background:#f4f4f4;padding:0 3px}
.scroll{overflow-x:auto;max-width:100%}.summary{background:#f5f8fa;border-left:4px solid #36c;padding:.4em 1em}
.summary p{margin:.4em 0}details{margin:.6em 0}summary{cursor:pointer;color:#444}
.doubts summary{color:#b00}.doubts li{margin:.2em 0}pre{overflow-x:auto}
@media (max-width:840px){body{margin:1em auto}table{font-size:12px}td,th{padding:2px 4px}}"""


@dataclass(frozen=True)
class Section:
    """One part of the page: an optional heading and its HTML body (already escaped)."""

    title: str
    html: str


def cell_rows(
    cells: Sequence[Cell],
    label: Callable[[Cell], str] | None = None,
    columns: Sequence[Column] = MAIN,
    notes: dict[tuple[str, str, int, str], int] | None = None,
) -> str:
    """Return the cells as an HTML table of the given columns (the main ones by default); label(cell) replaces
    the impl column when given; notes numbers each noisy cell's reason in the box of figures to distrust."""
    cols = [replace(IMPL, value=label) if label and col is IMPL else col for col in columns]
    if notes is not None:
        cols = [
            replace(col, value=_linked(notes)) if col.value is flag_html else col for col in cols
        ]
    out = ["<tr>" + "".join(f"<th>{html.escape(col.name)}</th>" for col in cols) + "</tr>"]
    for c in cells:
        vals = (col.value(c) if col.html else html.escape(col.value(c)) for col in cols)
        out.append("<tr>" + "".join(f"<td>{v}</td>" for v in vals) + "</tr>")
    return "<div class='scroll'><table>" + "".join(out) + "</table></div>"


def _linked(notes: dict[tuple[str, str, int, str], int]) -> Callable[[Cell], str]:
    return lambda c: flag_html(c, notes.get(_note_key(c)))


def _note_key(c: Cell) -> tuple[str, str, int, str]:
    return (c.impl, c.executor, c.workers, c.interpreter)


def doubts(result: RunResult) -> tuple[str, dict[tuple[str, str, int, str], int]]:
    """Return the doubts, folded (<details>): one line per cell to distrust (its reason in full on hover and in
    the table of every other figure), then the run's warnings; and each such cell's number in it."""
    noisy = [c for c in result.cells if c.noisy]
    notes = {_note_key(c): i for i, c in enumerate(noisy, start=1)}
    items = [
        f"<li id='distrust-{i}' title='{html.escape(c.noise_reason)}'>{html.escape(doubt_line(c))}</li>"
        for i, c in enumerate(noisy, start=1)
    ]
    warnings = [f"<li>{html.escape(w)}</li>" for w in run_warnings(result)]
    body = "<ol>" + "".join(items) + "</ol>" if items else ""
    body += "<ul>" + "".join(warnings) + "</ul>" if warnings else ""
    head = (
        f"Figures to distrust: {len(noisy)} of {len(result.cells)} cells"
        if noisy
        else "No figure to distrust"
    )
    return (
        f"<details class='doubts'><summary>{head}</summary>{body or '<p>none</p>'}</details>",
        notes,
    )


EXPLAIN = {
    "speedup": "Left, each point is a speedup: the median over rounds of the serial wall ÷ this cell's wall in the "
    "same round; its bar is the 95% bootstrap interval over those per-round ratios: were the run repeated, the "
    "median would most likely fall inside it. The dotted line is an ideal machine, min(workers, cores); the grey "
    "band is this machine's own ceiling, measured right after the same repeats (its median and 95% interval): a "
    "line inside the band got what this machine gave. Right, the cores the workers kept busy, with the same "
    "intervals: a line at 1 took turns, whatever the speedup did. A hollow marker is a figure to distrust (its "
    "reason under Doubts, below); a speedup too unsteady to tell is not drawn.",
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
    "it one after another; native code that releases it is green side by side. Interpreter workers each hold a "
    "GIL of their own: red means it holds its own interpreter's GIL, and GIL-holding code on two interpreters is "
    "red on two lanes at once. Process workers have GILs of their own that this process cannot read, and keep "
    "plain bars.",
    "gil": "GIL wait comes from a probe thread that sleeps 1 ms, wakes, and times how long it then waits to hold the "
    "GIL again (the OS's part of the delay is measured apart), in round 0 only where the GIL-state sampler runs: "
    "its wake-ups would add hand-offs to the switches the sampler counts. It is shown as - for process and "
    "interpreter pools: the probe waits for the parent's GIL, which their workers do not share.",
    "main": "Cores busy is the workers' CPU ÷ the wall (its parallelism): how many cores worked at once, which is "
    "what the GIL decides. The speedup is that times how fast those cores ran (the core speed in the table below), "
    "which the machine decides. vs the machine's ceiling sets each round's speedup against what this machine gave "
    "a native kernel that holds no GIL, run on one thread and on as many at once, right before the same repeat: "
    "1.0 is all this machine allowed, whatever an ideal machine would give.",
    "states": "Thread states come from sampling /proc from a native thread that never takes the GIL. R means running "
    "or ready to run; a Python thread waiting for the GIL sleeps (S). Threads running counts the workload's threads "
    "(the workers, and this process's main thread): gillab's own instrument threads (the GIL probe, the GIL-state "
    "sampler and the sampler itself) are left out.",
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
    """Return the sections of a run, the lesson first: the summary and the short table (as the terminal shows
    them); what the machine showed, one sentence per kind of worker; the pictures; every cell; and the doubts
    last, folded, with every other figure."""
    lesson = summary(result)
    head = (
        ("<div class='summary'>" + "".join(f"<p>{html.escape(x)}</p>" for x in lesson) + "</div>")
        if lesson
        else ""
    )
    cells = short_cells(result)
    head += page.table_html(table(cells, SHORT)) if cells else ""
    if result.interrupted:
        head += "<p class='flag'>This run was interrupted: only finished cells are shown.</p>"
    sections = [Section("", head)]
    showed = [*families(result), machine_note(result), *filter(None, [sizing_note(result)])]
    answers = four_answers(result)
    sections.append(
        Section(
            "What this machine showed",
            ul(showed)
            + (f"<p>{html.escape(answers)}</p>" if answers else "")
            + environment_html(result.environment),
        )
    )
    held = [causes.sentence(c) for c in result.cells if causes.diagnosed(c) is not None]
    if held:
        sections.append(
            Section(causes.TITLE, f"<p>{html.escape(causes.WITHOUT_GIL)}</p>" + ul(held))
        )
    for name, key in (("speedup.png", "speedup"), ("timeline.png", "timeline")):
        img = img_tag(out / name)
        if img:
            sections.append(
                Section(
                    key.title(),
                    f"{img}<details><summary>How to read it</summary><p>{EXPLAIN[key]}</p>"
                    "</details>",
                )
            )
    box, notes = doubts(result)
    sections.append(
        Section(
            "Every cell",
            cell_rows(result.cells, notes=notes) + f"<p class='note'>{EXPLAIN['main']}</p>",
        )
    )
    sections.append(_doubts_section(result, box))
    return sections


def _doubts_section(result: RunResult, box: str) -> Section:
    """The doubts, folded, with each cell in words, every other figure and the run's context."""
    cfg = result.config
    context = (
        f"<p class='note'>Workload <code>{html.escape(workload_label(cfg.workload))}</code>, {cfg.n_tasks} tasks "
        f"per cell, at most {cfg.repeat} rounds; sizes {html.escape(str(cfg.sizes))}; load average before "
        f"{load_text(result.load_before)}, after {load_text(result.load_after)}. {html.escape(ceiling_note(result))}"
        "</p>"
    )
    if result.load_competing:
        context += (
            "<p class='flag'>Other work was competing for the CPU when the run started (load average "
            f"{load_text(result.load_before)}): figures may be depressed.</p>"
        )
    found = findings(result)
    words = ul(found) if found else ""
    gil_note = html.escape(gil_sampler_note(result.cells))
    return Section(
        "Doubts, and every other figure",
        box
        + f"<details><summary>Each cell in words</summary>{words}</details>"
        + "<details><summary>Every other figure</summary>"
        + cell_rows(result.cells, columns=DETAILS)
        + f"<p class='note'>{EXPLAIN['gil']} {EXPLAIN['states']} {gil_note}</p>"
        + "</details>"
        + context
        + "<p class='note'>trace.json holds the same timeline for Perfetto or chrome://tracing.</p>",
    )


def write_page(out: Path, sections: Sequence[Section], title: str = "gillab report") -> None:
    """Write out/report.html from the sections, in order."""
    parts = [
        f"<!doctype html><meta charset='utf-8'><meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)}</title><style>{CSS}</style>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    for s in sections:
        parts.append((f"<h2>{html.escape(s.title)}</h2>" if s.title else "") + s.html)
    write_atomic(out / "report.html", "\n".join(parts) + "\n")
