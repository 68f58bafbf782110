"""What an executor is: how it starts its workers and runs calls, and the facts about it, in one class.

An executor knows how to start its workers and run a list of calls; it never knows what workload the calls
run. Its facts (does it share this process's GIL, does each worker have a GIL of its own, do its tasks share
memory, does it run elsewhere) are class attributes, so that the harness, the outputs and the sentences ask
the class and never test a name. :func:`register` puts a class in the one registry.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import enum
import os
import signal
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from gillab.harness.gilstate import GilState, Lane
from gillab.harness.instruments import GilWait, cpu_seconds
from gillab.harness.records import EngineInfo
from gillab.harness.worker import Identity

if TYPE_CHECKING:
    from gillab.workloads.base import Workload

KILL = getattr(signal, "SIGKILL", signal.SIGTERM)
"""The signal that ends a worker at once (Windows has no SIGKILL: os.kill with SIGTERM ends the process)."""
WARM_HOLD_S = 0.05
"""How long each warm-up call holds its worker, so that the pool must start a new worker for the next."""

Call = tuple[Callable[..., Any], tuple[Any, ...]]
Spans = Mapping[int, Sequence[tuple[int, int]]]
"""Native thread id -> the (start, end) CLOCK_MONOTONIC ns of each task it ran."""

REGISTRY: dict[str, type[Executor]] = {}
"""Every executor, by name, in the order registered."""


def register(cls: type[Executor]) -> type[Executor]:
    """Add an executor class to the registry (a class decorator)."""
    REGISTRY[cls.name] = cls
    return cls


class Family(enum.StrEnum):
    """What kind of workers an executor has; in JSON, its value."""

    SERIAL = "serial"
    """The baseline."""
    ENGINE = "engine"
    """An engine's workers (dask)."""
    THREADS = "threads"
    """Threads sharing this process's GIL."""
    INTERPRETERS = "interpreters"
    """Interpreters with a GIL each, in this process."""
    PROCESSES = "processes"


