"""The one harness: every workload × impl × executor × workers cell is measured by the same code.

How a matrix is measured (run_matrix):

- Cells are grouped by impl. All cells of one impl, its serial baseline included, are started together
  (pools created and warmed, never timed) and stay alive while that impl is measured; only one impl's
  pools are alive at a time, which bounds memory. Speedups only compare cells of the same impl.
- The repeats run in rounds. Each round runs every cell of the group once, in an order shuffled by a
  seeded RNG (round_order), so that slow drifts and passing load fall on every cell alike, as Google
  Benchmark's random interleaving does.
- A cell's speedup is the median over rounds of (serial wall in that round ÷ this cell's wall in that
  round), with a 95% bootstrap interval over those ratios (stats.bootstrap_ci, fixed seed); efficiency
  is speedup ÷ min(workers, tasks, usable cores), with the interval divided alike.
- Each repeat records the interference of other processes and steal (harness.interference). A disturbed
  repeat (at least DISTURBED_CORES) is dropped and measured again once the machine is quiet, within
  --max-wait seconds per cell and at most --repeat extra repeats per cell; one that cannot be measured
  quietly is kept and flagged.
- Before each round a fixed native spin is timed (the speed probe): its drift is the machine's own speed
  changing, which nothing inside the machine can see otherwise.
- After --min-repeat rounds, the rounds stop once every cell's interval is within CONVERGED of its speedup,
  else at --repeat rounds.
- A cell is flagged noisy, with its reason in words, when it kept a disturbed repeat, when its CV is over
  CV_NOISY, when its interval's half-width is over CI_NOISY of its speedup, or when its efficiency is over
  EFFICIENCY_IMPOSSIBLE.
"""

from __future__ import annotations

import contextlib
import os
import random
import time
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from gillab import _native, environment, stats
from gillab.harness import engines, executors, interference, pools, results
from gillab.harness.calibrate import pick_size
from gillab.harness.gilstate import BUDGET, DEFAULT_INTERVAL_S, GilSampler, GilState, not_sampled
from gillab.harness.interference import Interference
from gillab.harness.measure import SPEED_DRIFT, GilWait, Probe, Sampler, SpinProbe, ThreadStates
from gillab.harness.results import Cell, RepeatRecord, RunConfig, RunResult, Span, SpeedProbe
from gillab.harness.worker import TaskOutcome, run_task, warm
from gillab.workloads import exact_counters, get, kernel
from gillab.workloads.jobs import agrees, expected

CV_NOISY = 0.10
"""A cell whose coefficient of variation exceeds this is flagged noisy."""
CI_NOISY = 0.10
"""A cell whose speedup interval's half-width exceeds this share of its speedup is flagged noisy."""
CONVERGED = 0.05
"""Rounds stop once every cell's speedup interval half-width is within this share of its speedup."""
EFFICIENCY_IMPOSSIBLE = 1.05
"""An efficiency above this cannot happen on a machine whose speed holds still: flagged, with the drift."""
LOAD_COMPETING = 0.5
"""A 1-minute load average above this many busy cores before the run means other work competes."""


class CellError(Exception):
    """A cell could not be measured; the message is its one-line reason."""


