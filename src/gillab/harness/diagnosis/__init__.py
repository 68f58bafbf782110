"""Why threads that no GIL holds back still fall short of the machine's ceiling, measured, not guessed.

For a cell whose workers run at once with no GIL shared between them (threads of a free-threaded build running
without its GIL, and interpreters with a GIL each), the shortfall from the machine's own ceiling splits, round
by round, into:

- **waiting**: the share of the cores the workers could use (the fewest of workers, tasks, and the cores other
  processes left them) that stood idle while they ran: 1 − cores busy ÷ that;
- **contention**: how much slower each busy core ran than the machine's own reference on as many threads in
  the same round (gillab.harness.ceiling.core_speeds): 1 − the cell's core speed ÷ the reference's. Threads
  that fight over one object's lock and cache lines keep their cores busy at a fraction of their speed;
- **the stop-the-world collector**: the share of the wall this interpreter's cycle collector ran (gc.callbacks
  in the workers' interpreter), with the collections counted. On a free-threaded build every other thread
  stops while one collects: its cores wait;
- **the GIL back on**: a free-threaded build whose GIL an import turned back on.

The cell's speedup ÷ its ceiling is about (cores busy ÷ N) × (core speed ÷ the reference's), so waiting and
contention multiply, and the larger of −ln(1 − each) is the larger part of the shortfall. That part is named,
with its figure; waiting is named as the collector's where the collector ran for COLLECTOR or more of the wall.
A collector that ran that long is ranked beside contention too, by its share of the wall: its own work runs on
the threads' cores, so the core speed they lost while it ran is as much the collector's as contention's
(cyclic garbage on 3.14t: the collector ran 83-88% of the wall, and its threads' cores read 0.8 of their solo
speed, or less on a busier machine). Contention is named over it only where it lost more.
A part is named only where its median passes its threshold and its interval's lower end is above 0 (each
figure has its 95% interval, as every figure does). Where no part is, or the cell got all the machine allowed,
the shortfall is within the machine's own noise, and no cause is named.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace

from gillab import stats
from gillab.harness.noise import PerRound
from gillab.harness.records import Cause
from gillab.harness.results import Cell, Diagnosis

WAITING = 0.25
"""Idle cores, as a share of those the workers could use, above which waiting is named (on 2 cores: fewer than
1.5 busy). Threads of code that share nothing kept 1.72-1.82 of 2 cores busy on 3.14t here (waiting 0.09-0.14),
one shared dict 1.41 (0.29), cyclic garbage 1.21 (0.40)."""
CONTENTION = 0.25
"""Core speed lost against the machine's own reference, as a share, above which contention is named. On the
2-core VM gillab is built on, one round's core speed moves by up to 0.2 with the VM (partial sums, which share
one lock taken once, read 0.21 [0.06-0.37] in one run); one shared dict, object or list, or a lock taken per
update, lost 0.41-0.68."""
COLLECTOR = 0.05
"""The collector's share of the wall at which waiting is named as the collector's."""


def applies(cell: Cell, gil_enabled: bool) -> bool:
    """Whether a cell's workers run at once with no GIL shared between them, in this process: threads without
    a GIL, or interpreters with one each (processes are not diagnosed: their workers share nothing)."""
    ex = cell.kind
    if not cell.ok or ex.baseline or cell.workers < 2 or not ex.same_process:
        return False
    return (ex.shares_gil and not gil_enabled) or ex.gil_per_worker


def _estimate(xs: Sequence[float]) -> tuple[float | None, tuple[float, float] | None]:
    return (stats.median(xs), stats.bootstrap_ci(xs)) if xs else (None, None)


def _passes(x: float | None, ci: tuple[float, float] | None, threshold: float) -> bool:
    return x is not None and x > threshold and (ci is None or ci[0] > 0)


def _loss(share: float | None) -> float:
    return -math.log(max(1e-9, 1 - share)) if share is not None and share > 0 else 0.0


def cause_of(d: Diagnosis, allowed: bool = False) -> Cause:
    """The part to name: the GIL back on, else the largest of waiting and contention, where it passes its
    threshold, and the collector's share of the wall, where it ran for COLLECTOR or more of it (waiting is then
    named as the collector's); else the machine's noise."""
    if d.gil_on:
        return Cause.GIL
    waits = _passes(d.waiting, d.waiting_ci95, WAITING)
    contends = _passes(d.contention, d.contention_ci95, CONTENTION)
    if allowed or not (waits or contends):
        return Cause.NOISE
    collects = (d.collector_share or 0.0) >= COLLECTOR
    rivals = max(_loss(d.waiting) if waits else 0.0, _loss(d.collector_share) if collects else 0.0)
    if contends and _loss(d.contention) > rivals:
        return Cause.CONTENTION
    return Cause.COLLECTOR if collects else Cause.WAITING


def _usable(cell: Cell, cores: int) -> float:
    """The cores the workers could use: the fewest of workers, tasks and the cores other processes left them
    (a core another process took is not one the workers left idle)."""
    left = cell.available_cores if cell.available_cores is not None else float(cores)
    return max(1.0, min(float(cell.workers), float(cell.tasks), left))


def diagnose(
    cell: Cell, fig: PerRound, machine: Mapping[int, float], cores: int, gil_on: str = ""
) -> Diagnosis:
    """A cell's diagnosis from its per-round figures (gillab.harness.noise.rounds_of), the machine's own core
    speed per round (gillab.harness.ceiling.core_speeds) and the collector's time in its repeats."""
    ideal = _usable(cell, cores)
    waiting, waiting_ci = _estimate([1 - p / ideal for p in fig.parallelism.values()])
    speed, _ = _estimate(list(fig.core_speed.values()))
    both = [r for r in fig.core_speed if r in machine and machine[r] > 0]
    mspeed, mspeed_ci = _estimate([machine[r] for r in both])
    contention, contention_ci = _estimate([1 - fig.core_speed[r] / machine[r] for r in both])
    kept = [r for r in cell.repeats if not r.dropped and r.gc_s is not None and r.wall_s > 0]
    share, share_ci = _estimate([(r.gc_s or 0.0) / r.wall_s for r in kept])
    count, _ = _estimate([float(r.gc_collections or 0) for r in kept])
    notes = []
    if not kept:
        notes.append(
            "the collector was not timed: each interpreter collects its own garbage, and stops no other worker"
            if cell.kind.gil_per_worker
            else "the collector was not timed here"
        )
    if not both:
        notes.append("contention was not measured: no reference ran beside these rounds")
    d = Diagnosis(
        cause=Cause.NOISE,
        ideal=ideal,
        cores_busy=cell.parallelism,
        waiting=waiting,
        waiting_ci95=waiting_ci,
        core_speed=speed,
        machine_core_speed=mspeed,
        machine_core_speed_ci95=mspeed_ci,
        contention=contention,
        contention_ci95=contention_ci,
        collector_share=share,
        collector_share_ci95=share_ci,
        collections=count,
        gil_on=gil_on,
        note="; ".join(notes),
    )
    return replace(d, cause=cause_of(d, allowed=bool(cell.against_ceiling)))


def from_figures(
    ideal: float,
    cores_busy: float,
    core_speed: float | None,
    machine_core_speed: float | None,
    collector_s: float | None,
    collections: int | None,
    wall_s: float,
) -> Diagnosis:
    """A diagnosis from one measurement's figures, without rounds (gillab check's threads at their most):
    waiting, contention against the machine's core speed measured right after, the collector's share."""
    contention = 1 - core_speed / machine_core_speed if core_speed and machine_core_speed else None
    share = collector_s / wall_s if collector_s is not None and wall_s > 0 else None
    d = Diagnosis(
        cause=Cause.NOISE,
        ideal=ideal,
        cores_busy=cores_busy,
        waiting=1 - cores_busy / ideal,
        core_speed=core_speed,
        machine_core_speed=machine_core_speed,
        contention=contention,
        collector_share=share,
        collections=float(collections) if collections is not None else None,
        note="" if contention is not None else "contention was not measured: no reference ran",
    )
    return replace(d, cause=cause_of(d))
