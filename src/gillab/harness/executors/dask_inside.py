"""What runs inside each dask worker (its facts, gillab's instruments there, the plugin that checks them), and
the merging of the workers' figures into a cell's, for gillab.harness.executors.dask."""

from __future__ import annotations

import functools
import importlib
import os
import socket
import sys
import time
from collections.abc import Mapping, Sequence
from typing import Any

from gillab.errors import GillabError
from gillab.harness.executors.base import Spans
from gillab.harness.gilstate import GilSegment, GilState, Lane, ThreadGil
from gillab.harness.instruments import GilWait

INSTALL = "pip install -e '.[dask]'"


def extra_module(name: str) -> Any:
    """Import a module of the optional extra, untyped (dask's own typing is partial)."""
    return importlib.import_module(name)


def unavailable() -> str | None:
    """Return why the dask executors cannot run here (the extra is not installed), or None."""
    try:
        extra_module("distributed")
    except ImportError as exc:
        return f"dask.distributed is not installed ({exc}); install the extra: {INSTALL}"
    return None


def versions() -> dict[str, str]:
    """Return dask's and distributed's versions."""
    return {
        "dask": str(extra_module("dask").__version__),
        "distributed": str(extra_module("distributed").__version__),
    }


INSIDE: dict[str, Any] = {}
"""In a worker process: the instruments of the repeat under way."""


def worker_facts() -> dict[str, Any]:
    """What a worker says of itself; "" for native when gillab's compiled modules import."""
    from gillab import _native

    native = ""
    try:
        _native.instruments()
        _native.gilstate()
        for impl in _native.NATIVE_MODULES:
            _native.kernels(impl)
    except (GillabError, ImportError, ValueError) as exc:
        native = str(exc)
    return {
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "python": sys.version.split()[0],
        "native": native,
    }


def worker_cpu_s() -> float:
    return time.process_time()


def instruments_start_inside(
    lanes: Sequence[Lane], gil_interval_s: float | None, probe_too: bool = True
) -> None:
    from gillab import environment
    from gillab.harness.gilstate import GilSampler, Settled
    from gillab.harness.instruments import Probe

    probe = Probe() if probe_too else None
    if probe is not None:
        probe.start()
    sampler = None
    if lanes and gil_interval_s is not None and environment.gil_enabled():
        settled = INSIDE.setdefault(
            "settled", Settled()
        )  # this worker's own: its cell's earlier repeats
        sampler = GilSampler(lanes, gil_interval_s, settled=settled)
        sampler.start()
    INSIDE.update(probe=probe, sampler=sampler)


def instruments_stop_inside(
    spans: Spans, since_ns: int, until_ns: int
) -> tuple[GilWait | None, GilState | None]:
    probe = INSIDE.pop("probe", None)
    sampler = INSIDE.pop("sampler", None)
    gil = sampler.stop(spans, since_ns, until_ns) if sampler is not None else None
    return probe.stop(since_ns, until_ns) if probe is not None else None, gil


def empty_task() -> None:
    return None


def check_worker() -> None:
    """Import gillab's compiled modules on this worker; RuntimeError (its one line) where they are missing."""
    facts = worker_facts()
    if facts["native"]:
        raise RuntimeError(facts["native"])


@functools.cache
def _plugin_class() -> type[Any]:
    base = extra_module("distributed.diagnostics.plugin").WorkerPlugin

    class GillabPlugin(base):  # type: ignore[misc,valid-type]
        """Installed on every worker: imports gillab's instruments there, so a worker without them fails at once."""

        name = "gillab"

        def setup(self, worker: Any) -> None:
            check_worker()

    return GillabPlugin


def gillab_plugin() -> Any:
    """The WorkerPlugin gillab installs on every worker. Its class is made on first use, so that importing
    gillab never imports distributed (a second or more of every command's start)."""
    return _plugin_class()()


def pool_waits(waits: Sequence[GilWait]) -> GilWait | None:
    """One GIL-wait figure for several workers: the worst median and p95, the mean fraction, their sums."""
    if not waits:
        return None
    return GilWait(
        median_ms=max(w.median_ms for w in waits),
        p95_ms=max(w.p95_ms for w in waits),
        fraction=sum(w.fraction for w in waits) / len(waits),
        samples=sum(w.samples for w in waits),
        wake_late_median_ms=max(w.wake_late_median_ms for w in waits),
        overhead=sum(w.overhead for w in waits),
        cpu_s=sum(w.cpu_s for w in waits),
    )


def merge_states(
    states: Sequence[tuple[str, GilState]],
    lanes: Mapping[str, Sequence[Lane]],
    worker_ids: Sequence[tuple[int, int]],
) -> GilState | None:
    """Merge the GIL states of several worker processes (each its own GIL) into one, lanes numbered as the
    timeline numbers them: held fraction and switches per second are the mean over the processes."""
    seen = [(addr, s) for addr, s in states if s.available]
    if not seen:
        return states[0][1] if states else None
    tids = [tid for _, tid in worker_ids]
    per: list[ThreadGil] = []
    segments: list[GilSegment] = []
    for addr, s in seen:
        mapping = [tids.index(lane.tid) for lane in lanes.get(addr, [])]
        per.extend(s.per_thread)
        segments.extend(
            GilSegment(
                mapping[g.lane] if g.lane < len(mapping) else g.lane, g.state, g.start_s, g.end_s
            )
            for g in s.segments
        )
    held = [s.held_fraction for _, s in seen if s.held_fraction is not None]
    rates = [s.switches_per_s for _, s in seen if s.switches_per_s is not None]
    first = seen[0][1]
    return GilState(
        available=True,
        note="",
        interval_s=first.interval_s,
        samples=sum(s.samples for _, s in seen),
        held_fraction=sum(held) / len(held) if held else None,
        switches_per_s=sum(rates) / len(rates) if rates else None,
        per_thread=tuple(per),
        overhead=sum(s.overhead or 0.0 for _, s in seen),
        segments=tuple(segments),
        switch_series=first.switch_series,
        requested_interval_s=first.requested_interval_s,
        rate_note=first.rate_note,
        sample_cost_s=first.sample_cost_s,
    )
