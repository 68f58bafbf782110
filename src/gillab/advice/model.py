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


def options_of(result: RunResult, serial_task_s: float | None) -> list[Option]:
    """Every cell of a run as an Option."""
    out = []
    for c in result.cells:
        fam = c.family
        task = _median([s.end_s - s.start_s for s in c.timeline]) if c.timeline else None
        share = None
        unsteady = "speedup" in c.unsteady  # not a figure of the code: no option is chosen on it
        if c.per_call is not None and serial_task_s:
            share = c.per_call.pickle_s / (c.per_call.pickle_s + serial_task_s)
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
            )
        )
    return out


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
