"""One task of a workload at a given size: its run, and its yardstick.

The harness calls :func:`job` in whatever worker runs the task and :func:`expected` once in the parent;
each asks the workload's object, so the harness never needs to know what a workload computes.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from gillab.workloads import get, kernel


def check_size(workload: str, size: int) -> None:
    """Raise ValueError unless size is valid for the workload."""
    get(workload).check_size(size)


@cache
def job(workload: str, impl: str, size: int) -> Callable[[], Any]:
    """Return a no-argument callable that runs one task; its return value is checked against :func:`expected`."""
    w = get(workload)
    w.check_size(size)
    k = kernel(workload, impl)
    return w.task(k.func, w.impl(impl).module(), size)


def job_with(workload: str, impl: str, size: int, payload: Any) -> Callable[[], Any]:
    """Return the task that runs on a payload sent with its call (not cached: each call brings its own)."""
    w = get(workload)
    k = kernel(workload, impl)
    return w.task_with(k.func, w.impl(impl).module(), size, payload)


@cache
def end_stamp(workload: str, impl: str) -> Callable[[], int] | None:
    """Return the impl's own clock of when its last kernel call in this thread finished, where it keeps one.

    The native kernels stamp their end before they take the GIL back; a task's end read after the call
    returns would also count that wait (on threads, the wait for every other GIL-holding task).
    """
    stamp: Callable[[], int] | None = getattr(
        get(workload).impl(impl).module(), "last_end_ns", None
    )
    return stamp


@cache
def expected(workload: str, size: int) -> Any:
    """Return the result one task must produce, computed by the reference (pure-Python) definition."""
    w = get(workload)
    w.check_size(size)
    return w.expected(size)


def agrees(workload: str, result: Any, want: Any) -> bool:
    """Return whether a task's result matches the reference."""
    return get(workload).agrees(result, want)
