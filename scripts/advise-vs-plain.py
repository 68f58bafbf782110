#!/usr/bin/env python3
"""Set `gillab advise`'s pick at 2 workers against a plain interleaved harness's truth (issue 39's check).

For callables whose best way to run is known from their nature, each run advises it (gillab.advise, 1 and 2
workers), then a plain harness times the same calls: 8 tasks serially, on a ThreadPoolExecutor(2) and on a
ProcessPoolExecutor(2) (pools made and warmed once), in trials of tens of milliseconds taken in random order,
each trial's speedup its serial wall over the pool's, the figure the median over trials. It knows nothing of
gillab's instruments. A pick passes where its plain speedup is within 15% of the best plain figure (one thread
counts as 1.0); the rule it must never break: one thread for a callable whose threads kept 1.6 or more cores
busy with the GIL held 10% or less.

    python scripts/advise-vs-plain.py --runs 3                 # quiet
    python scripts/advise-vs-plain.py --runs 3 --competitor   # beside a CPU-bound process throughout
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import advise_targets as t
from gillab import advise
from gillab._kernels_gil import fib as fib_gil
from gillab._kernels_nogil import fib as fib_nogil

FAR = 0.15
TASKS = 8
BURN = "while True:\n    pass\n"
DATA = bytes(range(256)) * 4096  # 1 MiB, compressible
BIG = bytes(2 * 2**20)

CASES: list[tuple[str, Callable[..., Any], tuple[Any, ...], str]] = [
    ("python loop", t.loop, (300_000,), "processes: it holds the GIL"),
    ("cython-gil fib", fib_gil, (35,), "processes: it holds the GIL"),
    ("cython-nogil fib", fib_nogil, (35,), "threads: it lets the GIL go"),
    ("sha256 of 2 MiB", t.sha256, (BIG,), "threads: it lets go, and processes copy 2 MiB"),
    ("zlib of 1 MiB", t.compress, (DATA,), "threads: it lets the GIL go"),
    ("sleep 20 ms", t.nap, (0.02,), "threads: it waits"),
    ("len of 2 MiB", t.size_of, (BIG,), "one thread or threads: there is no work to share"),
]


def _trial(pool: Executor | None, func: Callable[..., Any], args: tuple[Any, ...]) -> float:
    t0 = time.perf_counter()
    if pool is None:
        for _ in range(TASKS):
            func(*args)
    else:
        list(pool.map(func, *[[a] * TASKS for a in args]))
    return time.perf_counter() - t0


def plain(func: Callable[..., Any], args: tuple[Any, ...], seconds: float) -> dict[str, float]:
    """The median of paired trials' ratios (serial wall over the pool's), for threads and processes."""
    rng = random.Random(39)
    ratios: dict[str, list[float]] = {"threads": [], "processes": []}
    with ThreadPoolExecutor(2) as threads, ProcessPoolExecutor(2) as procs:
        pools = {"threads": threads, "processes": procs}
        for pool in pools.values():
            _trial(pool, func, args)
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            for name in rng.sample(sorted(pools), 2):
                pair = [None, pools[name]]
                rng.shuffle(pair)
                walls = {id(p): _trial(p, func, args) for p in pair}
                ratios[name].append(walls[id(None)] / walls[id(pools[name])])
    return {name: statistics.median(r) for name, r in ratios.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument(
        "--seconds", type=float, default=4.0, help="the plain harness's trials, per callable"
    )
    ap.add_argument(
        "--competitor", action="store_true", help="a CPU-bound process beside every run"
    )
    ns = ap.parse_args()
    burner = subprocess.Popen([sys.executable, "-c", BURN]) if ns.competitor else None
    passed = broke = total = 0
    try:
        for run in range(ns.runs):
            for name, func, args, nature in CASES:
                t0 = time.perf_counter()
                got = advise(func, *args, workers=(1, 2))
                took = time.perf_counter() - t0
                truth = plain(func, args, ns.seconds)
                rec = got.recommendations[0]
                pick = rec.split(":")[0].removeprefix("At 2 workers ")
                family = (
                    "threads"
                    if pick.startswith("use threads")
                    else "processes"
                    if pick.startswith("use processes")
                    else "interpreters"
                    if pick.startswith("use interpreters")
                    else "serial"
                )
                best = max(1.0, *truth.values())
                mine = truth.get(family, 1.0 if family == "serial" else 0.0)
                ok = mine >= (1 - FAR) * best
                threads = next(
                    (o for o in got.options if o.family == "threads" and o.workers == 2), None
                )
                rule = (
                    family == "serial"
                    and threads is not None
                    and (threads.cores_busy or 0) >= 1.6
                    and threads.gil_held is not None
                    and threads.gil_held <= 0.10
                )
                total += 1
                passed += ok
                broke += rule
                print(
                    f"run {run + 1} {name:17s} pick {family:10s} plain threads {truth['threads']:.2f} "
                    f"processes {truth['processes']:.2f} | {'ok' if ok else 'FAR'}"
                    f"{' RULE BROKEN' if rule else ''} | advise {took:.0f} s | known: {nature}",
                    flush=True,
                )
                if not ok or rule:
                    print(f"    {rec}", flush=True)
    finally:
        if burner is not None:
            burner.kill()
    print(
        f"{passed} of {total} picks within {FAR:.0%} of the best plain figure; the rule broken {broke} times"
        + (" (beside a CPU-bound process)" if ns.competitor else "")
    )


if __name__ == "__main__":
    main()
