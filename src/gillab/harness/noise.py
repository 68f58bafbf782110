"""A cell's speedup with its interval, and the flags that say when a figure is not to be trusted.

- A cell's speedup is the median over rounds of (serial wall in that round ÷ this cell's wall in that
  round), with a 95% bootstrap interval over those ratios (stats.bootstrap_ci, fixed seed); efficiency is
  speedup ÷ min(workers, tasks, usable cores), with the interval divided alike.
- A cell is flagged noisy, with its reason in words, when it kept a disturbed repeat, when its CV is over
  CV_NOISY, when its interval's half-width is over CI_NOISY of its speedup, or when its efficiency is over
  EFFICIENCY_IMPOSSIBLE.
"""

from __future__ import annotations

from dataclasses import replace

from gillab import stats
from gillab.harness.instruments import SPEED_DRIFT
from gillab.harness.results import Cell

CV_NOISY = 0.10
"""A cell whose coefficient of variation exceeds this is flagged noisy."""
CI_NOISY = 0.10
"""A cell whose speedup interval's half-width exceeds this share of its speedup is flagged noisy."""
EFFICIENCY_IMPOSSIBLE = 1.05
"""An efficiency above this cannot happen on a machine whose speed holds still: flagged, with the drift."""


def round_ratios(cell: Cell, serial: Cell) -> list[float]:
    """Per round, the serial wall ÷ this cell's wall (kept repeats of rounds both measured)."""
    mine = {r.round: r.wall_s for r in cell.repeats if not r.dropped}
    base = {r.round: r.wall_s for r in serial.repeats if not r.dropped}
    return [base[k] / mine[k] for k in sorted(mine) if k in base and mine[k] > 0]


def with_speedup(cell: Cell, serial: Cell | None, cores: int, drift: float | None = None) -> Cell:
    """Fill in speedup, efficiency and their intervals against the serial cell of the same impl; flag noise.

    With rounds, the speedup is the median of the per-round ratios; a cell measured outside rounds (one
    round each) falls back to the ratio of the medians.
    """
    if cell.status != "ok" or serial is None or serial.status != "ok" or not cell.median_wall_s:
        return flag_noise(cell, cores, drift)
    assert serial.median_wall_s is not None
    ratios = round_ratios(cell, serial)
    if len(ratios) >= 2:
        speedup = stats.median(ratios)
        ci = stats.bootstrap_ci(ratios)
    else:
        speedup = stats.speedup(serial.median_wall_s, cell.median_wall_s)
        ci = (speedup, speedup)
    ideal = stats.ideal(cell.workers, cell.tasks, cores)
    done = replace(
        cell,
        speedup=speedup,
        efficiency=speedup / ideal,
        speedup_ci95=ci,
        efficiency_ci95=(ci[0] / ideal, ci[1] / ideal),
    )
    return flag_noise(done, cores, drift)


def flag_noise(cell: Cell, cores: int, drift: float | None = None) -> Cell:
    """Set noisy and noise_reason from the cell's own figures (see the module docstring)."""
    if cell.status != "ok":
        return cell
    reasons = [r for r in (_disturbed(cell, cores), _varied(cell), _wide(cell), _impossible(cell, drift)) if r]
    return replace(cell, noisy=bool(reasons), noise_reason="; ".join(reasons))


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


def _varied(cell: Cell) -> str:
    if cell.cv is not None and cell.cv > CV_NOISY:
        return f"its walls varied by a CV of {cell.cv:.0%} (over {CV_NOISY:.0%})"
    return ""


def _wide(cell: Cell) -> str:
    if cell.speedup and cell.speedup_ci95 and stats.half_width(cell.speedup_ci95) > CI_NOISY * cell.speedup:
        hw = stats.half_width(cell.speedup_ci95)
        return f"its speedup interval is ±{hw:.2f}, over {CI_NOISY:.0%} of {cell.speedup:.2f}"
    return ""


def _impossible(cell: Cell, drift: float | None) -> str:
    if cell.efficiency is None or cell.efficiency <= EFFICIENCY_IMPOSSIBLE:
        return ""
    likely = (
        f"the machine's own speed drifted by {drift:.0%} during the run (speed probe)"
        if drift is not None and drift > SPEED_DRIFT
        else "the serial baseline ran slow in its rounds"
    )
    return (
        f"its efficiency {cell.efficiency:.2f} is above {EFFICIENCY_IMPOSSIBLE}, impossible on a machine "
        f"that holds its speed; likely {likely}"
    )
