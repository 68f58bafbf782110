"""A cell's figures with their doubt, round by round, and the flags that say when not to trust one, and why.

Per round r, against the serial cell's repeat measured beside it in that round (:func:`paired`):

- speedup_r = serial wall ÷ this wall; the cell's speedup is their median, with a 95% bootstrap interval
  (stats.bootstrap_ci, fixed seed); efficiency is speedup ÷ min(workers, tasks, usable cores);
- parallelism_r = this cell's CPU ÷ its wall: how many cores worked at once (what the GIL decides);
- core_speed_r = serial CPU ÷ this cell's CPU (the same tasks): how fast each core ran (what the machine
  decides). speedup = parallelism × core_speed × (the serial cell's own CPU ÷ wall, 1 where it had its core);
- efficiency_vs_ceiling_r = speedup_r ÷ the machine's ceiling for this many workers in round r
  (gillab.harness.ceiling).

A cell is flagged noisy, with its reason in words, when it kept a disturbed repeat (other processes took
cores), and whenever its speedup's interval is wider than ±CI_NOISY of it, whatever the ceiling did: a figure
that moved is never shown unmarked. The flag names what moved it, where the ceiling can tell: the machine
("moved with the machine's own ceiling"), or the cell itself ("the ceiling held steady"). Walls that varied
(a CV over CV_NOISY) under a steady speedup flag the cell unless it was as fast as this machine allowed.
"As fast as this machine allowed" is said only where the efficiency against the ceiling's interval lies
within ALLOWED (0.90-1.10) and holds 1.0: a wider interval holds 1.0 and 0.6 alike, and tells nothing.

Some figures cannot be true of the code: an efficiency above 1 (a speedup above the workers or the usable
cores), or an efficiency against the machine's own ceiling above 1 beyond its interval. They show the machine,
whose speed moved between the rounds' serial baseline and the cell, not the code. Such a figure is kept in
results.json, named in the cell's ``unsteady`` and its reason, and shown nowhere as a measurement: the table,
the report and the pictures say "the machine was too unsteady to tell" in its place (:func:`unsteady`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from gillab import stats
from gillab.harness.instruments import SPEED_DRIFT
from gillab.harness.results import (
    TOO_UNSTEADY,
    Cell,
    RepeatRecord,
    impossible,
)
from gillab.present.view import interval

CV_NOISY = 0.10
"""A cell whose coefficient of variation exceeds this has moved."""
CI_NOISY = 0.10
"""A cell whose speedup interval's half-width exceeds this share of its speedup has moved."""
ALLOWED = (0.90, 1.10)
"""Where an efficiency against the ceiling's whole interval must lie, holding 1.0, for the cell to be called
"as fast as this machine allowed"."""


def per_round(cell: Cell) -> dict[int, RepeatRecord]:
    """The cell's kept repeat of each round."""
    return {r.round: r for r in cell.repeats if not r.dropped}


@dataclass(frozen=True)
class PerRound:
    """A cell's figures round by round (round -> value), against the serial cell and the ceiling."""

    speedup: dict[int, float]
    parallelism: dict[int, float]
    core_speed: dict[int, float]
    ceiling: dict[int, float]
    against_ceiling: dict[int, float]


def paired(cell: Cell, serial: Cell) -> dict[int, RepeatRecord]:
    """Round -> the serial baseline's kept repeat that the cell's kept repeat of that round is paired with:
    of the round's serial repeats, the nearest to it in the run's sequence (gillab.harness.rounds measures
    one beside each cell)."""
    mine = per_round(cell)
    out: dict[int, RepeatRecord] = {}
    for r in serial.repeats:
        if r.dropped or r.round not in mine:
            continue
        near = out.get(r.round)
        if near is None or abs(r.seq - mine[r.round].seq) < abs(near.seq - mine[r.round].seq):
            out[r.round] = r
    return out


def rounds_of(cell: Cell, serial: Cell, ceiling: Mapping[int, float] | None = None) -> PerRound:
    """The cell's per-round figures (see the module docstring); the ceiling's only where it was measured."""
    mine, base = per_round(cell), paired(cell, serial)
    both = [k for k in sorted(mine) if k in base and mine[k].wall_s > 0]
    speedup = {k: base[k].wall_s / mine[k].wall_s for k in both}
    parallelism = {k: p for k, r in sorted(mine.items()) if (p := r.parallelism) is not None}
    core_speed = {k: base[k].cpu_s / mine[k].cpu_s for k in both if mine[k].cpu_s > 0}
    ceil: dict[int, float] = {}
    if ceiling and not cell.kind.baseline:
        ceil = {k: ceiling[k] for k in both if ceiling.get(k)}
    return PerRound(
        speedup, parallelism, core_speed, ceil, {k: speedup[k] / c for k, c in ceil.items()}
    )


