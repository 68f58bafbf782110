"""The one harness: every workload × impl × executor × workers cell is measured by the same code."""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from gillab import _native, environment
from gillab.harness import executors, results
from gillab.harness.calibrate import pick_size
from gillab.harness.measure import Probe, Sampler, cpu_seconds
from gillab.harness.results import Cell, RunResult, Span
from gillab.harness.worker import TaskOutcome, run_task, warm
from gillab.workloads import EXACT_COUNTERS, kernel
from gillab.workloads.jobs import agrees, expected

CV_NOISY = 0.10
"""A cell whose coefficient of variation exceeds this is flagged noisy."""
LOAD_COMPETING = 0.5
"""A 1-minute load average above this many busy cores before the run means other work competes."""


@dataclass(frozen=True)
class RunConfig:
    """What to run: the matrix and how to measure it."""

    workload: str = "fib"
    impls: tuple[str, ...] = ("python", "cython-gil", "cython-nogil")
    executors: tuple[str, ...] = ("thread", "process")
    workers: tuple[int, ...] = (1, 2, 4)
    tasks: int | None = None
    """Tasks per cell; None means the largest worker count."""
    sizes: dict[str, int] = field(default_factory=dict)
    """Task size per impl; an impl not named here is calibrated."""
    repeat: int = 5
    target_s: float = 0.08
    probe_interval_s: float = 0.001
    switch_interval_s: float | None = None

    @property
    def n_tasks(self) -> int:
        """The tasks in every cell."""
        return self.tasks if self.tasks is not None else max(self.workers)


class CellError(Exception):
    """A cell could not be measured; the message is its one-line reason."""


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


def _stats(walls: list[float]) -> tuple[float, float, float]:
    """Return median, IQR and coefficient of variation."""
    med = statistics.median(walls)
    if len(walls) < 2:
        return med, 0.0, 0.0
    q1, _, q3 = statistics.quantiles(walls, n=4, method="inclusive")
    mean = statistics.fmean(walls)
    return med, q3 - q1, (statistics.stdev(walls) / mean if mean > 0 else 0.0)


def _timeline(outs: list[TaskOutcome], release_ns: int) -> tuple[Span, ...]:
    lanes: dict[tuple[int, int], int] = {}
    for o in sorted(outs, key=lambda o: o.start_ns):
        lanes.setdefault((o.pid, o.tid), len(lanes))
    return tuple(
        Span(lanes[(o.pid, o.tid)], f"{o.pid}/{o.tid}", (o.start_ns - release_ns) / 1e9, (o.end_ns - release_ns) / 1e9)
        for o in sorted(outs, key=lambda o: o.index)
    )


