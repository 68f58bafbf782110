"""Results as frozen dataclasses, and their versioned JSON file, written atomically.

Results travel as objects: the harness returns a :class:`RunResult`, the outputs take it, and
:func:`load` turns a results.json written by another run back into one (refusing unknown versions). The JSON
form is the dataclasses' own, field by field (gillab.codec); nothing else writes or parses it.

Schema history:
- 1: first version: environment, load before/after, interrupted, config, cells.
- 2: each cell names its `interpreter` (e.g. "3.13.5t PYTHON_GIL=1"), so that `gillab compare` can merge
  runs under several Pythons into one file.
- 3: interleaved rounds and figures with their doubt. Each cell has `repeats` (round, wall, CPU, the
  interference measured during it, whether it was dropped as disturbed), `rounds`, `speedup_ci95` and
  `efficiency_ci95` (bootstrap over the per-round ratios), `interference` and `available_cores` (medians over
  the kept repeats), `repeats_dropped`, and `noise_reason` beside `noisy`. The run has `speed_probe` (a fixed
  native spin timed before every round: the machine's own speed drift), `interleave` (the shuffle's seed and
  how cells were grouped) and `interference_note`; its config has `min_repeat` and `max_wait_s`, and `repeat`
  is the most rounds. Each cell has `gil`: the interpreter's own GIL state sampled from C (held fraction,
  switches per second, per worker the shares of holds / runs without the GIL / waits / idle, and the
  segments of its repeat nearest the median), or a note saying why it was not sampled.
- 4: what 3 gained after its release, now part of the schema: the GIL-state sampler's rate asked, reached
  and its cost per sample (`gil`), `config.gil_rate_hz` and `config.scheduler`, each cell's
  `task_overhead_s` (the per-task cost of an engine's scheduler), and the run's `engine` block
  (dask.distributed: versions, the scheduler's address or "local", the workers). Files of schema 3 are
  still read (a field they lack takes its default).
- 5: the machine told from the code. The run has `ceiling`: in every round a reference (a native spin that
  holds no GIL, alone and on N threads at once) for every worker count, each sample, the ceiling per worker
  count with its interval, and what the reference cost; `speed_probe` is now the reference's solo time per
  round. Each cell has `parallelism` (CPU ÷ wall) and `core_speed` (serial CPU ÷ this CPU) with intervals,
  `ceiling` and `efficiency_vs_ceiling` with intervals, and `against_ceiling`; each repeat says whether the
  GIL-wait probe ran in it (`probed`: round 0 only, where the GIL-state sampler reads the GIL). Files of
  schema 3 and 4 are still read.
- 6: today's interpreters. A cell whose workers are subinterpreters has its workers' own GILs sampled:
  `gil.per_interpreter` (each interpreter's id, held fraction and switches per second), `gil.held_fraction`
  their mean. A cell whose workers share no memory (processes, interpreters, an engine's) has `per_call`:
  the pickled size of one task's call and of its result, and what pickling and unpickling both cost here.
  Files of schema 3 to 5 are still read.
- 7: figures that cannot be true of the code are named. Each cell has `unsteady`: the figures ("speedup",
  "efficiency", "efficiency_vs_ceiling") above what the workers and cores can give (an efficiency above 1.05,
  or one against the machine's ceiling above 1.10, or either's whole interval above 1), which the terminal,
  the report and the pictures show as "the machine was too unsteady to tell"; the figures themselves are kept,
  and the reason is in `noise_reason`. The machine's ceiling reference is now timed right after each repeat,
  in the state the cell left the machine in (it was timed right before). Files of schema 3 to 6 are still
  read (their cells have `unsteady` empty). Also in 7: each repeat of a cell whose workers run in this
  interpreter has `gc_s` and `gc_collections` (the cycle collector's time and collections during it), and a
  cell whose workers ran with no GIL shared between them (threads of a free-threaded build without its GIL,
  interpreters with a GIL each) has `diagnosis`: waiting, contention against the machine's own core speed,
  the collector's share and collections, the GIL back on, each with its interval, and the cause named.
- 8: rounds where the doubt is. After a run's own rounds, rounds are added to the cells whose figures are
  still unsteady (a speedup interval wider than ±10%, walls that varied, a figure beyond what the machine
  allows), each with its serial baseline, until each settles or `config.settle_s` is spent. Each cell has
  `rounds_added`, and the run `settle_spent_s`. Where the tasks were sized for an engine's own cost per task,
  the engine block has `sized_for_s` (that cost) and the config's `target_s` is the time they were sized for.
  Files of schema 3 to 7 are still read (none added).
- 9: the wait for quiet moments is the run's, not each cell's: `config.max_wait_s` is the most for the whole
  run (3 s by default; it was 10 s a cell), and once a wait finds no quiet moment none follows (the rest is
  measured beside what runs, and flagged). The run has `waited_s` and `wait_gave_up`, which the machine's line
  says. Bootstrap intervals are drawn by numpy (the same percentile bootstrap of the median, another stream of
  random numbers). Files of schema 3 to 8 are still read (they waited per cell, and say nothing of it).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, cast

from gillab.codec import Displayable, decode, encode, omit_if_none
from gillab.environment import Environment
from gillab.errors import ResultsError
from gillab.files import write_atomic
from gillab.harness import executors
from gillab.harness.ceiling import Ceiling, CeilingSample
from gillab.harness.executors import Executor
from gillab.harness.gilstate import DEFAULT_RATE_HZ, GilState
from gillab.harness.instruments import GilWait, ThreadShare
from gillab.harness.interference import Interference
from gillab.harness.records import (
    Diagnosis,
    EngineInfo,
    PerCall,
    RepeatRecord,
    Span,
    SpeedProbe,
)
from gillab.workloads import get
from gillab.workloads.base import Workload

SCHEMA_VERSION = 9
READS = (3, 4, 5, 6, 7, 8, 9)
"""The schema versions this gillab reads."""

Status = Literal["ok", "skipped", "failed"]

EFFICIENCY_IMPOSSIBLE = 1.05
"""An efficiency above this (or one whose whole interval lies above 1) cannot happen on a machine whose speed
holds still: the speedup and the efficiency are not shown as figures (gillab.harness.noise names the drift)."""
CEILING_IMPOSSIBLE = 1.10
"""An efficiency against the machine's own ceiling above this (or one whose whole interval lies above 1) beat
the machine measured beside the same repeats: not shown as a figure."""
TOO_UNSTEADY = "the machine was too unsteady to tell"
"""What is said in place of a figure that cannot be true of the code."""

TASKS_PER_WORKER = 4
"""Tasks per worker of the largest worker count, by default. With one task per worker the task on the slower
core decides the wall: measured on the 2-core VM (2 workers, 12 rounds, the same serial work split into more
tasks), the per-round parallelism of cython-nogil threads varied by a CV of 9.4% with 1 task per worker, 7.1%
with 2, 5.0% with 4 and 2.4% with 8; of processes 9.2%, 5.6%, 3.3% and 3.1%. Four tasks of 20 ms hold the
same work as one of 80 ms, so the run takes as long; the default task is now 15 ms (16 of them: 240 ms of serial
work per cell, where four of 80 ms were 320 ms)."""

__all__ = [
    "Diagnosis",
    "EngineInfo",
    "PerCall",
    "RepeatRecord",
    "ResultsError",
    "RunConfig",
    "RunResult",
    "Span",
    "SpeedProbe",
    "load",
    "save",
]


@dataclass(frozen=True)
class RunConfig:
    """What to run: the matrix and how to measure it. Its defaults are the run's defaults, everywhere."""

    workload: str = "fib"
    impls: tuple[str, ...] = ("python", "cython-gil", "cython-nogil")
    executors: tuple[str, ...] = ("thread", "process")
    workers: tuple[int, ...] = (1, 2, 4)
    tasks: int | None = None
    """Tasks per cell; None means TASKS_PER_WORKER tasks for each worker of the largest worker count."""
    sizes: dict[str, int] = field(default_factory=dict)
    """Task size per impl; an impl not named here is calibrated."""
    repeat: int = 4
    """The most rounds: every cell is measured once per round. Four keep the default demo within 45 s on the
    2-core VM gillab is built on (it stops after three where the figures have settled)."""
    min_repeat: int = 3
    """The fewest rounds, before the speedups' intervals may stop the run early."""
    max_wait_s: float = 3.0
    """For the whole run, the longest gillab waits for quiet moments to measure disturbed repeats again; once
    a wait finds none, it waits no more (gillab.harness.rounds.Waits)."""
    settle_s: float = 8.0
    """The most seconds a run spends on rounds added to the cells whose figures are still unsteady after its
    own rounds (gillab.harness.noise.wants_rounds), and never more than a fifth of their own rounds' time
    (gillab.harness.runner.SETTLE_SHARE); 0 adds none."""
    seed: int = 2026
    """The seed of the shuffle that orders the cells within each round."""
    target_s: float = 0.015
    """The time one task takes, where its size is calibrated (TASKS_PER_WORKER × the most workers of them)."""
    probe_interval_s: float = 0.001
    switch_interval_s: float | None = None
    gil_rate_hz: float = DEFAULT_RATE_HZ
    """The GIL-state sampler's rate asked for (its CPU budget may lower it); 0 turns it off."""
    scheduler: str | None = None
    """An existing dask cluster's address for the dask executors; None: a local cluster per cell."""

    @property
    def n_tasks(self) -> int:
        """The tasks in every cell."""
        return self.tasks if self.tasks is not None else TASKS_PER_WORKER * max(self.workers)

    @property
    def gil_interval_s(self) -> float | None:
        """The GIL-state sampler's interval asked for, or None when it is turned off."""
        return 1 / self.gil_rate_hz if self.gil_rate_hz else None

    @functools.cached_property
    def work(self) -> Workload:
        """The workload itself: its name resolved once, here, where the config is made or read back."""
        return get(self.workload)

    @functools.cached_property
    def kinds(self) -> dict[str, type[Executor]]:
        """Each executor of the run, the serial baseline first, as its class (its facts): the names resolved
        once, here, where the config is made or read back."""
        names = (executors.baseline(), *self.executors)
        return {name: executors.lookup(name) for name in names}

    @property
    def baseline(self) -> str:
        """The serial baseline's name, against which every speedup is taken."""
        return next(name for name, kind in self.kinds.items() if kind.baseline)


