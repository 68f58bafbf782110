"""The views of `gillab check` (a check, a size sweep, a check on subinterpreters) and of `gillab catalogue`:
built once here, drawn by the terminal, report.html, the notebook and `gillab show` alike."""

from __future__ import annotations

from collections.abc import Sequence

from gillab.checker.api import CheckResult, InterpreterCheck, SweepResult
from gillab.checker.catalogue import Catalogue, Row
from gillab.checker.entries import Entry
from gillab.checker.interpreters import lines as interpreter_lines
from gillab.checker.run import Readiness
from gillab.checker.scaling import Level
from gillab.checker.where import view as where_view
from gillab.harness.results import EFFICIENCY_IMPOSSIBLE, TOO_UNSTEADY
from gillab.outputs.columns import UNSTEADY
from gillab.outputs.columns import fmt as _fmt
from gillab.present.view import Doubt, Table, View

SCALING = ("threads", "calls/s", "speedup", "efficiency", "cores busy", "GIL wait ms")


def _level_row(lv: Level) -> tuple[str, ...]:
    impossible = lv.efficiency is not None and lv.efficiency > EFFICIENCY_IMPOSSIBLE
    return (
        str(lv.threads),
        f"{lv.calls_per_s:.1f}",
        UNSTEADY if impossible else _fmt(lv.speedup, ".2f"),
        UNSTEADY if impossible else _fmt(lv.efficiency, ".2f"),
        f"{lv.cpu_utilization:.2f}",
        f"{lv.gil_wait_median_ms:.3f}",
    )


def _doubts(result: CheckResult) -> list[Doubt]:
    """Each level measured while other processes took a core, even when measured again."""
    out = []
    for lv in result.scaling:
        phase = result.measurement.interference.get(f"{lv.threads} threads")
        if phase is not None and phase.disturbed:
            again = ", even when measured again" if phase.measured_again else ""
            why = f"other processes took {phase.others_cores or 0.0:.1f} cores during it{again}"
            out.append(Doubt(f"{lv.threads} threads", why))
    return out


def _withheld(result: CheckResult) -> list[str]:
    """Why a level's speedup and efficiency are withheld: figures that cannot be true of the code."""
    return [
        f"{lv.threads} threads: {TOO_UNSTEADY} (efficiency {lv.efficiency:.2f}, above what "
        f"{lv.threads} threads can give)"
        for lv in result.scaling
        if lv.efficiency is not None and lv.efficiency > EFFICIENCY_IMPOSSIBLE
    ]


def readiness(gil_import: Readiness | None) -> str:
    """Say whether importing the target's module turned the GIL back on (a free-threaded build's question)."""
    if gil_import is None or not gil_import.free_threaded_build:
        return (
            "free-threading readiness: not a free-threaded interpreter (check it with --python PATH to a 3.14t, "
            "which scripts/build-python.sh --free-threaded builds)"
        )
    if gil_import.reenabled:
        said = gil_import.warning or "no warning given"
        return f"free-threading readiness: importing it turned the GIL back ON ({said})"
    if gil_import.gil_before:
        return (
            "free-threading readiness: the GIL was already on (PYTHON_GIL=1, or an earlier import)"
        )
    return "free-threading readiness: importing it left the GIL off"


def _first_upper(text: str) -> str:
    return text[:1].upper() + text[1:]