def _check(
    workload: str, impl: str, ex: executors.Executor, outs: list[TaskOutcome], size: int, tasks: int
) -> int | None:
    """Check every task's result against the reference; return lost counter updates where they can be counted."""
    per_task_counts = not (workload == "counter" and ex.shares_memory and ex.name != "serial")
    if per_task_counts:
        want = expected(workload, size)
        for o in outs:
            if not agrees(workload, o.result, want):
                raise CellError(f"wrong result: task {o.index} returned {o.result!r}, the python impl gives {want!r}")
    if workload != "counter" or not ex.shares_memory:
        return None
    k = kernel(workload, impl)
    assert k.value is not None
    lost = tasks * size - k.value()
    if lost and impl in EXACT_COUNTERS:
        raise CellError(f"wrong result: {impl} lost {lost} of {tasks * size} updates, and it must lose none")
    return lost


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
        k = kernel(workload, impl)
    except _native.NotBuiltError as exc:
        return replace(base, reason=str(exc))
    base = replace(base, releases_gil=k.releases_gil)
    ex = executors.make(executor, workers)
    try:
        ex.start(warm, (workload, impl, size))
        walls: list[float] = []
        cpus: list[float] = []
        losts: list[int] = []
        gil_waits = []
        states = []
        outs: list[TaskOutcome] = []
        release = 0
        for _ in range(repeat):
            if k.reset is not None and ex.shares_memory:
                k.reset()
            pids = ex.worker_pids()
            probe = Probe(probe_interval_s)
            sampler = Sampler([os.getpid(), *pids])
            roles = {tid: f"worker {i}" for i, (_, tid) in enumerate(ex.worker_ids)}
            roles[probe.start()] = "gil-probe"
            sampler.start()
            cpu0 = cpu_seconds(pids)
            release = time.monotonic_ns() + int(ex.release_delay_s * 1e9)
            outs = ex.run([(run_task, (workload, impl, size, i, release)) for i in range(tasks)])
            finish = time.monotonic_ns()
            wall = (finish - release) / 1e9
            cpu1 = cpu_seconds(pids)
            st = sampler.stop(roles)
            gw = probe.stop(release, finish)
            walls.append(wall)
            cpus.append(max(0.0, cpu1 - cpu0 - gw.cpu_s - st.cpu_s))
            gil_waits.append(gw)
            states.append(st)
            lost = _check(workload, impl, ex, outs, size, tasks)
            if lost is not None:
                losts.append(lost)
    except KeyboardInterrupt:
        ex.shutdown(kill=True)
        raise
    except BrokenProcessPool as exc:
        ex.shutdown(kill=True)
        return replace(base, status="failed", reason=f"a worker process died ({_one_line(exc)})")
    except CellError as exc:
        ex.shutdown(kill=True)
        return replace(base, status="failed", reason=str(exc))
    except Exception as exc:  # foreign faults in a task: report, go on with the next cell
        ex.shutdown(kill=True)
        return replace(base, status="failed", reason=_one_line(exc))
    ex.shutdown()
    med, iqr, cv = _stats(walls)
    mid = walls.index(sorted(walls)[len(walls) // 2])  # the repeat nearest the median speaks for the cell
    gw, st = gil_waits[mid], states[mid]
    return replace(
        base,
        status="ok",
        wall_s=tuple(walls),
        cpu_s=tuple(cpus),
        median_wall_s=med,
        iqr_s=iqr,
        cv=cv,
        noisy=cv > CV_NOISY,
        cpu_utilization=statistics.median(c / w for c, w in zip(cpus, walls, strict=True) if w > 0),
        startup_s=ex.startup_s,
        gil_wait=gw,
        threads_running_mean=st.threads_running_mean,
        thread_states=st.threads,
        thread_states_note=st.reason,
        lost_updates=tuple(losts) if losts else None,
        timeline=_timeline(outs, release),
    )


def with_speedup(cell: Cell, serial: Cell | None, cores: int) -> Cell:
    """Fill in speedup and efficiency against the serial cell of the same impl, size and tasks."""
    if cell.status != "ok" or serial is None or serial.status != "ok" or not cell.median_wall_s:
        return cell
    assert serial.median_wall_s is not None
    speedup = serial.median_wall_s / cell.median_wall_s
    ideal = max(1, min(cell.workers, cell.tasks, cores))
    return replace(cell, speedup=speedup, efficiency=speedup / ideal)


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
    """Run the whole matrix; write results.json after every cell; on Ctrl-C keep what was measured and re-raise."""
    env = environment.info()
    load_before = environment.load_average()
    cores = environment.usable_cores()
    old_switch = sys.getswitchinterval()
    if config.switch_interval_s is not None:
        sys.setswitchinterval(config.switch_interval_s)
        env["switch_interval_s"] = config.switch_interval_s
    cells_plan = plan(config)
    total = len(cells_plan)
    sizes = dict(config.sizes)
    cfg = asdict(config) | {"tasks": config.n_tasks}
    result = RunResult(
        environment=env,
        config=cfg,
        load_before=load_before,
        load_competing=bool(load_before and load_before[0] > LOAD_COMPETING),
    )
    done: list[Cell] = []
    serial: dict[str, Cell] = {}

    def save(**changes: Any) -> RunResult:
        nonlocal result
        result = replace(result, cells=tuple(done), config=cfg | {"sizes": dict(sizes)}, **changes)
        if out is not None:
            results.save(result, out / "results.json")
        return result

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
                config.workload, impl, ex, workers, config.n_tasks, sizes[impl], config.repeat, config.probe_interval_s
            )
            if ex == "serial":
                serial[impl] = cell
            cell = with_speedup(cell, serial.get(impl), cores)
            done.append(cell)
            save()
        if progress:
            progress("done", total, total)
        return save(load_after=environment.load_average())
    except KeyboardInterrupt:
        save(load_after=environment.load_average(), interrupted=True)
        raise
    finally:
        sys.setswitchinterval(old_switch)


def cells_by(cells: Iterable[Cell], **match: Any) -> list[Cell]:
    """Return the cells whose fields equal every given value."""
    return [c for c in cells if all(getattr(c, k) == v for k, v in match.items())]
