"""The matrix's options, defined once: `gillab run` and `gillab compare` share them, with the checks that
turn them into a run's config."""

from __future__ import annotations

import argparse

from gillab.cli import types
from gillab.cli.common import add_out, add_switch_interval
from gillab.errors import UsageError
from gillab.harness import executors, gilstate, options
from gillab.harness.options import DEFAULTS
from gillab.harness.results import RunConfig
from gillab.workloads import REGISTRY, WORKLOADS, target


def workload_from(args: argparse.Namespace) -> str:
    """The workload's name: --workload, or the user's --target with its inputs (loaded and called once here)."""
    if args.target is None:
        if args.setup is not None or args.args is not None or args.inputs is not None:
            raise UsageError("--setup, --args and --inputs go with --target MODULE:FUNC")
        return str(args.workload)
    if ":" not in args.target:
        raise UsageError(
            f"--target must look like package.module:attr or path/file.py:attr, got {args.target!r}"
        )
    return target.prepare(args.target, args.setup, types.json_args(args.args), args.inputs)


def config_from(args: argparse.Namespace) -> RunConfig:
    """Return the run's config from the parsed matrix options; OptionError where they disagree."""
    return options.make_config(
        workload_from(args),
        args.impl,
        args.executor,
        args.workers,
        args.tasks,
        args.size,
        args.repeat,
        args.switch_interval,
        args.min_repeat,
        args.max_wait,
        args.settle,
        args.gil_rate,
        args.scheduler,
    )


def impl_help() -> str:
    """Every workload's impls, for --help."""
    return "; ".join(f"{w.name}: {', '.join(w.impl_names)}" for w in REGISTRY.values())


def add_target_options(p: argparse.ArgumentParser) -> None:
    """--target and its inputs: the user's own callable as the workload."""
    p.add_argument(
        "--target",
        metavar="MODULE:FUNC",
        help="your own callable as the workload (package.module:attr or path/file.py:attr), in place of --workload",
    )
    p.add_argument(
        "--setup", help="with --target: Python code defining the call's inputs (as gillab check)"
    )
    p.add_argument(
        "--args",
        help="with --target: the call's positional arguments as JSON (a list, or one value)",
    )
    p.add_argument(
        "--inputs",
        metavar="EXPR",
        help='with --target: a Python expression giving one input per task, e.g. "range(25, 40)"',
    )


def add_run_options(p: argparse.ArgumentParser, out_default: str = options.DEFAULT_OUT) -> None:
    """Add the matrix options to a parser (gillab run and gillab compare)."""
    p.add_argument(
        "--workload",
        default="fib",
        type=types.one_of(WORKLOADS, "workload"),
        help=f"{', '.join(WORKLOADS)} (default fib)",
    )
    add_target_options(p)
    p.add_argument(
        "--impl",
        type=types.name_list,
        help=f"comma-separated impls (default: the workload's headline set); {impl_help()}",
    )
    p.add_argument(
        "--executor",
        type=types.names(executors.names(), "executor"),
        help=f"comma-separated, from {', '.join(executors.names())} (default: "
        f"{', '.join(executors.having('in_demo'))}, those of them that run here)",
    )
    p.add_argument(
        "--workers",
        type=types.positive_ints,
        help="comma-separated worker counts (default 1,2,2×cores)",
    )
    p.add_argument(
        "--tasks",
        type=types.positive_int,
        help="tasks per cell (default: 4 for each worker of the largest count)",
    )
    p.add_argument(
        "--size",
        help="task size: N for every impl, or impl=N,impl=N (default: picked per impl for about 15 ms a task)",
    )
    _add_round_options(p)
    add_out(p, out_default)


def _add_round_options(p: argparse.ArgumentParser) -> None:
    """How many rounds, how long to wait for a quiet machine, the instruments' rates, and where dask runs."""
    p.add_argument(
        "--repeat",
        type=types.positive_int,
        default=DEFAULTS.repeat,
        help=f"the most rounds; each round measures every cell once (default {DEFAULTS.repeat})",
    )
    p.add_argument(
        "--min-repeat",
        type=types.positive_int,
        help=f"the fewest rounds, before the speedups' intervals may end the run (default {DEFAULTS.min_repeat})",
    )
    p.add_argument(
        "--max-wait",
        type=types.positive_float,
        default=DEFAULTS.max_wait_s,
        help="for the whole run, the most seconds to wait for quiet moments to measure disturbed repeats "
        f"again; once a wait finds none, no more follow (default {DEFAULTS.max_wait_s:g})",
    )
    p.add_argument(
        "--settle",
        type=types.non_negative_float,
        metavar="SECONDS",
        default=DEFAULTS.settle_s,
        help="the most seconds spent on rounds added to cells still unsteady after the run's own (a speedup "
        f"interval wider than ±10%%); 0 adds none (default {DEFAULTS.settle_s:g})",
    )
    add_switch_interval(p, "sys.setswitchinterval() in seconds for the run")
    p.add_argument(
        "--gil-rate",
        type=types.gil_rate,
        metavar="HZ",
        default=DEFAULTS.gil_rate_hz,
        help="samples per second asked of the GIL-state sampler; it slows down where that would cost more than "
        f"{gilstate.BUDGET * 100:g}%% of a core; 0 turns it off (default {DEFAULTS.gil_rate_hz:g})",
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run the dask executors' cells on this existing dask cluster (tcp://host:port); gillab never starts "
        "or stops it. Default: a local cluster of each cell's own, on 127.0.0.1",
    )
