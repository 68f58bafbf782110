"""`gillab run`: the matrix through the one harness, with a progress bar, a table and the pictures."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from gillab.cli import types
from gillab.cli.common import add_out, add_switch_interval
from gillab.cli.report import out_dir, refresh_report
from gillab.errors import UsageError
from gillab.harness import executors, gilstate, options, results
from gillab.harness.options import DEFAULTS
from gillab.harness.results import RunConfig, RunResult
from gillab.harness.runner import Interrupted, run_matrix
from gillab.outputs import terminal
from gillab.workloads import REGISTRY, WORKLOADS, target

RUN_FILES = ("results.json", "speedup.png", "timeline.png", "trace.json")
"""What a run writes into its folder (and report.html); --force removes an earlier run's before starting."""


class _Progress:
    """A rich progress bar on stderr where it is a terminal; nothing elsewhere (a log or a pipe keeps only the
    output)."""

    def __init__(self) -> None:
        self.bar: Any = None
        self.task: Any = None
        if sys.stderr.isatty():
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.bar = Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), transient=True
            )
            self.bar.start()

    def __call__(self, label: str, done: int, total: int) -> None:
        if self.bar is None:
            return
        if self.task is None:
            self.task = self.bar.add_task(label, total=total)
        self.bar.update(self.task, completed=done, description=label)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def write_outputs(result: RunResult, out: Path) -> list[str]:
    """Draw the pictures, the trace and the report of a run; return the files written (results.json first).

    A picture with nothing to draw is not written, and an older one of that name is removed first, so the
    report never shows a picture from another run.
    """
    from gillab.outputs import plots, trace  # matplotlib: loaded only when there is something to draw

    written = ["results.json"]
    for name, draw in (("speedup.png", plots.speedup_png), ("timeline.png", plots.timeline_png)):
        (out / name).unlink(missing_ok=True)
        if draw(result, out / name):
            written.append(name)
    trace.write_trace(result, out / "trace.json")
    refresh_report(out, run=result)
    return [*written, "trace.json", "report.html"]


def _claim(out: Path, force: bool, dry: bool = False) -> None:
    """Refuse to overwrite another run's results unless --force; with it (and not dry), remove that run's files."""
    if not (out / "results.json").exists():
        return
    if not force:
        raise UsageError(
            f"{out} already holds the results of an earlier run (results.json); "
            "choose another --out, or add --force to replace them"
        )
    if dry:
        return
    for name in RUN_FILES:
        (out / name).unlink(missing_ok=True)


def workload_from(args: argparse.Namespace) -> str:
    """The workload's name: --workload, or the user's --target with its inputs (loaded and called once here)."""
    if args.target is None:
        if args.setup is not None or args.args is not None or args.inputs is not None:
            raise UsageError("--setup, --args and --inputs go with --target MODULE:FUNC")
        return str(args.workload)
    if ":" not in args.target:
        raise UsageError(f"--target must look like package.module:attr or path/file.py:attr, got {args.target!r}")
    return target.prepare(args.target, args.setup, types.json_args(args.args), args.inputs)


def config_from(args: argparse.Namespace) -> RunConfig:
    """Return the run's config from the parsed matrix options; OptionError where they disagree."""
    return options.make_config(
        workload_from(args), args.impl, args.executor, args.workers, args.tasks, args.size, args.repeat,
        args.switch_interval, args.min_repeat, args.max_wait, args.gil_rate, args.scheduler,
    )  # fmt: skip


def check_scheduler(config: RunConfig) -> None:
    """Refuse, before any work, a --scheduler the engine's cells cannot use (one line, exit 2)."""
    if config.scheduler is None:
        return
    on_engine = [n for n in executors.names() if executors.get(n).engine]
    chosen = [e for e in config.executors if executors.get(e).engine]
    if not chosen:
        raise UsageError(f"--scheduler is for the dask executors ({', '.join(on_engine)})")
    first = {executors.get(e).engine: e for e in reversed(chosen)}  # one executor per engine checks its cluster
    for name in first.values():
        executors.get(name).check_scheduler(config.scheduler)  # EngineError: one line, exit 2


