"""The timeline as Chrome Trace Event JSON, which Perfetto and chrome://tracing open."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gillab.files import write_atomic
from gillab.harness.results import Cell, RunResult
from gillab.workloads import label as workload_label

GIL_TRACK = 100
"""Thread ids from here on carry each worker's GIL states (holds, runs, waits, idle) beside its tasks."""


def trace_events(cells: Sequence[Cell]) -> list[dict[str, Any]]:
    """Return one process per cell, one thread per worker lane, one complete event per task."""
    events: list[dict[str, Any]] = []
    for pid, c in enumerate(cells, start=1):
        if not c.timeline:
            continue
        label = f"{workload_label(c.workload)} {c.impl} {c.executor} w{c.workers}"
        events.append({"ph": "M", "name": "process_name", "pid": pid, "tid": 0, "args": {"name": label}})
        events.append({"ph": "M", "name": "process_sort_index", "pid": pid, "tid": 0, "args": {"sort_index": pid}})
        for span in c.timeline:
            events.append(
                {
                    "ph": "X",
                    "name": f"{c.impl} task",
                    "cat": c.executor,
                    "pid": pid,
                    "tid": span.lane,
                    "ts": span.start_s * 1e6,
                    "dur": (span.end_s - span.start_s) * 1e6,
                    "args": {"worker": span.worker, "size": c.size},
                }
            )
        if c.gil is not None:
            for g in c.gil.segments:
                events.append(
                    {
                        "ph": "X",
                        "name": g.state,
                        "cat": "gil",
                        "pid": pid,
                        "tid": GIL_TRACK + g.lane,
                        "ts": g.start_s * 1e6,
                        "dur": (g.end_s - g.start_s) * 1e6,
                    }
                )
            for lane in {g.lane for g in c.gil.segments}:
                events.append(
                    {
                        "ph": "M",
                        "name": "thread_name",
                        "pid": pid,
                        "tid": GIL_TRACK + lane,
                        "args": {"name": f"worker {lane}: GIL state"},
                    }
                )
            for t, n in c.gil.switch_series:
                events.append({"ph": "C", "name": "GIL switches", "pid": pid, "ts": t * 1e6, "args": {"switches": n}})
        lanes = {s.lane: s.worker for s in c.timeline}
        for lane, worker in lanes.items():
            events.append(
                {
                    "ph": "M",
                    "name": "thread_name",
                    "pid": pid,
                    "tid": lane,
                    "args": {"name": f"worker {lane} ({worker})"},
                }
            )
    return events


def write_trace(result: RunResult, path: Path) -> None:
    """Write trace.json (each cell's median repeat, times from its release)."""
    doc = {
        "traceEvents": trace_events(result.cells),
        "displayTimeUnit": "ms",
        "otherData": {"schema_version": result.schema_version, "python": result.environment.python_version},
    }
    write_atomic(path, json.dumps(doc))