@dataclass(frozen=True)
class Cell:
    """Every figure measured for one workload × impl × executor × workers."""

    workload: str
    impl: str
    executor: str
    workers: int
    tasks: int
    size: int
    status: Status
    reason: str = ""
    wall_s: tuple[float, ...] = ()
    cpu_s: tuple[float, ...] = ()
    median_wall_s: float | None = None
    iqr_s: float | None = None
    cv: float | None = None
    noisy: bool = False
    speedup: float | None = None
    efficiency: float | None = None
    cpu_utilization: float | None = None
    startup_s: float | None = None
    task_overhead_s: float | None = None
    """What the executor adds per task, timed with empty tasks (dask's scheduler); None for the stdlib's."""
    gil_wait: GilWait | None = None
    threads_running_mean: float | None = None
    thread_states: tuple[ThreadShare, ...] = ()
    thread_states_note: str = ""
    lost_updates: tuple[int, ...] | None = None
    timeline: tuple[Span, ...] = ()
    releases_gil: bool | None = None
    interpreter: str = ""
    repeats: tuple[RepeatRecord, ...] = ()
    rounds: int = 0
    """Its kept repeats: one a round; the serial baseline's, one for each two cells of the round, beside them
    (gillab.harness.rounds)."""
    rounds_added: int = 0
    """Of its rounds, those added after the run's own: while its figures were still unsteady, or, for the
    serial baseline, beside such a cell (schema 8)."""
    speedup_ci95: tuple[float, float] | None = None
    efficiency_ci95: tuple[float, float] | None = None
    interference: Interference | None = None
    """Medians over the kept repeats."""
    available_cores: float | None = None
    """Usable cores minus what others and steal took (median over the kept repeats)."""
    repeats_dropped: int = 0
    noise_reason: str = ""
    """Why the cell is flagged noisy, in words; empty when it is not."""
    gil: GilState | None = None
    """Who held the GIL, from the interpreter's own state (the repeat nearest the median)."""
    parallelism: float | None = None
    """CPU of the workers ÷ wall, median over rounds: how many cores worked at once (the GIL decides it)."""
    parallelism_ci95: tuple[float, float] | None = None
    core_speed: float | None = None
    """The serial cell's CPU per task ÷ this cell's, median over rounds: how fast each core ran while this
    cell's workers were busy, against one alone (the machine decides it: SMT, turbo, neighbours)."""
    core_speed_ci95: tuple[float, float] | None = None
    ceiling: float | None = None
    """The machine's own ceiling for this many workers in this cell's rounds (gillab.harness.ceiling)."""
    ceiling_ci95: tuple[float, float] | None = None
    efficiency_vs_ceiling: float | None = None
    """The median over rounds of this cell's speedup ÷ that round's ceiling: 1.0 got all the machine gave."""
    efficiency_vs_ceiling_ci95: tuple[float, float] | None = None
    against_ceiling: str = ""
    """"as fast as this machine allowed" where efficiency_vs_ceiling's interval holds 1.0; else ""."""
    per_call: PerCall | None = omit_if_none()
    """Where the workers share no memory: what each task's call and result cost to send (pickled)."""
    unchecked: str | None = omit_if_none()
    """Why its tasks' results could not be compared with the serial ones (a NaN, no __eq__); None: checked."""
    unsteady: tuple[str, ...] = ()
    """The figures that cannot be true of the code (gillab.harness.noise.unsteady): kept here, shown nowhere as
    a measurement."""
    diagnosis: Diagnosis | None = omit_if_none()
    """Where its workers ran with no GIL shared between them: what held them back (gillab.harness.diagnosis)."""

    @property
    def ok(self) -> bool:
        """Whether the cell was measured."""
        return self.status == "ok"

    @property
    def kind(self) -> type[Executor]:
        """Its executor's class, which carries the executor's facts (gillab.harness.executors); the base
        class's defaults for a name this gillab does not know (a results file from another version)."""
        return executors.lookup(self.executor)

    @property
    def family(self) -> executors.Family:
        """What kind of workers it had: serial, threads, interpreters, processes or an engine's."""
        return self.kind.family()

    @property
    def workers_word(self) -> str:
        """Its workers in a sentence: "threads", "processes", "dask-threads workers"."""
        return executors.workers_word(self.executor)

    @property
    def key(self) -> tuple[str, str, int]:
        """The cell's place in its impl's group: impl, executor, workers."""
        return (self.impl, self.executor, self.workers)


