"""sumsq(a, start, stop): the sum of squares of a float64 array slice, a memory-walking array kernel."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from types import ModuleType
from typing import Any

from gillab.workloads import pure
from gillab.workloads.base import Impl, Workload, gil_module, nogil_module, python_module

ARRAY_LEN = 1 << 20
"""Tasks walk a 1 Mi-element (8 MiB) array, wrapping round it, so that size is not bounded by memory."""


@cache
def array() -> Any:
    """The array every task walks (seeded, so every worker and the reference see the same numbers)."""
    import numpy as np

    return np.random.default_rng(2026).standard_normal(ARRAY_LEN)


def chunks(size: int) -> list[tuple[int, int]]:
    """Return the (start, stop) slices that make up `size` elements, wrapping round the array."""
    full, rest = divmod(size, ARRAY_LEN)
    out = [(0, ARRAY_LEN)] * full
    if rest:
        out.append((0, rest))
    return out


@cache
def _chunk_reference(start: int, stop: int) -> float:
    """The reference sum of one chunk; the chunks of a task repeat, so each is computed once."""
    return pure.sumsq_reference(array(), start, stop)


@dataclass(frozen=True)
class SumSq(Workload):
    """A task sums the squares of `size` elements; it must match math.fsum to 1e-9 relative."""

    def task(self, func: Callable[..., Any], module: ModuleType, size: int) -> Callable[[], Any]:
        a = array()
        parts = chunks(size)
        return lambda: sum(func(a, start, stop) for start, stop in parts)

    def expected(self, size: int) -> Any:
        return math.fsum(_chunk_reference(a, b) for a, b in chunks(size))

    def agrees(self, result: Any, want: Any) -> bool:
        # floats to 1e-9 relative: the impls sum in different orders
        return math.isclose(result, want, rel_tol=1e-9, abs_tol=0.0)


WORKLOAD = SumSq(
    name="sumsq",
    impls=(
        Impl("python", python_module, "sumsq"),
        Impl("numpy", python_module, "sumsq_numpy"),
        Impl("cython-gil", gil_module, "sumsq"),
        Impl("cython-nogil", nogil_module, "sumsq"),
    ),
    default_impls=("python", "numpy", "cython-gil", "cython-nogil"),
    calibration_start=10_000,
    size_limits=(1, 10**12),
)
