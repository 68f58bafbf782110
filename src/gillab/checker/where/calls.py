"""The child's side of `check --where`: call the callable alone, then on N threads, while the sampler watches.

Runs in the check's child process (gillab.checker.child, job "where"), the one process that runs the user's
code. It writes, as JSON lines: `ready` (its pid, the callable's file, and what each line of its module
touches that threads can share), then one `phase` per thread count (its monotonic window, the native ids of
the threads that called, their calls, and the collector's time), then `machine` (how much slower the machine
itself ran a GIL-free native reference on N threads than on one, in the same seconds).
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gillab import environment
from gillab.checker.where.objects import function_of, touched
from gillab.codec import encode
from gillab.harness.instruments import GcWatch

ATTACH_WAIT_S = 5.0
"""How long the child waits for the sampler to read its first stack before it calls anyway."""


SLICES = 8
"""Each phase is cut into this many slices, three sampled then one not, in turn (the sampler pauses while the
pause file exists): the calls per second of the sampled slices over the unsampled ones is the sampler's own
cost, measured in every profile, side by side in time."""


CALIBRATE_S = 0.4
"""Where the sampler is py-spy's two readers, one thread that holds the GIL all the time is called alone this
long before each phase and after the last: each reader samples at a rate of its own (one took 0.85-1.10 times
the other's ticks over the same seconds here, and more where the machine is busy), and the holder's samples of
this thread over every thread's are that ratio. A phase's lines' GIL-held shares are divided by the mean of the
ratios just before and just after it (with one calibration before the phases, a pure-Python line read 0.79-1.00
held alone over 20 profiles; the rates drift)."""


def _holds_the_gil() -> int:
    """Pure Python: its thread holds the GIL all the time it runs."""
    x = 0
    for i in range(2000):
        x += i
    return x


def run_phases(
    func: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    threads: int,
    duration_s: float,
    write: Callable[[dict[str, Any]], None],
    files: tuple[Path, Path | None] | None,
) -> None:
    """Call func alone for duration_s, then on `threads` threads at once for as long, writing each phase.

    files: (attached, pause): the sampler touches the first once it has read a stack; this child creates the
    second while the sampler is to pause (None: a sampler that never pauses, py-spy's; every slice is sampled)."""
    _let_the_sampler_read()
    f = function_of(func)
    objects = [
        {"file": file, "line": line} | encode(t) for (file, line), t in touched(func).items()
    ]
    write(
        {
            "ready": {
                "pid": os.getpid(),
                "file": f.__code__.co_filename if f is not None else "",
                "gil": environment.gil_enabled(),
                "objects": objects,
            }
        }
    )
    deadline = time.monotonic() + ATTACH_WAIT_S
    while files is not None and not files[0].exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    func(*args, **kwargs)  # its first call (imports, caches) is no phase's
    pause = files[1] if files is not None else None
    spy = files is not None and pause is None  # py-spy's two readers
    release, pools = threading.Event(), list[list[threading.Thread]]()
    if not spy:  # only py-spy names a thread by an id a new one takes over: elsewhere each phase's threads end
        release.set()  # with it, as they did before py-spy needed them kept

    def calibrate() -> (
        None
    ):  # py-spy's readers: their rates set against each other, beside each phase
        if spy:
            phase = _phase(_holds_the_gil, (), {}, 1, CALIBRATE_S, None, release, pools)
            write({"calibration": phase})

    for n in (1, threads):
        calibrate()
        write({"phase": _phase(func, args, kwargs, n, duration_s, pause, release, pools)})
    calibrate()
    release.set()
    for t in (t for pool in pools for t in pool):
        t.join()
    write({"machine": _machine(threads)})


PR_SET_PTRACER = 0x59616D61


def _let_the_sampler_read() -> None:
    """Name this child's parent, the sampler, as the process whose descendants may read its memory: under
    Yama's ptrace scope 1 only a process's ancestors may, and py-spy is the sampler's child, not this one's
    parent. Nothing changes where Yama is off (prctl fails, and is not needed) or outside Linux."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PTRACER, os.getppid(), 0, 0, 0)


def _call_loop(
    func: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    stop: threading.Event,
    mine: list[int],
) -> None:
    """Call func until stop is set, counting the calls (its frame marks, to py-spy, a thread that is calling:
    gillab.checker.where.spy.CALL_LOOP)."""
    while not stop.is_set():
        func(*args, **kwargs)
        mine[0] += 1


def _phase(
    func: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    n: int,
    duration_s: float,
    pause: Path | None,
    release: threading.Event,
    pools: list[list[threading.Thread]],
) -> dict[str, Any]:
    """n threads calling func for duration_s, in slices sampled and not in turn: each slice's window and calls,
    the callers' native ids, and the collector's time. Its threads stop calling at its end, and end once
    `release` is set (each pool is added to `pools`, to be joined then)."""
    stop = threading.Event()
    ready = threading.Barrier(n + 1)
    counts: list[list[int]] = [[0] for _ in range(n)]  # each thread its own: no shared list
    ids, finished = [0] * n, threading.Barrier(n + 1)

    def worker(i: int) -> None:
        ids[i] = threading.get_native_id()
        ready.wait()
        try:
            _call_loop(func, args, kwargs, stop, counts[i])
        finally:  # a call that raised still reaches the phase's end, which waits for every thread
            finished.wait()
            release.wait()  # alive to the end: py-spy names a thread by an id a new one would take over

    pool = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(n)]
    pools.append(pool)
    for t in pool:
        t.start()
    slices = []
    with GcWatch() as collector:
        ready.wait()
        t0, done = time.monotonic_ns(), 0
        for k in range(SLICES):
            sampled = pause is None or k % 4 != 3
            if pause is not None and sampled:
                pause.unlink(missing_ok=True)
            elif pause is not None:
                pause.touch()
            time.sleep(duration_s / SLICES)
            t1, now = time.monotonic_ns(), sum(c[0] for c in counts)
            slices.append((t0, t1, now - done, sampled))
            t0, done = t1, now
        stop.set()
        finished.wait()
        if release.is_set():
            for t in pool:
                t.join()
    if pause is not None:
        pause.unlink(missing_ok=True)
    return {
        "threads": n,
        "thread_ids": ids,
        "slices": slices,
        "gc_s": collector.seconds,
    }


def _machine(threads: int) -> float | None:
    """The machine's own slowdown on N threads: the wall of a GIL-free native unit on each of N threads at once
    over its wall alone (1.0 where every thread had a core of its own), or None for one thread."""
    if threads < 2:
        return None
    from gillab.harness import ceiling

    gc.collect()  # what the phases left: no collection stops the reference's threads
    ref = ceiling.Reference()
    walls = []
    for n in (1, threads, 1):
        wall, _ = ceiling.together(lambda: [ref.unit() for _ in range(4)], n)
        walls.append(wall)
    alone = (walls[0] + walls[2]) / 2
    return walls[1] / alone if alone > 0 else None