def _estimate(xs: dict[int, float]) -> tuple[float | None, tuple[float, float] | None]:
    """The median of per-round figures and its 95% interval (None, None for none)."""
    if not xs:
        return None, None
    values = list(xs.values())
    return stats.median(values), stats.bootstrap_ci(values)


def with_speedup(
    cell: Cell,
    serial: Cell | None,
    cores: int,
    drift: float | None = None,
    ceiling: Mapping[int, float] | None = None,
) -> Cell:
    """Fill in speedup, efficiency, parallelism, core speed and, with the ceiling's per-round ratios for the
    cell's worker count (round -> ratio), the ceiling and the efficiency against it; then flag noise.

    With rounds, the speedup is the median of the per-round ratios; a cell measured outside rounds (one
    round each) falls back to the ratio of the medians.
    """
    if cell.status != "ok" or serial is None or serial.status != "ok" or not cell.median_wall_s:
        return flag_noise(cell, cores, drift)
    assert serial.median_wall_s is not None
    fig = rounds_of(cell, serial, ceiling)
    speedup, ci = _estimate(fig.speedup)
    if speedup is None or ci is None or len(fig.speedup) < 2:
        speedup = stats.speedup(serial.median_wall_s, cell.median_wall_s)
        ci = (speedup, speedup)
    ideal = stats.ideal(cell.workers, cell.tasks, cores)
    par, par_ci = _estimate(fig.parallelism)
    speed, speed_ci = _estimate(fig.core_speed)
    c, c_ci = _estimate(fig.ceiling)
    evc, evc_ci = _estimate(fig.against_ceiling)
    done = replace(
        cell,
        speedup=speedup,
        efficiency=speedup / ideal,
        speedup_ci95=ci,
        efficiency_ci95=(ci[0] / ideal, ci[1] / ideal),
        parallelism=par,
        parallelism_ci95=par_ci,
        core_speed=speed,
        core_speed_ci95=speed_ci,
        ceiling=c,
        ceiling_ci95=c_ci,
        efficiency_vs_ceiling=evc,
        efficiency_vs_ceiling_ci95=evc_ci,
    )
    return flag_noise(done, cores, drift)


def flag_noise(cell: Cell, cores: int, drift: float | None = None) -> Cell:
    """Set noisy, noise_reason and against_ceiling from the cell's own figures (see the module docstring)."""
    if cell.status != "ok":
        return cell
    allowed = _allowed(cell)
    reasons = [_disturbed(cell, cores)]
    if _spread_out(cell):
        reasons += _what_moved(cell, drift)
    figures, why = unsteady(cell, cores, drift)
    reasons = [r for r in [*reasons, *why] if r]
    note = ""
    if (
        allowed
        and cell.efficiency_vs_ceiling is not None
        and cell.efficiency_vs_ceiling_ci95 is not None
    ):
        lo, hi = cell.efficiency_vs_ceiling_ci95
        note = (
            f"as fast as this machine allowed: against its own ceiling it got {cell.efficiency_vs_ceiling:.2f} "
            f"{interval(lo, hi)}, an interval that holds 1.0"
        )
    return replace(
        cell,
        noisy=bool(reasons),
        noise_reason="; ".join(reasons),
        against_ceiling=note,
        unsteady=figures,
    )


def wants_rounds(cell: Cell) -> bool:
    """Whether more rounds may settle a cell: it was measured, and what flags it is its spread (a speedup
    interval wider than ±CI_NOISY, walls that varied, a figure beyond what the machine allows), which more
    rounds narrow; a disturbed repeat it kept stays named whatever follows."""
    if not cell.ok or cell.kind.baseline:
        return False
    return _spread_out(cell) or bool(cell.unsteady)


def _spread_out(cell: Cell) -> bool:
    """Whether the cell's figures moved: a speedup interval wider than ±CI_NOISY, or walls that varied where
    the cell was not as fast as this machine allowed."""
    return _wide(cell) or (_varied(cell) and not _allowed(cell))


def spread(cell: Cell) -> float:
    """How far a cell is from settling: its speedup interval's half-width over CI_NOISY of its speedup (1.0
    on the edge; inf without an interval, or with a figure beyond what the machine allows)."""
    if cell.unsteady or not cell.speedup or not cell.speedup_ci95:
        return float("inf")
    return stats.half_width(cell.speedup_ci95) / (CI_NOISY * cell.speedup)


def _allowed(cell: Cell) -> bool:
    """Whether the cell's efficiency against the machine's ceiling has its whole interval within ALLOWED, and
    holding 1.0."""
    evc, ci = cell.efficiency_vs_ceiling, cell.efficiency_vs_ceiling_ci95
    if evc is None or ci is None:
        return False
    return ALLOWED[0] <= ci[0] <= 1.0 <= ci[1] <= ALLOWED[1]