def one_line(exc: BaseException) -> str:
    """Return an exception as one line: its type and the first line of its message."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


def _timeline(outs: list[TaskOutcome], release_ns: int, workers: list[tuple[int, int]]) -> tuple[Span, ...]:
    """Every task as a span on its worker's lane: lane i is the executor's worker i (as the GIL states')."""
    lanes: dict[tuple[int, int], int] = {w: i for i, w in enumerate(workers)}
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
    interference: Interference = interference.NONE
    gil: GilState | None = None
    round: int = 0
    seq: int = 0
    dropped: bool = False
    disturbed: bool = False


EXECUTORS = executors.EXECUTORS + engines.DASK_EXECUTORS
"""Every executor a cell can name: the standard library's, and dask.distributed's (with the extra)."""


def executor_unavailable(name: str) -> str | None:
    """Return why an executor cannot run here, or None when it can."""
    if name in engines.DASK_EXECUTORS:
        return engines.unavailable()
    return executors.unavailable_reason(name)


def make_executor(name: str, workers: int, scheduler: str | None = None) -> executors.Executor:
    """Return an executor by name (not yet started); scheduler: an existing dask cluster's address."""
    if name in engines.DASK_EXECUTORS:
        return engines.make(name, workers, scheduler)
    return executors.make(name, workers)


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
        gil_interval_s: float | None = DEFAULT_INTERVAL_S,
        gil_budget: float = BUDGET,
        scheduler: str | None = None,
    ) -> None:
        """gil_interval_s: the GIL-state sampler's interval asked for, or None for no sampler; gil_budget: the
        share of one core it may use (0: no limit)."""
        self.workload, self.impl, self.tasks, self.size = workload, impl, tasks, size
        self.probe_interval_s = probe_interval_s
        self.gil_interval_s, self.gil_budget = gil_interval_s, gil_budget
        self.kernel = kernel(workload, impl)  # NotBuiltError when its variant is not built
        self.ex = make_executor(executor, workers, scheduler)
        self.repeats: list[Repeat] = []

    def start(self) -> None:
        """Create the workers and prepare the task in each."""
        self.ex.start(warm, (self.workload, self.impl, self.size))

    def run_once(self, release_delay_s: float | None = None, round_: int = 0, seq: int = 0) -> Repeat:
        """Release every task together, wait for all, measure, and check the results; CellError if wrong."""
        ex, k = self.ex, self.kernel
        if k.reset is not None and ex.shares_memory:
            k.reset()
        pids = ex.worker_pids()
        probe = Probe(self.probe_interval_s)
        sampler = Sampler([os.getpid(), *pids])
        roles = {tid: f"worker {i}" for i, (_, tid) in enumerate(ex.worker_ids)}
        roles[probe.start()] = "gil-probe"
        gil: GilSampler | None = None
        stopped = False
        try:
            sampler.start()
            here = [(pid, tid) for pid, tid in ex.worker_ids if pid == os.getpid() and tid in ex.thread_idents]
            gil = (
                GilSampler(
                    [(f"worker {ex.worker_ids.index(w)}", w[1], *ex.thread_idents[w[1]]) for w in here],
                    self.gil_interval_s,
                    self.gil_budget,
                )
                if here and environment.gil_enabled() and self.gil_interval_s is not None
                else None
            )
            if gil is not None:
                gil.start()
            ex.instruments_start(self.gil_interval_s)
            snap0 = interference.snapshot()
            cpu0 = ex.cpu_seconds()
            delay = ex.release_delay_s if release_delay_s is None else release_delay_s
            release = time.monotonic_ns() + int(delay * 1e9)
            outs = ex.run([(run_task, (self.workload, self.impl, self.size, i, release)) for i in range(self.tasks)])
            finish = time.monotonic_ns()
            cpu1 = ex.cpu_seconds()
            snap1 = interference.snapshot()
            spans: dict[int, list[tuple[int, int]]] = {}
            for o in outs:
                spans.setdefault(o.tid, []).append((o.start_ns, o.end_ns))
            inside_gw, inside_gil = ex.instruments_stop(spans, release, finish)
            if inside_gil is not None:
                gil_state = inside_gil
            elif gil is not None:
                gil_state = gil.stop(spans, release, finish)
            else:
                gil_state = not_sampled(ex.name, self.gil_interval_s)
            st = sampler.stop(roles)
            gw = probe.stop(release, finish)
            stopped = True
        finally:
            if not stopped:  # a task failed, a worker died or Ctrl-C: no instrument thread may outlive the repeat
                _stop_quietly(probe, sampler, gil)
        lost = _check(self.workload, self.impl, ex, outs, self.size, self.tasks)
        wall = (finish - release) / 1e9
        own = gw.cpu_s + st.cpu_s + (gil_state.overhead or 0.0) * wall  # the instruments' CPU, not the work's
        if inside_gw is not None:  # the GIL that matters is the workers' own: their probe speaks for them
            own += inside_gw.cpu_s
            gw = inside_gw
        rep = Repeat(
            wall,
            max(0.0, cpu1 - cpu0 - own),
            gw,
            st,
            lost,
            _timeline(outs, release, ex.worker_ids),
            interference.between(snap0, snap1, cpu1 - cpu0),
            gil_state,
            round_,
            seq,
        )
        self.repeats.append(rep)
        return rep

    def drop_last(self, kept: bool) -> None:
        """Mark the last repeat as disturbed: dropped (measured again) or, with kept, kept and flagged."""
        self.repeats[-1] = replace(self.repeats[-1], dropped=not kept, disturbed=kept)

    def kept(self) -> list[Repeat]:
        """The repeats that count: not dropped (at most one per round when run in rounds)."""
        return [r for r in self.repeats if not r.dropped]

    def summary(self) -> Cell:
        """Return the Cell of the kept repeats (the one nearest the median speaks for GIL wait and states).

        Speedup and its interval are filled in by :func:`with_speedup`, against the serial cell's rounds.
        """
        kept = self.kept()
        walls = [r.wall_s for r in kept]
        cpus = [r.cpu_s for r in kept]
        med, iqr, cv = stats.spread(walls)
        mid = kept[stats.nearest_median(walls)]
        losts = [r.lost_updates for r in kept if r.lost_updates is not None]
        measured = [r.interference for r in kept if r.interference.others_cores is not None]
        itf = None
        available = None
        if measured:
            others = stats.median([i.others_cores or 0.0 for i in measured])
            steal = stats.median([i.steal_cores or 0.0 for i in measured])
            itf = Interference(others, steal, stats.median([i.resolution_cores or 0.0 for i in measured]))
            available = max(0.0, environment.usable_cores() - others - steal)
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
            cpu_utilization=stats.median([c / w for c, w in zip(cpus, walls, strict=True) if w > 0]),
            startup_s=self.ex.startup_s,
            task_overhead_s=self.ex.overhead_s,
            gil_wait=mid.gil_wait,
            threads_running_mean=mid.states.threads_running_mean,
            thread_states=mid.states.threads,
            thread_states_note=mid.states.reason,
            lost_updates=tuple(losts) if losts else None,
            timeline=mid.timeline,
            gil=mid.gil,
            repeats=tuple(
                RepeatRecord(r.round, r.seq, r.wall_s, r.cpu_s, r.interference, r.dropped, r.disturbed)
                for r in self.repeats
            ),
            rounds=len(kept),
            interference=itf,
            available_cores=available,
            repeats_dropped=sum(1 for r in self.repeats if r.dropped),
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
    reason = executor_unavailable(executor)
    if reason:
        return replace(base, reason=reason)
    try:
        session = CellSession(workload, impl, executor, workers, tasks, size, probe_interval_s)
    except _native.NotBuiltError as exc:
        return replace(base, reason=str(exc))
    try:
        session.start()
        for _ in range(repeat):
            session.run_once()
    except KeyboardInterrupt:
        session.close(kill=True)
        raise
    except Exception as exc:  # foreign faults in a task: report, go on with the next cell
        session.close(kill=True)
        return _failed(session, exc)
    session.close()
    return flag_noise(session.summary(), environment.usable_cores())


