"""The report sections of `gillab check` (a check or a size sweep) and `gillab catalogue`."""

from __future__ import annotations

import html
from typing import Any

from gillab.checker.api import CheckResult, InterpreterCheck, SweepResult
from gillab.checker.catalogue import Catalogue, Row
from gillab.checker.interpreters import lines as interpreter_lines
from gillab.outputs.columns import fmt
from gillab.outputs.documents import Kind, ul


def check_section(doc: dict[str, Any]) -> str:
    """check.json's section: the verdict, and each size of a sweep."""
    if "sizes" in doc:  # a size sweep
        sweep = SweepResult.from_json(doc)
        head = f"<p><code>{html.escape(sweep.target)}</code>: {html.escape(sweep.verdict)}</p>"
        return head + ul(
            [
                f"n = {r.size}: {r.releases.value} ({r.per_call_s * 1e6:.1f} µs a call; {r.method}: "
                f"{r.seen} in {r.calls} calls)"
                for r in sweep.sweep.sizes
            ]
        )
    result = CheckResult.from_json(doc)
    safety = f"<p>Thread safety: {html.escape(result.safety.sentence)}.</p>" if result.safety is not None else ""
    return f"<p><code>{html.escape(result.target)}</code>: {html.escape(result.verdict)}</p>{safety}"


def interpreters_section(doc: dict[str, Any]) -> str:
    """check-interpreters.json's section: whether the target loads in a subinterpreter, and how it scaled."""
    got = InterpreterCheck.from_json(doc)
    return f"<p><code>{html.escape(got.target)}</code> on subinterpreters, each with a GIL of its own:</p>" + ul(
        [line.strip() for line in interpreter_lines(got.interpreters)]
    )


AGREES = {True: "yes", False: "NO", None: "-"}


def _row(r: Row) -> str:
    g = r.got
    return (
        f"<tr><td>{html.escape(r.entry.name)}</td><td>{html.escape(r.entry.expected_text)}</td>"
        f"<td>{html.escape(str(g.measured))}</td><td>{fmt(g.fraction, '.2f')}</td>"
        f"<td>{fmt(g.speedup_2, '.2f')}</td>"
        f"<td{' class=flag' if g.agrees is False else ''}>{AGREES[g.agrees]}</td>"
        f"<td style='text-align:left'>{html.escape(r.entry.source)}</td></tr>"
    )


def catalogue_section(doc: dict[str, Any]) -> str:
    """catalogue.json's section: every entry, what its source says and what was measured."""
    cat = Catalogue.from_json(doc)
    return (
        "<p>Which stdlib and numpy calls release the GIL, measured on this interpreter with the method of "
        "<code>gillab check</code>, beside what their source says. A disagreement is shown, never hidden.</p>"
        f"<p><b>{html.escape(cat.summary)}</b></p>"
        + (f"<p class='flag'>{html.escape(cat.error)}</p>" if cat.error else "")
        + "<table><tr><th>callable</th><th>expected</th><th>measured</th><th>GIL-free fraction</th>"
        "<th>2-thread speedup</th><th>agrees</th><th>source</th></tr>" + "".join(_row(r) for r in cat.rows) + "</table>"
    )


KINDS = (
    Kind("check", check_section),
    Kind("check-interpreters", interpreters_section),
    Kind("catalogue", catalogue_section),
)
"""The checker's documents, in the order the report shows them."""
