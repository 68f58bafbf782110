"""`gillab race`: the shared-counter race, N threads × k increments × R repeats, and what each safety costs.

One module, the lab's pattern: :func:`run` measures and returns a frozen :class:`Race`; :func:`facts` says
what it showed, :func:`lines` what the command prints, :func:`picture` draws race.png and :func:`section`
is its part of report.html.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from gillab import environment
from gillab.codec import Record
from gillab.errors import CannotLoadError, NotBuiltError
from gillab.harness import gilstate
from gillab.present.view import Table, View
from gillab.stats import median
from gillab.workloads import Kernel, kernel, pure

NAME = "race"

VARIANTS: dict[str, str] = {
    "python": "python += on a global (every thread adds)",
    "python-add-desc": "the course's pair: half the threads do total += 1, half do total -= 1",
    "python-rcw": "python read, call, write: t = total; noop(); total = t + 1",
    "python-lock": "python += under a threading.Lock",
    "cython-nogil": "cython-nogil, unsynchronised: a relaxed atomic load then store (no lock)",
    "cython-atomic": "cython-nogil, atomic fetch_add",
    "cython-mutex": "cython-nogil, a pthread mutex around each increment",
    "cython-gil": "cython-gil: the unsynchronised loop, run while holding the GIL",
}
"""Race variant -> what it does. Every variant but python-add-desc is an impl of the counter workload."""
ADD_DESC = "python-add-desc"


@dataclass(frozen=True)
class VariantRace:
    """What one variant did over the repeats."""

    variant: str
    description: str
    threads: int
    k: int
    expected: int
    observed: tuple[int, ...]
    lost: tuple[int, ...]
    """expected - observed for each repeat."""
    lost_min: int
    lost_median: float
    lost_max: int
    runs_losing: int
    ns_per_increment: float
    overlap_ms: tuple[float, ...] = ()
    """Per repeat, how long every thread was inside its loop at once (latest start to earliest end)."""
    overlap_ms_median: float = 0.0
    switches: tuple[int, ...] = ()
    """Per repeat, how many times the GIL changed hands while the threads ran (CPython's own count; empty
    where it cannot be read, or there is no GIL)."""
    switches_per_s_median: float | None = None
    status: str = "ok"
    reason: str = ""


def _parts(variant: str) -> tuple[Callable[[int], None], Callable[[int], None] | None, Kernel]:
    """Return (add, desc or None, the counter kernel with reset/value) for a variant; NotBuiltError if not built."""
    k = kernel("counter", "python" if variant == ADD_DESC else variant)
    return k.func, (pure.desc if variant == ADD_DESC else None), k


def _one_run(
    adder: Callable[[int], None], desc: Callable[[int], None] | None, threads: int, k: int
) -> tuple[float, float, int | None]:
    """Release the threads together, wait for all; return (elapsed s, overlap ms, GIL switches or None)."""
    barrier = threading.Barrier(threads + 1)
    spans: list[tuple[int, int]] = []

    def work(fn: Callable[[int], None]) -> None:
        barrier.wait()
        t0 = time.monotonic_ns()
        fn(k)
        spans.append((t0, time.monotonic_ns()))

    pool = [
        threading.Thread(target=work, args=(desc if desc is not None and i % 2 else adder,))
        for i in range(threads)
    ]
    for t in pool:
        t.start()
    n0 = gilstate.switch_count()
    barrier.wait()
    t0 = time.perf_counter()
    for t in pool:
        t.join()
    elapsed = time.perf_counter() - t0
    n1 = gilstate.switch_count()
    overlap = max(0, min(e for _, e in spans) - max(s for s, _ in spans)) / 1e6
    return elapsed, overlap, n1 - n0 if n0 is not None and n1 is not None else None


def race(variant: str, threads: int, k: int, repeat: int) -> VariantRace:
    """Run the race for one variant and count lost updates (expected − observed) per repeat."""
    desc_text = VARIANTS[variant]
    adder, desc, counter = _parts(variant)
    reset, value = counter.reset, counter.value
    assert reset is not None
    assert value is not None
    subtractors = threads // 2 if desc is not None else 0
    expected = (threads - subtractors) * k - subtractors * k
    observed: list[int] = []
    elapsed: list[float] = []
    overlaps: list[float] = []
    switches: list[int] = []
    for _ in range(repeat):
        reset()
        took, overlap, n = _one_run(adder, desc, threads, k)
        elapsed.append(took)
        overlaps.append(overlap)
        if n is not None:
            switches.append(n)
        observed.append(value())
    lost = [expected - o for o in observed]
    return VariantRace(
        variant,
        desc_text,
        threads,
        k,
        expected,
        tuple(observed),
        tuple(lost),
        min(lost),
        median([float(x) for x in lost]),
        max(lost),
        sum(1 for x in lost if x != 0),
        median(elapsed) / (threads * k) * 1e9,
        tuple(overlaps),
        median(overlaps),
        tuple(switches),
        median([n / t for n, t in zip(switches, elapsed, strict=True)]) if switches else None,
    )


MIN_OVERLAP_S = 0.1
"""By default each variant's k is sized so that one thread alone runs its loop at least this long, so that
the threads overlap for about this long (or would, were nothing holding them apart)."""
K_DEFAULT = 1_000_000
"""The course's k, and the least k a sized variant gets."""


