"""counter: add 1 to one shared counter k times; threads that share it may lose updates."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from gillab.workloads.base import (
    Impl,
    Workload,
    gil_counter_module,
    nogil_counter_module,
    python_module,
)


@dataclass(frozen=True)
class Counter(Workload):
    """A task adds size to its module's counter; it returns how far the counter moved while it ran."""

    def task(self, func: Callable[..., Any], module: ModuleType, size: int) -> Callable[[], Any]:
        value = module.value

        def count() -> int:
            before = value()
            func(size)
            return int(value() - before)

        return count

    def expected(self, size: int) -> Any:
        return size


WORKLOAD = Counter(
    name="counter",
    impls=(
        Impl("python", python_module, "add"),
        Impl("python-rcw", python_module, "add_rcw"),
        Impl("python-lock", python_module, "add_locked"),
        Impl("cython-gil", gil_counter_module, "add_unsync"),
        Impl("cython-nogil", nogil_counter_module, "add_unsync"),
        Impl("cython-atomic", nogil_counter_module, "add_atomic"),
        Impl("cython-mutex", nogil_counter_module, "add_mutex"),
    ),
    default_impls=("python", "python-lock", "cython-gil", "cython-nogil", "cython-atomic"),
    calibration_start=10_000,
    size_limits=(1, 10**12),
    shared_counter=True,
    exact_impls=frozenset({"python-lock", "cython-atomic", "cython-mutex"}),
    exact_with_gil=frozenset({"cython-gil"}),
)
