"""Pick each impl's task size so that one task takes about the target time on this machine."""

from __future__ import annotations

import math
import time

from gillab.workloads.jobs import job

PHI = (1 + 5**0.5) / 2
START = {"fib": 20, "counter": 10_000, "sumsq": 10_000}
LIMITS = {"fib": (3, 92), "counter": (1, 10**12), "sumsq": (1, 10**12)}
TASK_WINDOW_S = (0.05, 0.2)
"""The spread of task times the matrix aims for (the target sits inside it)."""


def time_task(workload: str, impl: str, size: int) -> float:
    """Return the best of three timings of one task, in seconds."""
    run = job(workload, impl, size)
    best = math.inf
    for _ in range(3):
        t0 = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - t0)
    return best


def _scale(workload: str, size: int, ratio: float) -> int:
    lo, hi = LIMITS[workload]
    # fib's time grows by PHI per step of n; the others grow linearly.
    new = size + round(math.log(ratio) / math.log(PHI)) if workload == "fib" else round(size * ratio)
    return max(lo, min(hi, new))


def pick_size(workload: str, impl: str, target_s: float = 0.08) -> tuple[int, float]:
    """Return (size, seconds per task) with the task time as near target_s as the workload's steps allow."""
    size = START[workload]
    t = time_task(workload, impl, size)
    for _ in range(8):
        if t >= 0.002 or size >= LIMITS[workload][1]:
            break
        size = _scale(workload, size, 0.005 / max(t, 1e-7))  # grow until timings rise above noise
        t = time_task(workload, impl, size)
    for _ in range(4):
        new = _scale(workload, size, target_s / max(t, 1e-9))
        if new == size:
            break
        size, t = new, time_task(workload, impl, new)
        if 0.6 * target_s <= t <= 1.6 * target_s:
            break
    return size, t
