"""fib(n): the recursive Fibonacci of the course, CPU-bound with no shared state."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from gillab._domain import check_fib_n
from gillab.workloads import pure
from gillab.workloads.base import Impl, Workload, gil_module, nogil_module, python_module

PHI = (1 + 5**0.5) / 2
"""fib's time grows by the golden ratio per step of n."""


@dataclass(frozen=True)
class Fib(Workload):
    """A task is fib(size); it must return the exact Fibonacci number."""

    def check_size(self, size: int) -> None:
        check_fib_n(size)

    def task(self, func: Callable[..., Any], module: ModuleType, size: int) -> Callable[[], Any]:
        return lambda: func(size)

    def expected(self, size: int) -> Any:
        return pure.fib_reference(size)


WORKLOAD = Fib(
    name="fib",
    impls=(
        Impl("python", python_module, "fib"),
        Impl("cython-gil", gil_module, "fib"),
        Impl("cython-nogil", nogil_module, "fib"),
    ),
    default_impls=("python", "cython-gil", "cython-nogil"),
    calibration_start=20,
    size_limits=(3, 92),
    step_growth=PHI,
)