def sized_k(variant: str, target_s: float = MIN_OVERLAP_S) -> int:
    """Return the k at which one thread alone runs this variant's loop for about target_s (at least K_DEFAULT)."""
    adder, _, counter = _parts(variant)
    assert counter.reset is not None
    probe = 100_000
    while True:
        counter.reset()
        t0 = time.perf_counter()
        adder(probe)
        t = time.perf_counter() - t0
        if t >= 0.01 or probe >= 10**10:
            break
        probe *= 10
    return max(K_DEFAULT, min(10**10, int(probe * target_s / max(t, 1e-9))))


@dataclass(frozen=True)
class Skipped:
    """A variant whose build is missing (or cannot load here)."""

    variant: str
    description: str
    status: str
    reason: str


@dataclass(frozen=True)
class Race(Record):
    """The whole lab: every variant, and where dis finds a switch point between the read and the write."""

    threads: int
    k: int | None
    k_sized: bool
    repeat: int
    switch_interval_s: float
    gil_enabled: bool
    python: str
    results: tuple[VariantRace | Skipped, ...]
    dis_windows: dict[str, bool | None] = field(default_factory=dict)

    @property
    def measured(self) -> list[VariantRace]:
        """The variants that ran."""
        return [r for r in self.results if isinstance(r, VariantRace)]


def run(
    variants: list[str], threads: int, k: int | None, repeat: int, switch_interval: float | None
) -> Race:
    """Run every variant; a variant whose build is missing is reported as skipped.

    k None sizes each variant (sized_k) so that its threads overlap for about MIN_OVERLAP_S.
    """
    with environment.switch_interval(switch_interval):
        results: list[VariantRace | Skipped] = []
        for v in variants:
            try:
                results.append(race(v, threads, k if k is not None else sized_k(v), repeat))
            except (NotBuiltError, CannotLoadError) as exc:
                results.append(Skipped(v, VARIANTS[v], "skipped", str(exc)))
        return Race(
            threads,
            k,
            k is None,
            repeat,
            sys.getswitchinterval(),
            environment.gil_enabled(),
            sys.version.split()[0],
            tuple(results),
            dis_windows(),
        )


def facts(data: Race) -> list[str]:
    """Return sentences stating what was observed on this interpreter, linked to the dis marks."""
    gil = "with the GIL" if data.gil_enabled else "without the GIL"
    windows = data.dis_windows
    out = []
    for r in data.measured:
        line = (
            f"{r.variant}: lost updates in {r.runs_losing} of {len(r.lost)} runs of "
            f"{r.threads}×{r.k:,} on Python {data.python} {gil} "
            f"(lost min {r.lost_min:,}, median {r.lost_median:,.0f}, max {r.lost_max:,}); "
            f"{r.ns_per_increment:.1f} ns per increment; the threads were in their loops (running or "
            "waiting to) together for "
            f"{r.overlap_ms_median:.0f} ms at the median."
        )
        if r.switches:
            line += (
                f" The GIL changed hands {median([float(n) for n in r.switches]):,.0f} times a run at the median "
                f"({r.switches_per_s_median or 0:,.0f}/s, CPython's own count)."
            )
        if r.variant in windows and not data.gil_enabled:
            line += " gillab dis: with no GIL, threads interleave anywhere; switch points do not matter."
        elif windows.get(r.variant) is not None:
            line += (
                " gillab dis: a switch point lies between the read and the write of total."
                if windows[r.variant]
                else " gillab dis: no switch point lies between the read and the write of total."
            )
        out.append(line)
    return out


