"""Run options, defined once: used by `gillab run` and by the bench/ suite."""

from __future__ import annotations

import argparse
from pathlib import Path

from gillab import environment
from gillab.harness.executors import EXECUTORS
from gillab.harness.runner import RunConfig
from gillab.workloads import WORKLOADS, impls
from gillab.workloads.jobs import check_size

DEFAULT_IMPLS = {
    "fib": ("python", "cython-gil", "cython-nogil"),
    "counter": ("python", "python-lock", "cython-gil", "cython-nogil", "cython-atomic"),
    "sumsq": ("python", "numpy", "cython-gil", "cython-nogil"),
}
DEFAULT_EXECUTORS = ("thread", "process")
DEFAULT_OUT = "gillab-results"


class OptionError(ValueError):
    """A run option is invalid; the message says what is valid."""


def default_workers(cores: int | None = None) -> tuple[int, ...]:
    """Return the headline worker counts: 1, 2 and twice the usable cores."""
    cores = cores or environment.usable_cores()
    return tuple(sorted({1, 2, 2 * cores}))


def _names(text: str, valid: tuple[str, ...], what: str) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
    bad = [n for n in names if n not in valid]
    if bad or not names:
        raise OptionError(f"unknown {what} {', '.join(bad) or repr(text)}; choose from {', '.join(valid)}")
    return names


def _positive_ints(text: str, what: str) -> tuple[int, ...]:
    try:
        values = tuple(sorted({int(v) for v in text.split(",") if v.strip()}))
    except ValueError:
        raise OptionError(f"{what} must be whole numbers above 0, separated by commas; got {text!r}") from None
    if not values or values[0] <= 0:
        raise OptionError(f"{what} must be whole numbers above 0; got {text!r}")
    return values


def _sizes(text: str, workload: str, chosen: tuple[str, ...]) -> dict[str, int]:
    """Parse --size: one N for every impl, or impl=N pairs."""
    pairs = [p.strip() for p in text.split(",") if p.strip()]
    try:
        if len(pairs) == 1 and "=" not in pairs[0]:
            sizes = dict.fromkeys(chosen, int(pairs[0]))
        else:
            sizes = {}
            for pair in pairs:
                impl, _, n = pair.partition("=")
                if impl.strip() not in chosen:
                    raise ValueError(f"{impl.strip()!r} is not among the impls run ({', '.join(chosen)})")
                sizes[impl.strip()] = int(n)
        for size in sizes.values():
            check_size(workload, size)
    except ValueError as exc:
        raise OptionError(f"--size {text!r} is not valid for {workload}: {exc}") from None
    return sizes


def add_run_options(p: argparse.ArgumentParser) -> None:
    """Add the matrix options to a parser."""
    p.add_argument("--workload", default="fib", help=f"one of {', '.join(WORKLOADS)} (default fib)")
    p.add_argument("--impl", help="comma-separated impls (default: the workload's headline set)")
    p.add_argument("--executor", help=f"comma-separated, from {', '.join(EXECUTORS)} (default thread,process)")
    p.add_argument("--workers", help="comma-separated worker counts (default 1,2,2×cores)")
    p.add_argument("--tasks", help="tasks per cell (default: the largest worker count)")
    p.add_argument(
        "--size", help="task size: N for every impl, or impl=N,impl=N (default: picked per impl for about 80 ms a task)"
    )
    p.add_argument("--repeat", default="5", help="repeats per cell (default 5)")
    p.add_argument("--switch-interval", help="sys.setswitchinterval() in seconds for the run")
    p.add_argument("--out", default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})")


def config_from_args(args: argparse.Namespace) -> RunConfig:
    """Validate the options and return the RunConfig; OptionError names what is wrong and what is valid."""
    workload = args.workload
    if workload not in WORKLOADS:
        raise OptionError(f"unknown workload {workload!r}; choose from {', '.join(WORKLOADS)}")
    chosen = _names(args.impl, impls(workload), f"impl for {workload}") if args.impl else DEFAULT_IMPLS[workload]
    execs = _names(args.executor, EXECUTORS, "executor") if args.executor else DEFAULT_EXECUTORS
    workers = _positive_ints(args.workers, "--workers") if args.workers else default_workers()
    tasks = _positive_ints(args.tasks, "--tasks")[0] if args.tasks else None
    if args.tasks and "," in args.tasks:
        raise OptionError(f"--tasks takes one number; got {args.tasks!r}")
    repeat = _positive_ints(args.repeat, "--repeat")[0]
    sizes = _sizes(args.size, workload, chosen) if args.size is not None else {}
    switch = None
    if args.switch_interval is not None:
        try:
            switch = float(args.switch_interval)
        except ValueError:
            switch = -1.0
        if not switch > 0:
            raise OptionError(f"--switch-interval must be a number of seconds above 0; got {args.switch_interval!r}")
    return RunConfig(
        workload=workload,
        impls=chosen,
        executors=execs,
        workers=workers,
        tasks=tasks,
        sizes=sizes,
        repeat=repeat,
        switch_interval_s=switch,
    )


def check_out_dir(path: str) -> Path:
    """Create the output folder and prove it writable, before any work starts."""
    out = Path(path)
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".gillab-write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        raise OptionError(f"cannot write to output folder {str(out)!r}: {exc.strerror or exc}") from None
    return out
