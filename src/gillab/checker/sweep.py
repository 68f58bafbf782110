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
from dataclasses import dataclass
from typing import Any

from gillab import environment
from gillab.checker.measure import NO_FORCED_SWITCH_S
from gillab.checker.verdict import Releases
from gillab.codec import encode
from gillab.harness import gilstate

WINDOW_S = 0.2
"""How long each size is called for: enough for a loaded OS to run the waiting thread many times."""


@dataclass(frozen=True)
class SweepRow:
    """One size: how many calls ran, how long each took, and who got the GIL meanwhile."""

    size: int
    calls: int
    per_call_s: float
    switches: int | None
    """CPython's own switch count during the calls; None where it cannot be read."""
    waiter_steps: int
    method: str
    """Which of the two decided: "GIL switches during calls" or "steps of a waiting thread during calls"."""
    releases: Releases

    @property
    def seen(self) -> int:
        """What decided: the switches, else the waiting thread's steps."""
        return self.switches if self.switches is not None else self.waiter_steps


def switches_during_calls(
    func: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    size: int,
    window_s: float = WINDOW_S,
) -> SweepRow:
    """Call func for window_s while another Python thread waits for the GIL; count who got in.

    The row holds the calls, the median seconds per call, the GIL switches counted (None where the counter
    cannot be read), the waiting thread's steps, which of the two decided, and what that says.
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
    seen = switches if switches is not None else s1 - s0
    releases = Releases.RELEASES if seen > 0 else Releases.HOLDS
    if not environment.gil_enabled():
        releases = Releases.NO_GIL
    return SweepRow(
        size,
        calls,
        elapsed / calls,
        switches,
        s1 - s0,
        "GIL switches during calls"
        if switches is not None
        else "steps of a waiting thread during calls",
        releases,
    )


@dataclass(frozen=True)
class Sweep:
    """A callable decided size by size, and the size from which it lets go of the GIL."""

    sizes: tuple[SweepRow, ...]
    gil_enabled: bool

    @property
    def releases_from(self) -> int | None:
        """The smallest size tried from which every size tried releases the GIL; None where no size does, or
        where the sizes that release are not all above those that hold."""
        ordered = sorted(self.sizes, key=lambda r: r.size)
        first = next((i for i, r in enumerate(ordered) if r.releases is Releases.RELEASES), None)
        if first is None or any(r.releases is not Releases.RELEASES for r in ordered[first:]):
            return None
        return ordered[first].size

    @property
    def threshold(self) -> str:
        """Name the size from which the callable releases the GIL, from the rows (in any order)."""
        if not self.sizes:
            return "no size was tried"
        ordered = sorted(self.sizes, key=lambda r: r.size)
        if ordered[0].releases is Releases.NO_GIL:
            return "no GIL to release: this free-threaded interpreter runs without one"
        start = self.releases_from
        if start == ordered[0].size:
            return f"releases the GIL at every size tried ({start} and up)"
        if all(r.releases is Releases.HOLDS for r in ordered):
            return f"holds the GIL at every size tried (up to {ordered[-1].size})"
        if start is not None:
            below = max(r.size for r in ordered if r.size < start)
            return f"releases the GIL from {start} up; holds it at {below} and below"
        held = ", ".join(str(r.size) for r in ordered if r.releases is Releases.HOLDS)
        freed = ", ".join(str(r.size) for r in ordered if r.releases is Releases.RELEASES)
        return f"no single threshold: releases the GIL at {freed}; holds it at {held}"

    def to_json(self) -> dict[str, Any]:
        """The sweep's JSON: its rows, its threshold in words, and whether there was a GIL."""
        return {
            "sizes": encode(self.sizes),
            "threshold": self.threshold,
            "gil_enabled": self.gil_enabled,
        }


def sweep(
    func: Callable[..., Any],
    inputs: Callable[[int], tuple[tuple[Any, ...], dict[str, Any]]],
    sizes: Sequence[int],
    window_s: float = WINDOW_S,
) -> Sweep:
    """Decide, size by size, whether func releases the GIL; inputs(n) gives the call's args and kwargs."""
    rows = []
    for n in sizes:
        args, kwargs = inputs(n)
        rows.append(switches_during_calls(func, args, kwargs, n, window_s))
    return Sweep(tuple(rows), environment.gil_enabled())