def round_ratios(cell: Cell, serial: Cell) -> list[float]:
    """Return, round by round, the serial wall ÷ this cell's wall (kept repeats of rounds both measured)."""
    mine = {r.round: r.wall_s for r in cell.repeats if not r.dropped}
    base = {r.round: r.wall_s for r in serial.repeats if not r.dropped}
    return [base[k] / mine[k] for k in sorted(mine) if k in base and mine[k] > 0]


def with_speedup(cell: Cell, serial: Cell | None, cores: int, drift: float | None = None) -> Cell:
    """Fill in speedup, efficiency and their intervals against the serial cell of the same impl; flag noise.

    With rounds, the speedup is the median of the per-round ratios; a cell measured outside rounds (one
    round each) falls back to the ratio of the medians.
    """
    if cell.status != "ok" or serial is None or serial.status != "ok" or not cell.median_wall_s:
        return flag_noise(cell, cores, drift)
    assert serial.median_wall_s is not None
    ratios = round_ratios(cell, serial)
    if len(ratios) >= 2:
        speedup = stats.median(ratios)
        ci = stats.bootstrap_ci(ratios)
    else:
        speedup = stats.speedup(serial.median_wall_s, cell.median_wall_s)
        ci = (speedup, speedup)
    ideal = stats.ideal(cell.workers, cell.tasks, cores)
    done = replace(
        cell,
        speedup=speedup,
        efficiency=speedup / ideal,
        speedup_ci95=ci,
        efficiency_ci95=(ci[0] / ideal, ci[1] / ideal),
    )
    return flag_noise(done, cores, drift)


