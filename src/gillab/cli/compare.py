"""`gillab compare`: the same matrix under several Pythons (free-threaded ones too)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from gillab.cli.common import add_detail, out_dir
from gillab.cli.run_options import add_run_options, config_from
from gillab.compare import where
from gillab.compare.report import compare_png, view
from gillab.errors import UsageError
from gillab.harness.pythons.cost import COST_ROUNDS
from gillab.harness.pythons.run import compare
from gillab.interpreters import default_pythons
from gillab.kinds import refresh_report
from gillab.present import terminal


def _flag(value: Any) -> str:
    return ",".join(str(v) for v in value) if isinstance(value, tuple) else str(value)


RUN_FLAGS = {
    "workload": "--workload",
    "target": "--target",
    "setup": "--setup",
    "args": "--args",
    "inputs": "--inputs",
    "impl": "--impl",
    "executor": "--executor",
    "workers": "--workers",
    "tasks": "--tasks",
    "repeat": "--repeat",
    "min_repeat": "--min-repeat",
    "max_wait": "--max-wait",
    "settle": "--settle",
    "switch_interval": "--switch-interval",
    "gil_rate": "--gil-rate",
}
"""The run options compare passes on to `gillab run` under each interpreter (--size is passed apart)."""


def cmd_compare(args: argparse.Namespace) -> int:
    """Run the matrix under each --python and gather: results.json, compare.png, report.html."""
    notes: list[str] = []
    pythons = list(args.python)
    if not pythons:
        # today's interpreters: the running one, 3.14 and 3.14t (and 3.13t, with --with-3.13t)
        pythons, notes = default_pythons(args.with_313t)
        for note in notes:
            print(f"gillab compare: {note}", file=sys.stderr)
        if len(pythons) < 2:
            raise UsageError(
                "no other interpreter to compare with: build 3.14 and 3.14t with scripts/build-python.sh, "
                "or name interpreters with --python PATH"
            )
    if args.cost_rounds < 0:
        raise UsageError(f"--cost-rounds must be 0 or more, got {args.cost_rounds}")
    config_from(args)  # the same checks as gillab run, before any interpreter is prepared
    out = out_dir(args.out)
    run_args: list[str] = []
    for attr, flag in RUN_FLAGS.items():
        value = getattr(args, attr)
        if value is not None:
            run_args += [flag, _flag(value)]
    merged = compare(
        pythons,
        run_args,
        args.size,
        out,
        progress=lambda m: print(m, file=sys.stderr),
        cost_rounds=args.cost_rounds,
        notes=notes,
    )
    compare_png(merged, out / "compare.png")
    profiles = where.gather(out)  # before the report: it shows them too
    refresh_report(out, comparison=merged)
    wrote = f"Wrote results.json, compare.png and report.html in {out}"
    terminal.show(view(merged), wrote, args.detail)
    if profiles is not None:
        terminal.show(where.view(profiles), f"Wrote where.json in {out}")
    for e in merged.errors:
        if e not in notes:
            print(f"gillab compare: {e}", file=sys.stderr)
    return 1 if merged.errors else 0


def add_parsers(sub: Any) -> None:
    """Register `gillab compare`."""
    p = sub.add_parser(
        "compare", help="the same matrix under several Pythons (free-threaded ones too)"
    )
    p.add_argument(
        "--python",
        action="append",
        default=[],
        help="an interpreter to run under (repeatable; default: this one, and 3.14 and 3.14t as "
        "scripts/build-python.sh builds them into the cache)",
    )
    p.add_argument(
        "--with-3.13t",
        dest="with_313t",
        action="store_true",
        help="with the default interpreters, 3.13t too (and 3.13, where built): what 3.14 changed",
    )
    p.add_argument(
        "--cost-rounds",
        type=int,
        default=COST_ROUNDS,
        metavar="N",
        help=f"interleaved rounds of the single-thread cost of each free-threaded build (default {COST_ROUNDS}; "
        "0: none)",
    )
    add_run_options(p, out_default="gillab-compare")
    add_detail(p, "print every reason to distrust a figure, and the errors, under the lesson")
    p.set_defaults(func=cmd_compare)