def _above(x: float | None, ci: tuple[float, float] | None, limit: float) -> bool:
    """Whether a figure whose true value is at most 1 is above `limit`, or its whole interval above 1."""
    return x is not None and (x > limit or (ci is not None and ci[0] > 1.0))


def impossible(cell: Cell, cores: int) -> tuple[str, ...]:
    """The figures of a cell that cannot be true of its code: its speedup and efficiency where the efficiency is
    above EFFICIENCY_IMPOSSIBLE (a speedup above the workers or the usable cores), its efficiency against the
    machine's ceiling where it is above CEILING_IMPOSSIBLE; either where its whole interval lies above 1.

    >>> c = Cell("fib", "python", "process", 2, 16, 25, "ok", speedup=2.3, efficiency=1.15)
    >>> impossible(c, 2), impossible(Cell("fib", "python", "process", 2, 16, 25, "ok", efficiency=0.95), 2)
    (('speedup', 'efficiency'), ())
    """
    figures: tuple[str, ...] = ()
    if _above(cell.efficiency, cell.efficiency_ci95, EFFICIENCY_IMPOSSIBLE):
        figures += ("speedup", "efficiency")
    if _above(cell.efficiency_vs_ceiling, cell.efficiency_vs_ceiling_ci95, CEILING_IMPOSSIBLE):
        figures += ("efficiency_vs_ceiling",)
    return figures


