"""Pure-Python workloads: the course's code, exactly as a learner would write it."""

from __future__ import annotations

import math
import threading
from typing import Any

from gillab._domain import check_count, check_fib_n, check_sumsq_args


def _fib(n: int) -> int:
    if n <= 2:
        return 1
    return _fib(n - 1) + _fib(n - 2)


def fib(n: int) -> int:
    """Return fib(n) by the naive recursion (fib(n) = 1 for n <= 2), 0 <= n <= 92.

    >>> [fib(n) for n in range(1, 8)]
    [1, 1, 2, 3, 5, 8, 13]
    """
    check_fib_n(n)
    return _fib(n)


def fib_reference(n: int) -> int:
    """Return fib(n) by iteration: the same values as :func:`fib`, fast enough to check any size.

    >>> fib_reference(92)
    7540113804746346429
    """
    check_fib_n(n)
    a, b = 1, 1
    for _ in range(n - 2):
        a, b = b, a + b
    return b


# --- the shared counter (the race lab) ---------------------------------------

total = 0
_lock = threading.Lock()


def reset() -> None:
    """Set the shared counter to 0."""
    global total
    total = 0


def value() -> int:
    """Return the shared counter."""
    return total


def add(k: int) -> None:
    """Do ``total += 1`` k times on a global, as in the course."""
    check_count(k)
    global total
    for _ in range(k):
        total += 1


def desc(k: int) -> None:
    """Do ``total -= 1`` k times on a global: the course's partner of :func:`add`."""
    check_count(k)
    global total
    for _ in range(k):
        total -= 1


def _noop() -> None:
    """Do nothing; a call is a point where the interpreter may switch threads."""


def add_rcw(k: int) -> None:
    """Add 1 k times by read, call, write: ``t = total; noop(); total = t + 1``."""
    check_count(k)
    global total
    for _ in range(k):
        t = total
        _noop()
        total = t + 1


def add_locked(k: int) -> None:
    """Add 1 k times, each ``total += 1`` under a ``threading.Lock``."""
    check_count(k)
    global total
    for _ in range(k):
        with _lock:
            total += 1


# --- sumsq ---------------------------------------------------------------------


def sumsq(a: Any, start: int, stop: int) -> float:
    """Return the sum of a[i] ** 2 for start <= i < stop, by a Python loop."""
    check_sumsq_args(a, start, stop)
    s = 0.0
    for i in range(start, stop):
        x = float(a[i])
        s += x * x
    return s


def sumsq_numpy(a: Any, start: int, stop: int) -> float:
    """Return the sum of a[i] ** 2 for start <= i < stop, by numpy."""
    check_sumsq_args(a, start, stop)
    v = a[start:stop]
    return float(v @ v)


def sumsq_reference(a: Any, start: int, stop: int) -> float:
    """Return the correctly rounded sum of squares (math.fsum), the yardstick for every impl."""
    check_sumsq_args(a, start, stop)
    v = a[start:stop]
    return math.fsum((v * v).tolist())
