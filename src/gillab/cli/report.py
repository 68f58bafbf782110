"""report.html for an output folder: the run (or comparison) in it, then every lab and check found there."""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gillab import environment
from gillab.advice.report import KINDS as ADVISE_KINDS
from gillab.checker.report import KINDS as CHECK_KINDS
from gillab.compare.report import compare_sections
from gillab.compare.run import CompareResult, is_compare
from gillab.errors import ResultsError
from gillab.harness.options import check_out_dir
from gillab.harness.results import RunResult, read_json
from gillab.labs import KINDS as LAB_KINDS
from gillab.outputs.documents import sections as document_sections
from gillab.outputs.documents import write_document
from gillab.outputs.report import Section, environment_html, run_sections, write_page
from gillab.outputs.terminal import wrap


def out_dir(path: str | Path) -> Path:
    """Create the output folder and prove it writable; OptionError (one line, exit 2) otherwise."""
    return check_out_dir(path)


def refresh_report(out: Path, run: RunResult | None = None, comparison: CompareResult | None = None) -> None:
    """Write out/report.html: the given run or comparison (else the one in out/results.json), then the labs."""
    sections: list[Section] = []
    if run is None and comparison is None and (out / "results.json").exists():
        try:
            doc = read_json(out / "results.json")
            if is_compare(doc):
                comparison = CompareResult.from_json(doc)
            else:
                run = RunResult.from_json(doc)
        except ResultsError as exc:
            sections.append(
                Section("", f"<p class='flag'>results.json in this folder was not shown: {html.escape(str(exc))}</p>")
            )
    title = "gillab report"
    if comparison is not None:
        sections += compare_sections(comparison, out)
        title = "gillab compare"
    elif run is not None:
        sections += run_sections(run, out)
    else:
        sections.append(Section("", environment_html(environment.info())))
    sections += document_sections(out, (*LAB_KINDS, *CHECK_KINDS, *ADVISE_KINDS))
    write_page(out, sections, title)


def say(lesson: Sequence[str], lines: Sequence[str], wrote: str = "") -> None:
    """Print a command's lesson first, a blank line, its lines, and last what it wrote: each wrapped to the
    terminal's WIDTH, but a listing of several lines (dis), printed as it is."""
    for sentence in lesson:
        print("\n".join(wrap(sentence)))
    if lesson and lines:
        print()
    for line in lines:
        print(line if "\n" in line else "\n".join(wrap(line)))
    if wrote:
        print("\n".join(wrap(wrote)))


def finish_lab(lab: str, data: dict[str, Any], json_path: str | None, out: Path, drew: bool = False) -> str:
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