@dataclass(frozen=True)
class Interleave:
    """How the rounds were interleaved: the shuffle's seed and which cells were alive together."""

    seed: int
    groups: str = "per impl: the serial baseline and every executor of one impl are alive together"
    order: str = "round_order(seed, group, round, cells) in gillab.harness.rounds"


@dataclass(frozen=True)
class CeilingBlock:
    """The machine's own ceiling over a run: every round's reference, the ceiling per worker count, its cost."""

    unit_s: float
    """One unit of the reference spin on one thread, as sized at the start."""
    samples: tuple[CeilingSample, ...]
    by_workers: tuple[Ceiling, ...]
    cost_s: float
    """The wall time the reference took, in all."""
    run_s: float
    """The run's wall time so far, for the reference's share of it."""

    def of(self, workers: int) -> Ceiling | None:
        """The ceiling for that many workers."""
        return next((c for c in self.by_workers if c.workers == workers), None)


@dataclass(frozen=True)
class RunResult(Displayable):
    """A whole run: where it ran, what it was asked, and every cell measured so far."""

    environment: Environment
    """The machine and interpreter (gillab.environment.info()), with the pools the run pinned."""
    config: RunConfig
    load_before: tuple[float, ...] | None
    load_after: tuple[float, ...] | None = None
    load_competing: bool = False
    interrupted: bool = False
    cells: tuple[Cell, ...] = ()
    speed_probe: SpeedProbe | None = None
    interleave: Interleave | None = None
    """How the rounds were interleaved: the shuffle's seed and which cells were alive together."""
    interference_note: str = ""
    """Said once, where interference could not be measured."""
    engine: EngineInfo | None = None
    """The distributed engine the dask cells ran on: versions, scheduler ("local" or its address), workers."""
    ceiling: CeilingBlock | None = None
    """The machine's own ceiling, measured in the same rounds as the cells (gillab.harness.ceiling)."""
    settle_spent_s: float = 0.0
    """The seconds spent on rounds added to unsteady cells (config.settle_s is the most; schema 8)."""
    waited_s: float = 0.0
    """The seconds spent waiting for quiet moments (config.max_wait_s is the most; schema 9)."""
    wait_gave_up: bool = False
    """Whether a wait found no quiet moment, after which the run measured beside what ran (schema 9)."""
    schema_version: int = SCHEMA_VERSION

    def to_json(self) -> dict[str, Any]:
        """Return the JSON form of the run (schema_version first; config.tasks resolved)."""
        data: dict[str, Any] = encode(self)
        data["config"] |= {"tasks": self.config.n_tasks}
        if self.interleave is None:
            data["interleave"] = {}
        return {"schema_version": data.pop("schema_version"), **data}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunResult:
        """Rebuild a run from its JSON form; ResultsError for another schema or shape."""
        if data.get("schema_version") not in READS or "cells" not in data or "config" not in data:
            kind = data.get("kind")
            what = (
                f"a gillab {kind} result"
                if kind
                else f"schema_version {data.get('schema_version')!r}"
            )
            raise ResultsError(
                f"{what}, expected a gillab run result of schema_version {SCHEMA_VERSION}"
            )
        doc = dict(data, schema_version=SCHEMA_VERSION)  # an older file, as this version holds it
        if doc.get("interleave") == {}:
            doc["interleave"] = None
        try:
            run = decode(cls, doc, "run")
        except ResultsError as exc:
            version = data["schema_version"]
            raise ResultsError(
                f"a run result of schema {version} with a missing or odd field ({exc})"
            ) from None
        if (
            data["schema_version"] < 7
        ):  # an older gillab printed impossible figures: name them now, as 7 does
            run = replace(
                run, cells=tuple(_with_unsteady(c, run.environment.usable_cores) for c in run.cells)
            )
        return run


