"""`gillab check TARGET`: does a callable release the GIL, and how far does it scale?"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

from gillab.checker import catalogue
from gillab.checker.api import (
    DEFAULT_DURATION_S,
    DEFAULT_THREADS,
    CheckResult,
    SweepResult,
    check_target,
    interpreter_target,
    sweep_target,
)  # fmt: skip
from gillab.checker.interpreters import lines as interpreter_lines
from gillab.checker.report import AGREES
from gillab.checker.run import Readiness
from gillab.checker.safety import DEFAULT_SAFETY_S, EXIT_UNSAFE, UNSAFE
from gillab.cli import types
from gillab.cli.common import add_json, add_out
from gillab.cli.report import finish_lab, out_dir, say
from gillab.errors import CheckFailed, InterpreterError, UsageError
from gillab.files import write_json
from gillab.harness import executors
from gillab.harness.results import EFFICIENCY_IMPOSSIBLE
from gillab.interpreters import describe, venv_for
from gillab.outputs.columns import UNSTEADY, fmt
from gillab.outputs.documents import lab_document


def _interpreter(python: str | None, out: Path | None) -> str | None:
    """Return the python to run the check under: a venv of its own for another interpreter (as compare)."""
    if python is None:
        return None
    try:
        info = describe(python)
        log = (out or Path(tempfile.gettempdir())) / "check-setup.log"
        return str(venv_for(python, info, log))
    except InterpreterError as exc:
        raise UsageError(f"--python {python}: {exc}") from None


def cmd_check(args: argparse.Namespace) -> int:
    """Measure whether a callable releases the GIL, how it scales with threads and whether it is safe in them (or,
    with --sizes, from which input size it lets go); exit status EXIT_UNSAFE where it is not safe in threads."""
    call_args = types.json_args(args.args)
    if ":" not in args.target:
        raise UsageError(f"TARGET must look like package.module:attr or path/file.py:attr, got {args.target!r}")
    if args.sizes is not None and (args.setup is None or "{n}" not in args.setup):
        raise UsageError('--sizes needs --setup with {n} where the size goes, e.g. --setup "data = bytes({n})"')
    out = out_dir(args.out) if args.out else None
    python = _interpreter(args.python, out)
    if executors.get(args.executor).gil_per_worker:  # subinterpreters, each with a GIL of its own
        return _check_interpreters(args, call_args, python, out)
    result: CheckResult | SweepResult
    try:
        if args.sizes is not None:
            result = sweep_target(args.target, args.setup, list(args.sizes), call_args, args.timeout, python)
        else:
            result = check_target(
                args.target, args.setup, call_args, args.threads, args.duration, args.timeout, python=python,
                safety_s=None if args.no_safety else args.safety_time,
            )  # fmt: skip
    except CheckFailed as exc:  # a fact about the callable, not bad input: exit 1
        print(f"gillab check: {exc}", file=sys.stderr)
        return 1
    if args.json:
        write_json(lab_document("check", result.to_json()), args.json)
    wrote = finish_lab("check", result.to_json(), None, out) if out is not None else ""
    if isinstance(result, SweepResult):
        _print_sweep(result, wrote)
        return 0
    _print_check(result, wrote)
    return EXIT_UNSAFE if result.safety is not None and result.safety.verdict in UNSAFE else 0


def _check_interpreters(args: argparse.Namespace, call_args: list[Any] | None, python: str | None,
                        out: Path | None) -> int:  # fmt: skip
    """--executor interpreter: does the target load in a subinterpreter, and does it scale there?"""
    if args.sizes is not None:
        raise UsageError("--sizes sweeps threads; it does not go with --executor interpreter")
    try:
        got = interpreter_target(args.target, args.setup, call_args, args.threads, args.duration, args.timeout,
                                 python=python)  # fmt: skip
    except CheckFailed as exc:
        print(f"gillab check: {exc}", file=sys.stderr)
        return 1
    if not got.interpreters.available:
        raise UsageError(f"--executor interpreter: {got.interpreters.reason}")
    if args.json:
        write_json(lab_document("check-interpreters", got.to_json()), args.json)
    wrote = finish_lab("check-interpreters", got.to_json(), None, out) if out is not None else ""
    said = [line.strip() for line in interpreter_lines(got.interpreters)]
    say([f"{got.target}: {said[0]}"] if said else [], said[1:], wrote)
    return 0


SCALING = "{:>8}  {:>10}  {:>14}  {:>10}  {:>10}  {:>11}"


def _print_check(result: CheckResult, wrote: str = "") -> None:
    """The verdict first, then the scaling per thread count, the GIL figures, the readiness, the files."""
    rows = [SCALING.format("threads", "calls/s", "speedup", "efficiency", "cores busy", "GIL wait ms")]
    for lv in result.scaling:
        impossible = lv.efficiency is not None and lv.efficiency > EFFICIENCY_IMPOSSIBLE
        rows.append(SCALING.format(
            lv.threads, f"{lv.calls_per_s:.1f}", UNSTEADY if impossible else fmt(lv.speedup, ".2f"),
            UNSTEADY if impossible else fmt(lv.efficiency, ".2f"), f"{lv.cpu_utilization:.2f}",
            f"{lv.gil_wait_median_ms:.3f}",
        ))  # fmt: skip
    held = (
        f"; the calling thread held the GIL {result.held_fraction:.0%} of its time inside calls (the interpreter's "
        "own GIL state)"
        if result.held_fraction is not None
        else ""
    )
    notes = [
        f"GIL-free fraction {result.gil_free_fraction:.2f} ({result.measurement.normalisation}){held}.",
        readiness(result.gil_import),
    ]
    lesson = [f"{result.target}: {result.verdict}"]
    if result.safety is not None:
        lesson.append(f"Thread safety: {result.safety.sentence}.")
    say(lesson, [*rows, *notes], wrote)


def readiness(gil_import: Readiness | None) -> str:
    """Say whether importing the target's module turned the GIL back on (a free-threaded build's question)."""
    if gil_import is None or not gil_import.free_threaded_build:
        return (
            "free-threading readiness: not a free-threaded interpreter (check it with --python PATH to a 3.14t, "
            "which scripts/build-python.sh --free-threaded builds)"
        )
    if gil_import.reenabled:
        said = gil_import.warning or "no warning given"
        return f"free-threading readiness: importing it turned the GIL back ON ({said})"
    if gil_import.gil_before:
        return "free-threading readiness: the GIL was already on (PYTHON_GIL=1, or an earlier import)"
    return "free-threading readiness: importing it left the GIL off"


def _print_sweep(result: SweepResult, wrote: str = "") -> None:
    rows = []
    for row in result.sweep.sizes:
        seen = f"{row.switches} GIL switches" if row.switches is not None else f"{row.waiter_steps} waiter steps"
        rows.append(
            f"  n = {row.size:>10}: {row.releases.value:<8}  {row.per_call_s * 1e6:10.1f} µs a call, "
            f"{seen} in {row.calls} calls ({row.method})"
        )
    say([f"{result.target}: {result.verdict}"], rows, wrote)


def add_parsers(sub: Any) -> None:
    """Register `gillab check`."""
    p = sub.add_parser("check", help="does a callable release the GIL, how far does it scale, is it safe in threads?")
    p.add_argument("target", help="package.module:attr or path/to/file.py:attr")
    p.add_argument(
        "--setup",
        help="Python code defining the call's inputs (its names are passed in order, or define args / kwargs)",
    )
    p.add_argument("--args", help="the call's positional arguments as JSON (a list, or one value)")
    p.add_argument(
        "--threads",
        type=types.positive_ints,
        default=DEFAULT_THREADS,
        help=f"thread counts (default {','.join(map(str, DEFAULT_THREADS))})",
    )
    p.add_argument(
        "--duration",
        type=types.positive_float,
        default=DEFAULT_DURATION_S,
        help=f"seconds per measured phase (default {DEFAULT_DURATION_S:g})",
    )
    p.add_argument(
        "--timeout", type=types.positive_float, default=60.0, help="seconds before the child is killed (default 60)"
    )
    p.add_argument(
        "--no-safety", action="store_true",
        help="skip the safety trial (threads calling it at once, each result compared with the one alone)",
    )  # fmt: skip
    p.add_argument(
        "--safety-time", type=types.positive_float, default=DEFAULT_SAFETY_S, metavar="S",
        help=f"seconds the safety trial's threads call it (default {DEFAULT_SAFETY_S:g}); exit status "
        f"{EXIT_UNSAFE} where it is not safe in threads",
    )  # fmt: skip
    p.add_argument(
        "--sizes",
        type=types.positive_ints,
        help="input sizes to sweep; --setup then puts each where it says {n}, and the threshold is named",
    )
    p.add_argument(
        "--python",
        help="run the check under this interpreter (in a venv of its own, as gillab compare), e.g. a 3.14t",
    )
    p.add_argument(
        "--executor", choices=("thread", "interpreter"), default="thread",
        help="thread (default): does it release the GIL, and scale on threads; interpreter: does it load in a "
        "subinterpreter (each with a GIL of its own), and scale on --threads of them",
    )  # fmt: skip
    add_json(p, "write every figure and the environment to this path")
    add_out(p, None, "also write check.json and a report section into this folder (e.g. gillab-results)")
    p.set_defaults(func=cmd_check)
    add_catalogue_parser(sub)


CATALOGUE_COLUMNS = ("callable", "expected", "measured", "decided by", "GIL-free", "held", "2-thread ×", "agrees")


def _catalogue_row(r: catalogue.Row) -> tuple[str, ...]:
    g = r.got
    return (
        r.entry.name,
        r.entry.expected_text,
        g.measured,
        g.decided_by,
        fmt(g.fraction, ".2f"),
        fmt(g.held_fraction, ".0%"),
        fmt(g.speedup_2, ".2f"),
        AGREES[g.agrees],
    )


def cmd_catalogue(args: argparse.Namespace) -> int:
    """Measure the catalogue of stdlib and numpy callables and show where each agrees with its source."""
    entries = catalogue.select(args.only)
    if not entries:
        raise UsageError(f"--only {args.only!r} matches no entry; `gillab catalogue --list` names them all")
    if args.list:
        for e in entries:
            print(f"{e.name}  [{e.target}]  expected: {e.expected_text}  ({e.source})")
        return 0
    out = out_dir(args.out)
    python = _interpreter(args.python, out)

    def progress(done: int, total: int, row: catalogue.Row) -> None:
        mark = {True: "agrees", False: "DISAGREES", None: "not judged"}[row.got.agrees]
        print(f"[{done}/{total}] {row.entry.name}: {row.got.measured} ({mark})", file=sys.stderr)

    got = catalogue.run_catalogue(entries, python=python, progress=progress)
    wrote = finish_lab("catalogue", got.to_json(), args.json, out)
    print(got.summary)
    if got.rows:
        from gillab.outputs.table import render_rows

        render_rows(CATALOGUE_COLUMNS, [_catalogue_row(r) for r in got.rows], sys.stdout)
    print(wrote)
    if got.error:
        print(f"gillab catalogue: {got.error}", file=sys.stderr)
    if got.interrupted:
        return 130
    return 1 if got.error else 0


def add_catalogue_parser(sub: Any) -> None:
    """Register `gillab catalogue`."""
    p = sub.add_parser("catalogue", help="which stdlib and numpy calls release the GIL, measured on this Python")
    p.add_argument("--only", help="entries whose name or target matches this pattern (a word, or fnmatch: sha*)")
    p.add_argument("--list", action="store_true", help="name the entries, their expectations and sources; measure none")
    p.add_argument("--python", help="measure under this interpreter (in a venv of its own, as gillab compare)")
    add_out(p)
    add_json(p, "also write catalogue.json to this path")
    p.set_defaults(func=cmd_catalogue)
