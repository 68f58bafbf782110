"""One cell's executor and its instruments: started once, then timed repeat after repeat.

A :class:`CellSession` is what both `gillab run` and bench/ time. ``start()`` (or entering it as a context
manager) creates and warms the pool, never timed; each ``run_once()`` releases every task together, waits for
all, reads the instruments and checks every result against the reference; ``summary()`` turns the repeats
into a :class:`~gillab.harness.results.Cell`. The instruments of a repeat are one context manager
(gillab.harness.repeat_instruments), stopped on every exit.
"""

from __future__ import annotations

import pickle
import time
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from types import TracebackType
from typing import Any

from gillab import environment, stats
from gillab.environment import gil_turned_on
from gillab.errors import CellError, one_line
from gillab.harness import executors, gilstate, interference
from gillab.harness.gilstate import (
    BUDGET,
    DEFAULT_INTERVAL_S,
    GilState,
    Settled,
)
from gillab.harness.instruments import GilWait, ThreadStates
from gillab.harness.interference import Interference
from gillab.harness.repeat_instruments import Instruments
from gillab.harness.results import Cell, PerCall, RepeatRecord, Span, Status
from gillab.harness.worker import TaskOutcome, run_task, warm
from gillab.workloads import exact_counters, get, kernel
from gillab.workloads.base import Workload
from gillab.workloads.jobs import agrees, expected, job
from gillab.workloads.target import comparable


@dataclass(frozen=True)
class Repeat:
    """One timed run of a cell's tasks and what the instruments saw during it."""

    wall_s: float
    cpu_s: float
    gil_wait: GilWait | None
    """The GIL-wait probe's figure, where the probe ran in this repeat."""
    states: ThreadStates
    lost_updates: int | None
    timeline: tuple[Span, ...]
    interference: Interference = interference.NONE
    gil: GilState | None = None
    round: int = 0
    seq: int = 0
    dropped: bool = False
    disturbed: bool = False
    gc_s: float | None = None
    """Time this interpreter's cycle collector ran during the repeat (workers in this interpreter only)."""
    gc_collections: int | None = None

    @property
    def probed(self) -> bool:
        """Whether the GIL-wait probe ran in this repeat (and so took the GIL every millisecond)."""
        return self.gil_wait is not None


PICKLE_TRIALS = 50


def per_call(call: object, outcome: TaskOutcome) -> PerCall:
    """What one task costs to send to a worker that shares no memory, and back: its pickled sizes, and the
    median time of pickle.dumps and pickle.loads of both, here (a worker unpickles what this process pickled)."""
    sent, back = pickle.dumps(call), pickle.dumps(outcome)
    times = []
    for _ in range(PICKLE_TRIALS):
        t0 = time.perf_counter()
        pickle.loads(pickle.dumps(call))
        pickle.loads(pickle.dumps(outcome))
        times.append(time.perf_counter() - t0)
    return PerCall(len(sent), len(back), stats.median(times))


def timeline(
    outs: list[TaskOutcome], release_ns: int, workers: list[tuple[int, int]]
) -> tuple[Span, ...]:
    """Every task as a span on its worker's lane: lane i is the executor's worker i (as the GIL states')."""
    lanes: dict[tuple[int, int], int] = {w: i for i, w in enumerate(workers)}
    for o in sorted(outs, key=lambda o: o.start_ns):
        lanes.setdefault((o.pid, o.tid), len(lanes))
    return tuple(
        Span(
            lanes[(o.pid, o.tid)],
            f"{o.pid}/{o.tid}",
            (o.start_ns - release_ns) / 1e9,
            (o.end_ns - release_ns) / 1e9,
        )
        for o in sorted(outs, key=lambda o: o.task)
    )