class Executor:
    """Runs calls in `workers` workers; subclasses say how, and state their facts."""

    name: ClassVar[str] = "base"
    summary: ClassVar[str] = ""
    """What it is, in a few words (for --help and the report)."""
    plural: ClassVar[str] = ""
    """Its workers in a sentence ("threads", "processes"); "" reads as "NAME workers"."""
    baseline: ClassVar[bool] = False
    """The serial baseline: every other cell's speedup is taken against it."""
    shares_gil: ClassVar[bool] = True
    """Its workers run in this process and share its GIL: this process's probe and GIL sampler watch them."""
    gil_per_worker: ClassVar[bool] = False
    """Each worker has a GIL of its own (its own process or interpreter)."""
    shares_memory: ClassVar[bool] = True
    """Tasks share the parent's memory (so a shared counter can be read after the run)."""
    same_process: ClassVar[bool] = True
    """Its workers are threads of this process (in this interpreter or in subinterpreters of its own)."""
    runs_elsewhere: ClassVar[bool] = False
    """Its workers may run on other machines: gillab's instruments run inside them (an engine's)."""
    engine: ClassVar[str | None] = None
    """The distributed engine it runs on, where it runs on one."""
    style: ClassVar[str] = "-"
    """Its line style in speedup.png."""
    own_gil: ClassVar[str] = ""
    """Where its workers have GILs of their own: why this process's GIL says nothing of them."""
    parallel_because: ClassVar[str] = ""
    """Where each worker has a GIL of its own: why its workers run at once, in the report's words."""
    in_demo: ClassVar[bool] = False
    """It is among the default run's executors, wherever it can run."""
    release_delay_s: ClassVar[float] = 0.005
    """How far ahead of now the common release time is set, so that every worker has its call in hand."""

    @classmethod
    def family(cls) -> Family:
        """What kind of workers it has, from its facts."""
        if cls.baseline:
            return Family.SERIAL
        if cls.engine:
            return Family.ENGINE
        if cls.shares_gil:
            return Family.THREADS
        return Family.INTERPRETERS if cls.same_process else Family.PROCESSES

    @classmethod
    def unavailable(cls) -> str | None:
        """Return why this executor cannot run here, or None when it can."""
        return None

    @classmethod
    def refuses(cls, workload: Workload) -> str | None:
        """Return why this executor cannot run that workload (its tasks need what its workers lack), or None."""
        return None

    @classmethod
    def check_scheduler(cls, scheduler: str) -> None:
        """Refuse (EngineError, one line) an existing cluster this executor cannot run on; nothing to check
        for an executor that runs on no engine."""

    @classmethod
    def engine_info(cls, scheduler: str | None) -> EngineInfo | None:
        """The run's engine block, for an executor that runs on an engine (None for the others)."""
        return None

    @classmethod
    def own_cost_s(cls, workers: int, scheduler: str | None = None) -> float | None:
        """What the executor itself adds to each task, measured on fresh workers before a run sizes its tasks
        (an engine's scheduling and transfer); None for one with no engine between the caller and its workers."""
        return None

    def __init__(self, workers: int, scheduler: str | None = None) -> None:
        """scheduler: an existing cluster's address, for an executor that runs on an engine."""
        self.workers = workers
        self.startup_s = 0.0
        self.worker_ids: list[tuple[int, int]] = []
        self.thread_idents: dict[int, Identity] = {}
        """Native thread id -> the Identity of each worker in this process (any of its interpreters)."""
        self.remote_idents: dict[tuple[int, int], Identity] = {}
        """(pid, native thread id) -> the Identity of every worker, in any process."""
        self.overhead_s: float | None = None
        """The per-task cost the executor itself adds, where it measures one (an engine's scheduler)."""

    def start(self, warm: Callable[..., Identity], warm_args: Sequence[Any]) -> None:
        """Create the workers and run `warm` once in each; record start-up time and worker ids."""
        t0 = time.perf_counter()
        self._create()
        ids: set[tuple[int, int]] = set()
        hold = WARM_HOLD_S
        for _ in range(6):
            outs = self.run([(warm, (*warm_args, hold))] * self.workers)
            for out in outs:
                who = Identity(*out)
                ids.add((who.pid, who.tid))
                self.remote_idents[(who.pid, who.tid)] = who
                if who.pid == os.getpid():
                    self.thread_idents[who.tid] = who
            if len(ids) >= self.workers:
                break
            hold *= 2
        self.startup_s = max(0.0, time.perf_counter() - t0 - hold)
        self.worker_ids = sorted(ids)

    def worker_pids(self) -> list[int]:
        """Return the pids of worker processes other than this one."""
        return sorted({pid for pid, _ in self.worker_ids if pid != os.getpid()})

    def local_lanes(self) -> list[Lane]:
        """The GIL-state sampler's lanes for the workers in this process (in any of its interpreters)."""
        here = [
            (pid, tid)
            for pid, tid in self.worker_ids
            if pid == os.getpid() and tid in self.thread_idents
        ]
        return [self.lane(self.worker_ids.index(w), self.thread_idents[w[1]]) for w in here]

    @staticmethod
    def lane(index: int, who: Identity) -> Lane:
        """Worker index's lane for a GIL-state sampler."""
        return Lane(f"worker {index}", who.tid, who.tstate, who.clock, who.interpreter)

    def cpu_seconds(self) -> float:
        """This process's CPU time plus that of the worker processes."""
        return cpu_seconds(self.worker_pids())

    def instruments_start(self, gil_interval_s: float | None, probe: bool = True) -> None:
        """Start instruments inside the workers, where they live elsewhere (an engine's); nothing here.
        probe: whether the GIL-wait probe runs in this repeat too."""

    def instruments_stop(
        self, spans: Spans, since_ns: int, until_ns: int
    ) -> tuple[GilWait | None, GilState | None]:
        """Return what instruments inside the workers saw (GIL wait, GIL state); None where there are none."""
        return None, None

    def _create(self) -> None:
        raise NotImplementedError

    def run(self, calls: Sequence[Call]) -> list[Any]:
        """Run every call and return their results in completion order."""
        raise NotImplementedError

    def shutdown(self, kill: bool = False) -> None:
        """Stop the workers; with kill, do not wait for running calls."""


class PoolExecutor(Executor):
    """A concurrent.futures pool; calls are submitted together and collected with as_completed."""

    def _make_pool(self) -> cf.Executor:
        raise NotImplementedError

    def _create(self) -> None:
        self.pool = self._make_pool()

    def run(self, calls: Sequence[Call]) -> list[Any]:
        futures = [self.pool.submit(fn, *args) for fn, args in calls]
        return [f.result() for f in cf.as_completed(futures)]

    def shutdown(self, kill: bool = False) -> None:
        pool = getattr(self, "pool", None)
        if pool is None:
            return
        if kill:
            for pid in self.worker_pids():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, KILL)
        pool.shutdown(wait=True, cancel_futures=True)
