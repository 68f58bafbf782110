"""Run options, defined once: their defaults and the checks that need more than one option at a time.

Used by `gillab run`, `gillab compare` and the bench/ suite; the command line parses each option's text
(gillab.cli.types) and hands the values here.
"""

from __future__ import annotations

from pathlib import Path

from gillab import environment
from gillab.harness.results import RunConfig
from gillab.workloads import get

DEFAULT_EXECUTORS = ("thread", "process")
DEFAULT_OUT = "gillab-results"
DEFAULT_REPEAT = 9
"""The most rounds."""
DEFAULT_MIN_REPEAT = 3
"""The fewest rounds."""
DEFAULT_MAX_WAIT_S = 10.0
"""Per cell, the longest wait for a quiet machine before a disturbed repeat is measured again."""


class OptionError(ValueError):
    """A run option is invalid; the message says what is valid."""


def default_workers(cores: int | None = None) -> tuple[int, ...]:
    """Return the headline worker counts: 1, 2 and twice the usable cores."""
    cores = cores or environment.usable_cores()
    return tuple(sorted({1, 2, 2 * cores}))


def parse_sizes(text: str, workload: str, chosen: tuple[str, ...]) -> dict[str, int]:
    """Parse --size: one N for every impl, or impl=N pairs; OptionError names what is wrong."""
    w = get(workload)
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
                    raise ValueError(f"{impl.strip()!r} is not among the impls run ({', '.join(chosen)})")
                sizes[impl.strip()] = int(n)
        for size in sizes.values():
            w.check_size(size)
    except ValueError as exc:
        raise OptionError(f"--size {text!r} is not valid for {workload}: {exc}") from None
    return sizes


def make_config(
    workload: str,
    impls: tuple[str, ...] | None = None,
    executors: tuple[str, ...] | None = None,
    workers: tuple[int, ...] | None = None,
    tasks: int | None = None,
    size: str | None = None,
    repeat: int = DEFAULT_REPEAT,
    switch_interval_s: float | None = None,
    min_repeat: int | None = None,
    max_wait_s: float = DEFAULT_MAX_WAIT_S,
) -> RunConfig:
    """Return the RunConfig, with defaults filled in; OptionError where the options disagree."""
    w = get(workload)
    if impls is not None:
        bad = [i for i in impls if i not in w.impl_names]
        if bad:
            raise OptionError(f"unknown impl for {workload} {', '.join(bad)}; choose from {', '.join(w.impl_names)}")
    chosen = impls or w.default_impls
    if min_repeat is None:
        min_repeat = min(DEFAULT_MIN_REPEAT, repeat)
    elif min_repeat > repeat:
        raise OptionError(f"--min-repeat {min_repeat} is above --repeat {repeat} (the most rounds)")
    return RunConfig(
        workload=workload,
        impls=chosen,
        executors=executors or DEFAULT_EXECUTORS,
        workers=workers or default_workers(),
        tasks=tasks,
        sizes=parse_sizes(size, workload, chosen) if size is not None else {},
        repeat=repeat,
        min_repeat=min_repeat,
        max_wait_s=max_wait_s,
        switch_interval_s=switch_interval_s,
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
        raise OptionError(f"cannot write to output folder {str(out)!r}: {exc.strerror or exc}") from None
    return out
