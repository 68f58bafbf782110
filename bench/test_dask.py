"""The group fib-dask: what dask.distributed adds per task, and dask-processes' efficiency at 2 workers.

Skipped without the extra (pip install -e '.[dask]').
"""

from __future__ import annotations

from typing import Any

import pytest

from gillab.harness.executors import dask as engines
from gillab.harness.session import CellSession

pytestmark = pytest.mark.skipif(
    engines.unavailable() is not None, reason=engines.unavailable() or ""
)
ROUNDS = 5
EMPTY = 50


def test_dask_per_task_overhead(benchmark: Any, dask_log: dict[str, float]) -> None:
    """50 empty tasks through a 2-process local cluster: the engine's own cost per task."""
    benchmark.group = "fib-dask"
    ex = engines.DaskProcessesExecutor(2)
    ex._create()
    try:
        calls = [(engines.empty_task, ())] * EMPTY
        ex.run(calls)
        benchmark.pedantic(ex.run, args=(calls,), rounds=ROUNDS, iterations=1)
    finally:
        ex.shutdown()
    benchmark.extra_info.update(tasks=EMPTY, per_task_ms=benchmark.stats.stats.median / EMPTY * 1e3)
    dask_log["per_task_ms"] = benchmark.extra_info["per_task_ms"]


def test_dask_processes_efficiency_at_2_workers(
    benchmark: Any, sized: Any, timed: Any, dask_log: dict[str, float]
) -> None:
    """python fib on 2 dask worker processes against the serial cell of the same tasks, round by round."""
    benchmark.group = "fib-dask"
    size = sized("fib", "python")
    with CellSession("fib", "python", "dask-processes", 2, 2, size) as cs:
        rounds = timed(cs)
        benchmark.pedantic(cs.run_once, **rounds.kwargs())
    cell = rounds.cell()
    benchmark.extra_info.update(
        size=size,
        speedup=cell.speedup,
        speedup_ci95=cell.speedup_ci95,
        efficiency=cell.efficiency,
        noisy=cell.noisy,
        noise_reason=cell.noise_reason,
        parallelism=cell.parallelism,
        ceiling=cell.ceiling,
        efficiency_vs_ceiling=cell.efficiency_vs_ceiling,
        per_task_overhead_ms=(cs.ex.overhead_s or 0.0) * 1e3,
    )
    dask_log.update(processes_speedup_w2=cell.speedup, processes_efficiency_w2=cell.efficiency)
