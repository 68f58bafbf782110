"""`gillab check --executor interpreter`: does the callable load in a subinterpreter, and does it scale there?

Runs in the check's child. It starts an InterpreterPoolExecutor (gillab.harness.executors.interpreter) with as
many interpreters as the most workers asked for, and loads the target in each (its start-up, outside the
timing); a module that cannot load there is the answer, with its ImportError's text. Where it loads, each
round (ROUNDS, worker counts in a shuffled order) releases `workers` tasks together, each calling the target
`reps` times in its own interpreter; the speedup at w workers is w × the one-worker wall ÷ the w-worker wall
of the same round, its median over rounds with a 95% bootstrap interval, beside the cores busy (the tasks'
CPU ÷ wall).
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Any

from gillab import stats
from gillab.present.view import interval

ROUNDS = 5
LOADED: dict[str, tuple[Any, tuple[Any, ...], dict[str, Any]]] = {}
"""In a worker interpreter: the target and its inputs, loaded once."""


def _load(
    target: str, setup: str | None, args: list[Any] | None
) -> tuple[Any, tuple[Any, ...], dict[str, Any]]:
    if target not in LOADED:
        from gillab.callables import call_inputs, load_target
        from gillab.errors import TargetError

        try:
            func = load_target(target)
        except (
            TargetError
        ) as exc:  # re-raised as what it is: an import that failed in this interpreter
            raise ImportError(str(exc).split(": ", 2)[-1]) from None
        LOADED[target] = (func, *call_inputs(setup, args))
    return LOADED[target]


def prepare(target: str, setup: str | None, args: list[Any] | None, hold_s: float) -> float:
    """In a worker interpreter: load the target, call it once, and return that call's wall (s)."""
    func, a, kw = _load(target, setup, args)
    t0 = time.perf_counter()
    func(*a, **kw)
    took = time.perf_counter() - t0
    time.sleep(hold_s)  # hold this worker so that the pool starts the next one for the next call
    return took


def calls(
    target: str, setup: str | None, args: list[Any] | None, reps: int, release_ns: int
) -> tuple[int, int, int]:
    """In a worker interpreter: wait for the release, call the target reps times; (start, end, CPU) in ns."""
    func, a, kw = _load(target, setup, args)
    wait = release_ns - time.monotonic_ns()
    if 0 < wait < 5_000_000_000:
        time.sleep(wait / 1e9)
    cpu0, start = time.thread_time_ns(), time.monotonic_ns()
    for _ in range(reps):
        func(*a, **kw)
    return start, time.monotonic_ns(), time.thread_time_ns() - cpu0


@dataclass(frozen=True)
class InterpreterRow:
    """The target on `workers` interpreters at once."""

    workers: int
    speedup: float
    ci95: tuple[float, float]
    cores_busy: float
    """The tasks' CPU ÷ wall, median over rounds."""


@dataclass(frozen=True)
class InterpreterScaling:
    """Whether the target loads in a subinterpreter, and how it scaled on several."""

    available: bool
    reason: str = ""
    """Where the executor cannot run here, or the target cannot load in a subinterpreter: why, in one line."""
    loads: bool = False
    startup_s: float | None = None
    """Starting the interpreters and loading the target in each."""
    call_s: float | None = None
    reps: int = 0
    rows: tuple[InterpreterRow, ...] = ()
    pool: str = ""
    """Where the InterpreterPoolExecutor came from (the standard library, or the PEP 734 backport)."""


def measure_interpreters(
    target: str, setup: str | None, args: list[Any] | None, workers: list[int], duration_s: float
) -> InterpreterScaling:
    """Load the target in `max(workers)` interpreters and measure it on each worker count (module docstring)."""
    from gillab.harness.executors.interpreter import load_error, pool_class

    found, where = pool_class()
    if found is None:
        return InterpreterScaling(False, where)
    n = max(workers)
    counts = sorted({1, *workers})
    pool: Any = found(n)  # type: ignore[call-arg]
    try:
        t0 = time.perf_counter()
        try:
            took = [
                f.result()
                for f in [pool.submit(prepare, target, setup, args, 0.05) for _ in range(n)]
            ]
        except ImportError as exc:
            return InterpreterScaling(
                True, f"cannot load in a subinterpreter: {load_error(exc)}", pool=where
            )
        startup = max(0.0, time.perf_counter() - t0 - 0.05)
        call_s = stats.median(took)
        reps = max(1, round(duration_s / (ROUNDS * len(counts)) / max(call_s, 1e-6)))
        rows = _rounds(pool, (target, setup, args), counts, reps)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return InterpreterScaling(True, "", True, startup, call_s, reps, rows, where)


def _rounds(
    pool: Any, call: tuple[Any, ...], counts: list[int], reps: int
) -> tuple[InterpreterRow, ...]:
    walls: dict[int, list[float]] = {w: [] for w in counts}
    busy: dict[int, list[float]] = {w: [] for w in counts}
    for r in range(ROUNDS):
        order = list(counts)
        random.Random(f"interpreters/{r}").shuffle(order)
        for w in order:
            release = time.monotonic_ns() + 50_000_000
            outs = [
                f.result() for f in [pool.submit(calls, *call, reps, release) for _ in range(w)]
            ]
            wall = (max(end for _, end, _ in outs) - min(start for start, _, _ in outs)) / 1e9
            walls[w].append(wall)
            busy[w].append(sum(cpu for _, _, cpu in outs) / 1e9 / wall if wall > 0 else 0.0)
    rows = []
    for w in counts:
        ratios = [w * one / this for one, this in zip(walls[1], walls[w], strict=True) if this > 0]
        rows.append(
            InterpreterRow(
                w, stats.median(ratios), stats.bootstrap_ci(ratios), stats.median(busy[w])
            )
        )
    return tuple(rows)


def lines(got: InterpreterScaling) -> list[str]:
    """What `gillab check --executor interpreter` prints."""
    if not got.available:
        return [f"interpreters: {got.reason}"]
    if not got.loads:
        return [
            f"does not load in a subinterpreter: {got.reason.removeprefix('cannot load in a subinterpreter: ')}"
        ]
    out = [
        f"loads in a subinterpreter ({got.pool}): {got.startup_s or 0:.2f} s to start the interpreters and load it; "
        f"one call {(got.call_s or 0) * 1e3:.2f} ms, {got.reps} calls a task"
    ]
    out += [
        f"  {r.workers} interpreter{'s' if r.workers > 1 else ''}: {r.speedup:.2f}× {interval(*r.ci95)}, "
        f"{r.cores_busy:.2f} cores busy"
        for r in got.rows
    ]
    return out