def lesson(data: Race) -> list[str]:
    """The race's lesson from its figures: which variants lost updates, and what safety cost."""
    by = {r.variant: r for r in data.measured}
    gil = "with the GIL" if data.gil_enabled else "without the GIL"
    lost = [r.variant for r in data.measured if r.runs_losing]
    safe = [r.variant for r in data.measured if not r.runs_losing]
    out = []
    if lost:
        out.append(
            f"On Python {data.python} {gil}, {len(lost)} of {len(by)} variants lost updates: {', '.join(lost)}."
        )
    if safe:
        out.append(f"Lost none: {', '.join(safe)}.")
    if "python" in by and "python-lock" in by and by["python"].ns_per_increment > 0:
        ratio = by["python-lock"].ns_per_increment / by["python"].ns_per_increment
        out.append(f"A threading.Lock around total += 1 cost {ratio:.1f}× its time per increment.")
    return out


def picture(data: Race, path: Path) -> bool:
    """Bar charts of lost updates (median, min-max) and the time per increment, per variant."""
    rows = data.measured
    if not rows:
        return False
    from gillab.outputs.plots import plt, save

    names = [r.variant for r in rows]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4))
    total = [r.threads * r.k for r in rows]  # every update made, whatever its sign
    med = [r.lost_median / n for r, n in zip(rows, total, strict=True)]
    err = [
        [max(0.0, m - r.lost_min / n) for m, r, n in zip(med, rows, total, strict=True)],
        [max(0.0, r.lost_max / n - m) for m, r, n in zip(med, rows, total, strict=True)],
    ]
    a1.barh(names, med, xerr=err, color="tab:red")
    a1.set_xlabel("lost updates, share of all updates made (median, min-max)")
    a1.invert_yaxis()
    a2.barh(names, [r.ns_per_increment for r in rows], color="tab:blue")
    a2.set_xlabel("ns per increment (the price of safety)")
    a2.set_xscale("log")
    a2.invert_yaxis()
    fig.suptitle(
        f"race: {data.threads} threads × "
        + (f"{data.k:,} increments" if data.k else "k increments sized per variant (see the JSON)")
        + f", Python {data.python}, "
        f"GIL {'on' if data.gil_enabled else 'off'}",
        fontsize=10,
    )
    save(fig, path)
    return True


RACE = ("variant", "runs losing", "lost (median)", "ns/incr", "gillab dis")


def view(data: Race) -> View:
    """The race's lesson, one row per variant (runs that lost updates, the median lost, the time per
    increment, and what `gillab dis` finds), each variant skipped and why, and its figures in words."""
    windows = data.dis_windows
    rows = []
    for r in data.measured:
        w = windows.get(r.variant)
        dis = "" if w is None else "switch point inside +=" if w else "no switch point inside +="
        rows.append(
            (
                r.variant,
                f"{r.runs_losing} of {len(r.lost)}",
                f"{r.lost_median:,.0f}",
                f"{r.ns_per_increment:.1f}",
                dis,
            )
        )
    skipped = [f"{r.variant}: skipped: {r.reason}" for r in data.results if isinstance(r, Skipped)]
    return View(
        f"gillab {NAME}",
        lesson=tuple(lesson(data)),
        tables=(Table(RACE, tuple(rows)),) if rows else (),
        notes=tuple(skipped),
        details=(
            "N threads add to one shared counter; every update lost is expected minus observed.",
            *facts(data),
        ),
        pictures=(f"{NAME}.png",),
    )


def dis_windows() -> dict[str, bool | None]:
    """Return, per python race variant, whether dis finds a switch point between load and store of total."""
    from gillab.labs import disasm

    funcs = disasm.run("counter").functions
    windows = {
        disasm.RACE_VARIANT[name]: f.switch_between_load_and_store for name, f in funcs.items()
    }
    windows["python-add-desc"] = bool(windows.get("python") or windows.get("python-add-desc"))
    return windows
