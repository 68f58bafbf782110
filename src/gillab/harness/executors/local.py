"""The standard library's executors on this machine: serial, threads, processes and asyncio."""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import multiprocessing
import os
from collections.abc import Sequence
from typing import Any

from gillab import aio
from gillab.errors import UsageError
from gillab.harness.executors.base import Call, Executor, PoolExecutor, register


@register
class SerialExecutor(Executor):
    """Runs every call in the calling thread, one after another."""

    name = "serial"
    summary = "every task in the calling thread, one after another"
    baseline = True
    style = ""
    release_delay_s = 0.0

    def __init__(self, workers: int, scheduler: str | None = None) -> None:
        super().__init__(1)

    def _create(self) -> None:
        pass

    def run(self, calls: Sequence[Call]) -> list[Any]:
        return [fn(*args) for fn, args in calls]


@register
class ThreadExecutor(PoolExecutor):
    """concurrent.futures.ThreadPoolExecutor."""

    name = "thread"
    plural = "threads"
    in_demo = True
    summary = "a ThreadPoolExecutor: threads of this process, sharing its GIL"

    def _make_pool(self) -> cf.Executor:
        return cf.ThreadPoolExecutor(self.workers, thread_name_prefix="gillab-worker")


START_METHOD = "GILLAB_START_METHOD"
"""The environment variable that sets process workers' start method: spawn, the only one on Windows and the
default on macOS, runs that path on Linux too."""


def start_method() -> str:
    """$GILLAB_START_METHOD where set, else forkserver where available, else spawn: forking a parent that
    already runs threads (the probe, numpy's pool) is unsafe. UsageError for a method this OS lacks."""
    methods = multiprocessing.get_all_start_methods()
    asked = os.environ.get(START_METHOD, "").strip().lower()
    if asked and asked not in methods:
        raise UsageError(f"${START_METHOD} must be one of {', '.join(methods)} here; got {asked!r}")
    return asked or ("forkserver" if "forkserver" in methods else "spawn")


def mp_context() -> Any:
    """The context of process workers, started by :func:`start_method`."""
    ctx = multiprocessing.get_context(start_method())
    if ctx.get_start_method() == "forkserver":
        ctx.set_forkserver_preload(["gillab.harness.worker", "gillab.workloads.jobs"])
    return ctx


@register
class ProcessExecutor(PoolExecutor):
    """concurrent.futures.ProcessPoolExecutor (forkserver where available, else spawn; or
    $GILLAB_START_METHOD)."""

    name = "process"
    plural = "processes"
    in_demo = True
    summary = "a ProcessPoolExecutor: one process, and one GIL, per worker"
    shares_gil = False
    gil_per_worker = True
    same_process = False
    shares_memory = False
    style = "--"
    own_gil = (
        "process workers each have a GIL of their own: this process's GIL says nothing of them"
    )
    parallel_because = "each worker process has a GIL of its own"
    release_delay_s = 0.02

    def _make_pool(self) -> cf.Executor:
        return cf.ProcessPoolExecutor(self.workers, mp_context=mp_context())


@register
class AsyncioExecutor(Executor):
    """An asyncio event loop; each call goes through asyncio.to_thread onto a pool of `workers` threads."""

    name = "asyncio"
    plural = "asyncio's threads"
    summary = "an asyncio event loop handing each task to a thread (asyncio.to_thread)"
    style = ":"

    def _create(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.pool = cf.ThreadPoolExecutor(self.workers, thread_name_prefix="gillab-asyncio")
        self.loop.set_default_executor(self.pool)

    def run(self, calls: Sequence[Call]) -> list[Any]:
        async def gather() -> list[Any]:
            coros = [asyncio.to_thread(fn, *args) for fn, args in calls]
            return [await c for c in asyncio.as_completed(coros)]

        return aio.run(gather, self.loop)

    def shutdown(self, kill: bool = False) -> None:
        loop = getattr(self, "loop", None)
        if loop is None:
            return
        self.pool.shutdown(wait=True, cancel_futures=True)
        loop.close()
