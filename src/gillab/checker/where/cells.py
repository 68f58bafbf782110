"""The line profile of a run's contended cells: where `gillab run` (and each interpreter of `gillab compare`)
ran Python workers that share no GIL and the diagnosis named contention or the collector, the line, and the
object, that held them back.

Each such impl's function is profiled as `check --where` profiles a callable (gillab.checker.where): in a child
of a sampler of its own, alone and on the cell's workers, never in gillab's process. The result is a document of
its own, where.json, beside results.json; its view names the line for each impl.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from gillab.checker.child_spec import ChildSpec
from gillab.checker.where import profile_where
from gillab.checker.where import view as where_view
from gillab.checker.where.objects import function_of
from gillab.checker.where.profile import Where
from gillab.checker.where.sampler import unavailable
from gillab.codec import Record
from gillab.harness.executors import Family
from gillab.harness.records import Cause
from gillab.harness.results import Cell, RunResult
from gillab.outputs.documents import figures
from gillab.present.view import Doubt, Table, View
from gillab.workloads import get

STEPS = 1000
"""The steps a profiled call runs (a pattern does the same per step whatever the size; calls stay short)."""
PROFILED = (Cause.CONTENTION, Cause.COLLECTOR)


@dataclass(frozen=True)
class CellWhere:
    """One impl's line profile, on as many threads as its cell's workers."""

    impl: str
    workers: int
    target: str
    where: Where
    interpreter: str = ""
    """Where the document gathers several interpreters' profiles (gillab compare): the one this ran under."""


@dataclass(frozen=True)
class WhereRun(Record):
    """where.json: the line profile of each contended impl of a run."""

    workload: str
    interpreter: str
    cells: tuple[CellWhere, ...]


def contended(result: RunResult) -> list[Cell]:
    """The thread cells, at the most workers, whose diagnosis named contention or the collector."""
    threads = [c for c in result.cells if c.ok and c.family == Family.THREADS and c.workers > 1]
    top = {c.impl: max(x.workers for x in threads if x.impl == c.impl) for c in threads}
    return [
        c
        for c in threads
        if c.workers == top[c.impl] and c.diagnosis is not None and c.diagnosis.cause in PROFILED
    ]


def profile_cells(
    result: RunResult, say: Callable[[str], None], timeout_s: float = 60.0
) -> WhereRun | None:
    """Profile each contended cell's function (None where there is none, or no sampler can run here)."""
    cells = contended(result)
    if not cells or unavailable():
        return None
    workload = get(result.config.workload)
    found = []
    for c in cells:
        impl = next(i for i in workload.impls if i.name == c.impl)
        module = impl.module()
        if function_of(getattr(module, impl.attr, None)) is None:  # native code: no line of its own
            continue
        target = f"{module.__name__}:{impl.attr}"
        say(f"line profile of {c.impl} on {c.workers} threads")
        spec = ChildSpec("check", target, None, [STEPS], (1, c.workers), 1.0)
        got = profile_where(spec, {}, None, timeout_s, target)
        if got.sampler is not None:
            found.append(CellWhere(c.impl, c.workers, target, got))
    if not found:
        return None
    return WhereRun(result.config.workload, result.environment.interpreter, tuple(found))


def view(run: WhereRun) -> View:
    """Each contended impl's line first, in one sentence; then its lines, impl by impl, in one table."""
    lesson = tuple(
        f"{_name(c)}: {where_view.lesson(c.where)[0].removeprefix('Where: ')}" for c in run.cells
    )
    rows, flagged = [], []
    for c in run.cells:
        table = where_view.table(c.where)
        if table is None:
            continue
        for row, mark in zip(table.rows, table.flagged or (False,) * len(table.rows), strict=True):
            rows.append(
                (_name(c), *row[:5], row[-1])
            )  # all but the GIL's columns, where it has them
            flagged.append(mark)
    columns = ("impl", "line", "code", "alone", "N threads", "cost ×", "touches")
    tables = (Table(columns, tuple(rows), tuple(flagged), "lllrrrl"),) if rows else ()
    notes = (
        f"Each impl's line profile: {run.cells[0].where.sampler}, read from outside a child of its own that "
        f"called it ({STEPS} steps a call) alone, then on its cell's workers; cost × is a line's cost per call "
        "on N threads over its cost alone, ! marks a line whose threads fight over something there.",
        *(
            f"{_name(c)}: {c.where.samples} samples; the machine itself {c.where.machine or 1.0:.2f}× slower on "
            f"{c.where.threads} threads.{where_view.kept(c.where)}"
            for c in run.cells
        ),
    )
    return View(
        f"gillab run --workload {run.workload}: where, under {run.interpreter}",
        lesson=lesson,
        tables=tables,
        notes=notes,
        doubts=tuple(
            Doubt(f"{_name(c)} {d.figure}", d.reason)
            for c in run.cells
            for d in where_view.doubts(c.where)
        ),
        bars=tuple(
            replace(b, title=f"{_name(c)}: {b.title}")
            for c in run.cells
            for b in where_view.bars(c.where)
        ),
    )


def _name(c: CellWhere) -> str:
    return f"{c.impl} under {c.interpreter}" if c.interpreter else c.impl


def gathered(folders: list[Path]) -> WhereRun | None:
    """The line profiles each interpreter's run left in its folder (gillab compare's run0, run1, ...), as one
    document: each impl's profile under the interpreter it ran under. None where none left one."""
    cells: list[CellWhere] = []
    workload = ""
    for folder in folders:
        path = folder / "where.json"
        if path.exists():
            got = WhereRun.from_json(figures(json.loads(path.read_text())))
            workload = got.workload
            cells += [replace(c, interpreter=got.interpreter) for c in got.cells]
    return WhereRun(workload, "each interpreter", tuple(cells)) if cells else None
