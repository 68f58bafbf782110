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
)
from gillab.checker.report import view_check
from gillab.checker.safety import DEFAULT_SAFETY_S, EXIT_UNSAFE, UNSAFE
from gillab.checker.view import catalogue_list, catalogue_view, interpreters_view
from gillab.cli import types
from gillab.cli.common import add_detail, add_json, add_out, out_dir
from gillab.errors import CheckFailed, InterpreterError, UsageError
from gillab.files import write_json
from gillab.harness import executors
from gillab.interpreters import describe, venv_for
from gillab.kinds import finish_document
from gillab.outputs.documents import lab_document
from gillab.present import terminal


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
        raise UsageError(
            f"TARGET must look like package.module:attr or path/file.py:attr, got {args.target!r}"
        )
    if args.sizes is not None and (args.setup is None or "{n}" not in args.setup):
        raise UsageError(
            '--sizes needs --setup with {n} where the size goes, e.g. --setup "data = bytes({n})"'
        )
    if args.where and args.sizes is not None:
        raise UsageError("--where profiles threads calling it at one size: not with --sizes")
    out = out_dir(args.out) if args.out else None
    python = _interpreter(args.python, out)
    if executors.get(args.executor).gil_per_worker:  # subinterpreters, each with a GIL of its own
        return _check_interpreters(args, call_args, python, out)
    result: CheckResult | SweepResult
    try:
        if args.sizes is not None:
            result = sweep_target(
                args.target, args.setup, list(args.sizes), call_args, args.timeout, python
            )
        else:
            result = check_target(
                args.target,
                args.setup,
                call_args,
                args.threads,
                args.duration,
                args.timeout,
                python=python,
                safety_s=None if args.no_safety else args.safety_time,
                where=args.where,
            )
    except CheckFailed as exc:  # a fact about the callable, not bad input: exit 1
        print(f"gillab check: {exc}", file=sys.stderr)
        return 1
    if args.json:
        write_json(lab_document("check", result.to_json()), args.json)
    wrote = finish_document("check", result.to_json(), None, out) if out is not None else ""
    why = terminal.WHY if out is not None else "--detail"
    terminal.show(view_check(result), wrote, args.detail, why)
    if isinstance(result, SweepResult):
        return 0
    return EXIT_UNSAFE if result.safety is not None and result.safety.verdict in UNSAFE else 0


def _check_interpreters(
    args: argparse.Namespace, call_args: list[Any] | None, python: str | None, out: Path | None
) -> int:
    """--executor interpreter: does the target load in a subinterpreter, and does it scale there?"""
    if args.sizes is not None or args.where:
        flag = "--sizes sweeps" if args.sizes is not None else "--where profiles"
        raise UsageError(f"{flag} threads; it does not go with --executor interpreter")
    try:
        got = interpreter_target(
            args.target,
            args.setup,
            call_args,
            args.threads,
            args.duration,
            args.timeout,
            python=python,
        )
    except CheckFailed as exc:
        print(f"gillab check: {exc}", file=sys.stderr)
        return 1
    if not got.interpreters.available:
        raise UsageError(f"--executor interpreter: {got.interpreters.reason}")
    if args.json:
        write_json(lab_document("check-interpreters", got.to_json()), args.json)
    wrote = (
        finish_document("check-interpreters", got.to_json(), None, out) if out is not None else ""
    )
    terminal.show(interpreters_view(got), wrote, args.detail)
    return 0


def add_parsers(sub: Any) -> None:
    """Register `gillab check`."""
    p = sub.add_parser(
        "check",
        help="does a callable release the GIL, how far does it scale, is it safe in threads?",
    )
    _add_call_options(p)
    _add_trial_options(p)
    add_detail(
        p, "print every reason to distrust a figure, and the check's notes, under the lesson"
    )
    add_json(p, "write every figure and the environment to this path")
    add_out(
        p, None, "also write check.json and a report section into this folder (e.g. gillab-results)"
    )
    p.set_defaults(func=cmd_check)
    add_catalogue_parser(sub)


def _add_call_options(p: Any) -> None:
    """The callable, its inputs, and how long each phase calls it."""
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
        "--timeout",
        type=types.positive_float,
        default=60.0,
        help="seconds before the child is killed (default 60)",
    )


def _add_trial_options(p: Any) -> None:
    """The safety trial, the size sweep, and where the check runs."""
    p.add_argument(
        "--no-safety",
        action="store_true",
        help="skip the safety trial (threads calling it at once, each result compared with the one alone)",
    )
    p.add_argument(
        "--safety-time",
        type=types.positive_float,
        default=DEFAULT_SAFETY_S,
        metavar="S",
        help=f"seconds the safety trial's threads call it (default {DEFAULT_SAFETY_S:g}); exit status "
        f"{EXIT_UNSAFE} where it is not safe in threads",
    )
    p.add_argument(
        "--where",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="profile its lines alone and on the most --threads: which line keeps its threads from scaling, "
        "and the object it shares (by default on CPython 3.14+ where threads do not speed it up; before 3.14, "
        "asked for, with py-spy: pip install 'gillab[where]')",
    )
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
        "--executor",
        choices=("thread", "interpreter"),
        default="thread",
        help="thread (default): does it release the GIL, and scale on threads; interpreter: does it load in a "
        "subinterpreter (each with a GIL of its own), and scale on --threads of them",
    )


def cmd_catalogue(args: argparse.Namespace) -> int:
    """Measure the catalogue of stdlib and numpy callables and show where each agrees with its source."""
    entries = catalogue.select(args.only)
    if not entries:
        raise UsageError(
            f"--only {args.only!r} matches no entry; `gillab catalogue --list` names them all"
        )
    if args.list:
        terminal.show(catalogue_list(entries))
        return 0
    out = out_dir(args.out)
    python = _interpreter(args.python, out)

    def progress(done: int, total: int, row: catalogue.Row) -> None:
        mark = {True: "agrees", False: "DISAGREES", None: "not judged"}[row.got.agrees]
        print(f"[{done}/{total}] {row.entry.name}: {row.got.measured} ({mark})", file=sys.stderr)

    got = catalogue.run_catalogue(entries, python=python, progress=progress)
    wrote = finish_document("catalogue", got.to_json(), args.json, out)
    terminal.show(catalogue_view(got), wrote)
    if got.error:
        print(f"gillab catalogue: {got.error}", file=sys.stderr)
    if got.interrupted:
        return 130
    return 1 if got.error else 0


def add_catalogue_parser(sub: Any) -> None:
    """Register `gillab catalogue`."""
    p = sub.add_parser(
        "catalogue", help="which stdlib and numpy calls release the GIL, measured on this Python"
    )
    p.add_argument(
        "--only",
        help="entries whose name or target matches this pattern (a word, or fnmatch: sha*)",
    )
    p.add_argument(
        "--list",
        action="store_true",
        help="name the entries, their expectations and sources; measure none",
    )
    p.add_argument(
        "--python", help="measure under this interpreter (in a venv of its own, as gillab compare)"
    )
    add_out(p)
    add_json(p, "also write catalogue.json to this path")
    p.set_defaults(func=cmd_catalogue)
