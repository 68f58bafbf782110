"""Results as frozen dataclasses, and their versioned JSON file, written atomically.

Schema history:
- 1: first version: environment, load before/after, interrupted, config, cells.
- 2: each cell names its `interpreter` (e.g. "3.13.5t PYTHON_GIL=1"), so that `gillab compare` can merge
  runs under several Pythons into one file.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from gillab.harness.measure import GilWait, ThreadShare

SCHEMA_VERSION = 2


@dataclass(frozen=True)
class Span:
    """One task on the timeline: which worker lane ran it, and when (s from the release)."""

    lane: int
    worker: str
    start_s: float
    end_s: float


@dataclass(frozen=True)
class Cell:
    """Every figure measured for one workload × impl × executor × workers."""

    workload: str
    impl: str
    executor: str
    workers: int
    tasks: int
    size: int
    status: str  # ok | skipped | failed
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
    gil_wait: GilWait | None = None
    threads_running_mean: float | None = None
    thread_states: tuple[ThreadShare, ...] = ()
    thread_states_note: str = ""
    lost_updates: tuple[int, ...] | None = None
    timeline: tuple[Span, ...] = ()
    releases_gil: bool | None = None
    interpreter: str = ""


@dataclass(frozen=True)
class RunResult:
    """A whole run: where it ran, what it was asked, and every cell measured so far."""

    environment: dict[str, Any]
    config: dict[str, Any]
    load_before: list[float] | None
    load_after: list[float] | None = None
    load_competing: bool = False
    interrupted: bool = False
    cells: tuple[Cell, ...] = ()
    schema_version: int = field(default=SCHEMA_VERSION)


def to_json(result: RunResult) -> dict[str, Any]:
    """Return the JSON form of a run (schema_version first)."""
    data = asdict(result)
    return {"schema_version": data.pop("schema_version"), **data}


def write_atomic(path: Path, text: str) -> None:
    """Write text to path through a temporary file and a rename, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save(result: RunResult, path: Path) -> None:
    """Write results.json atomically."""
    write_atomic(path, json.dumps(to_json(result), indent=1) + "\n")


def load(path: Path) -> dict[str, Any]:
    """Read a results.json, refusing a schema this version does not know."""
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if data.get("schema_version") != SCHEMA_VERSION:
        raise ValueError(f"{path}: schema_version {data.get('schema_version')!r}, expected {SCHEMA_VERSION}")
    return data