class CellSession:
    """One cell's executor, started once and run many times (see the module docstring)."""

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
        self.settled = Settled()
        self.kernel = kernel(workload, impl)  # NotBuiltError when its variant is not built
        self.ex = executors.make(executor, workers, scheduler)
        self.repeats: list[Repeat] = []
        self.per_call: PerCall | None = None
        self.work = get(workload)
        self.payloads = self.work.payloads(size, tasks)
        """Each task's input, sent with its call (the user's target); None for gillab's own workloads."""
        self.unchecked = ""
        """Why the tasks' results could not be compared with the serial ones ("" where they were)."""
        self.reference: dict[int, Any] | None = None
        """Where tasks bring their own inputs: the serial baseline's result for each task (set by its group)."""
        self.gil_on = ""
        """On a free-threaded build: what turned its GIL back on when the task was imported ("" where nothing)."""

    def start(self) -> None:
        """Create the workers and prepare the task in each; on a free-threaded build, say what turned the GIL
        back on, where importing the task did (the task is imported here first, where its warning is seen)."""
        self.gil_on = gil_turned_on(lambda: job(self.workload, self.impl, self.size))
        self.ex.start(warm, (self.workload, self.impl, self.size))

    def __enter__(self) -> CellSession:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close(kill=exc is not None)

    def wants_probe(self, round_: int) -> bool:
        """Whether the GIL-wait probe runs in this round's repeat.

        The probe wakes every millisecond and takes the GIL: beside a GIL-state sampler it would add its own
        hand-offs to the very switches the sampler counts. So where the sampler reads the workers' GIL, the
        probe runs in round 0 only (its GIL wait, the cross-check) and the GIL state is read from the other
        rounds; where the sampler cannot, it runs every round. Where the workers' GILs are not this process's
        (processes, interpreters), it would wait for nothing of theirs, and never runs.
        """
        ex = self.ex
        if not (ex.shares_gil or ex.runs_elsewhere):
            return False
        sampled = (
            self.gil_interval_s is not None
            and environment.gil_enabled()
            and not gilstate.unavailable()
        )
        return round_ == 0 or not sampled

    def run_once(
        self,
        release_delay_s: float | None = None,
        round_: int = 0,
        seq: int = 0,
        probe: bool | None = None,
    ) -> Repeat:
        """Release every task together, wait for all, measure, and check the results; CellError if wrong.

        probe: whether the GIL-wait probe runs (default: :meth:`wants_probe` for the round)."""
        ex = self.ex
        if self.kernel.reset is not None and ex.shares_memory:
            self.kernel.reset()
        probing = self.wants_probe(round_) if probe is None else probe
        interval = self.probe_interval_s if probing else None
        with Instruments(ex, interval, self.gil_interval_s, self.gil_budget, self.settled) as ins:
            snap0 = interference.snapshot()
            cpu0 = ex.cpu_seconds()
            delay = ex.release_delay_s if release_delay_s is None else release_delay_s
            release = time.monotonic_ns() + int(delay * 1e9)
            outs = ex.run([(run_task, self._call(i, release)) for i in range(self.tasks)])
            finish = time.monotonic_ns()
            cpu1 = ex.cpu_seconds()
            snap1 = interference.snapshot()
            spans: dict[int, list[tuple[int, int]]] = {}
            for o in outs:
                spans.setdefault(o.tid, []).append((o.start_ns, o.end_ns))
            seen = ins.read(spans, release, finish)
        lost = self._check(outs)
        if self.per_call is None and not ex.shares_memory and outs:
            self.per_call = per_call((run_task, self._call(outs[0].task, release)), outs[0])
        wall = (finish - release) / 1e9
        rep = Repeat(
            wall,
            max(0.0, cpu1 - cpu0 - seen.own_cpu_s),
            seen.gil_wait,
            seen.states,
            lost,
            timeline(outs, release, ex.worker_ids),
            interference.between(snap0, snap1, cpu1 - cpu0),
            seen.gil,
            round_,
            seq,
            gc_s=seen.gc.seconds if seen.gc else None,
            gc_collections=seen.gc.collections if seen.gc else None,
        )
        self.repeats.append(rep)
        return rep

    def _call(self, index: int, release_ns: int) -> tuple[Any, ...]:
        """Task index's arguments to run_task (its input last, where the workload sends one)."""
        base = (self.workload, self.impl, self.size, index, release_ns)
        return base if self.payloads is None else (*base, self.payloads[index])

    def reference_run(self) -> dict[int, Any]:
        """Run every task once, untimed and uncounted (this is the serial baseline), and return each task's
        result: the reference the other cells of its group are checked against."""
        release = time.monotonic_ns() + int(self.ex.release_delay_s * 1e9)
        outs = self.ex.run([(run_task, self._call(i, release)) for i in range(self.tasks)])
        return {o.task: o.result for o in outs}

    def _check(self, outs: list[TaskOutcome]) -> int | None:
        """Check every task's result against the reference; return lost counter updates where they can be
        counted."""
        w = self.work
        shared = w.shared_counter
        if self.payloads is not None:
            # the user's target: against the serial baseline's result, input by input
            self._check_against_serial(w, outs)
        # Tasks that share one counter with other tasks running at once cannot each see their own count.
        elif not (shared and self.ex.shares_memory and not self.ex.baseline):
            want = expected(self.workload, self.size)
            for o in outs:
                if not agrees(self.workload, o.result, want):
                    raise CellError(w.mismatch(o.task, o.result, want))
        if not shared or not self.ex.shares_memory:
            return None
        assert self.kernel.value is not None
        lost = self.tasks * self.size - self.kernel.value()
        if lost and self.impl in exact_counters(self.workload):
            total = self.tasks * self.size
            raise CellError(
                f"wrong result: {self.impl} lost {lost} of {total} updates, and it must lose none"
            )
        return lost

    def _check_against_serial(self, w: Workload, outs: list[TaskOutcome]) -> None:
        if self.reference is None:
            return
        for o in outs:
            want = self.reference.get(o.task)
            why = comparable(want)
            if why:  # said once, in the cell; its figures are still measured
                self.unchecked = why
                continue
            try:
                same = agrees(self.workload, o.result, want)
            except Exception as exc:  # an __eq__ that raises against another object
                self.unchecked = f"its results cannot be compared ({one_line(exc)})"
                continue
            if not same:
                raise CellError(w.mismatch(o.task, o.result, want))

    def drop_last(self, kept: bool) -> None:
        """Mark the last repeat as disturbed: dropped (measured again) or, with kept, kept and flagged."""
        self.repeats[-1] = replace(self.repeats[-1], dropped=not kept, disturbed=kept)

    def kept(self) -> list[Repeat]:
        """The repeats that count: not dropped (at most one per round when run in rounds)."""
        return [r for r in self.repeats if not r.dropped]

    def base_cell(self, status: Status = "ok") -> Cell:
        """The cell's identity, with no figure yet."""
        ex = self.ex
        return Cell(
            self.workload,
            self.impl,
            ex.name,
            ex.workers,
            self.tasks,
            self.size,
            status=status,
            releases_gil=self.kernel.releases_gil,
        )

    def summary(self) -> Cell:
        """Return the Cell of the kept repeats (the one nearest the median speaks for GIL wait and states).

        Speedup and its interval are filled in by :func:`gillab.harness.noise.with_speedup`, against the serial
        cell's rounds.
        """
        kept = self.kept()
        walls = [r.wall_s for r in kept]
        cpus = [r.cpu_s for r in kept]
        med, iqr, cv = stats.spread(walls)
        quiet = [
            r for r in kept if not r.probed
        ] or kept  # the GIL state of repeats the probe left alone
        mid = quiet[stats.nearest_median([r.wall_s for r in quiet])]
        probed = [r for r in kept if r.probed]
        wait = probed[stats.nearest_median([r.wall_s for r in probed])].gil_wait if probed else None
        losts = [r.lost_updates for r in kept if r.lost_updates is not None]
        itf, available = _interference(kept)
        return replace(
            self.base_cell(),
            wall_s=tuple(walls),
            cpu_s=tuple(cpus),
            median_wall_s=med,
            iqr_s=iqr,
            cv=cv,
            cpu_utilization=stats.median(
                [c / w for c, w in zip(cpus, walls, strict=True) if w > 0]
            ),
            startup_s=self.ex.startup_s,
            task_overhead_s=self.ex.overhead_s,
            gil_wait=wait,
            threads_running_mean=mid.states.threads_running_mean,
            thread_states=mid.states.threads,
            thread_states_note=mid.states.reason,
            lost_updates=tuple(losts) if losts else None,
            timeline=mid.timeline,
            gil=mid.gil,
            repeats=tuple(_record(r) for r in self.repeats),
            rounds=len(kept),
            interference=itf,
            available_cores=available,
            repeats_dropped=sum(1 for r in self.repeats if r.dropped),
            per_call=self.per_call,
            unchecked=self.unchecked or None,
        )

    def failed(self, exc: BaseException) -> Cell:
        """The cell failed by exc, its reason in one line."""
        if isinstance(exc, BrokenProcessPool):
            reason = f"a worker process died ({one_line(exc)})"
        elif isinstance(exc, CellError):
            reason = str(exc)
        else:
            reason = one_line(exc)
        return replace(self.base_cell("failed"), reason=reason)

    def close(self, kill: bool = False) -> None:
        """Shut the workers down; with kill, do not wait for running tasks."""
        self.ex.shutdown(kill=kill)


def _record(r: Repeat) -> RepeatRecord:
    """A repeat as results.json keeps it."""
    return RepeatRecord(
        r.round,
        r.seq,
        r.wall_s,
        r.cpu_s,
        r.interference,
        r.dropped,
        r.disturbed,
        r.probed,
        r.gc_s,
        r.gc_collections,
    )


def _interference(kept: list[Repeat]) -> tuple[Interference | None, float | None]:
    """The medians over the kept repeats of what others took, and the cores left to the cell."""
    measured = [r.interference for r in kept if r.interference.others_cores is not None]
    if not measured:
        return None, None
    others = stats.median([i.others_cores or 0.0 for i in measured])
    steal = stats.median([i.steal_cores or 0.0 for i in measured])
    itf = Interference(others, steal, stats.median([i.resolution_cores or 0.0 for i in measured]))
    return itf, max(0.0, environment.usable_cores() - others - steal)
