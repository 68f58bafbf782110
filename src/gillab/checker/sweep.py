"""Size sweeps: how a callable treats the GIL at each input size, and the size from which it lets go.

Many calls release the GIL only above a size (hashlib from 2048 bytes, zlib.crc32 above 5 KiB), and below
it they take microseconds, far too short for the progress-based method. So each size is decided by
counting, not timing: with forced switches off (the switch interval raised to NO_FORCED_SWITCH_S) and a
Python thread asking for the GIL every few tens of microseconds, the calling thread runs the callable again
and again and reads CPython's own switch counter before and after. A call that releases the GIL lets the
waiting thread in, and CPython counts that switch; a call that holds it lets nobody in: exactly 0 switches,
on any machine, under any load. Where the switch counter cannot be read, the waiting thread's own steps
are counted the same way.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from gillab import environment
from gillab.checker.measure import NO_FORCED_SWITCH_S
from gillab.harness import gilstate

WINDOW_S = 0.2
"""How long each size is called for: enough for a loaded OS to run the waiting thread many times."""


def switches_during_calls(
    func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], window_s: float = WINDOW_S
) -> dict[str, Any]:
    """Call func for window_s while another Python thread waits for the GIL; count who got in.

    Returns calls, the median seconds per call, the GIL switches counted (None where the counter cannot be
    read), the waiting thread's steps, and which of the two decided.
    """
    steps = [0]
    stop = threading.Event()

    def waiter() -> None:
        while not stop.is_set():
            steps[0] += 1
            time.sleep(1e-6)  # asks for the GIL again some tens of microseconds later

    func(*args, **kwargs)  # warm; an exception here is the callable's own
    w = threading.Thread(target=waiter, name="gillab-waiter", daemon=True)
    with environment.switch_interval(NO_FORCED_SWITCH_S):
        w.start()
        time.sleep(0.005)
        calls = 0
        batch = 1
        t0 = time.perf_counter()
        end = t0 + window_s
        n0, s0 = gilstate.switch_count(), steps[0]
        while True:
            for _ in range(batch):
                func(*args, **kwargs)
            calls += batch
            if time.perf_counter() >= end:
                break
            batch = min(batch * 2, 1024)
        n1, s1 = gilstate.switch_count(), steps[0]
        elapsed = time.perf_counter() - t0
        stop.set()
        w.join()
    switches = n1 - n0 if n0 is not None and n1 is not None else None
    return {
        "calls": calls,
        "per_call_s": elapsed / calls,
        "switches": switches,
        "waiter_steps": s1 - s0,
        "method": "GIL switches during calls" if switches is not None else "steps of a waiting thread during calls",
    }


def kind(row: dict[str, Any]) -> str:
    """Return "releases" where anyone got the GIL during the calls, else "holds"."""
    seen = row["switches"] if row["switches"] is not None else row["waiter_steps"]
    return "releases" if seen > 0 else "holds"


def sweep(
    func: Callable[..., Any],
    inputs: Callable[[int], tuple[tuple[Any, ...], dict[str, Any]]],
    sizes: Sequence[int],
    window_s: float = WINDOW_S,
) -> dict[str, Any]:
    """Decide, size by size, whether func releases the GIL; inputs(n) gives the call's args and kwargs."""
    rows = []
    for n in sizes:
        args, kwargs = inputs(n)
        row = {"size": n, **switches_during_calls(func, args, kwargs, window_s)}
        row["releases"] = kind(row) if environment.gil_enabled() else "no GIL"
        rows.append(row)
    return {"sizes": rows, "threshold": threshold(rows), "gil_enabled": environment.gil_enabled()}


def releases_from(rows: Sequence[dict[str, Any]]) -> int | None:
    """Return the smallest size tried from which every size tried releases the GIL; None where no size
    does, or where the sizes that release are not all above those that hold."""
    ordered = sorted(rows, key=lambda r: r["size"])
    first = next((i for i, r in enumerate(ordered) if r["releases"] == "releases"), None)
    if first is None or any(r["releases"] != "releases" for r in ordered[first:]):
        return None
    size: int = ordered[first]["size"]
    return size


def threshold(rows: Sequence[dict[str, Any]]) -> str:
    """Name the size from which the callable releases the GIL, from the rows (in any order)."""
    if not rows:
        return "no size was tried"
    ordered = sorted(rows, key=lambda r: r["size"])
    if ordered[0]["releases"] == "no GIL":
        return "no GIL to release: this free-threaded interpreter runs without one"
    start = releases_from(ordered)
    if start == ordered[0]["size"]:
        return f"releases the GIL at every size tried ({start} and up)"
    if all(r["releases"] == "holds" for r in ordered):
        return f"holds the GIL at every size tried (up to {ordered[-1]['size']})"
    if start is not None:
        below = max(r["size"] for r in ordered if r["size"] < start)
        return f"releases the GIL from {start} up; holds it at {below} and below"
    held = ", ".join(str(r["size"]) for r in ordered if r["releases"] == "holds")
    freed = ", ".join(str(r["size"]) for r in ordered if r["releases"] == "releases")
    return f"no single threshold: releases the GIL at {freed}; holds it at {held}"
