"""Scaling: calls completed per second with 1, 2, ... threads calling the callable at once, and, where no GIL
runs, what held the threads back at their most."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from gillab import environment, stats
from gillab.checker.phases import Phase
from gillab.harness import diagnosis
from gillab.harness.ceiling import core_speed_now
from gillab.harness.instruments import GcWatch, Probe
from gillab.harness.results import Diagnosis


@dataclass(frozen=True)
class Wait:
    """The GIL wait of the harness's probe during one scaling phase."""

    median_ms: float
    p95_ms: float
    fraction: float


@dataclass(frozen=True)
class Level:
    """Calls per second with `threads` threads calling at once, against one thread."""

    threads: int
    calls: int
    calls_per_s: float
    wall_s: float
    cpu_utilization: float
    gil_wait: Wait
    speedup: float | None = None
    ideal: int | None = None
    efficiency: float | None = None
    cpu_s: float | None = None
    """The CPU the calling threads used (the probe's taken off)."""
    gc_s: float | None = None
    """How long the cycle collector ran while they called."""
    gc_collections: int | None = None

    @property
    def gil_wait_median_ms(self) -> float:
        """The probe's median wait for the GIL while these threads called."""
        return self.gil_wait.median_ms


def scaling(
    func: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    threads: int,
    duration_s: float,
) -> Level:
    """Run `threads` threads calling func for duration_s; return calls per second, CPU use and GIL wait."""
    counts = [0] * threads
    stop = threading.Event()
    start = threading.Barrier(threads + 1)

    def worker(i: int) -> None:
        start.wait()
        n = 0
        while not stop.is_set():
            func(*args, **kwargs)
            n += 1
        counts[i] = n

    pool = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(threads)]
    for t in pool:
        t.start()
    probe = Probe()
    probe.start()
    with GcWatch() as collector:
        cpu0 = time.process_time()
        t0 = time.monotonic_ns()
        start.wait()
        time.sleep(duration_s)
        stop.set()
        for t in pool:
            t.join()
        t1 = time.monotonic_ns()
        cpu = time.process_time() - cpu0
    wall = (t1 - t0) / 1e9
    gw = probe.stop(t0, t1)
    used = max(0.0, cpu - gw.cpu_s)
    return Level(
        threads,
        sum(counts),
        sum(counts) / wall,
        wall,
        used / wall,
        Wait(gw.median_ms, gw.p95_ms, gw.fraction),
        cpu_s=used,
        gc_s=collector.seconds,
        gc_collections=collector.collections,
    )


def speedups(levels: list[Level], cores: int) -> tuple[Level, ...]:
    """Each level's speedup and efficiency: rates, not times (calls per second at N threads over the
    per-thread rate at the first level)."""
    base = levels[0].calls_per_s / levels[0].threads if levels and levels[0].calls_per_s else 0.0
    out = []
    for lv in levels:
        speedup = stats.speedup(lv.calls_per_s, base) if base else None
        out.append(
            replace(
                lv,
                speedup=speedup,
                ideal=stats.ideal(lv.threads, lv.threads, cores),
                efficiency=stats.efficiency(speedup, lv.threads, lv.threads, cores)
                if speedup is not None
                else None,
            )
        )
    return tuple(out)


def without_gil(levels: tuple[Level, ...], phases: dict[str, Phase]) -> Diagnosis | None:
    """Where no GIL runs, what held the threads back at their most: idle cores (of those other processes left
    them), each core's speed against the machine's own on as many threads (the reference, measured now), and the
    collector (None with a GIL)."""
    if environment.gil_enabled() or len(levels) < 2 or levels[-1].threads < 2:
        return None
    one, top = levels[0], levels[-1]
    seen = phases.get(f"{top.threads} threads")
    taken = (seen.others_cores or 0.0) + (seen.steal_cores or 0.0) if seen is not None else 0.0
    per_call = [lv.cpu_s / lv.calls if lv.cpu_s and lv.calls else None for lv in (one, top)]
    speed = per_call[0] / per_call[1] if per_call[0] and per_call[1] else None
    machine = core_speed_now(top.threads)
    ideal = max(1.0, min(float(top.threads), environment.usable_cores() - taken))
    return diagnosis.from_figures(
        ideal, top.cpu_utilization, speed, machine, top.gc_s, top.gc_collections, top.wall_s
    )
