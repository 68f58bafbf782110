"""sharing: what still serialises threads without the GIL, each broken pattern beside its fix
(gillab.workloads.patterns). A task is a loop of `size` steps; it returns the steps it took."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from gillab.workloads import patterns
from gillab.workloads.base import Impl, Workload

PAIRS = (
    ("shared-dict", "own-dict"),
    ("lock-per-update", "partial-sums"),
    ("shared-list", "own-list"),
    ("shared-object", "own-object"),
    ("cyclic-garbage", "acyclic"),
)
"""Each broken pattern and its fix, in the order the lesson gives them."""


def patterns_module() -> ModuleType:
    """The sharing workload's Python code."""
    return patterns


@dataclass(frozen=True)
class Sharing(Workload):
    """A task runs `size` steps of its pattern and returns `size`."""

    def task(self, func: Callable[..., Any], module: ModuleType, size: int) -> Callable[[], Any]:
        return lambda: func(size)

    def expected(self, size: int) -> Any:
        return size

    def check_size(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"size must be at least 1 for {self.name}, got {size}")


def _impl(name: str) -> Impl:
    return Impl(name, patterns_module, name.replace("-", "_"))


WORKLOAD = Sharing(
    name="sharing",
    impls=tuple(_impl(name) for pair in PAIRS for name in pair),
    default_impls=tuple(name for pair in PAIRS for name in pair),
    calibration_start=10_000,
    size_limits=(100, 10**9),
)