def flag_noise(cell: Cell, cores: int, drift: float | None = None) -> Cell:
    """Set noisy and noise_reason from the cell's own figures (see the module docstring)."""
    if cell.status != "ok":
        return cell
    reasons = []
    disturbed = [r for r in cell.repeats if r.disturbed]
    if disturbed:
        others = stats.median([r.interference.others_cores or 0.0 for r in disturbed])
        steal = stats.median([r.interference.steal_cores or 0.0 for r in disturbed])
        kept = sum(1 for r in cell.repeats if not r.dropped)
        what = f"other processes used {others:.1f} of {cores} cores"
        if steal >= 0.05:
            what += f" and the hypervisor stole {steal:.1f}"
        reasons.append(f"{what} during {len(disturbed)} of {kept} repeats, and no quiet moment came")
    if cell.cv is not None and cell.cv > CV_NOISY:
        reasons.append(f"its walls varied by a CV of {cell.cv:.0%} (over {CV_NOISY:.0%})")
    if cell.speedup and cell.speedup_ci95 and stats.half_width(cell.speedup_ci95) > CI_NOISY * cell.speedup:
        hw = stats.half_width(cell.speedup_ci95)
        reasons.append(f"its speedup interval is ±{hw:.2f}, over {CI_NOISY:.0%} of {cell.speedup:.2f}")
    if cell.efficiency is not None and cell.efficiency > EFFICIENCY_IMPOSSIBLE:
        likely = (
            f"the machine's own speed drifted by {drift:.0%} during the run (speed probe)"
            if drift is not None and drift > SPEED_DRIFT
            else "the serial baseline ran slow in its rounds"
        )
        reasons.append(
            f"its efficiency {cell.efficiency:.2f} is above {EFFICIENCY_IMPOSSIBLE}, impossible on a machine "
            f"that holds its speed; likely {likely}"
        )
    return replace(cell, noisy=bool(reasons), noise_reason="; ".join(reasons))


Progress = Callable[[str, int, int], None]


def round_order(seed: int, group: int, round_: int, keys: list[tuple[str, str, int]]) -> list[tuple[str, str, int]]:
    """Return the cells of one round in the order they run: the keys shuffled by Random(seed, group, round)."""
    order = list(keys)
    random.Random(f"{seed}/{group}/{round_}").shuffle(order)
    return order


@dataclass
class _Budget:
    """What one cell may still spend on measuring disturbed repeats again."""

    wait_s: float
    extra: int


def _stop_quietly(probe: Probe, sampler: Sampler, gil: GilSampler | None) -> None:
    """Stop the instruments of a repeat that did not finish, whatever state each is in."""
    with contextlib.suppress(Exception):
        probe.stop(0, 0)
    with contextlib.suppress(Exception):
        sampler.stop({})
    if gil is not None:
        with contextlib.suppress(Exception):
            gil.stop({}, 0, 0)


def _failed(session: CellSession, exc: BaseException) -> Cell:
    base = Cell(
        session.workload,
        session.impl,
        session.ex.name,
        session.ex.workers,
        session.tasks,
        session.size,
        status="failed",
        releases_gil=session.kernel.releases_gil,
    )
    if isinstance(exc, BrokenProcessPool):
        return replace(base, reason=f"a worker process died ({one_line(exc)})")
    if isinstance(exc, CellError):
        return replace(base, reason=str(exc))
    return replace(base, reason=one_line(exc))


NOT_MEASURED = "no repeat was measured"


