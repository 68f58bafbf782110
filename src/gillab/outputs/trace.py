"""The timeline as Chrome Trace Event JSON, which Perfetto and chrome://tracing open."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gillab.files import write_atomic
from gillab.harness.gilstate import GilState
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
        events.append(_meta(pid, 0, "process_name", {"name": label}))
        events.append(_meta(pid, 0, "process_sort_index", {"sort_index": pid}))
        for span in c.timeline:
            args = {"worker": span.worker, "size": c.size}
            task = _complete(f"{c.impl} task", c.executor, pid, span.lane, span.start_s, span.end_s)
            events.append(task | {"args": args})
        if c.gil is not None:
            events += _gil_events(c.gil, pid)
        lanes = {s.lane: s.worker for s in c.timeline}
        for lane, worker in lanes.items():
            events.append(_meta(pid, lane, "thread_name", {"name": f"worker {lane} ({worker})"}))
    return events


def _gil_events(gil: GilState, pid: int) -> list[dict[str, Any]]:
    """A cell's GIL-state segments, one track per worker, and its count of GIL switches."""
    events = [
        _complete(g.state, "gil", pid, GIL_TRACK + g.lane, g.start_s, g.end_s) for g in gil.segments
    ]
    for lane in {g.lane for g in gil.segments}:
        name = {"name": f"worker {lane}: GIL state"}
        events.append(_meta(pid, GIL_TRACK + lane, "thread_name", name))
    for t, n in gil.switch_series:
        counter = {"ph": "C", "name": "GIL switches", "pid": pid, "ts": t * 1e6}
        events.append(counter | {"args": {"switches": n}})
    return events


def _meta(pid: int, tid: int, name: str, args: dict[str, Any]) -> dict[str, Any]:
    return {"ph": "M", "name": name, "pid": pid, "tid": tid, "args": args}


def _complete(
    name: str, cat: str, pid: int, tid: int, start_s: float, end_s: float
) -> dict[str, Any]:
    dur = (end_s - start_s) * 1e6
    return {
        "ph": "X",
        "name": name,
        "cat": cat,
        "pid": pid,
        "tid": tid,
        "ts": start_s * 1e6,
        "dur": dur,
    }


def write_trace(result: RunResult, path: Path) -> None:
    """Write trace.json (each cell's median repeat, times from its release)."""
    doc = {
        "traceEvents": trace_events(result.cells),
        "displayTimeUnit": "ms",
        "otherData": {
            "schema_version": result.schema_version,
            "python": result.environment.python_version,
        },
    }
    write_atomic(path, json.dumps(doc))
