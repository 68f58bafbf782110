"""The advice: every way the callable was run, its cost broken down, and the recommendation built from them.

Each Option is one cell (an executor at a worker count, under one interpreter) with its speedup and interval,
the cores it kept busy, what it cost to start, what each call and result cost to send, the share of a task
spent sending it, and how much of its time the callable held the GIL. The recommendation, one sentence per
worker count, picks the fastest option whose figures say so; where options tie within their intervals it
picks the one that costs least (threads share memory and start at once; interpreters start faster than
processes) and names what else differs.
"""

from __future__ import annotations

from dataclasses import dataclass

from gillab.checker.safety import Safety
from gillab.checker.where.profile import Where
from gillab.codec import Record, omit_if_none
from gillab.harness import ceiling
from gillab.harness.executors import Family
from gillab.harness.results import TOO_UNSTEADY, Cell, Diagnosis, RunResult

HOLDS = 0.9
"""A serial run that held the GIL at least this share of its time holds it (its threads take turns)."""
WAITS = 0.5
"""A serial run that kept fewer cores busy than this mostly waits (sleep, I/O), rather than computes."""
PREFERENCE = {"serial": 0, "threads": 1, "interpreters": 2, "processes": 3, "engine": 4}
"""Among options that tie, the cheapest first: one thread, threads (shared memory, no start-up), interpreters
(a GIL each, faster to start than processes), processes, an engine's workers."""


@dataclass(frozen=True)
class Option:
    """One way of running the callable: an executor at a worker count under one interpreter."""

    interpreter: str
    executor: str
    workers: int
    family: Family
    """What kind of workers (gillab.harness.executors.family)."""
    status: str
    reason: str = ""
    speedup: float | None = None
    ci95: tuple[float, float] | None = None
    cores_busy: float | None = None
    startup_s: float | None = None
    task_s: float | None = None
    """The median task's wall, as its worker saw it (start to end)."""
    sent_bytes: int | None = None
    returned_bytes: int | None = None
    pickle_s: float | None = None
    """Pickling and unpickling one task's call and its result, in gillab's process."""
    transfer_share: float | None = None
    """pickle_s ÷ (pickle_s + the serial task's time): the share of a task spent sending it and its result."""
    gil_held: float | None = None
    noisy: bool = False
    noise_reason: str = ""
    diagnosis: Diagnosis | None = omit_if_none()
    """Where its workers ran with no GIL shared between them: what held them back (gillab.harness.diagnosis)."""
    busy_share: float | None = omit_if_none()
    """Its cores busy over the cores it could use (the fewest of its workers, the usable cores and those other
    processes left it): the GIL decides it, and it holds on any machine."""
    expected: float | None = omit_if_none()
    """The speedup the figures that do not move give (expected_speedup): what the choice rests on where the
    measured speedup's interval is wide."""
    expected_ci95: tuple[float, float] | None = omit_if_none()

    @property
    def label(self) -> str:
        """How a sentence names it: its kind of workers (an engine's by its executor's name)."""
        return self.executor if self.family == "engine" else self.family

    @property
    def ok(self) -> bool:
        return self.status == "ok" and self.speedup is not None


@dataclass(frozen=True)
class SlowerOn:
    """Another interpreter's single-thread time against this one's, in interleaved rounds."""

    interpreter: str
    against: str
    ratio: float
    ci95: tuple[float, float]


@dataclass(frozen=True)
class Advice(Record):
    """What `gillab advise` measured and what it recommends."""

    target: str
    """The callable, and its inputs expression where there is one."""
    interpreter: str
    """The interpreter gillab ran under (the others are named in their options)."""
    gil_enabled: bool
    serial_task_s: float | None
    serial_cores_busy: float | None
    serial_gil_held: float | None
    options: tuple[Option, ...]
    recommendations: tuple[str, ...]
    single_thread: tuple[SlowerOn, ...] = ()
    notes: tuple[str, ...] = ()
    critical_path: float | None = omit_if_none()
    """With --inputs: the largest task's share of the serial time (1 ÷ it bounds the speedup)."""
    safety: tuple[SafetyUnder, ...] = ()
    """The safety trial under each interpreter, run before any pool: threads are advised nowhere where one is
    not safe."""
    usable_cores: int | None = omit_if_none()
    """The cores gillab's process could use where it ran (absent from files written before it was kept)."""
    where: tuple[WhereUnder, ...] = ()
    """Where threads fell short, under each interpreter whose threads a sampler could read: the line, and the
    object, that held them back (the recommendations name it)."""


@dataclass(frozen=True)
class WhereUnder:
    """The line profile under one interpreter where threads fell short (gillab.checker.where)."""

    interpreter: str
    where: Where


@dataclass(frozen=True)
class SafetyUnder:
    """The safety trial of the callable under one interpreter (gillab.checker.safety)."""

    interpreter: str
    safety: Safety


