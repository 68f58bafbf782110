"""The machine's own ceiling, measured in the same rounds as the cells.

On a VM the host can slow a vCPU invisibly: the same native task takes one of two times, with CPU time equal
to wall time and no steal, and with both vCPUs busy the slow state is the usual one. So "the" speedup of
perfectly parallel code is itself a distribution here, and a cell's speedup says little until it is set
against what the machine delivered meanwhile.

In every round a reference is timed right after each cell's repeat: a fixed native kernel that holds no GIL
and touches no shared memory, one unit on one thread after the serial baseline ("alone"), one unit on each
of N threads released together after a cell of N workers ("together"). N × alone ÷ together is the machine's
ceiling for that cell in that round: what the machine gave perfectly parallel code at the moments the cell
and its baseline ran. The machine's speed flips within a round here (a round of a default demo lasts
seconds), so a reference timed once per round missed the state a cell ran in; one beside each cell sees it.
A cell's efficiency against the ceiling is its own per-round speedup ÷ that round's ceiling: near 1 it got
all this machine gave.

After, not before: the speed this VM gives N threads depends on what its vCPUs did just before. Timed before
each repeat, the reference ran in the state the previous cell (a random one, in a shuffled round) left the
machine in; timed after, in the state the cell itself left it in. Measured on the 2-core VM gillab is built on
(cython-nogil fib, the serial baseline and 2 threads, 20 rounds of each scheme interleaved at random), the
efficiency against a ceiling timed before had a median of 1.26-1.37, impossible for code that is itself the
reference; timed after, 1.03-1.11.

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
the first fib(n) at least this long)."""
SHARE = 0.25
"""The reference runs for about this share of the repeat it follows (as many units as fit, one to MAX_UNITS):
one unit of 10 ms swung between 0.5 and 1.5 times its median on the 2-core VM gillab is built on, and a ceiling
built on one gave 2 workers intervals such as [1.08-2.96], and 7 of 18 cells of a default demo an efficiency
against it above 1.10. A quarter of each repeat (30-60 ms in a default demo) gave intervals such as [1.52-1.83]
and one such cell in 18, for 6 s of a 32 s run (one unit had cost 1.9 s)."""
MAX_UNITS = 8


@dataclass(frozen=True)
class CeilingSample:
    """The reference timed right after one cell's repeat: one unit on each of `workers` threads at once (on
    one thread, after the serial baseline)."""

    group: int
    round: int
    executor: str
    workers: int
    seconds: float
    """The wall from the release to the last thread's end, per unit."""
    cpu_s: float
    alone: bool
    """Beside the serial baseline: one thread, the machine's solo speed in this round."""
    units: int = 1
    """How many units each thread ran (about SHARE of the repeat's wall): `seconds` is the wall ÷ units."""


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

    def measure(
        self,
        group: int,
        round_: int,
        executor: str,
        workers: int,
        alone: bool,
        after_s: float = 0.0,
    ) -> CeilingSample:
        """Time the unit on each of `workers` threads at once (one, alone), as many times as fit in SHARE of
        after_s (the repeat just timed), at least once; record and return the sample, per unit."""
        units = max(1, min(MAX_UNITS, round(SHARE * after_s / self.n_seconds)))
        unit = self.unit

        def run() -> None:
            for _ in range(units):
                unit()

        seconds, cpu = together(run, 1 if alone else workers)
        sample = CeilingSample(
            group, round_, executor, 1 if alone else workers, seconds / units, cpu, alone, units
        )
        self.samples.append(sample)
        return sample

    def cost_s(self) -> float:
        """The wall time the reference has taken so far."""
        return sum(s.seconds * s.units for s in self.samples)


def _timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _grow(
    timed: Callable[[int], float], n: int, target_s: float, step: Callable[[int], int] | None = None
) -> int:
    """The size whose unit takes about target_s: grown from n (by step, else ×2) until it does."""
    while timed(n) < target_s and n < 10**12:
        n = step(n) if step else n * 2
    return n


