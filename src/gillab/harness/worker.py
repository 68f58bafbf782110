"""What runs inside a worker (thread, process or interpreter): one task, timed at its edges.

Kept free of heavy imports at module level so that process workers start fast, and so that a worker in a
subinterpreter imports nothing that cannot load there (gillab's instruments stay in the main interpreter).
"""

from __future__ import annotations

import importlib
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


class Identity(NamedTuple):
    """Who a worker is: the GIL-state sampler tells workers apart by these, without ever touching them."""

    pid: int
    tid: int
    """Its native thread id."""
    tstate: int
    """Its PyThreadState address; 0 in a subinterpreter, whose thread states come and go with each call (the
    worker is its interpreter's only thread, so its interpreter's GIL tells when it holds)."""
    clock: int
    """Its CPU clock id."""
    interpreter: int
    """The id of the interpreter it runs in (0: a process's main interpreter)."""


def interpreter_id() -> int:
    """The id of the interpreter this code runs in (0 for the main one, and where there are no others)."""
    try:
        interpreters: Any = importlib.import_module(
            "_interpreters"
        )  # 3.13+ (the backport's own on 3.12)
    except ImportError:
        return 0
    current = interpreters.get_current()
    return int(current[0] if isinstance(current, tuple) else current)


def identity() -> Identity:
    """This worker's Identity."""
    interp = interpreter_id()
    if (
        interp
    ):  # gillab's instruments cannot load here, and are not needed: the main interpreter watches
        return Identity(
            os.getpid(),
            threading.get_native_id(),
            0,
            time.pthread_getcpuclockid(threading.get_ident()),
            interp,
        )
    from gillab import _native

    tstate, clock = _native.gilstate().thread_identity()
    return Identity(os.getpid(), threading.get_native_id(), tstate, clock, 0)


def warm(workload: str, impl: str, size: int, hold_s: float) -> Identity:
    """Import and prepare the task in this worker, then hold it a while so that the pool spawns every worker."""
    from gillab.workloads.jobs import job

    job(workload, impl, size)
    if not interpreter_id():  # numpy, and so BLAS, cannot load in a subinterpreter
        from gillab.harness.pools import pin_to_one

        pin_to_one()  # this worker's BLAS and OpenMP pools: one thread each, for the life of the worker
    time.sleep(hold_s)
    return identity()


def run_task(
    workload: str, impl: str, size: int, index: int, release_ns: int, *payload: Any
) -> TaskOutcome:
    """Wait for the common release time, run one task, and report when and where it ran.

    payload: the task's input, where the workload sends one with each call (the user's target)."""
    from gillab.workloads.jobs import end_stamp, job, job_with

    run = job_with(workload, impl, size, payload[0]) if payload else job(workload, impl, size)
    stamp = end_stamp(workload, impl)
    wait = release_ns - time.monotonic_ns()
    if (
        0 < wait < MAX_RELEASE_WAIT_NS
    ):  # a worker on another host does not share this clock: it starts at once
        time.sleep(wait / 1e9)
    start = time.monotonic_ns()
    result = run()
    end = time.monotonic_ns()
    if stamp is not None and start < stamp() <= end:
        end = stamp()  # where the kernel's work ended, not when this thread next got the GIL
    return TaskOutcome(index, result, start, end, os.getpid(), threading.get_native_id())