class _Group:
    """Every cell of one impl, started together and measured in interleaved rounds."""

    def __init__(self, config: RunConfig, impl: str, size: int, group: int, cores: int) -> None:
        self.config, self.impl, self.size, self.group, self.cores = config, impl, size, group, cores
        self.keys = plan_impl(config, impl)
        self.sessions: dict[tuple[str, str, int], CellSession] = {}
        self.finished: dict[tuple[str, str, int], Cell] = {}
        self.budget: dict[tuple[str, str, int], _Budget] = {}

    def start(self) -> None:
        """Create and warm every cell's workers; a cell that cannot start is finished as skipped or failed."""
        cfg = self.config
        for key in self.keys:
            impl, ex, workers = key
            base = Cell(cfg.workload, impl, ex, workers, cfg.n_tasks, self.size, status="skipped")
            reason = executor_unavailable(ex)
            if reason:
                self.finished[key] = replace(base, reason=reason)
                continue
            try:
                session = CellSession(
                    cfg.workload, impl, ex, workers, cfg.n_tasks, self.size, cfg.probe_interval_s,
                    1 / cfg.gil_rate_hz if cfg.gil_rate_hz else None, scheduler=cfg.scheduler,
                )  # fmt: skip
            except _native.NotBuiltError as exc:
                self.finished[key] = replace(base, reason=str(exc))
                continue
            self.sessions[key] = session
            try:
                session.start()
            except KeyboardInterrupt:
                raise
            except Exception as exc:  # a pool that cannot start fails its cell, not the run
                self._fail(key, exc)
                continue
            self.budget[key] = _Budget(cfg.max_wait_s, cfg.repeat)

    def _fail(self, key: tuple[str, str, int], exc: BaseException) -> None:
        session = self.sessions.pop(key)
        session.close(kill=True)
        self.finished[key] = _failed(session, exc)

    def measure(self, key: tuple[str, str, int], round_: int, seq: int) -> int:
        """Run one repeat of a cell in this round, again after a quiet wait while disturbed; return seq."""
        session, budget = self.sessions[key], self.budget[key]
        try:
            while True:
                rep = session.run_once(round_=round_, seq=seq)
                seq += 1
                if not rep.interference.disturbed:
                    return seq
                if budget.extra <= 0 or budget.wait_s <= 0:
                    session.drop_last(kept=True)
                    return seq
                quiet, waited = interference.wait_for_quiet(budget.wait_s)
                budget.wait_s -= waited
                if not quiet:
                    session.drop_last(kept=True)
                    return seq
                session.drop_last(kept=False)
                budget.extra -= 1
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # a fault in a task fails its cell; the others go on
            self._fail(key, exc)
            return seq

    def converged(self, cells: list[Cell]) -> bool:
        """Whether every live cell's speedup interval is within CONVERGED of its speedup.

        cells: this group's cells as :meth:`cells` returns them, intervals already computed.
        """
        by_key = dict(zip(self.keys, cells, strict=True))
        serial = by_key[(self.impl, "serial", 1)]
        if serial.reason == NOT_MEASURED:
            return True
        for key in self.sessions:
            c = by_key[key]
            if key[1] == "serial":
                continue
            if len(round_ratios(c, serial)) < 2 or c.speedup is None or c.speedup_ci95 is None:
                return False
            if stats.half_width(c.speedup_ci95) > CONVERGED * c.speedup:
                return False
        return True

    def cells(self, drift: float | None) -> list[Cell]:
        """Return every cell of the group in plan order, with speedups against the serial cell's rounds."""
        out: dict[tuple[str, str, int], Cell] = dict(self.finished)
        for key, session in self.sessions.items():
            if session.kept():
                out[key] = session.summary()
            else:
                out[key] = replace(_failed(session, CellError(NOT_MEASURED)), status="skipped")
        serial = out.get((self.impl, "serial", 1))
        return [with_speedup(out[k], serial, self.cores, drift) for k in self.keys]

    def close(self, kill: bool = False) -> None:
        """Shut every live cell's workers down."""
        for session in self.sessions.values():
            session.close(kill=kill)


def plan_impl(config: RunConfig, impl: str) -> list[tuple[str, str, int]]:
    """Return one impl's cells: its serial baseline, then each executor at each worker count."""
    cells = [(impl, "serial", 1)]
    for ex in config.executors:
        if ex != "serial":
            cells.extend((impl, ex, w) for w in config.workers)
    return cells


def _engine(config: RunConfig) -> dict[str, Any] | None:
    """The engine block of a run with dask cells (None without them, or without the extra)."""
    if not set(config.executors) & set(engines.DASK_EXECUTORS) or engines.unavailable():
        return None
    if config.scheduler is None:
        return engines.local_engine()
    try:
        return engines.cluster_facts(config.scheduler)
    except engines.EngineError as exc:
        return {"engine": "dask.distributed", "scheduler": config.scheduler, "error": str(exc)}


