"""`gillab advise T` and `gillab course fib`: the user's callable through the whole matrix, and the advice."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from gillab import environment
from gillab.advice import course
from gillab.advice.report import advise_png, view
from gillab.advice.run import Advised, advise
from gillab.advice.sizes import AtSize, break_even
from gillab.cli import types
from gillab.cli.common import Progress, add_detail, add_json, add_out, out_dir
from gillab.errors import UsageError
from gillab.harness import options
from gillab.harness.runner import Interrupted
from gillab.interpreters import describe
from gillab.kinds import finish_document, write_run
from gillab.present import terminal
from gillab.workloads import target


def _run(
    args: argparse.Namespace, workload: str, workers: tuple[int, ...], **kw: Any
) -> Advised | None:
    """Run advise into --out and print its view (the recommendations first, or the course's figures), then
    the files; None where it was interrupted (what was measured is kept)."""
    for python in args.python:
        describe(python)  # an interpreter that does not exist: one line, exit 2, before any work
    out = out_dir(args.out)
    progress = Progress()
    try:
        got = advise(
            workload, workers, out, tuple(args.python), progress, max_time_s=args.max_time, **kw
        )
    except Interrupted as stop:
        progress.close()
        write_run(stop.result, out)
        print(
            f"gillab advise: interrupted; the finished cells are kept in {out / 'results.json'}",
            file=sys.stderr,
        )
        return None
    progress.close()
    write_run(got.here, out)
    drew = advise_png(got.advice, out / "advise.png")
    wrote = finish_document("advise", got.advice.to_json(), args.json, out, drew=drew)
    terminal.show(view(got.advice), wrote, args.detail)
    return got


def cmd_advise(args: argparse.Namespace) -> int:
    """Measure the callable serially, on threads, processes and interpreters (and under each --python); advise."""
    if ":" not in args.target:
        raise UsageError(
            f"TARGET must look like package.module:attr or path/file.py:attr, got {args.target!r}"
        )
    workers = args.workers or (1, max(2, min(4, environment.usable_cores())))
    if args.sizes is not None:
        return _sizes(args, workers)
    workload = target.prepare(args.target, args.setup, types.json_args(args.args), args.inputs)
    got = _run(args, workload, workers)
    return 130 if got is None else 0


def _sizes(args: argparse.Namespace, workers: tuple[int, ...]) -> int:
    """--sizes: advise at each input size, and say from which size the workers that copy their inputs pay."""
    if args.setup is None or "{n}" not in args.setup:
        raise UsageError(
            '--sizes needs --setup with {n} where the size goes, e.g. --setup "data = bytes({n})"'
        )
    names = [
        target.prepare(
            args.target, args.setup.replace("{n}", str(n)), types.json_args(args.args), args.inputs
        )
        for n in args.sizes
    ]
    base, done = args.out, []
    for n, name in zip(args.sizes, names, strict=True):
        print(f"size {n}:")
        args.out = f"{base}/size-{n}"
        got = _run(args, name, workers)
        if got is None:
            return 130
        done.append(AtSize(n, got.advice))
    for line in break_even(done):
        print(line)
    return 0


def cmd_course(args: argparse.Namespace) -> int:
    """The course's ThreadPoolExecutor against ProcessPoolExecutor on fib over range(25, 40), with 3 workers."""
    workload = target.prepare(course.TARGET, None, None, args.inputs)
    got = _run(
        args, workload, (course.WORKERS,), run_executors=course.EXECUTORS, repeat=args.repeat
    )
    return 130 if got is None else 0


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--python",
        action="append",
        default=[],
        help="also run under this interpreter (repeatable; a free-threaded one with and without PYTHON_GIL=1)",
    )
    p.add_argument(
        "--max-time",
        type=types.positive_float,
        default=options.MAX_TIME_S,
        help=f"refuse, before any work, a run estimated over this many seconds (default {options.MAX_TIME_S:g})",
    )
    add_detail(
        p, "print every reason to distrust a figure, and the serial run's figures, under the lesson"
    )
    add_out(p, "gillab-advise")
    add_json(p, "also write advise.json to this path")


def add_parsers(sub: Any) -> None:
    """Register `gillab advise` and `gillab course`."""
    p = sub.add_parser(
        "advise", help="threads, processes, interpreters or free-threading for YOUR function?"
    )
    p.add_argument("target", help="package.module:attr or path/to/file.py:attr")
    p.add_argument("--setup", help="Python code defining the call's inputs (as gillab check)")
    p.add_argument("--args", help="the call's positional arguments as JSON (a list, or one value)")
    p.add_argument(
        "--inputs",
        metavar="EXPR",
        help='one input per task, e.g. "range(25, 40)" (tasks of different sizes)',
    )
    p.add_argument(
        "--workers",
        type=types.positive_ints,
        help="worker counts (default 1 and the usable cores, 2-4)",
    )
    p.add_argument(
        "--sizes",
        type=types.positive_ints,
        help="input sizes: advise at each (--setup puts it where it says {n}), and name the break-even size",
    )
    _common(p)
    p.set_defaults(func=cmd_advise)
    c = sub.add_parser(
        "course", help="the course's ThreadPool against ProcessPool on fib(25..39), 3 workers"
    )
    c.add_argument("experiment", choices=("fib",), help="the course's experiment (fib)")
    c.add_argument(
        "--inputs",
        metavar="EXPR",
        default=course.INPUTS,
        help=f"the tasks' n (default {course.INPUTS})",
    )
    c.add_argument(
        "--repeat",
        type=types.positive_int,
        default=course.REPEAT,
        help=f"rounds (default {course.REPEAT})",
    )
    _common(c)
    c.set_defaults(func=cmd_course)