def together(unit: Callable[[], object], workers: int) -> tuple[float, float]:
    """One unit on each of `workers` threads released together: (wall from the first start to the last end, CPU).

    Each thread reads its own start: the releasing thread may lose its core right after the release (a loaded
    machine, or a free-threaded build whose workers need no GIL), and a start it read then came after some ends
    (on 3.14t beside a competitor, a whole round's ceiling went missing, its wall below zero)."""
    ready = threading.Barrier(workers + 1)
    starts = [0] * workers
    ends = [0] * workers
    cpu = [0.0] * workers

    def run(i: int) -> None:
        ready.wait()
        starts[i] = time.monotonic_ns()
        c0 = time.thread_time()
        unit()
        ends[i] = time.monotonic_ns()
        cpu[i] = time.thread_time() - c0

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(workers)]
    for t in threads:
        t.start()
    ready.wait()
    for t in threads:
        t.join()
    return (max(ends) - min(starts)) / 1e9, sum(cpu)


def _last(samples: Sequence[CeilingSample]) -> dict[tuple[int, int, str, int], CeilingSample]:
    """Each (group, round, executor, workers)'s last sample: a repeat measured again had its reference again."""
    return {(x.group, x.round, x.executor, x.workers): x for x in samples}


def solo(
    samples: Sequence[CeilingSample], group: int | None = None
) -> dict[tuple[int, int], float]:
    """(group, round) -> one unit's solo time beside that round's serial baseline (of one group, or all)."""
    return {
        (g, r): x.seconds
        for (g, r, _, _), x in _last(samples).items()
        if x.alone and (group is None or g == group)
    }


def ratios(
    samples: Sequence[CeilingSample], group: int, executor: str, workers: int
) -> dict[int, float]:
    """Round -> the machine's ceiling for one cell in that round of its group: N × alone ÷ together."""
    alone = solo(samples, group)
    return {
        r: workers * alone[(g, r)] / x.seconds
        for (g, r, ex, w), x in _last(samples).items()
        if g == group
        and ex == executor
        and w == workers
        and not x.alone
        and (g, r) in alone
        and x.seconds > 0
    }


def core_speeds(
    samples: Sequence[CeilingSample], group: int, executor: str, workers: int
) -> dict[int, float]:
    """Round -> how fast each core ran the reference on N threads at once, against one thread alone in that
    round (CPU per unit alone ÷ CPU per unit and thread together): the machine's own core speed at N, which a
    cell's core speed is set against (gillab.harness.diagnosis)."""
    last = _last(samples)
    alone = {
        (g, r): x.cpu_s / x.units for (g, r, _, _), x in last.items() if x.alone and g == group
    }
    return {
        r: alone[(g, r)] / (x.cpu_s / (x.workers * x.units))
        for (g, r, ex, w), x in last.items()
        if g == group
        and ex == executor
        and w == workers
        and not x.alone
        and (g, r) in alone
        and x.cpu_s > 0
    }


def machine_core_speed(samples: Sequence[CeilingSample], workers: int) -> float | None:
    """How fast each core ran the reference on `workers` threads at once against one alone, the median over
    every group, round and executor of the run (core_speeds): CPU against CPU, so that a core another process
    took a share of counts as fewer cores busy, not as a slower core. None where none was timed."""
    groups = {x.group for x in samples}
    executors = {x.executor for x in samples if x.workers == workers and not x.alone}
    speeds = [
        v for g in groups for ex in executors for v in core_speeds(samples, g, ex, workers).values()
    ]
    return stats.median(speeds) if speeds else None


def core_speed_now(workers: int, units: int = 6) -> float | None:
    """The machine's own core speed on `workers` threads at once, against one thread alone, measured now with the
    reference (CPU per unit alone ÷ CPU per unit and thread together; alone timed before and after, and
    averaged, as the machine's speed moves); None where no CPU was counted."""
    ref = Reference()

    def run() -> None:
        for _ in range(units):
            ref.unit()

    _, before = together(run, 1)
    _, at_once = together(run, workers)
    _, after = together(run, 1)
    alone = (before + after) / 2
    return alone / (at_once / workers) if alone > 0 and at_once > 0 else None


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
    return Ceiling(
        workers,
        stats.median(xs),
        stats.bootstrap_ci(xs),
        len(xs),
        stats.ideal(workers, workers, cores),
    )


def drift(samples: Sequence[CeilingSample], group: int | None = None) -> float | None:
    """The machine's own speed drift: the slowest solo unit ÷ the fastest, minus 1 (of one group, or all)."""
    times = list(solo(samples, group).values())
    return max(times) / min(times) - 1 if len(times) >= 2 else None
