"""Run options: the checks that need more than one option at a time, and the run's budget.

The defaults live in one place, :class:`~gillab.harness.results.RunConfig`. Used by `gillab run`, `gillab
compare` and the bench/ suite; the command line parses each option's text (gillab.cli.types) and hands the
values here. An :class:`~gillab.errors.OptionError` names options as $name; the command line spells them as
its flags.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from gillab import environment
from gillab.errors import OptionError, literal
from gillab.harness import executors
from gillab.harness.results import RunConfig
from gillab.workloads import get
from gillab.workloads.base import Workload

DEFAULTS = RunConfig()
"""Every run option's default."""
DEFAULT_OUT = "gillab-results"


MAX_TIME_S = 600.0
"""The default time budget of a run: a run whose lower-bound estimate is above it is refused (--max-time)."""
MEMORY_PER_PROCESS = 80 * 2**20
"""What one worker process costs in memory, about (an interpreter with numpy and gillab imported)."""


def max_workers(cores: int | None = None) -> int:
    """The most workers a cell may have: 64, or 8 per usable core where that is more."""
    return max(64, 8 * (cores or environment.usable_cores()))


def default_workers(cores: int | None = None) -> tuple[int, ...]:
    """Return the headline worker counts: 1, 2 and twice the usable cores."""
    cores = cores or environment.usable_cores()
    return tuple(sorted({1, 2, 2 * cores}))


def parse_sizes(text: str, w: Workload, chosen: tuple[str, ...]) -> dict[str, int]:
    """Parse --size: one N for every impl, or impl=N pairs; OptionError names what is wrong."""
    pairs = [p.strip() for p in text.split(",")]
    try:
        if not text.strip() or any(not p for p in pairs):
            raise ValueError("give N, or impl=N pairs separated by commas, with no empty item")
        if len(pairs) == 1 and "=" not in pairs[0]:
            sizes = dict.fromkeys(chosen, int(pairs[0]))
        else:
            sizes = {}
            for pair in pairs:
                impl, _, n = pair.partition("=")
                if impl.strip() not in chosen:
                    raise ValueError(
                        f"{impl.strip()!r} is not among the impls run ({', '.join(chosen)})"
                    )
                sizes[impl.strip()] = int(n)
        for size in sizes.values():
            w.check_size(size)
    except ValueError as exc:
        raise OptionError(
            "$size " + literal(f"{text!r} is not valid for {w.name}: {exc}")
        ) from None
    return sizes


def _demo() -> tuple[str, ...]:
    """The executors a run takes when none is named: threads, processes, and interpreters where they run."""
    return executors.demo()


def make_config(
    workload: str,
    impls: tuple[str, ...] | None = None,
    executors: tuple[str, ...] | None = None,
    workers: tuple[int, ...] | None = None,
    tasks: int | None = None,
    size: str | None = None,
    repeat: int = DEFAULTS.repeat,
    switch_interval_s: float | None = None,
    min_repeat: int | None = None,
    max_wait_s: float = DEFAULTS.max_wait_s,
    settle_s: float = DEFAULTS.settle_s,
    gil_rate_hz: float = DEFAULTS.gil_rate_hz,
    scheduler: str | None = None,
) -> RunConfig:
    """Return the RunConfig, with defaults filled in; OptionError where the options disagree."""
    w = get(workload)
    if impls is not None:
        bad = [i for i in impls if i not in w.impl_names]
        if bad:
            choices = ", ".join(w.impl_names)
            raise OptionError(
                literal(f"unknown impl for {workload} {', '.join(bad)}; choose from {choices}")
            )
    chosen = impls or w.default_impls
    top = max_workers()
    if workers and max(workers) > top:
        raise OptionError(
            f"$workers {max(workers)} is above the limit of {top} workers here (64, or 8 per usable core); "
            "more workers than that measure the OS, not the GIL"
        )
    if tasks is not None and tasks > 100 * top:
        raise OptionError(f"$tasks {tasks} is above the limit of {100 * top} tasks per cell here")
    if w.fixed_tasks is not None:  # one task per input
        if tasks is not None and tasks != w.fixed_tasks:
            raise OptionError(
                f"$tasks {tasks} disagrees with --inputs, which gives {w.fixed_tasks} tasks"
            )
        tasks = w.fixed_tasks
        if size is None:
            size = "1"  # one call per task
    if min_repeat is None:
        min_repeat = min(DEFAULTS.min_repeat, repeat)
    elif min_repeat > repeat:
        raise OptionError(f"$min_repeat {min_repeat} is above $repeat {repeat} (the most rounds)")
    return RunConfig(
        workload=workload,
        impls=chosen,
        executors=executors or _demo(),
        workers=workers or default_workers(),
        tasks=tasks,
        sizes=parse_sizes(size, w, chosen) if size is not None else {},
        repeat=repeat,
        min_repeat=min_repeat,
        max_wait_s=max_wait_s,
        settle_s=settle_s,
        switch_interval_s=switch_interval_s,
        gil_rate_hz=gil_rate_hz,
        scheduler=scheduler,
    )