def _median(xs: list[float]) -> float | None:
    return sorted(xs)[len(xs) // 2] if xs else None


SENDS = 0.05
"""Where sending a task and its result costs this share of a task or more, the cores that receive it are busy
unpickling: their cores busy overstate the work, and no speedup is expected from them (the measured one
decides). `len` of 2 MiB on processes kept 1.77 cores busy and read 0.86× [0.62-1.22]."""


def expected_speedup(
    cell: Cell,
    serial: Cell | None,
    cores: int,
    transfer_share: float | None,
    core_speed: float | None,
) -> tuple[float, float, float] | None:
    """The speedup a cell's figures that do not move give, with its interval: its cores busy over the serial
    baseline's (each with its interval: the GIL, and the cores others left, decide them), times how fast each
    core ran at this many workers against one alone on the machine's own GIL-free reference (`core_speed`,
    CPU against CPU over the whole run, at most 1: one factor for every option at a worker count, so that it
    never decides between them), less the share of a task spent sending it (transfer_share). None where a
    figure is missing, where the callable waits rather than computes (its speedup is overlapped waits, which
    cores busy does not tell), or where sending costs SENDS of a task or more.

    >>> c = Cell("t", "x", "thread", 2, 8, 1, "ok", parallelism=1.72, parallelism_ci95=(1.68, 1.76))
    >>> s = Cell("t", "x", "serial", 1, 8, 1, "ok", parallelism=0.99, parallelism_ci95=(0.98, 0.99))
    >>> [round(x, 2) for x in expected_speedup(c, s, 2, None, 0.95)]
    [1.65, 1.61, 1.71]
    """
    if serial is None or cell.parallelism is None or not serial.parallelism:
        return None
    if (
        serial.parallelism < WAITS
    ):  # a callable that waits: its speedup is overlapped waits, not cores
        return None
    if (transfer_share or 0.0) >= SENDS:
        return None
    busy, (b_lo, b_hi) = cell.parallelism, cell.parallelism_ci95 or (cell.parallelism,) * 2
    one, (s_lo, s_hi) = serial.parallelism, serial.parallelism_ci95 or (serial.parallelism,) * 2
    if s_lo <= 0:
        return None
    usable = float(max(1, min(cell.workers, cores)))
    kept = min(1.0, core_speed or 1.0) * (1.0 - (transfer_share or 0.0))
    mid, lo, hi = (min(usable, x * kept) for x in (busy / one, b_lo / s_hi, b_hi / s_lo))
    return mid, lo, hi


def options_of(result: RunResult, serial_task_s: float | None) -> list[Option]:
    """Every cell of a run as an Option."""
    out = []
    serial = serial_of(result)
    cores = result.environment.usable_cores or 1
    samples = result.ceiling.samples if result.ceiling else ()
    speeds = {w: ceiling.machine_core_speed(samples, w) for w in {c.workers for c in result.cells}}
    for c in result.cells:
        fam = c.family
        task = _median([s.end_s - s.start_s for s in c.timeline]) if c.timeline else None
        share = None
        unsteady = "speedup" in c.unsteady  # not a figure of the code: no option is chosen on it
        if c.per_call is not None and serial_task_s:
            share = c.per_call.pickle_s / (c.per_call.pickle_s + serial_task_s)
        speed = speeds.get(c.workers)
        expected = expected_speedup(c, serial, cores, share, speed) if c.ok else None
        out.append(
            Option(
                c.interpreter or result.environment.interpreter,
                c.executor,
                c.workers,
                fam,
                c.status,
                TOO_UNSTEADY if unsteady else c.reason,
                None if unsteady else c.speedup,
                None if unsteady else c.speedup_ci95,
                c.parallelism,
                c.startup_s,
                task,
                c.per_call.sent_bytes if c.per_call else None,
                c.per_call.returned_bytes if c.per_call else None,
                c.per_call.pickle_s if c.per_call else None,
                share,
                c.gil.held_fraction if c.gil and c.gil.available else None,
                c.noisy,
                c.noise_reason,
                c.diagnosis,
                busy_share=(
                    round(c.parallelism / _could_use(c, cores), 3)
                    if c.parallelism is not None
                    else None
                ),
                expected=round(expected[0], 3) if expected else None,
                expected_ci95=(round(expected[1], 3), round(expected[2], 3)) if expected else None,
            )
        )
    return out


def _could_use(c: Cell, cores: int) -> float:
    """The cores a cell's workers could keep busy: the fewest of its workers, the usable cores and those the
    other processes left it (its available_cores, the median over its repeats), at least one. Beside a
    CPU-bound process on 2 cores, threads that let go of the GIL kept 1.3 cores busy, all they were left."""
    left = c.available_cores if c.available_cores is not None else float(cores)
    return max(1.0, min(float(c.workers), float(cores), left))


def serial_of(result: RunResult) -> Cell | None:
    """The run's serial baseline cell."""
    return next((c for c in result.cells if c.kind.baseline and c.ok), None)


def critical_path(serial: Cell | None) -> float | None:
    """The largest task's share of the serial run's time (the tasks of --inputs differ in size)."""
    if serial is None or not serial.timeline:
        return None
    spans = [s.end_s - s.start_s for s in serial.timeline]
    total = sum(spans)
    return max(spans) / total if total > 0 else None
