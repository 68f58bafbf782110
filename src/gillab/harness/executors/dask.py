"""dask.distributed as executors: the same cells, the same figures, on an existing distributed engine.

- ``dask-threads``: one worker process with `workers` threads (dask's default shape: the GIL is shared);
- ``dask-processes``: `workers` worker processes with one thread each (one GIL each).

By default each cell starts a local cluster on 127.0.0.1 only (no dashboard), outside the timing, and
closes it on every exit path: distributed's ``SubprocessCluster``, whose scheduler and workers each run in
a process of their own. (A ``LocalCluster`` runs its scheduler inside the calling process, and its event
loop took this process's GIL and CPU from every other cell measured beside it.) With a scheduler address
(``gillab run --scheduler``) the cells run on that cluster, which gillab never starts or stops:
``dask-threads`` uses one worker with enough threads, ``dask-processes`` as many workers as asked.

Inside each worker, gillab's own instruments (the GIL-wait probe and the GIL-state sampler) are installed
by a ``WorkerPlugin`` and read around every repeat with ``Client.run``: the GIL that matters is the
worker's, not this process's. The workers' CPU time is read on each worker the same way.

Needs the optional extra: ``pip install -e '.[dask]'``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from gillab.environment import DaskWorker
from gillab.errors import EngineError, ExecutorUnavailableError
from gillab.harness.executors.base import KILL, Call, Executor, Spans, register
from gillab.harness.executors.dask_inside import (
    empty_task,
    extra_module,
    gillab_plugin,
    instruments_start_inside,
    instruments_stop_inside,
    merge_states,
    pool_waits,
    unavailable,
    versions,
    worker_cpu_s,
    worker_facts,
)
from gillab.harness.gilstate import GilState, Lane
from gillab.harness.instruments import GilWait
from gillab.harness.records import EngineInfo
from gillab.harness.worker import Identity

EMPTY_TASKS = 50
"""Empty tasks timed once per cell: the per-task cost dask adds."""


QUIET_CONFIG = {
    "DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED": "False",
    "DASK_DISTRIBUTED__ADMIN__TICK__INTERVAL": "1s",
    "DASK_DISTRIBUTED__ADMIN__SYSTEM_MONITOR__INTERVAL": "5s",
    "DASK_DISTRIBUTED__WORKER__MEMORY__MONITOR_INTERVAL": "5s",
    "DASK_DISTRIBUTED__SCHEDULER__WORK_STEALING": "False",
}
"""dask settings of the local clusters gillab starts (a setting the user exported is kept). With dask's
defaults an idle worker used about 5% of a core here and an idle scheduler 3%, mostly the worker's
statistical profiler, which also takes the worker's GIL every 10 ms; the clusters of the cells measured
beside one another would take 0.3-0.4 of 2 cores from every cell. With these, 0.3% and 1%."""


# --- the parent side ---------------------------------------------------------------------------------------


def _quiet() -> None:
    for name in ("distributed", "distributed.nanny", "distributed.scheduler", "distributed.worker"):
        logging.getLogger(name).setLevel(logging.ERROR)


def cluster_facts(address: str, timeout_s: float = 5.0) -> EngineInfo:
    """Connect to an existing cluster and return its engine block; EngineError (one line) if it cannot run
    gillab's cells: unreachable, no workers, or workers without gillab's native modules."""
    why = unavailable()
    if why:
        raise EngineError(f"cannot use the dask scheduler at {address}: {why}")
    client_cls = extra_module("distributed").Client
    _quiet()
    try:
        client = client_cls(address, timeout=timeout_s, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise EngineError(f"cannot reach the dask scheduler at {address}: {exc}") from None
    try:
        facts = client.run(worker_facts)
        threads = client.nthreads()
    finally:
        client.close()
    if not facts:
        raise EngineError(f"the dask scheduler at {address} has no workers")
    bad = {addr: f["native"] for addr, f in facts.items() if f["native"]}
    if bad:
        addr, why = next(iter(bad.items()))
        raise EngineError(
            f"{len(bad)} of {len(facts)} dask workers lack gillab's native modules (worker {addr}: {why}); "
            "install gillab on every worker: pip install -e . in its checkout"
        )
    v = versions()
    return EngineInfo(
        dask=v["dask"],
        distributed=v["distributed"],
        scheduler=address,
        workers=tuple(
            DaskWorker(a, f["host"], threads.get(a), f["python"]) for a, f in sorted(facts.items())
        ),
    )


@contextlib.contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables the user has not set, for the processes started meanwhile."""
    added = [k for k in values if k not in os.environ]
    os.environ.update({k: values[k] for k in added})
    try:
        yield
    finally:
        for k in added:
            os.environ.pop(k, None)


def local_engine() -> EngineInfo:
    """The engine block of a run whose dask cells each start a local cluster of their own."""
    v = versions()
    return EngineInfo(
        dask=v["dask"],
        distributed=v["distributed"],
        scheduler="local",
        workers="per cell: a scheduler and its workers, each in a process of its own, on 127.0.0.1",
        config={k: os.environ.get(k, v) for k, v in QUIET_CONFIG.items()},
    )


