"""The workloads and their impls: what the harness runs, never how.

>>> from gillab.workloads import resolve
>>> resolve("fib", "python")(10)
55
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gillab import _native, environment
from gillab.workloads import pure

WORKLOADS = ("fib", "counter", "sumsq")

# (workload, impl) -> (module loader, attribute). Native loaders raise NotBuiltError when absent.
_PURE = lambda: pure  # noqa: E731
_NOGIL = lambda: _native.kernels("cython-nogil")  # noqa: E731
_GIL = lambda: _native.kernels("cython-gil")  # noqa: E731

_REGISTRY: dict[tuple[str, str], tuple[Callable[[], Any], str]] = {
    ("fib", "python"): (_PURE, "fib"),
    ("fib", "cython-gil"): (_GIL, "fib"),
    ("fib", "cython-nogil"): (_NOGIL, "fib"),
    ("counter", "python"): (_PURE, "add"),
    ("counter", "python-rcw"): (_PURE, "add_rcw"),
    ("counter", "python-lock"): (_PURE, "add_locked"),
    ("counter", "cython-gil"): (_GIL, "add_unsync"),
    ("counter", "cython-nogil"): (_NOGIL, "add_unsync"),
    ("counter", "cython-atomic"): (_NOGIL, "add_atomic"),
    ("counter", "cython-mutex"): (_NOGIL, "add_mutex"),
    ("sumsq", "python"): (_PURE, "sumsq"),
    ("sumsq", "numpy"): (_PURE, "sumsq_numpy"),
    ("sumsq", "cython-gil"): (_GIL, "sumsq"),
    ("sumsq", "cython-nogil"): (_NOGIL, "sumsq"),
}

EXACT_COUNTERS = frozenset({"python-lock", "cython-atomic", "cython-mutex"})
"""Counter impls that never lose an update, whatever the interpreter."""


def exact_counters() -> frozenset[str]:
    """Return the counter impls that lose no update here: cython-gil too, while a GIL exists to hold."""
    return EXACT_COUNTERS | {"cython-gil"} if environment.gil_enabled() else EXACT_COUNTERS


@dataclass(frozen=True)
class Kernel:
    """One impl of one workload, with the shared state it touches (counters only)."""

    workload: str
    impl: str
    func: Callable[..., Any]
    releases_gil: bool | None
    reset: Callable[[], None] | None = None
    value: Callable[[], int] | None = None


def impls(workload: str) -> tuple[str, ...]:
    """Return every impl name of a workload, built or not."""
    _check_workload(workload)
    return tuple(i for (w, i) in _REGISTRY if w == workload)


def _check_workload(workload: str) -> None:
    if workload not in WORKLOADS:
        raise ValueError(f"unknown workload {workload!r}; choose from {', '.join(WORKLOADS)}")


def kernel(workload: str, impl: str) -> Kernel:
    """Return the Kernel for (workload, impl); NotBuiltError if its native variant is not built."""
    _check_workload(workload)
    try:
        loader, attr = _REGISTRY[(workload, impl)]
    except KeyError:
        raise ValueError(f"unknown impl {impl!r} for {workload}; choose from {', '.join(impls(workload))}") from None
    module = loader()
    releases = getattr(module, "RELEASES_GIL", None)
    if workload == "counter":
        return Kernel(workload, impl, getattr(module, attr), releases, module.reset, module.value)
    return Kernel(workload, impl, getattr(module, attr), releases)


def resolve(workload: str, impl: str) -> Callable[..., Any]:
    """Return the callable for (workload, impl).

    >>> resolve("sumsq", "numpy").__name__
    'sumsq_numpy'
    """
    return kernel(workload, impl).func


def available() -> list[tuple[str, str]]:
    """Return the (workload, impl) pairs that can be imported in this install."""
    out = []
    for workload, impl in _REGISTRY:
        try:
            kernel(workload, impl)
        except _native.NotBuiltError:
            continue
        out.append((workload, impl))
    return out
