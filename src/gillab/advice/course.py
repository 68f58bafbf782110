"""The course's own experiment: ThreadPoolExecutor against ProcessPoolExecutor, 3 workers, fib(n) for n in
range(25, 40), as the course notes time it (12.07 s against 8.56 s on a 16-core machine), and why 3 processes
stop far short of 3×: the largest task is a large share of the work, and no worker count finishes before it."""

from __future__ import annotations

from gillab.advice.model import Advice
from gillab.harness.executors import Family
from gillab.present.view import interval

TARGET = "gillab.workloads.pure:fib"
INPUTS = "range(25, 40)"
WORKERS = 3
EXECUTORS = ("thread", "process")
REPEAT = 2
"""Rounds: the course's run takes about a minute a round on 2 cores (python fib(39) alone is several seconds)."""


def is_course(advice: Advice) -> bool:
    """Whether the advice is the course's own experiment (`gillab course fib`)."""
    workers = {o.workers for o in advice.options if o.family != "serial"}
    families = {o.family for o in advice.options}
    return (
        advice.target.startswith(TARGET)
        and workers <= {WORKERS}
        and families <= {"serial", "threads", "processes"}
    )


def lines(advice: Advice, cores: int) -> list[str]:
    """The course's figures, and the critical path's bound, from the measured tasks."""
    out = []
    by = {o.family: o for o in advice.options if o.workers == WORKERS and o.ok}
    for fam in (Family.THREADS, Family.PROCESSES):
        o = by.get(fam)
        if o is not None and o.speedup is not None:
            ci = f" {interval(*o.ci95)}" if o.ci95 else ""
            out.append(
                f"{WORKERS} {fam}: {o.speedup:.2f}×{ci} over one thread, {o.cores_busy or 0:.2f} cores busy"
            )
    share = advice.critical_path
    if share:
        bound = min(1 / share, WORKERS, cores)
        out.append(
            f"The largest task is {share:.0%} of the serial work: no worker count can finish before it, so the "
            f"speedup is bounded by 1/{share:.2f} = {1 / share:.1f}, whatever the cores; with {WORKERS} workers on "
            f"{cores} usable cores here the bound is {bound:.1f}."
        )
    return out
