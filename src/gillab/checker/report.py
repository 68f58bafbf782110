"""The checker's kinds of document: `gillab check` (a check or a size sweep), a check on subinterpreters,
`gillab catalogue`, and the line profile of a run's contended cells (where.json); their views are built once,
in gillab.checker.view (where.json's in gillab.checker.where.cells)."""

from __future__ import annotations

from typing import Any

from gillab.checker.api import CheckResult, InterpreterCheck, SweepResult
from gillab.checker.catalogue import Catalogue
from gillab.checker.view import catalogue_view, check_view, interpreters_view, sweep_view
from gillab.checker.where.cells import WhereRun
from gillab.checker.where.cells import view as where_view
from gillab.outputs.documents import Kind
from gillab.present.view import View


def load_check(doc: dict[str, Any]) -> CheckResult | SweepResult:
    """check.json's figures: a check, or a size sweep."""
    return SweepResult.from_json(doc) if "sizes" in doc else CheckResult.from_json(doc)


def view_check(result: CheckResult | SweepResult) -> View:
    """A check's view, or a sweep's."""
    return sweep_view(result) if isinstance(result, SweepResult) else check_view(result)


KINDS = (
    Kind("check", load_check, view_check, (CheckResult, SweepResult)),
    Kind("check-interpreters", InterpreterCheck.from_json, interpreters_view, (InterpreterCheck,)),
    Kind("catalogue", Catalogue.from_json, catalogue_view, (Catalogue,)),
    Kind("where", WhereRun.from_json, where_view, (WhereRun,)),
)
"""The checker's documents, in the order the report shows them."""