def cmd_run(args: argparse.Namespace) -> int:
    """Run the matrix and write results.json, speedup.png, timeline.png, trace.json and report.html."""
    config = config_from(args)
    check_scheduler(config)
    out = out_dir(args.out)
    _claim(out, args.force, dry=True)
    options.check_budget(config, args.max_time)
    _claim(out, args.force)
    progress = _Progress()
    try:
        result = run_matrix(config, out, progress)
    except Interrupted as stop:
        progress.close()
        write_outputs(stop.result, out)
        n = len(stop.result.cells)
        print(f"gillab run: interrupted; {n} finished cells kept in {out / 'results.json'}", file=sys.stderr)
        return 130
    progress.close()
    files = write_outputs(result, out)
    terminal.render(result, files, out, detail=args.detail)
    if not any(c.ok for c in result.cells):
        reasons = "; ".join(dict.fromkeys(c.reason for c in result.cells if c.reason)) or "no cell was planned"
        print(f"gillab run: no cell was measured: {reasons}", file=sys.stderr)
        return 1
    return 1 if any(c.status == "failed" for c in result.cells) else 0


def impl_help() -> str:
    """Every workload's impls, for --help."""
    return "; ".join(f"{w.name}: {', '.join(w.impl_names)}" for w in REGISTRY.values())


def add_target_options(p: argparse.ArgumentParser) -> None:
    """--target and its inputs: the user's own callable as the workload."""
    p.add_argument(
        "--target", metavar="MODULE:FUNC",
        help="your own callable as the workload (package.module:attr or path/file.py:attr), in place of --workload",
    )  # fmt: skip
    p.add_argument("--setup", help="with --target: Python code defining the call's inputs (as gillab check)")
    p.add_argument("--args", help="with --target: the call's positional arguments as JSON (a list, or one value)")
    p.add_argument(
        "--inputs", metavar="EXPR",
        help='with --target: a Python expression giving one input per task, e.g. "range(25, 40)"',
    )  # fmt: skip


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
        f"{', '.join(n for n in executors.names() if executors.get(n).in_demo)}, those of them that run here)",
    )
    p.add_argument("--workers", type=types.positive_ints, help="comma-separated worker counts (default 1,2,2×cores)")
    p.add_argument(
        "--tasks", type=types.positive_int, help="tasks per cell (default: 4 for each worker of the largest count)"
    )
    p.add_argument(
        "--size", help="task size: N for every impl, or impl=N,impl=N (default: picked per impl for about 15 ms a task)"
    )
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
        help="per cell, the most seconds to wait for a quiet machine to measure a disturbed repeat again "
        f"(default {DEFAULTS.max_wait_s:g})",
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
        "--scheduler", metavar="ADDRESS",
        help="run the dask executors' cells on this existing dask cluster (tcp://host:port); gillab never starts "
        "or stops it. Default: a local cluster of each cell's own, on 127.0.0.1",
    )  # fmt: skip
    add_out(p, out_default)


def add_detail(p: argparse.ArgumentParser) -> None:
    """--detail: every cell with every figure, the legend and every reason, under the lesson."""
    p.add_argument(
        "--detail", action="store_true",
        help="print every cell with every figure (15 columns), what each means, and every reason, under the lesson",
    )  # fmt: skip


def cmd_show(args: argparse.Namespace) -> int:
    """Print a stored run as gillab run printed it (with --detail, every figure; with --cores-png, draw the
    cores-busy panel alone, as the README shows it)."""
    path = Path(args.results)
    result = results.load(path / "results.json" if path.is_dir() else path)
    terminal.render(result, [], path if path.is_dir() else path.parent, detail=args.detail)
    if args.cores_png:
        from gillab.outputs.plots import cores_busy_png

        if not cores_busy_png(result, Path(args.cores_png)):
            raise UsageError(f"{path}: no cell with more than the serial baseline to draw")
        print(f"Wrote {args.cores_png}")
    return 0


def add_parsers(sub: Any) -> None:
    """Register `gillab run` and `gillab show`."""
    p = sub.add_parser("run", help="run the matrix: workload × impl × executor × workers")
    add_run_options(p)
    p.add_argument(
        "--force", action="store_true", help="replace the results of an earlier run in --out (refused without it)"
    )
    add_detail(p)
    p.add_argument(
        "--max-time",
        type=types.positive_float,
        default=options.MAX_TIME_S,
        help="refuse, before any work, a run estimated to take longer than this many seconds "
        f"(default {options.MAX_TIME_S:g})",
    )
    p.set_defaults(func=cmd_run)
    p = sub.add_parser("show", help="print a stored run again, lesson first (--detail: every figure)")
    p.add_argument(
        "results", nargs="?", default=options.DEFAULT_OUT,
        help=f"a run's folder or its results.json (default {options.DEFAULT_OUT})",
    )  # fmt: skip
    add_detail(p)
    p.add_argument("--cores-png", metavar="PATH", help="also draw the cores-busy panel alone into PATH (a PNG)")
    p.set_defaults(func=cmd_show)
