"""The group fib-dask: what dask.distributed adds per task, and dask-processes' efficiency at 2 workers.

Skipped without the extra (pip install -e '.[dask]').
"""

from __future__ import annotations

from typing import Any

import pytest

from gillab import environment, stats
from gillab.harness import engines
from gillab.harness.runner import CellSession

pytestmark = pytest.mark.skipif(engines.unavailable() is not None, reason=engines.unavailable() or "")
ROUNDS = 5
EMPTY = 50


def test_dask_per_task_overhead(benchmark: Any, dask_log: dict[str, float]) -> None:
    """50 empty tasks through a 2-process local cluster: the engine's own cost per task."""
    benchmark.group = "fib-dask"
    ex = engines.make("dask-processes", 2)
    ex._create()
    try:
        calls = [(engines._empty, ())] * EMPTY
        ex.run(calls)
        benchmark.pedantic(ex.run, args=(calls,), rounds=ROUNDS, iterations=1)
    finally:
        ex.shutdown()
    benchmark.extra_info.update(tasks=EMPTY, per_task_ms=benchmark.stats.stats.median / EMPTY * 1e3)
    dask_log["per_task_ms"] = benchmark.extra_info["per_task_ms"]


def test_dask_processes_efficiency_at_2_workers(benchmark: Any, baseline: Any, dask_log: dict[str, float]) -> None:
    """python fib on 2 dask worker processes against the serial median of the same tasks."""
    benchmark.group = "fib-dask"
    size, serial = baseline("fib", "python")
    cs = CellSession("fib", "python", "dask-processes", 2, 2, size)
    cs.start()
    try:
        benchmark.pedantic(cs.run_once, rounds=ROUNDS, iterations=1)
    finally:
        cs.close()
    ratios = [serial / r.wall_s for r in cs.repeats if r.wall_s > 0]
    speedup = stats.median(ratios)
    ideal = stats.ideal(2, 2, environment.usable_cores())
    benchmark.extra_info.update(
        size=size,
        speedup=speedup,
        speedup_ci95=stats.bootstrap_ci(ratios),
        efficiency=speedup / ideal,
        per_task_overhead_ms=(cs.ex.overhead_s or 0.0) * 1e3,
    )
    dask_log.update(processes_speedup_w2=speedup, processes_efficiency_w2=speedup / ideal)