def run_matrix(config: RunConfig, out: Path | None, progress: Progress | None = None) -> RunResult:
    """Run the whole matrix in interleaved rounds, impl by impl; write results.json after every round.

    A results.json written mid-run has load_after null; the finished run's has it set.

    On Ctrl-C the cells measured so far (the current impl's too, where a round reached them) are saved,
    marked interrupted, and :class:`Interrupted` (a KeyboardInterrupt) is raised carrying that RunResult.
    """
    env = environment.info()
    load_before = environment.load_average()
    cores = environment.usable_cores()
    if config.switch_interval_s is not None:
        env["switch_interval_s"] = config.switch_interval_s
    sizes = dict(config.sizes)
    spin = SpinProbe()
    engine = _engine(config)
    if engine and isinstance(engine.get("workers"), list):
        env["dask_workers"] = engine["workers"]  # an existing cluster: its hosts, threads and Pythons
    result = RunResult(
        environment=env,
        config=config,
        load_before=load_before,
        load_competing=bool(load_before and load_before[0] > LOAD_COMPETING),
        interleave={
            "seed": config.seed,
            "groups": "per impl: the serial baseline and every executor of one impl are alive together",
            "order": "round_order(seed, group, round, cells) in gillab.harness.runner",
        },
        interference_note="" if interference.available() else interference.UNAVAILABLE,
        engine=engine,
    )
    done: list[Cell] = []
    total = len(config.impls) * config.repeat

    def probe_record() -> SpeedProbe:
        ms = tuple(t * 1e3 for t in spin.spin_s)
        return SpeedProbe(ms, spin.drift(), stats.cv(ms) if len(ms) >= 2 else None)

    def save(extra: list[Cell] | None = None, **changes: Any) -> RunResult:
        nonlocal result
        cells = tuple(c for c in [*done, *(extra or [])])
        cells = tuple(replace(c, interpreter=env["interpreter"]) for c in cells)
        result = replace(
            result, cells=cells, config=replace(config, sizes=dict(sizes)), speed_probe=probe_record(), **changes
        )
        if out is not None:
            results.save(result, out / "results.json")
        return result

    group: _Group | None = None
    seq = 0
    with environment.switch_interval(config.switch_interval_s), pools.pin_to_one():
        env["threadpools"] = pools.pinned()
        env["threadpools_note"] = "every BLAS and OpenMP pool pinned to 1 thread while measuring (threadpoolctl)"
        try:
            for gi, impl in enumerate(config.impls):
                if progress:
                    progress(f"{config.workload} {impl}: starting its workers", gi * config.repeat, total)
                if impl not in sizes:
                    try:
                        sizes[impl] = pick_size(config.workload, impl, config.target_s)[0]
                    except _native.NotBuiltError:
                        sizes[impl] = 0
                group = _Group(config, impl, sizes[impl], gi, cores)
                group.start()
                for r in range(config.repeat):
                    if progress:
                        progress(f"{config.workload} {impl}: round {r + 1}", gi * config.repeat + r, total)
                    spin.measure()
                    for key in round_order(config.seed, gi, r, list(group.sessions)):
                        if key in group.sessions:
                            seq = group.measure(key, r, seq)
                    cells = group.cells(spin.drift())
                    save(cells)  # every round on disk: a kill loses at most one round
                    if r + 1 >= config.min_repeat and group.converged(cells):
                        break
                group.close()
                done.extend(group.cells(spin.drift()))
                group = None
                save()
            if progress:
                progress("done", total, total)
            return save(load_after=environment.load_average())
        except KeyboardInterrupt:
            partial: list[Cell] = []
            if group is not None:
                group.close(kill=True)
                partial = [c for c in group.cells(spin.drift()) if c.reason != NOT_MEASURED]
            raise Interrupted(save(partial, load_after=environment.load_average(), interrupted=True)) from None


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during a run: ``result`` holds the cells measured so far (already saved, marked interrupted)."""

    def __init__(self, result: RunResult) -> None:
        super().__init__("interrupted")
        self.result = result
