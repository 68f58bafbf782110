"""The executors: one interface over serial, threads, processes, asyncio and interpreters.

An executor knows how to start its workers and run a list of calls; it never
knows what workload the calls run.
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import contextlib
import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from gillab.harness.gilstate import GilState
from gillab.harness.measure import GilWait, cpu_seconds

EXECUTORS = ("serial", "thread", "process", "asyncio", "interpreter")

WARM_HOLD_S = 0.05
"""How long each warm-up call holds its worker, so that the pool must start a new worker for the next."""


class ExecutorUnavailableError(Exception):
    """This executor cannot run on this interpreter (the reason says why)."""


def unavailable_reason(name: str) -> str | None:
    """Return why an executor cannot run here, or None when it can."""
    if name == "interpreter" and not hasattr(cf, "InterpreterPoolExecutor"):
        return f"InterpreterPoolExecutor needs Python 3.14 or newer (this is {sys.version.split()[0]})"
    return None


class Executor:
    """Runs calls in `workers` workers; subclasses say how."""

    name = "base"
    shares_memory = True
    """Whether tasks share the parent's memory (so a shared counter can be read after the run)."""
    release_delay_s = 0.005
    """How far ahead of now the common release time is set, so that every worker has its call in hand."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.startup_s = 0.0
        self.worker_ids: list[tuple[int, int]] = []
        self.thread_idents: dict[int, tuple[int, int]] = {}
        """Native thread id -> (PyThreadState address, CPU clock id) of each worker in this process."""
        self.remote_idents: dict[tuple[int, int], tuple[int, int]] = {}
        """(pid, native thread id) -> (PyThreadState address, CPU clock id) of every worker, in any process."""
        self.overhead_s: float | None = None
        """The per-task cost the executor itself adds, where it measures one (an engine's scheduler)."""

    def start(self, warm: Callable[..., tuple[int, int, int, int]], warm_args: Sequence[Any]) -> None:
        """Create the workers and run `warm` once in each; record start-up time and worker ids."""
        t0 = time.perf_counter()
        self._create()
        ids: set[tuple[int, int]] = set()
        hold = WARM_HOLD_S
        for _ in range(6):
            outs = self.run([(warm, (*warm_args, hold))] * self.workers)
            for pid, tid, tstate, clock in outs:
                ids.add((pid, tid))
                self.remote_idents[(pid, tid)] = (tstate, clock)
                if pid == os.getpid():
                    self.thread_idents[tid] = (tstate, clock)
            if len(ids) >= self.workers:
                break
            hold *= 2
        self.startup_s = max(0.0, time.perf_counter() - t0 - hold)
        self.worker_ids = sorted(ids)

    def worker_pids(self) -> list[int]:
        """Return the pids of worker processes other than this one."""
        return sorted({pid for pid, _ in self.worker_ids if pid != os.getpid()})

    def cpu_seconds(self) -> float:
        """This process's CPU time plus that of the worker processes."""
        return cpu_seconds(self.worker_pids())

    def instruments_start(self, gil_interval_s: float | None) -> None:
        """Start instruments inside the workers, where they live elsewhere (an engine's); nothing here."""

    def instruments_stop(
        self, spans: Mapping[int, Sequence[tuple[int, int]]], since_ns: int, until_ns: int
    ) -> tuple[GilWait | None, GilState | None]:
        """Return what instruments inside the workers saw (GIL wait, GIL state); None where there are none."""
        return None, None

    def _create(self) -> None:
        raise NotImplementedError

    def run(self, calls: Sequence[tuple[Callable[..., Any], tuple[Any, ...]]]) -> list[Any]:
        """Run every call and return their results in completion order."""
        raise NotImplementedError

    def shutdown(self, kill: bool = False) -> None:
        """Stop the workers; with kill, do not wait for running calls."""


class SerialExecutor(Executor):
    """Runs every call in the calling thread, one after another."""

    name = "serial"
    release_delay_s = 0.0

    def __init__(self, workers: int) -> None:
        super().__init__(1)

    def _create(self) -> None:
        pass

    def run(self, calls: Sequence[tuple[Callable[..., Any], tuple[Any, ...]]]) -> list[Any]:
        return [fn(*args) for fn, args in calls]


class PoolExecutor(Executor):
    """A concurrent.futures pool; calls are submitted together and collected with as_completed."""

    def _make_pool(self) -> cf.Executor:
        raise NotImplementedError

    def _create(self) -> None:
        self.pool = self._make_pool()

    def run(self, calls: Sequence[tuple[Callable[..., Any], tuple[Any, ...]]]) -> list[Any]:
        futures = [self.pool.submit(fn, *args) for fn, args in calls]
        return [f.result() for f in cf.as_completed(futures)]

    def shutdown(self, kill: bool = False) -> None:
        pool = getattr(self, "pool", None)
        if pool is None:
            return
        if kill:
            for pid in self.worker_pids():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        pool.shutdown(wait=True, cancel_futures=True)


class ThreadExecutor(PoolExecutor):
    """concurrent.futures.ThreadPoolExecutor."""

    name = "thread"

    def _make_pool(self) -> cf.Executor:
        return cf.ThreadPoolExecutor(self.workers, thread_name_prefix="gillab-worker")


def _mp_context() -> Any:
    # forkserver: forking a parent that already runs threads (the probe, numpy's pool) is unsafe.
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    if ctx.get_start_method() == "forkserver":
        ctx.set_forkserver_preload(["gillab.harness.worker", "gillab.workloads.jobs"])
    return ctx


class ProcessExecutor(PoolExecutor):
    """concurrent.futures.ProcessPoolExecutor (forkserver where available, else spawn)."""

    name = "process"
    shares_memory = False
    release_delay_s = 0.05

    def _make_pool(self) -> cf.Executor:
        return cf.ProcessPoolExecutor(self.workers, mp_context=_mp_context())


class InterpreterExecutor(PoolExecutor):
    """concurrent.futures.InterpreterPoolExecutor (Python 3.14+): one interpreter, and one GIL, per worker."""

    name = "interpreter"
    shares_memory = False
    release_delay_s = 0.05

    def _make_pool(self) -> cf.Executor:
        reason = unavailable_reason(self.name)
        if reason:
            raise ExecutorUnavailableError(reason)
        pool: cf.Executor = cf.InterpreterPoolExecutor(self.workers)  # type: ignore[attr-defined,unused-ignore]
        return pool


class AsyncioExecutor(Executor):
    """An asyncio event loop; each call goes through asyncio.to_thread onto a pool of `workers` threads."""

    name = "asyncio"

    def _create(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.pool = cf.ThreadPoolExecutor(self.workers, thread_name_prefix="gillab-asyncio")
        self.loop.set_default_executor(self.pool)

    def run(self, calls: Sequence[tuple[Callable[..., Any], tuple[Any, ...]]]) -> list[Any]:
        async def gather() -> list[Any]:
            coros = [asyncio.to_thread(fn, *args) for fn, args in calls]
            return [await c for c in asyncio.as_completed(coros)]

        return self.loop.run_until_complete(gather())

    def shutdown(self, kill: bool = False) -> None:
        loop = getattr(self, "loop", None)
        if loop is None:
            return
        self.pool.shutdown(wait=True, cancel_futures=True)
        loop.close()


_CLASSES: dict[str, type[Executor]] = {
    "serial": SerialExecutor,
    "thread": ThreadExecutor,
    "process": ProcessExecutor,
    "asyncio": AsyncioExecutor,
    "interpreter": InterpreterExecutor,
}


def make(name: str, workers: int) -> Executor:
    """Return an executor by name (not yet started)."""
    try:
        cls = _CLASSES[name]
    except KeyError:
        raise ValueError(f"unknown executor {name!r}; choose from {', '.join(EXECUTORS)}") from None
    return cls(workers)