def _with_unsteady(cell: Cell, cores: int) -> Cell:
    """A cell of an older schema, its figures that cannot be true of the code named (as schema 7 does)."""
    figures = impossible(cell, cores) if cell.ok else ()
    if not figures:
        return cell
    why = f"{', '.join(figures)}: {TOO_UNSTEADY}"
    return replace(
        cell,
        unsteady=figures,
        noisy=True,
        noise_reason="; ".join(x for x in (cell.noise_reason, why) if x),
    )


def save(result: RunResult, path: Path) -> None:
    """Write results.json atomically."""
    write_atomic(path, json.dumps(result.to_json(), indent=1) + "\n")


def read_json(path: Path) -> dict[str, Any]:
    """Read a JSON document; ResultsError (one line) when it is not there or not JSON."""
    try:
        return cast(dict[str, Any], json.loads(path.read_text(encoding="utf-8")))
    except OSError as exc:
        raise ResultsError(f"{path}: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise ResultsError(f"{path}: not JSON ({exc.msg} at line {exc.lineno})") from None


def load(path: Path) -> RunResult:
    """Read a results.json written by `gillab run`, refusing a schema this version does not know."""
    data = read_json(path)
    try:
        return RunResult.from_json(data)
    except ResultsError as exc:
        raise ResultsError(f"{path}: {exc}") from None
