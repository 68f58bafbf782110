"""The harness's own cost per task, against a raw ThreadPoolExecutor.map of the same near-empty task."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from gillab.errors import GillabError
from gillab.harness.gilstate import BUDGET, unavailable
from gillab.harness.session import CellSession
from gillab.stats import median
from gillab.workloads import resolve

TASKS = 2000


@pytest.fixture
def empty_task() -> Any:
    try:
        return resolve("counter", "cython-atomic")
    except GillabError as exc:
        pytest.skip(str(exc))


def test_raw_threadpool_map(
    benchmark: Any, empty_task: Any, overhead_log: dict[str, float]
) -> None:
    benchmark.group = "overhead-thread"
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(empty_task, [0] * 4))
        benchmark.pedantic(lambda: list(pool.map(empty_task, [0] * TASKS)), rounds=5, iterations=1)
    benchmark.extra_info["tasks"] = TASKS
    overhead_log.update(raw=benchmark.stats.stats.median, tasks=TASKS)


def test_harness_run_once(benchmark: Any, empty_task: Any, overhead_log: dict[str, float]) -> None:
    benchmark.group = "overhead-thread"
    cs = CellSession("counter", "cython-atomic", "thread", 2, TASKS, 0)
    cs.start()
    try:
        benchmark.pedantic(cs.run_once, kwargs={"release_delay_s": 0.0}, rounds=5, iterations=1)
    finally:
        cs.close()
    benchmark.extra_info["tasks"] = TASKS
    overhead_log["harness"] = benchmark.stats.stats.median


def test_interference_reads_of_one_repeat(benchmark: Any) -> None:
    """What measuring interference adds to every repeat: two /proc/stat reads and the arithmetic."""
    from gillab.harness import interference

    if not interference.available():
        pytest.skip(interference.UNAVAILABLE)
    benchmark.group = "overhead-round"

    def one_repeat() -> object:
        a = interference.snapshot()
        return interference.between(a, interference.snapshot(), 0.0, 0.1)

    benchmark(one_repeat)


def test_reference_beside_one_repeat(benchmark: Any) -> None:
    """What the machine's reference adds after every repeat of a 2-worker cell (one unit on 2 threads)."""
    from gillab.harness.ceiling import Reference

    benchmark.group = "overhead-round"
    reference = Reference()
    benchmark.pedantic(reference.measure, args=(0, 0, "thread", 2, False), rounds=5, iterations=1)
    benchmark.extra_info.update(unit_s=reference.n_seconds, kernel=reference.kernel)


SAMPLER_CASES = {
    "off": (None, 0.0),
    "5 kHz, no budget": (0.0002, 0.0),
    "10 kHz, no budget": (0.0001, 0.0),
    "10 kHz, governed": (0.0001, BUDGET),
}
"""What the GIL-state sampler costs: off, at fixed rates, and at the default rate under its CPU budget."""


@pytest.mark.parametrize("label", list(SAMPLER_CASES))
def test_gil_state_sampler(
    benchmark: Any, label: str, sampler_log: dict[str, tuple[float, float, float]]
) -> None:
    """A python-threads cell's wall with the GIL-state sampler off and on, and the sampler's CPU share."""
    if unavailable():
        pytest.skip(unavailable())
    interval, budget = SAMPLER_CASES[label]
    benchmark.group = "overhead-gil-sampler"
    cs = CellSession(
        "fib", "python", "thread", 2, 2, 27, gil_interval_s=interval, gil_budget=budget
    )
    cs.start()
    try:
        benchmark.pedantic(cs.run_once, kwargs={"release_delay_s": 0.0}, rounds=7, iterations=1)
    finally:
        cs.close()
    states = [r.gil for r in cs.repeats if r.gil is not None and r.gil.available]
    share = median([g.overhead for g in states if g.overhead is not None]) if states else 0.0
    hz = median([1 / g.interval_s for g in states if g.interval_s]) if states else 0.0
    walls = [r.wall_s for r in cs.repeats]
    benchmark.extra_info.update(cpu_share=share, sampled_hz=hz, cell_wall_median_s=median(walls))
    sampler_log[label] = (median(walls), share, hz)
