"""The one harness: every workload × impl × executor × workers cell is measured by the same code."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from gillab import _native, environment, stats
from gillab.harness import executors, results
from gillab.harness.calibrate import pick_size
from gillab.harness.measure import GilWait, Probe, Sampler, ThreadStates, cpu_seconds
from gillab.harness.results import Cell, RunConfig, RunResult, Span
from gillab.harness.worker import TaskOutcome, run_task, warm
from gillab.workloads import exact_counters, get, kernel
from gillab.workloads.jobs import agrees, expected

CV_NOISY = 0.10
"""A cell whose coefficient of variation exceeds this is flagged noisy."""
LOAD_COMPETING = 0.5
"""A 1-minute load average above this many busy cores before the run means other work competes."""


class CellError(Exception):
    """A cell could not be measured; the message is its one-line reason."""


def one_line(exc: BaseException) -> str:
    """Return an exception as one line: its type and the first line of its message."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


def _timeline(outs: list[TaskOutcome], release_ns: int) -> tuple[Span, ...]:
    lanes: dict[tuple[int, int], int] = {}
    for o in sorted(outs, key=lambda o: o.start_ns):
        lanes.setdefault((o.pid, o.tid), len(lanes))
    return tuple(
        Span(lanes[(o.pid, o.tid)], f"{o.pid}/{o.tid}", (o.start_ns - release_ns) / 1e9, (o.end_ns - release_ns) / 1e9)
        for o in sorted(outs, key=lambda o: o.task)
    )


def _check(
    workload: str, impl: str, ex: executors.Executor, outs: list[TaskOutcome], size: int, tasks: int
) -> int | None:
    """Check every task's result against the reference; return lost counter updates where they can be counted."""
    shared = get(workload).shared_counter
    # Tasks that share one counter with other tasks running at once cannot each see their own count.
    per_task_counts = not (shared and ex.shares_memory and ex.name != "serial")
    if per_task_counts:
        want = expected(workload, size)
        for o in outs:
            if not agrees(workload, o.result, want):
                raise CellError(f"wrong result: task {o.task} returned {o.result!r}, the python impl gives {want!r}")
    if not shared or not ex.shares_memory:
        return None
    k = kernel(workload, impl)
    assert k.value is not None
    lost = tasks * size - k.value()
    if lost and impl in exact_counters(workload):
        raise CellError(f"wrong result: {impl} lost {lost} of {tasks * size} updates, and it must lose none")
    return lost


@dataclass(frozen=True)
class Repeat:
    """One timed run of a cell's tasks and what the instruments saw during it."""

    wall_s: float
    cpu_s: float
    gil_wait: GilWait
    states: ThreadStates
    lost_updates: int | None
    timeline: tuple[Span, ...]


class CellSession:
    """One cell's executor, started once and run many times: what both `gillab run` and bench/ time.

    ``start()`` creates and warms the pool (never timed); each ``run_once()`` is one timed repeat, checked
    against the reference; ``summary()`` turns the repeats into a Cell.
    """

    def __init__(
        self,
        workload: str,
        impl: str,
        executor: str,
        workers: int,
        tasks: int,
        size: int,
        probe_interval_s: float = 0.001,
    ) -> None:
        self.workload, self.impl, self.tasks, self.size = workload, impl, tasks, size
        self.probe_interval_s = probe_interval_s
        self.kernel = kernel(workload, impl)  # NotBuiltError when its variant is not built
        self.ex = executors.make(executor, workers)
        self.repeats: list[Repeat] = []

    def start(self) -> None:
        """Create the workers and prepare the task in each."""
        self.ex.start(warm, (self.workload, self.impl, self.size))

    def run_once(self, release_delay_s: float | None = None) -> Repeat:
        """Release every task together, wait for all, measure, and check the results; CellError if wrong."""
        ex, k = self.ex, self.kernel
        if k.reset is not None and ex.shares_memory:
            k.reset()
        pids = ex.worker_pids()
        probe = Probe(self.probe_interval_s)
        sampler = Sampler([os.getpid(), *pids])
        roles = {tid: f"worker {i}" for i, (_, tid) in enumerate(ex.worker_ids)}
        roles[probe.start()] = "gil-probe"
        sampler.start()
        cpu0 = cpu_seconds(pids)
        delay = ex.release_delay_s if release_delay_s is None else release_delay_s
        release = time.monotonic_ns() + int(delay * 1e9)
        outs = ex.run([(run_task, (self.workload, self.impl, self.size, i, release)) for i in range(self.tasks)])
        finish = time.monotonic_ns()
        cpu1 = cpu_seconds(pids)
        st = sampler.stop(roles)
        gw = probe.stop(release, finish)
        lost = _check(self.workload, self.impl, ex, outs, self.size, self.tasks)
        rep = Repeat(
            (finish - release) / 1e9,
            max(0.0, cpu1 - cpu0 - gw.cpu_s - st.cpu_s),
            gw,
            st,
            lost,
            _timeline(outs, release),
        )
        self.repeats.append(rep)
        return rep

    def summary(self) -> Cell:
        """Return the Cell of every repeat so far (the repeat nearest the median speaks for GIL wait and states)."""
        walls = [r.wall_s for r in self.repeats]
        cpus = [r.cpu_s for r in self.repeats]
        med, iqr, cv = stats.spread(walls)
        mid = self.repeats[stats.nearest_median(walls)]
        losts = [r.lost_updates for r in self.repeats if r.lost_updates is not None]
        return Cell(
            self.workload,
            self.impl,
            self.ex.name,
            self.ex.workers,
            self.tasks,
            self.size,
            status="ok",
            releases_gil=self.kernel.releases_gil,
            wall_s=tuple(walls),
            cpu_s=tuple(cpus),
            median_wall_s=med,
            iqr_s=iqr,
            cv=cv,
            noisy=cv > CV_NOISY,
            cpu_utilization=stats.median([c / w for c, w in zip(cpus, walls, strict=True) if w > 0]),
            startup_s=self.ex.startup_s,
            gil_wait=mid.gil_wait,
            threads_running_mean=mid.states.threads_running_mean,
            thread_states=mid.states.threads,
            thread_states_note=mid.states.reason,
            lost_updates=tuple(losts) if losts else None,
            timeline=mid.timeline,
        )

    def close(self, kill: bool = False) -> None:
        """Shut the workers down; with kill, do not wait for running tasks."""
        self.ex.shutdown(kill=kill)


