"""What runs inside a worker (thread, process or interpreter): one task, timed at its edges.

Kept free of heavy imports at module level so that process workers start fast.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any, NamedTuple

MAX_RELEASE_WAIT_NS = 5_000_000_000
"""The longest a task waits for the common release; the harness sets it at most a fraction of a second ahead."""


class TaskOutcome(NamedTuple):
    """One task's result and where and when it ran (CLOCK_MONOTONIC ns, shared by all processes)."""

    task: int
    """The task's number in its cell."""
    result: Any
    start_ns: int
    end_ns: int
    pid: int
    tid: int


def warm(workload: str, impl: str, size: int, hold_s: float) -> tuple[int, int, int, int]:
    """Import and prepare the task in this worker, then hold it a while so that the pool spawns every worker.

    Returns (pid, native thread id, PyThreadState address, CPU clock id): the GIL-state sampler tells the
    workers apart by the last two, without ever touching them.
    """
    from gillab.harness.pools import pin_to_one
    from gillab.workloads.jobs import job

    job(workload, impl, size)
    pin_to_one()  # this worker's BLAS and OpenMP pools: one thread each, for the life of the worker
    time.sleep(hold_s)
    from gillab import _native

    tstate, clock = _native.gilstate().thread_identity()
    return os.getpid(), threading.get_native_id(), tstate, clock


def run_task(workload: str, impl: str, size: int, index: int, release_ns: int) -> TaskOutcome:
    """Wait for the common release time, run one task, and report when and where it ran."""
    from gillab.workloads.jobs import end_stamp, job

    run = job(workload, impl, size)
    stamp = end_stamp(workload, impl)
    wait = release_ns - time.monotonic_ns()
    if 0 < wait < MAX_RELEASE_WAIT_NS:  # a worker on another host does not share this clock: it starts at once
        time.sleep(wait / 1e9)
    start = time.monotonic_ns()
    result = run()
    end = time.monotonic_ns()
    if stamp is not None and start < stamp() <= end:
        end = stamp()  # where the kernel's work ended, not when this thread next got the GIL
    return TaskOutcome(index, result, start, end, os.getpid(), threading.get_native_id())
