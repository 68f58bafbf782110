"""The child's side of `check --where`: call the callable alone, then on N threads, while the sampler watches.

Runs in the check's child process (gillab.checker.child, job "where"), the one process that runs the user's
code. It writes, as JSON lines: `ready` (its pid, the callable's file, and what each line of its module
touches that threads can share), then one `phase` per thread count (its monotonic window, the native ids of
the threads that called, their calls, and the collector's time), then `machine` (how much slower the machine
itself ran a GIL-free native reference on N threads than on one, in the same seconds).
"""

from __future__ import annotations

import gc
import os
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


def run_phases(
    func: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    threads: int,
    duration_s: float,
    write: Callable[[dict[str, Any]], None],
    attached: Path | None,
) -> None:
    """Call func alone for duration_s, then on `threads` threads at once for as long, writing each phase."""
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
    while attached is not None and not attached.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    func(*args, **kwargs)  # its first call (imports, caches) is no phase's
    for n in (1, threads):
        write({"phase": _phase(func, args, kwargs, n, duration_s)})
    write({"machine": _machine(threads)})


def _phase(
    func: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    n: int,
    duration_s: float,
) -> dict[str, Any]:
    """n threads calling func for duration_s: the window, the callers' native ids, calls, collector time."""
    stop = threading.Event()
    ready = threading.Barrier(n + 1)
    counts, ids = [0] * n, [0] * n

    def worker(i: int) -> None:
        ids[i] = threading.get_native_id()
        ready.wait()
        c = 0
        while not stop.is_set():
            func(*args, **kwargs)
            c += 1
        counts[i] = c

    pool = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(n)]
    for t in pool:
        t.start()
    with GcWatch() as collector:
        ready.wait()
        t0 = time.monotonic_ns()
        time.sleep(duration_s)
        stop.set()
        for t in pool:
            t.join()
        t1 = time.monotonic_ns()
    return {
        "threads": n,
        "start_ns": t0,
        "end_ns": t1,
        "thread_ids": ids,
        "calls": sum(counts),
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