def measure_cell(
    workload: str,
    impl: str,
    executor: str,
    workers: int,
    tasks: int,
    size: int,
    repeat: int,
    probe_interval_s: float = 0.001,
) -> Cell:
    """Measure one cell; a fault in it becomes a failed or skipped cell, never an exception (except Ctrl-C)."""
    base = Cell(workload, impl, executor, workers, tasks, size, status="skipped")
    reason = executors.unavailable_reason(executor)
    if reason:
        return replace(base, reason=reason)
    try:
        session = CellSession(workload, impl, executor, workers, tasks, size, probe_interval_s)
    except _native.NotBuiltError as exc:
        return replace(base, reason=str(exc))
    base = replace(base, releases_gil=session.kernel.releases_gil)
    try:
        session.start()
        for _ in range(repeat):
            session.run_once()
    except KeyboardInterrupt:
        session.close(kill=True)
        raise
    except BrokenProcessPool as exc:
        session.close(kill=True)
        return replace(base, status="failed", reason=f"a worker process died ({one_line(exc)})")
    except CellError as exc:
        session.close(kill=True)
        return replace(base, status="failed", reason=str(exc))
    except Exception as exc:  # foreign faults in a task: report, go on with the next cell
        session.close(kill=True)
        return replace(base, status="failed", reason=one_line(exc))
    session.close()
    return session.summary()


def with_speedup(cell: Cell, serial: Cell | None, cores: int) -> Cell:
    """Fill in speedup and efficiency against the serial cell of the same impl, size and tasks."""
    if cell.status != "ok" or serial is None or serial.status != "ok" or not cell.median_wall_s:
        return cell
    assert serial.median_wall_s is not None
    speedup = stats.speedup(serial.median_wall_s, cell.median_wall_s)
    return replace(cell, speedup=speedup, efficiency=stats.efficiency(speedup, cell.workers, cell.tasks, cores))


def plan(config: RunConfig) -> list[tuple[str, str, int]]:
    """Return the (impl, executor, workers) cells in run order: each impl's serial baseline first."""
    cells = []
    for impl in config.impls:
        cells.append((impl, "serial", 1))
        for ex in config.executors:
            if ex == "serial":
                continue
            cells.extend((impl, ex, w) for w in config.workers)
    return cells


Progress = Callable[[str, int, int], None]


def run_matrix(config: RunConfig, out: Path | None, progress: Progress | None = None) -> RunResult:
    """Run the whole matrix; write results.json after every cell.

    On Ctrl-C the cells measured so far are saved, marked interrupted, and :class:`Interrupted` (a
    KeyboardInterrupt) is raised carrying that RunResult.
    """
    env = environment.info()
    load_before = environment.load_average()
    cores = environment.usable_cores()
    if config.switch_interval_s is not None:
        env["switch_interval_s"] = config.switch_interval_s
    cells_plan = plan(config)
    total = len(cells_plan)
    sizes = dict(config.sizes)
    result = RunResult(
        environment=env,
        config=config,
        load_before=load_before,
        load_competing=bool(load_before and load_before[0] > LOAD_COMPETING),
    )
    done: list[Cell] = []
    serial: dict[str, Cell] = {}

    def save(**changes: Any) -> RunResult:
        nonlocal result
        result = replace(result, cells=tuple(done), config=replace(config, sizes=dict(sizes)), **changes)
        if out is not None:
            results.save(result, out / "results.json")
        return result

    with environment.switch_interval(config.switch_interval_s):
        try:
            for i, (impl, ex, workers) in enumerate(cells_plan):
                if progress:
                    progress(f"{config.workload} {impl} {ex} w{workers}", i, total)
                if impl not in sizes:
                    try:
                        sizes[impl] = pick_size(config.workload, impl, config.target_s)[0]
                    except _native.NotBuiltError:
                        sizes[impl] = 0
                cell = measure_cell(
                    config.workload,
                    impl,
                    ex,
                    workers,
                    config.n_tasks,
                    sizes[impl],
                    config.repeat,
                    config.probe_interval_s,
                )
                if ex == "serial":
                    serial[impl] = cell
                cell = replace(with_speedup(cell, serial.get(impl), cores), interpreter=env["interpreter"])
                done.append(cell)
                save()
            if progress:
                progress("done", total, total)
            return save(load_after=environment.load_average())
        except KeyboardInterrupt:
            raise Interrupted(save(load_after=environment.load_average(), interrupted=True)) from None


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during a run: ``result`` holds the cells measured so far (already saved, marked interrupted)."""

    def __init__(self, result: RunResult) -> None:
        super().__init__("interrupted")
        self.result = result
