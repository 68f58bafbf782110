"""The records a run is made of: each task's span, each repeat, the machine's speed probe, what one call
sends to a worker that shares no memory, the diagnosis of workers that no shared GIL held back, and the
engine the dask cells ran on.

They are part of results.json (gillab.harness.results, which re-exports them, holds its schema history).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from gillab.codec import omit_if_none
from gillab.environment import DaskWorker
from gillab.harness.interference import Interference


@dataclass(frozen=True)
class Span:
    """One task on the timeline: which worker lane ran it, and when (s from the release)."""

    lane: int
    worker: str
    start_s: float
    end_s: float


@dataclass(frozen=True)
class RepeatRecord:
    """One timed repeat of a cell: its round, its figures, and whether it was dropped as disturbed."""

    round: int
    seq: int
    """Its place in the run's order of measurements (0, 1, 2, ...): the interleaving, as it happened."""
    wall_s: float
    cpu_s: float
    interference: Interference
    dropped: bool = False
    """Disturbed and measured again once the machine was quiet; not used in any figure."""
    disturbed: bool = False
    """Disturbed, and kept because the machine did not get quiet within --max-wait."""
    probed: bool = False
    """The GIL-wait probe ran in it (the cell's GIL wait comes from such repeats, its GIL state from the others)."""
    gc_s: float | None = omit_if_none()
    """How long this interpreter's cycle collector ran during it (workers in this interpreter only)."""
    gc_collections: int | None = omit_if_none()
    """How many collections ran during it."""

    @property
    def parallelism(self) -> float | None:
        """CPU ÷ wall: how many cores this repeat kept busy."""
        return self.cpu_s / self.wall_s if self.wall_s > 0 else None


@dataclass(frozen=True)
class SpeedProbe:
    """A fixed native spin, timed before every round: how the machine's own speed drifted over the run."""

    spin_ms: tuple[float, ...]
    drift: float | None
    """max ÷ min of the spin times, minus 1: 0.1 means the machine ran 10% slower at its slowest."""
    cv: float | None


@dataclass(frozen=True)
class PerCall:
    """What crosses to a worker that shares no memory, per task: the call and its result, pickled."""

    sent_bytes: int
    """The pickled call: the function by reference (its module and name) and its arguments."""
    returned_bytes: int
    """The pickled result (the task's outcome)."""
    pickle_s: float
    """pickle.dumps and pickle.loads of both, in this process (the median of several trials)."""


class Cause(enum.StrEnum):
    """What a diagnosis names (gillab.harness.diagnosis); in JSON, its value."""

    CONTENTION = "contention"
    """They contend over shared objects: each core ran slower than the machine's own on as many threads."""
    COLLECTOR = "collector"
    """They waited while the cycle collector stopped the world."""
    WAITING = "waiting"
    """They waited for each other (a lock, a queue, I/O): cores stood idle."""
    GIL = "gil"
    """An import turned the GIL back on."""
    NOISE = "noise"
    """Within the machine's own noise: no cause named."""


@dataclass(frozen=True)
class Diagnosis:
    """What held back workers that no shared GIL held back: each part with its interval, and the largest named."""

    cause: Cause
    """What it names (gillab.harness.diagnosis)."""
    ideal: float
    """The cores the workers could use: the fewest of workers, tasks and the cores other processes left them."""
    cores_busy: float | None = None
    waiting: float | None = None
    waiting_ci95: tuple[float, float] | None = None
    core_speed: float | None = None
    """The cell's core speed (the serial cell's CPU ÷ this cell's, for the same tasks)."""
    machine_core_speed: float | None = None
    """The machine's own reference's core speed on as many threads, in the same rounds."""
    machine_core_speed_ci95: tuple[float, float] | None = None
    contention: float | None = None
    contention_ci95: tuple[float, float] | None = None
    collector_share: float | None = None
    collector_share_ci95: tuple[float, float] | None = None
    collections: float | None = None
    """Collections per repeat (the median)."""
    gil_on: str = ""
    """What turned the GIL back on, where an import did."""
    note: str = ""
    """The parts that could not be measured, and why."""


@dataclass(frozen=True)
class EngineInfo:
    """The distributed engine the dask cells ran on: versions, the scheduler ("local" or its address), and
    its workers (or, for local clusters, how they were made), or why the cluster could not be reached."""

    engine: str = "dask.distributed"
    dask: str | None = omit_if_none()
    distributed: str | None = omit_if_none()
    scheduler: str = "local"
    workers: str | tuple[DaskWorker, ...] | None = omit_if_none()
    config: dict[str, str] | None = omit_if_none()
    """The dask settings of the local clusters gillab starts."""
    sized_for_s: float | None = omit_if_none()
    """Its own cost per task, measured on a cluster started for it before the tasks were sized (empty tasks):
    where the user did not fix the size, tasks were made long enough for it to stay under a tenth of one."""
    error: str | None = omit_if_none()
