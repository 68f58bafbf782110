"""Pick each impl's task size so that one task takes about the target time on this machine."""

from __future__ import annotations

import math
import time

from gillab.workloads.base import Workload
from gillab.workloads.jobs import job

ENGINE_SHARE = 0.10
"""An engine's own cost per task (empty tasks) at or above this share of a task's time explains a shortfall;
where the user did not fix the size, tasks are sized so that it stays below (:func:`engine_target_s`)."""
SIZED_SHARE = ENGINE_SHARE / 2
"""The share of a task an engine's cost, measured before the run, is sized to: half of ENGINE_SHARE, since the
cost grows in the run, beside the impl's other cells (3.4 ms on a fresh cluster, 4.3 ms in the run, here)."""
MAX_TARGET_S = 0.1
"""The longest a calibrated task is made, however much an engine costs per task."""


def engine_target_s(target_s: float, cost_s: float | None) -> float:
    """The time a calibrated task is sized for: target_s, or longer, so that an engine's own cost per task
    (cost_s) is SIZED_SHARE of it, up to MAX_TARGET_S.

    >>> engine_target_s(0.015, None), engine_target_s(0.015, 0.0005), round(engine_target_s(0.015, 0.0034), 3)
    (0.015, 0.015, 0.068)
    >>> engine_target_s(0.015, 0.05)
    0.1
    """
    if not cost_s:
        return target_s
    return max(target_s, min(MAX_TARGET_S, cost_s / SIZED_SHARE))


def time_task(workload: str, impl: str, size: int) -> float:
    """Return the best of three timings of one task, in seconds."""
    run = job(workload, impl, size)
    best = math.inf
    for _ in range(3):
        t0 = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - t0)
    return best


def estimate_task_s(w: Workload, impl: str, size: int) -> float:
    """Return a task's time at `size` without running one that large: time a task big enough to rise above
    noise (as calibration does), then scale it by the workload's growth model."""
    probe = w.calibration_start
    t = time_task(w.name, impl, probe)
    for _ in range(8):
        if t >= 0.002 or probe >= size:
            break
        probe = min(size, w.scale_size(probe, 0.005 / max(t, 1e-7)))
        t = time_task(w.name, impl, probe)
    return t * w.time_ratio(probe, size)


def pick_size(w: Workload, impl: str, target_s: float = 0.08) -> tuple[int, float]:
    """Return (size, seconds per task) with the task time as near target_s as the workload's steps allow."""
    size = w.calibration_start
    top = w.size_limits[1]
    t = time_task(w.name, impl, size)
    for _ in range(8):
        if t >= 0.002 or size >= top:
            break
        size = w.scale_size(size, 0.005 / max(t, 1e-7))  # grow until timings rise above noise
        t = time_task(w.name, impl, size)
    for _ in range(4):
        new = w.scale_size(size, target_s / max(t, 1e-9))
        if new == size:
            break
        size, t = new, time_task(w.name, impl, new)
        if 0.6 * target_s <= t <= 1.6 * target_s:
            break
    return size, t
