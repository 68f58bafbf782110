"""What a workload is: its impls, its reference result, its sizes and its calibration, in one object.

Adding a workload means one module that defines a :class:`Workload` subclass and its instance, and one line
in ``gillab.workloads.REGISTRY``. The harness, the calibration, bench/ and the labs ask that object and never
test a workload's name.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from gillab import _native
from gillab.workloads import pure

Loader = Callable[[], ModuleType]


def python_module() -> ModuleType:
    """The pure-Python impls (gillab.workloads.pure)."""
    return pure


def nogil_module() -> ModuleType:
    """The compiled kernels that release the GIL; NotBuiltError when not built."""
    return _native.kernels("cython-nogil")


def gil_module() -> ModuleType:
    """The compiled kernels that hold the GIL; NotBuiltError when not built."""
    return _native.kernels("cython-gil")


def nogil_counter_module() -> ModuleType:
    """The compiled shared-counter kernels that release the GIL; NotBuiltError when not built."""
    return _native.counter_kernels("cython-nogil")


def gil_counter_module() -> ModuleType:
    """The compiled shared-counter kernels that hold the GIL; NotBuiltError when not built."""
    return _native.counter_kernels("cython-gil")


@dataclass(frozen=True)
class Impl:
    """One impl of a workload: the module that holds it and the function's name there."""

    name: str
    module: Loader
    attr: str


@dataclass(frozen=True)
class Workload:
    """One workload. Subclasses define how a task runs, what it must return and how its size is checked."""

    name: str
    impls: tuple[Impl, ...]
    default_impls: tuple[str, ...]
    """The headline impls `gillab run` compares when --impl is not given."""
    calibration_start: int
    """The size calibration tries first."""
    size_limits: tuple[int, int]
    """The smallest and largest size calibration may pick."""
    step_growth: float | None = None
    """Time grows by this factor per step of size (fib: the golden ratio); None: time is linear in size."""
    shared_counter: bool = False
    """Tasks add to one counter per module (reset()/value()), so lost updates can be counted."""
    exact_impls: frozenset[str] = field(default_factory=frozenset)
    """Counter impls that never lose an update, whatever the interpreter."""
    exact_with_gil: frozenset[str] = field(default_factory=frozenset)
    """Counter impls that lose no update while a GIL exists to hold."""

    def impl(self, name: str) -> Impl:
        """Return the named impl; ValueError listing the valid names otherwise."""
        for i in self.impls:
            if i.name == name:
                return i
        raise ValueError(
            f"unknown impl {name!r} for {self.name}; choose from {', '.join(self.impl_names)}"
        )

    @property
    def impl_names(self) -> tuple[str, ...]:
        """Every impl's name, built or not."""
        return tuple(i.name for i in self.impls)

    def check_size(self, size: int) -> None:
        """Raise ValueError unless size is valid for this workload (default: any size >= 0)."""
        if size < 0:
            raise ValueError(f"size must be >= 0 for {self.name}, got {size}")

    def task(self, func: Callable[..., Any], module: ModuleType, size: int) -> Callable[[], Any]:
        """Return a no-argument callable that runs one task of this size with func (from module)."""
        raise NotImplementedError

    @property
    def label(self) -> str:
        """How a reader sees the workload's name."""
        return self.name

    @property
    def fixed_tasks(self) -> int | None:
        """The number of tasks a cell must run, where the workload fixes it (one per input); else None."""
        return None

    def payloads(self, size: int, tasks: int) -> list[Any] | None:
        """Each task's input, sent with its call (None: the workers build their tasks themselves)."""
        return None

    def task_with(
        self, func: Callable[..., Any], module: ModuleType, size: int, payload: Any
    ) -> Callable[[], Any]:
        """Return the task that runs on this payload (for a workload with payloads)."""
        return self.task(func, module, size)

    def mismatch(self, index: int, result: Any, want: Any) -> str:
        """The one line of a cell whose task `index` returned the wrong result."""
        return f"wrong result: task {index} returned {result!r}, the python impl gives {want!r}"

    def expected(self, size: int) -> Any:
        """Return what one task must return, by the reference definition."""
        raise NotImplementedError

    def agrees(self, result: Any, want: Any) -> bool:
        """Return whether a task's result matches the reference (default: equality)."""
        return bool(result == want)

    def time_ratio(self, from_size: int, to_size: int) -> float:
        """Return how many times longer a task of to_size takes than one of from_size (the growth model)."""
        if self.step_growth is not None:
            return float(self.step_growth ** (to_size - from_size))
        return to_size / max(1, from_size)

    def scale_size(self, size: int, ratio: float) -> int:
        """Return the size whose task takes about ratio times as long as one of this size, within the limits."""
        lo, hi = self.size_limits
        if self.step_growth is not None:
            new = size + round(math.log(ratio) / math.log(self.step_growth))
        else:
            new = round(size * ratio)
        return max(lo, min(hi, new))