def check_out_dir(path: str | Path) -> Path:
    """Create the output folder and prove it writable, before any work starts."""
    out = Path(path)
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".gillab-write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        raise OptionError(
            literal(f"cannot write to output folder {str(out)!r}: {exc.strerror or exc}")
        ) from None
    return out


def _duration(seconds: float) -> str:
    if seconds >= 86400:
        return f"{seconds / 86400:.1f} days"
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds:.0f} s"


def check_budget(config: RunConfig, max_time_s: float = MAX_TIME_S) -> float:
    """Estimate, before any work, the least time the run can take; OptionError when it is over max_time_s.

    Per impl, a task's time is config.target_s where it will be calibrated, else estimated at its --size
    (calibrate.estimate_task_s). A round runs every cell once, tasks ÷ min(workers, cores) at a time (a lower
    bound); the run takes min_repeat to repeat rounds. Both ends are checked; the upper one is returned.
    The memory of the process pools that live together is checked too.
    """
    from gillab.errors import GillabError
    from gillab.harness.calibrate import estimate_task_s

    cores = environment.usable_cores()
    total = 0.0  # one round of every cell
    for impl in config.impls:
        try:
            task = (
                estimate_task_s(config.work, impl, config.sizes[impl])
                if impl in config.sizes
                else None
            )
        except GillabError:
            continue
        task = config.target_s if task is None else task
        for ex in (config.baseline, *config.executors):
            for w in (1,) if config.kinds[ex].baseline else config.workers:
                waves = -(-config.n_tasks // max(1, min(w, cores)))
                total += waves * task
    least, most = config.min_repeat * total, config.repeat * total
    if least > max_time_s:
        raise OptionError(
            f"this run would take at least {_duration(least)} (estimated from a timed task), over the "
            f"{_duration(max_time_s)} budget; lower $size, $tasks or $min_repeat, or raise $max_time"
        )
    if most > max_time_s:
        raise OptionError(
            f"this run could take up to {_duration(most)} ({config.repeat} rounds of about {_duration(total)}), "
            f"over the {_duration(max_time_s)} budget; lower $repeat, or raise $max_time"
        )
    procs = sum(config.workers) * sum(1 for e in config.executors if config.kinds[e].gil_per_worker)
    try:
        free = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not every OS says
        free = None
    if free is not None and procs * MEMORY_PER_PROCESS > free:
        raise OptionError(
            f"{procs} worker processes alive together would need about {procs * MEMORY_PER_PROCESS / 2**30:.1f} "
            f"GiB, and {free / 2**30:.1f} GiB is free; use fewer $workers"
        )
    return most


def within_budget(config: RunConfig, max_time_s: float = MAX_TIME_S) -> RunConfig:
    """The config once :func:`check_budget` passed, its settle_s cut to what the budget leaves after the
    run's own rounds at their most."""
    most = check_budget(config, max_time_s)
    return replace(config, settle_s=max(0.0, min(config.settle_s, max_time_s - most)))
