"""Native thread pools (BLAS, OpenMP) pinned to one thread while measuring, with threadpoolctl.

numpy's BLAS (OpenBLAS, MKL) may start a thread per core on its own: a "serial" numpy cell then runs on
every core, and its speedup means nothing. gillab pins every such pool to one thread in the parent and in
each worker process, and records what it pinned.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from gillab.environment import Pool

NOTE = "every BLAS and OpenMP pool pinned to 1 thread while measuring (threadpoolctl)"


def pinned() -> tuple[Pool, ...]:
    """Return the native pools loaded now: library, API and threads (what the environment records)."""
    from threadpoolctl import threadpool_info

    return tuple(
        Pool(i.get("user_api"), i.get("internal_api"), i.get("num_threads"))
        for i in threadpool_info()
    )


def pin_to_one() -> AbstractContextManager[Any]:
    """Limit every loaded BLAS and OpenMP pool to one thread (a context manager; also applies at once)."""
    from threadpoolctl import threadpool_limits

    limits: AbstractContextManager[Any] = threadpool_limits(limits=1)
    return limits
