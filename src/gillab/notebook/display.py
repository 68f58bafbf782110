"""How a notebook shows gillab's results: each result class's HTML, registered for ``_repr_html_``.

The results live below the layers that draw them (a RunResult knows nothing of the report), so their HTML is
registered here, from the renderers the report already uses, when the extension loads.
"""

from __future__ import annotations

import html
import importlib
import tempfile
from collections.abc import Sequence
from pathlib import Path

from gillab.advice.model import Advice
from gillab.advice.report import section as advice_section
from gillab.checker.api import CheckResult, InterpreterCheck, SweepResult
from gillab.checker.catalogue import Catalogue
from gillab.checker.report import catalogue_section, check_section, interpreters_section
from gillab.codec import DISPLAYS, Record
from gillab.compare.report import compare_png, compare_sections
from gillab.compare.run import CompareResult
from gillab.harness.results import RunResult
from gillab.outputs import plots
from gillab.outputs.findings import four_answers, summary
from gillab.outputs.report import Section, cell_rows, img_tag

STYLE = (
    "<style>.gillab table{border-collapse:collapse;font-size:12px}.gillab td,.gillab th{border:1px solid #ccc;"
    "padding:2px 6px;text-align:right}.gillab .flag{color:#b00}</style>"
)


def _page(sections: Sequence[Section]) -> str:
    body = "".join((f"<h4>{html.escape(s.title)}</h4>" if s.title else "") + s.html for s in sections)
    return f"{STYLE}<div class='gillab'>{body}</div>"


def run_html(result: RunResult) -> str:
    """A run: its lesson, the four answers, the main table, and speedup.png and timeline.png."""
    with tempfile.TemporaryDirectory(prefix="gillab-display-") as tmp:
        pictures = ""
        for name, draw in (("speedup.png", plots.speedup_png), ("timeline.png", plots.timeline_png)):
            if draw(result, Path(tmp) / name):
                pictures += img_tag(Path(tmp) / name)
    lesson = "".join(f"<p>{html.escape(x)}</p>" for x in summary(result))
    answers = four_answers(result)
    return _page([
        Section("", lesson + (f"<p>{html.escape(answers)}</p>" if answers else "")),
        Section("", cell_rows(result.cells)),
        Section("", pictures),
    ])  # fmt: skip


def compare_html(merged: CompareResult) -> str:
    with tempfile.TemporaryDirectory(prefix="gillab-display-") as tmp:
        compare_png(merged, Path(tmp) / "compare.png")
        return _page(compare_sections(merged, Path(tmp)))


def check_html(result: CheckResult | SweepResult) -> str:
    body = check_section(result.to_json())
    if isinstance(result, CheckResult):

        def flag(threads: int) -> str:  # the phase's name in Measurement.interference
            phase = result.measurement.interference.get(f"{threads} threads")
            if phase is None or not phase.disturbed:
                return "<td></td>"
            again = ", even when measured again" if phase.measured_again else ""
            why = f"other processes took {phase.others_cores or 0.0:.1f} cores during it{again}"
            return f'<td class="flag" title="{html.escape(why)}">disturbed</td>'

        rows = "".join(
            f"<tr><td>{lv.threads}</td><td>{lv.calls_per_s:.1f}</td><td>{lv.speedup or 0:.2f}</td>"
            f"<td>{lv.cpu_utilization:.2f}</td>{flag(lv.threads)}</tr>"
            for lv in result.scaling
        )
        held = (
            f"<p>held the GIL {result.held_fraction:.0%} of its time inside calls</p>"
            if result.held_fraction is not None
            else ""
        )
        head = "<tr><th>threads</th><th>calls/s</th><th>speedup</th><th>CPU</th><th>flag</th></tr>"
        body += held + f"<table>{head}{rows}</table>"
    return _page([Section("", body)])


def record_html(record: Record) -> str:
    """A lab's result: the lab's own report section (the lab is the module that defines the record)."""
    module = importlib.import_module(type(record).__module__)
    section = getattr(module, "section", None)
    if section is None:
        return f"<pre>{html.escape(repr(record))}</pre>"
    return _page([Section("", section(record.to_json()))])


def register() -> None:
    """Register the HTML of every result class (idempotent)."""
    DISPLAYS[RunResult] = run_html
    DISPLAYS[CompareResult] = compare_html
    DISPLAYS[CheckResult] = check_html
    DISPLAYS[SweepResult] = check_html
    DISPLAYS[InterpreterCheck] = lambda r: _page([Section("", interpreters_section(r.to_json()))])
    DISPLAYS[Catalogue] = lambda c: _page([Section("", catalogue_section(c.to_json()))])
    DISPLAYS[Advice] = lambda a: _page([Section("", advice_section(a.to_json()))])
    DISPLAYS[Record] = record_html  # a lab's result, through its own module's section
