"""The statistics every figure uses, defined once: median, percentile, IQR, CV, speedup and efficiency.

>>> median([3.0, 1.0, 2.0])
2.0
>>> percentile([1.0, 2.0, 3.0, 4.0], 0.5), percentile([1.0, 2.0, 3.0, 4.0], 0.95)
(2.0, 4.0)
>>> speedup(2.0, 0.5), efficiency(4.0, workers=4, tasks=4, cores=2)
(4.0, 2.0)
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence


def median(xs: Sequence[float]) -> float:
    """Return the median (the mean of the middle two for an even count); ValueError for no data."""
    return float(statistics.median(xs))


def percentile(xs: Sequence[float], q: float) -> float:
    """Return the q-th quantile (0 < q <= 1) by nearest rank: the smallest value with at least q of the data
    at or below it. 0.0 for no data. It is always one of the measured values, never an interpolation.

    >>> percentile([5.0], 0.95)
    5.0
    >>> percentile(list(map(float, range(1, 101))), 0.95)
    95.0
    """
    if not xs:
        return 0.0
    s = sorted(xs)
    rank = max(1, math.ceil(q * len(s)))
    return s[min(len(s), rank) - 1]


def iqr(xs: Sequence[float]) -> float:
    """Return the interquartile range (inclusive quartiles); 0.0 below two values."""
    if len(xs) < 2:
        return 0.0
    q1, _, q3 = statistics.quantiles(xs, n=4, method="inclusive")
    return q3 - q1


def cv(xs: Sequence[float]) -> float:
    """Return the coefficient of variation (sample standard deviation ÷ mean); 0.0 below two values."""
    if len(xs) < 2:
        return 0.0
    mean = statistics.fmean(xs)
    return statistics.stdev(xs) / mean if mean > 0 else 0.0


def spread(xs: Sequence[float]) -> tuple[float, float, float]:
    """Return (median, IQR, CV) of a cell's repeats."""
    return median(xs), iqr(xs), cv(xs)


def nearest_median(xs: Sequence[float]) -> int:
    """Return the index of the value that speaks for the set: the upper median (a measured value).

    >>> nearest_median([0.3, 0.1, 0.2, 0.4])
    0
    """
    return list(xs).index(sorted(xs)[len(xs) // 2])


def speedup(serial_s: float, parallel_s: float) -> float:
    """Return how many times faster the parallel run was: serial time ÷ parallel time."""
    return serial_s / parallel_s


def ideal(workers: int, tasks: int, cores: int) -> int:
    """Return the best speedup possible: the fewest of workers, tasks and usable cores (at least 1)."""
    return max(1, min(workers, tasks, cores))


def efficiency(speedup_x: float, workers: int, tasks: int, cores: int) -> float:
    """Return speedup ÷ ideal(workers, tasks, cores): 1.0 uses every core that could help."""
    return speedup_x / ideal(workers, tasks, cores)


BOOTSTRAP_SEED = 2026
"""The bootstrap's fixed seed: the same figures always give the same interval."""
BOOTSTRAP_RESAMPLES = 2000


def bootstrap_ci(
    xs: Sequence[float],
    level: float = 0.95,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> tuple[float, float]:
    """Return the percentile-bootstrap interval of the median of xs at the given level.

    xs is resampled with replacement `resamples` times (numpy, a fixed seed: one array of indices, one median
    per row, about 1 ms for a cell's rounds where a pure-Python loop took 10 ms, 795 of them in a default
    demo); the interval runs from the (1-level)/2 to the (1+level)/2 quantile of the resampled medians. One
    value gives a zero-width interval.

    >>> bootstrap_ci([2.0])
    (2.0, 2.0)
    >>> lo, hi = bootstrap_ci([1.8, 1.9, 2.0, 1.85, 1.95])
    >>> lo <= median([1.8, 1.9, 2.0, 1.85, 1.95]) <= hi
    True
    """
    if not xs:
        raise ValueError("bootstrap_ci() needs at least one value")
    if len(xs) == 1:
        return float(xs[0]), float(xs[0])
    import numpy as np  # here, not at import: workers and children import this module too

    values = np.asarray(xs, dtype=float)
    rows = np.random.default_rng(seed).integers(0, len(values), size=(resamples, len(values)))
    meds = np.sort(np.median(values[rows], axis=1))
    lo = meds[max(0, math.floor((1 - level) / 2 * resamples))]
    hi = meds[min(resamples - 1, math.ceil((1 + level) / 2 * resamples) - 1)]
    return float(lo), float(hi)


def half_width(ci: tuple[float, float]) -> float:
    """Return half the width of an interval."""
    return (ci[1] - ci[0]) / 2
