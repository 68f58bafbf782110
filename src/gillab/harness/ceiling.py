"""The machine's own ceiling, measured in the same rounds as the cells.

On a VM the host can slow a vCPU invisibly: the same native task takes one of two times, with CPU time equal
to wall time and no steal, and with both vCPUs busy the slow state is the usual one. So "the" speedup of
perfectly parallel code is itself a distribution here, and a cell's speedup says little until it is set
against what the machine delivered meanwhile.

In every round a reference is timed right before each cell's repeat: a fixed native kernel that holds no GIL
and touches no shared memory, one unit on one thread before the serial baseline ("alone"), one unit on each
of N threads released together before a cell of N workers ("together"). N × alone ÷ together is the machine's
ceiling for that cell in that round: what the machine gave perfectly parallel code at the moments the cell
and its baseline ran. The machine's speed flips within a round here (a round of a default demo lasts
seconds), so a reference timed once per round missed the state a cell ran in; one beside each cell sees it.
A cell's efficiency against the ceiling is its own per-round speedup ÷ that round's ceiling: near 1 it got
all this machine gave.

The kernel is cython-nogil fib, where that variant is built, else a native integer spin (cext/_spin.c). It
matters: on the 2-core VM gillab is built on, fib's solo time swung between 18 and 36 ms a call from round
to round while the spin's held at its fast time in every round, and a spin-based ceiling missed the very
slowdowns it exists to show (its ratio correlated with the cells' speedup at -0.05 to -0.27 over 30 rounds).

The reference's solo time per unit is also the machine's own speed, round by round (speed_probe in
results.json).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from gillab import _native, stats
from gillab.errors import GillabError

UNIT_S = 0.01
"""One unit of the reference: about this long on one thread here (fib's step is the golden ratio: the unit is
the first fib(n) at least this long). Each cell's repeat then costs one unit more, 10-25 ms: about 5% of a
default demo."""


@dataclass(frozen=True)
class CeilingSample:
    """The reference timed right before one cell's repeat: one unit on each of `workers` threads at once (on
    one thread, before the serial baseline)."""

    group: int
    round: int
    executor: str
    workers: int
    seconds: float
    """The wall from the release to the last thread's end."""
    cpu_s: float
    alone: bool
    """Beside the serial baseline: one unit on one thread, the machine's solo speed in this round."""


@dataclass(frozen=True)
class Ceiling:
    """The machine's ceiling for N workers over a run's rounds: the median ratio and its 95% interval."""

    workers: int
    ratio: float
    ci95: tuple[float, float]
    rounds: int
    ideal: int
    """min(N, usable cores): the ceiling of a machine whose cores never slow each other down."""


class Reference:
    """The reference kernel, sized once so that one unit takes about UNIT_S here."""

    def __init__(self, unit_s: float = UNIT_S) -> None:
        try:
            fib = _native.kernels("cython-nogil").fib
        except GillabError:  # a gil-only build: the native spin stands in
            spin = _native.instruments().spin
            self.kernel = "the native spin (cext/_spin.c; cython-nogil is not built)"
            n = _grow(lambda k: spin(k) / 1e9, 20_000, unit_s)
            self.unit: Callable[[], object] = lambda: spin(n)
        else:
            self.kernel = "cython-nogil fib"
            n = _grow(lambda k: _timed(lambda: fib(k)), 20, unit_s, step=lambda k: k + 1)
            self.unit = lambda: fib(n)
        self.n_seconds = min(_timed(self.unit) for _ in range(3))
        """One unit's time when it was sized."""
        self.samples: list[CeilingSample] = []

    def measure(self, group: int, round_: int, executor: str, workers: int, alone: bool) -> CeilingSample:
        """Time one unit on each of `workers` threads at once (one, alone); record and return the sample."""
        seconds, cpu = _together(self.unit, 1 if alone else workers)
        sample = CeilingSample(group, round_, executor, 1 if alone else workers, seconds, cpu, alone)
        self.samples.append(sample)
        return sample

    def cost_s(self) -> float:
        """The wall time the reference has taken so far."""
        return sum(s.seconds for s in self.samples)


def _timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _grow(timed: Callable[[int], float], n: int, target_s: float, step: Callable[[int], int] | None = None) -> int:
    """The size whose unit takes about target_s: grown from n (by step, else ×2) until it does."""
    while timed(n) < target_s and n < 10**12:
        n = step(n) if step else n * 2
    return n


def _together(unit: Callable[[], object], workers: int) -> tuple[float, float]:
    """One unit on each of `workers` threads released together: (wall from the release to the last end, CPU)."""
    ready = threading.Barrier(workers + 1)
    ends = [0] * workers
    cpu = [0.0] * workers

    def run(i: int) -> None:
        ready.wait()
        c0 = time.thread_time()
        unit()
        ends[i] = time.monotonic_ns()
        cpu[i] = time.thread_time() - c0

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(workers)]
    for t in threads:
        t.start()
    ready.wait()
    t0 = time.monotonic_ns()
    for t in threads:
        t.join()
    return (max(ends) - t0) / 1e9, sum(cpu)


def _last(samples: Sequence[CeilingSample]) -> dict[tuple[int, int, str, int], CeilingSample]:
    """Each (group, round, executor, workers)'s last sample: a repeat measured again had its reference again."""
    return {(x.group, x.round, x.executor, x.workers): x for x in samples}


def solo(samples: Sequence[CeilingSample], group: int | None = None) -> dict[tuple[int, int], float]:
    """(group, round) -> one unit's solo time beside that round's serial baseline (of one group, or all)."""
    return {
        (g, r): x.seconds for (g, r, _, _), x in _last(samples).items() if x.alone and (group is None or g == group)
    }


def ratios(samples: Sequence[CeilingSample], group: int, executor: str, workers: int) -> dict[int, float]:
    """Round -> the machine's ceiling for one cell in that round of its group: N × alone ÷ together."""
    alone = solo(samples, group)
    return {
        r: workers * alone[(g, r)] / x.seconds
        for (g, r, ex, w), x in _last(samples).items()
        if g == group and ex == executor and w == workers and not x.alone and (g, r) in alone and x.seconds > 0
    }


def summary(samples: Sequence[CeilingSample], workers: int, cores: int) -> Ceiling | None:
    """The ceiling for N workers over every round and cell of the run (None where none was measured)."""
    alone = solo(samples)
    xs = [
        workers * alone[(g, r)] / x.seconds
        for (g, r, _, w), x in _last(samples).items()
        if w == workers and not x.alone and (g, r) in alone and x.seconds > 0
    ]
    if not xs:
        return None
    return Ceiling(workers, stats.median(xs), stats.bootstrap_ci(xs), len(xs), stats.ideal(workers, workers, cores))


def drift(samples: Sequence[CeilingSample], group: int | None = None) -> float | None:
    """The machine's own speed drift: the slowest solo unit ÷ the fastest, minus 1 (of one group, or all)."""
    times = list(solo(samples, group).values())
    return max(times) / min(times) - 1 if len(times) >= 2 else None
