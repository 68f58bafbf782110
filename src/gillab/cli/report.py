"""report.html for an output folder: the run (or comparison) in it, then every lab found there."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from gillab import environment
from gillab.cli.errors import UsageError
from gillab.compare.report import compare_sections
from gillab.compare.run import CompareResult, is_compare
from gillab.files import write_json
from gillab.harness.options import OptionError, check_out_dir
from gillab.harness.results import ResultsError, RunResult, read_json
from gillab.labs.common import lab_document
from gillab.labs.sections import lab_sections
from gillab.outputs.report import Section, environment_html, run_sections, write_page


def out_dir(path: str | Path) -> Path:
    """Create the output folder and prove it writable; UsageError (exit 2) otherwise."""
    try:
        return check_out_dir(path)
    except OptionError as exc:
        raise UsageError(str(exc)) from None


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
    sections += lab_sections(out)
    write_page(out, sections, title)


def finish_lab(lab: str, data: dict[str, Any], json_path: str | None, out: Path, drew: bool = False) -> None:
    """Write out/<lab>.json (and json_path), refresh the report, and say what was written.

    drew: whether the lab drew out/<lab>.png this time; if not, an older picture is removed, so that the
    report never shows a picture from another run.
    """
    doc = lab_document(lab, data)
    write_json(doc, out / f"{lab}.json")
    if json_path:
        write_json(doc, json_path)
    if not drew:
        (out / f"{lab}.png").unlink(missing_ok=True)
    refresh_report(out)
    print(f"wrote {lab}.json{f', {lab}.png' if drew else ''} and report.html in {out}")
