"""One task of a workload at a given size: its inputs, its run, and its yardstick.

The harness calls :func:`job` in whatever worker runs the task and :func:`expected`
once in the parent; it never needs to know what a workload computes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cache
from typing import Any

from gillab._domain import check_fib_n
from gillab.workloads import kernel, pure

SUMSQ_ARRAY_LEN = 1 << 20
"""sumsq tasks walk a 1 Mi-element (8 MiB) array, wrapping round it, so that size is not bounded by memory."""

SIZE_MEANING = {
    "fib": "n of fib(n)",
    "counter": "increments per task",
    "sumsq": "elements summed per task",
}


@cache
def _array() -> Any:
    import numpy as np

    return np.random.default_rng(2026).standard_normal(SUMSQ_ARRAY_LEN)


def _chunks(size: int) -> list[tuple[int, int]]:
    full, rest = divmod(size, SUMSQ_ARRAY_LEN)
    out = [(0, SUMSQ_ARRAY_LEN)] * full
    if rest:
        out.append((0, rest))
    return out


def check_size(workload: str, size: int) -> None:
    """Raise ValueError unless size is valid for the workload."""
    if workload == "fib":
        check_fib_n(size)
    elif size < 0:
        raise ValueError(f"size must be >= 0 for {workload}, got {size}")


@cache
def job(workload: str, impl: str, size: int) -> Callable[[], Any]:
    """Return a no-argument callable that runs one task; its return value is checked against :func:`expected`."""
    check_size(workload, size)
    k = kernel(workload, impl)
    func = k.func
    if workload == "fib":
        return lambda: func(size)
    if workload == "counter":
        value = k.value
        assert value is not None

        def count() -> int:
            before = value()
            func(size)
            return value() - before

        return count
    array = _array()
    chunks = _chunks(size)
    return lambda: sum(func(array, start, stop) for start, stop in chunks)


@cache
def expected(workload: str, size: int) -> Any:
    """Return the result one task must produce, computed by the reference (pure-Python) definition."""
    check_size(workload, size)
    if workload == "fib":
        return pure.fib_reference(size)
    if workload == "counter":
        return size
    return math.fsum(_chunk_reference(a, b) for a, b in _chunks(size))


@cache
def _chunk_reference(start: int, stop: int) -> float:
    """The reference sum of one chunk; the chunks of a task repeat, so each is computed once."""
    return pure.sumsq_reference(_array(), start, stop)


def agrees(workload: str, result: Any, want: Any) -> bool:
    """Return whether a task's result matches the reference (floats to 1e-9 relative: summation order differs)."""
    if workload == "sumsq":
        return math.isclose(result, want, rel_tol=1e-9, abs_tol=0.0)
    return bool(result == want)