def engine_info(scheduler: str | None) -> EngineInfo | None:
    """The engine block of a run with dask cells: the local clusters', or the named cluster's (with its error
    where it cannot be reached); None without the extra."""
    if unavailable():
        return None
    if scheduler is None:
        return local_engine()
    try:
        return cluster_facts(scheduler)
    except EngineError as exc:
        return EngineInfo(scheduler=scheduler, error=str(exc))


class DaskExecutor(Executor):
    """A dask.distributed cluster: a SubprocessCluster of the cell's own, or an existing one by address."""

    shares_gil = False
    shares_memory = False
    same_process = False
    runs_elsewhere = True
    engine = "dask"
    release_delay_s = 0.1
    threads_per_worker = 1

    @classmethod
    def unavailable(cls) -> str | None:
        return unavailable()

    @classmethod
    def engine_info(cls, scheduler: str | None) -> EngineInfo | None:
        return engine_info(scheduler)

    @classmethod
    def check_scheduler(cls, scheduler: str) -> None:
        cluster_facts(scheduler)

    @classmethod
    def own_cost_s(cls, workers: int, scheduler: str | None = None) -> float | None:
        """EMPTY_TASKS empty tasks' time each, on a cluster of this shape started for it (or the named one),
        after one to warm it; None where it cannot start (its cells then say why)."""
        if unavailable():
            return None
        ex = cls(workers, scheduler)
        try:
            ex._create()
            ex.run([(empty_task, ())] * workers)
            t0 = time.perf_counter()
            ex.run([(empty_task, ())] * EMPTY_TASKS)
            return (time.perf_counter() - t0) / EMPTY_TASKS
        except Exception:  # a cluster that cannot start fails its cells, not the sizing
            return None
        finally:
            ex.shutdown()

    def __init__(self, workers: int, scheduler: str | None = None) -> None:
        super().__init__(workers)
        self.scheduler = scheduler
        self.cluster: Any = None
        self.client: Any = None
        self.targets: list[str] = []
        """The worker addresses this cell runs on."""
        self.pid_of: dict[str, int] = {}
        self.local = True
        """Whether the workers run on this host (their pids and clocks are this machine's)."""
        self.lanes: dict[str, list[Lane]] = {}
        self.gil_interval_s: float | None = None
        self.overhead_s: float | None = None

    def _shape(self) -> tuple[int, int]:
        raise NotImplementedError

    def _create(self) -> None:
        why = unavailable()
        if why:
            raise ExecutorUnavailableError(why)
        d = extra_module("distributed")
        _quiet()
        if self.scheduler is None:
            n_workers, threads = self._shape()
            # The scheduler runs in a process of its own (a LocalCluster's would run inside this one, and its
            # event loop would take this process's GIL and CPU from every other cell measured beside it), and
            # so does each worker, without a nanny: a worker that dies is gone, and its cell fails.
            with _environment(QUIET_CONFIG):
                self.cluster = extra_module("distributed.deploy.subprocess").SubprocessCluster(
                    host="127.0.0.1",
                    dashboard_address=None,
                    scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
                    worker_class="distributed.Worker",
                    n_workers=n_workers,
                    threads_per_worker=threads,
                    silence_logs=logging.ERROR,
                )
            self.client = d.Client(self.cluster, set_as_default=False)
            self.client.wait_for_workers(n_workers, timeout=120)
        else:
            self.client = d.Client(self.scheduler, timeout=10, set_as_default=False)
        self.client.register_plugin(gillab_plugin())
        self.targets = self._choose(self.client.nthreads())
        facts = self.client.run(worker_facts, workers=self.targets)
        self.pid_of = {a: f["pid"] for a, f in facts.items()}
        here = socket.gethostname()
        self.local = all(f["host"] == here for f in facts.values())

    def _choose(self, nthreads: Mapping[str, int]) -> list[str]:
        """Return the worker addresses to run on (all of a LocalCluster's; a subset of an existing one)."""
        if self.scheduler is None:
            return sorted(nthreads)
        return self._choose_existing(nthreads)

    def _choose_existing(self, nthreads: Mapping[str, int]) -> list[str]:
        raise NotImplementedError

    def start(self, warm: Callable[..., Identity], warm_args: Sequence[Any]) -> None:
        """Create and warm the cluster, register each worker thread's lane, and time an empty task."""
        super().start(warm, warm_args)
        by_pid = {pid: addr for addr, pid in self.pid_of.items()}
        self.lanes = {}
        for role_index, (pid, tid) in enumerate(self.worker_ids):
            self.lanes.setdefault(by_pid[pid], []).append(
                self.lane(role_index, self.remote_idents[(pid, tid)])
            )
        t0 = time.perf_counter()
        self.run([(empty_task, ())] * EMPTY_TASKS)
        self.overhead_s = (time.perf_counter() - t0) / EMPTY_TASKS

    def run(self, calls: Sequence[Call]) -> list[Any]:
        futures = [
            self.client.submit(
                fn, *args, pure=False, workers=self._where(i), allow_other_workers=False
            )
            for i, (fn, args) in enumerate(calls)
        ]
        out = []
        try:
            for f in futures:
                while True:
                    try:
                        out.append(f.result(timeout=1.0))
                        break
                    except TimeoutError:  # still running: are its workers still there?
                        gone = self._gone()
                        if gone:
                            raise RuntimeError(
                                f"dask worker {', '.join(gone)} died mid-cell; its tasks cannot finish"
                            ) from None
            return out
        finally:
            for f in futures:
                f.release()

    def _where(self, i: int) -> list[str]:
        return self.targets

    def _gone(self) -> list[str]:
        try:
            alive = set(self.client.scheduler_info()["workers"])
        except Exception:
            return list(self.targets)
        return sorted(set(self.targets) - alive)

    def _on_workers(
        self, fn: Callable[..., Any], *args: Any, workers: list[str] | None = None
    ) -> Any:
        """Client.run on the cell's workers; a worker that died makes it one RuntimeError in one line."""
        try:
            return self.client.run(fn, *args, workers=workers or self.targets, wait=True)
        except Exception as exc:
            gone = self._gone()
            if gone:
                raise RuntimeError(f"dask worker {', '.join(gone)} died mid-cell") from None
            raise RuntimeError(
                f"dask could not reach its workers: {type(exc).__name__}: {exc}"
            ) from None

    def worker_pids(self) -> list[int]:
        """The workers' pids, where they run on this host (else none: their /proc is not this one)."""
        return sorted(self.pid_of.values()) if self.local else []

    def cpu_seconds(self) -> float:
        """This process's CPU time plus the workers' own, each read on its worker."""
        got: dict[str, float] = self._on_workers(worker_cpu_s)
        return time.process_time() + sum(got.values())

    def instruments_start(self, gil_interval_s: float | None, probe: bool = True) -> None:
        """Start gillab's probe (where asked) and GIL-state sampler inside every worker of the cell."""
        for addr in self.targets:
            lanes = self.lanes.get(addr, [])
            self._on_workers(instruments_start_inside, lanes, gil_interval_s, probe, workers=[addr])

    def instruments_stop(
        self, spans: Spans, since_ns: int, until_ns: int
    ) -> tuple[GilWait | None, GilState | None]:
        """Stop them; return the workers' GIL wait (pooled) and GIL state (merged, one lane per thread)."""
        got = self._on_workers(instruments_stop_inside, dict(spans), since_ns, until_ns)
        waits = [gw for gw, _ in got.values() if gw is not None]
        states = [(addr, gs) for addr, (_, gs) in sorted(got.items()) if gs is not None]
        return pool_waits(waits), merge_states(states, self.lanes, self.worker_ids)

    def shutdown(self, kill: bool = False) -> None:
        client, cluster = self.client, self.cluster
        self.client = self.cluster = None
        if client is not None:
            with contextlib.suppress(Exception):
                client.close(timeout=5 if not kill else 1)
        if cluster is not None:
            with contextlib.suppress(Exception):
                cluster.close(timeout=5 if not kill else 1)
            if kill:
                _kill(self.pid_of.values())


