"""Every kind of result gillab keeps in an output folder, registered in one place.

A run and a comparison live in results.json and have their own renderers (gillab.outputs); every other
kind is a document, <name>.json, whose kind (the lab's, the check's, advise's) says how to read it back and
how to build its View. report.html, `gillab show` and the notebook iterate this registry; no medium knows a
feature, and no feature knows a medium.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from gillab import environment
from gillab.advice.report import KINDS as ADVISE
from gillab.checker.report import KINDS as CHECK
from gillab.compare import report as compare_report
from gillab.errors import ResultsError
from gillab.harness.pythons.run import CompareResult, is_compare
from gillab.harness.results import RunResult, read_json
from gillab.labs import KINDS as LABS
from gillab.outputs import terminal as run_terminal
from gillab.outputs.documents import Kind, write_document
from gillab.outputs.documents import sections as document_sections
from gillab.outputs.report import Section, environment_html, run_sections, write_page
from gillab.present import terminal

DOCUMENTS: tuple[Kind, ...] = (*LABS, *CHECK, *ADVISE)
"""Every kind of document, in the order the report and `gillab show` give them."""


def kind_of(result: object) -> Kind | None:
    """The kind whose results are of this class (a notebook shows each through it)."""
    return next((k for k in DOCUMENTS if isinstance(result, k.types)), None)


RUN_FILES = ("results.json", "speedup.png", "timeline.png", "trace.json")
"""What a run writes into its folder (and report.html)."""


def write_run(result: RunResult, out: Path) -> list[str]:
    """Draw the pictures, the trace and the report of a run; return the files written (results.json first).

    A picture with nothing to draw is not written, and an older one of that name is removed first, so the
    report never shows a picture from another run.
    """
    from gillab.outputs import (  # matplotlib: loaded only when there is something to draw
        plots,
        trace,
    )

    written = ["results.json"]
    for name, draw in (("speedup.png", plots.speedup_png), ("timeline.png", plots.timeline_png)):
        (out / name).unlink(missing_ok=True)
        if draw(result, out / name):
            written.append(name)
    trace.write_trace(result, out / "trace.json")
    refresh_report(out, run=result)
    return [*written, "trace.json", "report.html"]


def refresh_report(
    out: Path, run: RunResult | None = None, comparison: CompareResult | None = None
) -> None:
    """Write out/report.html: the given run or comparison (else the one in out/results.json), then the labs."""
    sections: list[Section] = []
    if run is None and comparison is None and (out / "results.json").exists():
        try:
            got = read_results(out / "results.json")
            comparison, run = (got, None) if isinstance(got, CompareResult) else (None, got)
        except ResultsError as exc:
            sections.append(
                Section(
                    "",
                    f"<p class='flag'>results.json in this folder was not shown: {html.escape(str(exc))}</p>",
                )
            )
    title = "gillab report"
    if comparison is not None:
        sections += compare_report.compare_sections(comparison, out)
        title = "gillab compare"
    elif run is not None:
        sections += run_sections(run, out)
    else:
        sections.append(Section("", environment_html(environment.info())))
    sections += document_sections(out, DOCUMENTS)
    write_page(out, sections, title)


def finish_document(
    lab: str, data: dict[str, Any], json_path: str | None, out: Path, drew: bool = False
) -> str:
    """Write out/<lab>.json (and json_path), refresh the report, and return the line that says what was written
    (the command prints it last, after its lesson).

    drew: whether the lab drew out/<lab>.png this time; if not, an older picture is removed, so that the
    report never shows a picture from another run.
    """
    write_document(lab, data, out, json_path)
    if not drew:
        (out / f"{lab}.png").unlink(missing_ok=True)
    refresh_report(out)
    return f"Wrote {lab}.json{f', {lab}.png' if drew else ''} and report.html in {out}"


def read_results(path: Path) -> RunResult | CompareResult:
    """A run or a comparison, from its results.json; ResultsError (one line) where it is neither."""
    doc = read_json(path)
    return CompareResult.from_json(doc) if is_compare(doc) else RunResult.from_json(doc)


def show(path: Path, detail: bool = False) -> list[str]:
    """Every result in a folder (or the one in a file), as its command printed it, the lesson first, each
    under its name where there is more than one; ResultsError where there is none."""
    folder = path if path.is_dir() else path.parent
    names = None if path.is_dir() else {path.name}
    files = terminal.wrap(run_terminal.files_note([], folder))
    shown: list[tuple[str, list[str]]] = []
    documents = {f"{kind.name}.json" for kind in DOCUMENTS}
    # a run or a comparison: its folder's results.json, or any JSON file that is not a lab's or a check's
    results = path if names is not None and path.name not in documents else folder / "results.json"
    if results.exists() and (names is None or results.name in names):
        got = read_results(results)
        if isinstance(got, CompareResult):
            shown.append(
                ("gillab compare", terminal.lines(compare_report.view(got), detail=detail))
            )
        else:
            said = run_terminal.lines(got, [], folder, detail)
            shown.append(("gillab run", said[: len(said) - len(files)]))
    for kind in DOCUMENTS:
        if names is not None and f"{kind.name}.json" not in names:
            continue
        view = kind.read(folder)
        if view is not None:
            shown.append((f"gillab {kind.name}", terminal.lines(view, detail=detail)))
    if not shown:
        raise ResultsError(
            f"{path}: no result of gillab's here (results.json, or a lab's or check's JSON)"
        )
    out: list[str] = []
    for title, lines in shown:
        if len(shown) > 1:
            out += [*([""] if out else []), f"== {title}"]
        out += lines
    return [*out, *files]
