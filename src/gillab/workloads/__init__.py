"""The workloads and their impls: what the harness runs, never how.

Each workload is one module (fib, counter, sumsq, sharing) defining a :class:`~gillab.workloads.base.Workload`;
REGISTRY lists them. Adding a workload means one new module and one line here.

>>> from gillab.workloads import resolve
>>> resolve("fib", "python")(10)
55
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gillab import environment
from gillab.errors import GillabError
from gillab.workloads import counter, fib, sharing, sumsq, target
from gillab.workloads.base import Workload

REGISTRY: dict[str, Workload] = {
    w.name: w for w in (fib.WORKLOAD, counter.WORKLOAD, sumsq.WORKLOAD, sharing.WORKLOAD)
}
WORKLOADS = tuple(REGISTRY)


def get(name: str) -> Workload:
    """Return the named workload (a target workload is named by its spec); ValueError listing the valid names
    otherwise."""
    if name.startswith(target.PREFIX):
        return target.workload(name)
    try:
        return REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown workload {name!r}; choose from {', '.join(WORKLOADS)}") from None


def label(workload: str) -> str:
    """How a reader sees a workload's name (a target's callable, not its encoded spec); an unknown name as is."""
    try:
        return get(workload).label
    except ValueError:  # a results file from another gillab
        return workload


def impls(workload: str) -> tuple[str, ...]:
    """Return every impl name of a workload, built or not."""
    return get(workload).impl_names


def exact_counters(workload: str = "counter") -> frozenset[str]:
    """Return the impls of a shared-counter workload that lose no update here (GIL-held ones while a GIL exists)."""
    w = get(workload)
    return w.exact_impls | w.exact_with_gil if environment.gil_enabled() else w.exact_impls


@dataclass(frozen=True)
class Kernel:
    """One impl of one workload, with the shared state it touches (shared-counter workloads only)."""

    workload: str
    impl: str
    func: Callable[..., Any]
    releases_gil: bool | None
    reset: Callable[[], None] | None = None
    value: Callable[[], int] | None = None


def kernel(workload: str, impl: str) -> Kernel:
    """Return the Kernel for (workload, impl); NotBuiltError if its native variant is not built."""
    w = get(workload)
    spec = w.impl(impl)
    module = spec.module()
    releases = getattr(module, "RELEASES_GIL", None)
    func = getattr(module, spec.attr)
    if w.shared_counter:
        return Kernel(workload, impl, func, releases, module.reset, module.value)
    return Kernel(workload, impl, func, releases)


def resolve(workload: str, impl: str) -> Callable[..., Any]:
    """Return the callable for (workload, impl).

    >>> resolve("sumsq", "numpy").__name__
    'sumsq_numpy'
    """
    return kernel(workload, impl).func


def available() -> list[tuple[str, str]]:
    """Return the (workload, impl) pairs that can be imported in this install."""
    out = []
    for w in REGISTRY.values():
        for impl in w.impl_names:
            try:
                kernel(w.name, impl)
            except GillabError:  # not built, or cannot be loaded here
                continue
            out.append((w.name, impl))
    return out