def check_view(result: CheckResult) -> View:
    """The verdict and the safety verdict first, then the scaling per thread count, the GIL figures and the
    readiness."""
    doubts = _doubts(result)
    flagged = {d.figure for d in doubts}
    held = (
        f"; the calling thread held the GIL {result.held_fraction:.0%} of its time inside calls (the "
        "interpreter's own GIL state)"
        if result.held_fraction is not None
        else ""
    )
    lesson = [f"{result.target}: {result.verdict}"]
    if result.safety is not None:
        lesson.append(f"Thread safety: {result.safety.sentence}.")
    table = Table(
        SCALING,
        tuple(_level_row(lv) for lv in result.scaling),
        tuple(f"{lv.threads} threads" in flagged for lv in result.scaling),
    )
    where = result.where
    lines = where_view.table(where) if where is not None else None
    return View(
        "gillab check",
        lesson=(*lesson, *(where_view.lesson(where) if where is not None else ())),
        tables=(table, *((lines,) if lines is not None else ())),
        notes=(
            f"GIL-free fraction {result.gil_free_fraction:.2f} ({result.measurement.normalisation}){held}.",
            readiness(result.gil_import),
            *(where_view.notes(where) if where is not None else ()),
            *(
                (_first_upper(note) + ".",)
                if (note := result.measurement.interference_note)
                else ()
            ),
        ),
        doubts=(*doubts, *(where_view.doubts(where) if where is not None else ())),
        details=(*_withheld(result), *((result.note,) if result.note else ())),
        bars=where_view.bars(where) if where is not None else (),
    )


SWEEP = ("n", "releases", "µs a call", "seen", "calls", "method")


def sweep_view(result: SweepResult) -> View:
    """The size from which it lets go first, then each size."""
    rows = []
    for row in result.sweep.sizes:
        seen = (
            f"{row.switches} GIL switches"
            if row.switches is not None
            else f"{row.waiter_steps} waiter steps"
        )
        rows.append(
            (
                str(row.size),
                row.releases.value,
                f"{row.per_call_s * 1e6:.1f}",
                seen,
                str(row.calls),
                row.method,
            )
        )
    return View(
        "gillab check",
        lesson=(f"{result.target}: {result.verdict}",),
        tables=(Table(SWEEP, tuple(rows)),),
    )


def interpreters_view(got: InterpreterCheck) -> View:
    """Whether the target loads in a subinterpreter, and how it scaled there."""
    said = [line.strip() for line in interpreter_lines(got.interpreters)]
    where = f"{got.target} on subinterpreters, each with a GIL of its own"
    lesson = (f"{where}: {said[0]}",) if said else ()
    return View("gillab check --executor interpreter", lesson=lesson, notes=tuple(said[1:]))


AGREES = {True: "yes", False: "NO", None: "-"}
CATALOGUE = (
    "callable",
    "expected",
    "measured",
    "decided by",
    "GIL-free",
    "held",
    "2-thread ×",
    "agrees",
)


def _catalogue_row(r: Row) -> tuple[str, ...]:
    g = r.got
    return (
        r.entry.name,
        r.entry.expected_text,
        g.measured,
        g.decided_by,
        _fmt(g.fraction, ".2f"),
        _fmt(g.held_fraction, ".0%"),
        _fmt(g.speedup_2, ".2f"),
        AGREES[g.agrees],
    )


def catalogue_view(cat: Catalogue) -> View:
    """Every entry, what its source says and what was measured; a disagreement is shown, never hidden."""
    table = Table(CATALOGUE, tuple(_catalogue_row(r) for r in cat.rows))
    return View(
        "gillab catalogue",
        lesson=(cat.summary,),
        tables=(table,) if cat.rows else (),
        notes=(cat.error,) if cat.error else (),
        doubts=tuple(
            Doubt(
                r.entry.name, f"measured {r.got.measured}, its source says {r.entry.expected_text}"
            )
            for r in cat.rows
            if r.got.agrees is False
        ),
        details=(
            "Which stdlib and numpy calls release the GIL, measured on this interpreter with the method of "
            "gillab check, beside what their source says.",
            *(f"{r.entry.name}: {r.entry.source}" for r in cat.rows),
        ),
    )


def catalogue_list(entries: Sequence[Entry]) -> View:
    """The entries `gillab catalogue` would measure: each callable, what its source says, and where."""
    rows = tuple((e.name, e.target, e.expected_text, e.source) for e in entries)
    return View(
        "gillab catalogue --list",
        lesson=(
            f"{len(entries)} entries, each measured by gillab catalogue as gillab check measures one.",
        ),
        tables=(Table(("callable", "target", "expected", "source"), rows, align="llll"),),
    )
