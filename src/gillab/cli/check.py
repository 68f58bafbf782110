"""`gillab check TARGET`: does a callable release the GIL, and how far does it scale?"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from gillab.check.run import CheckFailed, TargetError, run_check
from gillab.cli import types
from gillab.cli.errors import UsageError
from gillab.cli.report import finish_lab, out_dir
from gillab.files import write_json
from gillab.harness.options import DEFAULT_OUT
from gillab.labs.common import lab_document


def cmd_check(args: argparse.Namespace) -> int:
    """Measure whether a callable releases the GIL, and how it scales with threads."""
    call_args = None
    if args.args is not None:
        try:
            call_args = json.loads(args.args)
        except json.JSONDecodeError as exc:
            raise UsageError(f"--args is not valid JSON ({exc.msg} at column {exc.colno})") from None
        if not isinstance(call_args, list):
            call_args = [call_args]
    if ":" not in args.target:
        raise UsageError(f"TARGET must look like package.module:attr or path/file.py:attr, got {args.target!r}")
    out = out_dir(args.out) if args.out else None
    try:
        data = run_check(args.target, args.setup, call_args, list(args.threads), args.duration, args.timeout)
    except TargetError as exc:
        raise UsageError(str(exc)) from None
    except CheckFailed as exc:
        print(f"gillab check: {exc}", file=sys.stderr)
        return 1
    if args.json:
        write_json(lab_document("check", data), args.json)
    if out is not None:
        finish_lab("check", data, None, out)
    print(f"{args.target}: {data['verdict']}")
    print(f"  GIL-free fraction {data['gil_free_fraction']:.2f} ({data['normalisation']})")
    for lv in data["scaling"]:
        print(
            f"  {lv['threads']:>3} threads: {lv['calls_per_s']:10.1f} calls/s  speedup {lv['speedup']:.2f}  "
            f"efficiency {lv['efficiency']:.2f}  CPU {lv['cpu_utilization']:.2f}  "
            f"GIL wait median {lv['gil_wait']['median_ms']:.3f} ms"
        )
    return 0


def add_parsers(sub: Any) -> None:
    """Register `gillab check`."""
    p = sub.add_parser("check", help="does a callable release the GIL, and how far does it scale?")
    p.add_argument("target", help="package.module:attr or path/to/file.py:attr")
    p.add_argument(
        "--setup",
        help="Python code defining the call's inputs (its names are passed in order, or define args / kwargs)",
    )
    p.add_argument("--args", help="the call's positional arguments as JSON (a list, or one value)")
    p.add_argument("--threads", type=types.positive_ints, default=(1, 2, 4), help="thread counts (default 1,2,4)")
    p.add_argument("--duration", type=types.positive_float, default=1.0, help="seconds per measurement (default 1.0)")
    p.add_argument(
        "--timeout", type=types.positive_float, default=60.0, help="seconds before the child is killed (default 60)"
    )
    p.add_argument("--json", help="write every figure and the environment to this path")
    p.add_argument("--out", help=f"also write check.json and a report section into this folder (e.g. {DEFAULT_OUT})")
    p.set_defaults(func=cmd_check)
