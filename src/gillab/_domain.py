"""Argument checks shared by every impl, so that all impls fail with the same message."""

from __future__ import annotations

from typing import Any

FIB_MAX = 92
"""The largest n whose fib(n) fits a signed 64-bit integer."""


def check_fib_n(n: object) -> None:
    """Raise TypeError or ValueError unless n is an int in 0..FIB_MAX."""
    if type(n) is bool or not isinstance(n, int):
        raise TypeError(f"fib() expects an int, got {type(n).__name__}")
    if not 0 <= n <= FIB_MAX:
        raise ValueError(
            f"fib() is defined here for 0 <= n <= {FIB_MAX} (the signed 64-bit limit), got {n}"
        )


def check_sumsq_args(a: Any, start: object, stop: object) -> None:
    """Raise TypeError or ValueError unless a is a 1-D C-contiguous float64 array and start..stop is in it."""
    import numpy as np

    if (
        not isinstance(a, np.ndarray)
        or a.dtype != np.float64
        or a.ndim != 1
        or not a.flags.c_contiguous
    ):
        if isinstance(a, np.ndarray):
            got = f"ndarray of dtype {a.dtype}, ndim {a.ndim}, C-contiguous {a.flags.c_contiguous}"
        else:
            got = type(a).__name__
        raise TypeError(f"sumsq() expects a 1-D C-contiguous float64 numpy array, got {got}")
    for name, v in (("start", start), ("stop", stop)):
        if type(v) is bool or not isinstance(v, int):
            raise TypeError(f"sumsq() expects an int {name}, got {type(v).__name__}")
    if not 0 <= start <= stop <= a.shape[0]:  # type: ignore[operator]
        raise ValueError(
            f"sumsq() needs 0 <= start <= stop <= len(a) = {a.shape[0]}, got start={start}, stop={stop}"
        )


def check_count(k: object) -> None:
    """Raise TypeError or ValueError unless k is an int >= 0 (a number of increments)."""
    if type(k) is bool or not isinstance(k, int):
        raise TypeError(f"k must be an int, got {type(k).__name__}")
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k}")