def _wide(cell: Cell) -> bool:
    """Whether the speedup's interval is wider than ±CI_NOISY of it."""
    return bool(
        cell.speedup
        and cell.speedup_ci95
        and stats.half_width(cell.speedup_ci95) > CI_NOISY * cell.speedup
    )


def _varied(cell: Cell) -> bool:
    """Whether the cell's walls varied by a CV over CV_NOISY."""
    return cell.cv is not None and cell.cv > CV_NOISY


def _what_moved(cell: Cell, drift: float | None) -> list[str]:
    """Why the cell's figures moved, where the ceiling beside its repeats and the machine's own drift can tell;
    else what moved."""
    moved = (
        f"its walls varied by a CV of {cell.cv:.0%} (over {CV_NOISY:.0%})" if _varied(cell) else ""
    )
    if _wide(cell) and cell.speedup and cell.speedup_ci95:
        hw = stats.half_width(cell.speedup_ci95)
        moved = f"its speedup interval is ±{hw:.2f}, over {CI_NOISY:.0%} of {cell.speedup:.2f}"
    machine = (
        f"the machine's own solo speed moved by {drift:.0%} over these rounds" if drift else ""
    )
    evc, evc_ci, c, c_ci = (
        cell.efficiency_vs_ceiling,
        cell.efficiency_vs_ceiling_ci95,
        cell.ceiling,
        cell.ceiling_ci95,
    )
    if evc is None or evc_ci is None or c is None or c_ci is None:
        return [f"{moved}: {machine}" if machine and drift and drift > SPEED_DRIFT else moved]
    ceiling = f"its ceiling beside the same repeats was {c:.2f} {interval(*c_ci)}"
    against = f"{evc:.2f} {interval(*evc_ci)}"
    if _allowed(cell) or stats.half_width(evc_ci) <= CI_NOISY * evc:
        return [
            f"its speedup moved with the machine: {ceiling}, and against it the cell held at {against}"
        ]
    if drift is not None and drift > SPEED_DRIFT:
        return [
            f"{moved}: {machine}; against the machine ({ceiling}) the cell still moved: {against}"
        ]
    return [f"{moved}, while the machine held its speed ({ceiling}): the cell itself moved"]


def _disturbed(cell: Cell, cores: int) -> str:
    disturbed = [r for r in cell.repeats if r.disturbed]
    if not disturbed:
        return ""
    others = stats.median([r.interference.others_cores or 0.0 for r in disturbed])
    steal = stats.median([r.interference.steal_cores or 0.0 for r in disturbed])
    kept = sum(1 for r in cell.repeats if not r.dropped)
    what = f"other processes used {others:.1f} of {cores} cores"
    if steal >= 0.05:
        what += f" and the hypervisor stole {steal:.1f}"
    return f"{what} during {len(disturbed)} of {kept} repeats, and no quiet moment came"


def unsteady(
    cell: Cell, cores: int, drift: float | None = None
) -> tuple[tuple[str, ...], list[str]]:
    """The figures of a cell that cannot be true of its code, and why (see the module docstring).

    >>> c = Cell("fib", "python", "process", 2, 16, 25, "ok", speedup=2.3, efficiency=1.15, efficiency_ci95=(1.0, 1.3))
    >>> unsteady(c, 2)[0]
    ('speedup', 'efficiency')
    >>> unsteady(replace(c, speedup=1.9, efficiency=0.95, efficiency_ci95=(0.9, 1.0)), 2)
    ((), [])
    """
    figures = impossible(cell, cores)
    reasons: list[str] = []
    if "speedup" in figures:
        assert cell.efficiency is not None
        assert cell.speedup is not None
        ideal = stats.ideal(cell.workers, cell.tasks, cores)
        likely = (
            f"its solo speed moved by {drift:.0%} over these rounds (the reference's solo runs)"
            if drift is not None and drift > SPEED_DRIFT
            else "the serial baseline ran slow in its rounds"
        )
        reasons.append(
            f"its speedup {cell.speedup:.2f} is more than {ideal} worker{'s' if ideal > 1 else ''} on "
            f"{cores} cores can give (efficiency {cell.efficiency:.2f}): {TOO_UNSTEADY}; likely {likely}"
        )
    evc, evc_ci = cell.efficiency_vs_ceiling, cell.efficiency_vs_ceiling_ci95
    if "efficiency_vs_ceiling" in figures:
        assert evc is not None
        ci = f" {interval(*evc_ci)}" if evc_ci else ""
        reasons.append(
            f"it got {evc:.2f}{ci} of the machine's ceiling measured beside the same repeats, more than all of "
            f"it: {TOO_UNSTEADY}"
        )
    return figures, reasons
