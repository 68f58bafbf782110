"""The columns of a table of cells, and the formatters their figures read through: written once, for the
terminal table (TABLE) and the report's two tables (MAIN, the figures that tell the lesson, and DETAILS).

>>> fmt(None, ".2f"), fmt(1.234, ".2f"), fmt(0.5, ".0%")
('-', '1.23', '50%')
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from gillab import stats
from gillab.harness.results import TOO_UNSTEADY, Cell, RunResult
from gillab.present.view import Table, interval

UNSTEADY = "too unsteady"
"""A table's word in place of a figure that cannot be true of the code (the cell's reason says why)."""


def fmt(x: float | int | None, spec: str) -> str:
    """A figure as text, "-" where there is none."""
    return "-" if x is None else format(x, spec)


def ms(x: float | None) -> float | None:
    """Seconds as milliseconds (None, and 0, stay as they are)."""
    return x * 1e3 if x else x


def load_text(load: Sequence[float] | None) -> str:
    """A load average as the run reports it, e.g. '[0.5, 0.4, 0.3]'."""
    return str(list(load)) if load is not None else "None"


def with_half_width(x: float | None, ci: tuple[float, float] | None, spec: str = ".2f") -> str:
    """A figure with the half-width of its 95% interval, e.g. '1.84 ±0.04'.

    >>> with_half_width(1.84, (1.80, 1.88)), with_half_width(1.0, None), with_half_width(None, None)
    ('1.84 ±0.04', '1.00', '-')
    """
    if x is None:
        return "-"
    return f"{x:{spec}}" if ci is None else f"{x:{spec}} ±{stats.half_width(ci):{spec}}"


def with_interval(x: float | None, ci: tuple[float, float] | None) -> str:
    """A figure with its 95% interval, as every medium spells it.

    >>> with_interval(1.84, (1.80, 1.88)), with_interval(None, None)
    ('1.84 [1.80-1.88]', '-')
    """
    text = fmt(x, ".2f")
    if x is not None and ci is not None:
        text += f" {interval(*ci)}"
    return text


def gil_wait_shown(c: Cell) -> float | None:
    """The GIL wait worth showing for a cell: None where its workers have a GIL this process's probe never
    waits for (and no probe of their own)."""
    ex = c.kind
    if c.gil_wait is None or not (ex.shares_gil or ex.runs_elsewhere):
        return None
    return c.gil_wait.median_ms


def shown(c: Cell, figure: str, text: Callable[[Cell], str], instead: str = UNSTEADY) -> str:
    """A figure of a cell as text, or `instead` where it cannot be true of the code (the cell's `unsteady`)."""
    return instead if figure in c.unsteady else text(c)


def speedup_text(c: Cell) -> str:
    """The speedup with the half-width of its 95% interval, e.g. '1.84 ±0.04'."""
    return shown(c, "speedup", lambda c: with_half_width(c.speedup, c.speedup_ci95))


def speedup_interval(c: Cell) -> str:
    """The speedup with its 95% interval, e.g. '1.84 [1.80-1.88]'."""
    return shown(c, "speedup", lambda c: with_interval(c.speedup, c.speedup_ci95))


def mark(c: Cell) -> str:
    """A cell's mark in the short table: '!' not measured, '~' its speedup too unsteady to tell, '*' a figure to
    distrust (its reason in --detail and the report), '' none."""
    if not c.ok:
        return "!"
    if "speedup" in c.unsteady:
        return "~"
    return "*" if c.noisy else ""


def status_text(c: Cell) -> str:
    """ok, or the status and its reason, with the updates a counter lost."""
    text = c.status if c.ok else f"{c.status}: {c.reason}"
    if c.lost_updates:
        text += f" (lost {min(c.lost_updates)}..{max(c.lost_updates)} updates)"
    return text


def wall_text(c: Cell) -> str:
    """The median wall with its IQR, in ms: '812 (14)'."""
    if c.median_wall_s is None:
        return "-"
    return f"{c.median_wall_s * 1e3:.0f} ({(c.iqr_s or 0) * 1e3:.0f})"


def flag_text(c: Cell) -> str:
    """NOISY where a figure is not to be trusted; "allowed" where it was as fast as this machine allowed."""
    if c.noisy:
        return "NOISY"
    return "allowed" if c.against_ceiling else ""


@dataclass(frozen=True)
class Column:
    """One column of a table of cells: its header and how a cell's figure reads in it."""

    name: str
    value: Callable[[Cell], str]
    html: bool = False
    """The value is HTML already (the report shows it as is; every other value is escaped)."""


def _gil_held(c: Cell) -> str:
    return fmt(c.gil.held_fraction if c.gil else None, ".0%")


def _switches(c: Cell) -> str:
    return fmt(c.gil.switches_per_s if c.gil else None, ".0f")


def _wait(attr: str, spec: str) -> Callable[[Cell], str]:
    def value(c: Cell) -> str:
        return fmt(getattr(c.gil_wait, attr) if gil_wait_shown(c) is not None else None, spec)

    return value


def _busy(c: Cell) -> str:
    return with_half_width(c.parallelism, c.parallelism_ci95)


def _vs_ceiling(c: Cell) -> str:
    return shown(
        c,
        "efficiency_vs_ceiling",
        lambda c: with_half_width(c.efficiency_vs_ceiling, c.efficiency_vs_ceiling_ci95),
    )


IMPL = Column("impl", lambda c: c.impl)
EXECUTOR = Column("executor", lambda c: c.executor)
WORKERS = Column("workers", lambda c: str(c.workers))
SIZE = Column("size", lambda c: str(c.size))
EFFICIENCY = Column(
    "efficiency", lambda c: shown(c, "efficiency", lambda c: fmt(c.efficiency, ".2f"))
)
CORE_SPEED = Column("core speed", lambda c: with_half_width(c.core_speed, c.core_speed_ci95))
RUNNING = Column("running", lambda c: fmt(c.threads_running_mean, ".2f"))
STARTUP = Column("start ms", lambda c: fmt(ms(c.startup_s), ".0f"))
GIL_HELD = Column("GIL held", _gil_held)

FIGURES = (
    IMPL,
    EXECUTOR,
    WORKERS,
    Column("wall ms (IQR)", wall_text),
    Column("speedup ±95%", speedup_text),
    Column("cores busy", _busy),
    CORE_SPEED,
    Column("vs ceiling", _vs_ceiling),
)
GIL_FIGURES = (
    IMPL,
    EXECUTOR,
    WORKERS,
    GIL_HELD,
    Column("switch/s", _switches),
    Column("GIL wait ms", _wait("median_ms", ".3f")),
    RUNNING,
    STARTUP,
    Column("flag", flag_text),
    Column("status", status_text),
)
TABLE = (FIGURES, GIL_FIGURES)
"""The terminal's tables of every column (gillab run --detail): the figures, then the GIL and the flags, each
cell named in both (15 columns in all, in two tables that fit 100 columns)."""

SHORT = (
    IMPL,
    EXECUTOR,
    WORKERS,
    Column("speedup [95%]", lambda c: speedup_interval(c) if c.ok else c.status),
    Column("cores busy", _busy),
    GIL_HELD,
    Column("mark", mark),
)
"""The short table gillab run prints by default: the figures that tell the lesson, and a mark (fits 100 columns)."""


def flag_html(c: Cell, note: int | None = None) -> str:
    """The report's flag: noisy, linked to its reason in the box of figures to distrust (note: its number); a cell
    not measured says so, and why (its reason, as in the table of every other figure)."""
    if not c.ok:
        return f'<span class="flag" title="{html.escape(c.reason)}">{html.escape(c.status)}</span>'
    if c.noisy:
        link = f' <a href="#distrust-{note}">[{note}]</a>' if note is not None else ""
        return f'<span class="flag" title="{html.escape(c.noise_reason)}">noisy{link}</span>'
    if c.against_ceiling:
        return (
            f'<span class="ok" title="{html.escape(c.against_ceiling)}">as fast as allowed</span>'
        )
    return ""


MAIN = (
    IMPL,
    EXECUTOR,
    WORKERS,
    Column(
        "speedup [95% interval]",
        lambda c: shown(
            c, "speedup", lambda c: with_interval(c.speedup, c.speedup_ci95), TOO_UNSTEADY
        ),
    ),
    Column("cores busy [95%]", lambda c: with_interval(c.parallelism, c.parallelism_ci95)),
    Column(
        "vs the machine's ceiling [95%]",
        lambda c: shown(
            c,
            "efficiency_vs_ceiling",
            lambda c: with_interval(c.efficiency_vs_ceiling, c.efficiency_vs_ceiling_ci95),
            TOO_UNSTEADY,
        ),
    ),
    GIL_HELD,
    Column("flag", flag_html, html=True),
)
"""The report's main table: the figures that tell the lesson, with their doubt (at most nine columns)."""

DETAILS = (
    IMPL,
    EXECUTOR,
    WORKERS,
    SIZE,
    Column("median wall ms", lambda c: fmt(ms(c.median_wall_s), ".1f")),
    Column("IQR ms", lambda c: fmt(ms(c.iqr_s), ".1f")),
    Column("CV", lambda c: fmt(c.cv, ".1%")),
    Column("rounds", lambda c: str(c.rounds)),
    EFFICIENCY,
    Column("core speed [95%]", lambda c: with_interval(c.core_speed, c.core_speed_ci95)),
    Column("ceiling [95%]", lambda c: with_interval(c.ceiling, c.ceiling_ci95)),
    Column(
        "others' cores",
        lambda c: fmt(c.interference.others_cores if c.interference else None, ".2f"),
    ),
    Column("dropped", lambda c: str(c.repeats_dropped)),
    Column("GIL wait median ms", _wait("median_ms", ".3f")),
    Column("GIL wait p95 ms", _wait("p95_ms", ".3f")),
    Column("GIL wait fraction", _wait("fraction", ".2f")),
    Column("GIL switches/s", _switches),
    Column("threads running", RUNNING.value),
    Column("start-up ms", STARTUP.value),
    Column("status", lambda c: c.status + (f": {c.reason}" if c.reason else "")),
)
"""The report's table of every other figure, beside the main one."""


def table(cells: Sequence[Cell], columns: Sequence[Column]) -> Table:
    """Cells under the given columns, as a table every medium draws (aligned to the left, as the run's tables
    always were)."""
    rows = tuple(tuple(col.value(c) for col in columns) for c in cells)
    return Table(tuple(col.name for col in columns), rows, align="l" * len(columns))


def short_cells(result: RunResult) -> list[Cell]:
    """The cells the short table shows: every cell at more than one worker (the serial baselines and the
    1-worker cells are in --detail), or every cell but the baselines where none ran more than one."""
    cells = [c for c in result.cells if not c.kind.baseline]
    many = [c for c in cells if c.workers > 1]
    return many or cells
