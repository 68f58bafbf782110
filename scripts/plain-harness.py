#!/usr/bin/env python3
"""Set a gillab run's speedups against a plain harness's, to see whether an unmarked figure can be trusted.

The plain harness is what anyone would write: the same tasks (gillab.workloads.jobs.job, the sizes the run
calibrated), serially in a loop, on a ThreadPoolExecutor and on a ProcessPoolExecutor (pools made and warmed
once), in rounds whose order is shuffled, the speedup of a round its serial wall over the cell's, the figure
the median over rounds. It knows nothing of gillab's instruments, its ceiling or its marks.

For each run, every parallel thread or process cell of the run is printed beside the plain figure, with
whether gillab marked it, and the two questions of issue 35 are counted: unmarked cells more than 15% from the
plain figure, and unmarked cells whose speedup interval is wider than ±10%.

    python scripts/plain-harness.py --runs 3                                   # the issue's first case
    python scripts/plain-harness.py --runs 3 --burst 3                        # a competitor mid-run
    python scripts/plain-harness.py --runs 3 --impl python,cython-gil,cython-nogil --workers 2,4
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor

from gillab import stats
from gillab.harness.results import RunConfig, RunResult
from gillab.harness.runner import run_matrix
from gillab.workloads.jobs import job

FAR = 0.15
WIDE = 0.10
BURN = "import time\nend = time.monotonic() + {s}\nwhile time.monotonic() < end:\n    pass\n"


def task(workload: str, impl: str, size: int) -> object:
    """One task, as gillab's workers run it (module level: a process pool pickles it by name)."""
    return job(workload, impl, size)()


def _wall(pool: Executor | None, calls: list[tuple[str, str, int]]) -> float:
    t0 = time.perf_counter()
    if pool is None:
        for c in calls:
            task(*c)
    else:
        list(pool.map(task, *zip(*calls, strict=True)))
    return time.perf_counter() - t0


def plain(result: RunResult, rounds: int, seed: int) -> dict[tuple[str, str, int], float]:
    """The plain harness's median speedup for every thread and process cell of the run."""
    cfg = result.config
    out: dict[tuple[str, str, int], float] = {}
    for impl in cfg.impls:
        size = cfg.sizes.get(impl)
        if not size:
            continue
        calls = [(cfg.workload, impl, size)] * cfg.n_tasks
        pools: dict[tuple[str, int], Executor] = {}
        for ex in ("thread", "process"):
            if ex in cfg.executors:
                for w in cfg.workers:
                    pool = ThreadPoolExecutor(w) if ex == "thread" else ProcessPoolExecutor(w)
                    _wall(pool, calls[:w])  # warm: every worker started and the task loaded
                    pools[ex, w] = pool
        ratios: dict[tuple[str, int], list[float]] = {k: [] for k in pools}
        rng = random.Random(seed)
        for _ in range(rounds):
            keys: list[tuple[str, int] | None] = [None, *pools]
            rng.shuffle(keys)
            walls = {k: _wall(pools[k] if k else None, calls) for k in keys}
            for k in pools:
                ratios[k].append(walls[None] / walls[k])
        for (ex, w), pool in pools.items():
            pool.shutdown()
            out[impl, ex, w] = statistics.median(ratios[ex, w])
    return out


def _compete(into: list[subprocess.Popen[bytes]], seconds: float) -> None:
    into.append(subprocess.Popen([sys.executable, "-c", BURN.format(s=seconds)]))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--impl", default="python,cython-nogil")
    p.add_argument("--workers", default="1,2")
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--rounds", type=int, default=9, help="the plain harness's rounds")
    p.add_argument(
        "--burst", type=float, default=0.0, help="seconds of a CPU-bound competitor mid-run"
    )
    p.add_argument("--burst-at", type=float, default=8.0, help="when the competitor starts (s)")
    args = p.parse_args()
    config = RunConfig(
        workload="fib",
        impls=tuple(args.impl.split(",")),
        executors=("thread", "process"),
        workers=tuple(int(w) for w in args.workers.split(",")),
        repeat=args.repeat,
        min_repeat=min(3, args.repeat),
    )
    far = wide = cells = marked = 0
    for run in range(args.runs):
        burst: list[subprocess.Popen[bytes]] = []
        if args.burst:
            threading.Timer(args.burst_at, _compete, (burst, args.burst)).start()
        t0 = time.perf_counter()
        result = run_matrix(config, None)
        took = time.perf_counter() - t0
        for b in burst:
            b.wait()
        ref = plain(result, args.rounds, run)
        added = sum(c.rounds_added for c in result.cells if not c.kind.baseline)
        print(f"run {run + 1}: {took:.0f} s, {added} rounds added")
        for c in result.cells:
            key = (c.impl, c.executor, c.workers)
            if key not in ref or not c.ok or c.speedup is None or c.workers < 2:
                continue
            cells += 1
            off = c.speedup / ref[key] - 1
            hw = stats.half_width(c.speedup_ci95) / c.speedup if c.speedup_ci95 else 0.0
            mark = "~" if c.unsteady else "*" if c.noisy else ""
            marked += bool(mark)
            far += not mark and abs(off) > FAR
            wide += not mark and hw > WIDE
            print(
                f"  {c.impl:13} {c.executor:8} {c.workers}  gillab {c.speedup:.2f} ±{hw:.0%} {mark:1}  "
                f"plain {ref[key]:.2f}  {off:+.0%}"
            )
    print(
        f"{cells} cells over {args.runs} runs: {marked} marked; unmarked more than {FAR:.0%} from the plain "
        f"harness: {far}; unmarked with an interval wider than ±{WIDE:.0%}: {wide}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