def _kill(pids: Any) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, KILL)


@register
class DaskThreadsExecutor(DaskExecutor):
    """One dask worker process with `workers` threads: its threads share one GIL."""

    name = "dask-threads"
    summary = "one dask worker process with a thread per worker: its threads share one GIL"
    style = "-"
    own_gil = (
        "dask-threads workers each have a GIL of their own: this process's GIL says nothing of them"
    )

    def _shape(self) -> tuple[int, int]:
        return 1, self.workers

    def _choose_existing(self, nthreads: Mapping[str, int]) -> list[str]:
        fit = [a for a, n in sorted(nthreads.items()) if n >= self.workers]
        if not fit:
            raise ExecutorUnavailableError(
                f"no worker of the cluster at {self.scheduler} has {self.workers} threads "
                f"(it has {', '.join(map(str, sorted(nthreads.values()))) or 'none'})"
            )
        return fit[:1]


@register
class DaskProcessesExecutor(DaskExecutor):
    """`workers` dask worker processes with one thread each: one GIL each."""

    name = "dask-processes"
    summary = "a dask worker process per worker, one thread each: one GIL each"
    gil_per_worker = True
    parallel_because = "each worker process has a GIL of its own"
    style = "--"
    own_gil = "dask-processes workers each have a GIL of their own: this process's GIL says nothing of them"

    def _shape(self) -> tuple[int, int]:
        return self.workers, 1

    def _choose_existing(self, nthreads: Mapping[str, int]) -> list[str]:
        if len(nthreads) < self.workers:
            raise ExecutorUnavailableError(
                f"the cluster at {self.scheduler} has {len(nthreads)} workers, fewer than {self.workers}"
            )
        return sorted(nthreads)[: self.workers]

    def _where(self, i: int) -> list[str]:
        return [
            self.targets[i % len(self.targets)]
        ]  # one task per worker at a time, as a 1-thread worker runs
